//! Every corpus 835 reconciles against the corpus 837P claims or reports its claims as
//! unmatched, without error; and the edi-samples drop folder gives the numbers its README lists.

use rules::reconcile::{read_claims, read_remits, reconcile, Category, ClaimIndex, Options};
use rules::Reference;
use std::path::{Path, PathBuf};

fn corpus() -> Option<PathBuf> {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus/lfh");
    p.is_dir().then_some(p)
}

fn files(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> =
        std::fs::read_dir(dir).map(|d| d.filter_map(|e| e.ok()).map(|e| e.path()).collect()).unwrap_or_default();
    v.sort();
    v
}

#[test]
fn every_corpus_835_reconciles_or_reports_unmatched() {
    let Some(root) = corpus() else {
        eprintln!("skipped: corpus not found next to the repository (../shared/corpus/lfh)");
        return;
    };
    let reference = Reference::embedded().expect("embedded");
    let mut claims = ClaimIndex::default();
    for f in files(&root.join("837_005010X222A2")) {
        let bytes = std::fs::read(&f).expect("read");
        if let Ok(c) = read_claims(&f.display().to_string(), &bytes) {
            claims.extend(c);
        }
    }
    assert!(!claims.is_empty(), "corpus 837s give claims");
    let eras = files(&root.join("835_005010X221A1"));
    assert!(!eras.is_empty());
    for f in eras {
        let name = f.display().to_string();
        let bytes = std::fs::read(&f).expect("read");
        let remits = read_remits(&name, &bytes).unwrap_or_else(|e| panic!("{e}"));
        let r = reconcile(&reference, &remits, &claims, &Options { report_unremitted: false, ..Options::default() });
        for set in &remits {
            if !set.balancing.is_empty() {
                assert!(
                    r.balancing_failures.iter().any(|b| b.set_control == set.control),
                    "{name}: unreported imbalance"
                );
                continue;
            }
            for clp in &set.remittance.claims {
                let rows: Vec<_> = r.variances.iter().filter(|v| v.claim_id == clp.claim_id.as_str()).collect();
                assert!(!rows.is_empty(), "{name}: claim payment dropped");
                let expected_rows = clp.services.len().max(1);
                assert!(rows.len() >= expected_rows, "{name}: {} rows for {expected_rows} lines", rows.len());
                for v in rows {
                    assert!(v.category.is_some() || !v.action.is_empty(), "{name}: row without category or action");
                }
            }
        }
    }
}

fn sample(name: &str) -> (String, Vec<u8>) {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../edi-samples").join(name);
    (name.to_string(), std::fs::read(&p).expect("sample"))
}

#[test]
fn edi_samples_give_the_readme_categories() {
    let reference = Reference::embedded().expect("embedded");
    let (n, b) = sample("claims-20261127.837");
    let claims = ClaimIndex::new(read_claims(&n, &b).expect("claims"));
    let mut remits = Vec::new();
    for e in ["era-20261201.835", "era-20261215-reversal.835"] {
        let (n, b) = sample(e);
        remits.extend(read_remits(&n, &b).expect("835"));
    }
    let r = reconcile(&reference, &remits, &claims, &Options { report_unremitted: false, ..Options::default() });
    let get = |claim: &str, line: u32, pcn: &str| {
        r.variances
            .iter()
            .find(|v| v.claim_id == claim && v.line == Some(line) && v.payer_claim_id == pcn)
            .unwrap_or_else(|| panic!("{claim} {line} {pcn}"))
    };
    let cat = |claim, line, pcn| get(claim, line, pcn).category.map(Category::as_str);
    for line in 1..=4 {
        assert_eq!(cat("PC1001", line, "BCB26334000101"), Some("paid-as-contracted"));
    }
    // PC1006 12-01 underpaid 76942 by 18.00, reversed on 12-15 and corrected.
    assert_eq!(cat("PC1006", 2, "BCB26334000102"), Some("reversed"));
    assert_eq!(cat("PC1006", 2, "BCB26345000217"), Some("paid-as-contracted"));
    let auth = get("PC1004", 2, "AET2611230042");
    assert_eq!((auth.category.map(Category::as_str), auth.action.as_str()), (Some("denied"), "retro-auth"));
    assert_eq!(auth.variance.map(|d| d.to_string()).as_deref(), Some("184.00"));
    let ncci = get("PC1005", 1, "26310600450100");
    assert_eq!((ncci.category.map(Category::as_str), ncci.action.as_str()), (Some("denied"), "corrected-claim"));
    assert_eq!(cat("PC1005", 2, "26310600450100"), Some("paid-as-contracted"));
    assert_eq!(r.provider_adjustments.len(), 1);

    let (n, b) = sample("era-20261202-underpaid.835");
    let r = reconcile(&reference, &read_remits(&n, &b).expect("835"), &claims, &Options::default());
    let v = r.variances.iter().find(|v| v.claim_id == "PC1001" && v.line == Some(4)).expect("line 4");
    assert_eq!(
        (v.category.map(Category::as_str), v.variance.map(|d| d.to_string()).as_deref()),
        (Some("mpr-over-reduction"), Some("12.50"))
    );
}
