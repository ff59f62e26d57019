//! Borrowed segment views.

use crate::delim::Delimiters;
use crate::error::{Position, SegmentId};
use memchr::memchr;

/// One segment, borrowed from the input: the bytes between two terminators, without the
/// terminator or any line break. Element access splits on demand, so building a `SegmentRef`
/// costs nothing beyond finding its terminator.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SegmentRef<'a> {
    raw: &'a [u8],
    delimiters: Delimiters,
    byte: u64,
    index: u64,
}

impl<'a> SegmentRef<'a> {
    /// `raw` is the segment without its terminator; `byte` its offset in the file and `index`
    /// its 1-based number in the file.
    pub fn new(raw: &'a [u8], delimiters: Delimiters, byte: u64, index: u64) -> SegmentRef<'a> {
        SegmentRef { raw, delimiters, byte, index }
    }

    /// The segment's bytes, id included, terminator excluded.
    #[inline]
    pub fn raw(&self) -> &'a [u8] {
        self.raw
    }

    #[inline]
    pub fn delimiters(&self) -> Delimiters {
        self.delimiters
    }

    /// Byte offset of the segment in the file.
    #[inline]
    pub fn byte(&self) -> u64 {
        self.byte
    }

    /// 1-based segment number in the file.
    #[inline]
    pub fn index(&self) -> u64 {
        self.index
    }

    /// The segment id (`CLM`, `NM1`): the bytes before the first element separator.
    #[inline]
    pub fn id(&self) -> &'a [u8] {
        // Ids are two or three bytes: look there first, without a `memchr` call (which cost
        // more than the rest of the reader's per-segment work); anything else is searched.
        let e = self.delimiters.element;
        if let [a, b, c, rest @ ..] = self.raw {
            if *a != e && *b != e {
                if *c == e {
                    return &self.raw[..2];
                }
                if rest.first() == Some(&e) {
                    return &self.raw[..3];
                }
            }
        }
        match memchr(e, self.raw) {
            Some(i) => &self.raw[..i],
            None => self.raw,
        }
    }

    #[inline]
    pub fn is(&self, id: &[u8]) -> bool {
        self.id() == id
    }

    pub fn segment_id(&self) -> SegmentId {
        SegmentId::new(self.id())
    }

    /// The position of this segment, for errors.
    pub fn position(&self) -> Position {
        Position { byte: self.byte, segment: self.index, segment_id: Some(self.segment_id()), ..Position::default() }
    }

    /// Elements after the id, in order, each with its repetitions and components unsplit.
    #[inline]
    pub fn elements(&self) -> Elements<'a> {
        let rest = memchr(self.delimiters.element, self.raw).map(|i| &self.raw[i + 1..]);
        Elements { rest, sep: self.delimiters.element }
    }

    /// Element `n` (1-based, as in `CLM01`), `None` when the segment has fewer elements.
    /// A present but empty element is `Some(b"")`.
    ///
    /// Found by a plain byte scan: elements are a few bytes long, shorter than a `memchr`
    /// call is worth (the same answer as `elements().nth(n - 1)`).
    #[inline]
    pub fn element(&self, n: usize) -> Option<&'a [u8]> {
        if n == 0 {
            return None;
        }
        let (raw, sep) = (self.raw, self.delimiters.element);
        let mut start = raw.iter().position(|&c| c == sep)? + 1;
        let mut k = 1;
        loop {
            let end = raw[start..].iter().position(|&c| c == sep).map_or(raw.len(), |i| start + i);
            if k == n {
                return Some(&raw[start..end]);
            }
            if end == raw.len() {
                return None;
            }
            start = end + 1;
            k += 1;
        }
    }

    /// Element `n`, empty when absent: the usual way to read optional data.
    #[inline]
    pub fn get(&self, n: usize) -> &'a [u8] {
        self.element(n).unwrap_or(b"")
    }

    /// Element `n` as text; `""` when absent or not valid UTF-8 (validation reports the bytes).
    #[inline]
    pub fn str(&self, n: usize) -> &'a str {
        std::str::from_utf8(self.get(n)).unwrap_or("")
    }

    /// Number of elements after the id, trailing empty ones included.
    pub fn element_count(&self) -> usize {
        self.elements().count()
    }

    /// Component `c` (1-based) of element `n`'s first repetition; `None` when absent.
    pub fn component(&self, n: usize, c: usize) -> Option<&'a [u8]> {
        let el = self.element(n)?;
        let first = self.first_repetition(el);
        components(first, self.delimiters.component).nth(c.checked_sub(1)?)
    }

    /// The repetitions of element `n` (one item when the element does not repeat).
    pub fn repetitions(&self, n: usize) -> impl Iterator<Item = &'a [u8]> {
        let el = self.element(n);
        let rep = self.delimiters.repetition;
        el.into_iter().flat_map(move |e| Split { rest: Some(e), sep: rep })
    }

    fn first_repetition(&self, el: &'a [u8]) -> &'a [u8] {
        match self.delimiters.repetition.and_then(|r| memchr(r, el)) {
            Some(i) => &el[..i],
            None => el,
        }
    }
}

/// Splits one element (or one repetition) into its components.
pub fn components(element: &[u8], component_separator: u8) -> impl Iterator<Item = &[u8]> {
    Split { rest: Some(element), sep: Some(component_separator) }
}

/// Iterator over the elements of a segment.
#[derive(Clone, Debug)]
pub struct Elements<'a> {
    rest: Option<&'a [u8]>,
    sep: u8,
}

impl<'a> Iterator for Elements<'a> {
    type Item = &'a [u8];

    #[inline]
    fn next(&mut self) -> Option<&'a [u8]> {
        let rest = self.rest?;
        match memchr(self.sep, rest) {
            Some(i) => {
                self.rest = Some(&rest[i + 1..]);
                Some(&rest[..i])
            }
            None => {
                self.rest = None;
                Some(rest)
            }
        }
    }
}

struct Split<'a> {
    rest: Option<&'a [u8]>,
    sep: Option<u8>,
}

impl<'a> Iterator for Split<'a> {
    type Item = &'a [u8];

    fn next(&mut self) -> Option<&'a [u8]> {
        let rest = self.rest?;
        match self.sep.and_then(|s| memchr(s, rest)) {
            Some(i) => {
                self.rest = Some(&rest[i + 1..]);
                Some(&rest[..i])
            }
            None => {
                self.rest = None;
                Some(rest)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seg(raw: &[u8]) -> SegmentRef<'_> {
        SegmentRef::new(raw, Delimiters::default(), 0, 1)
    }

    #[test]
    fn elements_components_repetitions() {
        let s = seg(b"SV1*HC:64493:50::::DESC*200*UN*1***1:2^3");
        assert_eq!(s.id(), b"SV1");
        assert_eq!(s.element(1), Some(&b"HC:64493:50::::DESC"[..]));
        assert_eq!(s.component(1, 2), Some(&b"64493"[..]));
        assert_eq!(s.component(1, 3), Some(&b"50"[..]));
        assert_eq!(s.component(1, 4), Some(&b""[..]));
        assert_eq!(s.component(1, 9), None);
        assert_eq!(s.element(5), Some(&b""[..]));
        assert_eq!(s.element(8), None);
        assert_eq!(s.element_count(), 7);
        assert_eq!(s.repetitions(7).collect::<Vec<_>>(), vec![&b"1:2"[..], &b"3"[..]]);
        assert_eq!(s.component(7, 2), Some(&b"2"[..]));
        assert_eq!(s.str(2), "200");
        assert_eq!(s.get(40), b"");
    }

    #[test]
    fn bare_id_has_no_elements() {
        let s = seg(b"SE");
        assert_eq!(s.id(), b"SE");
        assert_eq!(s.element(1), None);
        assert_eq!(s.element_count(), 0);
    }
}
