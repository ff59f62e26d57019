//! Writing X12: owned segments, any delimiter set, any line-break style, trailers recomputed.

use crate::delim::Delimiters;
use crate::envelope::{GroupHeader, InterchangeHeader};
use crate::segment::{components, SegmentRef};
use crate::stream::LineEnding;
use std::io::{self, Write};

/// An owned element: repetitions of components. Most elements are one repetition of one
/// component; `Element::from("x")` builds that.
#[derive(Clone, Debug, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub struct Element {
    pub repetitions: Vec<Vec<String>>,
}

impl Element {
    pub fn simple(value: impl Into<String>) -> Element {
        Element { repetitions: vec![vec![value.into()]] }
    }

    pub fn composite<S: Into<String>>(parts: impl IntoIterator<Item = S>) -> Element {
        Element { repetitions: vec![parts.into_iter().map(Into::into).collect()] }
    }

    pub fn is_empty(&self) -> bool {
        self.repetitions.iter().all(|r| r.iter().all(String::is_empty))
    }
}

impl From<&str> for Element {
    fn from(s: &str) -> Element {
        Element::simple(s)
    }
}

impl From<String> for Element {
    fn from(s: String) -> Element {
        Element::simple(s)
    }
}

/// An owned segment.
#[derive(Clone, Debug, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub struct Segment {
    pub id: String,
    pub elements: Vec<Element>,
}

impl Segment {
    /// `Segment::new("NM1", ["85", "2", "PAIN CENTER"])`
    pub fn new<E: Into<Element>>(id: &str, elements: impl IntoIterator<Item = E>) -> Segment {
        Segment { id: id.to_string(), elements: elements.into_iter().map(Into::into).collect() }
    }

    /// Copies a borrowed segment, splitting repetitions and components by its delimiters.
    pub fn from_ref(seg: &SegmentRef<'_>) -> Segment {
        let d = seg.delimiters();
        let elements = seg
            .elements()
            .map(|el| {
                let reps: Vec<&[u8]> = match d.repetition {
                    Some(r) if seg.id() != b"ISA" => el.split(move |&b| b == r).collect(),
                    _ => vec![el],
                };
                Element {
                    repetitions: reps
                        .into_iter()
                        .map(|rep| {
                            if seg.id() == b"ISA" {
                                vec![String::from_utf8_lossy(rep).into_owned()]
                            } else {
                                components(rep, d.component).map(|c| String::from_utf8_lossy(c).into_owned()).collect()
                            }
                        })
                        .collect(),
                }
            })
            .collect();
        Segment { id: String::from_utf8_lossy(seg.id()).into_owned(), elements }
    }

    /// Element `n` (1-based), first component of the first repetition; `""` when absent.
    pub fn get(&self, n: usize) -> &str {
        n.checked_sub(1)
            .and_then(|i| self.elements.get(i))
            .and_then(|e| e.repetitions.first())
            .and_then(|r| r.first())
            .map(String::as_str)
            .unwrap_or("")
    }

    /// Writes the segment (terminator and line break included). Trailing empty elements and
    /// components are dropped, as the standard requires; ISA keeps every element.
    pub fn write_to(&self, out: &mut Vec<u8>, d: &Delimiters, line: LineEnding) {
        out.extend_from_slice(self.id.as_bytes());
        let keep_all = self.id == "ISA";
        let n = if keep_all {
            self.elements.len()
        } else {
            self.elements.iter().rposition(|e| !e.is_empty()).map_or(0, |i| i + 1)
        };
        for el in &self.elements[..n] {
            out.push(d.element);
            let reps = if keep_all {
                el.repetitions.len()
            } else {
                el.repetitions.iter().rposition(|r| r.iter().any(|c| !c.is_empty())).map_or(0, |i| i + 1)
            };
            for (ri, rep) in el.repetitions[..reps].iter().enumerate() {
                if ri > 0 {
                    out.push(d.repetition.unwrap_or(d.element));
                }
                let comps =
                    if keep_all { rep.len() } else { rep.iter().rposition(|c| !c.is_empty()).map_or(0, |i| i + 1) };
                for (ci, c) in rep[..comps].iter().enumerate() {
                    if ci > 0 {
                        out.push(d.component);
                    }
                    out.extend_from_slice(c.as_bytes());
                }
            }
        }
        out.push(d.segment);
        out.extend_from_slice(line.as_bytes());
    }
}

/// Re-delimits a borrowed segment into `out` under another delimiter set, byte for byte
/// otherwise: the fast path for emitting what was parsed.
pub fn write_ref(seg: &SegmentRef<'_>, out: &mut Vec<u8>, to: &Delimiters, line: LineEnding) {
    let from = seg.delimiters();
    if from == *to {
        out.extend_from_slice(seg.raw());
    } else {
        let is_isa = seg.id() == b"ISA";
        let mut seen = 0;
        for &b in seg.raw() {
            let mapped = if b == from.element {
                seen += 1;
                to.element
            } else if is_isa && seen == 16 && b == from.component {
                to.component
            } else if is_isa && seen == 11 && Some(b) == from.repetition {
                to.repetition.unwrap_or(b'U')
            } else if is_isa {
                b
            } else if b == from.component {
                to.component
            } else if Some(b) == from.repetition {
                to.repetition.unwrap_or(to.element)
            } else {
                b
            };
            out.push(mapped);
        }
    }
    out.push(to.segment);
    out.extend_from_slice(line.as_bytes());
}

fn pad(s: &str, width: usize) -> String {
    let mut s: String = s.chars().take(width).collect();
    while s.len() < width {
        s.push(' ');
    }
    s
}

/// Writes whole interchanges: ISA and GS from headers, control numbers assigned by the caller,
/// and SE01, GE01 and IEA01 counted as segments and sets are written.
///
/// ```
/// use x12::{EnvelopeWriter, Delimiters, InterchangeHeader, GroupHeader, LineEnding, Segment};
/// let mut w = EnvelopeWriter::new(Vec::new(), Delimiters::default(), LineEnding::Lf);
/// let isa = InterchangeHeader { sender_qualifier: "ZZ".into(), sender_id: "PRACTICE".into(),
///     receiver_qualifier: "ZZ".into(), receiver_id: "CLEARINGHOUSE".into(), date: "261127".into(),
///     time: "1200".into(), version: "00501".into(), usage: "P".into(), ..Default::default() };
/// w.start_interchange(&isa, 7).unwrap();
/// let gs = GroupHeader { functional_id: "HC".into(), sender: "PRACTICE".into(), receiver: "CH".into(),
///     date: "20261127".into(), time: "1200".into(), agency: "X".into(), version: "005010X222A1".into(), ..Default::default() };
/// w.start_group(&gs, 7).unwrap();
/// w.start_set("837", "0001", "005010X222A1").unwrap();
/// w.segment(&Segment::new("BHT", ["0019", "00", "1", "20261127", "1200", "CH"])).unwrap();
/// w.end_set().unwrap();
/// w.end_group().unwrap();
/// let out = String::from_utf8(w.finish().unwrap()).unwrap();
/// assert!(out.contains("SE*3*0001~\nGE*1*7~\nIEA*1*000000007~\n"));
/// ```
pub struct EnvelopeWriter<W: Write> {
    out: W,
    buf: Vec<u8>,
    delimiters: Delimiters,
    line: LineEnding,
    isa_control: Option<u32>,
    gs_control: Option<u32>,
    st_control: Option<String>,
    groups: u32,
    sets: u32,
    segments: u32,
}

impl<W: Write> EnvelopeWriter<W> {
    pub fn new(out: W, delimiters: Delimiters, line: LineEnding) -> EnvelopeWriter<W> {
        EnvelopeWriter {
            out,
            buf: Vec::with_capacity(64 * 1024),
            delimiters,
            line,
            isa_control: None,
            gs_control: None,
            st_control: None,
            groups: 0,
            sets: 0,
            segments: 0,
        }
    }

    pub fn delimiters(&self) -> Delimiters {
        self.delimiters
    }

    fn flush_if_big(&mut self) -> io::Result<()> {
        if self.buf.len() >= 64 * 1024 {
            self.out.write_all(&self.buf)?;
            self.buf.clear();
        }
        Ok(())
    }

    fn raw_segment(&mut self, s: &Segment) -> io::Result<()> {
        s.write_to(&mut self.buf, &self.delimiters, self.line);
        self.flush_if_big()
    }

    pub fn start_interchange(&mut self, h: &InterchangeHeader, control: u32) -> io::Result<()> {
        if self.isa_control.is_some() {
            self.end_interchange()?;
        }
        let d = self.delimiters;
        let rep = d.repetition.map(|b| (b as char).to_string()).unwrap_or_else(|| "U".into());
        let isa = Segment::new(
            "ISA",
            [
                pad(or(&h.auth_qualifier, "00"), 2),
                pad(&h.auth, 10),
                pad(or(&h.security_qualifier, "00"), 2),
                pad(&h.security, 10),
                pad(&h.sender_qualifier, 2),
                pad(&h.sender_id, 15),
                pad(&h.receiver_qualifier, 2),
                pad(&h.receiver_id, 15),
                pad(&h.date, 6),
                pad(&h.time, 4),
                rep,
                pad(or(&h.version, "00501"), 5),
                format!("{control:09}"),
                if h.ack_requested { "1".into() } else { "0".into() },
                pad(or(&h.usage, "P"), 1),
                (d.component as char).to_string(),
            ],
        );
        // ISA16 is the component separator itself: write it verbatim, not as a delimiter.
        let mut out = Vec::with_capacity(108);
        out.extend_from_slice(b"ISA");
        for el in &isa.elements {
            out.push(d.element);
            out.extend_from_slice(el.repetitions[0][0].as_bytes());
        }
        out.push(d.segment);
        out.extend_from_slice(self.line.as_bytes());
        self.buf.extend_from_slice(&out);
        self.isa_control = Some(control);
        self.groups = 0;
        Ok(())
    }

    pub fn start_group(&mut self, h: &GroupHeader, control: u32) -> io::Result<()> {
        if self.gs_control.is_some() {
            self.end_group()?;
        }
        let gs = Segment::new(
            "GS",
            [
                h.functional_id.as_str(),
                &h.sender,
                &h.receiver,
                &h.date,
                &h.time,
                &control.to_string(),
                or(&h.agency, "X"),
                &h.version,
            ],
        );
        self.raw_segment(&gs)?;
        self.gs_control = Some(control);
        self.groups += 1;
        self.sets = 0;
        Ok(())
    }

    pub fn start_set(&mut self, id: &str, control: &str, version: &str) -> io::Result<()> {
        let st = if version.is_empty() {
            Segment::new("ST", [id, control])
        } else {
            Segment::new("ST", [id, control, version])
        };
        self.raw_segment(&st)?;
        self.st_control = Some(control.to_string());
        self.sets += 1;
        self.segments = 1;
        Ok(())
    }

    pub fn segment(&mut self, s: &Segment) -> io::Result<()> {
        self.raw_segment(s)?;
        self.segments += 1;
        Ok(())
    }

    /// Writes a borrowed segment (re-delimited when the delimiters differ).
    pub fn segment_ref(&mut self, s: &SegmentRef<'_>) -> io::Result<()> {
        write_ref(s, &mut self.buf, &self.delimiters, self.line);
        self.segments += 1;
        self.flush_if_big()
    }

    pub fn end_set(&mut self) -> io::Result<()> {
        let control = self.st_control.take().unwrap_or_default();
        let se = Segment::new("SE", [(self.segments + 1).to_string(), control]);
        self.raw_segment(&se)
    }

    pub fn end_group(&mut self) -> io::Result<()> {
        if let Some(c) = self.gs_control.take() {
            let ge = Segment::new("GE", [self.sets.to_string(), c.to_string()]);
            self.raw_segment(&ge)?;
        }
        Ok(())
    }

    pub fn end_interchange(&mut self) -> io::Result<()> {
        if self.gs_control.is_some() {
            self.end_group()?;
        }
        if let Some(c) = self.isa_control.take() {
            let iea = Segment::new("IEA", [self.groups.to_string(), format!("{c:09}")]);
            self.raw_segment(&iea)?;
        }
        Ok(())
    }

    /// Closes whatever is open and returns the writer.
    pub fn finish(mut self) -> io::Result<W> {
        self.end_interchange()?;
        self.out.write_all(&self.buf)?;
        self.out.flush()?;
        Ok(self.out)
    }
}

fn or<'a>(s: &'a str, default: &'a str) -> &'a str {
    if s.is_empty() {
        default
    } else {
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trailing_empties_are_dropped() {
        let s = Segment {
            id: "NM1".into(),
            elements: vec!["85".into(), "2".into(), "".into(), Element::composite(["A", "", ""]), "".into()],
        };
        let mut out = Vec::new();
        s.write_to(&mut out, &Delimiters::default(), LineEnding::None);
        assert_eq!(out, b"NM1*85*2**A~");
    }

    #[test]
    fn write_ref_redelimits() {
        let raw = b"SV1*HC:64493:50*200*UN*1***1:2^3";
        let seg = SegmentRef::new(raw, Delimiters::default(), 0, 1);
        let to = Delimiters { element: b'|', repetition: Some(b'!'), component: b'>', segment: 0x1C };
        let mut out = Vec::new();
        write_ref(&seg, &mut out, &to, LineEnding::CrLf);
        assert_eq!(out, b"SV1|HC>64493>50|200|UN|1|||1>2!3\x1c\r\n");
    }
}
