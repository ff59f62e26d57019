//! One module per command, each with `Args` (clap) and `run(args) -> anyhow::Result<u8>`.

pub mod auth;
pub mod demo;
pub mod denials;
pub mod eligibility;
pub mod inspect;
pub mod parse;
pub mod reconcile;
pub mod scrub;
pub mod status;
pub mod validate;

/// Done, and nothing needs a person.
pub const OK: u8 = 0;
/// Done, and something needs a person.
pub const NEEDS_PERSON: u8 = 1;
/// Failed: bad arguments, unreadable input, internal error.
pub const FAILED: u8 = 2;

/// How a command prints what it found.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Aligned text for a terminal.
    #[default]
    Table,
    /// One JSON object per file and line.
    Json,
}

/// Writes to stdout, returning the error instead of panicking as `print!` does when the reader
/// went away (`painrcm inspect big.837 | head`); `main` treats a broken pipe as a quiet end.
pub fn emit(text: &str) -> std::io::Result<()> {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes())?;
    out.flush()
}
