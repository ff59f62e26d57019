//! `painrcm validate FILE... [--ack-dir DIR]`: syntax and envelope validation, 999 and TA1.

use super::{emit, Format, FAILED, NEEDS_PERSON, OK};
use crate::report;
use crate::scan::{self, FileReport, Scan, SetValidator};
use anyhow::Context;
use std::path::{Path, PathBuf};
use x12::AckEnvelope;

/// Check X12 files: syntax, envelopes, control numbers and counts; write 999 and TA1.
///
/// Prints each error with its position (segment number, segment id, byte, element), never the
/// element's value. With --ack-dir, writes `<DIR>/<file name>.999` (one ST*999 per functional
/// group, AK9 A, P or R) and, when an interchange has envelope errors or asks for one
/// (ISA14 = 1), `<DIR>/<file name>.ta1`. Files are written atomically (temporary file in DIR,
/// then rename). Exits 0 when every file is valid, 1 when any has errors, 2 when a file cannot
/// be read or an acknowledgment cannot be written.
#[derive(clap::Args)]
pub struct Args {
    /// X12 files to validate.
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    /// Write acknowledgments (999, TA1) into this directory (created when missing).
    #[arg(long, value_name = "DIR")]
    pub ack_dir: Option<PathBuf>,
    #[arg(long, value_enum, default_value_t)]
    pub format: Format,
    /// Timestamp of the acknowledgments as CCYYMMDDHHMM (default: now, UTC); set it for
    /// reproducible output.
    #[arg(long, value_name = "CCYYMMDDHHMM", value_parser = parse_stamp)]
    pub ack_time: Option<String>,
    /// Check syntax and envelopes only (SNIP 1), skipping the implementation-guide (SNIP 2)
    /// and balancing (SNIP 3) checks of the typed models.
    #[arg(long)]
    pub syntax_only: bool,
}

fn parse_stamp(s: &str) -> Result<String, String> {
    if s.len() == 12 && s.bytes().all(|b| b.is_ascii_digit()) {
        Ok(s.to_string())
    } else {
        Err("expected 12 digits, CCYYMMDDHHMM".into())
    }
}

#[derive(serde::Serialize)]
struct JsonResult<'a> {
    file: &'a str,
    valid: bool,
    #[serde(flatten)]
    report: &'a FileReport,
    acks: Vec<String>,
}

pub fn run(args: Args) -> anyhow::Result<u8> {
    let stamp = args.ack_time.clone().unwrap_or_else(|| chrono::Utc::now().format("%Y%m%d%H%M").to_string());
    if let Some(dir) = &args.ack_dir {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    let mut code = OK;
    for path in &args.files {
        let validator: &dyn SetValidator = if args.syntax_only { &scan::SyntaxOnly } else { &scan::Typed };
        match validate_one(path, &args, &stamp, validator) {
            Ok((text, needs_person)) => {
                emit(&text)?;
                if needs_person && code == OK {
                    code = NEEDS_PERSON;
                }
            }
            Err(e) => {
                eprintln!("painrcm: {e:#}");
                code = FAILED;
            }
        }
    }
    Ok(code)
}

/// Validates one file with `validator` adding its notes per set; returns the text to print and
/// whether a person is needed.
pub fn validate_one(
    path: &Path,
    args: &Args,
    stamp: &str,
    validator: &dyn SetValidator,
) -> anyhow::Result<(String, bool)> {
    let name = path.display().to_string();
    let file = std::fs::File::open(path).with_context(|| format!("reading {name}"))?;
    let scanned = scan::scan(&name, file, validator).with_context(|| format!("reading {name}"))?;
    let mut written = Vec::new();
    if let Some(dir) = &args.ack_dir {
        let base = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "input".into());
        for (ext, bytes) in acknowledgments(&scanned, stamp) {
            let target = dir.join(format!("{base}.{ext}"));
            crate::output::write_private(&target, &bytes)?;
            written.push(target.display().to_string());
        }
    }
    let r = &scanned.report;
    let text = match args.format {
        Format::Table => {
            let mut t = report::validate_table(r);
            for w in &written {
                t.push_str(&format!("  wrote {w}\n"));
            }
            t
        }
        Format::Json => {
            report::json_line(&JsonResult { file: &r.file, valid: !r.needs_person(), report: r, acks: written })? + "\n"
        }
    };
    Ok((text, r.needs_person()))
}

/// The acknowledgment files a scan calls for: `("999", bytes)` when there is a group to answer,
/// `("ta1", bytes)` when an interchange needs a TA1.
pub fn acknowledgments(scanned: &Scan, stamp: &str) -> Vec<(&'static str, Vec<u8>)> {
    let (date, time) = stamp.split_at(8);
    let mut a999 = Vec::new();
    let mut ta1 = Vec::new();
    for ic in &scanned.acks {
        let env = AckEnvelope { date, time, delimiters: ic.delimiters, line_ending: ic.line_ending };
        if !ic.groups.is_empty() {
            a999.extend(x12::ack_999(&ic.header, &ic.groups, &env));
        }
        if ic.wants_ta1() {
            ta1.extend(x12::ack_ta1(&ic.header, &ic.errors, &env));
        }
    }
    let mut out = Vec::new();
    if !a999.is_empty() {
        out.push(("999", a999));
    }
    if !ta1.is_empty() {
        out.push(("ta1", ta1));
    }
    out
}
