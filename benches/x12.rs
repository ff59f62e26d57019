//! Throughput of the x12 syntax layer on a synthetic 837P of at least 100 MB, generated here
//! (nothing large is committed): a bare memchr count of terminators (the floor), the tokenizer,
//! and the streaming reader over `&[u8]`.

/// The binary's allocator, so the figures are the product's.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use std::hint::black_box;
use x12::{count_terminators, Event, StreamReader, Token, Tokenizer};

const TARGET_BYTES: usize = 100 * 1024 * 1024;
const CLAIMS_PER_SET: usize = 500;

const ISA: &str =
    "ISA*00*          *00*          *ZZ*PAINCLINIC     *ZZ*CLEARINGHOUSE  *261127*1200*^*00501*000000001*0*P*:~\n";

/// One 837P claim: subscriber, patient, two service lines with imaging-guided injections.
fn claim(out: &mut String, n: usize) {
    use std::fmt::Write as _;
    let _ = write!(
        out,
        "HL*{hl}*1*22*0~\nSBR*P*18*GRP{g:06}******CI~\nNM1*IL*1*TESTPATIENT*ALPHA****MI*MBR{n:09}~\n\
N3*{n} SYNTHETIC WAY~\nN4*SPRINGFIELD*IL*62701~\nDMG*D8*19600101*F~\nNM1*PR*2*SYNTHETIC PAYER*****PI*PAYER01~\n\
CLM*PCN{n:09}*1450***11:B:1*Y*A*Y*Y~\nREF*G1*AUTH{n:07}~\nHI*ABK:M47816^ABF:M5416^ABF:G8929~\n\
NM1*82*1*DOCTOR*TEST****XX*1999999984~\nPRV*PE*PXC*208VP0014X~\n\
LX*1~\nSV1*HC:64493:RT*900*UN*1***1:2:3~\nDTP*472*D8*20261120~\nREF*6R*L{n:09}1~\n\
LX*2~\nSV1*HC:64494:RT*550*UN*1***1:2~\nDTP*472*D8*20261120~\nREF*6R*L{n:09}2~\n",
        hl = n % 9000 + 2,
        g = n % 1000,
    );
}

/// The whole file: ISA, GS, then sets of `CLAIMS_PER_SET` claims until `TARGET_BYTES`.
fn synthetic_837p() -> Vec<u8> {
    let mut out = String::with_capacity(TARGET_BYTES + 1024 * 1024);
    out.push_str(ISA);
    out.push_str("GS*HC*PAINCLINIC*CLEARINGHOUSE*20261127*1200*1*X*005010X222A1~\n");
    let mut n = 0;
    let mut sets = 0;
    while out.len() < TARGET_BYTES {
        sets += 1;
        let mut body = String::new();
        body.push_str(&format!("ST*837*{sets:06}*005010X222A1~\nBHT*0019*00*B{sets:06}*20261127*1200*CH~\n"));
        body.push_str("NM1*41*2*SYNTHETIC PAIN CENTER*****46*TIN000001~\nPER*IC*BILLING*TE*5555550100~\n");
        body.push_str("NM1*40*2*SYNTHETIC PAYER*****46*PAYER01~\nHL*1**20*1~\n");
        body.push_str("NM1*85*2*SYNTHETIC PAIN CENTER*****XX*1999999984~\nN3*100 MAIN ST~\nN4*SPRINGFIELD*IL*62701~\nREF*EI*999999999~\n");
        for _ in 0..CLAIMS_PER_SET {
            n += 1;
            claim(&mut body, n);
        }
        let count = body.matches('~').count() + 1;
        body.push_str(&format!("SE*{count}*{sets:06}~\n"));
        out.push_str(&body);
    }
    out.push_str(&format!("GE*{sets}*1~\nIEA*1*000000001~\n"));
    out.into_bytes()
}

fn bench(c: &mut Criterion) {
    let bytes = synthetic_837p();
    let mut g = c.benchmark_group("x12");
    g.sample_size(10);
    g.measurement_time(std::time::Duration::from_secs(8));
    g.throughput(Throughput::Bytes(bytes.len() as u64));
    g.bench_function("memchr_terminators", |b| b.iter(|| count_terminators(black_box(&bytes), b'~')));
    g.bench_function("tokenizer_segments", |b| {
        b.iter(|| Tokenizer::new(black_box(&bytes)).filter(|t| matches!(t, Token::Segment(_))).count())
    });
    g.bench_function("stream_reader_sets", |b| {
        b.iter(|| StreamReader::new(black_box(&bytes[..])).filter(|e| matches!(e, Ok(Event::Set(_)))).count())
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
