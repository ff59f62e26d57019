//! `painrcm scrub FILE.837...`: findings per claim; with --out, clean.837 and held.csv.

use super::{emit, load_reference, ListFormat, FAILED, NEEDS_PERSON, OK};
use crate::input::{self, display_name};
use crate::output::write_private;
use chrono::NaiveDate;
use rules::scrub::{self, Finding, Input, Severity};
use rules::MemoryHistory;
use std::collections::BTreeSet;
use std::path::PathBuf;
use x12::{Delimiters, EnvelopeWriter, LineEnding};

/// Check 837P claims before submission against NCCI PTP and MUE edits, modifier rules,
/// pain-specific coding rules, authorizations, diagnoses, timely filing and enrollment.
///
/// Prints one finding per problem: the claim (CLM01), the service line, the rule id, the
/// severity (error holds the claim, warning does not), what is wrong and the fix. With --out,
/// writes `clean.837` (only the claims with no error, re-enveloped with their original control
/// numbers and renumbered HL loops) and `held.csv` (the held claims' findings), both 0600.
/// Exits 0 when nothing is held, 1 when a claim is held, 2 on failure.
#[derive(clap::Args)]
pub struct Args {
    /// 837P files to scrub.
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    /// Reference data directory (default: the embedded copy of fixtures/reference).
    #[arg(long, value_name = "DIR")]
    pub reference: Option<PathBuf>,
    /// Files that count as history: earlier 837P claims (frequency limits, MBB before RFA,
    /// add-on primaries billed earlier the same day), 278 responses (authorizations on file)
    /// and 271 responses (coverage active or not).
    #[arg(long, value_name = "FILE")]
    pub history: Vec<PathBuf>,
    #[arg(long, value_enum, default_value_t)]
    pub format: ListFormat,
    /// Write clean.837 and held.csv into this directory.
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// The date timely filing is measured to (default: today).
    #[arg(long, value_name = "YYYY-MM-DD")]
    pub as_of: Option<NaiveDate>,
}

pub fn run(args: Args) -> anyhow::Result<u8> {
    let reference = load_reference(args.reference.as_deref())?;
    let history = load_history(&args.history)?;
    let today = args.as_of.unwrap_or_else(|| chrono::Local::now().date_naive());
    let ctx = scrub::Context { reference: &reference, history: &history, today };

    let mut findings: Vec<Finding> = Vec::new();
    let mut claims = 0usize;
    let mut held: BTreeSet<(String, String)> = BTreeSet::new();
    let mut clean_out: Vec<u8> = Vec::new();
    let mut clean_claims = 0usize;
    let mut unreadable = false;
    for path in &args.files {
        let name = display_name(path);
        let result = input::for_each_set(path, |loaded| {
            let hipaa::Transaction::Claims(parsed) = &loaded.parsed.transaction else { return Ok(()) };
            let inputs: Vec<Input<'_>> = parsed.claims.iter().map(|c| Input { file: &name, claim: c }).collect();
            let found = scrub::scrub(&inputs, &ctx);
            claims += parsed.claims.len();
            let held_here: BTreeSet<String> =
                found.iter().filter(|f| f.severity == Severity::Error).map(|f| f.claim_id.to_string()).collect();
            if !loaded.parsed.is_valid() || !loaded.set.is_clean() {
                // A set that fails its implementation guide cannot go out as it is.
                for c in &parsed.claims {
                    held.insert((name.clone(), c.claim_id.to_string()));
                }
                eprintln!(
                    "painrcm: {name}: set {} has {} validation errors; its claims are held (see painrcm validate)",
                    loaded.set.control,
                    loaded.parsed.issues.len() + loaded.set.errors.len()
                );
            }
            held.extend(held_here.iter().map(|c| (name.clone(), c.clone())));
            if args.out.is_some() {
                clean_claims +=
                    write_clean(&loaded, &|id: &str| !held.contains(&(name.clone(), id.to_string())), &mut clean_out)?;
            }
            findings.extend(found);
            Ok(())
        });
        if let Err(e) = result {
            eprintln!("painrcm: {e:#}");
            unreadable = true;
        }
    }
    scrub::sort(&mut findings);
    emit(&render(&findings, args.format)?)?;
    if args.format == ListFormat::Table {
        emit(&format!(
            "\n{claims} claims: {} clean, {} held, {} findings\n",
            claims - held.len(),
            held.len(),
            findings.len()
        ))?;
    }
    if let Some(dir) = &args.out {
        write_private(&dir.join("clean.837"), &clean_out)?;
        let held_findings: Vec<Finding> =
            findings.iter().filter(|f| held.contains(&(f.file.to_string(), f.claim_id.to_string()))).cloned().collect();
        write_private(&dir.join("held.csv"), render(&held_findings, ListFormat::Csv)?.as_bytes())?;
        eprintln!(
            "painrcm: wrote {clean_claims} clean claims to {} and {} held claims to {}",
            dir.join("clean.837").display(),
            held.len(),
            dir.join("held.csv").display()
        );
    }
    Ok(if unreadable {
        FAILED
    } else if held.is_empty() {
        OK
    } else {
        NEEDS_PERSON
    })
}

/// Re-envelopes the kept claims of one 837P set, keeping its control numbers.
fn write_clean(loaded: &input::LoadedSet, keep: &dyn Fn(&str) -> bool, out: &mut Vec<u8>) -> anyhow::Result<usize> {
    let set = &loaded.set;
    let mut issues = Vec::new();
    let root = hipaa::tree::build(&hipaa::x837::SCHEMA, set.segments(), &mut issues);
    let any = root.all_segments().iter().any(|s| s.is(b"CLM") && keep(std::str::from_utf8(s.get(1)).unwrap_or("")));
    if !any {
        return Ok(0);
    }
    let d: Delimiters = set.delimiters;
    let line = if set.line_ending == LineEnding::None { LineEnding::None } else { set.line_ending };
    let mut w = EnvelopeWriter::new(Vec::new(), d, line);
    let isa_control: u32 = loaded.interchange.control.parse().unwrap_or(1);
    let gs_control: u32 = set.group.control.parse().unwrap_or(1);
    w.start_interchange(&loaded.interchange, isa_control)?;
    w.start_group(&set.group, gs_control)?;
    w.start_set(&set.id, &set.control, &set.version)?;
    let n = hipaa::x837::write_filtered(&root, &|clm| keep(std::str::from_utf8(clm.get(1)).unwrap_or("")), &mut w)?;
    w.end_set()?;
    out.extend(w.finish()?);
    Ok(n)
}

/// Builds an in-memory history from 837P, 278 and 271 files; other sets are ignored.
pub fn load_history(paths: &[PathBuf]) -> anyhow::Result<MemoryHistory> {
    let mut history = MemoryHistory::new();
    for p in paths {
        input::for_each_set(p, |s| {
            match &s.parsed.transaction {
                hipaa::Transaction::Claims(c) => history.add_claims(&c.claims),
                hipaa::Transaction::Review(r) => history.add_review(r),
                hipaa::Transaction::Eligibility(e) => history.add_eligibility(e),
                _ => {}
            }
            Ok(())
        })?;
    }
    Ok(history)
}

/// Renders findings in the contract's columns.
pub fn render(findings: &[Finding], format: ListFormat) -> anyhow::Result<String> {
    Ok(match format {
        ListFormat::Jsonl => {
            let mut s = String::new();
            for f in findings {
                s.push_str(&serde_json::to_string(f)?);
                s.push('\n');
            }
            s
        }
        ListFormat::Csv => {
            let mut w = csv::Writer::from_writer(Vec::new());
            w.write_record(["file", "claim_id", "line", "rule", "severity", "message", "fix"])?;
            for f in findings {
                let line = f.line.map(|l| l.to_string()).unwrap_or_default();
                let (message, fix) = (f.message().to_string(), f.fix().to_string());
                w.write_record([&*f.file, &*f.claim_id, &line, f.rule, f.severity.as_str(), &message, &fix])?;
            }
            String::from_utf8(w.into_inner().map_err(|e| anyhow::anyhow!("{e}"))?)?
        }
        ListFormat::Table => {
            let mut s = String::new();
            if findings.is_empty() {
                s.push_str("no findings\n");
            }
            for f in findings {
                let line = f.line.map(|l| l.to_string()).unwrap_or_else(|| "-".into());
                s.push_str(&format!(
                    "{:<12} {:>4}  {:<22} {:<7}  {}\n{:>44}fix: {}\n",
                    f.claim_id,
                    line,
                    f.rule,
                    f.severity.as_str(),
                    f.message(),
                    "",
                    f.fix()
                ));
            }
            s
        }
    })
}
