//! Building TA1 and 999 acknowledgments (005010X231A1).
//!
//! The builders take plain notes (segment and element problems with their codes), so the syntax
//! layer and the typed layer feed the same 999. Copies of bad data (IK404) are never written:
//! they could carry PHI back to a sender that did not need it.

use crate::delim::Delimiters;
use crate::envelope::{GroupHeader, InterchangeHeader};
use crate::error::{AckCode, Error};
use crate::stream::LineEnding;
use crate::writer::{Element, EnvelopeWriter, Segment};

/// An element-level note (IK4).
#[derive(Clone, Debug, PartialEq, Eq, Default, serde::Serialize)]
pub struct ElementNote {
    pub position: u16,
    pub component: Option<u16>,
    pub repetition: Option<u16>,
    /// Data element reference number (IK402), when known.
    pub reference: Option<u32>,
    /// IK403 code.
    pub code: String,
}

/// A segment-level note (IK3 with its IK4s).
#[derive(Clone, Debug, PartialEq, Eq, Default, serde::Serialize)]
pub struct SegmentNote {
    pub segment_id: String,
    /// Segment position in the set (ST = 1).
    pub position: u32,
    pub loop_id: Option<String>,
    /// IK304 code; `8` when only element errors are reported.
    pub code: String,
    pub elements: Vec<ElementNote>,
}

/// What to say about one transaction set.
#[derive(Clone, Debug, PartialEq, Eq, Default, serde::Serialize)]
pub struct SetAck {
    pub id: String,
    pub control: String,
    pub version: String,
    pub segments: Vec<SegmentNote>,
    /// IK502+ codes (set-level syntax errors), e.g. `4` for a bad SE01.
    pub set_codes: Vec<String>,
}

impl SetAck {
    pub fn new(id: &str, control: &str, version: &str) -> SetAck {
        SetAck { id: id.into(), control: control.into(), version: version.into(), ..SetAck::default() }
    }

    pub fn accepted(&self) -> bool {
        self.segments.is_empty() && self.set_codes.is_empty()
    }

    /// Adds syntax errors found in the set (warnings and interchange-level errors are skipped).
    pub fn add_errors<'e>(&mut self, errors: impl IntoIterator<Item = &'e Error>) {
        for e in errors {
            let p = e.position;
            match e.kind.ack_code() {
                AckCode::Set(code) => push_unique(&mut self.set_codes, code),
                AckCode::Segment(code) => self.segments.push(SegmentNote {
                    segment_id: p.segment_id.map(|s| s.to_string()).unwrap_or_default(),
                    position: p.set_segment.unwrap_or(0),
                    loop_id: None,
                    code: code.into(),
                    elements: Vec::new(),
                }),
                AckCode::Element(code) => self.element_note(
                    p.segment_id.map(|s| s.to_string()).unwrap_or_default(),
                    p.set_segment.unwrap_or(0),
                    None,
                    ElementNote {
                        position: p.element.unwrap_or(0),
                        component: p.component,
                        repetition: p.repetition,
                        reference: None,
                        code: code.into(),
                    },
                ),
                AckCode::Group(_) | AckCode::Ta1(_) | AckCode::None => {}
            }
        }
    }

    /// Adds an element note under its segment's IK3 (creating it with code 8 when new).
    pub fn element_note(&mut self, segment_id: String, position: u32, loop_id: Option<String>, note: ElementNote) {
        if let Some(s) = self.segments.iter_mut().find(|s| s.position == position && s.segment_id == segment_id) {
            s.elements.push(note);
            return;
        }
        self.segments.push(SegmentNote { segment_id, position, loop_id, code: "8".into(), elements: vec![note] });
    }
}

fn push_unique(v: &mut Vec<String>, code: &str) {
    if !v.iter().any(|c| c == code) {
        v.push(code.into());
    }
}

/// What to say about one functional group.
#[derive(Clone, Debug, PartialEq, Eq, Default, serde::Serialize)]
pub struct GroupAck {
    pub header: GroupHeader,
    pub sets: Vec<SetAck>,
    /// AK905+ codes for group-level errors (e.g. `5` for a bad GE01).
    pub group_codes: Vec<String>,
}

/// AK901 / IK501 status values.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
pub enum AckStatus {
    Accepted,
    PartiallyAccepted,
    Rejected,
}

impl AckStatus {
    pub fn code(self) -> &'static str {
        match self {
            AckStatus::Accepted => "A",
            AckStatus::PartiallyAccepted => "P",
            AckStatus::Rejected => "R",
        }
    }
}

impl GroupAck {
    pub fn add_errors<'e>(&mut self, errors: impl IntoIterator<Item = &'e Error>) {
        for e in errors {
            if let AckCode::Group(code) = e.kind.ack_code() {
                push_unique(&mut self.group_codes, code);
            }
        }
    }

    pub fn accepted_sets(&self) -> usize {
        self.sets.iter().filter(|s| s.accepted()).count()
    }

    /// AK901: rejected when the group itself is in error or no set is accepted.
    pub fn status(&self) -> AckStatus {
        let ok = self.accepted_sets();
        if !self.group_codes.is_empty() || ok == 0 {
            AckStatus::Rejected
        } else if ok == self.sets.len() {
            AckStatus::Accepted
        } else {
            AckStatus::PartiallyAccepted
        }
    }

    /// The segments of the 999 body, AK1 through AK9 (ST and SE are the writer's).
    pub fn segments(&self) -> Vec<Segment> {
        let mut out = Vec::new();
        out.push(Segment::new("AK1", [self.header.functional_id.as_str(), &self.header.control, &self.header.version]));
        for set in &self.sets {
            out.push(Segment::new("AK2", [set.id.as_str(), &set.control, &set.version]));
            for seg in &set.segments {
                out.push(Segment::new(
                    "IK3",
                    [
                        seg.segment_id.as_str(),
                        &seg.position.to_string(),
                        seg.loop_id.as_deref().unwrap_or(""),
                        &seg.code,
                    ],
                ));
                for el in &seg.elements {
                    let mut pos = vec![el.position.to_string()];
                    if el.component.is_some() || el.repetition.is_some() {
                        pos.push(el.component.map(|c| c.to_string()).unwrap_or_default());
                    }
                    if let Some(r) = el.repetition {
                        pos.push(r.to_string());
                    }
                    out.push(Segment {
                        id: "IK4".into(),
                        elements: vec![
                            Element::composite(pos),
                            Element::simple(el.reference.map(|r| r.to_string()).unwrap_or_default()),
                            Element::simple(el.code.clone()),
                        ],
                    });
                }
            }
            let mut ik5 = vec![if set.accepted() { "A".to_string() } else { "R".to_string() }];
            let mut codes = set.set_codes.clone();
            if !set.segments.is_empty() && !codes.iter().any(|c| c == "5") {
                codes.push("5".into());
            }
            ik5.extend(codes.into_iter().take(5));
            out.push(Segment::new("IK5", ik5));
        }
        let mut ak9 = vec![
            self.status().code().to_string(),
            self.sets.len().to_string(),
            self.sets.len().to_string(),
            self.accepted_sets().to_string(),
        ];
        ak9.extend(self.group_codes.iter().take(5).cloned());
        out.push(Segment::new("AK9", ak9));
        out
    }
}

/// A TA1 answering an interchange: `A` with note 000, or `R` with the first note code found.
pub fn ta1(header: &InterchangeHeader, errors: &[Error]) -> Segment {
    let note = errors.iter().find_map(|e| match e.kind.ack_code() {
        AckCode::Ta1(code) => Some(code),
        _ => None,
    });
    let (status, code) = match note {
        Some(code) => ("R", code),
        None => ("A", "000"),
    };
    Segment::new("TA1", [header.control.as_str(), &header.date, &header.time, status, code])
}

/// The interchange header of an acknowledgment: sender and receiver swapped.
pub fn reply_header(to: &InterchangeHeader, date: &str, time: &str) -> InterchangeHeader {
    InterchangeHeader {
        sender_qualifier: to.receiver_qualifier.clone(),
        sender_id: to.receiver_id.clone(),
        receiver_qualifier: to.sender_qualifier.clone(),
        receiver_id: to.sender_id.clone(),
        date: date.into(),
        time: time.into(),
        version: "00501".into(),
        usage: if to.usage.is_empty() { "P".into() } else { to.usage.clone() },
        ..InterchangeHeader::default()
    }
}

/// The group header of a 999 answering `to`.
pub fn reply_group(to: &GroupHeader, date: &str, time: &str) -> GroupHeader {
    GroupHeader {
        functional_id: "FA".into(),
        sender: to.receiver.clone(),
        receiver: to.sender.clone(),
        date: date.into(),
        time: time.into(),
        control: String::new(),
        agency: "X".into(),
        version: "005010X231A1".into(),
    }
}

/// When and how an acknowledgment interchange is written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AckEnvelope<'a> {
    /// CCYYMMDD and HHMM of the acknowledgment (ISA09 takes the last six digits of the date).
    pub date: &'a str,
    pub time: &'a str,
    pub delimiters: Delimiters,
    pub line_ending: LineEnding,
}

impl AckEnvelope<'_> {
    fn isa_date(&self) -> &str {
        self.date.get(2..).unwrap_or(self.date)
    }
}

fn control_number(text: &str, fallback: u32) -> u32 {
    text.trim().parse().unwrap_or(fallback)
}

/// A whole 999 interchange answering `to`: one functional group (GS*FA) and one ST*999 per
/// acknowledged group. Control numbers mirror the acknowledged ones (ISA13, GS06), so writing
/// the acknowledgment twice gives the same bytes.
///
/// ```
/// use x12::{ack_999, AckEnvelope, Delimiters, GroupAck, GroupHeader, InterchangeHeader, LineEnding, SetAck};
/// let to = InterchangeHeader { sender_qualifier: "ZZ".into(), sender_id: "CLINIC".into(),
///     receiver_qualifier: "ZZ".into(), receiver_id: "CH".into(), control: "000000042".into(),
///     usage: "P".into(), ..Default::default() };
/// let group = GroupAck { header: GroupHeader { functional_id: "HC".into(), sender: "CLINIC".into(),
///     receiver: "CH".into(), control: "42".into(), version: "005010X222A1".into(), ..Default::default() },
///     sets: vec![SetAck::new("837", "0001", "005010X222A1")], group_codes: vec![] };
/// let env = AckEnvelope { date: "20261127", time: "1200", delimiters: Delimiters::default(), line_ending: LineEnding::Lf };
/// let text = String::from_utf8(ack_999(&to, &[group], &env)).expect("ascii");
/// assert!(text.contains("ST*999*0001*005010X231A1~\nAK1*HC*42*005010X222A1~\nAK2*837*0001*005010X222A1~\nIK5*A~\nAK9*A*1*1*1~\nSE*6*0001~"));
/// ```
pub fn ack_999(to: &InterchangeHeader, groups: &[GroupAck], env: &AckEnvelope<'_>) -> Vec<u8> {
    let mut w = EnvelopeWriter::new(Vec::new(), env.delimiters, env.line_ending);
    let header = reply_header(to, env.isa_date(), env.time);
    let result = (|| -> std::io::Result<()> {
        w.start_interchange(&header, control_number(&to.control, 1))?;
        for (i, g) in groups.iter().enumerate() {
            let gs = reply_group(&g.header, env.date, env.time);
            w.start_group(&gs, control_number(&g.header.control, i as u32 + 1))?;
            w.start_set("999", "0001", "005010X231A1")?;
            for s in g.segments() {
                w.segment(&s)?;
            }
            w.end_set()?;
            w.end_group()?;
        }
        Ok(())
    })();
    result.expect("because writing to a Vec cannot fail");
    w.finish().expect("because writing to a Vec cannot fail")
}

/// A TA1 interchange answering `to`: accepted (000) or rejected with the first interchange-level
/// note code among `errors`.
pub fn ack_ta1(to: &InterchangeHeader, errors: &[Error], env: &AckEnvelope<'_>) -> Vec<u8> {
    let mut w = EnvelopeWriter::new(Vec::new(), env.delimiters, env.line_ending);
    let header = reply_header(to, env.isa_date(), env.time);
    w.start_interchange(&header, control_number(&to.control, 1)).expect("because writing to a Vec cannot fail");
    w.segment(&ta1(to, errors)).expect("because writing to a Vec cannot fail");
    w.finish().expect("because writing to a Vec cannot fail")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::{ErrorKind, Position, SegmentId};

    #[test]
    fn ak9_partial_with_ik3_ik4() {
        let mut g = GroupAck {
            header: GroupHeader {
                functional_id: "HC".into(),
                control: "17".into(),
                version: "005010X222A1".into(),
                ..Default::default()
            },
            ..Default::default()
        };
        g.sets.push(SetAck::new("837", "0001", "005010X222A1"));
        let mut bad = SetAck::new("837", "0002", "005010X222A1");
        let p = Position {
            byte: 10,
            segment: 30,
            set_segment: Some(12),
            segment_id: Some(SegmentId::new(b"CLM")),
            element: Some(5),
            component: Some(1),
            repetition: None,
        };
        bad.add_errors(&[
            Error::new(ErrorKind::NonAscii { byte: 0xC3 }, p),
            Error::new(ErrorKind::CountMismatch { trailer: "SE", what: "segments", declared: 9, actual: 12 }, p),
        ]);
        g.sets.push(bad);
        let text: Vec<String> = g
            .segments()
            .iter()
            .map(|s| {
                let mut v = Vec::new();
                s.write_to(&mut v, &crate::Delimiters::default(), crate::LineEnding::None);
                String::from_utf8(v).expect("ascii")
            })
            .collect();
        assert_eq!(
            text,
            [
                "AK1*HC*17*005010X222A1~",
                "AK2*837*0001*005010X222A1~",
                "IK5*A~",
                "AK2*837*0002*005010X222A1~",
                "IK3*CLM*12**8~",
                "IK4*5:1**6~",
                "IK5*R*4*5~",
                "AK9*P*2*2*1~",
            ]
        );
    }

    #[test]
    fn ta1_reject_note() {
        let h = InterchangeHeader {
            control: "000000905".into(),
            date: "261127".into(),
            time: "1200".into(),
            ..Default::default()
        };
        let e = Error::new(ErrorKind::ControlMismatch { header: "ISA", trailer: "IEA" }, Position::default());
        assert_eq!(ta1(&h, &[e]).elements.len(), 5);
        assert_eq!(ta1(&h, &[e_clone()]).get(5), "001");
        assert_eq!(ta1(&h, &[]).get(4), "A");
        fn e_clone() -> Error {
            Error::new(ErrorKind::ControlMismatch { header: "ISA", trailer: "IEA" }, Position::default())
        }
    }
}
