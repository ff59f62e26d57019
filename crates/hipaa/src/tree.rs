//! The loop-aware reader: turns the flat segments of one transaction set into the loop tree of
//! its implementation guide.
//!
//! Each guide is a static `LoopDef` tree: a loop opens on its trigger segment (optionally with a
//! qualifier value, e.g. `NM1*85` or `HL` with `HL03 = 22`) and holds the segments listed for
//! it. A segment is placed by asking the innermost open loop first: does it open one of this
//! loop's children? Is it one of this loop's segments? If neither, the loop closes and its
//! parent is asked. This is how X12 loops are delimited, and it also nests the HL hierarchy
//! (20 > 22 > 23) without a special case. A segment nobody accepts is kept in the innermost
//! loop (nothing is ever dropped, so emit stays exact) and reported with the loop's id.

use crate::issue::{Issue, IssueCode};
use x12::SegmentRef;

/// What opens a loop.
#[derive(Debug)]
pub struct Trigger {
    pub segment: &'static str,
    /// Element whose value selects the loop (1-based), 0 for none.
    pub element: usize,
    /// Accepted values of that element; empty for any.
    pub values: &'static [&'static str],
}

/// One segment a loop may hold, with its usage limits (trigger excluded).
#[derive(Debug)]
pub struct SegSpec {
    pub id: &'static str,
    /// Minimum occurrences (1 = required).
    pub min: u16,
    /// Maximum occurrences; 0 for unbounded (">1").
    pub max: u16,
}

/// One loop of an implementation guide.
#[derive(Debug)]
pub struct LoopDef {
    pub id: &'static str,
    pub trigger: Trigger,
    pub segments: &'static [SegSpec],
    pub children: &'static [LoopDef],
    /// Minimum occurrences within its parent (1 = required) and maximum (0 = unbounded).
    pub min: u16,
    pub max: u32,
}

impl Trigger {
    pub const fn seg(segment: &'static str) -> Trigger {
        Trigger { segment, element: 0, values: &[] }
    }

    pub const fn qual(segment: &'static str, element: usize, values: &'static [&'static str]) -> Trigger {
        Trigger { segment, element, values }
    }

    #[inline]
    fn matches(&self, seg: &SegmentRef<'_>, id: &[u8]) -> bool {
        if id != self.segment.as_bytes() {
            return false;
        }
        if self.element == 0 || self.values.is_empty() {
            return true;
        }
        let v = seg.get(self.element);
        self.values.iter().any(|x| x.as_bytes() == v)
    }
}

impl LoopDef {
    #[inline]
    fn allows(&self, id: &[u8]) -> bool {
        self.segments.iter().any(|s| s.id.as_bytes() == id)
    }

    /// Finds a loop definition by id anywhere below (and including) this one.
    pub fn find(&'static self, id: &str) -> Option<&'static LoopDef> {
        if self.id == id {
            return Some(self);
        }
        self.children.iter().find_map(|c| c.find(id))
    }
}

/// One occurrence of a loop, borrowing its segments.
#[derive(Clone, Debug)]
pub struct Node<'a> {
    pub def: &'static LoopDef,
    /// The loop's own segments in file order, trigger first.
    pub segments: Vec<SegmentRef<'a>>,
    pub children: Vec<Node<'a>>,
}

impl<'a> Node<'a> {
    fn new(def: &'static LoopDef, first: Option<SegmentRef<'a>>) -> Node<'a> {
        Node { def, segments: first.into_iter().collect(), children: Vec::new() }
    }

    pub fn id(&self) -> &'static str {
        self.def.id
    }

    /// The first segment with this id.
    pub fn seg(&self, id: &str) -> Option<&SegmentRef<'a>> {
        self.segments.iter().find(|s| s.id() == id.as_bytes())
    }

    /// All segments with this id.
    pub fn segs<'s>(&'s self, id: &'s str) -> impl Iterator<Item = &'s SegmentRef<'a>> + 's {
        self.segments.iter().filter(move |s| s.id() == id.as_bytes())
    }

    /// The first segment with this id whose element `el` equals `value` (e.g. `REF*G1`).
    pub fn seg_q(&self, id: &str, el: usize, value: &str) -> Option<&SegmentRef<'a>> {
        self.segments.iter().find(|s| s.id() == id.as_bytes() && s.get(el) == value.as_bytes())
    }

    /// The trigger segment.
    pub fn first(&self) -> &SegmentRef<'a> {
        self.segments.first().expect("because every non-root loop opens with its trigger")
    }

    /// Child loops with this id.
    pub fn kids<'s>(&'s self, id: &'s str) -> impl Iterator<Item = &'s Node<'a>> + 's {
        self.children.iter().filter(move |c| c.def.id == id)
    }

    pub fn kid(&self, id: &str) -> Option<&Node<'a>> {
        self.children.iter().find(|c| c.def.id == id)
    }

    /// Every segment of this loop and its descendants, in file order.
    pub fn all_segments(&self) -> Vec<SegmentRef<'a>> {
        let mut out = Vec::new();
        self.collect(&mut out);
        out.sort_by_key(|s| s.index());
        out
    }

    fn collect(&self, out: &mut Vec<SegmentRef<'a>>) {
        out.extend_from_slice(&self.segments);
        for c in &self.children {
            c.collect(out);
        }
    }

    /// Visits every loop, depth first.
    pub fn walk(&self, f: &mut impl FnMut(&Node<'a>)) {
        f(self);
        for c in &self.children {
            c.walk(f);
        }
    }
}

/// Builds the loop tree of one transaction set. `segments` runs from ST to SE inclusive;
/// `base` is the file segment number of the ST, so positions within the set can be given.
pub fn build<'a>(
    root: &'static LoopDef,
    segments: impl IntoIterator<Item = SegmentRef<'a>>,
    issues: &mut Vec<Issue>,
) -> Node<'a> {
    let mut stack: Vec<Node<'a>> = vec![Node::new(root, None)];
    let mut st_index = None;
    for seg in segments {
        let st = *st_index.get_or_insert(seg.index());
        let id = seg.id();
        // Find the innermost open loop that takes this segment, without closing anything
        // yet: a segment nobody takes must not close the loops around it.
        let level = stack.iter().rposition(|n| {
            n.def.children.iter().any(|c| c.trigger.matches(&seg, id))
                || (n.def.allows(id) && !n.segments.is_empty())
                || (n.def.allows(id) && std::ptr::eq(n.def, root))
        });
        match level {
            Some(k) => {
                while stack.len() > k + 1 {
                    let done = stack.pop().expect("because len > k + 1");
                    stack.last_mut().expect("because k >= 0").children.push(done);
                }
                let top = stack.last_mut().expect("because the root is never popped");
                if let Some(def) = top.def.children.iter().find(|c| c.trigger.matches(&seg, id)) {
                    stack.push(Node::new(def, Some(seg)));
                } else {
                    top.segments.push(seg);
                }
            }
            None => {
                let top = stack.last_mut().expect("because the root is never popped");
                issues.push(Issue::segment(
                    &seg,
                    st,
                    Some(top.def.id),
                    IssueCode::UnexpectedSegment,
                    format!("segment not expected in loop {}", top.def.id),
                ));
                top.segments.push(seg);
            }
        }
    }
    while stack.len() > 1 {
        let done = stack.pop().expect("because len > 1");
        stack.last_mut().expect("because len > 1").children.push(done);
    }
    stack.pop().expect("because the root is never popped")
}

/// Checks segment and loop usage (required segments present, maximum use, loop repeats) over
/// a built tree. `set_start` is the file segment number of the ST.
pub fn check_usage(node: &Node<'_>, set_start: u64, issues: &mut Vec<Issue>) {
    for spec in node.def.segments {
        let n = node.segs(spec.id).count();
        if n < spec.min as usize {
            let at = node.segments.first().copied();
            issues.push(Issue::missing_segment(at.as_ref(), set_start, node.def.id, spec.id));
        }
        if spec.max > 0 && n > spec.max as usize {
            if let Some(extra) = node.segs(spec.id).nth(spec.max as usize) {
                issues.push(Issue::segment(
                    extra,
                    set_start,
                    Some(node.def.id),
                    IssueCode::SegmentExceedsMaxUse,
                    format!("{} used more than {} times in loop {}", spec.id, spec.max, node.def.id),
                ));
            }
        }
    }
    for child in node.def.children {
        let n = node.kids(child.id).count();
        if n < child.min as usize {
            let at = node.segments.first().copied();
            issues.push(Issue::missing_loop(at.as_ref(), set_start, node.def.id, child.id, child.trigger.segment));
        }
        if child.max > 0 && n > child.max as usize {
            if let Some(extra) = node.kids(child.id).nth(child.max as usize) {
                issues.push(Issue::segment(
                    extra.first(),
                    set_start,
                    Some(child.id),
                    IssueCode::LoopExceedsMax,
                    format!("loop {} occurs more than {} times", child.id, child.max),
                ));
            }
        }
    }
    for c in &node.children {
        check_usage(c, set_start, issues);
    }
}
