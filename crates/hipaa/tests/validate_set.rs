//! `validate_set` (checks without the typed model, what `painrcm validate` runs) reports
//! exactly the issues `parse_set` reports, and the loop tree gives back every segment in file
//! order, on every set the project ships and every corpus set. The borrowed view of claims,
//! remittances, 271s and 277s (`view_set`) holds what the owned model holds, as the same JSON.

mod common;

use std::path::Path;

fn check_dir(dir: &Path, sets_seen: &mut usize, with_issues: &mut usize) {
    for path in common::files(dir) {
        if path.is_dir() {
            check_dir(&path, sets_seen, with_issues);
            continue;
        }
        let Ok(bytes) = std::fs::read(&path) else { continue };
        for set in common::sets(&bytes) {
            let parsed = hipaa::parse_set(&set);
            assert_eq!(hipaa::validate_set(&set), parsed.issues, "{} set {}", path.display(), set.control);
            // The loop tree keeps every segment, and walks them back in file order.
            let read: Vec<_> = set.segments().collect();
            assert_eq!(hipaa::tree_segments(&set), read, "{} set {}", path.display(), set.control);
            if let Some((view, issues)) = hipaa::view_set(&set) {
                assert_eq!(issues, parsed.issues, "{} set {}", path.display(), set.control);
                let owned = serde_json::to_string(&parsed.transaction).expect("serializes");
                assert_eq!(serde_json::to_string(&view).expect("serializes"), owned, "{}", path.display());
            } else {
                assert!(!matches!(
                    parsed.transaction,
                    hipaa::Transaction::Claims(_) | hipaa::Transaction::Remittance(_)
                ));
            }
            *sets_seen += 1;
            *with_issues += usize::from(!parsed.issues.is_empty());
        }
    }
}

#[test]
fn validate_set_reports_what_parse_set_reports() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let (mut sets, mut with_issues) = (0, 0);
    for dir in ["edi-samples", "fixtures/hipaa", "fixtures/x12"] {
        check_dir(&root.join(dir), &mut sets, &mut with_issues);
    }
    assert!(sets >= 40, "{sets} sets");
    assert!(with_issues >= 10, "{with_issues} sets with issues");
    if let Some(corpus) = common::corpus() {
        check_dir(&corpus, &mut sets, &mut with_issues);
    }
}
