//! `painrcm eligibility|auth|status request`: requests from the sample CSVs validate clean,
//! parse back to the CSV's values, and control numbers never repeat across runs.

use assert_cmd::Command;
use std::path::{Path, PathBuf};

const CONFIG: &str = r#"
[interchange]
sender_qualifier = "ZZ"
sender_id = "LSSPG001"
receiver_qualifier = "ZZ"
receiver_id = "DEMOCH01"
usage = "T"

[submitter]
name = "Lone Star Spine and Pain Group"
id = "LSSPG001"

[billing_provider]
name = "Lone Star Spine and Pain Group"
npi = "1747000010"
tax_id = "741234567"

[control]
file = "control.txt"
"#;

fn painrcm() -> Command {
    Command::cargo_bin("painrcm").expect("binary builds")
}

fn sample(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("edi-samples").join(name)
}

fn setup() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("painrcm.toml"), CONFIG).expect("config");
    dir
}

fn run(dir: &Path, args: &[&str], input: &str, out: &str) -> Vec<hipaa::ParsedSet> {
    let cfg = dir.join("painrcm.toml");
    painrcm()
        .args(args)
        .arg(sample(input))
        .arg("--out")
        .arg(dir.join(out))
        .arg("--config")
        .arg(&cfg)
        .args(["--now", "202612010900"])
        .assert()
        .code(0);
    painrcm().arg("validate").arg(dir.join(out)).assert().code(0);
    let bytes = std::fs::read(dir.join(out)).expect("written");
    let mut sets = Vec::new();
    for e in x12::StreamReader::new(&bytes[..]) {
        if let x12::Event::Set(s) = e.expect("read") {
            assert!(s.is_clean());
            let p = hipaa::parse_set(&s);
            assert!(p.issues.is_empty(), "{:?}", p.issues.iter().map(|i| i.to_string()).collect::<Vec<_>>());
            sets.push(p);
        }
    }
    sets
}

fn isa13(path: &Path) -> String {
    let b = std::fs::read(path).expect("written");
    String::from_utf8_lossy(&b[90..99]).into_owned()
}

#[test]
fn eligibility_requests_from_the_schedule() {
    let dir = setup();
    let sets = run(dir.path(), &["eligibility", "request"], "schedule.csv", "out.270");
    assert_eq!(sets.len(), 3);
    let hipaa::Transaction::EligibilityRequest(r) = &sets[1].transaction else { panic!("270") };
    let q = &r.inquiries[0];
    assert_eq!(q.trace, "V20261203-02");
    assert_eq!(q.trace_originator, "1741234567");
    assert_eq!(q.subscriber.id, "AET771300456");
    assert_eq!(q.service_date.map(|d| d.to_string()), Some("2026-12-03".into()));
    let procs: Vec<&str> = q.services.iter().filter_map(|s| s.procedure.as_ref()).map(|p| p.code.as_str()).collect();
    assert_eq!(procs, ["64635", "64636"]);
    assert_eq!(q.services[0].service_types, ["30"]);
    // No procedure scheduled: the plan-level inquiry only.
    let hipaa::Transaction::EligibilityRequest(r) = &sets[2].transaction else { panic!("270") };
    assert_eq!(r.inquiries[0].services.len(), 1);
}

#[test]
fn auth_requests_carry_the_clinical_package() {
    let dir = setup();
    let sets = run(dir.path(), &["auth", "request"], "auth-requests.csv", "out.278");
    assert_eq!(sets.len(), 2);
    let hipaa::Transaction::Review(r) = &sets[0].transaction else { panic!("278") };
    assert!(!r.is_response());
    let e = &r.events[0];
    assert_eq!(e.diagnoses, ["M47816", "M5416"]);
    assert_eq!(e.place_of_service, "24");
    let units: Vec<(String, String)> = e
        .services
        .iter()
        .map(|s| {
            (
                s.procedure.as_ref().map(|p| p.display()).unwrap_or_default(),
                s.units.map(|u| u.to_string()).unwrap_or_default(),
            )
        })
        .collect();
    assert_eq!(units, [("64635-LT".to_string(), "1".to_string()), ("64636-LT".to_string(), "2".to_string())]);
    let pwk: Vec<(&str, &str)> =
        e.attachments.iter().map(|a| (a.report_type.as_str(), a.description.as_str())).collect();
    assert_eq!(
        pwk,
        [
            ("OB", "MEDIAL BRANCH BLOCK NOTE RELIEF 85 PCT"),
            ("RR", "IMAGING MRI LUMBAR 2026-09"),
            ("09", "CONSERVATIVE TREATMENT 12 WEEKS"),
        ]
    );
    assert_eq!(e.providers[0].id, "1508000027");
}

#[test]
fn status_requests_and_control_numbers_never_repeat() {
    let dir = setup();
    let sets = run(dir.path(), &["status", "request"], "status-claims.csv", "a.276");
    let hipaa::Transaction::StatusRequest(r) = &sets[0].transaction else { panic!("276") };
    let q = &r.inquiries[0];
    assert_eq!((q.claim_id.as_str(), q.payer_claim_id.as_str()), ("PC1006", "BCB26334000102"));
    assert_eq!(q.charge.map(|c| c.to_string()), Some("215.00".into()));
    assert_eq!((q.receiver.entity.as_str(), q.receiver.id.as_str()), ("41", "LSSPG001"));
    run(dir.path(), &["status", "request"], "status-claims.csv", "b.276");
    run(dir.path(), &["eligibility", "request"], "schedule.csv", "c.270");
    assert_eq!(isa13(&dir.path().join("a.276")), "000000001");
    assert_eq!(isa13(&dir.path().join("b.276")), "000000002");
    assert_eq!(isa13(&dir.path().join("c.270")), "000000003");
    assert_eq!(std::fs::read_to_string(dir.path().join("control.txt")).expect("counter").trim(), "3");
}

#[test]
fn overrides_and_bad_rows() {
    let dir = setup();
    let cfg = dir.path().join("painrcm.toml");
    painrcm()
        .args(["status", "request"])
        .arg(sample("status-claims.csv"))
        .arg("--out")
        .arg(dir.path().join("o.276"))
        .arg("--config")
        .arg(&cfg)
        .args(["--receiver-id", "OTHERCH", "--usage", "P", "--now", "202612010900"])
        .assert()
        .code(0);
    let b = std::fs::read(dir.path().join("o.276")).expect("written");
    assert_eq!(&b[54..69], b"OTHERCH        ");
    assert_eq!(b[102], b'P');
    // A delimiter inside a value: refused, naming row and column, not echoing the value.
    let bad = dir.path().join("bad.csv");
    std::fs::write(
        &bad,
        "claim_id,payer_id,payer_name,member_id,last_name,first_name,charge,from\nPC1*X,P,PAYER,M1,O*BRIEN,ANN,10,2026-11-01\n",
    )
    .expect("csv");
    let out = painrcm()
        .args(["status", "request"])
        .arg(&bad)
        .arg("--out")
        .arg(dir.path().join("x.276"))
        .arg("--config")
        .arg(&cfg)
        .assert()
        .code(2);
    let err = String::from_utf8_lossy(&out.get_output().stderr).into_owned();
    assert!(err.contains("row 1, column claim_id"), "{err}");
    assert!(!err.contains("BRIEN"), "{err}");
    assert!(!dir.path().join("x.276").exists());
}

#[test]
fn help_documents_the_csv_columns() {
    for (cmd, col) in [("eligibility", "procedures"), ("auth", "mbb_relief_pct"), ("status", "payer_claim_id")] {
        let out = painrcm().args([cmd, "request", "--help"]).assert().code(0);
        let text = String::from_utf8_lossy(&out.get_output().stdout).into_owned();
        assert!(text.contains(col), "{cmd}: {text}");
    }
}
