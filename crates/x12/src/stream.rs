//! The streaming reader: one transaction set at a time from any `Read`, in bounded memory.
//!
//! The reader owns a buffer of a few hundred KiB, tokenizes what it holds, feeds the envelope
//! checker and copies the segments of the open transaction set into that set's own buffer. Peak
//! memory is therefore the read buffer plus the largest transaction set, whatever the file size.
//! A segment that runs past `MAX_SEGMENT` bytes without a terminator is reported and skipped,
//! so a file with the wrong terminator cannot make the buffer grow without end.

use crate::delim::Delimiters;
use crate::envelope::{Checker, GroupHeader, InterchangeHeader, Role, Step};
use crate::error::{Error, ErrorKind, Position, SegmentId, Severity};
use crate::segment::SegmentRef;
use crate::tokenizer::{Resume, Token, Tokenizer};
use std::collections::VecDeque;
use std::io::{self, Read};

/// Longest segment accepted before the reader gives up on finding its terminator.
pub const MAX_SEGMENT: usize = 1 << 20;
const CHUNK: usize = 256 * 1024;

/// The line break written after each segment terminator.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum LineEnding {
    #[default]
    None,
    Lf,
    CrLf,
    Cr,
}

impl LineEnding {
    pub fn as_bytes(self) -> &'static [u8] {
        match self {
            LineEnding::None => b"",
            LineEnding::Lf => b"\n",
            LineEnding::CrLf => b"\r\n",
            LineEnding::Cr => b"\r",
        }
    }

    /// The line break that follows a segment terminator at the start of `after`.
    pub fn detect(after: &[u8]) -> LineEnding {
        match after {
            [b'\r', b'\n', ..] => LineEnding::CrLf,
            [b'\n', ..] => LineEnding::Lf,
            [b'\r', ..] => LineEnding::Cr,
            _ => LineEnding::None,
        }
    }
}

/// One transaction set (ST through SE) with its own copy of the bytes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OwnedSet {
    /// ST through SE, each segment followed by the terminator and the interchange's line break.
    pub bytes: Vec<u8>,
    pub delimiters: Delimiters,
    pub line_ending: LineEnding,
    /// Byte offset of the ST in the file, and its 1-based segment number in the file.
    pub byte: u64,
    pub segment: u64,
    /// ST01, ST02, ST03.
    pub id: String,
    pub control: String,
    pub version: String,
    /// Segments from ST to SE inclusive, as counted.
    pub segment_count: u32,
    /// Syntax errors found inside this set (including a missing SE or a bad SE01).
    pub errors: Vec<Error>,
    /// The GS of the group holding this set.
    pub group: GroupHeader,
}

impl OwnedSet {
    /// The segments of the set, ST and SE included, with file positions.
    pub fn segments(&self) -> impl Iterator<Item = SegmentRef<'_>> {
        let state = Resume {
            base: self.byte,
            segments: self.segment - 1,
            delimiters: Some(self.delimiters),
            warned_whitespace: true,
            garbage: None,
        };
        Tokenizer::resume(&self.bytes, state, true).filter_map(|t| match t {
            Token::Segment(s) => Some(s),
            Token::Issue(_) => None,
        })
    }

    /// True when no syntax error (warnings aside) was found in the set.
    pub fn is_clean(&self) -> bool {
        self.errors.iter().all(|e| e.severity() == Severity::Warning)
    }
}

/// What the reader yields, in file order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Event {
    /// A problem outside any interchange, or a warning anywhere.
    Issue(Error),
    InterchangeStart {
        header: InterchangeHeader,
        delimiters: Delimiters,
        line_ending: LineEnding,
        position: Position,
    },
    /// A TA1 segment (an acknowledgment of some earlier interchange) with its raw bytes.
    Ta1 {
        raw: Vec<u8>,
        delimiters: Delimiters,
        position: Position,
    },
    GroupStart {
        header: GroupHeader,
        position: Position,
    },
    Set(OwnedSet),
    /// The group closed (by GE, or implicitly); `errors` are group-level problems.
    GroupEnd {
        header: GroupHeader,
        sets: u32,
        errors: Vec<Error>,
    },
    /// The interchange closed (by IEA, or implicitly); `errors` are interchange-level problems.
    InterchangeEnd {
        header: InterchangeHeader,
        groups: u32,
        errors: Vec<Error>,
    },
}

struct OpenGroup {
    header: GroupHeader,
    sets: u32,
    errors: Vec<Error>,
}

struct OpenInterchange {
    header: InterchangeHeader,
    delimiters: Delimiters,
    line_ending: LineEnding,
    groups: u32,
    errors: Vec<Error>,
}

/// Streams events from any reader.
///
/// ```
/// use x12::{Event, StreamReader};
/// let file: &[u8] = b"ISA*00*          *00*          *ZZ*A              *ZZ*B              *261127*1200*^*00501*000000001*0*P*:~GS*HC*A*B*20261127*1200*1*X*005010X222A1~ST*837*0001*005010X222A1~BHT*0019*00*1*20261127*1200*CH~SE*3*0001~GE*1*1~IEA*1*000000001~";
/// let sets: Vec<_> = StreamReader::new(file)
///     .filter_map(|e| match e.expect("in-memory reads cannot fail") { Event::Set(s) => Some(s), _ => None })
///     .collect();
/// assert_eq!(sets.len(), 1);
/// assert_eq!(sets[0].id, "837");
/// assert!(sets[0].is_clean());
/// ```
pub struct StreamReader<R> {
    input: R,
    /// The read buffer. Only `buf[lo..hi]` holds unconsumed input; the rest is room already
    /// initialized, so refills never zero memory again.
    buf: Vec<u8>,
    lo: usize,
    hi: usize,
    /// Bytes of the open set not yet copied into it: a range of `buf` (chunk offsets) whose
    /// segments are canonical (segment, terminator, the interchange's line ending) and
    /// adjacent, copied in one `extend_from_slice` when the run breaks or the chunk ends.
    run: Option<(usize, usize)>,
    /// Size of the last set, to size the next set's buffer in one allocation.
    set_hint: usize,
    state: Resume,
    eof: bool,
    finished: bool,
    skipping: bool,
    checker: Checker,
    events: VecDeque<Event>,
    interchange: Option<OpenInterchange>,
    group: Option<OpenGroup>,
    set: Option<OwnedSet>,
    /// The last segment seen (offset, number, id bytes), for the position of the errors that
    /// close what the input left open; kept raw because building a `Position` per segment
    /// showed in profiles.
    last: Option<(u64, u64, [u8; 3], usize)>,
    /// The last segment of the chunk in hand (offset, number, length), turned into `last` at
    /// the chunk's end.
    last_seen: Option<(u64, u64, usize)>,
}

impl<R: Read> StreamReader<R> {
    pub fn new(input: R) -> StreamReader<R> {
        StreamReader {
            input,
            buf: Vec::new(),
            lo: 0,
            hi: 0,
            run: None,
            set_hint: 4096,
            state: Resume::start(),
            eof: false,
            finished: false,
            skipping: false,
            checker: Checker::new(),
            events: VecDeque::new(),
            interchange: None,
            group: None,
            set: None,
            last: None,
            last_seen: None,
        }
    }

    fn fill(&mut self) -> io::Result<()> {
        // Move the unconsumed tail (an incomplete segment, usually a few bytes) to the front,
        // and grow only when the tail plus a chunk does not fit.
        if self.lo > 0 {
            self.buf.copy_within(self.lo..self.hi, 0);
            self.hi -= self.lo;
            self.lo = 0;
        }
        if self.buf.len() < self.hi + CHUNK {
            self.buf.resize(self.hi + CHUNK, 0);
        }
        let n = loop {
            match self.input.read(&mut self.buf[self.hi..self.hi + CHUNK]) {
                Ok(n) => break n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            }
        };
        self.hi += n;
        if n == 0 {
            self.eof = true;
        }
        Ok(())
    }

    /// Drops everything buffered (the input is being skipped).
    fn discard(&mut self) {
        self.state.base += (self.hi - self.lo) as u64;
        self.lo = 0;
        self.hi = 0;
    }

    /// Reads and tokenizes until at least one event is ready or the input ends.
    fn advance(&mut self) -> io::Result<()> {
        while self.events.is_empty() && !self.finished {
            if !self.eof {
                self.fill()?;
            }
            if self.skipping {
                let d = self.state.delimiters.expect("because skipping starts inside an interchange");
                match memchr::memchr(d.segment, &self.buf[self.lo..self.hi]) {
                    Some(i) => {
                        self.state.base += (i + 1) as u64;
                        self.lo += i + 1;
                        self.skipping = false;
                    }
                    None => {
                        self.discard();
                        if self.eof {
                            self.end();
                        }
                        continue;
                    }
                }
            }
            // The tokenizer borrows the buffer while `token` needs `self`: take the buffer out
            // for the chunk instead of collecting the tokens.
            let buf = std::mem::take(&mut self.buf);
            let chunk = &buf[self.lo..self.hi];
            let chunk_base = self.state.base;
            let mut tok = Tokenizer::resume(chunk, self.state, self.eof);
            // `next` spelled out, so that the common segment never becomes a `Token`.
            loop {
                if let Some(seg) = tok.next_segment_fast() {
                    self.segment(seg, chunk, chunk_base);
                    continue;
                }
                match tok.next_slow() {
                    Some(Token::Segment(seg)) => self.segment(seg, chunk, chunk_base),
                    Some(Token::Issue(e)) => self.route_stray(e),
                    None => break,
                }
            }
            self.flush(chunk);
            self.note_last(chunk, chunk_base, tok.state().delimiters);
            let used = tok.consumed();
            self.state = tok.state();
            self.buf = buf;
            self.lo += used;
            if self.eof {
                self.end();
            } else if self.hi - self.lo > MAX_SEGMENT && self.state.delimiters.is_some() {
                let p = Position { byte: self.state.base, segment: self.state.segments + 1, ..Position::default() };
                self.route_stray(Error::new(ErrorKind::SegmentTooLong { limit: MAX_SEGMENT }, p));
                self.discard();
                self.skipping = true;
            }
        }
        Ok(())
    }

    fn end(&mut self) {
        if self.finished {
            return;
        }
        let end = match self.last {
            Some((byte, segment, id, len)) => {
                Position { byte, segment, segment_id: Some(SegmentId::new(&id[..len])), ..Position::default() }
            }
            None => Position::default(),
        };
        let step = self.checker.finish(end);
        self.apply_closing(step);
        self.finished = true;
    }

    /// Routes an error found between segments to the innermost open structure.
    fn route_stray(&mut self, mut e: Error) {
        if e.position.segment != 0 && e.position.set_segment.is_none() {
            // An empty or unterminated segment inside a set takes the next number in it, so an
            // IK3 can point at it.
            e.position.set_segment = self.checker.set_segment().map(|n| n + 1);
        }
        if e.severity() == Severity::Warning {
            self.events.push_back(Event::Issue(e));
        } else if let Some(set) = self.set.as_mut() {
            set.errors.push(e);
        } else if let Some(i) = self.interchange.as_mut() {
            i.errors.push(e);
        } else {
            self.events.push_back(Event::Issue(e));
        }
    }

    /// Turns the last segment's offset and number, noted per segment, into the id kept for the
    /// errors of `end`: once per chunk, while the chunk is still at hand. The delimiters in
    /// force after the chunk are the last segment's (only an ISA changes them, and it is read
    /// with its own).
    fn note_last(&mut self, chunk: &[u8], chunk_base: u64, delimiters: Option<Delimiters>) {
        let Some((byte, segment, len)) = self.last_seen.take() else { return };
        let Some(d) = delimiters else { return };
        let Some(raw) = chunk.get((byte - chunk_base) as usize..).and_then(|r| r.get(..len)) else { return };
        let raw_id = SegmentRef::new(raw, d, byte, segment).id();
        let mut id = [0u8; 3];
        let n = raw_id.len().min(3);
        id[..n].copy_from_slice(&raw_id[..n]);
        self.last = Some((byte, segment, id, n));
    }

    #[inline(always)]
    fn segment(&mut self, seg: SegmentRef<'_>, buf: &[u8], chunk_base: u64) {
        self.last_seen = Some((seg.byte(), seg.index(), seg.raw().len()));
        // Nearly every segment is a clean body segment of the open set: count it, copy it,
        // and build nothing else. The id is split off once for the checker's both paths.
        let id = seg.id();
        if self.checker.feed_clean_body(&seg, id) {
            self.copy(&seg, buf, chunk_base);
            return;
        }
        self.segment_slow(seg, id, buf, chunk_base);
    }

    /// Every segment but a clean body one: the envelope, errors, and what they open or close.
    #[inline(never)]
    fn segment_slow(&mut self, seg: SegmentRef<'_>, id: &[u8], buf: &[u8], chunk_base: u64) {
        let (role, mut step) = self.checker.feed_slow(&seg, id);
        // Nearly every segment is a clean body segment: copy it and skip the bookkeeping.
        if role == Role::Body
            && step.own.is_empty()
            && step.closing.is_empty()
            && !(step.closed_set || step.closed_group || step.closed_interchange)
        {
            self.copy(&seg, buf, chunk_base);
            return;
        }
        let own = std::mem::take(&mut step.own);
        if step.closed_set {
            self.flush(buf);
        }
        self.apply_closing(step);
        match role {
            Role::Isa => {
                let off = (seg.byte() - chunk_base) as usize + seg.raw().len() + 1;
                let line_ending = LineEnding::detect(buf.get(off..).unwrap_or(b""));
                self.interchange = Some(OpenInterchange {
                    header: InterchangeHeader::from_isa(&seg),
                    delimiters: seg.delimiters(),
                    line_ending,
                    groups: 0,
                    errors: own,
                });
                let i = self.interchange.as_ref().expect("because just set");
                self.events.push_back(Event::InterchangeStart {
                    header: i.header.clone(),
                    delimiters: i.delimiters,
                    line_ending,
                    position: seg.position(),
                });
            }
            Role::Ta1 => {
                self.events.push_back(Event::Ta1 {
                    raw: seg.raw().to_vec(),
                    delimiters: seg.delimiters(),
                    position: seg.position(),
                });
            }
            Role::Gs => {
                let header = GroupHeader::from_gs(&seg);
                if let Some(i) = self.interchange.as_mut() {
                    i.groups += 1;
                }
                self.events.push_back(Event::GroupStart { header: header.clone(), position: seg.position() });
                self.group = Some(OpenGroup { header, sets: 0, errors: own });
            }
            Role::St => {
                let line_ending = self.interchange.as_ref().map(|i| i.line_ending).unwrap_or_default();
                let group = match self.group.as_mut() {
                    Some(g) => {
                        g.sets += 1;
                        g.header.clone()
                    }
                    None => GroupHeader::default(),
                };
                let set = OwnedSet {
                    bytes: Vec::with_capacity(self.set_hint),
                    delimiters: seg.delimiters(),
                    line_ending,
                    byte: seg.byte(),
                    segment: seg.index(),
                    id: String::from_utf8_lossy(seg.get(1)).into_owned(),
                    control: String::from_utf8_lossy(seg.get(2)).into_owned(),
                    version: String::from_utf8_lossy(seg.get(3)).into_owned(),
                    segment_count: 0,
                    errors: own,
                    group,
                };
                self.set = Some(set);
                self.copy(&seg, buf, chunk_base);
            }
            Role::Body => {
                self.copy(&seg, buf, chunk_base);
                if let Some(set) = self.set.as_mut() {
                    set.errors.extend(own);
                }
            }
            Role::Se => {
                self.copy(&seg, buf, chunk_base);
                self.flush(buf);
                if let Some(mut set) = self.set.take() {
                    set.errors.extend(own);
                    // With an eighth to spare: the next set is seldom exactly as long, and
                    // growing a set's buffer by doubling copies all of it once more.
                    self.set_hint = set.bytes.len().max(64) + set.bytes.len() / 8;
                    self.events.push_back(Event::Set(set));
                }
            }
            Role::Ge => {
                if let Some(mut g) = self.group.take() {
                    g.errors.extend(own);
                    self.events.push_back(Event::GroupEnd { header: g.header, sets: g.sets, errors: g.errors });
                }
            }
            Role::Iea => {
                if let Some(mut i) = self.interchange.take() {
                    i.errors.extend(own);
                    self.events.push_back(Event::InterchangeEnd {
                        header: i.header,
                        groups: i.groups,
                        errors: i.errors,
                    });
                }
            }
            Role::Stray => {
                for e in own {
                    if let Some(i) = self.interchange.as_mut() {
                        i.errors.push(e);
                    } else {
                        self.events.push_back(Event::Issue(e));
                    }
                }
            }
        }
    }

    /// Adds a segment of the open set: to the pending run when it is canonical and follows the
    /// run in the chunk, else (after copying the run) on its own.
    #[inline(always)]
    fn copy(&mut self, seg: &SegmentRef<'_>, chunk: &[u8], chunk_base: u64) {
        let Some(set) = self.set.as_mut() else { return };
        set.segment_count += 1;
        let start = (seg.byte() - chunk_base) as usize;
        let after = start + seg.raw().len() + 1;
        // The line ending compared byte by byte (a slice compare of unknown length is a
        // `bcmp` call per segment); `chunk.get` also covers one cut off by the chunk end.
        let (end, le_ok) = match set.line_ending {
            LineEnding::None => (after, true),
            LineEnding::Lf => (after + 1, chunk.get(after) == Some(&b'\n')),
            LineEnding::Cr => (after + 1, chunk.get(after) == Some(&b'\r')),
            LineEnding::CrLf => (after + 2, chunk.get(after) == Some(&b'\r') && chunk.get(after + 1) == Some(&b'\n')),
        };
        let canonical = le_ok && chunk.get(after - 1) == Some(&set.delimiters.segment);
        match self.run {
            Some((s, e)) if canonical && e == start => self.run = Some((s, end)),
            _ => Self::copy_break(&mut self.run, set, seg.raw(), canonical, start, end, chunk),
        }
    }

    /// The run breaks (or starts): copy it, then start a new one or copy the segment alone.
    #[inline(never)]
    fn copy_break(
        run: &mut Option<(usize, usize)>,
        set: &mut OwnedSet,
        raw: &[u8],
        canonical: bool,
        start: usize,
        end: usize,
        chunk: &[u8],
    ) {
        if let Some((s, e)) = run.take() {
            set.bytes.extend_from_slice(&chunk[s..e]);
        }
        if canonical {
            *run = Some((start, end));
        } else {
            set.bytes.extend_from_slice(raw);
            set.bytes.push(set.delimiters.segment);
            set.bytes.extend_from_slice(set.line_ending.as_bytes());
        }
    }

    /// Copies the pending run into the open set.
    #[inline]
    fn flush(&mut self, chunk: &[u8]) {
        if let Some((s, e)) = self.run.take() {
            if let Some(set) = self.set.as_mut() {
                set.bytes.extend_from_slice(&chunk[s..e]);
            }
        }
    }

    /// Emits the structures a step closed implicitly, with the errors that say so.
    fn apply_closing(&mut self, step: Step) {
        let mut closing = step.closing.into_iter();
        if step.closed_set {
            if let Some(mut set) = self.set.take() {
                set.errors.extend(closing.next());
                self.events.push_back(Event::Set(set));
            }
        }
        if step.closed_group {
            if let Some(mut g) = self.group.take() {
                g.errors.extend(closing.next());
                self.events.push_back(Event::GroupEnd { header: g.header, sets: g.sets, errors: g.errors });
            }
        }
        if step.closed_interchange {
            if let Some(mut i) = self.interchange.take() {
                i.errors.extend(closing.next());
                self.events.push_back(Event::InterchangeEnd { header: i.header, groups: i.groups, errors: i.errors });
            }
        }
    }
}

impl<R: Read> Iterator for StreamReader<R> {
    type Item = io::Result<Event>;

    fn next(&mut self) -> Option<io::Result<Event>> {
        if self.events.is_empty() {
            if let Err(e) = self.advance() {
                self.finished = true;
                return Some(Err(e));
            }
        }
        self.events.pop_front().map(Ok)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEAD: &str = "ISA*00*          *00*          *ZZ*A              *ZZ*B              *261127*1200*^*00501*000000001*0*P*:~GS*HC*A*B*20261127*1200*1*X*005010X222A1~ST*837*0001~BHT*0019~";

    fn set_errors(bytes: &[u8]) -> Vec<Error> {
        StreamReader::new(bytes)
            .filter_map(|e| match e.expect("in memory") {
                Event::Set(s) => Some(s.errors),
                _ => None,
            })
            .flatten()
            .collect()
    }

    /// Regression: the SE's errors carried set position 0, so an IK3 for them pointed nowhere.
    #[test]
    fn regression_se_errors_carry_their_set_position() {
        let e = set_errors(format!("{HEAD}SE*9*0001~GE*1*1~IEA*1*000000001~").as_bytes());
        assert_eq!(e.len(), 1);
        assert_eq!(e[0].position.set_segment, Some(3));
    }

    /// Gives out at most `step` bytes per read, so runs of segments break at chunk ends.
    struct Trickle<'a> {
        bytes: &'a [u8],
        step: usize,
    }

    impl Read for Trickle<'_> {
        fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
            let n = self.step.min(out.len()).min(self.bytes.len());
            out[..n].copy_from_slice(&self.bytes[..n]);
            self.bytes = &self.bytes[n..];
            Ok(n)
        }
    }

    /// Set bytes are copied in runs where the input is canonical and per segment where it is
    /// not; either way each segment must come out as segment, terminator, line ending.
    #[test]
    fn set_bytes_are_canonical_whatever_the_input_layout() {
        let isa = &HEAD[..106];
        let body = "GS*HC*A*B*20261127*1200*1*X*005010X222A1~\nST*837*0001~\nBHT*0019~\r\nNM1*41~NM1*40~\n\n  HL*1~\nTA1*x~\nCLM*1~~\nLX*1~\nSE*8*0001~\nGE*1*1~\nIEA*1*000000001~\n";
        let file = format!("{isa}\n{body}");
        let want = "ST*837*0001~\nBHT*0019~\nNM1*41~\nNM1*40~\nHL*1~\nCLM*1~\nLX*1~\nSE*8*0001~\n";
        for step in [1, 2, 3, 5, 7, 11, 64, 4096] {
            let sets: Vec<OwnedSet> = StreamReader::new(Trickle { bytes: file.as_bytes(), step })
                .filter_map(|e| match e.expect("in memory") {
                    Event::Set(s) => Some(s),
                    _ => None,
                })
                .collect();
            assert_eq!(sets.len(), 1, "step {step}");
            assert_eq!(String::from_utf8_lossy(&sets[0].bytes), want, "step {step}");
            assert_eq!(sets[0].segment_count, 8, "step {step}");
        }
    }

    /// Regression: an unterminated (or empty) segment inside a set had no set position.
    #[test]
    fn regression_unterminated_segment_in_set_has_set_position() {
        let e = set_errors(format!("{HEAD}CLM*1").as_bytes());
        assert_eq!(e[0].kind, ErrorKind::Unterminated);
        assert_eq!(e[0].position.set_segment, Some(3));
        let e = set_errors(format!("{HEAD}~SE*4*0001~").as_bytes());
        assert_eq!(e[0].kind, ErrorKind::EmptySegment);
        assert_eq!(e[0].position.set_segment, Some(3));
    }
}
