//! Throughput of typed 271 and 277 parsing on synthetic files generated here (about 32 MB
//! each; nothing large is committed): the loop-aware reader, SNIP 2 validation and extraction
//! into `Coverage` / `ClaimStatus`, measured on sets already read (`typed`) and from bytes
//! through the streaming reader (`end_to_end`); for the 271 also the borrowed view
//! (`hipaa::view_set`, the same pass and checks with text sliced from the set: `view`).

/// The binary's allocator, so the figures are the product's.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use std::fmt::Write as _;
use std::hint::black_box;
use x12::{Event, OwnedSet, StreamReader};

const TARGET_BYTES: usize = 32 * 1024 * 1024;
const MEMBERS_PER_SET: usize = 200;

const ISA: &str =
    "ISA*00*          *00*          *ZZ*PAYER          *ZZ*PAINCLINIC     *261201*0900*^*00501*000000001*0*P*:~\n";

/// One 271 subscriber: plan coverage, accumulators, an ESI frequency limit, an RFA auth flag.
fn subscriber(out: &mut String, hl: usize, n: usize) {
    let _ = write!(
        out,
        "HL*{hl}*2*22*0~\nTRN*2*V{n:09}*1741234567~\nNM1*IL*1*TESTPATIENT*ALPHA****MI*MBR{n:09}~\n\
DMG*D8*19680412*F~\nDTP*346*D8*20260101~\nEB*1*IND*30*PR*SYNTHETIC PPO*******Y~\n\
EB*C*IND*30*PR**23*1500*****Y~\nEB*C*IND*30*PR**29*250.50*****Y~\nEB*G*IND*30*PR**29*3125.75*****Y~\n\
EB*A*IND*30*PR****.2****Y~\nEB*F*IND**PR********Y*HC:62323~\nHSD*VS*4***23~\nHSD*VS*2***29~\n\
MSG*LUMBAR EPIDURAL STEROID INJECTIONS LIMITED TO 4 PER CALENDAR YEAR; 2 USED~\n\
EB*1*IND**PR*******Y*Y*HC:64635~\nMSG*PRIOR AUTHORIZATION REQUIRED FOR FACET RADIOFREQUENCY ABLATION~\n"
    );
}

/// One 277 claim status: rejected, pending or denied, one line.
fn claim(out: &mut String, hl: usize, n: usize) {
    let stc = ["A7:454:QC", "P1:20", "F2:88"][n % 3];
    let _ = write!(
        out,
        "HL*{hl}*3*22*0~\nNM1*IL*1*TESTPATIENT*ECHO****MI*MBR{n:09}~\nTRN*2*PC{n:09}~\n\
STC*{stc}*20261201**1250.00*0~\nREF*1K*PAYER{n:09}~\nREF*EJ*PC{n:09}~\nDTP*472*D8*20261115~\n\
SVC*HC:64483*1250.00*0****1~\nSTC*{stc}*20261201~\nREF*FJ*PC{n:09}L1~\nDTP*472*D8*20261115~\n"
    );
}

fn file(gs: &str, header: &str, per_set: usize, item: fn(&mut String, usize, usize)) -> Vec<u8> {
    let mut out = String::with_capacity(TARGET_BYTES + 1024 * 1024);
    out.push_str(ISA);
    out.push_str(gs);
    let version = if gs.contains("X279") { "005010X279A1" } else { "005010X212" };
    let id = if gs.contains("X279") { "271" } else { "277" };
    let (mut n, mut sets) = (0, 0);
    while out.len() < TARGET_BYTES {
        sets += 1;
        let mut body = format!("ST*{id}*{sets:06}*{version}~\n");
        body.push_str(header);
        let first = header.matches("HL*").count() + 1;
        for i in 0..per_set {
            n += 1;
            item(&mut body, first + i, n);
        }
        let count = body.matches('~').count() + 1;
        let _ = writeln!(body, "SE*{count}*{sets:06}~");
        out.push_str(&body);
    }
    let _ = write!(out, "GE*{sets}*1~\nIEA*1*000000001~\n");
    out.into_bytes()
}

/// The 277 file: sets of 200 claim statuses under one payer, receiver and provider.
fn file_277() -> Vec<u8> {
    file(
        "GS*HN*PAYER*PAINCLINIC*20261201*0900*1*X*005010X212~\n",
        "BHT*0010*08*B1*20261201*0900*DG~\nHL*1**20*1~\nNM1*PR*2*SYNTHETIC PAYER*****PI*PAYER01~\n\
HL*2*1*21*1~\nNM1*41*2*SYNTHETIC PAIN CENTER*****46*TIN000001~\nHL*3*2*19*1~\n\
NM1*1P*2*SYNTHETIC PAIN CENTER*****XX*1747000010~\n",
        MEMBERS_PER_SET,
        claim,
    )
}

fn sets(bytes: &[u8]) -> Vec<OwnedSet> {
    StreamReader::new(bytes)
        .filter_map(|e| match e {
            Ok(Event::Set(s)) => Some(s),
            _ => None,
        })
        .collect()
}

fn check(sets: &[OwnedSet]) {
    // The synthetic input must be clean, or the bench would time the error paths.
    for s in sets.iter().take(2) {
        let p = hipaa::parse_set(s);
        assert!(p.issues.is_empty() && s.is_clean(), "synthetic set has issues: {:?}", p.issues.first());
    }
}

fn bench(c: &mut Criterion) {
    let inputs = [
        (
            "271",
            file(
                "GS*HB*PAYER*PAINCLINIC*20261201*0900*1*X*005010X279A1~\n",
                "BHT*0022*11*B1*20261201*0900~\nHL*1**20*1~\nNM1*PR*2*SYNTHETIC PAYER*****PI*PAYER01~\n\
HL*2*1*21*1~\nNM1*1P*2*SYNTHETIC PAIN CENTER*****XX*1747000010~\n",
                MEMBERS_PER_SET,
                subscriber,
            ),
        ),
        ("277", file_277()),
    ];
    let mut g = c.benchmark_group("sets");
    g.sample_size(10);
    g.measurement_time(std::time::Duration::from_secs(8));
    for (name, bytes) in &inputs {
        let read = sets(bytes);
        check(&read);
        g.throughput(Throughput::Bytes(bytes.len() as u64));
        g.bench_function(format!("{name}_typed"), |b| {
            b.iter(|| read.iter().map(|s| hipaa::parse_set(black_box(s)).issues.len()).sum::<usize>())
        });
        if *name == "271" {
            let first = read.first().and_then(hipaa::view_set);
            assert!(matches!(first, Some((hipaa::View::Eligibility(_), ref i)) if i.is_empty()), "271 view");
            // The view is dropped in the loop, as the owned model is.
            g.bench_function("271_view", |b| {
                b.iter(|| read.iter().map(|s| hipaa::view_set(black_box(s)).map_or(0, |v| v.1.len())).sum::<usize>())
            });
        }
        g.bench_function(format!("{name}_end_to_end"), |b| {
            b.iter(|| {
                StreamReader::new(black_box(&bytes[..]))
                    .filter_map(|e| match e {
                        Ok(Event::Set(s)) => Some(hipaa::parse_set(&s).issues.len()),
                        _ => None,
                    })
                    .sum::<usize>()
            })
        });
    }
    g.finish();
}

/// `277_view`: the 277 read into its borrowed view (`hipaa::view_set`: the same one pass and
/// checks as `277_typed`, the `ClaimStatusReport<&str>` borrowing its text from the set), over
/// the same sets already read.
fn bench_277_view(c: &mut Criterion) {
    let bytes = file_277();
    let read = sets(&bytes);
    check(&read);
    for s in read.iter().take(2) {
        let (view, issues) = hipaa::view_set(s).expect("a 277 has a view");
        assert!(issues.is_empty() && matches!(view, hipaa::View::ClaimStatus(_)));
    }
    let mut g = c.benchmark_group("sets");
    g.sample_size(10);
    g.measurement_time(std::time::Duration::from_secs(8));
    g.throughput(Throughput::Bytes(bytes.len() as u64));
    g.bench_function("277_view", |b| {
        b.iter(|| read.iter().map(|s| hipaa::view_set(black_box(s)).map_or(0, |v| v.1.len())).sum::<usize>())
    });
    g.finish();
}

criterion_group!(benches, bench, bench_277_view);
criterion_main!(benches);
