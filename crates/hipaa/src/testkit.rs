//! Test helpers shared by the unit tests of several modules.

use crate::tree::LoopDef;
use x12::{Event, OwnedSet, SegmentRef, StreamReader};

/// What [`each_mutated_set`] calls: a label, the set as read, its schema, and its segments.
pub(crate) type Visit<'f> = dyn FnMut(&str, &OwnedSet, &'static LoopDef, &[SegmentRef<'_>]) + 'f;

/// Whether the shared corpus is beside the checkout (the tests read it when it is): the
/// coverage the tests ask of their walks is lower without it.
pub(crate) fn corpus_present() -> bool {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus").is_dir()
}

/// Calls `f` for every set with a schema in the shipped samples and fixtures and in the shared
/// corpus (when `../shared` exists), as read and then in `rounds` mutations (one to three
/// segments dropped, duplicated or swapped, seeded, so every run sees the same), with a label
/// naming file, set and round.
pub(crate) fn each_mutated_set(rounds: usize, f: &mut Visit<'_>) {
    let root_dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let mut dirs = vec![
        root_dir.join("edi-samples"),
        root_dir.join("fixtures/hipaa"),
        root_dir.join("fixtures/x12"),
        root_dir.join("fixtures/reconcile"),
    ];
    let corpus = root_dir.join("../shared/corpus");
    if corpus.is_dir() {
        dirs.push(corpus);
    }
    let mut files = Vec::new();
    while let Some(d) = dirs.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let p = e.path();
            if p.is_dir() {
                dirs.push(p);
            } else {
                files.push(p);
            }
        }
    }
    files.sort();
    let mut seed = 0x2545_F491_4F6C_DD1Du64;
    let mut next = move |n: usize| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        (seed % n.max(1) as u64) as usize
    };
    for path in files {
        let Ok(bytes) = std::fs::read(&path) else { continue };
        for ev in StreamReader::new(&bytes[..]) {
            let Ok(Event::Set(set)) = ev else { continue };
            let version = if set.version.is_empty() { &set.group.version } else { &set.version };
            let Some(schema) = crate::guide(&set.id, version).and_then(crate::schema) else { continue };
            let segs: Vec<SegmentRef<'_>> = set.segments().collect();
            for round in 0..=rounds {
                let mut v = segs.clone();
                if round > 0 && v.len() > 2 {
                    for _ in 0..1 + next(3) {
                        let i = 1 + next(v.len() - 2);
                        match next(3) {
                            0 => {
                                v.remove(i);
                            }
                            1 => v.insert(i, v[i]),
                            _ => {
                                let j = 1 + next(v.len() - 2);
                                v.swap(i, j);
                            }
                        }
                    }
                }
                let at = format!("{} set {} round {round}", path.display(), set.control);
                f(&at, &set, schema, &v);
            }
        }
    }
}
