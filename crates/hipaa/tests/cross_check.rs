//! Differential test against x12-types, an independent X12 implementation: the same files read
//! by both must give the same claims and payments.
//!
//! x12-types is slow to build, so this runs only with `--features cross-check` (CI does). It
//! reads `*`/`~`/`:` files with one interchange and one group, and rejects much else; files it
//! rejects are skipped, but it must read some of each kind or the test fails (a test that
//! compares nothing proves nothing). Messages carry file names, counts and field names, never
//! element values (samples are synthetic, but the habit is the rule).
#![cfg(feature = "cross-check")]

use hipaa::{parse_set, Transaction};
use rust_decimal::Decimal;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use x12::{Event, StreamReader};
use x12_types::util::Parser;
use x12_types::v005010::{Transmission, _835, _837};

fn corpus() -> Option<PathBuf> {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus");
    if p.is_dir() {
        Some(p)
    } else {
        eprintln!("skipping the corpus part: {} not present", p.display());
        None
    }
}

fn samples() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../edi-samples")
}

fn files(dir: &Path, ext: &str) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> =
        std::fs::read_dir(dir).map(|d| d.filter_map(|e| e.ok().map(|e| e.path())).collect()).unwrap_or_default();
    v.retain(|p| p.extension().is_some_and(|e| e == ext));
    v.sort();
    v
}

fn name(p: &Path) -> String {
    p.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default()
}

/// Our typed sets of one file, in file order.
fn ours(bytes: &[u8]) -> Vec<Transaction> {
    StreamReader::new(bytes)
        .filter_map(|e| match e.expect("in-memory read") {
            Event::Set(s) => Some(parse_set(&s).transaction),
            _ => None,
        })
        .collect()
}

/// An R element as x12-types hands it over (a `String`, empty or absent when not sent).
fn money(s: Option<&str>) -> Decimal {
    match s.map(str::trim).filter(|s| !s.is_empty()) {
        Some(v) => Decimal::from_str(v).expect("x12-types accepted a non-numeric amount"),
        None => Decimal::ZERO,
    }
}

/// Code and modifiers of a composite procedure (`HC:64493:RT`), as x12-types keeps it unsplit.
fn procedure(composite: &str, separator: char) -> (String, Vec<String>) {
    let mut parts = composite.split(separator);
    let _qualifier = parts.next();
    let code = parts.next().unwrap_or("").to_string();
    let modifiers = parts.take(4).filter(|m| !m.is_empty()).map(str::to_string).collect();
    (code, modifiers)
}

/// x12-types parses the first interchange; only a file it reads to the end is compared. (A
/// macro, because naming its parser trait's error type would take a direct `nom` dependency.)
macro_rules! theirs {
    ($t:ty, $text:expr) => {
        match Transmission::<$t>::parse($text) {
            Ok((rest, t)) if rest.trim().is_empty() => Some(t),
            _ => None,
        }
    };
}

/// One claim as both sides must see it: id, charge, and per line charge, code, modifiers.
#[derive(Debug, PartialEq)]
struct ClaimView {
    id: String,
    charge: Decimal,
    lines: Vec<(Decimal, String, Vec<String>)>,
}

fn check_837(path: &Path, stats: &mut (usize, usize, usize)) {
    let bytes = std::fs::read(path).expect("readable file");
    let Ok(text) = std::str::from_utf8(&bytes) else { return };
    let Some(t) = theirs!(_837, text) else {
        eprintln!("x12-types rejects {}: skipped", name(path));
        stats.1 += 1;
        return;
    };
    let separator = t.isa._16.chars().next().unwrap_or(':');
    let mut them = Vec::new();
    for set in t.functional_group.iter().flat_map(|g| &g.segments) {
        for hl in &set.loop_2000 {
            for c in &hl.loop_2300 {
                them.push(ClaimView {
                    id: c.clm._01.clone(),
                    charge: money(c.clm._02.as_deref()),
                    lines: c
                        .loop_2400
                        .iter()
                        .filter_map(|l| l.sv1.as_ref())
                        .map(|sv1| {
                            let (code, mods) = procedure(&sv1._01, separator);
                            (money(sv1._02.as_deref()), code, mods)
                        })
                        .collect(),
                });
            }
        }
    }
    let mine: Vec<ClaimView> = ours(&bytes)
        .into_iter()
        .filter_map(|t| match t {
            Transaction::Claims(c) => Some(c.claims),
            _ => None,
        })
        .flatten()
        .map(|c| ClaimView {
            id: c.claim_id.to_string(),
            charge: c.charge,
            lines: c
                .lines
                .into_iter()
                .map(|l| {
                    let mods = l.procedure.modifiers.iter().map(ToString::to_string).collect();
                    (l.charge, l.procedure.code.to_string(), mods)
                })
                .collect(),
        })
        .collect();
    assert_eq!(mine.len(), them.len(), "{}: claim count", name(path));
    for (k, (a, b)) in mine.iter().zip(&them).enumerate() {
        assert!(a.id == b.id, "{}: claim {k}: CLM01 differs", name(path));
        assert!(a.charge == b.charge, "{}: claim {k}: CLM02 differs", name(path));
        assert_eq!(a.lines.len(), b.lines.len(), "{}: claim {k}: line count", name(path));
        for (j, (x, y)) in a.lines.iter().zip(&b.lines).enumerate() {
            assert!(x.0 == y.0, "{}: claim {k} line {j}: SV102 differs", name(path));
            assert!(x.1 == y.1, "{}: claim {k} line {j}: procedure code differs", name(path));
            assert!(x.2 == y.2, "{}: claim {k} line {j}: modifiers differ", name(path));
        }
    }
    stats.0 += 1;
    stats.2 += mine.len();
}

/// One claim payment as both sides must see it: CLP01, CLP03, CLP04 and the SVC amounts.
#[derive(Debug, PartialEq)]
struct PaymentView {
    id: String,
    charge: Decimal,
    paid: Decimal,
    services: Vec<(Decimal, Decimal)>,
}

fn check_835(path: &Path, stats: &mut (usize, usize, usize)) {
    let bytes = std::fs::read(path).expect("readable file");
    let Ok(text) = std::str::from_utf8(&bytes) else { return };
    let Some(t) = theirs!(_835, text) else {
        eprintln!("x12-types rejects {}: skipped", name(path));
        stats.1 += 1;
        return;
    };
    let them: Vec<PaymentView> = t
        .functional_group
        .iter()
        .flat_map(|g| &g.segments)
        .flat_map(|s| &s.loop_2000)
        .flat_map(|lx| &lx.loop_2100)
        .map(|c| PaymentView {
            id: c.clp._01.clone(),
            charge: money(Some(&c.clp._03)),
            paid: money(Some(&c.clp._04)),
            services: c.loop_2110.iter().map(|s| (money(Some(&s.svc._02)), money(s.svc._03.as_deref()))).collect(),
        })
        .collect();
    let mine: Vec<PaymentView> = ours(&bytes)
        .into_iter()
        .filter_map(|t| match t {
            Transaction::Remittance(r) => Some(r.claims),
            _ => None,
        })
        .flatten()
        .map(|c| PaymentView {
            id: c.claim_id.to_string(),
            charge: c.charge,
            paid: c.paid,
            services: c.services.into_iter().map(|s| (s.charge, s.paid)).collect(),
        })
        .collect();
    if them.is_empty() && !mine.is_empty() {
        // x12-types files a CLP only under an LX; a payer that sends CLP without LX reads as
        // no claims there, so there is nothing to compare.
        eprintln!("x12-types finds no LX-grouped claims in {}: skipped", name(path));
        stats.1 += 1;
        return;
    }
    assert_eq!(mine.len(), them.len(), "{}: claim payment count", name(path));
    for (k, (a, b)) in mine.iter().zip(&them).enumerate() {
        assert!(a.id == b.id, "{}: payment {k}: CLP01 differs", name(path));
        assert!(a.charge == b.charge, "{}: payment {k}: CLP03 differs", name(path));
        assert!(a.paid == b.paid, "{}: payment {k}: CLP04 differs", name(path));
        assert_eq!(a.services.len(), b.services.len(), "{}: payment {k}: service count", name(path));
        for (j, (x, y)) in a.services.iter().zip(&b.services).enumerate() {
            assert!(x == y, "{}: payment {k} service {j}: SVC02/SVC03 differ", name(path));
        }
    }
    stats.0 += 1;
    stats.2 += mine.len();
}

#[test]
fn claims_agree_with_x12_types() {
    let mut stats = (0, 0, 0);
    for f in files(&samples(), "837") {
        check_837(&f, &mut stats);
    }
    if let Some(root) = corpus() {
        for f in files(&root.join("lfh/837_005010X222A2"), "837") {
            check_837(&f, &mut stats);
        }
    }
    eprintln!("837: {} files compared ({} claims), {} skipped", stats.0, stats.2, stats.1);
    assert!(stats.2 > 0, "x12-types read none of the 837 files: nothing was compared");
}

#[test]
fn payments_agree_with_x12_types() {
    let mut stats = (0, 0, 0);
    for f in files(&samples(), "835") {
        check_835(&f, &mut stats);
    }
    if let Some(root) = corpus() {
        for f in files(&root.join("lfh/835_005010X221A1"), "835") {
            check_835(&f, &mut stats);
        }
    }
    eprintln!("835: {} files compared ({} claim payments), {} skipped", stats.0, stats.2, stats.1);
    assert!(stats.2 > 0, "x12-types read none of the 835 files: nothing was compared");
}
