# painrcm: one Makefile, `make help` lists the targets.
.DEFAULT_GOAL := help
CARGO ?= cargo

.PHONY: help fmt fmt-check lint test bench ci demo

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*## "} {printf "  make %-10s %s\n", $$1, $$2}'

fmt: ## format every crate
	$(CARGO) fmt --all

fmt-check: ## fail when formatting differs
	$(CARGO) fmt --all -- --check

lint: ## clippy on everything, warnings are errors
	$(CARGO) clippy --workspace --all-targets -- -D warnings

test: ## unit, property, round-trip and end-to-end tests (offline, under a minute once built)
	$(CARGO) test --workspace

bench: ## criterion benchmarks (a few minutes; figures in benches/README.md)
	$(CARGO) bench

ci: fmt-check lint test ## what CI runs: format check, lint, tests

demo: ## inspect and validate the built-in sample drop folder
	$(CARGO) run --release -- demo
