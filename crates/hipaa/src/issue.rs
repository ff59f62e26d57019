//! Implementation-guide (SNIP 2) and balancing (SNIP 3) problems, with positions.

use std::fmt;
use x12::{ElementNote, Position, SegmentNote, SegmentRef, SetAck, Severity};

/// What kind of problem, each with its 999 code.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum IssueCode {
    UnexpectedSegment,
    MissingSegment,
    LoopExceedsMax,
    SegmentExceedsMaxUse,
    RequiredElementMissing,
    TooShort,
    TooLong,
    InvalidCharacter,
    InvalidCode,
    InvalidDate,
    InvalidTime,
    InvalidNumber,
    /// A SNIP 3 balancing rule failed (CLM02 vs SV102, CLP and SVC against CAS, BPR02).
    Unbalanced,
    /// A check digit or pattern failed (NPI).
    PatternMismatch,
    /// The transaction set is not one this crate reads.
    UnsupportedSet,
}

impl IssueCode {
    /// IK304 for segment-level codes, or `None` when the code is element-level.
    pub fn ik3(self) -> Option<&'static str> {
        match self {
            IssueCode::UnexpectedSegment => Some("2"),
            IssueCode::MissingSegment => Some("3"),
            IssueCode::LoopExceedsMax => Some("4"),
            IssueCode::SegmentExceedsMaxUse => Some("5"),
            _ => None,
        }
    }

    /// IK403 for element-level codes.
    pub fn ik4(self) -> &'static str {
        match self {
            IssueCode::RequiredElementMissing => "1",
            IssueCode::TooShort => "4",
            IssueCode::TooLong => "5",
            IssueCode::InvalidCharacter | IssueCode::InvalidNumber => "6",
            IssueCode::InvalidCode => "7",
            IssueCode::InvalidDate => "8",
            IssueCode::InvalidTime => "9",
            _ => "I12",
        }
    }
}

/// One problem found by the typed layer. Messages name codes and positions, never values.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Issue {
    pub position: Position,
    pub loop_id: Option<&'static str>,
    pub code: IssueCode,
    pub severity: Severity,
    pub message: String,
}

fn at(seg: &SegmentRef<'_>, set_start: u64) -> Position {
    let mut p = seg.position();
    p.set_segment = Some((seg.index() + 1).saturating_sub(set_start) as u32);
    p
}

impl Issue {
    pub fn segment(
        seg: &SegmentRef<'_>,
        set_start: u64,
        loop_id: Option<&'static str>,
        code: IssueCode,
        message: String,
    ) -> Issue {
        Issue { position: at(seg, set_start), loop_id, code, severity: Severity::Error, message }
    }

    pub fn element(
        seg: &SegmentRef<'_>,
        set_start: u64,
        loop_id: Option<&'static str>,
        element: u16,
        component: Option<u16>,
        code: IssueCode,
        message: String,
    ) -> Issue {
        let mut p = at(seg, set_start).with_element(element);
        p.component = component;
        Issue { position: p, loop_id, code, severity: Severity::Error, message }
    }

    pub fn missing_segment(
        near: Option<&SegmentRef<'_>>,
        set_start: u64,
        loop_id: &'static str,
        id: &'static str,
    ) -> Issue {
        let mut position = near.map(|s| at(s, set_start)).unwrap_or_default();
        position.segment_id = Some(x12::SegmentId::new(id.as_bytes()));
        Issue {
            position,
            loop_id: Some(loop_id),
            code: IssueCode::MissingSegment,
            severity: Severity::Error,
            message: format!("required segment {id} missing in loop {loop_id}"),
        }
    }

    pub fn missing_loop(
        near: Option<&SegmentRef<'_>>,
        set_start: u64,
        parent: &'static str,
        loop_id: &'static str,
        trigger: &'static str,
    ) -> Issue {
        let mut position = near.map(|s| at(s, set_start)).unwrap_or_default();
        position.segment_id = Some(x12::SegmentId::new(trigger.as_bytes()));
        Issue {
            position,
            loop_id: Some(loop_id),
            code: IssueCode::MissingSegment,
            severity: Severity::Error,
            message: format!("required loop {loop_id} missing in loop {parent}"),
        }
    }

    pub fn warning(mut self) -> Issue {
        self.severity = Severity::Warning;
        self
    }

    /// Adds this issue to a 999 set response.
    pub fn add_to(&self, ack: &mut SetAck) {
        if self.severity == Severity::Warning {
            return;
        }
        let segment_id = self.position.segment_id.map(|s| s.to_string()).unwrap_or_default();
        let position = self.position.set_segment.unwrap_or(0);
        let loop_id = self.loop_id.map(str::to_string);
        match self.code.ik3() {
            Some(code) => {
                ack.segments.push(SegmentNote { segment_id, position, loop_id, code: code.into(), elements: vec![] })
            }
            None => ack.element_note(
                segment_id,
                position,
                loop_id,
                ElementNote {
                    position: self.position.element.unwrap_or(0),
                    component: self.position.component,
                    repetition: self.position.repetition,
                    reference: None,
                    code: self.code.ik4().into(),
                },
            ),
        }
    }
}

impl fmt::Display for Issue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.position)?;
        if let Some(l) = self.loop_id {
            write!(f, " in loop {l}")?;
        }
        write!(f, ": {}", self.message)
    }
}

impl Issue {
    /// Replaces the message (positions and code stay).
    pub fn with_message(mut self, message: &str) -> Issue {
        self.message = message.to_string();
        self
    }
}
