//! Helpers shared by the conformance tests.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use x12::{Event, StreamReader};

/// `../shared/corpus` when present; tests skip (with a message) when it is not.
pub fn corpus() -> Option<PathBuf> {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus");
    if p.is_dir() {
        Some(p)
    } else {
        eprintln!("skipping: {} not present", p.display());
        None
    }
}

/// The files of a directory, sorted.
pub fn files(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> =
        std::fs::read_dir(dir).map(|d| d.filter_map(|e| e.ok().map(|e| e.path())).collect()).unwrap_or_default();
    v.sort();
    v
}

/// The transaction sets of an in-memory file.
pub fn sets(bytes: &[u8]) -> Vec<x12::OwnedSet> {
    StreamReader::new(bytes)
        .filter_map(|e| match e.expect("in-memory read") {
            Event::Set(s) => Some(s),
            _ => None,
        })
        .collect()
}

/// "segment-id@set-position.element code" per issue, for exact comparison.
pub fn summary(p: &hipaa::ParsedSet) -> Vec<String> {
    p.issues
        .iter()
        .map(|i| {
            format!(
                "{}@{}{} {:?}",
                i.position.segment_id.map(|s| s.to_string()).unwrap_or_default(),
                i.position.set_segment.unwrap_or(0),
                i.position.element.map(|e| format!(".{e:02}")).unwrap_or_default(),
                i.code
            )
        })
        .collect()
}
