//! `painrcm reconcile FILE.835... --claims FILE.837...`: variances against the contract,
//! appeal letters, secondary claims.

use super::{emit, load_reference, ListFormat, NEEDS_PERSON, OK};
use crate::input::display_name;
use crate::output::write_private;
use anyhow::{bail, Context};
use rules::reconcile::{self, ClaimIndex, Options, Reconciliation, RemitSet, Variance};
use rules::secondary::{build_secondary_837, Envelope};
use rust_decimal::Decimal;
use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};

/// Reconcile 835 remittances against the submitted 837P claims and the contract.
///
/// Every remitted line gets the contracted amount (fee schedule, units, bilateral, multiple-
/// procedure ranking with the payer's percentages), the variance (expected payment minus paid;
/// patient responsibility and sequestration are not the payer's variance) and one category:
/// paid-as-contracted, mpr-over-reduction, imaging-underpaid, bundled-underpaid,
/// contract-underpaid, overpaid, denied or reversed, with the CARC's class and next action.
/// Remits without a submitted claim and claims without a remit are listed, never dropped. An 835
/// set that fails balancing is reported and not reconciled.
///
/// With --out: `variances.csv`, `provider-adjustments.csv`, `appeals/*.md` (one letter per
/// underpaid claim) and `secondary.837` (claims whose primary left patient responsibility and
/// that name another payer), all written 0600, atomically.
///
/// Exits 0 when everything was paid as contracted, 1 when anything needs a person (variances,
/// denials, unmatched remits, balancing failures), 2 when an input cannot be read.
#[derive(clap::Args)]
pub struct Args {
    /// 835 files.
    #[arg(required = true, value_name = "FILE.835")]
    pub files: Vec<PathBuf>,
    /// The 837P files the claims were sent in.
    #[arg(long, value_name = "FILE.837", num_args = 1.., required = true)]
    pub claims: Vec<PathBuf>,
    /// Reference data directory (default: the embedded copy of fixtures/reference).
    #[arg(long, value_name = "DIR")]
    pub reference: Option<PathBuf>,
    #[arg(long, value_enum, default_value_t)]
    pub format: ListFormat,
    /// Write variances.csv, appeal letters and secondary claims into this directory.
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Print the computation of each line under it (table format).
    #[arg(long)]
    pub explain: bool,
    /// Differences up to this amount count as paid as contracted.
    #[arg(long, default_value = "0.01", value_parser = parse_money)]
    pub tolerance: Decimal,
    /// Date on the appeal letters and the secondary claims' envelope (default: today).
    #[arg(long, value_name = "YYYY-MM-DD")]
    pub date: Option<chrono::NaiveDate>,
    /// ISA13/GS06 of secondary.837. Without it the next number is reserved from
    /// --control-file (the same persisted counter the request commands use), so numbers never
    /// repeat across runs; with neither, minutes since 1970 modulo 10^9.
    #[arg(long, value_name = "N")]
    pub control: Option<u32>,
    /// Counter file holding the last interchange control number used.
    #[arg(long, value_name = "FILE", conflicts_with = "control")]
    pub control_file: Option<std::path::PathBuf>,
    /// Leave submitted claims with no remittance out of the report.
    #[arg(long)]
    pub no_unremitted: bool,
}

fn parse_money(s: &str) -> Result<Decimal, String> {
    match s.parse::<Decimal>() {
        Ok(d) if d >= Decimal::ZERO => Ok(d),
        _ => Err("expected a non-negative amount, e.g. 0.01".into()),
    }
}

/// Reads the 835 sets of every file.
pub fn read_remits(files: &[PathBuf]) -> anyhow::Result<Vec<RemitSet>> {
    let mut out = Vec::new();
    for f in files {
        let file = std::fs::File::open(f).with_context(|| format!("reading {}", f.display()))?;
        out.extend(reconcile::read_remits_from(&display_name(f), file)?);
    }
    Ok(out)
}

/// Reads the claims of every 837P file.
pub fn read_claims(files: &[PathBuf]) -> anyhow::Result<ClaimIndex> {
    let mut index = ClaimIndex::default();
    for f in files {
        let file = std::fs::File::open(f).with_context(|| format!("reading {}", f.display()))?;
        index.extend(reconcile::read_claims_from(&display_name(f), file)?);
    }
    Ok(index)
}

/// Balancing failures go to stderr first: no amount of the set is posted. The messages carry
/// positions and totals, never patient data.
pub fn report_balancing(r: &Reconciliation) {
    for b in &r.balancing_failures {
        for m in &b.messages {
            eprintln!("painrcm: {} set {}: not reconciled, 835 does not balance: {m}", b.file, b.set_control);
        }
    }
}

pub fn run(args: Args) -> anyhow::Result<u8> {
    let reference = load_reference(args.reference.as_deref())?;
    let claims = read_claims(&args.claims)?;
    let remits = read_remits(&args.files)?;
    let opts = Options { tolerance: args.tolerance, report_unremitted: !args.no_unremitted, explain: args.explain };
    let r = reconcile::reconcile(&reference, &remits, &claims, &opts);
    report_balancing(&r);
    match args.format {
        ListFormat::Table => emit(&table(&r, args.explain))?,
        // Row formats stream to stdout instead of building the whole text first (a night's
        // remittances can be hundreds of thousands of rows).
        ListFormat::Jsonl => {
            let mut w = std::io::BufWriter::new(std::io::stdout().lock());
            for v in &r.variances {
                serde_json::to_writer(&mut w, v)?;
                w.write_all(b"\n")?;
            }
            w.flush()?;
        }
        ListFormat::Csv => csv_to(std::io::stdout().lock(), &r.variances)?.flush()?,
    }
    if let Some(dir) = &args.out {
        let today = args.date.unwrap_or_else(|| chrono::Local::now().date_naive());
        let control = match (&args.control, &args.control_file) {
            (Some(c), _) => Some(*c),
            (None, Some(f)) if !r.secondary.is_empty() => Some(crate::config::next_control(f)?),
            _ => None,
        };
        write_outputs(dir, &r, today, control)?;
    }
    Ok(if r.needs_person() { NEEDS_PERSON } else { OK })
}

fn csv_bytes<T: serde::Serialize>(rows: &[T]) -> anyhow::Result<Vec<u8>> {
    csv_to(Vec::new(), rows)
}

/// Writes `rows` as CSV with a header (none for zero rows) and hands the writer back.
fn csv_to<W: std::io::Write, T: serde::Serialize>(out: W, rows: &[T]) -> anyhow::Result<W> {
    let mut w = csv::Writer::from_writer(out);
    for v in rows {
        w.serialize(v)?;
    }
    Ok(w.into_inner().map_err(|e| e.into_error())?)
}

fn write_outputs(dir: &Path, r: &Reconciliation, today: chrono::NaiveDate, control: Option<u32>) -> anyhow::Result<()> {
    if r.variances.is_empty() {
        // csv writes no header for zero rows; keep the file's shape for scripts.
        let header = "file,claim_id,payer_claim_id,line,code,modifiers,billed,contracted,allowed,paid,variance,category,carc,class,action\n";
        write_private(&dir.join("variances.csv"), header.as_bytes())?;
    } else {
        write_private(&dir.join("variances.csv"), &csv_bytes(&r.variances)?)?;
    }
    if !r.provider_adjustments.is_empty() {
        write_private(&dir.join("provider-adjustments.csv"), &csv_bytes(&r.provider_adjustments)?)?;
    }
    for a in &r.appeals {
        let letter = rules::denials::appeal_letter(a, today);
        write_private(&dir.join("appeals").join(a.file_name()), letter.as_bytes())?;
    }
    if !r.secondary.is_empty() {
        let control = control.unwrap_or_else(|| (chrono::Utc::now().timestamp() / 60).rem_euclid(1_000_000_000) as u32);
        let env =
            Envelope { date: today, time: chrono::Local::now().format("%H%M").to_string(), control, usage: "P".into() };
        let bytes = build_secondary_837(&r.secondary, &env).context("building secondary claims")?;
        if bytes.is_empty() {
            bail!("no secondary claim could be built");
        }
        write_private(&dir.join("secondary.837"), &bytes)?;
    }
    Ok(())
}

fn opt(d: Option<Decimal>) -> String {
    d.map(|d| d.to_string()).unwrap_or_else(|| "-".into())
}

fn table(r: &Reconciliation, explain: bool) -> String {
    let mut s = String::new();
    if !r.balancing_failures.is_empty() {
        let _ = writeln!(s, "NOT RECONCILED (835 balancing failures; nothing posted):");
        for b in &r.balancing_failures {
            for m in &b.messages {
                let _ = writeln!(s, "  {} set {}: {m}", b.file, b.set_control);
            }
        }
        s.push('\n');
    }
    let header = [
        "FILE",
        "CLAIM",
        "PAYER CLAIM",
        "LINE",
        "CODE",
        "BILLED",
        "CONTRACT",
        "ALLOWED",
        "PAID",
        "VARIANCE",
        "CATEGORY",
        "CARC",
        "ACTION",
    ];
    let rows: Vec<[String; 13]> = r.variances.iter().map(row).collect();
    let mut width = header.map(str::len);
    for row in &rows {
        for (w, c) in width.iter_mut().zip(row.iter()) {
            *w = (*w).max(c.chars().count());
        }
    }
    let line = |cells: &[String]| -> String {
        let mut l = String::new();
        for (i, c) in cells.iter().enumerate() {
            let right = (5..10).contains(&i);
            if right {
                let _ = write!(l, "{c:>w$}  ", w = width[i]);
            } else {
                let _ = write!(l, "{c:<w$}  ", w = width[i]);
            }
        }
        l.trim_end().to_string()
    };
    s.push_str(&line(&header.map(String::from)));
    s.push('\n');
    for (v, cells) in r.variances.iter().zip(&rows) {
        s.push_str(&line(cells));
        s.push('\n');
        if explain {
            for l in v.explain.lines() {
                let _ = writeln!(s, "    {l}");
            }
            if !v.fix.is_empty() && v.needs_person() {
                let _ = writeln!(s, "    next: {}", v.fix);
            }
        }
    }
    if !r.provider_adjustments.is_empty() {
        let _ = writeln!(s, "\nProvider-level adjustments (PLB):");
        for p in &r.provider_adjustments {
            let _ = writeln!(
                s,
                "  {}  {}  provider {}  {} ({})  {}  {}",
                p.file, p.payer_id, p.provider_id, p.reason, p.description, p.reference, p.amount
            );
        }
    }
    let total: Decimal =
        r.variances.iter().filter(|v| v.needs_person()).filter_map(|v| v.variance).filter(|v| *v > Decimal::ZERO).sum();
    let count = r.variances.iter().filter(|v| v.needs_person()).count();
    let _ = writeln!(
        s,
        "\n{} lines, {count} need a person, {} owed to the practice; {} appeal letters, {} secondary claims",
        r.variances.len(),
        rules::pricing::money(total),
        r.appeals.len(),
        r.secondary.len()
    );
    s
}

fn row(v: &Variance) -> [String; 13] {
    [
        v.file.to_string(),
        v.claim_id.to_string(),
        v.payer_claim_id.to_string(),
        v.line.map(|l| l.to_string()).unwrap_or_else(|| "-".into()),
        if v.modifiers.is_empty() {
            v.code.to_string()
        } else {
            format!("{}-{}", v.code, v.modifiers.replace(':', "-"))
        },
        opt(v.billed),
        opt(v.contracted),
        opt(v.allowed),
        opt(v.paid),
        opt(v.variance),
        v.category.map(|c| c.as_str().to_string()).unwrap_or_else(|| "-".into()),
        if v.carc.is_empty() { "-".into() } else { v.carc.to_string() },
        v.action.to_string(),
    ]
}
