//! End-to-end tests of the binary: exit codes, output, and the acknowledgments it writes.

use assert_cmd::Command;
use std::path::PathBuf;

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures/x12").join(name)
}

fn painrcm() -> Command {
    Command::cargo_bin("painrcm").expect("because cargo builds the binary for its tests")
}

fn stdout(cmd: &mut Command, code: i32) -> String {
    let out = cmd.output().expect("because the binary runs");
    assert_eq!(out.status.code(), Some(code), "stderr: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).expect("because output is UTF-8")
}

#[test]
fn inspect_lists_envelopes_and_sets() {
    let out = stdout(painrcm().arg("inspect").arg(fixture("multi-interchange.x12")), 0);
    assert!(out.contains("3 interchange(s), 3 group(s), 4 set(s)"), "{out}");
    assert!(out.contains("ISA 000000106  ZZ:PAINCLINIC -> ZZ:CLEARINGHOUSE  261127 1200"), "{out}");
    assert!(out.contains("delimiters | - > '"), "{out}");
    assert!(out.contains("delimiters 0x1D 0x1E 0x1F 0x1C"), "{out}");
    assert!(out.contains("      ST 837 0002  20 segments  byte 1521"), "{out}");
}

#[test]
fn inspect_json_is_one_object_per_file() {
    let out = stdout(
        painrcm().args(["inspect", "--format", "json"]).arg(fixture("wrong-se01.x12")).arg(fixture("crlf.x12")),
        0,
    );
    let lines: Vec<serde_json::Value> =
        out.lines().map(|l| serde_json::from_str(l).expect("because each line is JSON")).collect();
    assert_eq!(lines.len(), 2);
    let set = &lines[0]["interchanges"][0]["groups"][0]["sets"][1];
    assert_eq!(set["control"], "0002");
    assert_eq!(set["errors"][0]["kind"], "count-mismatch");
    assert_eq!(set["errors"][0]["position"]["byte"], 1288);
    assert_eq!(lines[1]["interchanges"][0]["line_ending"], "crlf");
}

#[test]
fn inspect_unreadable_file_fails_with_2() {
    let out = painrcm().args(["inspect", "/nonexistent/file.837"]).output().expect("runs");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("reading /nonexistent/file.837"));
}

#[test]
fn bad_arguments_fail_with_2() {
    assert_eq!(painrcm().arg("inspect").output().expect("runs").status.code(), Some(2));
    assert_eq!(painrcm().arg("frobnicate").output().expect("runs").status.code(), Some(2));
    let bad_time = painrcm()
        .args(["validate", "--syntax-only", "--ack-time", "2026"])
        .arg(fixture("crlf.x12"))
        .output()
        .expect("runs");
    assert_eq!(bad_time.status.code(), Some(2));
}

#[test]
fn help_explains_commands_and_exit_codes() {
    let out = stdout(painrcm().arg("--help"), 0);
    for needle in ["inspect", "validate", "demo", "Exit codes", "needs a person", "never element values"] {
        assert!(out.contains(needle), "{needle}: {out}");
    }
}

#[test]
fn validate_valid_files_exits_0() {
    let out = stdout(
        painrcm()
            .args(["validate", "--syntax-only"])
            .arg(fixture("valid-837p.x12"))
            .arg(fixture("bom.x12"))
            .arg(fixture("multi-interchange.x12")),
        0,
    );
    assert!(out.contains("valid-837p.x12: valid"), "{out}");
    assert!(out.contains("warning file: byte 0: file starts with a byte-order mark"), "{out}");
}

#[test]
fn validate_errors_exit_1_and_never_print_values() {
    let out = stdout(painrcm().args(["validate", "--syntax-only"]).arg(fixture("truncated.x12")), 1);
    assert!(out.contains("error   set 0001: segment 20 (SV1, byte 673): file ends inside a segment"), "{out}");
    // The cut segment holds a procedure code and a charge: neither may be echoed.
    assert!(!out.contains("64493") && !out.contains("TESTPATIENT"), "{out}");
}

#[test]
fn unreadable_file_among_others_exits_2() {
    let out = painrcm()
        .args(["validate", "--syntax-only"])
        .arg(fixture("wrong-se01.x12"))
        .arg("/nonexistent/x.837")
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stdout).contains("wrong-se01.x12: INVALID"));
}

#[test]
fn validate_writes_exact_999_for_a_wrong_se01() {
    let dir = tempfile::tempdir().expect("temp dir");
    stdout(
        painrcm()
            .args(["validate", "--syntax-only"])
            .arg(fixture("wrong-se01.x12"))
            .arg("--ack-dir")
            .arg(dir.path())
            .args(["--ack-time", "202611271200"]),
        1,
    );
    let got = std::fs::read_to_string(dir.path().join("wrong-se01.x12.999")).expect("999 written");
    assert_eq!(
        got,
        "ISA*00*          *00*          *ZZ*CLEARINGHOUSE  *ZZ*PAINCLINIC     *261127*1200*^*00501*000000112*0*T*:~\n\
         GS*FA*CLEARINGHOUSE*PAINCLINIC*20261127*1200*112*X*005010X231A1~\n\
         ST*999*0001*005010X231A1~\n\
         AK1*HC*112*005010X222A1~\n\
         AK2*837*0001*005010X222A1~\n\
         IK5*A~\n\
         AK2*837*0002*005010X222A1~\n\
         IK5*R*4~\n\
         AK9*P*2*2*1~\n\
         SE*8*0001~\n\
         GE*1*112~\n\
         IEA*1*000000112~\n"
    );
    assert!(!dir.path().join("wrong-se01.x12.ta1").exists(), "no TA1 for a good envelope");
    let leftovers: Vec<_> = std::fs::read_dir(dir.path()).expect("dir").collect();
    assert_eq!(leftovers.len(), 1, "no temporary files left behind");
}

#[test]
fn validate_writes_ta1_for_a_bad_iea_control_number() {
    let dir = tempfile::tempdir().expect("temp dir");
    stdout(
        painrcm()
            .args(["validate", "--syntax-only"])
            .arg(fixture("bad-iea-control.x12"))
            .arg("--ack-dir")
            .arg(dir.path())
            .args(["--ack-time", "202611271200"]),
        1,
    );
    let got = std::fs::read_to_string(dir.path().join("bad-iea-control.x12.ta1")).expect("TA1 written");
    assert_eq!(
        got,
        "ISA*00*          *00*          *ZZ*CLEARINGHOUSE  *ZZ*PAINCLINIC     *261127*1200*^*00501*000000113*0*T*:~\n\
         TA1*000000113*261127*1200*R*001~\n\
         IEA*0*000000113~\n"
    );
}

#[test]
fn ta1_accepted_when_requested() {
    let dir = tempfile::tempdir().expect("temp dir");
    stdout(
        painrcm()
            .args(["validate", "--syntax-only"])
            .arg(fixture("ack-requested.x12"))
            .arg("--ack-dir")
            .arg(dir.path()),
        0,
    );
    let got = std::fs::read_to_string(dir.path().join("ack-requested.x12.ta1")).expect("TA1 written");
    assert!(got.contains("TA1*000000109*261127*1200*A*000~"), "{got}");
    let a999 = std::fs::read_to_string(dir.path().join("ack-requested.x12.999")).expect("999 written");
    assert!(a999.contains("AK9*A*1*1*1~"), "{a999}");
}

#[test]
fn validate_json_reports_validity() {
    let out =
        stdout(painrcm().args(["validate", "--syntax-only", "--format", "json"]).arg(fixture("missing-iea.x12")), 1);
    let v: serde_json::Value = serde_json::from_str(out.trim()).expect("JSON");
    assert_eq!(v["valid"], false);
    assert_eq!(v["interchanges"][0]["errors"][0]["kind"], "missing-trailer");
}

#[test]
fn demo_runs_from_any_directory_and_exits_0() {
    let dir = tempfile::tempdir().expect("temp dir");
    let out = stdout(painrcm().arg("demo").current_dir(dir.path()), 0);
    assert!(out.contains("all samples valid"), "{out}");
    assert!(out.contains("AK9*A"), "{out}");
}
