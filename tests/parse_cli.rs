//! `painrcm parse`: typed JSON per set, and X12 emitted back from the loop trees byte for byte.

use assert_cmd::Command;
use std::path::Path;

fn painrcm() -> Command {
    Command::cargo_bin("painrcm").expect("binary builds")
}

#[test]
fn parse_x12_round_trips_every_sample_byte_exact() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("edi-samples");
    let mut n = 0;
    for entry in std::fs::read_dir(&dir).expect("edi-samples") {
        let path = entry.expect("entry").path();
        if path.extension().and_then(|e| e.to_str()).is_some_and(|e| e.len() == 3 && e.starts_with('8')) {
            let original = std::fs::read(&path).expect("readable");
            let out = painrcm().args(["parse", "--format", "x12"]).arg(&path).assert().code(0);
            assert_eq!(out.get_output().stdout, original, "{}", path.display());
            n += 1;
        }
    }
    assert_eq!(n, 5);
}

#[test]
fn parse_json_gives_typed_claims_with_exact_amounts() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("edi-samples/claims-20261127.837");
    let out = painrcm().arg("parse").arg(&path).assert().code(0);
    let stdout = String::from_utf8(out.get_output().stdout.clone()).expect("utf-8");
    let doc: serde_json::Value = serde_json::from_str(stdout.lines().next().expect("one set")).expect("json");
    assert_eq!(doc["transaction"]["type"], "claims");
    assert_eq!(doc["interchange_control"], "000001127");
    let c = &doc["transaction"]["claims"][0];
    assert_eq!(c["claim_id"], "PC1001");
    assert_eq!(c["charge"], "990");
    assert_eq!(c["diagnoses"], serde_json::json!(["M47816", "M7918"]));
    assert_eq!(
        c["lines"][1]["procedure"],
        serde_json::json!({"qualifier": "HC", "code": "64493", "modifiers": ["50"]})
    );
    assert_eq!(c["lines"][1]["charge"], "450");
    assert_eq!(c["other_payers"][0]["payer"]["id"], "AETNA1");
    assert_eq!(doc["issues"], serde_json::json!([]));
}

#[test]
fn parse_reports_issues_and_exits_1_on_an_unbalanced_claim() {
    let original =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("edi-samples/claims-20261127.837"))
            .expect("sample");
    let broken = original.replacen("CLM*PC1001*990*", "CLM*PC1001*991*", 1);
    let dir = tempfile::tempdir().expect("temp");
    let p = dir.path().join("broken.837");
    std::fs::write(&p, broken).expect("write");
    let out = painrcm().arg("parse").arg(&p).assert().code(1);
    let doc: serde_json::Value = serde_json::from_slice(&out.get_output().stdout).expect("json");
    assert_eq!(doc["issues"][0]["code"], "unbalanced");
    assert_eq!(doc["issues"][0]["message"], "CLM02 does not equal the sum of SV102 (4 lines sum to 990)");
    assert_eq!(doc["issues"][0]["position"]["element"], 2);
}
