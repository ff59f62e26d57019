//! Typed element values: money, quantities, dates, NPIs, and the element checks built on them.

use crate::issue::{Issue, IssueCode};
use chrono::NaiveDate;
use rust_decimal::Decimal;
use std::str::FromStr;
use x12::SegmentRef;

/// Parses an X12 `R` (decimal) value: optional minus, digits, at most one point, at most 18
/// digits. Stricter than `Decimal::from_str`, which also takes `_` and exponents.
pub fn decimal(b: &[u8]) -> Option<Decimal> {
    let (negative, digits) = match b {
        [b'-', rest @ ..] => (true, rest),
        _ => (false, b),
    };
    let len = digits.len();
    if len == 0 || len > 19 {
        return None;
    }
    // At most 19 digits fit a u64, so the mantissa is accumulated before the digit count is
    // checked; the value is then built directly instead of re-parsing the text. `point` is
    // where the decimal point is, `len` for none.
    let mut mantissa = 0u64;
    let mut point = len;
    for (i, &c) in digits.iter().enumerate() {
        let d = c.wrapping_sub(b'0');
        if d < 10 {
            mantissa = mantissa * 10 + u64::from(d);
        } else if c == b'.' && point == len {
            point = i;
        } else {
            return None;
        }
    }
    let n = if point == len { len } else { len - 1 };
    if n == 0 || n > 18 {
        return None;
    }
    let scale = if point == len { 0 } else { len - 1 - point };
    if scale == 0 && point != len || negative && mantissa == 0 {
        return general_decimal(b);
    }
    // < 10^18 with a scale of at most 18: `Decimal::from_parts` takes it as is (and, unlike
    // `Decimal::new`, is inlined).
    Some(Decimal::from_parts(mantissa as u32, (mantissa >> 32) as u32, 0, negative, scale as u32))
}

/// `1.` and negative zero: left to the general parser, which decides their scale and sign.
/// Out of line, so [`decimal`]'s common path saves fewer registers.
#[cold]
#[inline(never)]
fn general_decimal(b: &[u8]) -> Option<Decimal> {
    Decimal::from_str(std::str::from_utf8(b).ok()?).ok()
}

/// An exact running sum of amounts for the one-pass balancing checks, held as an integer count
/// of ten-thousandths (cheaper than adding `Decimal`s). A term it cannot hold exactly (more
/// than four decimals, or more than 14 digits) makes the sum unknown: [`Sum::same`] is then false
/// and the caller leaves the decision to its `Decimal` validator. Within these bounds
/// `Decimal` arithmetic is exact too, so a known sum equals the `Decimal` one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Sum(Option<i64>);

impl Sum {
    pub const ZERO: Sum = Sum(Some(0));

    /// The sum of one amount.
    #[inline]
    pub fn of(d: Decimal) -> Sum {
        const SCALE: [i64; 5] = [10_000, 1_000, 100, 10, 1];
        let m = d.mantissa();
        match SCALE.get(d.scale() as usize) {
            Some(&k) if m.unsigned_abs() < 100_000_000_000_000 => Sum(Some(m as i64 * k)),
            _ => Sum(None),
        }
    }

    #[inline]
    pub fn plus(self, other: Sum) -> Sum {
        match (self.0, other.0) {
            (Some(a), Some(b)) => Sum(a.checked_add(b)),
            _ => Sum(None),
        }
    }

    #[inline]
    pub fn minus(self, other: Sum) -> Sum {
        match (self.0, other.0) {
            (Some(a), Some(b)) => Sum(a.checked_sub(b)),
            _ => Sum(None),
        }
    }

    /// Whether both sums are known and equal.
    #[inline]
    pub fn same(self, other: Sum) -> bool {
        matches!((self.0, other.0), (Some(a), Some(b)) if a == b)
    }
}

impl std::ops::AddAssign<Decimal> for Sum {
    #[inline]
    fn add_assign(&mut self, d: Decimal) {
        *self = self.plus(Sum::of(d));
    }
}

/// An unsigned number as `str::parse` reads it (an optional `+`, then digits), without
/// going through `str`.
pub(crate) fn unsigned<T: TryFrom<u64>>(b: &[u8]) -> Option<T> {
    let digits = b.strip_prefix(b"+").unwrap_or(b);
    if digits.is_empty() || digits.len() > 19 || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    T::try_from(digits.iter().fold(0u64, |a, &d| a * 10 + u64::from(d - b'0'))).ok()
}

/// Parses a `D8` date, CCYYMMDD.
pub fn date8(b: &[u8]) -> Option<NaiveDate> {
    if b.len() != 8 || !b.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let n = |r: std::ops::Range<usize>| b[r].iter().fold(0u32, |a, &d| a * 10 + u32::from(d - b'0'));
    NaiveDate::from_ymd_opt(n(0..4) as i32, n(4..6), n(6..8))
}

/// Parses an `RD8` range, CCYYMMDD-CCYYMMDD, start not after end.
pub fn range8(b: &[u8]) -> Option<(NaiveDate, NaiveDate)> {
    if b.len() != 17 || b[8] != b'-' {
        return None;
    }
    let (from, to) = (date8(&b[..8])?, date8(&b[9..])?);
    (from <= to).then_some((from, to))
}

/// A date element whose format is given by a qualifier (`D8` or `RD8`): the start and end.
pub fn dated(qualifier: &[u8], value: &[u8]) -> Option<(NaiveDate, NaiveDate)> {
    match qualifier {
        b"D8" => date8(value).map(|d| (d, d)),
        b"RD8" => range8(value),
        _ => None,
    }
}

/// Checks an NPI: ten digits whose last is the Luhn check digit over `80840` + the first nine.
///
/// ```
/// assert!(hipaa::npi_valid("1234567893"));
/// assert!(!hipaa::npi_valid("1234567890"));
/// ```
pub fn npi_valid(npi: &str) -> bool {
    let b = npi.as_bytes();
    if b.len() != 10 || !b.iter().all(u8::is_ascii_digit) {
        return false;
    }
    // 24 is the Luhn contribution of the constant prefix 80840.
    let mut sum = 24u32;
    for (i, &d) in b[..9].iter().rev().enumerate() {
        let mut v = u32::from(d - b'0');
        if i % 2 == 0 {
            v *= 2;
            if v > 9 {
                v -= 9;
            }
        }
        sum += v;
    }
    (10 - sum % 10) % 10 == u32::from(b[9] - b'0')
}

/// Text of an element, `""` when absent or not UTF-8.
pub fn text<'a, T: From<&'a str>>(b: &'a [u8]) -> T {
    T::from(std::str::from_utf8(b).unwrap_or(""))
}

/// The id and elements of one segment, split once: `get(n)` is an index instead of a rescan
/// from the segment start (what `SegmentRef::get` does). Only separator offsets are kept
/// (small and cheap to build); segments with more than `FIELDS` elements, or longer than
/// 64 KiB, fall back to `SegmentRef::get` past what is stored.
#[derive(Clone, Copy)]
pub(crate) struct Fields<'a> {
    pub seg: SegmentRef<'a>,
    pub id: &'a [u8],
    /// The segment as text when known to be UTF-8 (see [`Fields::with_text`]), so element
    /// text is sliced out of it instead of validated element by element.
    text: Option<&'a str>,
    /// `ends[0]` is the separator after the id, `ends[k]` the end of element `k`.
    ends: [u16; FIELDS + 1],
    n: u8,
    more: bool,
}

const FIELDS: usize = 24;

impl<'a> Fields<'a> {
    #[inline]
    pub fn new(seg: &SegmentRef<'a>) -> Fields<'a> {
        Fields::within(seg, &[])
    }

    /// [`Fields::new`] for a segment that lies inside `backing` (the bytes of its set): the
    /// separator scan then reads 64-byte blocks in place instead of copying them out (a copy
    /// of a short segment stalls the vector loads that follow it). Blocks that would run past
    /// `backing`, or a segment outside it, are copied.
    #[inline]
    pub fn within(seg: &SegmentRef<'a>, backing: &'a [u8]) -> Fields<'a> {
        let raw = seg.raw();
        // Where the segment starts in `backing`, by address (a slice of the same bytes).
        let off = (raw.as_ptr() as usize).wrapping_sub(backing.as_ptr() as usize);
        let sep = seg.delimiters().element;
        let mut f = Fields { seg: *seg, id: raw, text: None, ends: [0; FIELDS + 1], n: 0, more: false };
        // Nearly every segment: one 64-byte block read in place, at most `FIELDS` elements.
        if raw.len() < 64 {
            if let Some(block) = backing.get(off..).and_then(|b| b.first_chunk::<64>()) {
                let mut hits = x12::simd::mask64(block, sep) & ((1u64 << raw.len()) - 1);
                if hits == 0 {
                    return f;
                }
                // (A segment of at most `FIELDS` bytes cannot have more separators: no popcount,
                // which baseline x86-64 does in software.)
                if raw.len() <= FIELDS || (hits.count_ones() as usize) <= FIELDS {
                    let first = hits.trailing_zeros() as usize;
                    hits &= hits - 1;
                    f.id = &raw[..first];
                    f.ends[0] = first as u16;
                    let mut n = 0;
                    while hits != 0 {
                        n += 1;
                        f.ends[n] = hits.trailing_zeros() as u16;
                        hits &= hits - 1;
                    }
                    n += 1;
                    f.ends[n] = raw.len() as u16;
                    f.n = n as u8;
                    return f;
                }
            }
        }
        Fields::within_blocks(f, off, backing)
    }

    /// [`Fields::within`] for a long segment, one outside `backing`, or one near its end.
    #[inline(never)]
    fn within_blocks(mut f: Fields<'a>, off: usize, backing: &'a [u8]) -> Fields<'a> {
        let raw = f.seg.raw();
        let inside = off < backing.len() && backing.len() - off >= raw.len();
        let sep = f.seg.delimiters().element;
        // Separators 64 bytes at a time, with the tokenizer's SIMD kernel on a copy of each
        // block (segments are short: nearly all are one block).
        let mut first = None;
        let mut n = 0usize;
        let mut base = 0;
        while base < raw.len() {
            let len = (raw.len() - base).min(64);
            let in_place = if inside { backing.get(off + base..off + base + 64) } else { None };
            let mut hits = match in_place.and_then(|b| <&[u8; 64]>::try_from(b).ok()) {
                Some(block) => x12::simd::mask64(block, sep),
                None => {
                    let mut block = [0u8; 64];
                    block[..len].copy_from_slice(&raw[base..base + len]);
                    x12::simd::mask64(&block, sep)
                }
            };
            if len < 64 {
                hits &= (1u64 << len) - 1;
            }
            while hits != 0 {
                let at = base + hits.trailing_zeros() as usize;
                hits &= hits - 1;
                if first.is_none() {
                    first = Some(at);
                    f.id = &raw[..at];
                    if raw.len() > usize::from(u16::MAX) {
                        f.more = true;
                        return f;
                    }
                    f.ends[0] = at as u16;
                    continue;
                }
                if n == FIELDS {
                    f.n = n as u8;
                    f.more = true;
                    return f;
                }
                n += 1;
                f.ends[n] = at as u16;
            }
            base += 64;
        }
        if first.is_none() {
            return f;
        }
        if n == FIELDS {
            f.more = true;
        } else {
            n += 1;
            f.ends[n] = raw.len() as u16;
        }
        f.n = n as u8;
        f
    }

    /// Splits a segment that lies inside `whole`, text known to be UTF-8 (a whole set checked
    /// once): element text is then sliced, not validated again. A segment outside `whole` is
    /// split as by [`Fields::new`].
    #[inline]
    pub fn with_text(seg: &SegmentRef<'a>, backing: &'a [u8], whole: Option<&'a str>) -> Fields<'a> {
        let mut f = Fields::within(seg, backing);
        if let Some(w) = whole {
            let raw = seg.raw();
            // Where the segment starts in `whole`, by address: a slice of the same bytes.
            let off = (raw.as_ptr() as usize).wrapping_sub(w.as_ptr() as usize);
            f.text = off.checked_add(raw.len()).filter(|&end| end <= w.len()).and_then(|end| w.get(off..end));
        }
        f
    }

    /// Element `n` as text, `""` when absent or not UTF-8: `text(self.get(n))`, without
    /// validating again when the segment's text is known.
    #[inline]
    pub fn str(&self, n: usize) -> &'a str {
        match self.known(n) {
            Some(t) => t,
            None => std::str::from_utf8(self.get(n)).unwrap_or(""),
        }
    }

    /// Element `n` sliced from the segment's known text (`None` when that text is unknown or
    /// the element is past what was split): a cut inside a multibyte character, which no
    /// `from_utf8` of the bytes would take either, reads as `""`.
    #[inline]
    pub(crate) fn known(&self, n: usize) -> Option<&'a str> {
        let t = self.text?;
        if n == 0 || n > usize::from(self.n) {
            return if n == 0 || !self.more { Some("") } else { None };
        }
        let (a, b) = (usize::from(self.ends[n - 1]) + 1, usize::from(self.ends[n]));
        Some(t.get(a..b).unwrap_or(""))
    }

    /// The components of element `n` as text, each as `text` of its bytes would read it.
    #[inline]
    pub fn components(&self, n: usize, sep: u8) -> Components<'a> {
        match self.known(n) {
            Some(t) => Components { text: Some(t), bytes: t.as_bytes(), at: Some(0), sep },
            None => Components { text: None, bytes: self.get(n), at: Some(0), sep },
        }
    }

    /// [`Fields::str`] as model text.
    #[inline]
    pub fn text<S: From<&'a str>>(&self, n: usize) -> S {
        S::from(self.str(n))
    }

    /// Element `n` (1-based), empty when absent, as `SegmentRef::get`.
    #[inline(always)]
    pub fn get(&self, n: usize) -> &'a [u8] {
        if n == 0 {
            b""
        } else if n <= usize::from(self.n) {
            &self.seg.raw()[usize::from(self.ends[n - 1]) + 1..usize::from(self.ends[n])]
        } else if self.more {
            self.past_stored(n)
        } else {
            b""
        }
    }

    /// An element past the stored ones, of a segment with more (rare: kept out of line).
    #[cold]
    #[inline(never)]
    fn past_stored(&self, n: usize) -> &'a [u8] {
        self.seg.get(n)
    }
}

/// The components of one element (or repetition), as `x12::components`, by a plain byte scan
/// (components are a few bytes long, shorter than a `memchr` call is worth).
#[inline]
pub(crate) fn components(el: &[u8], sep: u8) -> impl Iterator<Item = &[u8]> {
    let mut rest = Some(el);
    std::iter::from_fn(move || {
        let r = rest?;
        match r.iter().position(|&c| c == sep) {
            Some(i) => {
                rest = Some(&r[i + 1..]);
                Some(&r[..i])
            }
            None => {
                rest = None;
                Some(r)
            }
        }
    })
}

/// The components of one element as text (see [`Fields::components`]), each as `text` of
/// its bytes would read it: sliced from the element's text when known (a piece is `""`
/// exactly when a separator byte cuts a multibyte character, as `from_utf8` of its bytes
/// would fail), else validated piece by piece.
pub(crate) struct Components<'a> {
    text: Option<&'a str>,
    bytes: &'a [u8],
    /// Start of the next piece; `None` once the last was given.
    at: Option<usize>,
    sep: u8,
}

impl<'a> Iterator for Components<'a> {
    /// The piece's bytes and its text.
    type Item = (&'a [u8], &'a str);

    #[inline]
    fn next(&mut self) -> Option<(&'a [u8], &'a str)> {
        let from = self.at?;
        let end = match self.bytes[from..].iter().position(|&c| c == self.sep) {
            Some(i) => {
                self.at = Some(from + i + 1);
                from + i
            }
            None => {
                self.at = None;
                self.bytes.len()
            }
        };
        let raw = &self.bytes[from..end];
        Some((
            raw,
            match self.text {
                Some(t) => t.get(from..end).unwrap_or(""),
                None => std::str::from_utf8(raw).unwrap_or(""),
            },
        ))
    }
}

/// A segment whose elements are read by number: a `SegmentRef` (each read rescans the segment
/// from its start) or a [`Fields`] (split once, each read an index). The [`Checks`] take either.
pub trait Elements<'a> {
    /// The segment itself (for positions and its id).
    fn segment(&self) -> &SegmentRef<'a>;
    /// Element `n` (1-based), empty when absent.
    fn field(&self, n: usize) -> &'a [u8];
    /// How many elements the segment has (after its id).
    fn count(&self) -> usize {
        self.segment().elements().count()
    }
}

impl<'a> Elements<'a> for SegmentRef<'a> {
    #[inline]
    fn segment(&self) -> &SegmentRef<'a> {
        self
    }

    #[inline]
    fn field(&self, n: usize) -> &'a [u8] {
        self.get(n)
    }
}

impl<'a> Elements<'a> for Fields<'a> {
    #[inline]
    fn segment(&self) -> &SegmentRef<'a> {
        &self.seg
    }

    #[inline]
    fn count(&self) -> usize {
        if self.more {
            self.seg.elements().count()
        } else {
            usize::from(self.n)
        }
    }

    #[inline]
    fn field(&self, n: usize) -> &'a [u8] {
        self.get(n)
    }
}

/// A set's text when its model is read (`extract`) and it is UTF-8: element text is then sliced
/// from it, checked once. (A set is UTF-8 only with an ASCII element separator, as `ST*` shows,
/// so element text is never cut inside a character.)
pub(crate) fn set_text(set: &x12::OwnedSet, extract: bool) -> Option<&str> {
    if extract {
        std::str::from_utf8(&set.bytes).ok()
    } else {
        None
    }
}

/// What a one-pass reader of a set carries whatever its guide: its checks, whether it fills a
/// model, and the set's bytes (and text, when UTF-8) to split segments in place.
pub(crate) struct Reading<'i, 'a> {
    pub c: Checks<'i>,
    pub extract: bool,
    whole: Option<&'a str>,
    backing: &'a [u8],
}

impl<'i, 'a> Reading<'i, 'a> {
    pub fn new(
        set_start: u64,
        issues: &'i mut Vec<Issue>,
        extract: bool,
        whole: Option<&'a str>,
        backing: &'a [u8],
    ) -> Reading<'i, 'a> {
        Reading { c: Checks::new(set_start, issues), extract, whole, backing }
    }

    /// A segment of the set, split (`Fields::with_text`).
    #[inline]
    pub fn split(&self, seg: &SegmentRef<'a>) -> Fields<'a> {
        Fields::with_text(seg, self.backing, self.whole)
    }
}

/// Element checks for one transaction set, collecting issues with positions.
pub struct Checks<'i> {
    pub set_start: u64,
    pub issues: &'i mut Vec<Issue>,
}

/// The segment id as text, for messages (only built when something is reported).
fn id_text<'a>(seg: &SegmentRef<'a>) -> std::borrow::Cow<'a, str> {
    String::from_utf8_lossy(seg.id())
}

impl<'i> Checks<'i> {
    pub fn new(set_start: u64, issues: &'i mut Vec<Issue>) -> Checks<'i> {
        Checks { set_start, issues }
    }

    #[cold]
    #[inline(never)]
    fn push(
        &mut self,
        seg: &SegmentRef<'_>,
        l: &'static str,
        el: usize,
        comp: Option<u16>,
        code: IssueCode,
        what: String,
    ) {
        self.issues.push(Issue::element(seg, self.set_start, Some(l), el as u16, comp, code, what));
    }

    /// A required element: present and not empty.
    #[inline]
    pub fn required<'s>(&mut self, seg: &impl Elements<'s>, l: &'static str, el: usize) -> bool {
        self.required_v(seg.segment(), seg.field(el), l, el)
    }

    #[inline]
    fn required_v(&mut self, seg: &SegmentRef<'_>, v: &[u8], l: &'static str, el: usize) -> bool {
        if v.is_empty() {
            self.missing(seg, l, el);
            return false;
        }
        true
    }

    #[cold]
    #[inline(never)]
    fn missing(&mut self, seg: &SegmentRef<'_>, l: &'static str, el: usize) {
        let id = id_text(seg);
        let what = format!("required element {id}{el:02} missing");
        self.push(seg, l, el, None, IssueCode::RequiredElementMissing, what);
    }

    /// A code value from a fixed list (checked only when present).
    #[inline]
    pub fn code<'s>(&mut self, seg: &impl Elements<'s>, l: &'static str, el: usize, allowed: &[&str]) -> bool {
        self.code_v(seg.segment(), seg.field(el), l, el, allowed)
    }

    #[inline]
    fn code_v(&mut self, seg: &SegmentRef<'_>, v: &[u8], l: &'static str, el: usize, allowed: &[&str]) -> bool {
        if v.is_empty() || allowed.iter().any(|a| a.as_bytes() == v) {
            return true;
        }
        self.invalid_code(seg, l, el);
        false
    }

    #[cold]
    #[inline(never)]
    fn invalid_code(&mut self, seg: &SegmentRef<'_>, l: &'static str, el: usize) {
        let id = id_text(seg);
        let what = format!("invalid code value in {id}{el:02}");
        self.push(seg, l, el, None, IssueCode::InvalidCode, what);
    }

    /// Length limits (checked only when present).
    #[inline]
    pub fn length<'s>(&mut self, seg: &impl Elements<'s>, l: &'static str, el: usize, min: usize, max: usize) -> bool {
        self.length_v(seg.segment(), seg.field(el), l, el, min, max)
    }

    #[inline]
    fn length_v(&mut self, seg: &SegmentRef<'_>, v: &[u8], l: &'static str, el: usize, min: usize, max: usize) -> bool {
        let n = v.len();
        if n > 0 && n < min || n > max {
            self.bad_length(seg, l, el, n, min, max);
            return false;
        }
        true
    }

    #[cold]
    #[inline(never)]
    fn bad_length(&mut self, seg: &SegmentRef<'_>, l: &'static str, el: usize, n: usize, min: usize, max: usize) {
        let id = id_text(seg);
        if n > 0 && n < min {
            let what = format!("{id}{el:02} shorter than {min}");
            self.push(seg, l, el, None, IssueCode::TooShort, what);
        } else {
            let what = format!("{id}{el:02} longer than {max}");
            self.push(seg, l, el, None, IssueCode::TooLong, what);
        }
    }

    /// A money or quantity element (`R`), `None` when absent or invalid (invalid is reported).
    #[inline]
    pub fn decimal<'s>(&mut self, seg: &impl Elements<'s>, l: &'static str, el: usize) -> Option<Decimal> {
        self.decimal_v(seg.segment(), seg.field(el), l, el)
    }

    #[inline]
    fn decimal_v(&mut self, seg: &SegmentRef<'_>, v: &[u8], l: &'static str, el: usize) -> Option<Decimal> {
        if v.is_empty() {
            return None;
        }
        let d = decimal(v);
        if d.is_none() {
            self.not_decimal(seg, l, el);
        }
        d
    }

    #[cold]
    #[inline(never)]
    fn not_decimal(&mut self, seg: &SegmentRef<'_>, l: &'static str, el: usize) {
        let id = id_text(seg);
        let what = format!("{id}{el:02} is not a decimal number");
        self.push(seg, l, el, None, IssueCode::InvalidNumber, what);
    }

    /// A required decimal.
    #[inline]
    pub fn req_decimal<'s>(&mut self, seg: &impl Elements<'s>, l: &'static str, el: usize) -> Option<Decimal> {
        let v = seg.field(el);
        if self.required_v(seg.segment(), v, l, el) {
            self.decimal_v(seg.segment(), v, l, el)
        } else {
            None
        }
    }

    /// A `D8` date element (checked only when present).
    #[inline]
    pub fn date<'s>(&mut self, seg: &impl Elements<'s>, l: &'static str, el: usize) -> Option<NaiveDate> {
        self.date_v(seg.segment(), seg.field(el), l, el)
    }

    #[inline]
    fn date_v(&mut self, seg: &SegmentRef<'_>, v: &[u8], l: &'static str, el: usize) -> Option<NaiveDate> {
        if v.is_empty() {
            return None;
        }
        let d = date8(v);
        if d.is_none() {
            self.not_date(seg, l, el);
        }
        d
    }

    #[cold]
    #[inline(never)]
    fn not_date(&mut self, seg: &SegmentRef<'_>, l: &'static str, el: usize) {
        let id = id_text(seg);
        let what = format!("{id}{el:02} is not a valid CCYYMMDD date");
        self.push(seg, l, el, None, IssueCode::InvalidDate, what);
    }

    /// A DTP segment: DTP02 format qualifier and DTP03 date or range.
    pub fn dtp<'s>(&mut self, seg: &impl Elements<'s>, l: &'static str) -> Option<(NaiveDate, NaiveDate)> {
        // A qualified date in its format: nothing below would report.
        if !seg.field(1).is_empty() {
            if let Some(d) = dated(seg.field(2), seg.field(3)) {
                return Some(d);
            }
        }
        self.required(seg, l, 1);
        if !self.required(seg, l, 2) || !self.required(seg, l, 3) {
            return None;
        }
        if !self.code(seg, l, 2, &["D8", "RD8"]) {
            return None;
        }
        let d = dated(seg.field(2), seg.field(3));
        if d.is_none() {
            let what = "DTP03 does not match its DTP02 date format".into();
            self.push(seg.segment(), l, 3, None, IssueCode::InvalidDate, what);
        }
        d
    }

    /// An NPI element (checked when present and the qualifier says XX).
    #[inline]
    pub fn npi<'s>(&mut self, seg: &impl Elements<'s>, l: &'static str, el: usize) -> bool {
        self.npi_v(seg.segment(), seg.field(el), l, el)
    }

    #[inline]
    fn npi_v(&mut self, seg: &SegmentRef<'_>, v: &[u8], l: &'static str, el: usize) -> bool {
        let v = std::str::from_utf8(v).unwrap_or("");
        if v.is_empty() || npi_valid(v) {
            return true;
        }
        self.bad_npi(seg, l, el);
        false
    }

    #[cold]
    #[inline(never)]
    fn bad_npi(&mut self, seg: &SegmentRef<'_>, l: &'static str, el: usize) {
        let id = id_text(seg);
        let what = format!("{id}{el:02} is not a valid NPI (check digit)");
        self.push(seg, l, el, None, IssueCode::PatternMismatch, what);
    }

    /// An HI segment: each composite's code list qualifier (`allowed(position)` gives the
    /// qualifiers valid at that position, 0-based) and an ICD-10-CM code without its point.
    pub fn diagnoses<'s>(
        &mut self,
        f: &impl Elements<'s>,
        l: &'static str,
        allowed: impl Fn(usize) -> &'static [&'static [u8]],
    ) {
        let hi = f.segment();
        let comp = hi.delimiters().component;
        for i in 0..f.count() {
            let el = f.field(i + 1);
            if el.is_empty() {
                continue;
            }
            let mut parts = components(el, comp);
            let q = parts.next().unwrap_or(b"");
            let code = parts.next().unwrap_or(b"");
            let n = i as u16 + 1;
            if !allowed(i).contains(&q) {
                let what = format!("HI{n:02}-1 code list qualifier not allowed here");
                self.issues.push(Issue::element(hi, self.set_start, Some(l), n, Some(1), IssueCode::InvalidCode, what));
            }
            if code.is_empty() || code.len() > 7 || code.contains(&b'.') {
                let what = format!("HI{n:02}-2 must be an ICD-10-CM code without the decimal point");
                self.issues.push(Issue::element(hi, self.set_start, Some(l), n, Some(2), IssueCode::InvalidCode, what));
            }
        }
    }

    /// A balancing failure, reported on the element that does not add up.
    pub fn unbalanced(&mut self, seg: &SegmentRef<'_>, l: &'static str, el: usize, what: String) {
        self.push(seg, l, el, None, IssueCode::Unbalanced, what);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Decimal {
        s.parse().expect("test literal")
    }

    #[test]
    fn decimals_are_strict() {
        assert_eq!(decimal(b"37.50"), Some(d("37.50")));
        assert_eq!(decimal(b"-12.5"), Some(d("-12.5")));
        assert_eq!(decimal(b".5"), Some(d("0.5")));
        for bad in [&b""[..], b"1_000", b"1e3", b"1.2.3", b"-", b".", b"12a", b"1234567890123456789"] {
            assert_eq!(decimal(bad), None, "{:?}", String::from_utf8_lossy(bad));
        }
    }

    #[test]
    fn fast_decimals_match_the_general_parser() {
        for t in [
            "0",
            "1",
            "37.50",
            "-12.5",
            ".5",
            "-.5",
            "007.50",
            "1.",
            "-0",
            "-0.00",
            "0.00",
            "123456789012345678",
            "-123456789012345678",
            "12345678901234567.8",
            "0.00000000000000001",
            "100",
            "5.0",
        ] {
            let fast = decimal(t.as_bytes()).expect(t);
            let slow = Decimal::from_str(t).expect(t);
            assert_eq!(fast, slow, "{t}");
            assert_eq!(fast.scale(), slow.scale(), "{t}");
            assert_eq!(fast.is_sign_negative(), slow.is_sign_negative(), "{t}");
            assert_eq!(fast.to_string(), slow.to_string(), "{t}");
        }
    }

    #[test]
    fn fields_split_once() {
        let seg = SegmentRef::new(b"SV1*HC:64493*200**1", x12::Delimiters::default(), 0, 1);
        let f = Fields::new(&seg);
        assert_eq!(f.id, b"SV1");
        for n in 0..8 {
            assert_eq!(f.get(n), seg.get(n), "{n}");
        }
        let long: Vec<u8> = (0..30).fold(b"CAS".to_vec(), |mut v, i| {
            v.extend_from_slice(format!("*{i}").as_bytes());
            v
        });
        let seg = SegmentRef::new(&long, x12::Delimiters::default(), 0, 1);
        let f = Fields::new(&seg);
        for n in 0..34 {
            assert_eq!(f.get(n), seg.get(n), "{n}");
        }
        for raw in [&b"A*"[..], b"AB*1234567*12345678*", b"ABC*12345678*1234567", b"N4*X**Y", b"A**"] {
            let seg = SegmentRef::new(raw, x12::Delimiters::default(), 0, 1);
            let f = Fields::new(&seg);
            for n in 0..12 {
                assert_eq!(f.get(n), seg.get(n), "{n}");
            }
        }
        for el in [&b""[..], b":", b"HC:64493:50", b"HC", b"::"] {
            assert!(components(el, b':').eq(x12::components(el, b':')));
        }
        let bare = SegmentRef::new(b"SE", x12::Delimiters::default(), 0, 1);
        let f = Fields::new(&bare);
        assert_eq!((f.id, f.get(1)), (&b"SE"[..], &b""[..]));
    }

    proptest::proptest! {
        /// X12 decimals: exactly what `Decimal::from_str` reads (value and scale) for an
        /// optional minus, digits and at most one point with 1 to 18 digits; nothing else.
        #[test]
        fn decimals_read_as_the_general_parser_does(t in "-?[0-9]{0,20}(\\.[0-9]{0,20})?|[-0-9.+eE_ ]{0,8}") {
            let digits = t.bytes().filter(u8::is_ascii_digit).count();
            let body = t.strip_prefix('-').unwrap_or(&t);
            let grammar = body.bytes().all(|c| c.is_ascii_digit() || c == b'.')
                && body.bytes().filter(|&c| c == b'.').count() <= 1
                && (1..=18).contains(&digits);
            let got = decimal(t.as_bytes());
            if grammar {
                let want = Decimal::from_str(&t).ok();
                proptest::prop_assert_eq!(got.map(|d| (d.mantissa(), d.scale())), want.map(|d| (d.mantissa(), d.scale())), "{}", t);
            } else {
                proptest::prop_assert_eq!(got, None, "{}", t);
            }
        }

        /// Any segment, across the 64-byte blocks of the split and past its 24 stored
        /// elements: every element as `SegmentRef::get` reads it, and as text (sliced from the
        /// segment's known text or validated) as `from_utf8` of those bytes reads it.
        #[test]
        fn fields_read_what_the_segment_reads(
            body in proptest::collection::vec(proptest::sample::select(vec![b'*', b'*', b'A', b'1', b':', 0xC3, 0xA9, 0xFF]), 0..200),
            text in "[*A1:é]{0,120}",
            utf8 in proptest::bool::ANY,
        ) {
            let mut raw = b"SV1".to_vec();
            raw.extend_from_slice(if utf8 { text.as_bytes() } else { &body });
            // The segment inside a larger buffer (separators after it must not count) and, when
            // `utf8`, split from copies instead.
            let len = raw.len();
            raw.extend_from_slice(b"~NM1*85*2*ZZ*****XX*1234567893~REF*EI*1*2*3*4*5*6*7*8*9*10*11*12*13*14~");
            let seg = SegmentRef::new(&raw[..len], x12::Delimiters::default(), 0, 1);
            let whole = std::str::from_utf8(&raw[..len]).ok();
            let f = Fields::with_text(&seg, if utf8 { &[] } else { &raw }, whole);
            proptest::prop_assert_eq!(f.count(), seg.elements().count());
            for n in 0..60 {
                proptest::prop_assert_eq!(f.get(n), seg.get(n), "element {}", n);
                proptest::prop_assert_eq!(f.str(n), std::str::from_utf8(seg.get(n)).unwrap_or(""), "text {}", n);
                let parts: Vec<&str> = f.components(n, b':').map(|p| p.1).collect();
                let want: Vec<&str> =
                    x12::components(seg.get(n), b':').map(|p| std::str::from_utf8(p).unwrap_or("")).collect();
                proptest::prop_assert_eq!(parts, want, "components {}", n);
                let procedure = crate::common::Procedure::<&str>::from_fields(&f, n, b':');
                proptest::prop_assert_eq!(procedure, crate::common::Procedure::from_composite(seg.get(n), b':'), "procedure {}", n);
            }
        }
    }

    /// The one-block split read in place, next to its fallbacks: a short segment with more
    /// elements than are stored, and one whose block would run past the end of its set.
    #[test]
    fn fields_in_place_and_at_the_edges() {
        let mut raw = b"REF".to_vec();
        for k in b'A'..=b'Z' {
            raw.extend_from_slice(&[b'*', k]);
        }
        let len = raw.len();
        assert!(len < 64);
        raw.extend_from_slice(&[b'~'; 70]);
        for backing in [&raw[..], &raw[..len + 1], &raw[..len]] {
            let seg = SegmentRef::new(&raw[..len], x12::Delimiters::default(), 0, 1);
            let f = Fields::within(&seg, backing);
            assert_eq!(f.id, b"REF");
            for n in 0..34 {
                assert_eq!(f.get(n), seg.get(n), "element {n} of {} backing bytes", backing.len());
            }
        }
        let seg = SegmentRef::new(b"DTM*472*20261102", x12::Delimiters::default(), 0, 1);
        let set = b"DTM*472*20261102~";
        for f in [Fields::within(&seg, set), Fields::new(&seg)] {
            assert_eq!(
                (f.id, f.get(1), f.get(2), f.get(3), f.n),
                (&b"DTM"[..], &b"472"[..], &b"20261102"[..], &b""[..], 2)
            );
        }
    }

    /// Sums are exact in ten-thousandths, and unknown (never "same") past them.
    #[test]
    fn sums_are_exact_or_unknown() {
        let d = |s: &str| decimal(s.as_bytes()).expect("a decimal");
        let mut a = Sum::ZERO;
        a += d("0.1");
        a += d("0.2");
        assert!(a.same(Sum::of(d("0.30"))));
        assert!(!a.same(Sum::of(d("0.3001"))));
        assert!(Sum::of(d("100")).minus(Sum::of(d("25.5"))).same(Sum::of(d("74.50"))));
        // Five decimals, or 15 digits, are not held: never equal, even to themselves.
        assert!(!Sum::of(d("0.00001")).same(Sum::of(d("0.00001"))));
        assert!(!Sum::of(d("100000000000000")).same(Sum::of(d("100000000000000"))));
        assert!(Sum::of(d("1000000000.5")).same(Sum::of(d("1000000000.50"))));
        assert!(Sum::of(d("-9999999999.9999")).plus(Sum::of(d("9999999999.9999"))).same(Sum::ZERO));
        let mut many = Sum::ZERO;
        for _ in 0..1_000_000 {
            many += d("9999999999.99");
        }
        assert!(!many.same(many), "overflow makes the sum unknown");
    }

    /// Line numbers and diagnosis pointers read as `str::parse` reads them.
    #[test]
    fn unsigned_numbers_read_as_str_parse_does() {
        for t in ["1", "01", "+4", "255", "256", "", "+", "-1", "1.0", " 1", "99999999999999999999"] {
            assert_eq!(unsigned::<u8>(t.as_bytes()), t.parse::<u8>().ok(), "{t:?} as u8");
            assert_eq!(unsigned::<u32>(t.as_bytes()), t.parse::<u32>().ok(), "{t:?} as u32");
        }
    }

    #[test]
    fn dates_and_ranges() {
        assert_eq!(date8(b"20261127"), NaiveDate::from_ymd_opt(2026, 11, 27));
        assert_eq!(date8(b"20002316"), None);
        assert_eq!(date8(b"2026112"), None);
        let r = range8(b"20261101-20261231").expect("valid");
        assert_eq!(r.1, NaiveDate::from_ymd_opt(2026, 12, 31).expect("valid"));
        assert_eq!(range8(b"20261231-20261101"), None);
    }

    #[test]
    fn npi_check_digit() {
        assert!(npi_valid("1234567893"));
        assert!(!npi_valid("123456789"));
        assert!(!npi_valid("12345678A3"));
    }
}
