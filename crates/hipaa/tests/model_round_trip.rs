//! `parse(emit(model)) == model`: every set the project ships, emitted under another delimiter
//! set and line ending, parses back to the same typed model.

use std::path::{Path, PathBuf};
use x12::{Delimiters, EnvelopeWriter, Event, LineEnding, StreamReader};

fn files() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let mut out = Vec::new();
    for dir in ["edi-samples", "fixtures/hipaa"] {
        for e in std::fs::read_dir(root.join(dir)).expect("dir exists").flatten() {
            let p = e.path();
            if p.extension().and_then(|x| x.to_str()).is_some_and(|x| x.starts_with(|c: char| c.is_ascii_digit())) {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

#[test]
fn models_survive_emit_under_other_delimiters() {
    let to = Delimiters { element: b'|', repetition: Some(b'!'), component: b'>', segment: 0x1C };
    let mut sets = 0;
    for path in files() {
        let bytes = std::fs::read(&path).expect("readable");
        for ev in StreamReader::new(&bytes[..]) {
            let Event::Set(set) = ev.expect("in-memory") else { continue };
            let before = hipaa::parse_set(&set);
            let mut w = EnvelopeWriter::new(Vec::new(), to, LineEnding::CrLf);
            let isa = x12::InterchangeHeader {
                sender_qualifier: "ZZ".into(),
                sender_id: "A".into(),
                receiver_qualifier: "ZZ".into(),
                receiver_id: "B".into(),
                date: "261127".into(),
                time: "1200".into(),
                ..Default::default()
            };
            w.start_interchange(&isa, 1).expect("in memory");
            w.start_group(&set.group, 1).expect("in memory");
            w.start_set(&set.id, &set.control, &set.version).expect("in memory");
            for s in hipaa::tree_segments(&set).iter().filter(|s| !s.is(b"ST") && !s.is(b"SE")) {
                w.segment_ref(s).expect("in memory");
            }
            w.end_set().expect("in memory");
            let emitted = w.finish().expect("in memory");
            let again: Vec<_> = StreamReader::new(&emitted[..])
                .filter_map(|e| match e.expect("in-memory") {
                    Event::Set(s) => Some(s),
                    _ => None,
                })
                .collect();
            assert_eq!(again.len(), 1, "{}", path.display());
            assert!(again[0].is_clean(), "{}: {:?}", path.display(), again[0].errors);
            let after = hipaa::parse_set(&again[0]);
            assert_eq!(content(&after.transaction), content(&before.transaction), "{}", path.display());
            assert_eq!(after.issues.len(), before.issues.len(), "{}", path.display());
            sets += 1;
        }
    }
    assert!(sets >= 25, "{sets} sets");
}

/// The model as JSON without `segment`, the one field that says where (not what): a set
/// emitted into its own interchange starts at another segment number of the file.
fn content(t: &hipaa::Transaction) -> serde_json::Value {
    fn strip(v: &mut serde_json::Value) {
        match v {
            serde_json::Value::Object(m) => {
                m.remove("segment");
                m.values_mut().for_each(strip);
            }
            serde_json::Value::Array(a) => a.iter_mut().for_each(strip),
            _ => {}
        }
    }
    let mut v = serde_json::to_value(t).expect("models serialize");
    strip(&mut v);
    v
}
