//! Throughput of the claim scrubber: 100,000 synthetic interventional pain claims, built as
//! `hipaa::Claim` values (no parsing timed), against the embedded reference and an in-memory
//! history holding earlier services for every patient. Run on a rayon pool of 1 thread and of
//! 2, so the figure per core and the scaling show; throughput is in claims. Also times loading
//! the embedded reference, which every run of `painrcm scrub` pays once.
//!
//! Two diagnosis mixes (see `Mix`): `scrub/*` rotates diagnoses independently of the
//! procedure family, as the first version of this bench did (362,499 findings, 137,497 of
//! them `dx-not-supporting`); `scrub_supported_dx/*` writes diagnoses that support each
//! family except on one claim in ten (223,332 findings, 14,998 `dx-not-supporting`). Every
//! finding is produced and kept in both.

/// The binary's allocator, so the figures are the product's.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use chrono::NaiveDate;
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use hipaa::{Claim, Party, Procedure, ServiceLine};
use rules::history::MemoryHistory;
use rules::reference::Reference;
use rules::scrub::{scrub, Context, Input};
use rust_decimal::Decimal;
use std::hint::black_box;

const CLAIMS: usize = 100_000;
/// Patients seen more than once, so history lookups find something.
const PATIENTS: usize = 20_000;

/// (code, modifiers, charge in dollars, units): the families of a pain practice, including
/// some that trip rules on purpose (a PTP pair, an add-on alone, missing laterality).
type Line = (&'static str, &'static [&'static str], i64, i64);
const FAMILIES: [&[Line]; 8] = [
    &[("64493", &["50"], 900, 1), ("64494", &["50"], 550, 1), ("99213", &["25"], 150, 1), ("77003", &[], 90, 1)],
    &[("64483", &["RT"], 1100, 1), ("64484", &["RT"], 600, 1), ("99214", &["25"], 220, 1), ("20553", &[], 300, 1)],
    &[("62323", &[], 950, 1), ("99213", &["25"], 150, 1), ("77003", &[], 90, 1), ("64494", &["RT"], 550, 1)],
    &[
        ("64635", &["50"], 1800, 1),
        ("64636", &["50"], 900, 1),
        ("64636", &["50", "59"], 900, 1),
        ("99213", &["25"], 150, 1),
        ("62321", &[], 900, 1),
    ],
    &[("20553", &[], 300, 1), ("27096", &["RT"], 700, 1), ("99213", &["25"], 150, 1), ("20552", &[], 250, 1)],
    &[
        ("64490", &["LT"], 850, 1),
        ("64491", &["LT"], 500, 1),
        ("64492", &["LT"], 400, 1),
        ("99204", &["25"], 300, 1),
        ("64490", &[], 850, 1),
    ],
    &[("64633", &["RT"], 1700, 1), ("64634", &["RT"], 850, 2), ("99213", &["25"], 150, 1), ("77003", &[], 90, 1)],
    &[
        ("62322", &[], 900, 1),
        ("64479", &["LT"], 1000, 1),
        ("64480", &["LT"], 500, 1),
        ("99215", &["25"], 320, 1),
        ("64483", &["LT"], 1100, 1),
        ("64484", &["LT"], 600, 3),
    ],
];

const PAYERS: [&str; 3] = ["MCRJL", "BCBSTX", "AETNA1"];
const DIAGNOSES: [&str; 6] = ["M47816", "M5416", "G8929", "M5116", "M47812", "M4696"];
/// For the `supported` mix: two diagnoses (the lines point to 1 and 2) that support every
/// procedure family of the template at the same index in `FAMILIES` (dx-policy.csv).
const SUPPORTING: [[&str; 2]; 8] = [
    ["M47816", "M47817"], // facet-mbb, lumbar
    ["M5416", "M7918"],   // esi-transforaminal; tpi
    ["M5416", "M47816"],  // esi-interlaminar; facet-mbb
    ["M47816", "M5412"],  // facet-rfa; esi-interlaminar, cervical
    ["M7918", "M533"],    // tpi; si-joint
    ["M47812", "M47813"], // facet-mbb, cervical
    ["M47812", "M47892"], // facet-rfa, cervical
    ["M5416", "M5412"],   // esi-interlaminar; esi-transforaminal
];

/// Which diagnoses the generator writes.
#[derive(Clone, Copy, PartialEq)]
enum Mix {
    /// The original generator: DIAGNOSES rotated independently of the procedure family, so
    /// most lines meet `dx-not-supporting` (an accident of the generator, kept as the figure
    /// the target was set on).
    Rotated,
    /// The first two diagnoses support the template's families; one claim in ten keeps the
    /// rotated diagnoses (a deliberate minority of mismatches). The third diagnosis still
    /// rotates, so G89 sequencing and Excludes1 pairs still occur.
    Supported,
}
const RENDERING: [&str; 2] = ["1508000027", "1669000030"];

fn day(d: &str) -> NaiveDate {
    NaiveDate::parse_from_str(d, "%Y-%m-%d").expect("a valid literal date")
}

fn party(entity: &str, last: &str, first: &str, q: &str, id: String) -> Party {
    Party {
        entity: entity.into(),
        last_or_org: last.into(),
        first: first.into(),
        id_qualifier: q.into(),
        id: id.into(),
    }
}

fn claim(n: usize, mix: Mix) -> Claim {
    let family = FAMILIES[n % FAMILIES.len()];
    let diagnoses: Vec<hipaa::Text> = if mix == Mix::Supported && n % 10 != 9 {
        let [a, b] = SUPPORTING[n % FAMILIES.len()];
        vec![a.into(), b.into(), DIAGNOSES[(n + 2) % DIAGNOSES.len()].into()]
    } else {
        (0..3).map(|k| DIAGNOSES[(n + k) % DIAGNOSES.len()].into()).collect()
    };
    let service = day("2026-10-01") + chrono::Duration::days((n % 50) as i64);
    let patient = n % PATIENTS;
    let lines: Vec<ServiceLine> = family
        .iter()
        .enumerate()
        .map(|(k, (code, mods, charge, units))| ServiceLine {
            number: k as u32 + 1,
            procedure: Procedure {
                qualifier: "HC".into(),
                code: (*code).into(),
                modifiers: mods.iter().map(|m| (*m).into()).collect(),
            },
            charge: Decimal::from(*charge),
            unit_basis: "UN".into(),
            units: Decimal::from(*units),
            dx_pointers: vec![1, 2],
            service_from: Some(service),
            service_to: Some(service),
            control: format!("L{n:09}{k}").into(),
            ..ServiceLine::default()
        })
        .collect();
    Claim {
        claim_id: format!("PCN{n:09}").into(),
        charge: lines.iter().map(|l| l.charge).sum(),
        place_of_service: if n % 3 == 0 { "22" } else { "11" }.into(),
        frequency: "1".into(),
        provider_signature: "Y".into(),
        assignment: "A".into(),
        billing_provider: party("85", "LONE STAR SPINE AND PAIN GROUP", "", "XX", "1747000010".into()),
        billing_tax_id: "999999999".into(),
        responsibility: "P".into(),
        filing_indicator: if n % 3 == 0 { "MB" } else { "CI" }.into(),
        group_number: format!("GRP{:04}", patient % 500).into(),
        subscriber: party("IL", "TESTPATIENT", "ALPHA", "MI", format!("MBR{patient:09}")),
        subscriber_birth_date: Some(day("1960-01-01")),
        payer: party("PR", "SYNTHETIC PAYER", "", "PI", PAYERS[n % PAYERS.len()].into()),
        diagnoses,
        prior_auth: if n % 4 == 0 { hipaa::Text::default() } else { format!("AUTH{n:07}").into() },
        rendering_provider: Some(party("82", "DOCTOR", "TEST", "XX", RENDERING[n % RENDERING.len()].into())),
        lines,
        segment: n as u64 * 40,
        set_control: format!("{:06}", n / 2000 + 1).into(),
        ..Claim::default()
    }
}

/// History: for every patient, the services of an earlier claim (90 days back), so frequency,
/// RFA-prerequisite and duplicate rules have something to look at.
fn history() -> MemoryHistory {
    let earlier: Vec<Claim> = (CLAIMS..CLAIMS + PATIENTS)
        .map(|n| {
            let mut c = claim(n, Mix::Rotated);
            for l in &mut c.lines {
                l.service_from = l.service_from.map(|d| d - chrono::Duration::days(90));
                l.service_to = l.service_from;
            }
            c
        })
        .collect();
    let mut h = MemoryHistory::new();
    h.add_claims(&earlier);
    h
}

fn bench(c: &mut Criterion) {
    let mut g = c.benchmark_group("scrub");
    g.sample_size(20);
    g.bench_function("reference_embedded_load", |b| {
        b.iter(|| Reference::embedded().expect("the embedded reference is valid"))
    });
    g.finish();

    let reference = Reference::embedded().expect("the embedded reference is valid");
    let history = history();
    let ctx = Context { reference: &reference, history: &history, today: day("2026-11-27") };
    // The rotated mix keeps the benchmark names the target was set on; the supported mix
    // runs as `scrub_supported_dx/...`.
    for (group, mix) in [("scrub", Mix::Rotated), ("scrub_supported_dx", Mix::Supported)] {
        let claims: Vec<Claim> = (0..CLAIMS).map(|n| claim(n, mix)).collect();
        let inputs: Vec<Input<'_>> = claims.iter().map(|claim| Input { file: "bench.837", claim }).collect();
        let findings = scrub(&inputs, &ctx);
        // Findings are expected (the mix trips rules on purpose), but not on every claim.
        assert!(!findings.is_empty() && findings.len() < CLAIMS * 10, "{} findings", findings.len());
        drop(findings);

        let mut g = c.benchmark_group(group);
        g.sample_size(10);
        g.measurement_time(std::time::Duration::from_secs(15));
        g.throughput(Throughput::Elements(CLAIMS as u64));
        for threads in [1, 2] {
            let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().expect("a rayon pool");
            g.bench_function(format!("claims_{threads}_thread{}", if threads > 1 { "s" } else { "" }), |b| {
                b.iter(|| pool.install(|| scrub(black_box(&inputs), &ctx).len()))
            });
        }
        g.finish();
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
