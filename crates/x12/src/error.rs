//! Positions and syntax errors.
//!
//! Every error names where it happened precisely enough to become a 999 IK3/IK4 or a TA1 note,
//! and never echoes element values: X12 elements routinely carry names, member ids and birth
//! dates, so messages carry segment ids, positions and codes only.

use std::fmt;

/// A segment id held inline (X12 ids are 2 or 3 ASCII characters).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct SegmentId {
    bytes: [u8; 3],
    len: u8,
}

impl SegmentId {
    /// Builds an id from the leading bytes of a segment; anything over 3 bytes is cut, and
    /// non-printable bytes are shown as `?` so the id is always safe to print.
    pub fn new(raw: &[u8]) -> SegmentId {
        let mut bytes = [0u8; 3];
        let len = raw.len().min(3);
        for (dst, &b) in bytes.iter_mut().zip(raw) {
            *dst = if b.is_ascii_graphic() { b } else { b'?' };
        }
        SegmentId { bytes, len: len as u8 }
    }

    pub fn as_str(&self) -> &str {
        std::str::from_utf8(&self.bytes[..self.len as usize]).expect("because only ASCII graphic bytes are stored")
    }
}

impl fmt::Debug for SegmentId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", self.as_str())
    }
}

impl fmt::Display for SegmentId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl serde::Serialize for SegmentId {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// Where something is in a file. Counts are 1-based, as the standard and the 999 count them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, serde::Serialize)]
pub struct Position {
    /// Byte offset of the segment's first byte in the file (or stream).
    pub byte: u64,
    /// Segment number in the file, 1-based; 0 when the problem is not inside a segment.
    pub segment: u64,
    /// Segment number within the transaction set (ST = 1), when inside one.
    pub set_segment: Option<u32>,
    /// The segment id, when known.
    pub segment_id: Option<SegmentId>,
    /// Element position (1-based), component position (1-based), repetition (1-based).
    pub element: Option<u16>,
    pub component: Option<u16>,
    pub repetition: Option<u16>,
}

impl Position {
    pub fn at_byte(byte: u64) -> Position {
        Position { byte, ..Position::default() }
    }

    pub fn with_element(mut self, element: u16) -> Position {
        self.element = Some(element);
        self
    }

    pub fn with_component(mut self, component: u16) -> Position {
        self.component = Some(component);
        self
    }

    pub fn with_repetition(mut self, repetition: u16) -> Position {
        self.repetition = Some(repetition);
        self
    }
}

impl fmt::Display for Position {
    /// `segment 14 (CLM, byte 812) element 05-1`, the house format.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.segment == 0 {
            write!(f, "byte {}", self.byte)?;
        } else {
            write!(f, "segment {} (", self.segment)?;
            if let Some(id) = self.segment_id.filter(|id| !id.as_str().is_empty()) {
                write!(f, "{id}, ")?;
            }
            write!(f, "byte {})", self.byte)?;
        }
        if let Some(e) = self.element {
            write!(f, " element {e:02}")?;
            if let Some(c) = self.component {
                write!(f, "-{c}")?;
            }
            if let Some(r) = self.repetition {
                write!(f, " repetition {r}")?;
            }
        }
        Ok(())
    }
}

/// How much of the input a problem spoils.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Tolerated and reported (a byte-order mark, indentation); nothing is rejected.
    Warning,
    /// The enclosing transaction set (or group, or interchange) is in error.
    Error,
}

/// What went wrong, in syntax terms. Each kind maps to an acknowledgment code.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error, serde::Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum ErrorKind {
    #[error("file starts with a byte-order mark")]
    ByteOrderMark,
    #[error("whitespace before segment")]
    LeadingWhitespace,
    #[error("unexpected data before the first ISA segment")]
    GarbageBeforeIsa,
    #[error("no ISA segment found")]
    NoInterchange,
    #[error("ISA segment is too short to hold its delimiters")]
    IsaTooShort,
    #[error("ISA segment is not the fixed 106 bytes")]
    IsaNotFixedLength,
    #[error("invalid ISA{element:02} value")]
    IsaInvalidElement { element: u8, note: &'static str },
    #[error("delimiters are not distinct (element, component, repetition and segment separators must differ)")]
    DelimiterCollision,
    #[error("file ends inside a segment (no segment terminator)")]
    Unterminated,
    #[error("segment longer than {limit} bytes without a terminator")]
    SegmentTooLong { limit: usize },
    #[error("empty segment")]
    EmptySegment,
    #[error("invalid segment id")]
    InvalidSegmentId,
    #[error("non-ASCII byte 0x{byte:02X} in segment")]
    NonAscii { byte: u8 },
    #[error("{segment} segment outside {expected}")]
    Misplaced { segment: SegmentId, expected: &'static str },
    #[error("{trailer} trailer missing")]
    MissingTrailer { trailer: &'static str },
    #[error("{trailer} control number does not match {header}")]
    ControlMismatch { header: &'static str, trailer: &'static str },
    #[error("{trailer}01 says {declared} {what}, found {actual}")]
    CountMismatch { trailer: &'static str, what: &'static str, declared: u64, actual: u64 },
    #[error("{trailer}01 count is not a number")]
    InvalidCount { trailer: &'static str },
    #[error("transaction set control number repeats within the group")]
    DuplicateSetControl,
    #[error("functional group control number repeats within the interchange")]
    DuplicateGroupControl,
    #[error("missing or invalid {element}")]
    MissingControlElement { element: &'static str },
}

/// The acknowledgment a syntax error turns into.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AckCode {
    /// Interchange-level: TA1 note code (TA105).
    Ta1(&'static str),
    /// Group-level: AK905 code.
    Group(&'static str),
    /// Set-level: IK501 code.
    Set(&'static str),
    /// Segment-level: IK304 code.
    Segment(&'static str),
    /// Element-level: IK403 code.
    Element(&'static str),
    /// Tolerated: nothing to acknowledge.
    None,
}

impl ErrorKind {
    pub fn severity(&self) -> Severity {
        match self {
            ErrorKind::ByteOrderMark | ErrorKind::LeadingWhitespace | ErrorKind::IsaNotFixedLength => Severity::Warning,
            _ => Severity::Error,
        }
    }

    /// The code this error takes in a TA1 or 999, by the level it spoils.
    pub fn ack_code(&self) -> AckCode {
        use ErrorKind::*;
        match self {
            ByteOrderMark | LeadingWhitespace | IsaNotFixedLength => AckCode::None,
            GarbageBeforeIsa | NoInterchange => AckCode::Ta1("024"),
            IsaTooShort => AckCode::Ta1("022"),
            IsaInvalidElement { note, .. } => AckCode::Ta1(note),
            DelimiterCollision => AckCode::Ta1("026"),
            Unterminated | SegmentTooLong { .. } => AckCode::Ta1("023"),
            EmptySegment | InvalidSegmentId => AckCode::Segment("1"),
            NonAscii { .. } => AckCode::Element("6"),
            Misplaced { segment, .. } => match segment.as_str() {
                "ISA" | "IEA" | "GS" | "GE" => AckCode::Ta1("024"),
                _ => AckCode::Segment("2"),
            },
            MissingTrailer { trailer: "SE" } => AckCode::Set("2"),
            MissingTrailer { trailer: "GE" } => AckCode::Group("3"),
            MissingTrailer { .. } => AckCode::Ta1("023"),
            ControlMismatch { trailer: "SE", .. } => AckCode::Set("3"),
            ControlMismatch { trailer: "GE", .. } => AckCode::Group("4"),
            ControlMismatch { .. } => AckCode::Ta1("001"),
            CountMismatch { trailer: "SE", .. } | InvalidCount { trailer: "SE" } => AckCode::Set("4"),
            CountMismatch { trailer: "GE", .. } | InvalidCount { trailer: "GE" } => AckCode::Group("5"),
            CountMismatch { .. } | InvalidCount { .. } => AckCode::Ta1("021"),
            DuplicateSetControl => AckCode::Set("23"),
            DuplicateGroupControl => AckCode::Group("6"),
            MissingControlElement { element } => match *element {
                "ST01" => AckCode::Set("6"),
                "ST02" => AckCode::Set("7"),
                "GS06" => AckCode::Group("6"),
                "GS01" | "GS08" => AckCode::Group("1"),
                _ => AckCode::Ta1("018"),
            },
        }
    }
}

/// A syntax error with its position.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Error {
    pub kind: ErrorKind,
    pub position: Position,
}

impl Error {
    pub fn new(kind: ErrorKind, position: Position) -> Error {
        Error { kind, position }
    }

    pub fn kind(&self) -> &ErrorKind {
        &self.kind
    }

    pub fn position(&self) -> Position {
        self.position
    }

    pub fn severity(&self) -> Severity {
        self.kind.severity()
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.position, self.kind)
    }
}

impl std::error::Error for Error {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn position_formats_in_house_style() {
        let p = Position {
            byte: 812,
            segment: 14,
            set_segment: Some(12),
            segment_id: Some(SegmentId::new(b"CLM")),
            element: Some(5),
            component: Some(1),
            repetition: None,
        };
        assert_eq!(p.to_string(), "segment 14 (CLM, byte 812) element 05-1");
        assert_eq!(Position::at_byte(7).to_string(), "byte 7");
    }

    /// Regression: a segment with an empty id (the imsweb corpus has one) printed
    /// "segment 6 (, byte 280)".
    #[test]
    fn empty_segment_id_is_left_out_of_the_position() {
        let p = Position { byte: 280, segment: 6, segment_id: Some(SegmentId::new(b"")), ..Position::default() };
        assert_eq!(p.to_string(), "segment 6 (byte 280)");
    }

    #[test]
    fn segment_id_never_prints_control_bytes() {
        assert_eq!(SegmentId::new(b"N\x01\xff").as_str(), "N??");
        assert_eq!(SegmentId::new(b"NM1XYZ").as_str(), "NM1");
    }
}
