//! Golden round trip: every X12 file in `fixtures/`, `edi-samples/` and, when present, the
//! shared corpus is tokenized and written back segment by segment with `write_ref`, using the
//! file's own delimiters and line break, and must come out byte for byte. The imsweb 837 files
//! must also yield exactly the envelope errors their README describes, with positions.

mod common;

use common::{corpus, error_lines, files_under, is_x12, workspace_root};
use std::path::Path;
use x12::{write_ref, ErrorKind, LineEnding, Token, Tokenizer};

/// Rewrites `bytes`; `Err` names why a file is not canonical (and so cannot round-trip).
fn rewrite(bytes: &[u8]) -> Result<Vec<u8>, String> {
    let mut out = Vec::with_capacity(bytes.len());
    let mut line = LineEnding::None;
    for t in Tokenizer::new(bytes) {
        match t {
            Token::Segment(s) => {
                if s.is(b"ISA") {
                    let end = (s.byte() as usize) + s.raw().len() + 1;
                    line = LineEnding::detect(&bytes[end..]);
                }
                write_ref(&s, &mut out, &s.delimiters(), line);
            }
            Token::Issue(e) => match e.kind {
                ErrorKind::ByteOrderMark => out.extend_from_slice(b"\xEF\xBB\xBF"),
                ErrorKind::Unterminated => out.extend_from_slice(&bytes[e.position.byte as usize..]),
                ErrorKind::IsaNotFixedLength => {}
                other => return Err(format!("{other}")),
            },
        }
    }
    // Many files have no line break after their last terminator; some have blank lines after
    // it, which the tokenizer skips silently as it skips every line break.
    if out.len() == bytes.len() + line.as_bytes().len() && out.starts_with(bytes) {
        out.truncate(bytes.len());
    } else if bytes.starts_with(&out) && bytes[out.len()..].iter().all(|b| matches!(b, b'\r' | b'\n')) {
        out.extend_from_slice(&bytes[out.len()..]);
    }
    Ok(out)
}

/// Round-trips every X12 file under `dir`; returns the files skipped as non-canonical.
fn round_trip_dir(dir: &Path) -> Vec<String> {
    let mut skipped = Vec::new();
    let mut checked = 0;
    for path in files_under(dir) {
        let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
        if !is_x12(&bytes) {
            continue;
        }
        let name = path.strip_prefix(dir).expect("because files_under stays under dir").display().to_string();
        match rewrite(&bytes) {
            Ok(out) => {
                checked += 1;
                if out != bytes {
                    let at = out.iter().zip(&bytes).position(|(a, b)| a != b).unwrap_or(out.len().min(bytes.len()));
                    panic!("{name}: round trip differs at byte {at} (lengths {} and {})", out.len(), bytes.len());
                }
            }
            Err(why) => skipped.push(format!("{name}: {why}")),
        }
    }
    println!("{}: {checked} files round-tripped, {} skipped", dir.display(), skipped.len());
    skipped
}

#[test]
fn fixtures_round_trip() {
    let skipped = round_trip_dir(&workspace_root().join("fixtures"));
    assert_eq!(
        skipped,
        [
            "x12/garbage-before-isa.x12: unexpected data before the first ISA segment",
            "x12/indented.x12: whitespace before segment",
        ]
    );
}

#[test]
fn edi_samples_round_trip() {
    let skipped = round_trip_dir(&workspace_root().join("edi-samples"));
    assert_eq!(skipped, Vec::<String>::new());
}

#[test]
fn corpus_round_trips() {
    let Some(corpus) = corpus() else {
        println!("skipped: ../shared/corpus is absent");
        return;
    };
    let skipped = round_trip_dir(&corpus);
    assert_eq!(skipped, Vec::<String>::new());
}

#[test]
fn imsweb_837_count_errors_have_positions() {
    let Some(corpus) = corpus() else {
        println!("skipped: ../shared/corpus is absent");
        return;
    };
    let se01 = |seg: u64, byte: u64, found: u64| {
        format!("set 987654: segment {seg} (SE, byte {byte}) element 01: SE01 says 25 segments, found {found}")
    };
    let expected: Vec<(&str, Vec<String>)> = vec![
        (
            "x12_bad_segment_identifier.txt",
            vec![
                "set 987654: segment 6 (byte 280): invalid segment id".into(),
                "set 987654: segment 11 (Nd4, byte 444): invalid segment id".into(),
                "set 987654: segment 20 (NM3, byte 659): invalid segment id".into(),
                se01(36, 1175, 34),
            ],
        ),
        ("x12_many_claims.txt", vec![se01(11488, 329599, 11486)]),
        ("x12_missing_elements.txt", vec![se01(36, 1169, 34)]),
        (
            "x12_multiple_gs.txt",
            vec![
                se01(36, 1176, 34),
                se01(72, 2270, 34),
                "group 1: segment 38 (GS, byte 1198) element 06: functional group control number repeats within the interchange".into(),
                se01(108, 3372, 34),
                "group 1: segment 74 (GS, byte 2292) element 06: functional group control number repeats within the interchange".into(),
                "interchange 000000905: segment 110 (IEA, byte 3394) element 01: IEA01 says 1 functional groups, found 3".into(),
            ],
        ),
        ("x12_segments_out_of_order.txt", vec![se01(36, 1172, 34)]),
        ("x12_valid_different_separators.txt", vec![se01(36, 1172, 34)]),
    ];
    let dir = corpus.join("imsweb/837");
    let present: Vec<String> =
        files_under(&dir).iter().filter_map(|p| p.file_name().map(|n| n.to_string_lossy().into_owned())).collect();
    assert_eq!(present, expected.iter().map(|(n, _)| n.to_string()).collect::<Vec<_>>(), "corpus changed");
    for (name, want) in expected {
        let bytes = std::fs::read(dir.join(name)).expect("listed above");
        assert_eq!(error_lines(&bytes), want, "{name}");
        // Everything else still tokenizes: no tokenizer issue, one segment per terminator.
        let tokens: Vec<_> = Tokenizer::new(&bytes).collect();
        assert!(tokens.iter().all(|t| matches!(t, Token::Segment(_))), "{name}");
        let terminator = match &tokens[0] {
            Token::Segment(s) => s.delimiters().segment,
            Token::Issue(e) => panic!("{name}: {e}"),
        };
        assert_eq!(tokens.len(), x12::count_terminators(&bytes, terminator), "{name}");
    }
}
