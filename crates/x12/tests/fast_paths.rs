//! Regression tests for the shortcuts taken for speed: the tokenizer's mask scan, the
//! reader's clean-body path through the envelope checker, and `SegmentRef::id`'s look at
//! bytes 2 and 3. Each must answer exactly what the general path answers.

mod common;

use common::{error_lines, events};
use std::io::Read;
use x12::{Checker, Delimiters, Event, Role, SegmentRef, StreamReader, Token, Tokenizer};

const ISA: &str =
    "ISA*00*          *00*          *ZZ*A              *ZZ*B              *261127*1200*^*00501*000000001*0*P*:~";

/// `id()` is the bytes before the first element separator, wherever that is.
#[test]
fn segment_id_agrees_with_a_plain_split() {
    let d = Delimiters::default();
    for raw in [
        &b""[..],
        b"N",
        b"NM",
        b"NM1",
        b"NM1*",
        b"NM*1",
        b"NM1*IL*1",
        b"*NM1",
        b"N*M1",
        b"NM12*X",
        b"NM123456",
        b"**",
        b"A*",
        b"AB*C*D",
    ] {
        let want = raw.split(|&b| b == b'*').next().unwrap_or(b"");
        assert_eq!(SegmentRef::new(raw, d, 0, 1).id(), want, "{:?}", String::from_utf8_lossy(raw));
    }
}

/// Every segment of a set goes through the checker's clean-body shortcut or its full path;
/// the shortcut must take exactly the clean ones and the errors of the others stay as they
/// were: bad ids (lowercase, one byte, four bytes, a leading digit), non-ASCII bytes, and the
/// envelope ids that look like body ids to a first-byte test.
#[test]
fn body_errors_are_still_reported_inside_a_set() {
    let file = format!(
        "{ISA}\nGS*HC*A*B*20261127*1200*1*X*005010X222A1~\nST*837*0001~\nBHT*0019~\nnm1*IL~\nN~\nNM12*X~\n\
         1AB*X~\nNM1*IL*J\u{f6}RG~\nSV1*HC~\nTA1*000000001~\nS1*X~\nG1*X~\nSE*11*0001~\nGE*1*1~\nIEA*1*000000001~\n"
    );
    assert_eq!(
        error_lines(file.as_bytes()),
        [
            "set 0001: segment 5 (nm1, byte 172) element 00: invalid segment id",
            "set 0001: segment 6 (N, byte 180) element 00: invalid segment id",
            "set 0001: segment 7 (NM1, byte 183) element 00: invalid segment id",
            "set 0001: segment 8 (1AB, byte 191) element 00: invalid segment id",
            "set 0001: segment 9 (NM1, byte 198) element 02: non-ASCII byte 0xC3 in segment",
            "interchange 000000001: segment 11 (TA1, byte 220) element 00: TA1 segment outside an interchange",
        ]
        .map(|s| s.replace(" element 00", "")),
        "{file}"
    );
    let sets: Vec<_> = events(file.as_bytes())
        .into_iter()
        .filter_map(|e| if let Event::Set(s) = e { Some(s) } else { None })
        .collect();
    assert_eq!(sets.len(), 1);
    assert_eq!(sets[0].segment_count, 11, "the stray TA1 is not part of the set");
}

/// `Checker::feed` (public, with its own shortcut) and the reader agree segment by segment on
/// roles and errors for a set mixing clean and faulty body segments.
#[test]
fn checker_feed_roles_for_body_and_envelope_ids() {
    let file = format!(
        "{ISA}GS*HC*A*B*20261127*1200*1*X*005010X222A1~ST*837*0001~BHT*0019~S1*X~G1~I2~T3~\
         TA1*1~GS1~SE1~nm1~SE*9*0001~GE*1*1~IEA*1*000000001~"
    );
    let mut c = Checker::new();
    let mut got = Vec::new();
    for t in Tokenizer::new(file.as_bytes()) {
        let Token::Segment(s) = t else { continue };
        let (role, step) = c.feed(&s);
        let kinds: Vec<String> = step.own.iter().map(|e| format!("{:?}", e.kind)).collect();
        got.push((String::from_utf8_lossy(s.id()).into_owned(), role, kinds, step.own.first().map(|e| e.position)));
    }
    let roles: Vec<(&str, Role, usize)> = got.iter().map(|(id, r, k, _)| (id.as_str(), *r, k.len())).collect();
    assert_eq!(
        roles,
        [
            ("ISA", Role::Isa, 0),
            ("GS", Role::Gs, 0),
            ("ST", Role::St, 0),
            ("BHT", Role::Body, 0),
            ("S1", Role::Body, 0),
            ("G1", Role::Body, 0),
            ("I2", Role::Body, 0),
            ("T3", Role::Body, 0),
            ("TA1", Role::Stray, 1),
            ("GS1", Role::Body, 0),
            ("SE1", Role::Body, 0),
            ("nm1", Role::Body, 1),
            ("SE", Role::Se, 1),
            ("GE", Role::Ge, 0),
            ("IEA", Role::Iea, 0),
        ]
    );
    // The body error keeps its set position (segment 9 of the set: ST = 1).
    let nm1 = got.iter().find(|g| g.0 == "nm1").and_then(|g| g.3).expect("an error");
    assert_eq!(nm1.set_segment, Some(9));
    assert_eq!(nm1.segment_id.map(|i| i.to_string()).as_deref(), Some("nm1"));
}

/// Hands out at most `step` bytes per read.
struct Trickle<'a> {
    bytes: &'a [u8],
    step: usize,
}

impl Read for Trickle<'_> {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        let n = self.step.min(out.len()).min(self.bytes.len());
        out[..n].copy_from_slice(&self.bytes[..n]);
        self.bytes = &self.bytes[n..];
        Ok(n)
    }
}

fn segments(bytes: &[u8]) -> Vec<(u64, u64, Vec<u8>)> {
    Tokenizer::new(bytes)
        .filter_map(|t| if let Token::Segment(s) = t { Some((s.byte(), s.index(), s.raw().to_vec())) } else { None })
        .collect()
}

/// The tokenizer's fast path skips one LF after a terminator; with LF as the terminator
/// itself, that LF is an (empty) segment and must go the slow way. Whole reads, chunked reads
/// and a plain split must agree.
#[test]
fn lf_as_the_segment_terminator() {
    let isa = ISA.replace('~', "\n");
    let file = format!("{isa}\nGS*HC*A*B*20261127*1200*1*X*005010X222A1\nST*837*0001\nBHT*0019\n\nSE*3*0001\nGE*1*1\nIEA*1*000000001\n");
    let got = segments(file.as_bytes());
    let ids: Vec<String> =
        got.iter().map(|(_, _, r)| String::from_utf8_lossy(&r[..r.len().min(3)]).into_owned()).collect();
    assert_eq!(ids, ["ISA", "GS*", "ST*", "BHT", "SE*", "GE*", "IEA"]);
    let whole = events(file.as_bytes());
    for step in [1, 2, 3, 7, 64, 100, 107, 4096] {
        let chunked: Vec<Event> =
            StreamReader::new(Trickle { bytes: file.as_bytes(), step }).map(|e| e.expect("in memory")).collect();
        assert_eq!(chunked, whole, "step {step}");
    }
}

/// Segments that straddle the 64-byte blocks of the terminator scan, of every length from 1
/// to 150 bytes, with and without a line break, come out as a plain split finds them.
#[test]
fn segments_across_scan_blocks_match_a_plain_split() {
    for le in ["", "\n", "\r\n"] {
        let mut file = format!("{ISA}{le}");
        for len in 1..150 {
            file.push('X');
            file.push_str(&"Y".repeat(len - 1));
            file.push('~');
            file.push_str(le);
        }
        let body = &file.as_bytes()[106 + le.len()..];
        let mut want = Vec::new();
        let mut at = 106 + le.len();
        for piece in body.split(|&b| b == b'~') {
            let trimmed = if piece.starts_with(le.as_bytes()) && !le.is_empty() { &piece[le.len()..] } else { piece };
            let start = at + (piece.len() - trimmed.len());
            at += piece.len() + 1;
            if !trimmed.is_empty() {
                want.push((start as u64, trimmed.to_vec()));
            }
        }
        let got: Vec<(u64, Vec<u8>)> = segments(file.as_bytes()).into_iter().skip(1).map(|(b, _, r)| (b, r)).collect();
        assert_eq!(got, want, "line ending {le:?}");
    }
}
