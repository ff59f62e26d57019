//! Exact typed answers from the hand-written pain-practice fixtures under `fixtures/hipaa/`
//! and the sample drop folder `edi-samples/`: what the ledger and the worklists will read.

use chrono::NaiveDate;
use hipaa::x270::{EligibilityAnswer, FrequencyLimit};
use hipaa::{AuthStatus, ParsedSet, Procedure, StatusCategory, Transaction};
use rust_decimal::Decimal;
use std::path::Path;
use x12::{Event, StreamReader};

fn root() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
}

/// Parses every set of a file, checks it is syntactically clean, valid, and emits byte-exact.
fn parse(rel: &str) -> Vec<ParsedSet> {
    let bytes = std::fs::read(root().join(rel)).expect("fixture present");
    let mut out = Vec::new();
    for e in StreamReader::new(&bytes[..]) {
        match e.expect("in-memory read") {
            Event::Set(set) => {
                assert!(set.is_clean(), "{rel}: {:?}", set.errors);
                let p = hipaa::parse_set(&set);
                assert!(p.issues.is_empty(), "{rel}: {:?}", p.issues.iter().map(|i| i.to_string()).collect::<Vec<_>>());
                let mut again = Vec::new();
                hipaa::emit(set.segments(), set.delimiters, set.line_ending, &mut again);
                assert!(again == set.bytes, "{rel}: emit differs");
                out.push(p);
            }
            Event::Issue(i) => panic!("{rel}: {i}"),
            _ => {}
        }
    }
    out
}

fn d(s: &str) -> Decimal {
    s.parse().expect("test literal")
}

fn date(y: i32, m: u32, day: u32) -> Option<NaiveDate> {
    NaiveDate::from_ymd_opt(y, m, day)
}

fn hc(code: &str) -> Procedure {
    Procedure { qualifier: "HC".into(), code: code.into(), modifiers: vec![] }
}

fn coverage(rel: &str) -> hipaa::Coverage {
    let sets = parse(rel);
    let Transaction::Eligibility(r) = &sets[0].transaction else { panic!("{rel}: not a 271") };
    assert_eq!(r.answers.len(), 1, "{rel}");
    match &r.answers[0] {
        EligibilityAnswer::Coverage(c) => c.clone(),
        other => panic!("{rel}: {other:?}"),
    }
}

#[test]
fn esi_frequency_limit_four_per_year_two_used() {
    let c = coverage("fixtures/hipaa/271-esi-frequency-limit.271");
    assert!(c.active);
    assert_eq!(c.in_network, None, "no active EB carries EB12");
    assert_eq!(c.trace, "ELG-ESI-01");
    assert_eq!(c.plan, "BLUE PPO GOLD 1500");
    assert_eq!(c.plan_begin, date(2026, 1, 1));
    assert_eq!(c.deductible_remaining, Some(d("250.50")));
    assert_eq!(c.out_of_pocket_remaining, Some(d("3125.75")));
    assert_eq!(
        c.frequency_limits,
        vec![FrequencyLimit {
            procedure: Some(hc("62323")),
            service_types: vec![],
            unit: "VS".into(),
            limit: d("4"),
            period: "23".into(),
            used: Some(d("2")),
            remaining: Some(d("2")),
        }]
    );
    assert_eq!(c.limit_for("62323").and_then(|f| f.remaining), Some(d("2")));
    assert_eq!(c.auth_required("62323"), None);
    assert!(c.procedures[0].covered);
    assert!(c.errors.is_empty());
}

#[test]
fn rfa_needs_authorization_mbb_does_not() {
    let c = coverage("fixtures/hipaa/271-rfa-auth-required.271");
    assert!(c.active);
    assert_eq!(c.in_network, Some(true));
    assert_eq!(c.deductible_remaining, Some(d("0")));
    assert_eq!(c.auth_required("64635"), Some(true));
    assert_eq!(c.auth_required("64636"), Some(true));
    assert_eq!(c.auth_required("64493"), Some(false));
    assert_eq!(c.auth_required("20552"), None);
    let rfa = &c.procedures[0];
    assert_eq!(rfa.messages, ["PRIOR AUTHORIZATION REQUIRED FOR FACET RADIOFREQUENCY ABLATION"]);
    // The utilization review organization named inside LS/LE (2120C) stays with its benefit.
    let mbb = c.benefits.iter().find(|b| b.procedure.as_ref().is_some_and(|p| p.code == "64493")).expect("64493");
    assert_eq!(mbb.related.len(), 1);
    assert_eq!(mbb.related[0].entity, "X3");
    assert_eq!(mbb.related[0].id, "UMO1");
    assert!(c.frequency_limits.is_empty());
}

#[test]
fn out_of_network_uses_out_of_network_accumulators() {
    let c = coverage("fixtures/hipaa/271-out-of-network.271");
    assert!(c.active);
    assert_eq!(c.in_network, Some(false));
    assert_eq!(c.plan, "BLUE HMO SELECT");
    assert_eq!(c.deductible_remaining, Some(d("4000")));
    assert_eq!(c.out_of_pocket_remaining, Some(d("9000")));
    let coins = c.benefits.iter().find(|b| b.code == "A").expect("co-insurance");
    assert_eq!(coins.percent, Some(d("0.5")));
    assert_eq!(coins.messages, ["PROVIDER IS NOT IN THE MEMBER NETWORK"]);
}

#[test]
fn sample_271_from_the_drop_folder() {
    let c = coverage("edi-samples/eligibility-20261126.271");
    assert!(c.active);
    assert_eq!(c.in_network, Some(true));
    assert_eq!(c.deductible_remaining, Some(d("600")));
    let esi = c.limit_for("62323").expect("ESI limit");
    assert_eq!((esi.limit, esi.used, esi.remaining), (d("4"), Some(d("2")), Some(d("2"))));
    assert_eq!(c.auth_required("64635"), Some(true));
}

fn authorization(rel: &str) -> hipaa::Authorization {
    let sets = parse(rel);
    let Transaction::Review(r) = &sets[0].transaction else { panic!("{rel}: not a 278") };
    assert!(r.is_response());
    assert_eq!(r.authorizations.len(), 1);
    r.authorizations[0].clone()
}

#[test]
fn certified_three_units_with_validity_window() {
    let a = authorization("fixtures/hipaa/278-certified-3-units.278");
    assert_eq!(a.status, AuthStatus::Certified);
    assert_eq!(a.number, "AUTH-2026-7731");
    assert_eq!(a.trace, "AUTHREQ-CERT-01");
    assert_eq!((a.valid_from, a.valid_to), (date(2026, 12, 1), date(2027, 2, 28)));
    assert_eq!(a.services.len(), 1);
    assert_eq!(a.services[0].procedure, hc("64483"));
    assert_eq!(a.services[0].units, Some(d("3")));
    assert_eq!(a.services[0].status, AuthStatus::Certified);
    assert_eq!(a.units_approved("64483"), d("3"));
    assert!(a.covers(NaiveDate::from_ymd_opt(2027, 1, 15).expect("date")));
    assert!(!a.covers(NaiveDate::from_ymd_opt(2027, 3, 1).expect("date")));
}

#[test]
fn denied_with_reason() {
    let a = authorization("fixtures/hipaa/278-denied.278");
    assert_eq!(a.status, AuthStatus::Denied);
    assert_eq!(a.action, "A3");
    assert_eq!(a.reason, "35");
    assert_eq!(a.number, "");
    assert_eq!(a.services[0].status, AuthStatus::Denied);
    assert_eq!(a.units_approved("64635"), d("0"));
    assert_eq!((a.valid_from, a.valid_to), (date(2026, 12, 10), date(2026, 12, 10)));
}

#[test]
fn pended_waits_for_records() {
    let sets = parse("fixtures/hipaa/278-pended.278");
    let Transaction::Review(r) = &sets[0].transaction else { panic!("not a 278") };
    let a = &r.authorizations[0];
    assert_eq!(a.status, AuthStatus::Pended);
    assert_eq!(a.reason, "0U");
    assert_eq!(r.events[0].attachments[0].control, "MBB-PC2001-1");
    assert!(!a.status.approved());
}

#[test]
fn sample_278_certifies_rfa_and_additional_joints() {
    let a = authorization("edi-samples/auth-20261120.278");
    assert_eq!(a.status, AuthStatus::Certified);
    assert_eq!(a.number, "AET-RFA-2026-00421");
    assert_eq!((a.valid_from, a.valid_to), (date(2026, 11, 20), date(2027, 2, 19)));
    assert_eq!(a.units_approved("64635"), d("1"));
    assert_eq!(a.units_approved("64636"), d("2"));
}

fn status(rel: &str) -> Vec<hipaa::ClaimStatus> {
    let sets = parse(rel);
    let Transaction::ClaimStatus(r) = &sets[0].transaction else { panic!("{rel}: not a 277") };
    r.statuses.clone()
}

#[test]
fn a7_rejected_claim_and_line() {
    let s = status("fixtures/hipaa/277-a7-rejected.277");
    assert_eq!(s.len(), 1);
    let c = &s[0];
    assert_eq!(c.level, "claim");
    assert_eq!(c.category, StatusCategory::Rejected);
    assert!(c.category.needs_action());
    assert_eq!(c.claim_id, "PC3001");
    assert_eq!(c.payer_claim_id, "BCB26335000001");
    assert_eq!(c.trace, "STS-A7-01");
    let p = c.primary().expect("status");
    assert_eq!((p.category_code.as_str(), p.code.as_str(), p.entity.as_str()), ("A7", "454", "QC"));
    assert_eq!(p.meaning, "acknowledgement/rejected for invalid information");
    assert_eq!((p.charge, p.paid), (Some(d("1250.00")), Some(d("0"))));
    assert_eq!(p.date, date(2026, 12, 1));
    assert_eq!(c.from, date(2026, 11, 15));
    assert_eq!(c.lines.len(), 1);
    assert_eq!(c.lines[0].procedure, hc("64483"));
    assert_eq!(c.lines[0].control, "PC3001L1");
    assert_eq!(c.lines[0].statuses[0].category, StatusCategory::Rejected);
}

#[test]
fn p1_pending() {
    let s = status("fixtures/hipaa/277-p1-pending.277");
    assert_eq!(s[0].category, StatusCategory::Pending);
    assert!(!s[0].category.needs_action());
    assert_eq!(s[0].claim_id, "PC3002");
    assert_eq!(s[0].primary().map(|p| p.meaning.as_str()), Some("pending/in process"));
}

#[test]
fn f2_denied() {
    let s = status("fixtures/hipaa/277-f2-denied.277");
    let p = s[0].primary().expect("status");
    assert_eq!(s[0].category, StatusCategory::Denied);
    assert_eq!((p.code.as_str(), p.paid, p.adjudicated), ("88", Some(d("0.00")), date(2026, 11, 25)));
    assert_eq!((s[0].from, s[0].to), (date(2026, 11, 3), date(2026, 11, 3)));
}

#[test]
fn sample_277_from_the_drop_folder() {
    let s = status("edi-samples/status-20261128.277");
    let got: Vec<(&str, StatusCategory)> = s.iter().map(|c| (c.claim_id.as_str(), c.category)).collect();
    assert_eq!(
        got,
        [("PC1007", StatusCategory::Rejected), ("PC1006", StatusCategory::Pending), ("PC1008", StatusCategory::Denied)]
    );
}

#[test]
fn claim_acknowledgment_277ca() {
    let sets = parse("fixtures/hipaa/277ca-rejected.277");
    let Transaction::ClaimStatus(r) = &sets[0].transaction else { panic!("not a 277CA") };
    assert_eq!(r.kind, "277CA");
    assert_eq!((r.received, r.processed), (date(2026, 11, 30), date(2026, 12, 1)));
    let levels: Vec<(&str, &str, StatusCategory)> =
        r.statuses.iter().map(|c| (c.level.as_str(), c.claim_id.as_str(), c.category)).collect();
    assert_eq!(
        levels,
        [
            ("receiver", "", StatusCategory::Accepted),
            ("provider", "", StatusCategory::Unknown),
            ("claim", "PC4001", StatusCategory::Rejected),
            ("claim", "PC4002", StatusCategory::Accepted),
        ]
    );
    assert_eq!(r.statuses[2].clearinghouse_trace, "CH000000401");
    assert_eq!(r.statuses[2].primary().map(|p| p.entity.as_str()), Some("85"));
    assert_eq!(r.statuses[3].payer_claim_id, "BCB26335000402");
}

#[test]
fn acknowledgment_999_partial() {
    let sets = parse("fixtures/hipaa/999-partial.999");
    let Transaction::Acknowledgment(a) = &sets[0].transaction else { panic!("not a 999") };
    assert_eq!((a.functional_id.as_str(), a.group_control.as_str()), ("HC", "1127"));
    assert_eq!((a.status.as_str(), a.accepted), ("P", false));
    assert_eq!((a.included, a.received, a.accepted_sets), (2, 2, 1));
    assert!(a.set("0001").is_some_and(|s| s.accepted));
    let bad = a.set("0002").expect("second set");
    assert!(!bad.accepted);
    assert_eq!(bad.codes, ["5"]);
    assert_eq!(bad.errors.len(), 2);
    assert_eq!(
        (bad.errors[0].segment_id.as_str(), bad.errors[0].position, bad.errors[0].loop_id.as_str()),
        ("CLM", 12, "2300")
    );
    let e = &bad.errors[0].elements[0];
    assert_eq!((e.position, e.component, e.reference.as_str(), e.code.as_str()), (5, Some(1), "1331", "7"));
    assert_eq!(bad.errors[1].context, ["CLM01:PC1010"]);
    assert_eq!(bad.errors[1].elements[0].position, 9);
}

/// A 999 read back from the one `x12::GroupAck` builds: the two halves agree.
#[test]
fn acknowledgment_999_from_our_own_builder() {
    use x12::{Delimiters, EnvelopeWriter, GroupAck, GroupHeader, InterchangeHeader, LineEnding, SetAck};
    let mut g = GroupAck {
        header: GroupHeader {
            functional_id: "HC".into(),
            control: "77".into(),
            version: "005010X222A1".into(),
            ..Default::default()
        },
        ..Default::default()
    };
    g.sets.push(SetAck::new("837", "0001", "005010X222A1"));
    let mut w = EnvelopeWriter::new(Vec::new(), Delimiters::default(), LineEnding::Lf);
    let isa = InterchangeHeader {
        sender_qualifier: "ZZ".into(),
        sender_id: "A".into(),
        receiver_qualifier: "ZZ".into(),
        receiver_id: "B".into(),
        date: "261201".into(),
        time: "0900".into(),
        ..Default::default()
    };
    w.start_interchange(&isa, 5).expect("vec write");
    let gs = GroupHeader {
        functional_id: "FA".into(),
        sender: "A".into(),
        receiver: "B".into(),
        date: "20261201".into(),
        time: "0900".into(),
        version: "005010X231A1".into(),
        ..Default::default()
    };
    w.start_group(&gs, 5).expect("vec write");
    w.start_set("999", "0001", "005010X231A1").expect("vec write");
    for s in g.segments() {
        w.segment(&s).expect("vec write");
    }
    w.end_set().expect("vec write");
    let bytes = w.finish().expect("vec write");
    let set = StreamReader::new(&bytes[..])
        .find_map(|e| match e.expect("read") {
            Event::Set(s) => Some(s),
            _ => None,
        })
        .expect("one set");
    let p = hipaa::parse_set(&set);
    assert!(p.issues.is_empty(), "{:?}", p.issues);
    let Transaction::Acknowledgment(a) = p.transaction else { panic!("not a 999") };
    assert!(a.accepted);
    assert_eq!(a.set("0001").map(|s| s.accepted), Some(true));
}

/// The 271 AAA error response of the public corpus becomes a typed rejection.
#[test]
fn corpus_271_aaa_is_a_typed_rejection() {
    let p = root().join("../shared/corpus/lfh/271_005010X279A1/subscriber-health-benefit-check-error.271");
    if !p.exists() {
        eprintln!("skipping: {} not present", p.display());
        return;
    }
    let bytes = std::fs::read(&p).expect("readable");
    let set = StreamReader::new(&bytes[..])
        .find_map(|e| match e.expect("read") {
            Event::Set(s) => Some(s),
            _ => None,
        })
        .expect("one set");
    let parsed = hipaa::parse_set(&set);
    let Transaction::Eligibility(r) = parsed.transaction else { panic!("not a 271") };
    assert_eq!(r.coverages().count(), 0);
    let rej: Vec<_> = r.rejections().collect();
    assert_eq!(rej.len(), 1);
    assert_eq!(rej[0].level, "receiver");
    let e = &rej[0].errors[0];
    assert_eq!(
        (e.loop_id.as_str(), e.valid_request, e.reason.as_str(), e.follow_up.as_str()),
        ("2100B", true, "50", "N")
    );
    assert_eq!(e.reason_text, "provider ineligible for inquiries");
    assert_eq!(e.follow_up_text, "resubmission not allowed");
}
