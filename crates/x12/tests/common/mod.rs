//! Helpers shared by the integration tests.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use x12::{Error, Event, StreamReader};

/// Every event of a file, read from memory.
pub fn events(bytes: &[u8]) -> Vec<Event> {
    StreamReader::new(bytes).map(|e| e.expect("in-memory reads cannot fail")).collect()
}

/// Every error and warning the reader reports, in event order, tagged with where it landed:
/// `file`, `set <ST02>`, `group <GS06>` or `interchange <ISA13>`.
pub fn errors(bytes: &[u8]) -> Vec<(String, Error)> {
    let mut out = Vec::new();
    for e in events(bytes) {
        match e {
            Event::Issue(e) => out.push(("file".to_string(), e)),
            Event::Set(s) => out.extend(s.errors.into_iter().map(|e| (format!("set {}", s.control), e))),
            Event::GroupEnd { header, errors, .. } => {
                out.extend(errors.into_iter().map(|e| (format!("group {}", header.control), e)))
            }
            Event::InterchangeEnd { header, errors, .. } => {
                out.extend(errors.into_iter().map(|e| (format!("interchange {}", header.control), e)))
            }
            _ => {}
        }
    }
    out
}

/// The errors as `where: message` lines, the form the assertions read best in.
pub fn error_lines(bytes: &[u8]) -> Vec<String> {
    errors(bytes).into_iter().map(|(at, e)| format!("{at}: {e}")).collect()
}

pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The shared corpus next to the checkout, when there is one.
pub fn corpus() -> Option<PathBuf> {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus");
    p.is_dir().then_some(p)
}

/// All files under `dir`, sorted, recursively.
pub fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else { continue };
        for entry in entries.flatten() {
            let p = entry.path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

/// True when the file looks like X12: "ISA" within its first bytes.
pub fn is_x12(bytes: &[u8]) -> bool {
    bytes.windows(3).take(512).any(|w| w == b"ISA")
}
