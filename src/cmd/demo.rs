//! `painrcm demo`: a night's work on the sample drop folder built into the binary: validate
//! every file, scrub the claims, reconcile the remittances, classify the denials.

use super::{emit, ListFormat, FAILED, OK};
use crate::scan::{self, Typed};
use crate::{cmd::validate, report};
use std::fmt::Write as _;
use x12::AckStatus;

/// Run a night's work on the sample drop folder of `edi-samples/`, built into the binary.
///
/// Needs no files, no network and no set-up: the samples are compiled in, so it runs the same
/// from any directory on a fresh machine. Four steps, each the command an operator would run:
/// validate every file (SNIP 1-3, with the 999 it would write), scrub the 11-27 claims against
/// the history (earlier claims, the 278 authorization, the 271 eligibility answer), reconcile
/// the three ERAs against the claims and the contracts, and classify the denials. The samples
/// hold deliberate coding errors, underpayments and denials, so findings are expected: the
/// demo exits 0 when every step ran, 2 when one failed.
#[derive(clap::Args)]
pub struct Args {
    /// Keep the outputs (clean.837, held.csv, variances.csv, appeal letters, secondary.837)
    /// in this directory instead of a temporary one.
    #[arg(long, value_name = "DIR")]
    pub out: Option<std::path::PathBuf>,
}

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

pub fn run(args: Args) -> anyhow::Result<u8> {
    let stamp = chrono::Utc::now().format("%Y%m%d%H%M").to_string();
    emit(&format!("painrcm demo: {} sample files from edi-samples/ (built in)\n\n== 1. validate (syntax, envelopes, implementation guide, balancing)\n", SAMPLES.len()))?;
    let mut all_valid = true;
    for (name, bytes) in SAMPLES {
        let scanned = scan::scan(name, *bytes, &Typed)?;
        let mut out = report::validate_table(&scanned.report);
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
            "  acknowledgments it would write: {}",
            if kinds.is_empty() { "none".into() } else { kinds.join(", ") }
        );
        emit(&out)?;
        all_valid &= !scanned.report.needs_person();
    }
    emit(if all_valid { "all samples valid\n" } else { "some samples need a person (see errors above)\n" })?;

    // The later steps read files, as the commands do: lay the samples out in a folder.
    let temp = tempfile::tempdir()?;
    let drop = temp.path().join("inbox");
    std::fs::create_dir_all(&drop)?;
    for (name, bytes) in SAMPLES {
        std::fs::write(drop.join(name), bytes)?;
    }
    let out = args.out.clone().unwrap_or_else(|| temp.path().join("out"));
    let file = |n: &str| drop.join(n);
    let date = |s: &str| chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").expect("because the literal is a valid date");

    emit("\n== 2. scrub tonight's claims (claims-20261127.837) against history\n")?;
    let scrubbed = super::scrub::run(super::scrub::Args {
        files: vec![file("claims-20261127.837")],
        reference: None,
        history: vec![file("claims-20261016.837"), file("auth-20261120.278"), file("eligibility-20261126.271")],
        format: ListFormat::Table,
        out: Some(out.clone()),
        as_of: Some(date("2026-11-27")),
    })?;

    emit("\n== 3. reconcile the ERAs against the claims and the contracts\n")?;
    let eras = vec![file("era-20261201.835"), file("era-20261202-underpaid.835"), file("era-20261215-reversal.835")];
    let claims = vec![file("claims-20261016.837"), file("claims-20261127.837")];
    let reconciled = super::reconcile::run(super::reconcile::Args {
        files: eras.clone(),
        claims: claims.clone(),
        reference: None,
        format: ListFormat::Table,
        out: Some(out.clone()),
        explain: false,
        tolerance: rust_decimal::Decimal::new(1, 2),
        date: Some(date("2026-12-16")),
        control: Some(1216),
        control_file: None,
        no_unremitted: false,
    })?;

    emit("\n== 4. denials: root causes and next actions\n")?;
    let denied = super::denials::run(super::denials::Args {
        files: eras,
        since: None,
        claims,
        reference: None,
        format: ListFormat::Table,
    })?;

    if args.out.is_some() {
        emit(&format!("\noutputs written to {}\n", out.display()))?;
    }
    let failed = [scrubbed, reconciled, denied].contains(&FAILED);
    Ok(if failed { FAILED } else { OK })
}
