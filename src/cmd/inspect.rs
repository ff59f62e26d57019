//! `painrcm inspect FILE...`: what is in a file, envelope by envelope.

use super::{emit, Format, FAILED, OK};
use crate::{report, scan};
use anyhow::Context;
use std::path::PathBuf;

/// Show the interchanges, groups and transaction sets in X12 files.
///
/// For each file: interchanges (sender and receiver ids, control number, date), functional
/// groups (functional id, version, control number), transaction sets (ST01, ST02, segment
/// count, byte offset) and every syntax error or warning with its position. Files are read as
/// a stream: memory stays bounded by the largest transaction set. Exits 0 once every file has
/// been read (errors in the files do not change that; `validate` judges them), 2 when a file
/// cannot be read.
#[derive(clap::Args)]
pub struct Args {
    /// X12 files to inspect.
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    #[arg(long, value_enum, default_value_t)]
    pub format: Format,
}

pub fn run(args: Args) -> anyhow::Result<u8> {
    let mut code = OK;
    for path in &args.files {
        match inspect_one(path, args.format) {
            Ok(text) => emit(&text)?,
            Err(e) => {
                eprintln!("painrcm: {e:#}");
                code = FAILED;
            }
        }
    }
    Ok(code)
}

fn inspect_one(path: &PathBuf, format: Format) -> anyhow::Result<String> {
    let name = path.display().to_string();
    let file = std::fs::File::open(path).with_context(|| format!("reading {name}"))?;
    let scanned = scan::scan(&name, file, &scan::SyntaxOnly).with_context(|| format!("reading {name}"))?;
    Ok(match format {
        Format::Table => report::inspect_table(&scanned.report),
        Format::Json => report::json_line(&scanned.report)? + "\n",
    })
}
