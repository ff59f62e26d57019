//! The project's own sample drop (`edi-samples/`) parses clean and emits byte-exact.

use hipaa::{parse_set, Transaction};
use std::path::Path;
use x12::{Event, StreamReader};

#[test]
fn edi_samples_837_and_835_are_clean_and_round_trip() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../edi-samples");
    let mut names: Vec<_> =
        std::fs::read_dir(&dir).expect("edi-samples exists").filter_map(|e| e.ok().map(|e| e.path())).collect();
    names.sort();
    let mut claims = 0;
    let mut remits = 0;
    for path in names.iter().filter(|p| matches!(p.extension().and_then(|e| e.to_str()), Some("837" | "835"))) {
        let bytes = std::fs::read(path).expect("readable sample");
        let mut rebuilt = Vec::new();
        for ev in StreamReader::new(&bytes[..]) {
            match ev.expect("in-memory read") {
                Event::Set(set) => {
                    assert!(set.is_clean(), "{}: {:?}", path.display(), set.errors);
                    let p = parse_set(&set);
                    let msgs: Vec<String> = p.issues.iter().map(|i| i.to_string()).collect();
                    assert!(msgs.is_empty(), "{}: {msgs:#?}", path.display());
                    match &p.transaction {
                        Transaction::Claims(c) => claims += c.claims.len(),
                        Transaction::Remittance(r) => remits += r.claims.len(),
                        other => panic!("unexpected {other:?}"),
                    }
                    rebuilt.clear();
                    hipaa::emit(set.segments(), set.delimiters, set.line_ending, &mut rebuilt);
                    assert_eq!(rebuilt, set.bytes, "{}", path.display());
                }
                Event::InterchangeEnd { errors, .. } | Event::GroupEnd { errors, .. } => {
                    assert!(errors.is_empty(), "{}: {errors:?}", path.display())
                }
                Event::Issue(e) => panic!("{}: {e}", path.display()),
                _ => {}
            }
        }
    }
    assert_eq!((claims, remits), (10, 7));
}
