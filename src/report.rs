//! Rendering what a scan found: aligned text for a terminal, JSON lines for scripts.

use crate::scan::FileReport;
use std::fmt::Write as _;
use x12::Severity;

/// The `inspect` table: interchanges, groups, sets, then every problem with its position.
pub fn inspect_table(r: &FileReport) -> String {
    let mut out = String::new();
    let (i, g, s) = r.totals();
    let _ = writeln!(out, "{}  {} bytes, {i} interchange(s), {g} group(s), {s} set(s)", r.file, r.bytes);
    for ic in &r.interchanges {
        let _ = writeln!(
            out,
            "  ISA {}  {}:{} -> {}:{}  {} {}  usage {}{}  delimiters {}  byte {}",
            ic.control,
            ic.sender_qualifier,
            ic.sender_id,
            ic.receiver_qualifier,
            ic.receiver_id,
            ic.date,
            ic.time,
            ic.usage,
            if ic.ack_requested { "  TA1 requested" } else { "" },
            ic.delimiters,
            ic.byte,
        );
        for grp in &ic.groups {
            let _ = writeln!(
                out,
                "    GS {} {}  version {}  byte {}",
                grp.functional_id, grp.control, grp.version, grp.byte
            );
            for set in &grp.sets {
                let _ = writeln!(
                    out,
                    "      ST {} {}  {} segments  byte {}{}",
                    set.id,
                    set.control,
                    set.segments,
                    set.byte,
                    if set.errors.is_empty() { "" } else { "  (errors)" }
                );
            }
        }
    }
    out.push_str(&problems_table(r));
    out
}

/// The `validate` summary line and problems.
pub fn validate_table(r: &FileReport) -> String {
    let (i, g, s) = r.totals();
    let errors = r.count(Severity::Error);
    let warnings = r.count(Severity::Warning);
    let verdict = if r.needs_person() { "INVALID" } else { "valid" };
    let mut out = format!(
        "{}: {verdict}  {i} interchange(s), {g} group(s), {s} set(s), {errors} error(s), {warnings} warning(s)\n",
        r.file
    );
    out.push_str(&problems_table(r));
    out
}

fn problems_table(r: &FileReport) -> String {
    let mut out = String::new();
    for (at, p) in r.problems() {
        let sev = match p.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        let _ = writeln!(out, "  {sev:<7} {at}: {}", p.message);
    }
    out
}

/// One JSON object on one line.
pub fn json_line<T: serde::Serialize>(value: &T) -> anyhow::Result<String> {
    Ok(serde_json::to_string(value)?)
}
