//! The hand-written syntax fixtures in `fixtures/x12/`, one per tolerance and per envelope
//! error, each with the exact errors it must produce (kind, segment number, byte).

mod common;

use common::{error_lines, errors, events, workspace_root};
use x12::{Delimiters, ErrorKind, Event, LineEnding};

fn fixture(name: &str) -> Vec<u8> {
    let p = workspace_root().join("fixtures/x12").join(name);
    std::fs::read(&p).unwrap_or_else(|e| panic!("reading {}: {e}", p.display()))
}

fn interchanges(bytes: &[u8]) -> Vec<(String, Delimiters, LineEnding, u64)> {
    events(bytes)
        .into_iter()
        .filter_map(|e| match e {
            Event::InterchangeStart { header, delimiters, line_ending, position } => {
                Some((header.control, delimiters, line_ending, position.byte))
            }
            _ => None,
        })
        .collect()
}

fn sets(bytes: &[u8]) -> Vec<(String, String, u32, u64)> {
    events(bytes)
        .into_iter()
        .filter_map(|e| match e {
            Event::Set(s) => Some((s.id, s.control, s.segment_count, s.byte)),
            _ => None,
        })
        .collect()
}

#[test]
fn valid_837p_is_clean() {
    let f = fixture("valid-837p.x12");
    assert_eq!(error_lines(&f), Vec::<String>::new());
    assert_eq!(interchanges(&f), [("000000101".into(), Delimiters::default(), LineEnding::Lf, 0)]);
    assert_eq!(sets(&f), [("837".into(), "0001".into(), 20, 172)]);
}

#[test]
fn byte_order_mark_is_a_warning_and_offsets_count_it() {
    let f = fixture("bom.x12");
    assert_eq!(error_lines(&f), ["file: byte 0: file starts with a byte-order mark"]);
    let e = &errors(&f)[0].1;
    assert_eq!((e.kind.clone(), e.position.segment, e.position.byte), (ErrorKind::ByteOrderMark, 0, 0));
    assert_eq!(interchanges(&f)[0].3, 3);
    assert_eq!(sets(&f), [("837".into(), "0001".into(), 20, 175)]);
}

#[test]
fn crlf_line_endings_are_detected_and_silent() {
    let f = fixture("crlf.x12");
    assert_eq!(error_lines(&f), Vec::<String>::new());
    assert_eq!(interchanges(&f)[0].2, LineEnding::CrLf);
    assert_eq!(sets(&f), [("837".into(), "0001".into(), 20, 174)]);
}

#[test]
fn non_printing_delimiters() {
    let f = fixture("nonprinting.x12");
    assert_eq!(error_lines(&f), Vec::<String>::new());
    let d = Delimiters { element: 0x1D, repetition: Some(0x1E), component: 0x1F, segment: 0x1C };
    assert_eq!(interchanges(&f), [("000000104".into(), d, LineEnding::None, 0)]);
    let set = events(&f).into_iter().find_map(|e| if let Event::Set(s) = e { Some(s) } else { None }).expect("one set");
    let hi = set.segments().find(|s| s.is(b"HI")).expect("an HI segment");
    assert_eq!(hi.repetitions(1).count(), 2);
    assert_eq!(hi.component(1, 2), Some(&b"M47816"[..]));
}

#[test]
fn several_interchanges_with_different_delimiters() {
    let f = fixture("multi-interchange.x12");
    assert_eq!(error_lines(&f), Vec::<String>::new());
    let star = Delimiters::default();
    let bar = Delimiters { element: b'|', repetition: None, component: b'>', segment: b'\'' };
    let gs = Delimiters { element: 0x1D, repetition: Some(0x1E), component: 0x1F, segment: 0x1C };
    assert_eq!(
        interchanges(&f),
        [
            ("000000105".into(), star, LineEnding::Lf, 0),
            ("000000106".into(), bar, LineEnding::CrLf, 763),
            ("000000107".into(), gs, LineEnding::None, 2134),
        ]
    );
    assert_eq!(
        sets(&f),
        [
            ("837".into(), "0001".into(), 20, 172),
            ("837".into(), "0001".into(), 20, 937),
            ("837".into(), "0002".into(), 20, 1521),
            ("837".into(), "0001".into(), 20, 2304),
        ]
    );
}

#[test]
fn ta1_between_isa_and_gs_is_an_event_not_an_error() {
    let f = fixture("ta1-before-gs.x12");
    assert_eq!(error_lines(&f), Vec::<String>::new());
    let ta1: Vec<_> = events(&f)
        .into_iter()
        .filter_map(|e| if let Event::Ta1 { raw, position, .. } = e { Some((raw, position)) } else { None })
        .collect();
    assert_eq!(ta1.len(), 1);
    assert_eq!(ta1[0].0, b"TA1*000000042*261126*0900*A*000");
    assert_eq!((ta1[0].1.segment, ta1[0].1.byte), (2, 107));
}

#[test]
fn ack_requested_is_read_from_isa14() {
    let f = fixture("ack-requested.x12");
    assert_eq!(error_lines(&f), Vec::<String>::new());
    let requested =
        events(&f).into_iter().any(|e| matches!(e, Event::InterchangeStart { header, .. } if header.ack_requested));
    assert!(requested);
}

#[test]
fn truncated_file_reports_the_cut_and_closes_everything() {
    let f = fixture("truncated.x12");
    assert_eq!(
        error_lines(&f),
        [
            "set 0001: segment 20 (SV1, byte 673): file ends inside a segment (no segment terminator)",
            "set 0001: segment 19 (LX, byte 667): SE trailer missing",
            "group 110: segment 19 (LX, byte 667): GE trailer missing",
            "interchange 000000110: segment 19 (LX, byte 667): IEA trailer missing",
        ]
    );
    let e = errors(&f);
    assert_eq!(e[0].1.position.set_segment, Some(18), "the cut segment is the set's 18th");
    assert_eq!(sets(&f), [("837".into(), "0001".into(), 17, 172)]);
}

#[test]
fn missing_iea_is_reported_at_the_last_segment() {
    let f = fixture("missing-iea.x12");
    assert_eq!(error_lines(&f), ["interchange 000000111: segment 23 (GE, byte 736): IEA trailer missing"]);
    assert_eq!(errors(&f)[0].1.kind, ErrorKind::MissingTrailer { trailer: "IEA" });
}

#[test]
fn wrong_se01_spoils_only_its_set() {
    let f = fixture("wrong-se01.x12");
    assert_eq!(error_lines(&f), ["set 0002: segment 42 (SE, byte 1288) element 01: SE01 says 19 segments, found 20"]);
    let e = &errors(&f)[0].1;
    assert_eq!(e.kind, ErrorKind::CountMismatch { trailer: "SE", what: "segments", declared: 19, actual: 20 });
    assert_eq!(e.position.set_segment, Some(20));
    assert_eq!(&f[e.position.byte as usize..][..5], b"SE*19");
}

#[test]
fn bad_iea_control_number() {
    let f = fixture("bad-iea-control.x12");
    assert_eq!(
        error_lines(&f),
        ["interchange 000000113: segment 24 (IEA, byte 746) element 02: IEA control number does not match ISA"]
    );
}

#[test]
fn garbage_before_isa_is_an_error_then_skipped() {
    let f = fixture("garbage-before-isa.x12");
    assert_eq!(error_lines(&f), ["file: byte 0: unexpected data before the first ISA segment"]);
    assert_eq!(interchanges(&f)[0].3, 6);
}

#[test]
fn indentation_is_a_warning_given_once() {
    let f = fixture("indented.x12");
    assert_eq!(error_lines(&f), ["file: byte 240: whitespace before segment"]);
    assert_eq!(errors(&f)[0].1.kind.severity(), x12::Severity::Warning);
}
