//! Hand-written interventional pain fixtures: exact typed values, and one fixture per balancing
//! rule with its exact error.

use hipaa::{parse_set, ParsedSet, Transaction};
use rust_decimal::Decimal;
use std::path::Path;
use x12::{Event, StreamReader};

fn parsed(name: &str) -> ParsedSet {
    let bytes =
        std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/hipaa").join(name)).expect("fixture");
    let sets: Vec<_> = StreamReader::new(&bytes[..])
        .filter_map(|e| match e.expect("in-memory") {
            Event::Set(s) => Some(s),
            _ => None,
        })
        .collect();
    assert_eq!(sets.len(), 1);
    let mut out = Vec::new();
    hipaa::emit_set(&sets[0], sets[0].delimiters, sets[0].line_ending, &mut out);
    assert_eq!(out, sets[0].bytes, "{name} emits byte-exact");
    parse_set(&sets[0])
}

fn dec(s: &str) -> Decimal {
    s.parse().expect("test amount")
}

fn issues(p: &ParsedSet) -> Vec<String> {
    p.issues.iter().map(|i| i.to_string()).collect()
}

#[test]
fn pain_claims_parse_to_exact_models() {
    let p = parsed("837p-pain-claims.837");
    assert_eq!(issues(&p), Vec::<String>::new());
    let Transaction::Claims(c) = &p.transaction else { panic!("837P expected") };
    let summary: Vec<(String, Vec<String>, Decimal)> = c
        .claims
        .iter()
        .map(|c| {
            (
                c.claim_id.to_string(),
                c.lines.iter().map(|l| format!("{}x{}", l.procedure.display(), l.units)).collect(),
                c.charge,
            )
        })
        .collect();
    let want = [
        ("ESI1", vec!["62322x1"], "520"),
        ("ESI2", vec!["62323x1"], "640"),
        ("FCT50", vec!["64493-50x1", "64494-50x1"], "690"),
        ("FCTRL", vec!["64493-RTx1", "64493-LTx1"], "600"),
        ("RFA", vec!["64635-RTx1", "64636-RTx2"], "1300"),
        ("SCSTRL", vec!["63650x2", "L8680x16"], "2400"),
        ("SCSPRM", vec!["63685x1", "63650x2", "L8687x1"], "14000"),
        ("EM25", vec!["99214-25x1", "64483-RTx1"], "780"),
    ];
    assert_eq!(summary.len(), want.len());
    for (got, (id, lines, charge)) in summary.iter().zip(want) {
        assert_eq!(got.0, id);
        assert_eq!(got.1, lines, "{id}");
        assert_eq!(got.2, dec(charge), "{id}");
    }
    let rfa = &c.claims[4];
    assert_eq!(rfa.prior_auth, "AET-RFA-1");
    assert_eq!(rfa.payer.id, "AETNA1");
    assert_eq!(rfa.lines[1].control, "RFAL2");
    assert_eq!(rfa.lines[1].service_from, chrono::NaiveDate::from_ymd_opt(2026, 11, 3));
    let scs = &c.claims[5];
    assert_eq!(scs.diagnoses, ["G8929", "M961"]);
    assert_eq!(scs.lines[0].dx_pointers, [1, 2]);
    assert_eq!(c.claims[7].rendering_provider.as_ref().map(|p| p.id.as_str()), Some("1508000027"));
}

#[test]
fn claim_charge_must_equal_line_charges() {
    let p = parsed("837p-unbalanced.837");
    assert_eq!(issues(&p), ["segment 20 (CLM, byte 650) element 02 in loop 2300: CLM02 does not equal the sum of SV102 (2 lines sum to 690)"]);
    assert_eq!(p.issues[0].position.set_segment, Some(18));
}

#[test]
fn balanced_835_with_plb_and_reversal_parse_clean() {
    let p = parsed("835-balanced-plb.835");
    assert_eq!(issues(&p), Vec::<String>::new());
    let Transaction::Remittance(r) = &p.transaction else { panic!("835 expected") };
    assert_eq!(r.payment, dec("454.65"));
    assert_eq!(
        r.provider_adjustments.iter().map(|a| (a.reason.as_str(), a.amount)).collect::<Vec<_>>(),
        [("L6", dec("-2.15")), ("WO", dec("50"))]
    );
    assert_eq!(r.claims[0].services[2].adjustments[1].reason, "59");
    assert_eq!(r.claims[0].services[2].adjustments[1].amount, dec("37.5"));
    let p = parsed("835-reversal-correction.835");
    assert_eq!(issues(&p), Vec::<String>::new());
    let Transaction::Remittance(r) = &p.transaction else { panic!("835 expected") };
    assert!(r.claims[0].is_reversal());
    assert_eq!((r.claims[0].paid, r.claims[1].paid, r.payment), (dec("-502.5"), dec("540"), dec("37.5")));
}

#[test]
fn each_835_balancing_rule_reports_exactly() {
    assert_eq!(
        issues(&parsed("835-unbalanced-clp.835")),
        ["segment 13 (CLP, byte 496) element 04 in loop 2100: CLP03 - CLP04 = 317.5 but claim and line adjustments total 307.5"]
    );
    assert_eq!(
        issues(&parsed("835-unbalanced-svc.835")),
        [
            "segment 13 (CLP, byte 496) element 04 in loop 2100: CLP03 - CLP04 = 307.5 but claim and line adjustments total 297.5",
            "segment 15 (SVC, byte 565) element 03 in loop 2110: SVC02 - SVC03 = 150 but line adjustments total 140",
        ]
    );
    assert_eq!(
        issues(&parsed("835-unbalanced-bpr.835")),
        ["segment 4 (BPR, byte 192) element 02 in loop 835: BPR02 = 500 but claim payments less provider adjustments total 502.5"]
    );
}
