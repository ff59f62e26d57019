//! `painrcm demo` runs the whole night on the built-in samples, from any directory.

use assert_cmd::Command;

#[test]
fn demo_validates_scrubs_reconciles_and_classifies() {
    let out = tempfile::tempdir().expect("temp dir");
    let assert = Command::cargo_bin("painrcm")
        .expect("binary builds")
        .current_dir(out.path())
        .args(["demo", "--out"])
        .arg(out.path().join("night"))
        .assert()
        .code(0);
    let stdout = String::from_utf8(assert.get_output().stdout.clone()).expect("utf-8");
    for needle in [
        "all samples valid",
        "8 claims: 3 clean, 5 held, 9 findings",
        "20553-XS   120.00     37.50    25.00   25.00     12.50  mpr-over-reduction",
        "24 lines, 3 need a person, $286.27 owed to the practice; 1 appeal letters, 2 secondary claims",
        "AETNA1 64636 CO-197      1       $400.00  retro-auth",
    ] {
        assert!(stdout.contains(needle), "missing {needle:?} in\n{stdout}");
    }
    for f in ["clean.837", "held.csv", "variances.csv", "secondary.837"] {
        assert!(out.path().join("night").join(f).is_file(), "{f}");
    }
}
