//! `painrcm denials FILE.835... [--since DATE] [--claims FILE.837...]`: denial root causes.

use super::reconcile::{read_claims, read_remits, report_balancing};
use super::{emit, NEEDS_PERSON, OK};
use super::{load_reference, ListFormat};
use rules::denials::{root_causes, CauseRow};
use rules::reconcile::{ClaimIndex, Options};
use std::fmt::Write as _;
use std::path::PathBuf;

/// Denial root causes: which CPT codes, payers, CARCs and rendering providers lose money, with
/// counts, dollars and the monthly trend, the top patterns (payer + CPT + CARC) first, each with
/// its next action and the upstream fix that stops it (coding, authorization workflow,
/// documentation, ...).
///
/// Every denied line is classified from its CAS group, CARC and RARCs (`carc.csv`, refined by
/// the payer's settings in `payers.toml`). --claims adds what the 835 may lack (rendering
/// provider, bypass modifiers). Exits 0 when no denial was found, 1 when any was, 2 when an
/// input cannot be read.
#[derive(clap::Args)]
pub struct Args {
    /// 835 files.
    #[arg(required = true, value_name = "FILE.835")]
    pub files: Vec<PathBuf>,
    /// Only remittances paid on or after this date (BPR16).
    #[arg(long, value_name = "YYYY-MM-DD")]
    pub since: Option<chrono::NaiveDate>,
    /// The 837P files the claims were sent in.
    #[arg(long, value_name = "FILE.837", num_args = 1..)]
    pub claims: Vec<PathBuf>,
    /// Reference data directory (default: the embedded copy of fixtures/reference).
    #[arg(long, value_name = "DIR")]
    pub reference: Option<PathBuf>,
    #[arg(long, value_enum, default_value_t)]
    pub format: ListFormat,
}

pub fn run(args: Args) -> anyhow::Result<u8> {
    let reference = load_reference(args.reference.as_deref())?;
    let claims = if args.claims.is_empty() { ClaimIndex::default() } else { read_claims(&args.claims)? };
    let mut remits = read_remits(&args.files)?;
    if let Some(since) = args.since {
        remits.retain(|s| !s.remittance.payment_date.is_some_and(|d| d < since));
    }
    let r = rules::reconcile::reconcile(
        &reference,
        &remits,
        &claims,
        &Options { report_unremitted: false, explain: false, ..Options::default() },
    );
    report_balancing(&r);
    let rows = root_causes(&r.denials);
    let text = match args.format {
        ListFormat::Table => table(&rows, r.denials.len()),
        ListFormat::Jsonl => {
            let mut s = String::new();
            for row in &rows {
                s.push_str(&serde_json::to_string(row)?);
                s.push('\n');
            }
            s
        }
        ListFormat::Csv => {
            let mut w = csv::Writer::from_writer(Vec::new());
            for row in &rows {
                w.serialize(row)?;
            }
            String::from_utf8(w.into_inner().map_err(|e| e.into_error())?)?
        }
    };
    emit(&text)?;
    Ok(if rows.is_empty() && r.balancing_failures.is_empty() { OK } else { NEEDS_PERSON })
}

fn table(rows: &[CauseRow], lines: usize) -> String {
    let mut s = String::new();
    let denied = rows.iter().filter(|r| r.table == "by-payer").map(|r| r.count).sum::<u64>();
    let _ = writeln!(s, "{denied} denied lines ({lines} adjusted lines classified)");
    for (name, title) in [
        ("pattern", "Top patterns (payer, CPT, CARC)"),
        ("by-cpt", "By CPT"),
        ("by-payer", "By payer"),
        ("by-carc", "By CARC"),
        ("by-provider", "By rendering provider"),
    ] {
        let part: Vec<&CauseRow> = rows.iter().filter(|r| r.table == name).collect();
        if part.is_empty() {
            continue;
        }
        let kw = part.iter().map(|r| r.key.len()).max().unwrap_or(0).max(3);
        let aw = part.iter().map(|r| r.action.len()).max().unwrap_or(0).max(6);
        let _ = writeln!(s, "\n{title}");
        let _ = writeln!(s, "  {:<kw$}  {:>5}  {:>12}  {:<aw$}  TREND", "KEY", "COUNT", "DOLLARS", "ACTION");
        for r in part {
            let _ = writeln!(
                s,
                "  {:<kw$}  {:>5}  {:>12}  {:<aw$}  {}",
                r.key,
                r.count,
                rules::pricing::money(r.dollars),
                r.action,
                r.trend
            );
            if name == "pattern" {
                let _ = writeln!(s, "  {:<kw$}  upstream fix: {}", "", r.upstream_fix);
            }
        }
    }
    s
}
