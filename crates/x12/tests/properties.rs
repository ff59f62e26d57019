//! Property tests: the writer and the tokenizer agree on every segment and delimiter set, and no
//! input makes the tokenizer or the streaming reader panic or report a position past the end.

use proptest::prelude::*;
use std::io::Read;
use x12::{
    Delimiters, Element, EnvelopeWriter, Event, InterchangeHeader, LineEnding, Segment, SegmentRef, StreamReader,
    Token, Tokenizer,
};

/// Bytes that may delimit: ASCII, not alphanumeric (the standard forbids it) and not whitespace
/// (ISA fields are space-padded and line breaks follow terminators). Non-printing bytes such as
/// 0x1C, 0x1D and 0x1F are included on purpose.
fn delimiter_byte() -> impl Strategy<Value = u8> {
    (1u8..=0x7E)
        .prop_filter("not alphanumeric or whitespace", |b| !b.is_ascii_alphanumeric() && !b.is_ascii_whitespace())
}

fn delimiters() -> impl Strategy<Value = Delimiters> {
    (delimiter_byte(), proptest::option::weighted(0.8, delimiter_byte()), delimiter_byte(), delimiter_byte())
        .prop_filter("distinct", |(e, r, c, s)| {
            let mut all = vec![*e, *c, *s];
            all.extend(*r);
            let mut sorted = all.clone();
            sorted.sort_unstable();
            sorted.dedup();
            sorted.len() == all.len()
        })
        .prop_map(|(element, repetition, component, segment)| Delimiters { element, repetition, component, segment })
}

fn line_ending() -> impl Strategy<Value = LineEnding> {
    prop_oneof![Just(LineEnding::None), Just(LineEnding::Lf), Just(LineEnding::CrLf), Just(LineEnding::Cr)]
}

/// Printable ASCII (space included) that is not one of `d`'s delimiters.
fn value(d: Delimiters) -> impl Strategy<Value = String> {
    proptest::collection::vec(0x20u8..=0x7E, 0..6)
        .prop_map(move |bytes| bytes.into_iter().filter(|&b| !d.is_delimiter(b)).map(char::from).collect::<String>())
}

fn element(d: Delimiters) -> impl Strategy<Value = Element> {
    let max_reps = if d.repetition.is_some() { 3 } else { 1 };
    proptest::collection::vec(proptest::collection::vec(value(d), 0..4), 1..=max_reps)
        .prop_map(|repetitions| Element { repetitions })
}

fn segment(d: Delimiters) -> impl Strategy<Value = Segment> {
    (
        "[A-Z0-9][A-Z0-9]{1,2}".prop_filter("ISA starts an interchange", |id| id != "ISA"),
        proptest::collection::vec(element(d), 0..8),
    )
        .prop_map(|(id, elements)| Segment { id, elements })
}

fn case() -> impl Strategy<Value = (Delimiters, LineEnding, Vec<Segment>)> {
    (delimiters(), line_ending())
        .prop_flat_map(|(d, le)| (Just(d), Just(le), proptest::collection::vec(segment(d), 0..12)))
}

/// What the writer promises to keep: trailing empty elements, repetitions and components are
/// dropped, and an empty element reads back as one empty component.
fn canonical(s: &Segment) -> Segment {
    let mut elements: Vec<Element> = s
        .elements
        .iter()
        .map(|e| {
            if e.is_empty() {
                return Element::simple("");
            }
            let mut reps: Vec<Vec<String>> = e
                .repetitions
                .iter()
                .map(|r| {
                    let keep = r.iter().rposition(|c| !c.is_empty()).map_or(1, |i| i + 1);
                    let mut r: Vec<String> = r.iter().take(keep).cloned().collect();
                    if r.is_empty() {
                        r.push(String::new());
                    }
                    r
                })
                .collect();
            let keep = reps.iter().rposition(|r| r.iter().any(|c| !c.is_empty())).map_or(1, |i| i + 1);
            reps.truncate(keep);
            Element { repetitions: reps }
        })
        .collect();
    let keep = elements.iter().rposition(|e| !e.is_empty()).map_or(0, |i| i + 1);
    elements.truncate(keep);
    Segment { id: s.id.clone(), elements }
}

fn header() -> InterchangeHeader {
    InterchangeHeader {
        sender_qualifier: "ZZ".into(),
        sender_id: "SENDER".into(),
        receiver_qualifier: "ZZ".into(),
        receiver_id: "RECEIVER".into(),
        date: "261127".into(),
        time: "1200".into(),
        version: "00501".into(),
        usage: "T".into(),
        ..InterchangeHeader::default()
    }
}

/// Hands out at most `step` bytes per read, so every chunk boundary of the reader is exercised.
struct Trickle<'a> {
    bytes: &'a [u8],
    step: usize,
}

impl Read for Trickle<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.step.min(buf.len()).min(self.bytes.len());
        buf[..n].copy_from_slice(&self.bytes[..n]);
        self.bytes = &self.bytes[n..];
        Ok(n)
    }
}

fn events(r: impl Read) -> Vec<Event> {
    StreamReader::new(r).map(|e| e.expect("in-memory reads cannot fail")).collect()
}

/// Every error position the reader reports, wherever the event put it.
fn positions(events: &[Event]) -> Vec<x12::Position> {
    let mut out = Vec::new();
    for e in events {
        match e {
            Event::Issue(e) => out.push(e.position),
            Event::Set(s) => out.extend(s.errors.iter().map(|e| e.position)),
            Event::GroupEnd { errors, .. } | Event::InterchangeEnd { errors, .. } => {
                out.extend(errors.iter().map(|e| e.position))
            }
            Event::InterchangeStart { position, .. }
            | Event::Ta1 { position, .. }
            | Event::GroupStart { position, .. } => out.push(*position),
        }
    }
    out
}

fn check_no_panic_and_positions(bytes: &[u8]) {
    let len = bytes.len() as u64;
    for t in Tokenizer::new(bytes) {
        match t {
            Token::Segment(s) => assert!(s.byte() + s.raw().len() as u64 <= len),
            Token::Issue(e) => assert!(e.position.byte <= len, "{e:?} past the end ({len} bytes)"),
        }
    }
    let whole = events(bytes);
    for p in positions(&whole) {
        assert!(p.byte <= len, "{p:?} past the end ({len} bytes)");
    }
    for set in whole.iter().filter_map(|e| if let Event::Set(s) = e { Some(s) } else { None }) {
        assert_eq!(set.segments().count() as u32, set.segment_count);
    }
}

/// A small valid interchange to mutate.
fn valid_file() -> Vec<u8> {
    let d = Delimiters::default();
    let mut w = EnvelopeWriter::new(Vec::new(), d, LineEnding::Lf);
    w.start_interchange(&header(), 1).expect("writing to a Vec cannot fail");
    w.start_group(
        &x12::GroupHeader {
            functional_id: "HC".into(),
            sender: "S".into(),
            receiver: "R".into(),
            date: "20261127".into(),
            time: "1200".into(),
            version: "005010X222A1".into(),
            ..Default::default()
        },
        1,
    )
    .expect("writing to a Vec cannot fail");
    for n in 1..=2 {
        w.start_set("837", &format!("{n:04}"), "005010X222A1").expect("writing to a Vec cannot fail");
        w.segment(&Segment::new("BHT", ["0019", "00", "1", "20261127", "1200", "CH"])).expect("vec");
        w.segment(&Segment::new("CLM", ["A1", "500", "", "", "11:B:1"])).expect("vec");
        w.end_set().expect("vec");
    }
    w.finish().expect("vec")
}

proptest! {
    /// `element(n)` (a byte scan) reads what the `elements()` iterator (memchr) yields.
    #[test]
    fn element_is_the_nth_of_elements(
        raw in proptest::collection::vec(proptest::sample::select(vec![b'*', b'*', b'A', b'1', b':', 0xFF]), 0..80),
        n in 0usize..30,
    ) {
        let seg = SegmentRef::new(&raw, Delimiters::default(), 0, 1);
        let want = if n == 0 { None } else { seg.elements().nth(n - 1) };
        prop_assert_eq!(seg.element(n), want);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn tokenize_of_write_is_identity((d, le, segs) in case()) {
        let mut w = EnvelopeWriter::new(Vec::new(), d, le);
        w.start_interchange(&header(), 42).expect("writing to a Vec cannot fail");
        let mut bytes = w.finish().expect("writing to a Vec cannot fail");
        // finish() closed the interchange with an IEA; append the body after it, it is still
        // tokenized with the same delimiters.
        for s in &segs {
            s.write_to(&mut bytes, &d, le);
        }
        let mut got = Vec::new();
        for t in Tokenizer::new(&bytes) {
            match t {
                Token::Segment(s) => got.push(s),
                Token::Issue(e) => prop_assert!(false, "unexpected issue {e}"),
            }
        }
        prop_assert_eq!(got.len(), segs.len() + 2);
        prop_assert_eq!(got[0].delimiters(), d);
        let read: Vec<Segment> = got[2..].iter().map(Segment::from_ref).collect();
        let want: Vec<Segment> = segs.iter().map(canonical).collect();
        prop_assert_eq!(read, want);
        // And the fast path writes the same bytes back.
        let mut again = Vec::new();
        for s in &got {
            x12::write_ref(s, &mut again, &d, le);
        }
        prop_assert_eq!(again, bytes);
    }

    #[test]
    fn write_ref_redelimits_losslessly((from, le, segs) in case(), to in delimiters()) {
        // Values must avoid both delimiter sets to survive re-delimiting.
        let clean: Vec<Segment> = segs
            .iter()
            .map(|s| {
                let mut s = canonical(s);
                for e in &mut s.elements {
                    for r in &mut e.repetitions {
                        for c in r.iter_mut() {
                            c.retain(|ch| !to.is_delimiter(ch as u8));
                        }
                    }
                }
                s
            })
            .filter(|s| to.repetition.is_some() || s.elements.iter().all(|e| e.repetitions.len() == 1))
            .collect();
        let mut bytes = Vec::new();
        for s in &clean {
            s.write_to(&mut bytes, &from, le);
        }
        let mut idx = 0u64;
        let mut out = Vec::new();
        let mut rest: &[u8] = &bytes;
        while let Some(end) = memchr_pos(rest, from.segment) {
            idx += 1;
            let seg = SegmentRef::new(&rest[..end], from, 0, idx);
            x12::write_ref(&seg, &mut out, &to, LineEnding::None);
            rest = &rest[end + 1 + le.as_bytes().len()..];
        }
        let mut want = Vec::new();
        for s in &clean {
            canonical(s).write_to(&mut want, &to, LineEnding::None);
        }
        prop_assert_eq!(out, want);
    }

    #[test]
    fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
        check_no_panic_and_positions(&bytes);
    }

    #[test]
    fn random_bytes_after_an_isa_never_panic(tail in proptest::collection::vec(any::<u8>(), 0..400)) {
        let mut bytes = valid_file()[..106].to_vec();
        bytes.extend(tail);
        check_no_panic_and_positions(&bytes);
    }

    #[test]
    fn mutated_and_truncated_files_never_panic(
        edits in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 0..6),
        cut in any::<prop::sample::Index>(),
    ) {
        let mut bytes = valid_file();
        for (at, b) in edits {
            let i = at.index(bytes.len());
            bytes[i] = b;
        }
        let cut = cut.index(bytes.len() + 1);
        check_no_panic_and_positions(&bytes[..cut]);
    }

    #[test]
    fn chunked_reads_match_whole_reads(
        edits in proptest::collection::vec((any::<prop::sample::Index>(), prop_oneof![Just(b'~'), Just(b'*'), Just(b'\n'), Just(b'X'), any::<u8>()]), 0..4),
        cut in any::<prop::sample::Index>(),
        step in 1usize..200,
    ) {
        let mut bytes = valid_file();
        for (at, b) in edits {
            let i = at.index(bytes.len());
            bytes[i] = b;
        }
        let bytes = &bytes[..cut.index(bytes.len() + 1)];
        prop_assert_eq!(events(Trickle { bytes, step }), events(bytes));
    }
}

fn memchr_pos(hay: &[u8], b: u8) -> Option<usize> {
    hay.iter().position(|&x| x == b)
}

#[test]
fn valid_file_is_clean() {
    let bytes = valid_file();
    let evs = events(&bytes[..]);
    assert_eq!(positions(&evs).len(), 2, "ISA and GS starts only: {evs:#?}");
    for e in &evs {
        match e {
            Event::Set(s) => assert!(s.errors.is_empty(), "{:?}", s.errors),
            Event::Issue(e) => panic!("{e}"),
            Event::GroupEnd { errors, .. } | Event::InterchangeEnd { errors, .. } => assert!(errors.is_empty()),
            _ => {}
        }
    }
}
