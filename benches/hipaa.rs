//! Throughput of the typed layer on synthetic files of at least 100 MB each, generated here
//! (nothing large is committed): an 837P of interventional pain claims (4 to 6 lines each,
//! 2,000 claims per set) and a balanced 835 paying them. For each: `hipaa::parse_set` (SNIP 2/3
//! validation and the owned typed model, in one pass), `hipaa::view_set` (the same with the
//! model's text borrowed from the set: the hot path's view), `hipaa::validate_set` (the same
//! checks without the model: what `painrcm validate` runs) and `hipaa::emit_set` (the loop tree
//! written back as X12) over every set the streaming reader yields. The sets are read once
//! outside the timing, so these figures are the typed layer alone; `x12` times the reader.
//! `HIPAA_PHASES=1` adds the tokenizer pass and the loop-tree build alone.

/// The binary's allocator, so the figures are the product's.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use std::fmt::Write as _;
use std::hint::black_box;
use x12::{Event, OwnedSet, StreamReader};

const TARGET_BYTES: usize = 100 * 1024 * 1024;
const CLAIMS_PER_SET: usize = 2000;
/// Luhn-valid NPIs (synthetic).
const BILLING_NPI: &str = "1234567893";
const RENDERING_NPI: &str = "1999999984";

const ISA: &str =
    "ISA*00*          *00*          *ZZ*PAINCLINIC     *ZZ*CLEARINGHOUSE  *261127*1200*^*00501*000000001*0*P*:~\n";

/// The procedure families of a pain practice: (code, modifiers, charge in dollars).
const FAMILIES: [&[(&str, &str, u32)]; 6] = [
    // Lumbar facet medial branch blocks, bilateral, with an E/M visit.
    &[("64493", ":50", 900), ("64494", ":50", 550), ("64495", ":50", 400), ("99213", ":25", 150)],
    // Transforaminal epidural, two levels, fluoroscopy included, drug and visit.
    &[("64483", ":RT", 1100), ("64484", ":RT", 600), ("J3301", "", 25), ("J2001", "", 10), ("99214", ":25", 220)],
    // Interlaminar epidural with imaging.
    &[("62323", "", 950), ("J1030", "", 30), ("J2001", "", 10), ("99213", ":25", 150)],
    // Radiofrequency ablation, lumbar, bilateral.
    &[
        ("64635", ":50", 1800),
        ("64636", ":50", 900),
        ("64636", ":50:59", 900),
        ("J2001", "", 10),
        ("99213", ":25", 150),
        ("72100", "", 80),
    ],
    // Trigger points and SI joint.
    &[("20553", "", 300), ("27096", ":RT", 700), ("J3301", "", 25), ("99213", ":25", 150)],
    // Cervical facet blocks.
    &[("64490", ":LT", 850), ("64491", ":LT", 500), ("64492", ":LT", 400), ("J2001", "", 10), ("99204", ":25", 300)],
];

const DIAGNOSES: [&str; 8] = ["M47816", "M5416", "G8929", "M5116", "M47812", "M545", "M4696", "M7918"];

/// One 837P claim: subscriber and payer, CLM with REF*G1 and HI, rendering provider (2310B),
/// then 4 to 6 service lines with DTP*472 and REF*6R.
fn claim_837(out: &mut String, n: usize, hl: usize) {
    let family = FAMILIES[n % FAMILIES.len()];
    let total: u32 = family.iter().map(|l| l.2).sum();
    let dx = |k: usize| DIAGNOSES[(n + k) % DIAGNOSES.len()];
    let day = n % 28 + 1;
    let _ = write!(
        out,
        "HL*{hl}*1*22*0~\nSBR*P*18*GRP{g:06}******CI~\nNM1*IL*1*TESTPATIENT*ALPHA****MI*MBR{n:09}~\n\
N3*{n} SYNTHETIC WAY~\nN4*SPRINGFIELD*IL*62701~\nDMG*D8*19600101*F~\nNM1*PR*2*SYNTHETIC PAYER*****PI*PAYER{p:02}~\n\
CLM*PCN{n:09}*{total}***11:B:1*Y*A*Y*Y~\nDTP*454*D8*20261001~\nREF*G1*AUTH{n:07}~\n\
HI*ABK:{d0}*ABF:{d1}*ABF:{d2}~\nNM1*82*1*DOCTOR*TEST****XX*{RENDERING_NPI}~\nPRV*PE*PXC*208VP0014X~\n",
        g = n % 1000,
        p = n % 7,
        d0 = dx(0),
        d1 = dx(1),
        d2 = dx(2),
    );
    for (k, (code, mods, charge)) in family.iter().enumerate() {
        let _ = write!(
            out,
            "LX*{lx}~\nSV1*HC:{code}{mods}*{charge}*UN*1***1:2~\nDTP*472*D8*202611{day:02}~\nREF*6R*L{n:09}{lx}~\n",
            lx = k + 1,
        );
    }
}

/// An 837P file of at least `TARGET_BYTES`, sets of `CLAIMS_PER_SET` claims.
fn synthetic_837p() -> Vec<u8> {
    let mut out = String::with_capacity(TARGET_BYTES + 4 * 1024 * 1024);
    out.push_str(ISA);
    out.push_str("GS*HC*PAINCLINIC*CLEARINGHOUSE*20261127*1200*1*X*005010X222A1~\n");
    let mut n = 0;
    let mut sets = 0;
    while out.len() < TARGET_BYTES {
        sets += 1;
        let mut body = String::with_capacity(CLAIMS_PER_SET * 1024);
        let _ = write!(
            body,
            "ST*837*{sets:06}*005010X222A1~\nBHT*0019*00*B{sets:06}*20261127*1200*CH~\n\
NM1*41*2*SYNTHETIC PAIN CENTER*****46*TIN000001~\nPER*IC*BILLING*TE*5555550100~\n\
NM1*40*2*SYNTHETIC CLEARINGHOUSE*****46*CH0001~\nHL*1**20*1~\nPRV*BI*PXC*208VP0014X~\n\
NM1*85*2*SYNTHETIC PAIN CENTER*****XX*{BILLING_NPI}~\nN3*100 MAIN ST~\nN4*SPRINGFIELD*IL*62701~\nREF*EI*999999999~\n"
        );
        for k in 0..CLAIMS_PER_SET {
            n += 1;
            claim_837(&mut body, n, k + 2);
        }
        let count = body.matches('~').count() + 1;
        let _ = writeln!(body, "SE*{count}*{sets:06}~");
        out.push_str(&body);
    }
    let _ = write!(out, "GE*{sets}*1~\nIEA*1*000000001~\n");
    out.into_bytes()
}

/// Cents as an X12 `R` value.
fn money(cents: u64) -> String {
    if cents % 100 == 0 {
        (cents / 100).to_string()
    } else {
        format!("{}.{:02}", cents / 100, cents % 100)
    }
}

/// One balanced 835 claim payment for claim `n`: each line pays 80% of its charge less a
/// patient share, CO-45 and PR-2 adjustments make up the difference, AMT*B6 is the allowed.
fn claim_835(out: &mut String, n: usize) -> u64 {
    let family = FAMILIES[n % FAMILIES.len()];
    let day = n % 28 + 1;
    let mut lines = String::new();
    let (mut charge_total, mut paid_total, mut pr_total) = (0u64, 0u64, 0u64);
    for (k, (code, mods, charge)) in family.iter().enumerate() {
        let charge = u64::from(*charge) * 100;
        let allowed = charge * 8 / 10;
        let pr = allowed / 5;
        let paid = allowed - pr;
        charge_total += charge;
        paid_total += paid;
        pr_total += pr;
        let _ = write!(
            lines,
            "SVC*HC:{code}{mods}*{c}*{p}**1~\nDTM*472*202611{day:02}~\nCAS*CO*45*{co}~\nCAS*PR*2*{pr}~\n\
REF*6R*L{n:09}{lx}~\nAMT*B6*{a}~\n",
            c = money(charge),
            p = money(paid),
            co = money(charge - allowed),
            pr = money(pr),
            a = money(allowed),
            lx = k + 1,
        );
    }
    let _ = write!(
        out,
        "CLP*PCN{n:09}*1*{c}*{p}*{pr}*12*PAYERCLM{n:09}*11*1~\nNM1*QC*1*TESTPATIENT*ALPHA****MI*MBR{n:09}~\n\
NM1*82*1*DOCTOR*TEST****XX*{RENDERING_NPI}~\nDTM*232*202611{day:02}~\n{lines}",
        c = money(charge_total),
        p = money(paid_total),
        pr = money(pr_total),
    );
    paid_total
}

/// A balanced 835 of at least `TARGET_BYTES`, sets of `CLAIMS_PER_SET` claim payments.
fn synthetic_835() -> Vec<u8> {
    let mut out = String::with_capacity(TARGET_BYTES + 4 * 1024 * 1024);
    out.push_str(ISA);
    out.push_str("GS*HP*PAYER01*PAINCLINIC*20261201*1200*1*X*005010X221A1~\n");
    let mut n = 0;
    let mut sets = 0;
    while out.len() < TARGET_BYTES {
        sets += 1;
        let mut claims = String::with_capacity(CLAIMS_PER_SET * 1024);
        let mut total = 0;
        for _ in 0..CLAIMS_PER_SET {
            n += 1;
            total += claim_835(&mut claims, n);
        }
        let mut body = String::with_capacity(claims.len() + 1024);
        let _ = write!(
            body,
            "ST*835*{sets:06}~\nBPR*I*{t}*C*ACH*CCP*01*999999999*DA*123456*1512345678**01*999999999*DA*654321*20261201~\n\
TRN*1*EFT{sets:09}*1512345678~\nDTM*405*20261201~\nN1*PR*SYNTHETIC PAYER~\nN3*1 PAYER PLAZA~\n\
N4*SPRINGFIELD*IL*62701~\nPER*BL*EDI SUPPORT*TE*5555550199~\nN1*PE*SYNTHETIC PAIN CENTER*XX*{BILLING_NPI}~\n\
REF*TJ*999999999~\nLX*1~\n{claims}",
            t = money(total),
        );
        let count = body.matches('~').count() + 1;
        let _ = writeln!(body, "SE*{count}*{sets:06}~");
        out.push_str(&body);
    }
    let _ = write!(out, "GE*{sets}*1~\nIEA*1*000000001~\n");
    out.into_bytes()
}

fn sets(bytes: &[u8]) -> Vec<OwnedSet> {
    StreamReader::new(bytes)
        .filter_map(|e| match e.expect("in-memory reads cannot fail") {
            Event::Set(s) => Some(s),
            _ => None,
        })
        .collect()
}

/// Parses every set, returning the number of claims (so nothing is optimized away).
fn parse_all(sets: &[OwnedSet]) -> usize {
    sets.iter()
        .map(|s| match hipaa::parse_set(s).transaction {
            hipaa::Transaction::Claims(c) => c.claims.len(),
            hipaa::Transaction::Remittance(r) => r.claims.len(),
            _ => 0,
        })
        .sum()
}

/// Reads every set into the borrowed view (same pass and checks as `parse_set`, text borrowed
/// from the set), returning the number of claims.
fn view_all(sets: &[OwnedSet]) -> usize {
    sets.iter()
        .map(|s| match hipaa::view_set(s).map(|v| v.0) {
            Some(hipaa::View::Claims(c)) => c.claims.len(),
            Some(hipaa::View::Remittance(r)) => r.claims.len(),
            Some(hipaa::View::Eligibility(_)) | None => 0,
        })
        .sum()
}

fn emit_all(sets: &[OwnedSet], out: &mut Vec<u8>) -> usize {
    let mut n = 0;
    for s in sets {
        out.clear();
        hipaa::emit_set(s, s.delimiters, s.line_ending, out);
        n += out.len();
    }
    n
}

fn bench(c: &mut Criterion) {
    assert!(hipaa::npi_valid(BILLING_NPI) && hipaa::npi_valid(RENDERING_NPI), "synthetic NPIs must pass Luhn");
    for (name, bytes) in [("837p", synthetic_837p()), ("835", synthetic_835())] {
        let sets = sets(&bytes);
        // The synthetic files must be valid, or the bench would time error reporting.
        for s in sets.iter().take(2) {
            let parsed = hipaa::parse_set(s);
            assert!(parsed.issues.is_empty(), "{name} set {} has issues: {:?}", s.control, &parsed.issues[..1]);
        }
        let set_bytes: usize = sets.iter().map(|s| s.bytes.len()).sum();
        let mut out = Vec::with_capacity(sets.iter().map(|s| s.bytes.len()).max().unwrap_or(0));
        assert_eq!(emit_all(&sets, &mut out), set_bytes, "{name}: emit must be byte-exact");

        let mut g = c.benchmark_group(format!("hipaa_{name}"));
        g.sample_size(10);
        g.measurement_time(std::time::Duration::from_secs(20));
        g.throughput(Throughput::Bytes(bytes.len() as u64));
        g.bench_function("parse_set", |b| b.iter(|| parse_all(black_box(&sets))));
        g.bench_function("view_set", |b| b.iter(|| view_all(black_box(&sets))));
        g.bench_function("validate_set", |b| {
            b.iter(|| black_box(&sets).iter().map(|s| hipaa::validate_set(s).len()).sum::<usize>())
        });
        g.bench_function("emit_set", |b| b.iter(|| emit_all(black_box(&sets), &mut out)));
        if std::env::var_os("HIPAA_PHASES").is_some() {
            let root = if name == "837p" { &hipaa::x837::SCHEMA } else { &hipaa::x835::SCHEMA };
            g.bench_function("phase_segments", |b| b.iter(|| sets.iter().map(|s| s.segments().count()).sum::<usize>()));
            g.bench_function("phase_build", |b| {
                b.iter(|| {
                    sets.iter()
                        .map(|s| {
                            let mut issues = Vec::new();
                            hipaa::tree::build(root, s.segments(), &mut issues).children.len()
                        })
                        .sum::<usize>()
                })
            });
        }
        g.finish();
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
