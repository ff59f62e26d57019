//! `painrcm demo`: inspect and validate the sample drop folder built into the binary.

use super::{emit, NEEDS_PERSON, OK};
use crate::scan::{self, Typed};
use crate::{cmd::validate, report};
use std::fmt::Write as _;
use x12::AckStatus;

/// Inspect and validate the sample files of `edi-samples/`, built into the binary.
///
/// Needs no files, no network and no set-up: the samples are compiled in, so it runs the same
/// from any directory on a fresh machine. For each sample it prints what `inspect` shows, the
/// `validate` verdict, and the status (AK9) of the 999 it would write. Exits 0 when every
/// sample is valid, 1 otherwise.
#[derive(clap::Args)]
pub struct Args {}

/// The sample drop folder, `edi-samples/`, as (file name, bytes). One line per sample file:
/// adding a sample there means adding its line here.
pub const SAMPLES: &[(&str, &[u8])] = &[
    ("auth-20261120.278", include_bytes!("../../edi-samples/auth-20261120.278")),
    ("claims-20261016.837", include_bytes!("../../edi-samples/claims-20261016.837")),
    ("claims-20261127.837", include_bytes!("../../edi-samples/claims-20261127.837")),
    ("eligibility-20261126.271", include_bytes!("../../edi-samples/eligibility-20261126.271")),
    ("era-20261201.835", include_bytes!("../../edi-samples/era-20261201.835")),
    ("era-20261202-underpaid.835", include_bytes!("../../edi-samples/era-20261202-underpaid.835")),
    ("era-20261215-reversal.835", include_bytes!("../../edi-samples/era-20261215-reversal.835")),
    ("status-20261128.277", include_bytes!("../../edi-samples/status-20261128.277")),
];

pub fn run(_args: Args) -> anyhow::Result<u8> {
    let stamp = chrono::Utc::now().format("%Y%m%d%H%M").to_string();
    let mut all_valid = true;
    emit(&format!("painrcm demo: {} sample files from edi-samples/ (built in)\n\n", SAMPLES.len()))?;
    for (name, bytes) in SAMPLES {
        let scanned = scan::scan(name, *bytes, &Typed)?;
        let mut out = report::inspect_table(&scanned.report);
        out.push_str(&report::validate_table(&scanned.report));
        for ic in &scanned.acks {
            for g in &ic.groups {
                let status = match g.status() {
                    AckStatus::Accepted => "accepted",
                    AckStatus::PartiallyAccepted => "partially accepted",
                    AckStatus::Rejected => "rejected",
                };
                let _ = writeln!(
                    out,
                    "  999 for group {}: AK9*{} ({status}, {} of {} sets)",
                    g.header.control,
                    g.status().code(),
                    g.accepted_sets(),
                    g.sets.len()
                );
            }
        }
        let acks = validate::acknowledgments(&scanned, &stamp);
        let kinds: Vec<&str> = acks.iter().map(|(k, _)| *k).collect();
        let _ = writeln!(
            out,
            "  acknowledgments it would write: {}\n",
            if kinds.is_empty() { "none".into() } else { kinds.join(", ") }
        );
        emit(&out)?;
        all_valid &= !scanned.report.needs_person();
    }
    emit(if all_valid { "all samples valid\n" } else { "some samples need a person (see errors above)\n" })?;
    Ok(if all_valid { OK } else { NEEDS_PERSON })
}
