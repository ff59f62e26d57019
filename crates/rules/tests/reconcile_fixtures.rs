//! Hand-built 837P + 835 pairs (fixtures/reconcile) with exact expected amounts.

use rules::reconcile::{read_claims, read_remits, reconcile, Category, ClaimIndex, Options, Reconciliation, Variance};
use rules::Reference;
use rust_decimal::Decimal;
use std::path::PathBuf;

fn fixture(name: &str) -> (String, Vec<u8>) {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/reconcile").join(name);
    (name.to_string(), std::fs::read(&p).unwrap_or_else(|e| panic!("reading {}: {e}", p.display())))
}

fn claims() -> ClaimIndex {
    let (n, b) = fixture("claims.837");
    ClaimIndex::new(read_claims(&n, &b).expect("claims read"))
}

fn run(eras: &[&str]) -> Reconciliation {
    let reference = Reference::embedded().expect("embedded reference");
    let mut remits = Vec::new();
    for e in eras {
        let (n, b) = fixture(e);
        remits.extend(read_remits(&n, &b).expect("835 read"));
    }
    let opts = Options { report_unremitted: false, ..Options::default() };
    reconcile(&reference, &remits, &claims(), &opts)
}

fn dec(s: &str) -> Decimal {
    s.parse().expect("decimal")
}

fn row<'a>(r: &'a Reconciliation, file: &str, claim: &str, line: u32) -> &'a Variance {
    r.variances
        .iter()
        .find(|v| v.file == file && v.claim_id == claim && v.line == Some(line))
        .unwrap_or_else(|| panic!("no row {file} {claim} line {line}: {:#?}", r.variances))
}

fn amounts(v: &Variance) -> (Option<String>, Option<String>, Option<String>, Option<&'static str>) {
    (
        v.contracted.map(|d| d.to_string()),
        v.paid.map(|d| d.to_string()),
        v.variance.map(|d| d.to_string()),
        v.category.map(Category::as_str),
    )
}

fn s(x: &str) -> Option<String> {
    Some(x.to_string())
}

#[test]
fn fixtures_are_valid_x12() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/reconcile");
    for entry in std::fs::read_dir(&dir).expect("fixture dir") {
        let path = entry.expect("entry").path();
        if !matches!(path.extension().and_then(|e| e.to_str()), Some("835" | "837")) {
            continue;
        }
        let bytes = std::fs::read(&path).expect("read");
        for ev in x12::StreamReader::new(bytes.as_slice()) {
            match ev.expect("in memory") {
                x12::Event::Set(set) => {
                    assert!(set.is_clean(), "{}: {:?}", path.display(), set.errors);
                    let parsed = hipaa::parse_set(&set);
                    let errors: Vec<String> = parsed
                        .issues
                        .iter()
                        .filter(|i| i.severity == x12::Severity::Error)
                        .map(|i| i.to_string())
                        .collect();
                    if path.ends_with("era-unbalanced.835") {
                        assert_eq!(errors.len(), 1, "{errors:?}");
                    } else {
                        assert!(errors.is_empty(), "{}: {errors:?}", path.display());
                    }
                }
                x12::Event::Issue(e) => assert!(e.severity() == x12::Severity::Warning, "{}: {e}", path.display()),
                _ => {}
            }
        }
    }
}

#[test]
fn worked_example_paid_correctly_is_all_paid_as_contracted() {
    let r = run(&["era-paid.835"]);
    let f = "era-paid.835";
    assert_eq!(amounts(row(&r, f, "RC2001", 1)), (s("130.00"), s("100.00"), s("0.00"), Some("paid-as-contracted")));
    assert_eq!(amounts(row(&r, f, "RC2001", 2)), (s("300.00"), s("300.00"), s("0.00"), Some("paid-as-contracted")));
    assert_eq!(amounts(row(&r, f, "RC2001", 3)), (s("165.00"), s("165.00"), s("0.00"), Some("paid-as-contracted")));
    assert_eq!(amounts(row(&r, f, "RC2001", 4)), (s("37.50"), s("37.50"), s("0.00"), Some("paid-as-contracted")));
    // PR is the patient's, not the payer's variance: 130 - 30 = 100 expected from the payer.
    assert_eq!(row(&r, f, "RC2001", 1).patient_responsibility, dec("30"));
    assert_eq!(row(&r, f, "RC2001", 1).action, "bill-patient");
    assert_eq!(amounts(row(&r, f, "RC2002", 2)), (s("60.00"), s("60.00"), s("0.00"), Some("paid-as-contracted")));
    assert!(r.variances.iter().all(|v| v.category == Some(Category::PaidAsContracted)), "{:#?}", r.variances);
    assert!(r.appeals.is_empty());
    // The explanation names the contract and the computation.
    let e = &row(&r, f, "RC2001", 4).explain;
    assert!(e.contains("multiple-procedure rank 2 of 2 by fee: 50% (BCBSTX contract) of $75.00 = $37.50"), "{e}");
    assert!(row(&r, f, "RC2001", 2).explain.contains("150% of the single fee = $300.00"));
    assert!(row(&r, f, "RC2001", 3).explain.contains("add-on code: exempt"));
}

#[test]
fn plb_is_reported_at_provider_level() {
    let r = run(&["era-paid.835"]);
    assert_eq!(r.provider_adjustments.len(), 1);
    let p = &r.provider_adjustments[0];
    assert_eq!(
        (p.provider_id.as_str(), p.reason.as_str(), p.description.as_str()),
        ("1747000010", "L6", "interest owed")
    );
    assert_eq!(p.amount, dec("-2.15"));
    assert!(!r.needs_person());
}

#[test]
fn mpr_over_reduction_variance_12_50_with_appeal() {
    let r = run(&["era-mpr-over-reduction.835"]);
    let v = row(&r, "era-mpr-over-reduction.835", "RC2001", 4);
    assert_eq!(amounts(v), (s("37.50"), s("25.00"), s("12.50"), Some("mpr-over-reduction")));
    assert_eq!((v.carc.as_str(), v.class.as_str(), v.action.as_str()), ("CO-59", "expected", "verify-reduction"));
    assert!(r.needs_person());
    assert_eq!(r.appeals.len(), 1);
    let a = &r.appeals[0];
    assert_eq!(a.shortfall(), dec("12.50"));
    assert_eq!(a.file_name(), "appeal-BCBSTX-BCBFIX0003.md");
    let letter = rules::denials::appeal_letter(a, chrono::NaiveDate::from_ymd_opt(2026, 12, 3).expect("date"));
    assert!(
        letter.contains(
            "| 4 | 20553-XS | 2026-11-03 | mpr-over-reduction | $75.00 | $37.50 | $0.00 | $37.50 | $25.00 | $12.50 |"
        ),
        "{letter}"
    );
    assert!(letter.contains("Total shortfall: **$12.50**"));
    assert!(letter.contains("50% (BCBSTX contract) of $75.00 = $37.50"));
    assert!(!a.file_name().contains("TESTPERSON"));
}

#[test]
fn imaging_guidance_paid_below_contract_is_imaging_underpaid() {
    let r = run(&["era-imaging-underpaid.835"]);
    let v = row(&r, "era-imaging-underpaid.835", "RC2002", 2);
    assert_eq!(amounts(v), (s("60.00"), s("42.00"), s("18.00"), Some("imaging-underpaid")));
    assert_eq!(v.action, "appeal");
    assert_eq!(
        amounts(row(&r, "era-imaging-underpaid.835", "RC2002", 1)),
        (s("75.00"), s("75.00"), s("0.00"), Some("paid-as-contracted"))
    );
    assert_eq!(r.appeals.len(), 1);
    assert_eq!(r.appeals[0].shortfall(), dec("18.00"));
}

#[test]
fn em_with_25_denied_co97_beside_procedure_is_bundled_underpaid() {
    let r = run(&["era-bundled.835"]);
    let v = row(&r, "era-bundled.835", "RC2003", 1);
    // MCRJL 99213 91.60; sequestration 2% = 1.83; expected payment 89.77, nothing paid.
    assert_eq!(amounts(v), (s("91.60"), s("0.00"), s("89.77"), Some("bundled-underpaid")));
    assert_eq!((v.carc.as_str(), v.class.as_str(), v.action.as_str()), ("CO-97", "soft", "appeal"));
    // The procedure line: 250 - PR 50 = 200, less 2% sequestration 4.00 = 196 paid.
    let p = row(&r, "era-bundled.835", "RC2003", 2);
    assert_eq!(amounts(p), (s("250.00"), s("196.00"), s("0.00"), Some("paid-as-contracted")));
    assert_eq!(p.sequestration, dec("4.00"));
    assert_eq!(r.appeals.len(), 1);
    assert_eq!(r.appeals[0].shortfall(), dec("89.77"));
    assert_eq!(r.denials.len(), 1);
}

#[test]
fn co_197_next_action_follows_the_payer() {
    let r = run(&["era-auth-denials.835"]);
    let aetna = row(&r, "era-auth-denials.835", "RC2004", 2);
    assert_eq!(amounts(aetna), (s("184.00"), s("0.00"), s("184.00"), Some("denied")));
    assert_eq!((aetna.carc.as_str(), aetna.class.as_str(), aetna.action.as_str()), ("CO-197", "soft", "retro-auth"));
    let bcbs = row(&r, "era-auth-denials.835", "RC2005", 2);
    assert_eq!(amounts(bcbs), (s("200.00"), s("0.00"), s("200.00"), Some("denied")));
    assert_eq!((bcbs.carc.as_str(), bcbs.action.as_str()), ("CO-197", "peer-to-peer"));
    assert_eq!(
        amounts(row(&r, "era-auth-denials.835", "RC2004", 1)),
        (s("529.00"), s("529.00"), s("0.00"), Some("paid-as-contracted"))
    );
    assert_eq!(
        amounts(row(&r, "era-auth-denials.835", "RC2005", 1)),
        (s("575.00"), s("575.00"), s("0.00"), Some("paid-as-contracted"))
    );
    assert!(r.appeals.is_empty(), "denials are not underpayments");
    let tables = rules::denials::root_causes(&r.denials);
    let top = tables.iter().find(|t| t.table == "pattern").expect("pattern");
    assert_eq!((top.key.as_str(), top.count, top.dollars), ("AETNA1 64636 CO-197", 1, dec("400.00")));
    let carc = tables.iter().find(|t| t.table == "by-carc").expect("by-carc");
    assert_eq!((carc.key.as_str(), carc.count, carc.dollars), ("CO-197", 2, dec("800.00")));
}

#[test]
fn reversal_and_correction_net_out() {
    let r = run(&["era-reversal-1.835", "era-reversal-2.835"]);
    // The original underpaid payment is taken back by the reversal: both are `reversed`.
    for (f, pcn) in [("era-reversal-1.835", "BCBFIX0006"), ("era-reversal-2.835", "BCBFIX0006")] {
        for line in [1, 2] {
            let v = r
                .variances
                .iter()
                .find(|v| v.file == f && v.payer_claim_id == pcn && v.line == Some(line))
                .expect("row");
            assert_eq!((v.category, v.variance.map(|d| d.to_string())), (Some(Category::Reversed), s("0.00")));
        }
    }
    let corr: Vec<_> = r.variances.iter().filter(|v| v.payer_claim_id == "BCBFIX0007").collect();
    assert_eq!(corr.len(), 2);
    assert!(corr.iter().all(|v| v.category == Some(Category::PaidAsContracted)));
    assert_eq!(corr[1].paid, Some(dec("60.00")));
    // 117 - 117 + 135: the correction stands.
    assert_eq!(r.net_paid, vec![("RC2006".to_string(), dec("135"))]);
    assert!(r.appeals.is_empty());
    assert!(!r.needs_person());
}

#[test]
fn unbalanced_835_is_reported_and_not_reconciled() {
    let r = run(&["era-unbalanced.835"]);
    assert_eq!(r.balancing_failures.len(), 1);
    assert!(r.balancing_failures[0].messages[0].contains("BPR02 = 153"), "{:?}", r.balancing_failures);
    assert!(r.variances.is_empty());
    assert!(r.needs_person());
}

#[test]
fn unmatched_remits_and_claims_are_reported() {
    let reference = Reference::embedded().expect("embedded");
    let (n, b) = fixture("era-paid.835");
    let remits = read_remits(&n, &b).expect("read");
    // No claims at all: every remitted line is an unmatched remit, nothing dropped.
    let r = reconcile(&reference, &remits, &ClaimIndex::default(), &Options::default());
    assert_eq!(r.variances.len(), 6);
    assert!(r.variances.iter().all(|v| v.category.is_none() && v.action == "match-remit"));
    assert!(r.needs_person());
    // All claims, one remit: the other claims wait for their remittance.
    let r = reconcile(&reference, &remits, &claims(), &Options::default());
    let waiting: Vec<_> =
        r.variances.iter().filter(|v| v.action == "await-remit").map(|v| v.claim_id.as_str()).collect();
    assert_eq!(waiting, vec!["RC2003", "RC2004", "RC2005", "RC2006"]);
    assert!(!r.needs_person());
}

#[test]
fn tolerance_setting_decides_paid_as_contracted() {
    let reference = Reference::embedded().expect("embedded");
    let (n, b) = fixture("era-mpr-over-reduction.835");
    let remits = read_remits(&n, &b).expect("read");
    let opts = Options { tolerance: dec("15"), report_unremitted: false, ..Options::default() };
    let r = reconcile(&reference, &remits, &claims(), &opts);
    assert!(r.variances.iter().all(|v| v.category == Some(Category::PaidAsContracted)));
}

#[test]
fn output_is_deterministic() {
    let all =
        ["era-paid.835", "era-mpr-over-reduction.835", "era-bundled.835", "era-auth-denials.835", "era-reversal-1.835"];
    let a = run(&all);
    let mut rev = all;
    rev.reverse();
    let b = run(&rev);
    assert_eq!(a.variances, b.variances);
    assert_eq!(a.denials, b.denials);
}

#[test]
fn variance_json_has_the_contract_columns_and_decimal_strings() {
    let r = run(&["era-mpr-over-reduction.835"]);
    let v = row(&r, "era-mpr-over-reduction.835", "RC2001", 4);
    let j = serde_json::to_value(v).expect("json");
    let keys: Vec<&str> = j.as_object().expect("object").keys().map(String::as_str).collect();
    let mut want = vec![
        "file",
        "claim_id",
        "payer_claim_id",
        "line",
        "code",
        "modifiers",
        "billed",
        "contracted",
        "allowed",
        "paid",
        "variance",
        "category",
        "carc",
        "class",
        "action",
    ];
    let mut got = keys.clone();
    got.sort_unstable();
    want.sort_unstable();
    assert_eq!(got, want);
    assert_eq!(j["variance"], "12.50");
    assert_eq!(j["category"], "mpr-over-reduction");
    assert_eq!(j["modifiers"], "XS");
}
