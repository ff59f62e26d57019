//! Reading X12 files into typed transaction sets for the commands that work on models
//! (`parse`, `scrub`, `reconcile`): one set at a time, with the interchange it came in.

use anyhow::Context;
use std::fs::File;
use std::io::BufReader;
use std::path::Path;
use x12::{Event, InterchangeHeader, OwnedSet, StreamReader};

/// One transaction set with its envelope and its typed parse.
pub struct LoadedSet {
    pub interchange: InterchangeHeader,
    pub set: OwnedSet,
    pub parsed: hipaa::ParsedSet,
}

/// Calls `f` for every transaction set of a file, in file order, in memory bounded by the
/// largest set. Syntax errors stay on the set (`set.errors`) for the caller to report.
pub fn for_each_set(path: &Path, mut f: impl FnMut(LoadedSet) -> anyhow::Result<()>) -> anyhow::Result<()> {
    for_each_read_set(path, |interchange, set| {
        let parsed = hipaa::parse_set(&set);
        f(LoadedSet { interchange: interchange.clone(), set, parsed })
    })
}

/// [`for_each_set`] without the typed parse: each set as read, with its interchange header,
/// for callers that read the set another way (`parse` serializes the borrowed view).
pub fn for_each_read_set(
    path: &Path,
    mut f: impl FnMut(&InterchangeHeader, OwnedSet) -> anyhow::Result<()>,
) -> anyhow::Result<()> {
    let file = File::open(path).with_context(|| format!("opening {}", path.display()))?;
    let mut interchange = InterchangeHeader::default();
    for ev in StreamReader::new(BufReader::with_capacity(256 * 1024, file)) {
        match ev.with_context(|| format!("reading {}", path.display()))? {
            Event::InterchangeStart { header, .. } => interchange = header,
            Event::Set(set) => f(&interchange, set)?,
            _ => {}
        }
    }
    Ok(())
}

/// The file name as reports show it (no directories: they may name a patient's folder).
pub fn display_name(p: &Path) -> String {
    p.file_name().and_then(|n| n.to_str()).unwrap_or("input").to_string()
}
