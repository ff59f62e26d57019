//! Reconciliation throughput: 100,000 remitted claims (generated here as typed models, so the
//! bench measures matching, pricing, categorising and sorting, not X12 parsing) against the
//! embedded contracts.

/// The binary's allocator, so the figures are the product's.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use hipaa::{Adjustment, Claim, ClaimPayment, Party, Procedure, Remittance, ServiceLine, ServicePayment};
use rules::reconcile::{reconcile, ClaimIndex, Options, RemitSet, SubmittedClaim};
use rules::Reference;
use rust_decimal::Decimal;
use std::hint::black_box;
use std::sync::Arc;

const CLAIMS: usize = 100_000;
const CLAIMS_PER_SET: usize = 1_000;

/// (payer, [(code, modifiers, charge, paid, adjustments)]) templates; amounts in cents.
type Line = (&'static str, &'static [&'static str], i64, i64, &'static [(&'static str, &'static str, i64)]);
const TEMPLATES: [(&str, &[Line]); 4] = [
    (
        "BCBSTX",
        &[
            ("99214", &["25"], 18000, 10000, &[("CO", "45", 5000), ("PR", "3", 3000)]),
            ("64493", &["50"], 45000, 30000, &[("CO", "45", 15000)]),
            ("64494", &["50"], 24000, 16500, &[("CO", "45", 7500)]),
            // Over-reduced: 25.00 instead of 37.50.
            ("20553", &["XS"], 12000, 2500, &[("CO", "45", 4500), ("CO", "59", 5000)]),
        ],
    ),
    (
        "MCRJL",
        &[
            ("99213", &[], 15000, 0, &[("CO", "97", 15000)]),
            ("64483", &[], 60000, 19600, &[("CO", "45", 35000), ("CO", "253", 400), ("PR", "2", 5000)]),
        ],
    ),
    (
        "AETNA1",
        &[
            ("64635", &["RT"], 90000, 52900, &[("CO", "45", 37100)]),
            ("64636", &["RT"], 40000, 0, &[("CO", "197", 40000)]),
        ],
    ),
    (
        "BCBSTX",
        &[("20553", &[], 12000, 7500, &[("CO", "45", 4500)]), ("76942", &[], 9500, 4200, &[("CO", "45", 5300)])],
    ),
];

fn cents(c: i64) -> Decimal {
    Decimal::new(c, 2)
}

fn data() -> (Vec<RemitSet>, ClaimIndex) {
    let source = {
        let file = include_bytes!("../fixtures/reconcile/claims.837");
        x12::StreamReader::new(&file[..])
            .find_map(|e| match e.expect("in memory") {
                x12::Event::Set(s) => Some(Arc::new(s)),
                _ => None,
            })
            .expect("fixture has a set")
    };
    let date = chrono::NaiveDate::from_ymd_opt(2026, 11, 3);
    let mut claims = Vec::with_capacity(CLAIMS);
    let mut sets: Vec<RemitSet> = Vec::new();
    let mut by_payer: std::collections::BTreeMap<&str, Vec<ClaimPayment>> = Default::default();
    for n in 0..CLAIMS {
        let (payer, lines) = TEMPLATES[n % TEMPLATES.len()];
        let id = format!("BENCH{n:07}");
        let mut claim = Claim {
            claim_id: id.as_str().into(),
            payer: Party { entity: "PR".into(), id: payer.into(), ..Party::default() },
            ..Claim::default()
        };
        let mut pay = ClaimPayment {
            claim_id: id.as_str().into(),
            status: "1".into(),
            payer_claim_id: format!("PCN{n:09}").into(),
            ..ClaimPayment::default()
        };
        for (i, (code, mods, charge, paid, adjs)) in lines.iter().enumerate() {
            let proc = Procedure {
                qualifier: "HC".into(),
                code: (*code).into(),
                modifiers: mods.iter().map(|m| (*m).into()).collect(),
            };
            let control = format!("{id}L{}", i + 1);
            claim.lines.push(ServiceLine {
                number: i as u32 + 1,
                procedure: proc.clone(),
                charge: cents(*charge),
                unit_basis: "UN".into(),
                units: Decimal::ONE,
                service_from: date,
                service_to: date,
                control: control.as_str().into(),
                ..ServiceLine::default()
            });
            pay.services.push(ServicePayment {
                procedure: proc,
                charge: cents(*charge),
                paid: cents(*paid),
                units_paid: Decimal::ONE,
                service_date: date,
                control: control.into(),
                adjustments: adjs
                    .iter()
                    .map(|(g, r, a)| Adjustment {
                        group: (*g).into(),
                        reason: (*r).into(),
                        amount: cents(*a),
                        quantity: None,
                    })
                    .collect(),
                ..ServicePayment::default()
            });
            claim.charge += cents(*charge);
            pay.charge += cents(*charge);
            pay.paid += cents(*paid);
        }
        claims.push(SubmittedClaim { file: "bench.837".into(), claim, source: Arc::clone(&source) });
        by_payer.entry(payer).or_default().push(pay);
    }
    // One payer per set, as in a real 835.
    for (payer, list) in by_payer {
        for chunk in list.chunks(CLAIMS_PER_SET) {
            let mut remittance = Remittance::default();
            remittance.payer.id = (*payer).into();
            remittance.claims = chunk.to_vec();
            let control = format!("{:04}", sets.len() + 1);
            sets.push(RemitSet { file: "bench.835".into(), control, remittance, balancing: Vec::new() });
        }
    }
    (sets, ClaimIndex::new(claims))
}

fn bench(c: &mut Criterion) {
    let reference = Reference::embedded().expect("embedded reference");
    let (remits, claims) = data();
    let opts = Options { report_unremitted: false, explain: false, ..Options::default() };
    let mut g = c.benchmark_group("reconcile");
    g.sample_size(10);
    g.measurement_time(std::time::Duration::from_secs(10));
    g.throughput(Throughput::Elements(CLAIMS as u64));
    g.bench_function("claims_100k", |b| b.iter(|| black_box(reconcile(&reference, &remits, &claims, &opts))));
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
