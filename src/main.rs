//! `painrcm`: the command-line glue over the `x12`, `hipaa` and `rules` crates.
//!
//! Each command is one variant of [`Command`] and one module under `cmd/` with a
//! `run(args) -> anyhow::Result<u8>` returning the exit code; this file only dispatches.

mod cmd;
mod config;
mod input;
mod output;
mod report;
mod scan;

use clap::{Parser, Subcommand};

/// Many small, short-lived allocations per transaction set: mimalloc keeps them off the
/// kernel (see `benches/README.md`).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;
use std::process::ExitCode;

const EXIT_CODES: &str = "\
Exit codes (every command):
  0  done, and nothing needs a person
  1  done, and something needs a person (errors found, claims held, files quarantined)
  2  failed: bad arguments, unreadable input, internal error
  3  another run holds the lock (drop-folder runner)

Nothing printed carries PHI: errors name segments, positions and codes, never element values.";

/// X12 EDI pipeline for interventional pain practices: read, validate and acknowledge HIPAA
/// 5010 files.
#[derive(Parser)]
#[command(name = "painrcm", version, about, after_help = EXIT_CODES)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    Inspect(cmd::inspect::Args),
    Validate(cmd::validate::Args),
    Demo(cmd::demo::Args),
    Scrub(cmd::scrub::Args),
    Parse(cmd::parse::Args),
    Eligibility(cmd::eligibility::Args),
    Auth(cmd::auth::Args),
    Status(cmd::status::Args),
    Reconcile(cmd::reconcile::Args),
    Denials(cmd::denials::Args),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Inspect(args) => cmd::inspect::run(args),
        Command::Validate(args) => cmd::validate::run(args),
        Command::Demo(args) => cmd::demo::run(args),
        Command::Scrub(args) => cmd::scrub::run(args),
        Command::Parse(args) => cmd::parse::run(args),
        Command::Eligibility(args) => cmd::eligibility::run(args),
        Command::Auth(args) => cmd::auth::run(args),
        Command::Status(args) => cmd::status::run(args),
        Command::Reconcile(args) => cmd::reconcile::run(args),
        Command::Denials(args) => cmd::denials::run(args),
    };
    match result {
        Ok(code) => ExitCode::from(code),
        Err(e) if broken_pipe(&e) => ExitCode::from(cmd::OK),
        Err(e) => {
            eprintln!("painrcm: {e:#}");
            ExitCode::from(cmd::FAILED)
        }
    }
}

/// The reader of our output went away (`| head`): not a failure of ours.
fn broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| c.downcast_ref::<std::io::Error>().is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe))
}
