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

/// How list-like results (findings, variances, denial tables) print.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum ListFormat {
    /// Aligned text for a terminal.
    #[default]
    Table,
    /// One JSON object per line (the columns of DESIGN.md).
    Jsonl,
    /// The same columns as CSV with a header row.
    Csv,
}

/// Loads the reference data from `dir`, or the embedded default.
pub fn load_reference(dir: Option<&std::path::Path>) -> anyhow::Result<rules::Reference> {
    use anyhow::Context;
    Ok(match dir {
        Some(d) => {
            rules::Reference::load_dir(d).with_context(|| format!("loading reference data from {}", d.display()))?
        }
        None => rules::Reference::embedded().context("loading the embedded reference data")?,
    })
}
