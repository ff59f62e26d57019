//! The sample drop's claims scrub to exactly the findings edi-samples/README.md documents.

use chrono::NaiveDate;
use rules::scrub::{scrub, Context, Input};
use rules::{MemoryHistory, Reference};
use std::path::Path;
use x12::{Event, StreamReader};

fn transactions(name: &str) -> Vec<hipaa::Transaction> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../edi-samples").join(name);
    let bytes = std::fs::read(path).expect("sample exists");
    StreamReader::new(&bytes[..])
        .filter_map(|ev| match ev.expect("in-memory read") {
            Event::Set(set) => Some(hipaa::parse_set(&set).transaction),
            _ => None,
        })
        .collect()
}

fn claims(name: &str) -> Vec<hipaa::Claim> {
    transactions(name)
        .into_iter()
        .flat_map(|t| match t {
            hipaa::Transaction::Claims(c) => c.claims,
            _ => vec![],
        })
        .collect()
}

/// History from the 10-16 claims, the 11-20 authorization and the 11-26 eligibility answer.
fn history() -> MemoryHistory {
    let mut history = MemoryHistory::new();
    history.add_claims(&claims("claims-20261016.837"));
    for t in transactions("auth-20261120.278").into_iter().chain(transactions("eligibility-20261126.271")) {
        match t {
            hipaa::Transaction::Review(r) => history.add_review(&r),
            hipaa::Transaction::Eligibility(e) => history.add_eligibility(&e),
            other => panic!("unexpected {other:?}"),
        }
    }
    history
}

#[test]
fn sample_claims_scrub_as_documented() {
    let reference = Reference::embedded().expect("embedded reference");
    let history = history();
    assert_eq!(history.authorizations.values().flatten().count(), 2, "64635 x1 and 64636 x2 certified");
    assert_eq!(history.eligibility.values().flatten().filter(|e| e.active).count(), 1);
    let night = claims("claims-20261127.837");
    let inputs: Vec<Input<'_>> = night.iter().map(|c| Input { file: "claims-20261127.837", claim: c }).collect();
    let today = NaiveDate::from_ymd_opt(2026, 11, 27).expect("valid date");
    let findings = scrub(&inputs, &Context { reference: &reference, history: &history, today });
    let got: Vec<String> = findings
        .iter()
        .map(|f| {
            format!(
                "{} {} {} {}",
                f.claim_id,
                f.line.map(|l| l.to_string()).unwrap_or("-".into()),
                f.rule,
                f.severity.as_str()
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            "PC1002 1 laterality warning",
            "PC1002 2 imaging-included error",
            "PC1003 1 imaging-code-choice error",
            "PC1005 1 modifier-25-missing error",
            "PC1005 2 laterality warning",
            "PC1007 2 code-deleted error",
            "PC1008 1 bilateral-style error",
            "PC1008 1 laterality error",
            "PC1008 1 mue-units error",
        ]
    );
}

#[test]
fn authorization_on_file_is_checked_against_the_claim() {
    let reference = Reference::embedded().expect("embedded reference");
    let history = history();
    let today = NaiveDate::from_ymd_opt(2026, 11, 27).expect("valid date");
    let mut night = claims("claims-20261127.837");
    let rfa = night.iter_mut().find(|c| c.claim_id == "PC1004").expect("PC1004");
    // Three units of 64636 against two certified.
    rfa.lines[1].units = rust_decimal::Decimal::from(3);
    let ctx = Context { reference: &reference, history: &history, today };
    let f = rules::scrub_claim(rfa, &ctx);
    let auth: Vec<_> =
        f.iter().filter(|f| f.rule.starts_with("auth")).map(|f| (f.rule, f.line, f.message().to_string())).collect();
    assert_eq!(auth, [("auth-mismatch", Some(2), "3 units of 64636 billed, 2 authorized".to_string())]);
    rfa.lines[1].units = rust_decimal::Decimal::ONE;
    rfa.prior_auth = "AET-RFA-2026-99999".into();
    let f = rules::scrub_claim(rfa, &ctx);
    assert_eq!(f.iter().filter(|f| f.rule == "auth-mismatch").count(), 2);
    rfa.prior_auth.clear();
    let f = rules::scrub_claim(rfa, &ctx);
    assert_eq!(
        f.iter().filter(|f| f.rule == "auth-missing").map(|f| f.fix().to_string()).collect::<Vec<_>>(),
        ["add REF*G1 AET-RFA-2026-00421 to the claim"; 2]
    );
}
