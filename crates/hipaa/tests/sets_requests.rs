//! Requests built from practice data (270, 278, 276) validate clean with the crate's own
//! parsers and parse back to the values they were built from.

use chrono::NaiveDate;
use hipaa::x270::{build_270, Inquiry, ServiceInquiry};
use hipaa::x276::{build_276, LineInquiry, StatusInquiry};
use hipaa::x278::{build_278, Attachment, PatientEvent, ReviewService};
use hipaa::{EligibilityRequest, Party, Procedure, Review, StatusRequest, Transaction};
use x12::{Delimiters, EnvelopeWriter, Event, GroupHeader, InterchangeHeader, LineEnding, Segment, StreamReader};

fn date(y: i32, m: u32, d: u32) -> Option<NaiveDate> {
    NaiveDate::from_ymd_opt(y, m, d)
}

fn party(entity: &str, last: &str, first: &str, q: &str, id: &str) -> Party {
    Party {
        entity: entity.into(),
        last_or_org: last.into(),
        first: first.into(),
        id_qualifier: q.into(),
        id: id.into(),
    }
}

fn hc(code: &str, modifiers: &[&str]) -> Procedure {
    Procedure { qualifier: "HC".into(), code: code.into(), modifiers: modifiers.iter().map(|&m| m.into()).collect() }
}

/// Wraps bodies in ISA/GS/ST..SE/GE/IEA and parses every set back; asserts zero issues.
fn round(functional: &str, id: &str, version: &str, bodies: &[Vec<Segment>], d: Delimiters) -> Vec<Transaction> {
    let mut w = EnvelopeWriter::new(Vec::new(), d, LineEnding::Lf);
    let isa = InterchangeHeader {
        sender_qualifier: "ZZ".into(),
        sender_id: "LSSPG001".into(),
        receiver_qualifier: "ZZ".into(),
        receiver_id: "DEMOCH01".into(),
        date: "261201".into(),
        time: "0900".into(),
        usage: "T".into(),
        ..Default::default()
    };
    w.start_interchange(&isa, 42).expect("vec write");
    let gs = GroupHeader {
        functional_id: functional.into(),
        sender: "LSSPG001".into(),
        receiver: "DEMOCH01".into(),
        date: "20261201".into(),
        time: "0900".into(),
        version: version.into(),
        ..Default::default()
    };
    w.start_group(&gs, 42).expect("vec write");
    for (i, body) in bodies.iter().enumerate() {
        w.start_set(id, &format!("{:04}", i + 1), version).expect("vec write");
        for s in body {
            w.segment(s).expect("vec write");
        }
        w.end_set().expect("vec write");
    }
    let bytes = w.finish().expect("vec write");
    let mut out = Vec::new();
    for e in StreamReader::new(&bytes[..]) {
        match e.expect("in-memory read") {
            Event::Set(set) => {
                assert!(set.is_clean(), "{:?}", set.errors);
                let p = hipaa::parse_set(&set);
                assert!(p.issues.is_empty(), "{:?}", p.issues.iter().map(|i| i.to_string()).collect::<Vec<_>>());
                out.push(p.transaction);
            }
            Event::Issue(i) => panic!("{i}"),
            _ => {}
        }
    }
    assert_eq!(out.len(), bodies.len());
    out
}

fn practice() -> Party {
    party("1P", "LONE STAR SPINE AND PAIN GROUP", "", "XX", "1747000010")
}

#[test]
fn eligibility_request_round_trips() {
    let visit = Inquiry {
        payer: party("PR", "BLUE CROSS BLUE SHIELD OF TEXAS", "", "PI", "BCBSTX"),
        provider: practice(),
        subscriber: party("IL", "TESTPATIENT", "ALPHA", "MI", "BCB000000101"),
        subscriber_birth_date: date(1968, 4, 12),
        subscriber_gender: "F".into(),
        trace: "V1001".into(),
        trace_originator: "1741234567".into(),
        service_date: date(2026, 12, 3),
        services: vec![
            ServiceInquiry { service_types: vec!["30".into()], procedure: None },
            ServiceInquiry { service_types: vec![], procedure: Some(hc("64483", &[])) },
        ],
        ..Inquiry::default()
    };
    let mut dependent = visit.clone();
    dependent.dependent = Some(party("03", "TESTPATIENT", "JUNIOR", "", ""));
    dependent.dependent_birth_date = date(2010, 6, 1);
    dependent.services = vec![ServiceInquiry { service_types: vec!["30".into(), "1".into()], procedure: None }];
    let reqs: Vec<EligibilityRequest> = [visit, dependent]
        .into_iter()
        .map(|q| EligibilityRequest {
            reference: "V1001".into(),
            created: date(2026, 12, 1),
            time: "0900".into(),
            inquiries: vec![q],
        })
        .collect();
    let bodies: Vec<Vec<Segment>> = reqs.iter().map(build_270).collect();
    for d in
        [Delimiters::default(), Delimiters { element: b'|', repetition: Some(b'!'), component: b'>', segment: b'~' }]
    {
        let got = round("HS", "270", "005010X279A1", &bodies, d);
        for (g, want) in got.iter().zip(&reqs) {
            assert_eq!(g, &Transaction::EligibilityRequest(want.clone()));
        }
    }
}

#[test]
fn auth_request_round_trips() {
    let review = Review {
        purpose: "13".into(),
        reference: "AR2001".into(),
        created: date(2026, 12, 1),
        time: "0900".into(),
        umo: party("X3", "AETNA", "", "PI", "AETNA1"),
        requester: practice(),
        subscriber: party("IL", "TESTPATIENT", "DELTA", "MI", "AET000000201"),
        subscriber_birth_date: date(1959, 11, 30),
        subscriber_gender: "M".into(),
        events: vec![PatientEvent {
            trace: "AR2001".into(),
            trace_originator: "1741234567".into(),
            category: "HS".into(),
            certification_type: "I".into(),
            service_type: "2".into(),
            place_of_service: "24".into(),
            diagnoses: vec!["M47816".into(), "M5416".into()],
            from: date(2026, 12, 10),
            to: date(2027, 3, 9),
            attachments: vec![
                Attachment {
                    report_type: "OB".into(),
                    transmission: "EL".into(),
                    control: "MBB-2001-1".into(),
                    description: "MBB 1 20261020 RELIEF 85 PCT".into(),
                },
                Attachment {
                    report_type: "RR".into(),
                    transmission: "EL".into(),
                    control: "IMG-2001".into(),
                    description: "MRI LUMBAR".into(),
                },
            ],
            providers: vec![party("SJ", "PRACTITIONER", "TEST", "XX", "1508000027")],
            services: vec![
                ReviewService {
                    procedure: Some(hc("64635", &["LT"])),
                    unit_basis: "UN".into(),
                    units: Some(1.into()),
                    from: date(2026, 12, 10),
                    to: date(2027, 3, 9),
                    ..ReviewService::default()
                },
                ReviewService {
                    procedure: Some(hc("64636", &["LT"])),
                    unit_basis: "UN".into(),
                    units: Some(2.into()),
                    from: date(2026, 12, 10),
                    to: date(2026, 12, 10),
                    ..ReviewService::default()
                },
            ],
            ..PatientEvent::default()
        }],
        ..Review::default()
    };
    let got = round("HI", "278", "005010X217", &[build_278(&review)], Delimiters::default());
    assert_eq!(got[0], Transaction::Review(Box::new(review)));
}

#[test]
fn status_request_round_trips() {
    let req = StatusRequest {
        reference: "S3001".into(),
        created: date(2026, 12, 1),
        time: "0900".into(),
        inquiries: vec![StatusInquiry {
            payer: party("PR", "AETNA", "", "PI", "AETNA1"),
            receiver: party("41", "LONE STAR SPINE AND PAIN GROUP", "", "46", "LSSPG001"),
            provider: practice(),
            subscriber: party("IL", "TESTPATIENT", "ECHO", "MI", "AET000000301"),
            subscriber_birth_date: date(1970, 1, 2),
            subscriber_gender: "F".into(),
            trace: "PC3001".into(),
            claim_id: "PC3001".into(),
            payer_claim_id: "AET2611130077".into(),
            charge: Some("1250.00".parse().expect("literal")),
            from: date(2026, 11, 15),
            to: date(2026, 11, 15),
            lines: vec![LineInquiry {
                procedure: hc("64483", &["RT"]),
                charge: Some("1250.00".parse().expect("literal")),
                units: Some(1.into()),
                control: "PC3001L1".into(),
                from: date(2026, 11, 15),
                to: date(2026, 11, 15),
            }],
            ..StatusInquiry::default()
        }],
    };
    let got = round("HR", "276", "005010X212", &[build_276(&req)], Delimiters::default());
    assert_eq!(got[0], Transaction::StatusRequest(req));
}
