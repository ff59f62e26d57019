//! `painrcm scrub` end to end on the sample drop.

use assert_cmd::Command;
use std::path::Path;

fn samples() -> &'static Path {
    Box::leak(Path::new(env!("CARGO_MANIFEST_DIR")).join("edi-samples").into_boxed_path())
}

fn painrcm() -> Command {
    Command::cargo_bin("painrcm").expect("binary builds")
}

#[test]
fn scrub_holds_dirty_claims_and_writes_clean_batch() {
    let out = tempfile::tempdir().expect("temp dir");
    let assert = painrcm()
        .args(["scrub", "--as-of", "2026-11-27", "--format", "jsonl", "--history"])
        .arg(samples().join("claims-20261016.837"))
        .arg("--out")
        .arg(out.path())
        .arg(samples().join("claims-20261127.837"))
        .assert()
        .code(1);
    let stdout = String::from_utf8(assert.get_output().stdout.clone()).expect("utf-8");
    let first: serde_json::Value = serde_json::from_str(stdout.lines().next().expect("a finding")).expect("json line");
    assert_eq!(
        first,
        serde_json::json!({"file": "claims-20261127.837", "claim_id": "PC1002", "line": 1, "rule": "laterality",
            "severity": "warning", "message": "64483 can be bilateral but carries no 50, RT or LT",
            "fix": "add RT or LT (one side) or 50 (both sides)"})
    );
    assert_eq!(stdout.lines().count(), 9);
    // The clean batch holds exactly the three clean claims and scrubs clean itself.
    let clean = std::fs::read_to_string(out.path().join("clean.837")).expect("clean.837 written");
    let ids: Vec<&str> =
        clean.lines().filter(|l| l.starts_with("CLM*")).map(|l| l.split('*').nth(1).unwrap_or("")).collect();
    assert_eq!(ids, ["PC1001", "PC1004", "PC1006"]);
    assert!(clean.contains("SE*84*0001~"), "SE01 recounted");
    painrcm().arg("validate").arg(out.path().join("clean.837")).assert().code(0);
    painrcm()
        .args(["scrub", "--as-of", "2026-11-27", "--history"])
        .arg(samples().join("claims-20261016.837"))
        .arg(out.path().join("clean.837"))
        .assert()
        .code(0);
    let held = std::fs::read_to_string(out.path().join("held.csv")).expect("held.csv written");
    assert!(held.starts_with("file,claim_id,line,rule,severity,message,fix\n"));
    assert_eq!(held.lines().count(), 1 + 9, "every finding belongs to a held claim, warnings included");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(out.path().join("held.csv")).expect("exists").permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
}

#[test]
fn scrub_fails_cleanly_on_missing_file_and_bad_reference() {
    painrcm().args(["scrub", "/nonexistent/x.837"]).assert().code(2);
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(dir.path().join("codes.csv"), "code,description\n").expect("write");
    let a = painrcm()
        .args(["scrub", "--reference"])
        .arg(dir.path())
        .arg(samples().join("claims-20261127.837"))
        .assert()
        .code(2);
    let err = String::from_utf8(a.get_output().stderr.clone()).expect("utf-8");
    assert!(err.contains("codes.csv: line 1, column 1: expected columns code,description,family"), "{err}");
}
