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
}

impl LoopDef {
    /// Finds a loop definition by id anywhere below (and including) this one.
    pub fn find(&'static self, id: &str) -> Option<&'static LoopDef> {
        if self.id == id {
            return Some(self);
        }
        self.children.iter().find_map(|c| c.find(id))
    }
}

/// Shorthand for schema tables: a segment `id` used `min..=max` times (max 0 = unbounded).
pub(crate) const fn s(id: &'static str, min: u16, max: u16) -> SegSpec {
    SegSpec { id, min, max }
}

/// Shorthand for schema tables: a loop with its trigger, segments, children and repeat limits.
pub(crate) const fn l(
    id: &'static str,
    trigger: Trigger,
    segments: &'static [SegSpec],
    children: &'static [LoopDef],
    min: u16,
    max: u32,
) -> LoopDef {
    LoopDef { id, trigger, segments, children, min, max }
}

/// One occurrence of a loop, borrowing its segments.
#[derive(Clone, Debug)]
pub struct Node<'a> {
    pub def: &'static LoopDef,
    /// The loop's own segments in file order, trigger first.
    pub segments: Vec<SegmentRef<'a>>,
    pub children: Vec<Node<'a>>,
    /// Set on a root by [`build`] when it counted every loop's segments and children as it
    /// placed them and found every usage limit met: [`check_usage`] has nothing to report.
    usage_met: bool,
}

impl<'a> Node<'a> {
    pub fn id(&self) -> &'static str {
        self.def.id
    }

    /// The first segment with this id.
    pub fn seg(&self, id: &str) -> Option<&SegmentRef<'a>> {
        self.segments.iter().find(|s| is_id(s, id.as_bytes()))
    }

    /// All segments with this id.
    pub fn segs<'s>(&'s self, id: &'s str) -> impl Iterator<Item = &'s SegmentRef<'a>> + 's {
        self.segments.iter().filter(move |s| is_id(s, id.as_bytes()))
    }

    /// The first segment with this id whose element `el` equals `value` (e.g. `REF*G1`).
    pub fn seg_q(&self, id: &str, el: usize, value: &str) -> Option<&SegmentRef<'a>> {
        self.segments.iter().find(|s| is_id(s, id.as_bytes()) && s.get(el) == value.as_bytes())
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
        self.for_each_in_order(&mut |s| out.push(*s));
        out
    }

    /// Visits every segment of this loop and its descendants in file order, without collecting
    /// or sorting them. A loop's own segments are in file order, and each child's segments fill
    /// one contiguous stretch of the file (a loop never reopens once closed), so the walk merges
    /// the loop's segments with its children by the index where each child starts. A loop's
    /// own segment can follow its children (an SE after the claims, a segment nobody expected
    /// placed back in an outer loop), which is why this is a merge and not "segments, then
    /// children".
    pub fn for_each_in_order(&self, f: &mut impl FnMut(&SegmentRef<'a>)) {
        let mut own = self.segments.iter().peekable();
        for child in &self.children {
            let start = child.segments.first().map_or(u64::MAX, SegmentRef::index);
            while let Some(s) = own.next_if(|s| s.index() < start) {
                f(s);
            }
            child.for_each_in_order(f);
        }
        own.for_each(f);
    }

    /// Visits every loop, depth first.
    pub fn walk(&self, f: &mut impl FnMut(&Node<'a>)) {
        f(self);
        for c in &self.children {
            c.walk(f);
        }
    }
}

/// Whether a segment's id is `id`, without searching for the element separator: the id is a
/// prefix of the raw bytes followed by the separator or the end.
#[inline]
pub(crate) fn is_id(seg: &SegmentRef<'_>, id: &[u8]) -> bool {
    let raw = seg.raw();
    let n = id.len();
    raw.len() >= n && (raw.len() == n || raw[n] == seg.delimiters().element) && raw.iter().zip(id).all(|(a, b)| a == b)
}

/// A segment id of one to three bytes packed into an integer (bytes and length), 0 for any
/// other id. Schema ids are packed with `pack_spec`, so 0 never matches one.
#[inline]
pub(crate) const fn pack_id(id: &[u8]) -> u32 {
    match *id {
        [a] => a as u32 | 1 << 24,
        [a, b] => a as u32 | (b as u32) << 8 | 2 << 24,
        [a, b, c] => a as u32 | (b as u32) << 8 | (c as u32) << 16 | 3 << 24,
        _ => 0,
    }
}

/// The packed id of a segment, reading at most its first four bytes.
#[inline]
pub(crate) fn seg_pack(seg: &SegmentRef<'_>) -> u32 {
    let raw = seg.raw();
    let sep = seg.delimiters().element;
    if let Some(four) = raw.first_chunk::<4>() {
        // The first separator among the four bytes, all at once: the lowest zero byte of
        // x ^ separators is flagged exactly.
        let x = u32::from_le_bytes(*four);
        let t = x ^ u32::from(sep).wrapping_mul(0x0101_0101);
        let zeros = t.wrapping_sub(0x0101_0101) & !t & 0x8080_8080;
        let n = zeros.trailing_zeros() / 8;
        return match n {
            1..=3 => (x & ((1 << (8 * n)) - 1)) | n << 24,
            _ => 0,
        };
    }
    let n = raw.iter().take(4).position(|&c| c == sep).unwrap_or(raw.len());
    if n > 3 {
        0
    } else {
        pack_id(&raw[..n])
    }
}

/// The packed id of a schema segment: an id that does not pack gets a value no segment packs to.
fn pack_spec(id: &str) -> u32 {
    match pack_id(id.as_bytes()) {
        0 => u32::MAX,
        p => p,
    }
}

/// Loop ids packed into integers, so a segment's loop is matched with one comparison.
pub(crate) const fn loop_key(id: &str) -> u64 {
    let b = id.as_bytes();
    let mut x = 0u64;
    let mut i = 0;
    while i < b.len() && i < 8 {
        x |= (b[i] as u64) << (8 * i);
        i += 1;
    }
    x
}

/// A short element value packed into an integer (bytes and length), `None` past seven bytes.
#[inline]
fn pack_value(v: &[u8]) -> Option<u64> {
    if v.len() > 7 {
        return None;
    }
    let mut x = (v.len() as u64) << 56;
    for (i, &c) in v.iter().enumerate() {
        x |= u64::from(c) << (8 * i);
    }
    Some(x)
}

/// A child loop's trigger, precomputed.
struct Kid {
    id: u32,
    element: usize,
    /// Packed accepted values; `long` when some value does not pack (compared as bytes then).
    values: Box<[u64]>,
    long: bool,
    raw_values: &'static [&'static str],
    /// Index of the child in `Compiled::loops`.
    at: usize,
    /// The child's spec index counting its own trigger (`NONE` when it lists none).
    trigger_spec: u16,
}

impl Kid {
    /// Whether a segment with packed id `id` opens this child (a trigger without a qualifier
    /// is decided here, without reading the segment).
    #[inline(always)]
    fn takes(&self, id: u32, qualifier: &mut Qualifier<'_>) -> bool {
        id == self.id && (self.element == 0 || self.raw_values.is_empty() || self.qualified(qualifier))
    }

    /// Whether the segment's trigger element holds one of this child's values.
    #[inline]
    fn qualified(&self, qualifier: &mut Qualifier<'_>) -> bool {
        let (v, packed) = qualifier.get(self.element);
        match packed {
            Some(p) if !self.long => self.values.contains(&p),
            _ => self.raw_values.iter().any(|x| x.as_bytes() == v),
        }
    }
}

/// The trigger element of the segment being placed, read at most once per element number.
struct Qualifier<'s> {
    seg: &'s SegmentRef<'s>,
    cached: Option<(usize, &'s [u8], Option<u64>)>,
}

impl<'s> Qualifier<'s> {
    #[inline]
    fn get(&mut self, element: usize) -> (&'s [u8], Option<u64>) {
        match self.cached {
            Some((e, v, p)) if e == element => (v, p),
            _ => {
                let v = self.seg.get(element);
                let p = pack_value(v);
                self.cached = Some((element, v, p));
                (v, p)
            }
        }
    }
}

/// What a loop does with one segment id: the first spec with that id (`NONE` if none) and
/// the children it triggers (`kids[from..to]` of `CLoop::by_id`).
#[derive(Clone, Copy, Default)]
struct Slot {
    id: u32,
    spec: u16,
    from: u16,
    to: u16,
}

const NONE: u16 = u16::MAX;

/// One loop definition with its segment ids and child triggers packed.
struct CLoop {
    def: &'static LoopDef,
    /// `loop_key(def.id)`, given to sinks.
    key: u64,
    /// For each spec, the index of the first spec with the same id (which holds the count).
    seg_first: Box<[usize]>,
    kids: Box<[Kid]>,
    /// For each child, the index of the first child with the same loop id.
    kid_first: Box<[usize]>,
    /// Open-addressed table of the ids this loop takes or opens children on.
    slots: Box<[Slot]>,
    mask: usize,
    /// Child indices grouped by trigger id, in schema order within a group.
    by_id: Box<[u16]>,
    /// Usage limits by counting index (first spec or child with an id): the smallest maximum
    /// (`u32::MAX` when unbounded) and the (index, minimum) pairs that must be met.
    seg_cap: Box<[u32]>,
    seg_req: Box<[(usize, u32)]>,
    kid_cap: Box<[u32]>,
    kid_req: Box<[(usize, u32)]>,
}

#[inline]
fn hash(id: u32) -> usize {
    (id.wrapping_mul(0x9E37_79B1) >> 16) as usize
}

impl CLoop {
    #[inline]
    fn slot(&self, id: u32) -> Option<&Slot> {
        let mut i = hash(id) & self.mask;
        loop {
            let s = &self.slots[i];
            if s.id == 0 {
                // Empty (and 0 is also the id of a segment no schema names).
                return None;
            }
            if s.id == id {
                return Some(s);
            }
            i = (i + 1) & self.mask;
        }
    }

    /// The spec index counting segments with this id.
    #[inline]
    fn spec_of(&self, id: u32) -> Option<usize> {
        self.slot(id).filter(|s| s.spec != NONE).map(|s| usize::from(s.spec))
    }
}

/// A schema compiled for placement and usage counting; `loops[0]` is the root.
struct Compiled {
    loops: Vec<CLoop>,
}

impl Compiled {
    fn new(root: &'static LoopDef) -> Compiled {
        let mut c = Compiled { loops: Vec::new() };
        c.add(root);
        c
    }

    fn add(&mut self, def: &'static LoopDef) -> usize {
        let at = self.loops.len();
        let segs: Vec<u32> = def.segments.iter().map(|s| pack_spec(s.id)).collect();
        let seg_first: Box<[usize]> =
            def.segments.iter().map(|s| def.segments.iter().position(|t| t.id == s.id).unwrap_or(0)).collect();
        let kid_first: Box<[usize]> =
            def.children.iter().map(|c| def.children.iter().position(|d| d.id == c.id).unwrap_or(0)).collect();
        // Distinct ids, in first-seen order: specs, then child triggers.
        let trig: Vec<u32> = def.children.iter().map(|c| pack_spec(c.trigger.segment)).collect();
        let mut ids: Vec<u32> = Vec::new();
        for &id in segs.iter().chain(&trig) {
            if !ids.contains(&id) {
                ids.push(id);
            }
        }
        let size = (ids.len() * 2).next_power_of_two().max(8);
        let mut slots = vec![Slot::default(); size];
        let mut by_id: Vec<u16> = Vec::new();
        for &id in &ids {
            let spec = segs.iter().position(|&x| x == id).map_or(NONE, |i| i as u16);
            let from = by_id.len() as u16;
            by_id.extend((0..trig.len()).filter(|&j| trig[j] == id).map(|j| j as u16));
            let slot = Slot { id, spec, from, to: by_id.len() as u16 };
            let mut i = hash(id) & (size - 1);
            while slots[i].id != 0 {
                i = (i + 1) & (size - 1);
            }
            slots[i] = slot;
        }
        let mut seg_cap = vec![u32::MAX; def.segments.len()];
        let mut seg_req = Vec::new();
        for (i, spec) in def.segments.iter().enumerate() {
            let first: usize = seg_first[i];
            if spec.max > 0 {
                seg_cap[first] = seg_cap[first].min(u32::from(spec.max));
            }
            if spec.min > 0 {
                seg_req.push((first, u32::from(spec.min)));
            }
        }
        let mut kid_cap = vec![u32::MAX; def.children.len()];
        let mut kid_req = Vec::new();
        for (j, child) in def.children.iter().enumerate() {
            let first: usize = kid_first[j];
            if child.max > 0 {
                kid_cap[first] = kid_cap[first].min(child.max);
            }
            if child.min > 0 {
                kid_req.push((first, u32::from(child.min)));
            }
        }
        self.loops.push(CLoop {
            seg_cap: seg_cap.into_boxed_slice(),
            seg_req: seg_req.into_boxed_slice(),
            kid_cap: kid_cap.into_boxed_slice(),
            kid_req: kid_req.into_boxed_slice(),
            def,
            key: loop_key(def.id),
            seg_first,
            kids: Box::new([]),
            kid_first,
            slots: slots.into_boxed_slice(),
            mask: size - 1,
            by_id: by_id.into_boxed_slice(),
        });
        let mut kids = Vec::with_capacity(def.children.len());
        for child in def.children {
            let packed: Vec<Option<u64>> = child.trigger.values.iter().map(|v| pack_value(v.as_bytes())).collect();
            let id = pack_spec(child.trigger.segment);
            let at = self.add(child);
            let trigger_spec = self.loops[at].spec_of(id).map_or(NONE, |s| s as u16);
            kids.push(Kid {
                id,
                element: child.trigger.element,
                long: packed.iter().any(Option::is_none),
                values: packed.into_iter().flatten().collect(),
                raw_values: child.trigger.values,
                at,
                trigger_spec,
            });
        }
        self.loops[at].kids = kids.into_boxed_slice();
        at
    }

    /// The compiled form of a schema root, built once per root and kept for the process (the
    /// schemas are statics, so this holds a handful of entries).
    fn of(root: &'static LoopDef) -> &'static Compiled {
        use std::sync::{Mutex, OnceLock};
        static CACHE: OnceLock<Mutex<Vec<(usize, &'static Compiled)>>> = OnceLock::new();
        let key = root as *const LoopDef as usize;
        let mut cache = CACHE.get_or_init(|| Mutex::new(Vec::new())).lock().unwrap_or_else(|e| e.into_inner());
        if let Some((_, c)) = cache.iter().find(|(k, _)| *k == key) {
            return c;
        }
        let c: &'static Compiled = Box::leak(Box::new(Compiled::new(root)));
        cache.push((key, c));
        c
    }
}

/// An open loop while placing: its compiled definition and where its usage counts start in
/// the placer's shared count stack: one per spec (segments), then one per child (occurrences),
/// as `usage` counts them. Frames stay small, so opening and closing a loop copies little.
#[derive(Clone, Copy)]
struct Frame {
    cl: &'static CLoop,
    base: usize,
}

/// The usage counts of the open loops, innermost last.
struct Counts(Vec<u32>);

impl Counts {
    /// Opens a frame for loop `at` with zeroed counts.
    #[inline]
    fn open(&mut self, cl: &'static CLoop) -> Frame {
        let base = self.0.len();
        self.0.resize(base + cl.def.segments.len() + cl.kids.len(), 0);
        Frame { cl, base }
    }

    /// Drops the counts of a closing frame.
    #[inline]
    fn close(&mut self, f: Frame) {
        self.0.truncate(f.base);
    }

    /// Counts a segment loop `cl` takes by spec `spec`; false when that breaks its maximum.
    #[inline]
    fn segment(&mut self, f: Frame, cl: &CLoop, spec: usize) -> bool {
        let n = &mut self.0[f.base + spec];
        *n += 1;
        *n <= cl.seg_cap[spec]
    }

    /// Counts an occurrence of child `first` (the first child with its id); false when that
    /// breaks its maximum.
    #[inline]
    fn child(&mut self, f: Frame, cl: &CLoop, first: usize) -> bool {
        let n = &mut self.0[f.base + cl.def.segments.len() + first];
        *n += 1;
        *n <= cl.kid_cap[first]
    }

    /// Whether the loop of frame `f`, now closing, has every required segment and child.
    fn minimums_met(&self, f: Frame, cl: &CLoop) -> bool {
        let (segs, kids) = self.0[f.base..].split_at(cl.def.segments.len());
        cl.seg_req.iter().all(|&(i, min)| segs[i] >= min) && cl.kid_req.iter().all(|&(j, min)| kids[j] >= min)
    }
}

/// Receives each segment of a set as the placer assigns it to a loop, in file order: the
/// loop tree is one consumer ([`build`]); a guide's one-pass validator and extractor another.
pub(crate) trait Sink<'a> {
    /// `seg` (packed id `id`, see `seg_pack`) is placed in the innermost open occurrence of
    /// `def`; `opens` when it is the trigger of a new occurrence (nested in the loop that was
    /// innermost once the closes before it were reported). A segment no loop takes is given to
    /// the innermost open loop, after its issue.
    fn segment(&mut self, def: &'static LoopDef, key: u64, id: u32, seg: &SegmentRef<'a>, opens: bool);
    /// The innermost open loop, `def`, closes (the root never does).
    fn close(&mut self, def: &'static LoopDef, key: u64);
}

/// Places the segments of one transaction set (ST to SE inclusive) in the loops of `root`,
/// telling `sink` as it goes; a segment no open loop takes is reported in `issues`. Returns
/// whether usage was counted in full and every limit met (then [`check_usage`] over the
/// tree would find nothing).
pub(crate) fn place<'a>(
    root: &'static LoopDef,
    segments: impl IntoIterator<Item = SegmentRef<'a>>,
    issues: &mut Vec<Issue>,
    sink: &mut impl Sink<'a>,
) -> bool {
    let comp = Compiled::of(root);
    let segments = segments.into_iter();
    let mut counts = Counts(Vec::with_capacity(256));
    let mut stack: Vec<Frame> = Vec::with_capacity(16);
    stack.push(counts.open(&comp.loops[0]));
    // Usage is counted as segments are placed (what `check_usage` would count afterwards);
    // any doubt (a limit broken, a segment nobody takes)
    // leaves the full check to `check_usage`, which then reports in its own order.
    let mut usage_met = true;
    let mut st_index = None;
    // Internal iteration (`for_each`), so a tokenizer underneath serves runs of segments
    // from its batched fast path (`x12::Tokenizer::fold`) instead of one `next` at a time.
    segments.for_each(|seg| {
        let st = *st_index.get_or_insert(seg.index());
        let id = seg_pack(&seg);
        let mut q = Qualifier { seg: &seg, cached: None };
        // Find the innermost open loop that takes this segment, without closing anything
        // yet: a segment nobody takes must not close the loops around it. (Every open loop but
        // the root holds its trigger, and the root takes its own segments even when empty.)
        let mut placed = None;
        for k in (0..stack.len()).rev() {
            let cl = stack[k].cl;
            let Some(slot) = cl.slot(id) else { continue };
            let kids = &cl.by_id[usize::from(slot.from)..usize::from(slot.to)];
            if let Some(&j) = kids.iter().find(|&&j| cl.kids[usize::from(j)].takes(id, &mut q)) {
                placed = Some((k, Some(usize::from(j)), NONE));
                break;
            }
            if slot.spec != NONE {
                placed = Some((k, None, slot.spec));
                break;
            }
        }
        match placed {
            Some((k, opens, spec)) => {
                while stack.len() > k + 1 {
                    let done = stack.pop().expect("because len > k + 1");
                    let cl = done.cl;
                    usage_met &= counts.minimums_met(done, cl);
                    counts.close(done);
                    sink.close(cl.def, cl.key);
                }
                let frame = *stack.last().expect("because the root is never popped");
                let cl = frame.cl;
                match opens {
                    Some(j) => {
                        usage_met &= counts.child(frame, cl, cl.kid_first[j]);
                        let at = cl.kids[j].at;
                        let inner = &comp.loops[at];
                        let child = counts.open(inner);
                        // A loop that also lists its trigger's id counts the trigger.
                        let trigger_spec = cl.kids[j].trigger_spec;
                        if trigger_spec != NONE {
                            usage_met &= counts.segment(child, inner, usize::from(trigger_spec));
                        }
                        stack.push(child);
                        sink.segment(inner.def, inner.key, id, &seg, true);
                    }
                    None => {
                        // The spec of the slot found above.
                        usage_met &= counts.segment(frame, cl, usize::from(spec));
                        sink.segment(cl.def, cl.key, id, &seg, false);
                    }
                }
            }
            None => {
                usage_met = false;
                let top = stack.last().expect("because the root is never popped").cl;
                issues.push(Issue::segment(
                    &seg,
                    st,
                    Some(top.def.id),
                    IssueCode::UnexpectedSegment,
                    format!("segment not expected in loop {}", top.def.id),
                ));
                sink.segment(top.def, top.key, id, &seg, false);
            }
        }
    });
    while stack.len() > 1 {
        let done = stack.pop().expect("because len > 1");
        let cl = done.cl;
        usage_met &= counts.minimums_met(done, cl);
        counts.close(done);
        sink.close(cl.def, cl.key);
    }
    let root_frame = stack.pop().expect("because the root is never popped");
    usage_met && counts.minimums_met(root_frame, &comp.loops[0])
}

/// A guide's one-pass reader: a [`Sink`] that checks each segment and fills its model as
/// segments are placed.
pub(crate) trait OnePass<'a>: Sink<'a> {
    type Model;
    /// The model read, and whether the pass is sure there is nothing to report (no check
    /// found anything, every rule held).
    fn finish(self) -> (Self::Model, bool);
}

/// Runs a one-pass reader over a set's segments (`segments` yields them, twice when there
/// are issues). Unless the pass is sure there is nothing to report and usage was all met,
/// the tree is built and `validate` reports, so the issues are exactly the tree validator's,
/// in its order.
pub(crate) fn one_pass<'a, P: OnePass<'a>, I: IntoIterator<Item = SegmentRef<'a>>>(
    root: &'static LoopDef,
    mut pass: P,
    segments: impl Fn() -> I,
    set_start: u64,
    validate: fn(&Node<'_>, u64, &mut Vec<Issue>),
    issues: &mut Vec<Issue>,
) -> P::Model {
    let mut unexpected = Vec::new();
    let usage_met = place(root, segments(), &mut unexpected, &mut pass);
    let (model, clean) = pass.finish();
    if !(clean && usage_met && unexpected.is_empty()) {
        let tree = build(root, segments(), issues);
        validate(&tree, set_start, issues);
    }
    model
}

/// Claims move when their list grows (a kilobyte or so each, thousands per set): sized once
/// from the set's bytes at a claim per 512 (real claims take more; an estimate too high
/// reserves address space only).
pub(crate) fn claims_in(set_bytes: usize) -> usize {
    set_bytes / 512
}

/// The loop tree as a [`Sink`]. Open loops own the tail of these two stacks: a loop's
/// segments (and finished children) are always the last ones pushed while it is the innermost
/// open loop, so closing a loop moves exactly its tail into right-sized `Vec`s. (Only the open
/// loops' segments are ever held: a few dozen.)
struct TreeSink<'a> {
    segs: Vec<SegmentRef<'a>>,
    kids: Vec<Node<'a>>,
    /// Where each open loop's segments and finished children start, innermost last.
    open: Vec<(usize, usize)>,
}

impl<'a> Sink<'a> for TreeSink<'a> {
    #[inline]
    fn segment(&mut self, _def: &'static LoopDef, _key: u64, _id: u32, seg: &SegmentRef<'a>, opens: bool) {
        if opens {
            self.open.push((self.segs.len(), self.kids.len()));
        }
        self.segs.push(*seg);
    }

    fn close(&mut self, def: &'static LoopDef, _key: u64) {
        let (segs_from, kids_from) = self.open.pop().expect("because only opened loops close");
        let node = self.node(def, segs_from, kids_from);
        self.kids.push(node);
    }
}

impl<'a> TreeSink<'a> {
    fn node(&mut self, def: &'static LoopDef, segs_from: usize, kids_from: usize) -> Node<'a> {
        let segments: Vec<SegmentRef<'a>> = self.segs.drain(segs_from..).collect();
        let children: Vec<Node<'a>> = self.kids.drain(kids_from..).collect();
        Node { def, segments, children, usage_met: false }
    }
}

/// Builds the loop tree of one transaction set. `segments` runs from ST to SE inclusive;
/// a segment no open loop takes is reported in `issues` and kept in the innermost loop.
pub fn build<'a>(
    root: &'static LoopDef,
    segments: impl IntoIterator<Item = SegmentRef<'a>>,
    issues: &mut Vec<Issue>,
) -> Node<'a> {
    let mut sink = TreeSink { segs: Vec::with_capacity(64), kids: Vec::with_capacity(64), open: Vec::new() };
    let usage_met = place(root, segments, issues, &mut sink);
    let mut node = sink.node(root, 0, 0);
    node.usage_met = usage_met;
    node
}

/// Checks segment and loop usage (required segments present, maximum use, loop repeats) over
/// a built tree. `set_start` is the file segment number of the ST.
pub fn check_usage(node: &Node<'_>, set_start: u64, issues: &mut Vec<Issue>) {
    if node.usage_met {
        return;
    }
    let comp = Compiled::of(node.def);
    usage(node, comp, 0, set_start, issues);
}

const COUNTED: usize = 32;

fn usage(node: &Node<'_>, comp: &Compiled, at: usize, set_start: u64, issues: &mut Vec<Issue>) {
    let cl = &comp.loops[at];
    let def = node.def;
    if def.segments.len() > COUNTED || cl.kids.len() > COUNTED {
        return usage_slow(node, set_start, issues);
    }
    // One pass over the loop's segments and one over its children, counting by spec; the
    // issues are only worked out (in schema order) when some limit is broken.
    let mut broken = false;
    let mut seg_n = [0u32; COUNTED];
    for s in &node.segments {
        if let Some(i) = cl.spec_of(seg_pack(s)) {
            seg_n[i] += 1;
            broken |= seg_n[i] > cl.seg_cap[i];
        }
    }
    let mut kid_n = [0u32; COUNTED];
    for c in &node.children {
        let j = def
            .children
            .iter()
            .position(|d| std::ptr::eq(d, c.def))
            .or_else(|| def.children.iter().position(|d| d.id == c.def.id));
        if let Some(j) = j {
            let first = cl.kid_first[j];
            kid_n[first] += 1;
            broken |= kid_n[first] > cl.kid_cap[first];
        }
    }
    broken |= cl.seg_req.iter().any(|&(i, min)| seg_n[i] < min);
    broken |= cl.kid_req.iter().any(|&(j, min)| kid_n[j] < min);
    if broken {
        for (i, spec) in def.segments.iter().enumerate() {
            let n = seg_n[cl.seg_first[i]] as usize;
            if n < spec.min as usize || spec.max > 0 && n > spec.max as usize {
                seg_issues(node, spec, n, set_start, issues);
            }
        }
        for (j, child) in def.children.iter().enumerate() {
            let n = kid_n[cl.kid_first[j]] as usize;
            if n < child.min as usize || child.max > 0 && n > child.max as usize {
                loop_issues(node, child, n, set_start, issues);
            }
        }
    }
    for c in &node.children {
        let j = def.children.iter().position(|d| std::ptr::eq(d, c.def));
        match j {
            Some(j) => usage(c, comp, cl.kids[j].at, set_start, issues),
            None => check_usage(c, set_start, issues),
        }
    }
}

#[cold]
fn seg_issues(node: &Node<'_>, spec: &SegSpec, n: usize, set_start: u64, issues: &mut Vec<Issue>) {
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

#[cold]
fn loop_issues(node: &Node<'_>, child: &'static LoopDef, n: usize, set_start: u64, issues: &mut Vec<Issue>) {
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

/// Usage of a loop with more specs or children than `usage` counts in place.
fn usage_slow(node: &Node<'_>, set_start: u64, issues: &mut Vec<Issue>) {
    for spec in node.def.segments {
        let n = node.segs(spec.id).count();
        seg_issues(node, spec, n, set_start, issues);
    }
    for child in node.def.children {
        let n = node.kids(child.id).count();
        loop_issues(node, child, n, set_start, issues);
    }
    for c in &node.children {
        check_usage(c, set_start, issues);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use x12::{Event, StreamReader};

    proptest::proptest! {
        /// The four-bytes-at-once id packing reads what a byte scan of the id reads.
        #[test]
        fn packed_ids_are_the_scanned_ones(raw in proptest::collection::vec(proptest::sample::select(vec![b'*', b'N', b'M', b'1', 0x80, 0xFF, 0]), 0..7)) {
            let seg = SegmentRef::new(&raw, x12::Delimiters::default(), 0, 1);
            let n = raw.iter().take(4).position(|&c| c == b'*').unwrap_or(raw.len());
            let want = if n > 3 { 0 } else { pack_id(&raw[..n]) };
            proptest::prop_assert_eq!(seg_pack(&seg), want);
        }
    }

    #[test]
    fn in_order_walk_puts_a_loop_segment_after_its_children_back_in_place() {
        // PRV belongs to 2000A but comes after 2010AA opened: placing it closes 2010AA, so the
        // tree holds it in 2000A's own segments, before 2010AA's in a preorder walk.
        let file = b"ISA*00*          *00*          *ZZ*A              *ZZ*B              *261127*1200*^*00501*000000001*0*P*:~\
GS*HC*A*B*20261127*1200*1*X*005010X222A1~ST*837*0001*005010X222A1~BHT*0019*00*1*20261127*1200*CH~\
NM1*41*2*S*****46*1~PER*IC*B~NM1*40*2*R*****46*2~HL*1**20*1~NM1*85*2*P*****XX*1234567893~N3*A~N4*B*IL*6~\
PRV*BI*PXC*208VP0014X~SE*11*0001~GE*1*1~IEA*1*000000001~";
        let set = StreamReader::new(&file[..])
            .find_map(|e| match e.expect("in memory") {
                Event::Set(s) => Some(s),
                _ => None,
            })
            .expect("one set");
        let mut issues = Vec::new();
        let root = build(&crate::x837::SCHEMA, set.segments(), &mut issues);
        let a = root.kid("2000A").expect("2000A");
        assert_eq!(a.segments.iter().map(|s| s.id()).collect::<Vec<_>>(), [&b"HL"[..], b"PRV"]);
        let walked: Vec<u64> = root.all_segments().iter().map(SegmentRef::index).collect();
        let read: Vec<u64> = set.segments().map(|s| s.index()).collect();
        assert_eq!(walked, read);
        assert_eq!(walked.len(), 11);
    }

    /// Usage counted while building agrees with the full `check_usage` walk: whenever the build
    /// says every limit is met, the walk finds nothing. Over every shipped set and every corpus
    /// set, and 30 mutations of each (segments dropped, duplicated and swapped).
    #[test]
    fn usage_counted_in_build_agrees_with_the_full_check() {
        let (mut sets, mut met, mut broken) = (0, 0, 0);
        crate::testkit::each_mutated_set(30, &mut |at, set, schema, v| {
            let mut issues = Vec::new();
            let root = build(schema, v.iter().copied(), &mut issues);
            let mut fast = Vec::new();
            check_usage(&root, set.segment, &mut fast);
            let mut full_root = root.clone();
            full_root.usage_met = false;
            let mut full = Vec::new();
            check_usage(&full_root, set.segment, &mut full);
            assert_eq!(fast, full, "{at}");
            sets += 1;
            met += usize::from(root.usage_met);
            broken += usize::from(!full.is_empty());
        });
        assert!(sets > 1000 && met > 100 && broken > 100, "{sets} sets, {met} met, {broken} broken");
    }
}
