//! Secondary 837P claims built from the primary's 835 parse back clean.

use rules::reconcile::{read_claims, read_remits, reconcile, ClaimIndex, Options};
use rules::secondary::{build_secondary_837, Envelope};
use rules::Reference;
use rust_decimal::Decimal;
use std::path::PathBuf;

fn read(rel: &str) -> Vec<u8> {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..").join(rel);
    std::fs::read(&p).unwrap_or_else(|e| panic!("reading {}: {e}", p.display()))
}

fn env() -> Envelope {
    Envelope {
        date: chrono::NaiveDate::from_ymd_opt(2026, 12, 2).expect("date"),
        time: "0800".into(),
        control: 42,
        usage: "T".into(),
    }
}

fn secondary_for(claims: &str, era: &str) -> (Vec<u8>, usize) {
    let reference = Reference::embedded().expect("embedded");
    let claims = ClaimIndex::new(read_claims(claims, &read(claims)).expect("claims"));
    let remits = read_remits(era, &read(era)).expect("835");
    let r = reconcile(&reference, &remits, &claims, &Options::default());
    let n = r.secondary.len();
    (build_secondary_837(&r.secondary, &env()).expect("built"), n)
}

fn parse_all(bytes: &[u8]) -> Vec<hipaa::ParsedSet> {
    let mut out = Vec::new();
    for ev in x12::StreamReader::new(bytes) {
        match ev.expect("in memory") {
            x12::Event::Set(set) => {
                assert!(set.is_clean(), "syntax: {:?}", set.errors);
                out.push(hipaa::parse_set(&set));
            }
            x12::Event::Issue(e) => assert_eq!(e.severity(), x12::Severity::Warning, "{e}"),
            x12::Event::InterchangeEnd { errors, .. } | x12::Event::GroupEnd { errors, .. } => {
                assert!(errors.is_empty(), "{errors:?}")
            }
            _ => {}
        }
    }
    out
}

#[test]
fn fixture_secondary_claim_validates_clean_with_cob_loops() {
    let (bytes, n) = secondary_for("fixtures/reconcile/claims.837", "fixtures/reconcile/era-paid.835");
    assert_eq!(n, 1, "only RC2001 has PR and other coverage");
    let sets = parse_all(&bytes);
    assert_eq!(sets.len(), 1);
    let errors: Vec<String> =
        sets[0].issues.iter().filter(|i| i.severity == x12::Severity::Error).map(|i| i.to_string()).collect();
    assert!(errors.is_empty(), "{errors:?}\n{}", String::from_utf8_lossy(&bytes));
    let hipaa::Transaction::Claims(c) = &sets[0].transaction else { panic!("not an 837") };
    assert_eq!(c.claims.len(), 1);
    let claim = &c.claims[0];
    assert_eq!(claim.claim_id, "RC2001");
    assert_eq!(claim.responsibility, "S");
    assert_eq!(claim.payer.id, "AETNA1");
    assert_eq!(claim.subscriber.id, "AET700100001");
    assert_eq!(claim.charge, Decimal::new(990, 0));
    assert_eq!(claim.other_payers.len(), 1);
    let p = &claim.other_payers[0];
    assert_eq!(
        (p.responsibility.as_str(), p.payer.id.as_str(), p.subscriber.id.as_str()),
        ("P", "BCBSTX", "BCB800100001")
    );
    assert_eq!(p.paid, Some(Decimal::new(6025, 1)));
    assert_eq!(p.remaining, Some(Decimal::new(30, 0)));
    assert_eq!(claim.lines.len(), 4);
    let l1 = &claim.lines[0].adjudications[0];
    assert_eq!((l1.payer_id.as_str(), l1.paid), ("BCBSTX", Decimal::new(100, 0)));
    assert_eq!(
        l1.adjustments.iter().map(|a| (a.group.as_str(), a.reason.as_str(), a.amount)).collect::<Vec<_>>(),
        vec![("CO", "45", Decimal::new(50, 0)), ("PR", "3", Decimal::new(30, 0))]
    );
    assert_eq!(l1.date, chrono::NaiveDate::from_ymd_opt(2026, 12, 1));
    // COB balance: each line's charge = primary paid + its adjustments.
    for l in &claim.lines {
        let a = &l.adjudications[0];
        assert_eq!(l.charge, a.paid + a.adjustments.iter().map(|x| x.amount).sum::<Decimal>());
    }
    let text = String::from_utf8_lossy(&bytes);
    assert!(text.contains("SBR*S*18*AETGRP300******CI~"), "{text}");
    assert!(
        text.contains("AMT*D*602.5~\nAMT*EAF*30~\nOI***Y*P**Y~\nNM1*IL*1*TESTPERSON*ALPHA****MI*BCB800100001~"),
        "{text}"
    );
    assert!(text.contains("SVD*BCBSTX*37.5*HC:20553:XS**1~\nCAS*CO*45*45**59*37.5~\nDTP*573*D8*20261201~"), "{text}");
}

#[test]
fn sample_secondary_claim_validates_clean() {
    let (bytes, n) = secondary_for("edi-samples/claims-20261127.837", "edi-samples/era-20261201.835");
    assert_eq!(n, 1, "PC1001 leaves PR 30.00 and has AETNA1 as secondary");
    for set in parse_all(&bytes) {
        let errors: Vec<String> =
            set.issues.iter().filter(|i| i.severity == x12::Severity::Error).map(|i| i.to_string()).collect();
        assert!(errors.is_empty(), "{errors:?}");
    }
}

#[test]
fn no_secondary_without_patient_responsibility_or_other_coverage() {
    let (bytes, n) = secondary_for("fixtures/reconcile/claims.837", "fixtures/reconcile/era-auth-denials.835");
    assert_eq!(n, 0);
    assert!(bytes.is_empty());
}
