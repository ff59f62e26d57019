//! The sample drop's claims scrub to exactly the findings edi-samples/README.md documents.

use chrono::NaiveDate;
use rules::scrub::{scrub, Context, Input};
use rules::{MemoryHistory, Reference};
use std::path::Path;
use x12::{Event, StreamReader};

fn claims(name: &str) -> Vec<hipaa::Claim> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../edi-samples").join(name);
    let bytes = std::fs::read(path).expect("sample exists");
    let mut out = Vec::new();
    for ev in StreamReader::new(&bytes[..]) {
        if let Event::Set(set) = ev.expect("in-memory read") {
            if let hipaa::Transaction::Claims(c) = hipaa::parse_set(&set).transaction {
                out.extend(c.claims);
            }
        }
    }
    out
}

#[test]
fn sample_claims_scrub_as_documented() {
    let reference = Reference::embedded().expect("embedded reference");
    let mut history = MemoryHistory::new();
    history.add_claims(&claims("claims-20261016.837"));
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
