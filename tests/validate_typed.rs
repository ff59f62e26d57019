//! `painrcm validate` at SNIP 1-3: implementation-guide and balancing errors reach the 999.

use assert_cmd::Command;
use std::path::Path;

fn painrcm() -> Command {
    Command::cargo_bin("painrcm").expect("binary builds")
}

/// The sample 837 with its one set repeated as ST 0002 whose first claim does not balance.
fn two_sets_one_unbalanced() -> String {
    let original =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("edi-samples/claims-20261127.837"))
            .expect("sample");
    let st = original.find("ST*837*").expect("ST");
    let se_end = original.find("GE*").expect("GE");
    let set = &original[st..se_end];
    let second = set.replace("ST*837*0001*", "ST*837*0002*").replace("*0001~", "*0002~").replacen(
        "CLM*PC1001*990*",
        "CLM*PC1001*991*",
        1,
    );
    let doubled = format!("{}{}{}{}", &original[..se_end], second, "GE*2*", &original[se_end + 5..]);
    doubled
}

#[test]
fn typed_999_partially_accepts_with_ik3_ik4_for_the_unbalanced_claim() {
    let dir = tempfile::tempdir().expect("temp dir");
    let input = dir.path().join("night.837");
    std::fs::write(&input, two_sets_one_unbalanced()).expect("write");
    let out = painrcm()
        .args(["validate", "--ack-time", "202611271200", "--ack-dir"])
        .arg(dir.path())
        .arg(&input)
        .assert()
        .code(1);
    let stdout = String::from_utf8(out.get_output().stdout.clone()).expect("utf-8");
    assert!(stdout.contains("CLM02 does not equal the sum of SV102 (4 lines sum to 990)"), "{stdout}");
    let ack = std::fs::read_to_string(dir.path().join("night.837.999")).expect("999 written");
    let body: Vec<&str> = ack.lines().skip(2).collect();
    assert_eq!(
        body,
        [
            "ST*999*0001*005010X231A1~",
            "AK1*HC*1127*005010X222A1~",
            "AK2*837*0001*005010X222A1~",
            "IK5*A~",
            "AK2*837*0002*005010X222A1~",
            "IK3*CLM*19*2300*8~",
            "IK4*2**I12~",
            "IK5*R*5~",
            "AK9*P*2*2*1~",
            "SE*10*0001~",
            "GE*1*1127~",
            "IEA*1*000001127~",
        ]
    );
}

#[test]
fn syntax_only_skips_the_typed_checks() {
    let dir = tempfile::tempdir().expect("temp dir");
    let input = dir.path().join("night.837");
    std::fs::write(&input, two_sets_one_unbalanced()).expect("write");
    painrcm().args(["validate", "--syntax-only"]).arg(&input).assert().code(0);
}

#[test]
fn every_sample_validates_clean_at_snip_3() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("edi-samples");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .expect("samples")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().and_then(|e| e.to_str()).is_some_and(|e| e.starts_with(|c: char| c.is_ascii_digit())))
        .collect();
    files.sort();
    assert!(files.len() >= 8);
    painrcm().arg("validate").args(&files).assert().code(0);
}
