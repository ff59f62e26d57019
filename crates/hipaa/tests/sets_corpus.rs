//! Conformance of the front-end sets (270/271, 276/277, 278) over the public sample files in
//! `../shared/corpus` (skipped when absent) and the practice's own `edi-samples/`.

use hipaa::{parse_set, Transaction};
mod common;

use common::{corpus, files, sets, summary};
use std::path::Path;

fn round_trip(name: &str, set: &x12::OwnedSet) {
    let mut out = Vec::new();
    hipaa::emit(set.segments(), set.delimiters, set.line_ending, &mut out);
    assert!(out == set.bytes, "{name}: emit differs from input");
}

fn parse_file(path: &Path) -> Vec<(x12::OwnedSet, hipaa::ParsedSet)> {
    let bytes = std::fs::read(path).expect("readable corpus file");
    sets(&bytes).into_iter().map(|s| (s.clone(), parse_set(&s))).collect()
}

#[test]
fn every_corpus_front_end_set_parses_and_round_trips() {
    let Some(root) = corpus() else { return };
    let mut seen = 0;
    let dirs =
        ["lfh/270_005010X279A1", "lfh/271_005010X279A1", "lfh/276_005010X212", "lfh/277_005010X212", "stupidedi/278"];
    for sub in dirs {
        for f in files(&root.join(sub)) {
            let name = f.file_name().and_then(|n| n.to_str()).unwrap_or("").to_string();
            let parsed = parse_file(&f);
            assert_eq!(parsed.len(), 1, "{name}");
            for (set, p) in &parsed {
                assert!(!matches!(p.transaction, Transaction::Unsupported { .. }), "{name}");
                println!("{name}: {:?}", summary(p));
                round_trip(&name, set);
                seen += 1;
            }
        }
    }
    assert_eq!(seen, 19);
}

/// The issues each corpus file carries, exactly: the LFH 276/277 files use NPIs whose check
/// digit is wrong (`1666666661` and friends), which a strict SNIP 2 validator must report.
#[test]
fn corpus_front_end_issues_are_exact() {
    let Some(root) = corpus() else { return };
    let npi = |n: &[u32]| n.iter().map(|i| format!("NM1@{i}.09 PatternMismatch")).collect::<Vec<_>>();
    let expect: [(&str, Vec<String>); 19] = [
        ("lfh/270_005010X279A1/dependent-health-benefit-check.270", vec![]),
        ("lfh/270_005010X279A1/subscriber-health-benefit-check.270", vec![]),
        ("lfh/271_005010X279A1/dependent-health-benefit-check.271", vec![]),
        ("lfh/271_005010X279A1/subscriber-health-benefit-check-error.271", vec![]),
        ("lfh/271_005010X279A1/subscriber-health-benefit-check.271", vec![]),
        ("lfh/276_005010X212/claim-level-status-ncpdp.276", npi(&[8])),
        ("lfh/276_005010X212/claim-level-status.276", npi(&[8, 26])),
        ("lfh/276_005010X212/information-receiver-level-status.276", npi(&[8])),
        ("lfh/276_005010X212/provider-level-status.276", npi(&[8, 18])),
        ("lfh/277_005010X212/claim-level-status-ncpdp.277", npi(&[8])),
        ("lfh/277_005010X212/claim-level-status.277", npi(&[8, 26])),
        ("lfh/277_005010X212/information-receiver-level-status.277", vec![]),
        ("lfh/277_005010X212/provider-level-status.277", npi(&[8, 18])),
        ("stupidedi/278/emergency-admission-request-for-review.edi", vec![]),
        ("stupidedi/278/emergency-admission-response-to-request-for-review.edi", vec![]),
        ("stupidedi/278/referral-request-for-review.edi", vec![]),
        ("stupidedi/278/referral-response-to-request-for-review.edi", vec![]),
        ("stupidedi/278/request-for-medical-services-reservation.edi", vec![]),
        ("stupidedi/278/response-to-medical-services-reservation.edi", vec![]),
    ];
    for (rel, want) in expect {
        let parsed = parse_file(&root.join(rel));
        assert_eq!(summary(&parsed[0].1), want, "{rel}");
        assert!(parsed[0].1.issues.iter().all(|i| i.position.byte > 0 && !i.message.is_empty()), "{rel}");
    }
    let p = &parse_file(&root.join("lfh/276_005010X212/claim-level-status.276"))[0].1;
    assert_eq!(
        p.issues[0].to_string(),
        "segment 10 (NM1, byte 329) element 09 in loop 2100C: NM109 is not a valid NPI (check digit)"
    );
}

/// What the corpus sets say, typed.
#[test]
fn corpus_front_end_models() {
    let Some(root) = corpus() else { return };
    let one = |rel: &str| parse_file(&root.join(rel)).remove(0).1.transaction;
    // 270 with a dependent: the inquiry is about the dependent, the subscriber identifies.
    let Transaction::EligibilityRequest(r) = one("lfh/270_005010X279A1/dependent-health-benefit-check.270") else {
        panic!("270")
    };
    assert_eq!(r.inquiries.len(), 1);
    let q = &r.inquiries[0];
    assert_eq!((q.subscriber.id.as_str(), q.trace.as_str()), ("11122333301", "93175-012547"));
    assert_eq!(q.dependent.as_ref().map(|d| d.entity.as_str()), Some("03"));
    assert_eq!(q.services[0].service_types, ["30"]);
    // 271 for the dependent: active, with the 2120C primary care provider inside LS/LE.
    let Transaction::Eligibility(r) = one("lfh/271_005010X279A1/dependent-health-benefit-check.271") else {
        panic!("271")
    };
    let c = r.coverages().next().expect("coverage");
    assert!(c.active && c.dependent.is_some());
    assert_eq!(c.plan, "GOLD 123 PLAN");
    assert_eq!(c.benefits[1].related[0].entity, "P3");
    assert_eq!(c.benefits[2].service_types.len(), 10);
    assert_eq!(c.benefits[3].amount.map(|a| a.to_string()), Some("10.00".into()));
    // 277 claim level: two claims under one provider, one dependent claim with a line.
    let Transaction::ClaimStatus(r) = one("lfh/277_005010X212/claim-level-status.277") else { panic!("277") };
    let got: Vec<(&str, &str)> =
        r.statuses.iter().map(|c| (c.claim_id.as_str(), c.statuses[0].category_code.as_str())).collect();
    assert_eq!(got, [("SM123456", "P3"), ("J0234567", "F0"), ("MA345678", "F2")]);
    assert_eq!(r.statuses[2].lines[0].procedure.code, "99203");
    assert!(r.statuses[2].patient.is_some());
    // 277 information receiver level: an E0 answer about the request itself.
    let Transaction::ClaimStatus(r) = one("lfh/277_005010X212/information-receiver-level-status.277") else {
        panic!("277")
    };
    assert_eq!(r.statuses[0].level, "receiver");
    assert_eq!(r.statuses[0].category, hipaa::StatusCategory::Error);
    // 276 with a service line.
    let Transaction::StatusRequest(r) = one("lfh/276_005010X212/provider-level-status.276") else { panic!("276") };
    assert_eq!(r.inquiries.len(), 2);
    assert_eq!(r.inquiries[1].lines[0].units.map(|u| u.to_string()), Some("1.00".into()));
    // 278 responses: certified with a window; pended.
    let Transaction::Review(r) = one("stupidedi/278/referral-response-to-request-for-review.edi") else {
        panic!("278")
    };
    let a = &r.authorizations[0];
    assert_eq!((a.status, a.number.as_str()), (hipaa::AuthStatus::Certified, "AUTH0001"));
    assert_eq!(a.valid_to.map(|d| d.to_string()), Some("2005-06-02".into()));
    let Transaction::Review(r) = one("stupidedi/278/request-for-medical-services-reservation.edi") else {
        panic!("278")
    };
    assert!(!r.is_response() && r.authorizations.is_empty());
    assert_eq!(r.events[0].services[0].procedure.as_ref().map(|p| p.code.as_str()), Some("99212"));
}
