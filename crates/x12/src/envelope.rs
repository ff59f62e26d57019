//! Envelope checks: ISA/IEA, GS/GE, ST/SE nesting, control numbers and counts.
//!
//! `Checker` is a state machine fed one segment at a time; it knows nothing about buffers, so
//! the streaming reader (and anything else) drives it. A missing trailer closes the open
//! structures implicitly and is reported, so one bad count or one lost SE never spoils the rest
//! of the file.

use crate::error::{Error, ErrorKind, Position};
use crate::segment::SegmentRef;

/// What a segment is, envelope-wise.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    Isa,
    Ta1,
    Gs,
    St,
    /// Inside a transaction set.
    Body,
    Se,
    Ge,
    Iea,
    /// Where no segment of its kind may stand (reported).
    Stray,
}

/// The checker's answer for one segment.
#[derive(Debug, Default)]
pub struct Step {
    /// Errors about structures this segment closed implicitly (a missing SE, GE or IEA): they
    /// belong to the structure that was open before this segment.
    pub closing: Vec<Error>,
    /// Errors about this segment itself, belonging to the structure it opens or lives in.
    pub own: Vec<Error>,
    pub closed_set: bool,
    pub closed_group: bool,
    pub closed_interchange: bool,
}

#[derive(Debug)]
struct Open {
    control: Vec<u8>,
    count: u64,
    seen: Vec<Vec<u8>>,
}

/// The envelope state machine.
#[derive(Debug, Default)]
pub struct Checker {
    isa: Option<Open>,
    gs: Option<Open>,
    st: Option<Open>,
}

fn pos_el(seg: &SegmentRef<'_>, el: u16) -> Position {
    seg.position().with_element(el)
}

/// Two or three characters, an uppercase letter then uppercase letters or digits.
#[inline(always)]
fn valid_body_id(id: &[u8]) -> bool {
    match *id {
        [a, b] => a.is_ascii_uppercase() && (b.is_ascii_uppercase() || b.is_ascii_digit()),
        [a, b, c] => {
            a.is_ascii_uppercase()
                && (b.is_ascii_uppercase() || b.is_ascii_digit())
                && (c.is_ascii_uppercase() || c.is_ascii_digit())
        }
        _ => false,
    }
}

fn parse_count(b: &[u8]) -> Option<u64> {
    if b.is_empty() || b.len() > 18 || !b.iter().all(u8::is_ascii_digit) {
        return None;
    }
    std::str::from_utf8(b).ok()?.parse().ok()
}

impl Checker {
    pub fn new() -> Checker {
        Checker::default()
    }

    /// Segment number within the open transaction set (ST = 1), if one is open.
    pub fn set_segment(&self) -> Option<u32> {
        self.st.as_ref().map(|s| s.count as u32)
    }

    pub fn in_set(&self) -> bool {
        self.st.is_some()
    }

    fn close_set(&mut self, at: Position, step: &mut Step) {
        if self.st.take().is_some() {
            step.closing.push(Error::new(ErrorKind::MissingTrailer { trailer: "SE" }, at));
            step.closed_set = true;
        }
    }

    fn close_group(&mut self, at: Position, step: &mut Step) {
        self.close_set(at, step);
        if self.gs.take().is_some() {
            step.closing.push(Error::new(ErrorKind::MissingTrailer { trailer: "GE" }, at));
            step.closed_group = true;
        }
    }

    fn close_interchange(&mut self, at: Position, step: &mut Step) {
        self.close_group(at, step);
        if self.isa.take().is_some() {
            step.closing.push(Error::new(ErrorKind::MissingTrailer { trailer: "IEA" }, at));
            step.closed_interchange = true;
        }
    }

    /// Feeds one segment; returns its role and what it found.
    pub fn feed(&mut self, seg: &SegmentRef<'_>) -> (Role, Step) {
        let id = seg.id();
        if self.feed_clean_body(seg, id) {
            return (Role::Body, Step::default());
        }
        self.feed_slow(seg, id)
    }

    /// The common case, with the id already split off: a body segment of an open set with a
    /// valid id and only ASCII bytes. Counts it and returns true; returns false, having
    /// changed nothing, for every other segment, which `feed_slow` then handles exactly as
    /// before (this is a pure shortcut: the same segments reach `check_body` there with the
    /// same answer, no error).
    #[inline(always)]
    pub(crate) fn feed_clean_body(&mut self, seg: &SegmentRef<'_>, id: &[u8]) -> bool {
        let Some(st) = self.st.as_mut() else { return false };
        // Envelope ids all start with one of these four letters; every other first byte is
        // a body segment (or an invalid id, which `check_body` reports).
        let envelope = match id.first() {
            Some(b'G' | b'I' | b'S' | b'T') => matches!(id, b"ISA" | b"TA1" | b"GS" | b"ST" | b"SE" | b"GE" | b"IEA"),
            _ => false,
        };
        if envelope || !valid_body_id(id) || !seg.raw().is_ascii() {
            return false;
        }
        st.count += 1;
        true
    }

    /// Everything but the clean body segment (see `feed_clean_body`), as `feed` always did.
    #[inline(never)]
    pub(crate) fn feed_slow(&mut self, seg: &SegmentRef<'_>, id: &[u8]) -> (Role, Step) {
        let mut step = Step::default();
        let at = seg.position();
        // The SE's own number in its set, kept because matching the SE closes the set.
        let mut se_number = None;
        let role = match id {
            b"ISA" => {
                self.close_interchange(at, &mut step);
                self.check_isa(seg, &mut step);
                self.isa = Some(Open { control: seg.get(13).to_vec(), count: 0, seen: Vec::new() });
                Role::Isa
            }
            b"TA1" if self.isa.is_some() && self.gs.is_none() => Role::Ta1,
            b"GS" if self.isa.is_some() => {
                self.close_group(at, &mut step);
                let control = seg.get(6).to_vec();
                let isa = self.isa.as_mut().expect("because checked in the guard");
                isa.count += 1;
                if parse_count(&control).is_none() {
                    step.own.push(Error::new(ErrorKind::MissingControlElement { element: "GS06" }, pos_el(seg, 6)));
                } else if isa.seen.contains(&control) {
                    step.own.push(Error::new(ErrorKind::DuplicateGroupControl, pos_el(seg, 6)));
                } else {
                    isa.seen.push(control.clone());
                }
                for (el, name) in [(1u16, "GS01"), (8, "GS08")] {
                    if seg.get(el as usize).is_empty() {
                        step.own.push(Error::new(ErrorKind::MissingControlElement { element: name }, pos_el(seg, el)));
                    }
                }
                self.gs = Some(Open { control, count: 0, seen: Vec::new() });
                Role::Gs
            }
            b"ST" if self.gs.is_some() => {
                self.close_set(at, &mut step);
                let control = seg.get(2).to_vec();
                let gs = self.gs.as_mut().expect("because checked in the guard");
                gs.count += 1;
                if seg.get(1).is_empty() {
                    step.own.push(Error::new(ErrorKind::MissingControlElement { element: "ST01" }, pos_el(seg, 1)));
                }
                if control.len() < 4 || control.len() > 9 || !control.iter().all(u8::is_ascii_alphanumeric) {
                    step.own.push(Error::new(ErrorKind::MissingControlElement { element: "ST02" }, pos_el(seg, 2)));
                } else if gs.seen.contains(&control) {
                    step.own.push(Error::new(ErrorKind::DuplicateSetControl, pos_el(seg, 2)));
                } else {
                    gs.seen.push(control.clone());
                }
                self.st = Some(Open { control, count: 1, seen: Vec::new() });
                Role::St
            }
            b"SE" if self.st.is_some() => {
                let st = self.st.take().expect("because checked in the guard");
                let count = st.count + 1;
                se_number = Some(count as u32);
                Self::check_trailer(seg, "SE", "ST", "segments", count, &st.control, &mut step);
                Role::Se
            }
            b"GE" if self.gs.is_some() => {
                self.close_set(at, &mut step);
                let gs = self.gs.take().expect("because checked in the guard");
                Self::check_trailer(seg, "GE", "GS", "transaction sets", gs.count, &gs.control, &mut step);
                Role::Ge
            }
            b"IEA" if self.isa.is_some() => {
                self.close_group(at, &mut step);
                let isa = self.isa.take().expect("because checked in the guard");
                Self::check_trailer(seg, "IEA", "ISA", "functional groups", isa.count, &isa.control, &mut step);
                Role::Iea
            }
            _ => match self.st.as_mut() {
                Some(st) if !matches!(id, b"ISA" | b"GS" | b"GE" | b"IEA" | b"TA1") => {
                    st.count += 1;
                    Self::check_body(seg, id, &mut step);
                    Role::Body
                }
                _ => {
                    let expected = match id {
                        b"GS" | b"TA1" | b"IEA" => "an interchange",
                        b"ST" | b"GE" => "a functional group",
                        _ => "a transaction set",
                    };
                    step.own.push(Error::new(ErrorKind::Misplaced { segment: seg.segment_id(), expected }, at));
                    Role::Stray
                }
            },
        };
        let set_segment = se_number.or(self.set_segment());
        for e in &mut step.own {
            if e.position.set_segment.is_none() && matches!(role, Role::Body | Role::St | Role::Se) {
                e.position.set_segment = set_segment;
            }
        }
        (role, step)
    }

    /// Closes whatever is still open at the end of the input.
    pub fn finish(&mut self, end: Position) -> Step {
        let mut step = Step::default();
        self.close_interchange(end, &mut step);
        step
    }

    fn check_isa(&self, seg: &SegmentRef<'_>, step: &mut Step) {
        /// ISA element, TA1 note code when it is invalid, and the test it must pass.
        type IsaCheck = (usize, &'static str, fn(&[u8]) -> bool);
        let checks: [IsaCheck; 5] = [
            (9, "014", |v| v.len() == 6 && v.iter().all(u8::is_ascii_digit)),
            (10, "015", |v| v.len() == 4 && v.iter().all(u8::is_ascii_digit)),
            (13, "018", |v| v.len() == 9 && v.iter().all(u8::is_ascii_digit)),
            (14, "019", |v| v == b"0" || v == b"1"),
            (15, "020", |v| v == b"P" || v == b"T"),
        ];
        for (el, note, ok) in checks {
            if !ok(seg.get(el)) {
                step.own
                    .push(Error::new(ErrorKind::IsaInvalidElement { element: el as u8, note }, pos_el(seg, el as u16)));
            }
        }
    }

    fn check_trailer(
        seg: &SegmentRef<'_>,
        trailer: &'static str,
        header: &'static str,
        what: &'static str,
        actual: u64,
        control: &[u8],
        step: &mut Step,
    ) {
        match parse_count(seg.get(1)) {
            Some(declared) if declared != actual => {
                step.own.push(Error::new(ErrorKind::CountMismatch { trailer, what, declared, actual }, pos_el(seg, 1)))
            }
            Some(_) => {}
            None => step.own.push(Error::new(ErrorKind::InvalidCount { trailer }, pos_el(seg, 1))),
        }
        if seg.get(2) != control {
            step.own.push(Error::new(ErrorKind::ControlMismatch { header, trailer }, pos_el(seg, 2)));
        }
    }

    fn check_body(seg: &SegmentRef<'_>, id: &[u8], step: &mut Step) {
        if !valid_body_id(id) {
            step.own.push(Error::new(ErrorKind::InvalidSegmentId, seg.position()));
        }
        let raw = seg.raw();
        if !raw.is_ascii() {
            let i = raw.iter().position(|b| !b.is_ascii()).expect("because the segment is not all ASCII");
            let el = raw[..i].iter().filter(|&&b| b == seg.delimiters().element).count() as u16;
            let mut p = seg.position();
            if el > 0 {
                p = p.with_element(el);
            }
            step.own.push(Error::new(ErrorKind::NonAscii { byte: raw[i] }, p));
        }
    }
}

/// Reads the interesting fields of an ISA segment, trimmed of their fixed-width padding.
#[derive(Clone, Debug, PartialEq, Eq, Default, serde::Serialize)]
pub struct InterchangeHeader {
    pub auth_qualifier: String,
    pub auth: String,
    pub security_qualifier: String,
    pub security: String,
    pub sender_qualifier: String,
    pub sender_id: String,
    pub receiver_qualifier: String,
    pub receiver_id: String,
    /// ISA09 YYMMDD and ISA10 HHMM, as sent.
    pub date: String,
    pub time: String,
    pub version: String,
    pub control: String,
    pub ack_requested: bool,
    pub usage: String,
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).trim_end().to_string()
}

impl InterchangeHeader {
    pub fn from_isa(seg: &SegmentRef<'_>) -> InterchangeHeader {
        InterchangeHeader {
            auth_qualifier: text(seg.get(1)),
            auth: text(seg.get(2)),
            security_qualifier: text(seg.get(3)),
            security: text(seg.get(4)),
            sender_qualifier: text(seg.get(5)),
            sender_id: text(seg.get(6)),
            receiver_qualifier: text(seg.get(7)),
            receiver_id: text(seg.get(8)),
            date: text(seg.get(9)),
            time: text(seg.get(10)),
            version: text(seg.get(12)),
            control: text(seg.get(13)),
            ack_requested: seg.get(14) == b"1",
            usage: text(seg.get(15)),
        }
    }
}

/// The interesting fields of a GS segment.
#[derive(Clone, Debug, PartialEq, Eq, Default, serde::Serialize)]
pub struct GroupHeader {
    pub functional_id: String,
    pub sender: String,
    pub receiver: String,
    pub date: String,
    pub time: String,
    pub control: String,
    pub agency: String,
    pub version: String,
}

impl GroupHeader {
    pub fn from_gs(seg: &SegmentRef<'_>) -> GroupHeader {
        GroupHeader {
            functional_id: text(seg.get(1)),
            sender: text(seg.get(2)),
            receiver: text(seg.get(3)),
            date: text(seg.get(4)),
            time: text(seg.get(5)),
            control: text(seg.get(6)),
            agency: text(seg.get(7)),
            version: text(seg.get(8)),
        }
    }
}
