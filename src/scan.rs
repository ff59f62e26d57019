//! One pass over a file with the streaming reader: the summary `inspect` prints, the errors
//! `validate` prints, and the acknowledgments it writes, all in memory bounded by the largest
//! transaction set.

use serde::Serialize;
use std::io::{self, Read};
use x12::{
    AckCode, Delimiters, Error, Event, GroupAck, InterchangeHeader, LineEnding, OwnedSet, Position, SetAck, Severity,
    StreamReader,
};

/// Validation beyond syntax, one transaction set at a time. The syntax errors of the set are
/// already in `ack` when this runs; an implementation adds its own notes to the 999 and returns
/// the problems to print.
pub trait SetValidator {
    fn validate_set(&self, set: &OwnedSet, ack: &mut SetAck) -> Vec<Problem>;
}

/// Syntax and envelope checks only.
pub struct SyntaxOnly;

impl SetValidator for SyntaxOnly {
    fn validate_set(&self, _set: &OwnedSet, _ack: &mut SetAck) -> Vec<Problem> {
        Vec::new()
    }
}

/// The typed layer's implementation-guide (SNIP 2) and balancing (SNIP 3) checks for every
/// set `hipaa` has a model for (837P, 835, 270/271, 278, 276/277, 277CA, 999).
pub struct Typed;

impl SetValidator for Typed {
    fn validate_set(&self, set: &OwnedSet, ack: &mut SetAck) -> Vec<Problem> {
        hipaa::validate_set(set)
            .iter()
            .map(|i| {
                i.add_to(ack);
                let kind =
                    serde_json::to_value(i.code).ok().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default();
                Problem { severity: i.severity, kind, message: i.to_string(), position: i.position }
            })
            .collect()
    }
}

/// An error as reported: never an element value, only codes and positions.
#[derive(Clone, Debug, Serialize)]
pub struct Problem {
    pub severity: Severity,
    /// Stable kebab-case kind, e.g. `count-mismatch`.
    pub kind: String,
    /// `segment 42 (SE, byte 1288) element 01: SE01 says 19 segments, found 20`
    pub message: String,
    pub position: Position,
}

impl From<&Error> for Problem {
    fn from(e: &Error) -> Problem {
        let kind = serde_json::to_value(&e.kind)
            .ok()
            .and_then(|v| v.get("kind").and_then(|k| k.as_str()).map(str::to_string))
            .unwrap_or_default();
        Problem { severity: e.severity(), kind, message: e.to_string(), position: e.position }
    }
}

#[derive(Clone, Debug, Serialize)]
pub struct SetSummary {
    /// ST01, ST02, ST03.
    pub id: String,
    pub control: String,
    pub version: String,
    /// Segments ST through SE as counted.
    pub segments: u32,
    pub byte: u64,
    pub accepted: bool,
    pub errors: Vec<Problem>,
}

#[derive(Clone, Debug, Serialize)]
pub struct GroupSummary {
    pub functional_id: String,
    pub version: String,
    pub control: String,
    pub byte: u64,
    pub sets: Vec<SetSummary>,
    pub errors: Vec<Problem>,
}

/// ISA fields that identify an interchange; the authorization and security fields (ISA02,
/// ISA04) are left out on purpose: they may hold passwords.
#[derive(Clone, Debug, Serialize)]
pub struct InterchangeSummary {
    pub sender_qualifier: String,
    pub sender_id: String,
    pub receiver_qualifier: String,
    pub receiver_id: String,
    pub control: String,
    /// ISA09 (YYMMDD) and ISA10 (HHMM).
    pub date: String,
    pub time: String,
    pub usage: String,
    pub ack_requested: bool,
    pub delimiters: String,
    pub line_ending: LineEnding,
    pub byte: u64,
    pub groups: Vec<GroupSummary>,
    pub errors: Vec<Problem>,
}

#[derive(Clone, Debug, Serialize)]
pub struct FileReport {
    pub file: String,
    pub bytes: u64,
    pub interchanges: Vec<InterchangeSummary>,
    /// Problems outside any interchange, and warnings (byte-order mark, indentation).
    pub errors: Vec<Problem>,
}

impl FileReport {
    /// Every problem in the file, in file order of the structures holding them.
    pub fn problems(&self) -> impl Iterator<Item = (String, &Problem)> {
        let file = self.errors.iter().map(|p| ("file".to_string(), p));
        let nested = self.interchanges.iter().flat_map(|i| {
            let groups = i.groups.iter().flat_map(|g| {
                let sets = g.sets.iter().flat_map(|s| s.errors.iter().map(move |p| (format!("set {}", s.control), p)));
                sets.chain(g.errors.iter().map(move |p| (format!("group {}", g.control), p)))
            });
            groups.chain(i.errors.iter().map(move |p| (format!("interchange {}", i.control), p)))
        });
        file.chain(nested)
    }

    pub fn count(&self, severity: Severity) -> usize {
        self.problems().filter(|(_, p)| p.severity == severity).count()
    }

    /// Something here needs a person: an error, or a set the validator did not accept.
    pub fn needs_person(&self) -> bool {
        self.count(Severity::Error) > 0
            || self.interchanges.iter().flat_map(|i| &i.groups).flat_map(|g| &g.sets).any(|s| !s.accepted)
    }

    pub fn totals(&self) -> (usize, usize, usize) {
        let groups: usize = self.interchanges.iter().map(|i| i.groups.len()).sum();
        let sets: usize = self.interchanges.iter().flat_map(|i| &i.groups).map(|g| g.sets.len()).sum();
        (self.interchanges.len(), groups, sets)
    }
}

/// What to acknowledge for one interchange.
#[derive(Clone, Debug)]
pub struct InterchangeAck {
    pub header: InterchangeHeader,
    /// The sender's delimiters and line break: the acknowledgment is written with them.
    pub delimiters: Delimiters,
    pub line_ending: LineEnding,
    pub errors: Vec<Error>,
    pub groups: Vec<GroupAck>,
}

impl InterchangeAck {
    /// A TA1 is owed when the sender asked for one (ISA14 = 1) or the envelope is bad.
    pub fn wants_ta1(&self) -> bool {
        self.header.ack_requested || self.errors.iter().any(|e| matches!(e.kind.ack_code(), AckCode::Ta1(_)))
    }
}

pub struct Scan {
    pub report: FileReport,
    pub acks: Vec<InterchangeAck>,
}

fn delimiter_text(d: &Delimiters) -> String {
    let show = |b: u8| if b.is_ascii_graphic() { (b as char).to_string() } else { format!("0x{b:02X}") };
    format!(
        "{} {} {} {}",
        show(d.element),
        d.repetition.map(show).unwrap_or_else(|| "-".into()),
        show(d.component),
        show(d.segment)
    )
}

fn problems(errors: &[Error]) -> Vec<Problem> {
    errors.iter().map(Problem::from).collect()
}

/// Reads `input` once, summarizing and building acknowledgments as it goes.
pub fn scan(file: &str, input: impl Read, validator: &dyn SetValidator) -> io::Result<Scan> {
    let mut report = FileReport { file: file.to_string(), bytes: 0, interchanges: Vec::new(), errors: Vec::new() };
    let mut acks: Vec<InterchangeAck> = Vec::new();
    let mut counted = CountingRead { inner: input, bytes: 0 };
    let mut group_open: Option<(GroupSummary, GroupAck)> = None;
    for event in StreamReader::new(&mut counted) {
        match event? {
            Event::Issue(e) => report.errors.push(Problem::from(&e)),
            Event::InterchangeStart { header, delimiters, line_ending, position } => {
                report.interchanges.push(InterchangeSummary {
                    sender_qualifier: header.sender_qualifier.clone(),
                    sender_id: header.sender_id.clone(),
                    receiver_qualifier: header.receiver_qualifier.clone(),
                    receiver_id: header.receiver_id.clone(),
                    control: header.control.clone(),
                    date: header.date.clone(),
                    time: header.time.clone(),
                    usage: header.usage.clone(),
                    ack_requested: header.ack_requested,
                    delimiters: delimiter_text(&delimiters),
                    line_ending,
                    byte: position.byte,
                    groups: Vec::new(),
                    errors: Vec::new(),
                });
                acks.push(InterchangeAck { header, delimiters, line_ending, errors: Vec::new(), groups: Vec::new() });
            }
            Event::Ta1 { .. } => {}
            Event::GroupStart { header, position } => {
                let summary = GroupSummary {
                    functional_id: header.functional_id.clone(),
                    version: header.version.clone(),
                    control: header.control.clone(),
                    byte: position.byte,
                    sets: Vec::new(),
                    errors: Vec::new(),
                };
                group_open = Some((summary, GroupAck { header, ..GroupAck::default() }));
            }
            Event::Set(set) => {
                let mut ack = SetAck::new(&set.id, &set.control, &set.version);
                ack.add_errors(&set.errors);
                let typed = validator.validate_set(&set, &mut ack);
                let mut errors = problems(&set.errors);
                errors.extend(typed);
                let summary = SetSummary {
                    id: set.id.clone(),
                    control: set.control.clone(),
                    version: set.version.clone(),
                    segments: set.segment_count,
                    byte: set.byte,
                    accepted: ack.accepted(),
                    errors,
                };
                if let Some((g, gack)) = group_open.as_mut() {
                    g.sets.push(summary);
                    gack.sets.push(ack);
                }
            }
            Event::GroupEnd { errors, .. } => {
                if let Some((mut g, mut gack)) = group_open.take() {
                    g.errors = problems(&errors);
                    gack.add_errors(&errors);
                    if let (Some(i), Some(a)) = (report.interchanges.last_mut(), acks.last_mut()) {
                        i.groups.push(g);
                        a.groups.push(gack);
                    }
                }
            }
            Event::InterchangeEnd { errors, .. } => {
                if let (Some(i), Some(a)) = (report.interchanges.last_mut(), acks.last_mut()) {
                    i.errors = problems(&errors);
                    a.errors = errors;
                }
            }
        }
    }
    report.bytes = counted.bytes;
    Ok(Scan { report, acks })
}

struct CountingRead<R> {
    inner: R,
    bytes: u64,
}

impl<R: Read> Read for CountingRead<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.bytes += n as u64;
        Ok(n)
    }
}
