//! Delimiters, read from the ISA segment.

use crate::error::{ErrorKind, Position};

/// The four separators of an interchange. X12 has no release (escape) character: a delimiter
/// byte inside data always delimits, so these bytes simply cannot appear in element values.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize)]
pub struct Delimiters {
    pub element: u8,
    /// ISA11; `None` when ISA11 is alphanumeric (4010's `U`), i.e. no repetition separator.
    pub repetition: Option<u8>,
    pub component: u8,
    pub segment: u8,
}

impl Default for Delimiters {
    /// The common HIPAA set: `*`, `^`, `:`, `~`.
    fn default() -> Self {
        Delimiters { element: b'*', repetition: Some(b'^'), component: b':', segment: b'~' }
    }
}

/// Fixed length of a standard ISA segment, terminator included.
pub const ISA_LEN: usize = 106;

/// What reading the ISA found, besides the delimiters.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IsaLayout {
    pub delimiters: Delimiters,
    /// Length of the ISA segment body (without the terminator).
    pub body_len: usize,
}

impl Delimiters {
    /// Reads the delimiters from bytes starting at `ISA`.
    ///
    /// The element separator is the byte after `ISA`; ISA16 (the component separator) is the
    /// byte after the 16th element separator and the segment terminator the byte after that.
    /// Finding ISA16 by counting separators, not by offset 104, accepts senders that pad ISA
    /// fields wrongly (reported by the caller as a warning) without guessing.
    pub fn from_isa(bytes: &[u8]) -> Result<IsaLayout, ErrorKind> {
        if !bytes.starts_with(b"ISA") {
            return Err(ErrorKind::NoInterchange);
        }
        if bytes.len() < 4 {
            return Err(ErrorKind::IsaTooShort);
        }
        let element = bytes[3];
        let mut seps = 1;
        let mut i = 4;
        let mut isa11_start = None;
        while i < bytes.len() && seps < 16 {
            if bytes[i] == element {
                seps += 1;
                if seps == 11 {
                    isa11_start = Some(i + 1);
                }
            }
            i += 1;
        }
        // bytes[i] is ISA16, bytes[i + 1] the segment terminator.
        if seps < 16 || i + 1 >= bytes.len() {
            return Err(ErrorKind::IsaTooShort);
        }
        let component = bytes[i];
        let segment = bytes[i + 1];
        let isa11 = isa11_start.map(|s| bytes[s]).ok_or(ErrorKind::IsaTooShort)?;
        let repetition = if isa11.is_ascii_alphanumeric() { None } else { Some(isa11) };
        let d = Delimiters { element, repetition, component, segment };
        d.check()?;
        Ok(IsaLayout { delimiters: d, body_len: i + 1 })
    }

    fn check(&self) -> Result<(), ErrorKind> {
        let mut all = vec![self.element, self.component, self.segment];
        all.extend(self.repetition);
        for (k, a) in all.iter().enumerate() {
            if a.is_ascii_alphanumeric() || all[k + 1..].contains(a) {
                return Err(ErrorKind::DelimiterCollision);
            }
        }
        Ok(())
    }

    /// True for a byte that delimits under this set.
    #[inline]
    pub fn is_delimiter(&self, b: u8) -> bool {
        b == self.element || b == self.component || b == self.segment || Some(b) == self.repetition
    }
}

/// Where the delimiter problem lies, for callers building errors.
pub(crate) fn isa_position(byte: u64, segment: u64) -> Position {
    Position { byte, segment, segment_id: Some(crate::SegmentId::new(b"ISA")), ..Position::default() }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ISA: &[u8] =
        b"ISA*00*          *00*          *ZZ*SENDER         *ZZ*RECEIVER       *261127*1200*^*00501*000000001*0*P*:~";

    #[test]
    fn reads_standard_isa() {
        assert_eq!(ISA.len(), ISA_LEN);
        let l = Delimiters::from_isa(ISA).expect("valid");
        assert_eq!(l.delimiters, Delimiters::default());
        assert_eq!(l.body_len, 105);
    }

    #[test]
    fn reads_non_printing_and_4010_style() {
        let isa: Vec<u8> = ISA
            .iter()
            .map(|&b| match b {
                b'*' => 0x1D,
                b'~' => 0x1C,
                b':' => 0x1F,
                b'^' => b'U',
                b => b,
            })
            .collect();
        let l = Delimiters::from_isa(&isa).expect("valid");
        assert_eq!(l.delimiters, Delimiters { element: 0x1D, repetition: None, component: 0x1F, segment: 0x1C });
    }

    #[test]
    fn rejects_collisions_and_short() {
        let mut isa = ISA.to_vec();
        isa[104] = b'*';
        assert_eq!(Delimiters::from_isa(&isa), Err(ErrorKind::DelimiterCollision));
        assert_eq!(Delimiters::from_isa(&ISA[..60]), Err(ErrorKind::IsaTooShort));
        assert_eq!(Delimiters::from_isa(b"GS*HC"), Err(ErrorKind::NoInterchange));
    }
}
