//! Conformance over the public sample files in `../shared/corpus` (skipped when absent).

use hipaa::{parse_set, Transaction};
mod common;

use common::{corpus, files, sets, summary};
use std::path::Path;

#[test]
fn every_lfh_837_and_835_parses_and_round_trips() {
    let Some(root) = corpus() else { return };
    let mut seen = 0;
    for sub in ["lfh/837_005010X222A2", "lfh/835_005010X221A1"] {
        for f in files(&root.join(sub)) {
            let bytes = std::fs::read(&f).expect("readable corpus file");
            let sets = sets(&bytes);
            assert_eq!(sets.len(), 1, "{}", f.display());
            for set in &sets {
                let parsed = parse_set(set);
                match &parsed.transaction {
                    Transaction::Claims(c) => assert!(!c.claims.is_empty(), "{}", f.display()),
                    Transaction::Remittance(r) => assert!(!r.claims.is_empty(), "{}", f.display()),
                    other => panic!("{}: {other:?}", f.display()),
                }
                println!("{}: {:?}", f.file_name().and_then(|n| n.to_str()).unwrap_or(""), summary(&parsed));
                // Byte-exact emit of the set from the loop tree.
                let mut out = Vec::new();
                hipaa::emit(set.segments(), set.delimiters, set.line_ending, &mut out);
                if out != set.bytes {
                    let i = out.iter().zip(&set.bytes).position(|(a, b)| a != b).unwrap_or(0);
                    panic!(
                        "{}: differs at {i}: {:?} vs {:?}",
                        f.display(),
                        String::from_utf8_lossy(&out[i.saturating_sub(20)..(i + 20).min(out.len())]),
                        String::from_utf8_lossy(&set.bytes[i.saturating_sub(20)..(i + 20).min(set.bytes.len())])
                    );
                }
                seen += 1;
            }
        }
    }
    assert_eq!(seen, 23);
}

fn parsed(path: &Path) -> hipaa::ParsedSet {
    let bytes = std::fs::read(path).expect("readable corpus file");
    parse_set(&sets(&bytes)[0])
}

/// The corpus README's known 835 defects, reported exactly, with positions.
#[test]
fn lfh_835_known_defects_are_reported_with_positions() {
    let Some(root) = corpus() else { return };
    let dir = root.join("lfh/835_005010X221A1");
    let expect: [(&str, &[&str]); 5] = [
        ("cob-contractural-adjustment.835", &["BPR@2.16 RequiredElementMissing", "PER@6 MissingSegment"]),
        ("managed-care.835", &["BPR@2.16 InvalidDate", "PER@5 MissingSegment"]),
        ("medicare-part-a.835", &["PER@5 MissingSegment"]),
        ("secondary-payment.835", &["BPR@2.16 RequiredElementMissing", "PER@6 MissingSegment"]),
        // SVC carries a stray element (SVC01 without its code), so SVC02 - SVC03 does not match CAS.
        ("tertiary-payment.835", &["BPR@2.16 RequiredElementMissing", "PER@6 MissingSegment", "SVC@18.03 Unbalanced"]),
    ];
    for (name, want) in expect {
        let p = parsed(&dir.join(name));
        assert_eq!(summary(&p), want, "{name}");
        assert!(p.issues.iter().all(|i| !i.message.is_empty() && i.position.byte > 0), "{name}");
    }
    let p = parsed(&dir.join("managed-care.835"));
    assert_eq!(
        p.issues[0].to_string(),
        "segment 4 (BPR, byte 176) element 16 in loop 835: BPR16 is not a valid CCYYMMDD date"
    );
}
