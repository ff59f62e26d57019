//! The zero-copy segment tokenizer.
//!
//! This is the hot path: terminators are found 64 bytes at a time as a bit mask (see
//! `Terminators`), so a segment costs one `trailing_zeros` instead of one `memchr` call whose
//! set-up outweighs the scan of a 20-byte segment; a one-byte test rules out `ISA` (a new
//! interchange may bring new delimiters), and nothing is allocated. It never does I/O: the
//! streaming reader feeds it chunks and asks how far it got (`consumed`), as csv-core does.
//!
//! Tolerated with a warning: a UTF-8 byte-order mark, whitespace before a segment (reported once
//! per tokenizer). CR, LF or CRLF after a terminator is normal and not reported.

use crate::delim::{isa_position, Delimiters, ISA_LEN};
use crate::error::{Error, ErrorKind, Position};
use crate::segment::SegmentRef;
use crate::simd::mask64;
use memchr::memmem;

/// What the tokenizer yields: a segment, or a problem it found between segments.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Token<'a> {
    Segment(SegmentRef<'a>),
    Issue(Error),
}

/// Tokenizer state that survives from one chunk to the next.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Resume {
    /// Byte offset of the chunk's first byte in the whole stream.
    pub base: u64,
    /// Number of segments already yielded before this chunk.
    pub segments: u64,
    /// The delimiters in force, `None` before the first ISA.
    pub delimiters: Option<Delimiters>,
    /// Whether the indentation warning was given already.
    pub warned_whitespace: bool,
    /// Where unexpected bytes before the first ISA began, while the ISA that ends them has not
    /// arrived yet: the report waits for it so that a stream read in chunks reports exactly
    /// what a whole read does.
    pub garbage: Option<u64>,
}

impl Resume {
    pub fn start() -> Resume {
        Resume { base: 0, segments: 0, delimiters: None, warned_whitespace: false, garbage: None }
    }
}

/// Width of one block of the terminator scan: one bit per byte in a `u64`. (A 128-byte block in
/// a `u128`, for half the refills, measured 40% slower.)
const BLOCK: usize = 64;
type Mask = u64;

/// The terminator positions of one 64-byte block of the input, as a bit mask, consumed as the
/// tokenizer goes.
///
/// The mask of a block is `simd::mask64` (SSE2 `movemask` on x86-64, safe portable code
/// elsewhere).
///
/// Why this and not `memchr`: segments average about 20 bytes, and a `memchr` call per segment
/// (`memchr::memchr_iter` included: its `next` is one dispatched `memchr` call over the rest of
/// the input) spends more on dispatch and vector set-up than on the scan, capping the tokenizer
/// near a fifth of a bare `memchr` count. Building the mask of a whole block once and taking one
/// bit per segment costs a `trailing_zeros` and a clear-lowest-bit.
/// The mask is for one terminator byte: a new ISA may change it, and `find` rebuilds the block
/// whenever the byte or the block differs, so the answer is always `memchr`'s.
#[derive(Clone, Copy, Debug)]
struct Terminators {
    /// Offset of the block's first byte in the chunk.
    start: usize,
    /// Bit `i` set when `bytes[start + i]` is a terminator at or after `next`; bits past the
    /// input and bits of terminators already handed out are clear.
    mask: Mask,
    /// Where the scan resumes: one past the last terminator handed out (or where the block was
    /// built). The mask answers for any position from here to the block's end.
    next: usize,
    /// The terminator the mask was built for; `None` before the first block, or once the scan
    /// ran off the end of the input.
    byte: Option<u8>,
}

impl Terminators {
    const EMPTY: Terminators = Terminators { start: 0, mask: 0, next: 0, byte: None };

    /// The mask of `bytes[start..start + BLOCK]`; a block cut short by the end of the input is
    /// padded with a byte that is not `t`, so no bit is set past the end.
    #[inline]
    fn block_mask(bytes: &[u8], start: usize, t: u8) -> Mask {
        match bytes.get(start..start + BLOCK).and_then(|b| <&[u8; BLOCK]>::try_from(b).ok()) {
            Some(block) => mask64(block, t),
            None => {
                let mut padded = [!t; BLOCK];
                let tail = bytes.get(start..).unwrap_or(b"");
                padded[..tail.len()].copy_from_slice(tail);
                mask64(&padded, t)
            }
        }
    }

    /// The first `t` at or after `from` in `bytes`, as `memchr(t, &bytes[from..])` would find it
    /// (but as an offset into `bytes`); the scan then resumes after it.
    #[inline]
    fn find(&mut self, bytes: &[u8], from: usize, t: u8) -> Option<usize> {
        if self.byte != Some(t) || from < self.next || from >= self.start + BLOCK {
            self.byte = Some(t);
            self.start = from;
            self.mask = Self::block_mask(bytes, from, t);
        } else {
            self.mask &= Mask::MAX << (from - self.start);
        }
        self.take(bytes, t)
    }

    /// The next terminator at or after `next`, when the caller knows that nothing between
    /// `next` and where it looks from is a terminator. Kept apart from `find` so that the
    /// tokenizer's loop carries only the mask from one segment to the next, not the position
    /// (a shift by `from - start` per segment made the loop a chain of dependent loads).
    #[inline(always)]
    fn take(&mut self, bytes: &[u8], t: u8) -> Option<usize> {
        while self.mask == 0 {
            if self.start + BLOCK >= bytes.len() {
                self.byte = None;
                return None;
            }
            self.start += BLOCK;
            self.mask = Self::block_mask(bytes, self.start, t);
        }
        let end = self.start + self.mask.trailing_zeros() as usize;
        self.mask &= self.mask - 1;
        self.next = end + 1;
        Some(end)
    }
}

/// Iterates the segments of `bytes`. With `last = false` (a chunk of a stream) it stops before
/// an incomplete segment instead of reporting it, and `state()` says where to resume.
pub struct Tokenizer<'a> {
    bytes: &'a [u8],
    pos: usize,
    state: Resume,
    last: bool,
    done: bool,
    pending: Option<Error>,
    terminators: Terminators,
}

impl<'a> Tokenizer<'a> {
    /// Tokenizes a whole file held in memory.
    ///
    /// ```
    /// use x12::{Token, Tokenizer};
    /// let file = b"ISA*00*          *00*          *ZZ*A              *ZZ*B              *261127*1200*^*00501*000000001*0*P*:~\nGS*HC*A*B*20261127*1200*1*X*005010X222A1~\n";
    /// let ids: Vec<String> = Tokenizer::new(file)
    ///     .filter_map(|t| match t { Token::Segment(s) => Some(String::from_utf8_lossy(s.id()).into_owned()), _ => None })
    ///     .collect();
    /// assert_eq!(ids, ["ISA", "GS"]);
    /// ```
    pub fn new(bytes: &'a [u8]) -> Tokenizer<'a> {
        Tokenizer::resume(bytes, Resume::start(), true)
    }

    /// Tokenizes one chunk of a stream, continuing from `state`.
    pub fn resume(bytes: &'a [u8], state: Resume, last: bool) -> Tokenizer<'a> {
        let mut t =
            Tokenizer { bytes, pos: 0, state, last, done: false, pending: None, terminators: Terminators::EMPTY };
        if state.base == 0 && state.segments == 0 && bytes.starts_with(b"\xEF\xBB\xBF") {
            t.pos = 3;
            t.pending = Some(Error::new(ErrorKind::ByteOrderMark, Position::at_byte(0)));
        }
        t
    }

    /// Bytes of this chunk fully consumed so far.
    pub fn consumed(&self) -> usize {
        self.pos
    }

    /// The state to resume from after `consumed()` bytes.
    pub fn state(&self) -> Resume {
        Resume { base: self.state.base + self.pos as u64, ..self.state }
    }

    #[inline]
    fn skip_whitespace(&mut self) -> bool {
        // Most segments start right after their predecessor's terminator or its one LF.
        match self.bytes.get(self.pos) {
            Some(b'\n') if !matches!(self.bytes.get(self.pos + 1), Some(b'\r' | b'\n' | b' ' | b'\t') | None) => {
                self.pos += 1;
                return false;
            }
            Some(b'\r' | b'\n' | b' ' | b'\t') | None => {}
            Some(_) => return false,
        }
        let mut indented = false;
        while let Some(&b) = self.bytes.get(self.pos) {
            match b {
                b'\r' | b'\n' => {}
                b' ' | b'\t' => indented = true,
                _ => break,
            }
            self.pos += 1;
        }
        indented
    }

    /// Before the first ISA: skip to it, reporting whatever came first (once, at its start).
    fn find_first_isa(&mut self) -> Option<Token<'a>> {
        let rest = &self.bytes[self.pos..];
        let at = self.state.base + self.pos as u64;
        match memmem::find(rest, b"ISA") {
            Some(i) => {
                self.pos += i;
                let start = match self.state.garbage.take() {
                    Some(g) => g,
                    None if i > 0 => at,
                    None => return None,
                };
                Some(Token::Issue(Error::new(ErrorKind::GarbageBeforeIsa, Position::at_byte(start))))
            }
            None if self.last => {
                self.done = true;
                self.pos = self.bytes.len();
                let start = self.state.garbage.take().unwrap_or(at);
                Some(Token::Issue(Error::new(ErrorKind::NoInterchange, Position::at_byte(start))))
            }
            None => {
                // Keep the last two bytes: they may start "ISA" in the next chunk.
                let keep = self.bytes.len().saturating_sub(2).max(self.pos);
                if keep > self.pos && self.state.garbage.is_none() {
                    self.state.garbage = Some(at);
                }
                self.pos = keep;
                self.done = true;
                None
            }
        }
    }
}

/// How far into an ISA the delimiters are looked for. Bounding the scan makes the answer the
/// same whether the bytes arrive at once or in chunks.
const ISA_SCAN: usize = 512;

impl<'a> Tokenizer<'a> {
    /// The common case, kept small enough to inline into the caller's loop: delimiters known,
    /// nothing pending, the segment starts here or after one LF, is not an ISA, and its
    /// terminator is in the chunk. `None` hands over to `next_slow`, which handles everything
    /// (including these cases) exactly as before.
    #[inline(always)]
    fn next_fast(&mut self) -> Option<Token<'a>> {
        self.next_segment_fast().map(Token::Segment)
    }

    /// `next_fast` without the `Token` around the segment, for the streaming reader: a `Token`
    /// is large (its `Issue` holds an `Error`), and moving one per segment through memory cost
    /// the reader more than the rest of its per-segment work. When this returns `None`, the
    /// caller goes on with `next_slow`, as `next` does.
    #[inline(always)]
    pub(crate) fn next_segment_fast(&mut self) -> Option<SegmentRef<'a>> {
        let d = match (self.done, &self.pending, self.state.delimiters) {
            (false, None, Some(d)) => d,
            _ => return None,
        };
        // The scan must have stopped right where the previous segment ended, with the
        // delimiters in force (the slow path may have moved on, or a new ISA come).
        if self.terminators.next != self.pos || self.terminators.byte != Some(d.segment) {
            return None;
        }
        let mut start = self.pos;
        let mut first = *self.bytes.get(start)?;
        if first <= b' ' {
            // One LF after the terminator is the common layout; anything else (and an LF that
            // is itself the terminator) is the slow path's.
            if first != b'\n' || d.segment == b'\n' {
                return None;
            }
            start += 1;
            first = *self.bytes.get(start)?;
            if first <= b' ' {
                return None;
            }
        }
        if first == b'I' || first == d.segment {
            return None;
        }
        let end = self.terminators.take(self.bytes, d.segment)?;
        self.pos = end + 1;
        self.state.segments += 1;
        let byte = self.state.base + start as u64;
        Some(SegmentRef::new(&self.bytes[start..end], d, byte, self.state.segments))
    }
}

impl<'a> Iterator for Tokenizer<'a> {
    type Item = Token<'a>;

    #[inline(always)]
    fn next(&mut self) -> Option<Token<'a>> {
        match self.next_fast() {
            Some(t) => Some(t),
            None => self.next_slow(),
        }
    }

    /// Internal iteration (`count`, `for_each`, `sum`, `filter(..).count()`, ...): the same
    /// tokens as repeated `next`, but runs of fast-path segments are served by `fold_fast`,
    /// which keeps the scan state in locals (registers) instead of reloading and storing it
    /// through `self` per segment, as `next` must because `next_slow` borrows `self`.
    #[inline]
    fn fold<B, F>(mut self, init: B, mut f: F) -> B
    where
        F: FnMut(B, Token<'a>) -> B,
    {
        let mut acc = init;
        loop {
            acc = self.fold_fast(acc, &mut f);
            match self.next_slow() {
                Some(t) => acc = call_outlined(&mut f, acc, t),
                // `next_slow` returns `None` only once `done` is set: nothing follows.
                None => return acc,
            }
        }
    }
}

/// Calls `f` from the slow path through a function of its own, so the fast path holds the
/// only direct call of `f` and the compiler inlines it there (called from two places, a large
/// consumer was left out of line, and each token went through memory to reach it).
#[inline(never)]
fn call_outlined<'a, B, F: FnMut(B, Token<'a>) -> B>(f: &mut F, acc: B, t: Token<'a>) -> B {
    f(acc, t)
}

impl<'a> Tokenizer<'a> {
    /// `next_segment_fast` over and over, with `pos`, the mask, its block and the segment count
    /// in locals, written back once when a segment is not the fast path's (or the scan ran off
    /// the input). Each step does exactly what `next_segment_fast` does, so the tokens and the
    /// state left behind are the same as from the same number of `next` calls.
    #[inline(always)]
    fn fold_fast<B, F>(&mut self, mut acc: B, f: &mut F) -> B
    where
        F: FnMut(B, Token<'a>) -> B,
    {
        let d = match (self.done, &self.pending, self.state.delimiters) {
            (false, None, Some(d)) => d,
            _ => return acc,
        };
        if self.terminators.next != self.pos || self.terminators.byte != Some(d.segment) {
            return acc;
        }
        let bytes = self.bytes;
        let t = d.segment;
        let base = self.state.base;
        let mut pos = self.pos;
        let mut segments = self.state.segments;
        let mut block = self.terminators.start;
        let mut mask = self.terminators.mask;
        let mut exhausted = false;
        loop {
            let mut start = pos;
            let Some(&b) = bytes.get(start) else { break };
            let mut first = b;
            if first <= b' ' {
                if first != b'\n' || t == b'\n' {
                    break;
                }
                start += 1;
                match bytes.get(start) {
                    Some(&b) if b > b' ' => first = b,
                    _ => break,
                }
            }
            if first == b'I' || first == t {
                break;
            }
            // `Terminators::take`, on the locals.
            while mask == 0 {
                if block + BLOCK >= bytes.len() {
                    exhausted = true;
                    break;
                }
                block += BLOCK;
                mask = Terminators::block_mask(bytes, block, t);
            }
            if exhausted {
                break;
            }
            let end = block + mask.trailing_zeros() as usize;
            mask &= mask - 1;
            pos = end + 1;
            segments += 1;
            acc = f(acc, Token::Segment(SegmentRef::new(&bytes[start..end], d, base + start as u64, segments)));
        }
        self.pos = pos;
        self.state.segments = segments;
        self.terminators = Terminators { start: block, mask, next: pos, byte: if exhausted { None } else { Some(t) } };
        acc
    }
}

impl<'a> Tokenizer<'a> {
    /// Everything, the fast path's cases included.
    #[inline(never)]
    pub(crate) fn next_slow(&mut self) -> Option<Token<'a>> {
        if let Some(e) = self.pending.take() {
            return Some(Token::Issue(e));
        }
        if self.done {
            return None;
        }
        let before_whitespace = self.pos;
        let indented = self.skip_whitespace();
        if self.pos >= self.bytes.len() {
            self.done = true;
            if !self.last {
                // The whitespace may indent a segment of the next chunk: leave it unconsumed so
                // the indentation warning comes out as in a whole read.
                self.pos = before_whitespace;
            } else if self.state.delimiters.is_none() {
                let start = self.state.garbage.take().unwrap_or(self.state.base + self.pos as u64);
                return Some(Token::Issue(Error::new(ErrorKind::NoInterchange, Position::at_byte(start))));
            }
            return None;
        }
        if indented && !self.state.warned_whitespace && self.state.delimiters.is_some() {
            self.state.warned_whitespace = true;
            let p = Position::at_byte(self.state.base + self.pos as u64);
            return Some(Token::Issue(Error::new(ErrorKind::LeadingWhitespace, p)));
        }
        if self.state.delimiters.is_none() {
            if let Some(t) = self.find_first_isa() {
                return Some(t);
            }
            if self.done {
                return None;
            }
        }
        let start = self.pos;
        let rest = &self.bytes[start..];
        let byte = self.state.base + start as u64;

        // A new interchange may change every delimiter: read them from its ISA.
        if rest.first() == Some(&b'I') && rest.starts_with(b"ISA") {
            let parsed = Delimiters::from_isa(&rest[..rest.len().min(ISA_SCAN)]);
            if !self.last {
                // Wait for the whole ISA and the line break after it (CRLF is two bytes).
                let more = match parsed {
                    Ok(layout) => rest.len() < layout.body_len + 3,
                    Err(ErrorKind::IsaTooShort) => rest.len() < ISA_SCAN,
                    Err(_) => false,
                };
                if more {
                    self.done = true;
                    return None;
                }
            }
            match parsed {
                Ok(layout) => {
                    self.state.delimiters = Some(layout.delimiters);
                    let raw = &rest[..layout.body_len];
                    self.pos = start + layout.body_len + 1;
                    self.state.segments += 1;
                    let seg = SegmentRef::new(raw, layout.delimiters, byte, self.state.segments);
                    if layout.body_len + 1 != ISA_LEN {
                        self.pending = Some(Error::new(ErrorKind::IsaNotFixedLength, seg.position()));
                    }
                    return Some(Token::Segment(seg));
                }
                Err(kind) if self.state.delimiters.is_none() => {
                    // Nothing to go on: skip past this "ISA"; what follows up to the next ISA
                    // is reported as data before the first interchange.
                    self.pos = start + 3;
                    self.state.segments += 1;
                    let p = isa_position(byte, self.state.segments);
                    return Some(Token::Issue(Error::new(kind, p)));
                }
                Err(kind) => {
                    // Keep the delimiters in force and tokenize this ISA with them.
                    self.pending = Some(Error::new(kind, isa_position(byte, self.state.segments + 1)));
                }
            }
        }

        let d = self.state.delimiters.expect("because the first ISA set the delimiters or we returned above");
        match self.terminators.find(self.bytes, start, d.segment).map(|end| end - start) {
            Some(len) => {
                self.pos = start + len + 1;
                self.state.segments += 1;
                let seg = SegmentRef::new(&rest[..len], d, byte, self.state.segments);
                if len == 0 {
                    return Some(Token::Issue(Error::new(ErrorKind::EmptySegment, seg.position())));
                }
                Some(Token::Segment(seg))
            }
            None if self.last => {
                self.done = true;
                self.pos = self.bytes.len();
                let seg = SegmentRef::new(rest, d, byte, self.state.segments + 1);
                Some(Token::Issue(Error::new(ErrorKind::Unterminated, seg.position())))
            }
            None => {
                self.done = true;
                None
            }
        }
    }
}

/// Counts segment terminators with a bare `memchr` scan: the floor the tokenizer is measured
/// against in `make bench`.
pub fn count_terminators(bytes: &[u8], terminator: u8) -> usize {
    memchr::memchr_iter(terminator, bytes).count()
}

#[cfg(test)]
mod tests {
    use super::*;

    const ISA: &str =
        "ISA*00*          *00*          *ZZ*SENDER         *ZZ*RECEIVER       *261127*1200*^*00501*000000001*0*P*:~";

    fn ids(bytes: &[u8]) -> (Vec<String>, Vec<ErrorKind>) {
        let mut ids = Vec::new();
        let mut issues = Vec::new();
        for t in Tokenizer::new(bytes) {
            match t {
                Token::Segment(s) => ids.push(String::from_utf8_lossy(s.id()).into_owned()),
                Token::Issue(e) => issues.push(e.kind),
            }
        }
        (ids, issues)
    }

    #[test]
    fn crlf_lf_and_none_between_segments() {
        for sep in ["", "\n", "\r\n", "\r"] {
            let f = format!("{ISA}{sep}GS*HC~{sep}ST*837*1~{sep}");
            assert_eq!(ids(f.as_bytes()), (vec!["ISA".into(), "GS".into(), "ST".into()], vec![]), "sep {sep:?}");
        }
    }

    #[test]
    fn bom_and_indentation_are_warnings() {
        let f = format!("\u{feff}{ISA}\n  GS*HC~\n  ST*837*1~");
        let (i, e) = ids(f.as_bytes());
        assert_eq!(i, ["ISA", "GS", "ST"]);
        assert_eq!(e, [ErrorKind::ByteOrderMark, ErrorKind::LeadingWhitespace]);
    }

    #[test]
    fn garbage_before_isa_is_reported_and_skipped() {
        let f = format!("hello{ISA}GS*HC~");
        let (i, e) = ids(f.as_bytes());
        assert_eq!(i, ["ISA", "GS"]);
        assert_eq!(e, [ErrorKind::GarbageBeforeIsa]);
        assert_eq!(ids(b"nothing here"), (vec![], vec![ErrorKind::NoInterchange]));
    }

    #[test]
    fn truncated_file_reports_unterminated_with_position() {
        let f = format!("{ISA}GS*HC~ST*83");
        let mut t = Tokenizer::new(f.as_bytes());
        let last = t.by_ref().last().expect("tokens");
        match last {
            Token::Issue(e) => {
                assert_eq!(e.kind, ErrorKind::Unterminated);
                assert_eq!(e.position.byte, 112);
                assert_eq!(e.position.segment, 3);
            }
            other => panic!("expected issue, got {other:?}"),
        }
    }

    #[test]
    fn second_interchange_may_change_delimiters() {
        let isa2 = ISA.replace('*', "|").replace('~', "\x1c").replace(':', ">");
        let f = format!("{ISA}\nIEA*0*000000001~\n{isa2}GS|HC|X\x1cIEA|1|000000001\x1c");
        let segs: Vec<_> = Tokenizer::new(f.as_bytes())
            .filter_map(|t| if let Token::Segment(s) = t { Some(s) } else { None })
            .collect();
        assert_eq!(segs.len(), 5);
        assert_eq!(segs[3].id(), b"GS");
        assert_eq!(segs[3].element(2), Some(&b"X"[..]));
        assert_eq!(segs[3].delimiters().element, b'|');
    }

    /// The block scan must answer exactly what `memchr` answers, wherever the search starts,
    /// across block boundaries and at the end of the input.
    #[test]
    fn terminator_blocks_agree_with_memchr() {
        let mut bytes = Vec::new();
        let mut x = 0x2545_f491_4f6c_dd1du64;
        for _ in 0..700 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            bytes.push(match x % 53 {
                0..=2 => b'~',
                3 => b'|',
                r => b'a' + (r % 26) as u8,
            });
        }
        for len in [0, 1, 63, 64, 65, 127, 128, 129, 700] {
            let hay = &bytes[..len];
            let mut t = Terminators::EMPTY;
            // Forward, as the tokenizer goes, then jumping about and switching terminator.
            let mut from = 0;
            while from < len {
                let want = memchr::memchr(b'~', &hay[from..]).map(|i| from + i);
                assert_eq!(t.find(hay, from, b'~'), want, "len {len} from {from}");
                from = want.map_or(len, |i| i + 1);
            }
            for from in (0..len).rev().step_by(7) {
                for term in [b'~', b'|'] {
                    let want = memchr::memchr(term, &hay[from..]).map(|i| from + i);
                    assert_eq!(t.find(hay, from, term), want, "len {len} from {from} term {term}");
                }
            }
        }
    }

    /// `fold` (internal iteration, run in locals) must yield exactly what `next` yields, on
    /// inputs that leave and re-enter its fast path at every kind of slow case and across
    /// block boundaries, whole and as a non-final chunk.
    #[test]
    fn fold_agrees_with_next() {
        let isa2 = ISA.replace('*', "|").replace('~', "\n").replace(':', ">");
        let pieces: [&str; 14] = [
            "GS*HC*A~",
            "ST*837*0001~\n",
            "NM1*IL*1*SOME*NAME****MI*123456789~\n",
            "~",
            "\n\n",
            "\r\n",
            "  ",
            "\t",
            ISA,
            "ISA*bad~",
            "I*x~",
            "SE*2*0001~\r\n",
            "garbage",
            "HI*ABK:M47816^ABF:M5416~",
        ];
        let mut x = 0x9e37_79b9_7f4a_7c15u64;
        for case in 0..3000 {
            let mut f = String::new();
            if case % 3 == 0 {
                f.push('\u{feff}');
            }
            if case % 5 != 1 {
                f.push_str(ISA);
            }
            let n = case % 97;
            for _ in 0..n {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                match x % 40 {
                    0 => f.push_str(&isa2),
                    r => f.push_str(pieces[(r as usize) % pieces.len()]),
                }
            }
            if case % 4 == 2 {
                f.push_str("ST*83");
            }
            let bytes = f.as_bytes();
            for last in [true, false] {
                let by_next: Vec<Token<'_>> = Tokenizer::resume(bytes, Resume::start(), last).collect();
                let by_fold = Tokenizer::resume(bytes, Resume::start(), last).fold(Vec::new(), |mut v, t| {
                    v.push(t);
                    v
                });
                assert_eq!(by_fold, by_next, "case {case} last {last}: {f:?}");
            }
        }
    }

    #[test]
    fn empty_segment_is_an_issue() {
        let f = format!("{ISA}~GS*HC~");
        assert_eq!(ids(f.as_bytes()), (vec!["ISA".into(), "GS".into()], vec![ErrorKind::EmptySegment]));
    }

    #[test]
    fn chunks_resume_where_they_stopped() {
        let f = format!("{ISA}\nGS*HC*A~\nST*837*0001~\nSE*2*0001~\n");
        let bytes = f.as_bytes();
        for cut in 0..bytes.len() {
            let mut state = Resume::start();
            let mut got = Vec::new();
            let mut t = Tokenizer::resume(&bytes[..cut], state, false);
            for tok in t.by_ref() {
                if let Token::Segment(s) = tok {
                    got.push((s.byte(), s.raw().to_vec()));
                }
            }
            let used = t.consumed();
            state = t.state();
            let mut t2 = Tokenizer::resume(&bytes[used..], state, true);
            for tok in t2.by_ref() {
                if let Token::Segment(s) = tok {
                    got.push((s.byte(), s.raw().to_vec()));
                }
            }
            let whole: Vec<_> = Tokenizer::new(bytes)
                .filter_map(|t| if let Token::Segment(s) = t { Some((s.byte(), s.raw().to_vec())) } else { None })
                .collect();
            assert_eq!(got, whole, "cut at {cut}");
        }
    }

    /// Tokenizes `bytes` in chunks of `step` bytes, as the streaming reader does, keeping what
    /// each chunk leaves unconsumed.
    fn chunked(bytes: &[u8], step: usize) -> Vec<Token<'static>> {
        let mut out = Vec::new();
        let mut state = Resume::start();
        let mut buf: Vec<u8> = Vec::new();
        let mut fed = 0;
        loop {
            let next = (fed + step).min(bytes.len());
            buf.extend_from_slice(&bytes[fed..next]);
            fed = next;
            let last = fed == bytes.len();
            let mut t = Tokenizer::resume(&buf, state, last);
            for tok in t.by_ref() {
                out.push(match tok {
                    Token::Segment(s) => Token::Issue(Error::new(ErrorKind::EmptySegment, s.position())),
                    Token::Issue(e) => Token::Issue(e),
                });
            }
            let used = t.consumed();
            state = t.state();
            buf.drain(..used);
            if last {
                return out;
            }
        }
    }

    fn whole(bytes: &[u8]) -> Vec<Token<'static>> {
        chunked(bytes, bytes.len().max(1))
    }

    /// Regression: garbage before the first ISA was dropped without a report when no ISA was
    /// in the same chunk, and reported at the wrong offset when it was.
    #[test]
    fn regression_garbage_before_isa_is_reported_once_whatever_the_chunks() {
        let f = format!("garbage here\n{ISA}GS*HC~");
        for step in 1..20 {
            assert_eq!(chunked(f.as_bytes(), step), whole(f.as_bytes()), "step {step}");
        }
        assert_eq!(ids(b"nothing here"), (vec![], vec![ErrorKind::NoInterchange]));
    }

    /// Regression: an ISA whose sixteenth separator lay past the end of a chunk was reported as
    /// too short instead of being waited for.
    #[test]
    fn regression_isa_split_across_chunks_is_waited_for() {
        let long = ISA.replace("SENDER         ", "SENDER                              ");
        let f = format!("{long}GS*HC~");
        for step in [50, 107, 110, 120, 130] {
            assert_eq!(chunked(f.as_bytes(), step), whole(f.as_bytes()), "step {step}");
        }
        assert_eq!(Delimiters::from_isa(b"ISA"), Err(ErrorKind::IsaTooShort));
    }

    /// Regression: indentation that ended a chunk was consumed there and the warning lost.
    #[test]
    fn regression_indentation_at_a_chunk_end_still_warns() {
        let f = format!("{ISA}\n    GS*HC~");
        for step in 100..115 {
            assert_eq!(chunked(f.as_bytes(), step), whole(f.as_bytes()), "step {step}");
        }
        assert!(whole(f.as_bytes())
            .iter()
            .any(|t| matches!(t, Token::Issue(e) if e.kind == ErrorKind::LeadingWhitespace)));
    }

    /// Regression: an empty file (or one of blank lines) yielded nothing at all and so passed
    /// validation.
    #[test]
    fn regression_empty_input_has_no_interchange() {
        assert_eq!(ids(b""), (vec![], vec![ErrorKind::NoInterchange]));
        assert_eq!(ids(b"\n\r\n"), (vec![], vec![ErrorKind::NoInterchange]));
    }
}
