//! Reading a 999 implementation acknowledgment, 005010X231A1: which sets of a sent group were
//! accepted, and the IK3/IK4 errors of the ones that were not, so a sent file's fate reaches
//! the ledger. (Building 999s is `x12::GroupAck`.)

use crate::common::Text;
use crate::issue::Issue;
use crate::tree::{build, check_usage, pack_id, seg_pack, LoopDef, Node, Trigger};
use crate::tree::{l, s};
use crate::values::{components, text, Checks, Fields};
use serde::{Deserialize, Serialize};
use x12::SegmentRef;

/// The 999 loop schema.
pub static SCHEMA: LoopDef = l(
    "999",
    Trigger::seg("ST"),
    &[s("ST", 1, 1), s("AK1", 1, 1), s("AK9", 1, 1), s("SE", 1, 1)],
    &[l(
        "2000",
        Trigger::seg("AK2"),
        &[s("IK5", 1, 1)],
        &[l(
            "2100",
            Trigger::seg("IK3"),
            &[s("CTX", 0, 11)],
            &[l("2110", Trigger::seg("IK4"), &[s("CTX", 0, 10)], &[], 0, 99)],
            0,
            0,
        )],
        0,
        0,
    )],
    1,
    1,
);

/// An IK4 element error.
#[derive(Clone, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ElementError {
    /// IK401: element position, component and repetition.
    pub position: u16,
    pub component: Option<u16>,
    pub repetition: Option<u16>,
    /// IK402 data element reference number.
    pub reference: Text,
    /// IK403 syntax error code.
    pub code: Text,
}

/// An IK3 segment error with its IK4 element errors.
#[derive(Clone, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct SegmentError {
    pub segment_id: Text,
    /// IK302 position in the set (ST = 1).
    pub position: u32,
    /// IK303 loop id.
    pub loop_id: Text,
    /// IK304 segment syntax error code.
    pub code: Text,
    /// CTX01 context: name and reference (`CLM01` and the claim's id), components joined with
    /// `:` whatever the sender's component separator, so the model does not depend on it.
    pub context: Vec<Text>,
    pub elements: Vec<ElementError>,
}

/// The fate of one sent transaction set (loop 2000).
#[derive(Clone, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct SetResult {
    /// AK201 id and AK202 control number of the set acknowledged.
    pub id: Text,
    pub control: Text,
    pub version: Text,
    /// IK501 (A accepted, E accepted with errors, M/R/W/X rejected).
    pub status: Text,
    pub accepted: bool,
    /// IK502-IK506 set-level syntax error codes.
    pub codes: Vec<Text>,
    pub errors: Vec<SegmentError>,
}

/// A parsed 999.
#[derive(Clone, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Acknowledgment {
    /// AK101 functional id, AK102 group control number, AK103 version of the group answered.
    pub functional_id: Text,
    pub group_control: Text,
    pub version: Text,
    /// AK901 (A, E, P, R, M, W, X).
    pub status: Text,
    /// True when AK901 is A or E: the group went through.
    pub accepted: bool,
    /// AK902 included, AK903 received, AK904 accepted.
    pub included: u32,
    pub received: u32,
    pub accepted_sets: u32,
    /// AK905-AK909 group error codes.
    pub codes: Vec<Text>,
    pub sets: Vec<SetResult>,
}

impl Acknowledgment {
    /// The result for a set control number, when the 999 mentions it.
    pub fn set(&self, control: &str) -> Option<&SetResult> {
        self.sets.iter().find(|s| s.control == control)
    }
}

fn count(b: &[u8]) -> u32 {
    std::str::from_utf8(b).ok().and_then(|s| s.parse().ok()).unwrap_or(0)
}

fn codes(f: &Fields<'_>, from: usize, to: usize) -> Vec<Text> {
    (from..=to).map(|i| f.get(i)).filter(|v| !v.is_empty()).map(text).collect()
}

fn num(b: Option<&[u8]>) -> Option<u16> {
    b.and_then(|v| std::str::from_utf8(v).ok()).and_then(|v| v.parse().ok())
}

/// The first segment of a loop with this packed id, split.
fn first_of<'a>(node: &Node<'a>, id: u32) -> Option<Fields<'a>> {
    node.segments.iter().find(|s| seg_pack(s) == id).map(Fields::new)
}

/// A CTX01 context: its components (non-UTF-8 ones empty) joined with `:`.
fn context(f: &Fields<'_>) -> Text {
    let mut out = Text::default();
    for (i, part) in components(f.get(1), f.seg.delimiters().component).enumerate() {
        if i > 0 {
            out.push(':');
        }
        out.push_str(std::str::from_utf8(part).unwrap_or(""));
    }
    out
}

const ID_AK1: u32 = pack_id(b"AK1");
const ID_AK9: u32 = pack_id(b"AK9");
const ID_CTX: u32 = pack_id(b"CTX");
const ID_IK5: u32 = pack_id(b"IK5");

/// Reads the acknowledgment from a built tree.
pub fn extract(root: &Node<'_>) -> Acknowledgment {
    let mut a = Acknowledgment::default();
    if let Some(ak1) = first_of(root, ID_AK1) {
        a.functional_id = text(ak1.get(1));
        a.group_control = text(ak1.get(2));
        a.version = text(ak1.get(3));
    }
    if let Some(ak9) = first_of(root, ID_AK9) {
        a.status = text(ak9.get(1));
        a.accepted = matches!(ak9.get(1), b"A" | b"E");
        a.included = count(ak9.get(2));
        a.received = count(ak9.get(3));
        a.accepted_sets = count(ak9.get(4));
        a.codes = codes(&ak9, 5, 9);
    }
    for set in root.kids("2000") {
        let ak2 = Fields::new(set.first());
        let ik5 = first_of(set, ID_IK5);
        let status: Text = ik5.map(|s| text(s.get(1))).unwrap_or_default();
        let mut r = SetResult {
            id: text(ak2.get(1)),
            control: text(ak2.get(2)),
            version: text(ak2.get(3)),
            accepted: matches!(status.as_str(), "A" | "E"),
            status,
            codes: ik5.map(|s| codes(&s, 2, 6)).unwrap_or_default(),
            errors: Vec::new(),
        };
        for ik3 in set.kids("2100") {
            let seg = Fields::new(ik3.first());
            let mut e = SegmentError {
                segment_id: text(seg.get(1)),
                position: count(seg.get(2)),
                loop_id: text(seg.get(3)),
                code: text(seg.get(4)),
                context: ik3
                    .segments
                    .iter()
                    .filter(|s| seg_pack(s) == ID_CTX)
                    .map(|c| context(&Fields::new(c)))
                    .collect(),
                elements: Vec::new(),
            };
            for ik4 in ik3.kids("2110") {
                let seg = Fields::new(ik4.first());
                let comp = seg.seg.delimiters().component;
                let mut pos = components(seg.get(1), comp);
                e.elements.push(ElementError {
                    position: num(pos.next()).unwrap_or(0),
                    component: num(pos.next()),
                    repetition: num(pos.next()),
                    reference: text(seg.get(2)),
                    code: text(seg.get(3)),
                });
            }
            r.errors.push(e);
        }
        a.sets.push(r);
    }
    a
}

/// Implementation-guide (SNIP 2) checks over a built 999 tree.
pub fn validate(root: &Node<'_>, set_start: u64, issues: &mut Vec<Issue>) {
    check_usage(root, set_start, issues);
    let mut c = Checks::new(set_start, issues);
    root.walk(&mut |n: &Node<'_>| {
        let lid = n.def.id;
        for seg in &n.segments {
            let seg = &Fields::new(seg);
            match seg.id {
                b"AK1" => {
                    c.required(seg, lid, 1);
                    c.required(seg, lid, 2);
                    c.decimal(seg, lid, 2);
                }
                b"AK2" => {
                    c.required(seg, lid, 1);
                    c.required(seg, lid, 2);
                }
                b"IK3" => {
                    c.required(seg, lid, 1);
                    c.required(seg, lid, 2);
                    c.decimal(seg, lid, 2);
                    if c.required(seg, lid, 4) {
                        c.code(seg, lid, 4, &["1", "2", "3", "4", "5", "6", "7", "8", "I4", "I6", "I7", "I8", "I9"]);
                    }
                }
                b"IK4" => {
                    c.required(seg, lid, 1);
                    c.required(seg, lid, 3);
                }
                b"IK5" => {
                    c.required(seg, lid, 1);
                    c.code(seg, lid, 1, &["A", "E", "M", "R", "W", "X"]);
                }
                b"AK9" => {
                    c.required(seg, lid, 1);
                    c.code(seg, lid, 1, &["A", "E", "M", "P", "R", "W", "X"]);
                    for el in 2..=4 {
                        c.required(seg, lid, el);
                        c.decimal(seg, lid, el);
                    }
                }
                _ => {}
            }
        }
    });
}

/// Builds, validates and extracts one 999 set from its segments (ST..SE).
pub fn parse<'a>(segments: impl IntoIterator<Item = SegmentRef<'a>>, issues: &mut Vec<Issue>) -> Acknowledgment {
    let mut segs = segments.into_iter().peekable();
    let start = segs.peek().map(|s| s.index()).unwrap_or(1);
    let root = build(&SCHEMA, segs, issues);
    validate(&root, start, issues);
    extract(&root)
}
