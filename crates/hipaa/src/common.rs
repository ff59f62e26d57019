//! Types shared by several transaction sets.

use crate::values::{components, decimal, text, Elements, Fields};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use x12::SegmentRef;

/// A composite procedure identifier (SV101, SVC01, EQ02, SV1 in 278): qualifier, code and up to
/// four modifiers.
///
/// Like every model type, generic over its text: `Text` (owned, the default) or `&'a str`
/// borrowed from the set's bytes (the hot path's view, see `hipaa::view_set`).
#[derive(Clone, Debug, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub struct Procedure<S = Text> {
    /// `HC` (CPT/HCPCS), `ER`, `IV`, `WK`, `AD`, `N4`, ...
    pub qualifier: S,
    pub code: S,
    pub modifiers: Vec<S>,
}

impl<'a, S: From<&'a str>> Procedure<S> {
    /// Reads a composite element (`HC:64493:50`).
    pub fn from_composite(el: &'a [u8], component_separator: u8) -> Procedure<S> {
        let mut parts = components(el, component_separator);
        let qualifier = text(parts.next().unwrap_or(b""));
        let code = text(parts.next().unwrap_or(b""));
        let modifiers = parts.take(4).filter(|m| !m.is_empty()).map(text).collect();
        Procedure { qualifier, code, modifiers }
    }

    /// Reads element `n` of a split segment as a procedure composite: as
    /// [`Procedure::from_composite`] of its bytes, slicing known text instead of validating it.
    pub(crate) fn from_fields(f: &crate::values::Fields<'a>, n: usize, component_separator: u8) -> Procedure<S> {
        if let Some(t) = f.known(n) {
            return Procedure::from_text(t, component_separator);
        }
        let mut parts = f.components(n, component_separator);
        let qualifier = S::from(parts.next().map_or("", |p| p.1));
        let code = S::from(parts.next().map_or("", |p| p.1));
        let modifiers = parts.take(4).filter(|m| !m.0.is_empty()).map(|m| S::from(m.1)).collect();
        Procedure { qualifier, code, modifiers }
    }

    /// [`Procedure::from_fields`] of an element whose text is known: the six pieces read
    /// (qualifier, code, four modifiers) cut in one scan, as `Fields::components` cuts them.
    fn from_text(t: &'a str, sep: u8) -> Procedure<S> {
        let b = t.as_bytes();
        // `ends[k]` is where piece k ends; pieces after the last separator found don't exist.
        let mut ends = [b.len(); 6];
        let mut seps = 0;
        for (i, &c) in b.iter().enumerate() {
            if c == sep {
                ends[seps] = i;
                seps += 1;
                if seps == ends.len() {
                    break;
                }
            }
        }
        let pieces = (seps + 1).min(ends.len());
        let start = |k: usize| if k == 0 { 0 } else { ends[k - 1] + 1 };
        let piece = |k: usize| if k < pieces { t.get(start(k)..ends[k]).unwrap_or("") } else { "" };
        let present = |k: usize| k < pieces && ends[k] > start(k);
        let mut modifiers = Vec::with_capacity((2..pieces).filter(|&k| present(k)).count());
        for k in (2..pieces).filter(|&k| present(k)) {
            modifiers.push(S::from(piece(k)));
        }
        Procedure { qualifier: S::from(piece(0)), code: S::from(piece(1)), modifiers }
    }

    /// Reads element `n` of a segment as a procedure composite.
    pub fn from_segment(seg: &SegmentRef<'a>, n: usize) -> Procedure<S> {
        Procedure::from_composite(seg.get(n), seg.delimiters().component)
    }
}

impl Procedure {
    pub fn has_modifier(&self, m: &str) -> bool {
        self.modifiers.iter().any(|x| x == m)
    }

    /// `64493-50-RT` style, for messages and tables.
    pub fn display(&self) -> String {
        let mut s = self.code.to_string();
        for m in &self.modifiers {
            s.push('-');
            s.push_str(m);
        }
        s
    }
}

/// One CAS adjustment: group code, reason code, amount and quantity.
#[derive(Clone, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Adjustment<S = Text> {
    /// CO, OA, PI, PR.
    pub group: S,
    /// CARC.
    pub reason: S,
    pub amount: Decimal,
    pub quantity: Option<Decimal>,
}

/// Reads the up to six reason/amount/quantity triples of a CAS segment.
pub fn cas_adjustments(seg: &SegmentRef<'_>) -> Vec<Adjustment> {
    let mut out = Vec::new();
    cas_into(&Fields::new(seg), &mut out);
    out
}

/// Appends the adjustments of a CAS segment already split.
pub(crate) fn cas_into<'a, S: From<&'a str>>(f: &Fields<'a>, out: &mut Vec<Adjustment<S>>) {
    for i in 0..cas_slots(f) {
        if !f.get(2 + i * 3).is_empty() {
            out.push(Adjustment::of_cas(f, i, decimal(f.get(3 + i * 3)), decimal(f.get(4 + i * 3))));
        }
    }
}

impl<'a, S: From<&'a str>> Adjustment<S> {
    /// Adjustment `i` (0 to 5) of a CAS already split, with its amount and quantity as
    /// `decimal` reads them (an absent amount is zero).
    #[inline]
    pub(crate) fn of_cas(
        f: &Fields<'a>,
        i: usize,
        amount: Option<Decimal>,
        quantity: Option<Decimal>,
    ) -> Adjustment<S> {
        Adjustment { group: f.text(1), reason: f.text(2 + i * 3), amount: amount.unwrap_or_default(), quantity }
    }
}

/// How many of a CAS's six adjustments (reason, amount, quantity from element 2 on) the
/// segment reaches: the ones after are all empty.
#[inline]
pub(crate) fn cas_slots(f: &Fields<'_>) -> usize {
    match f.count() {
        0 | 1 => 0,
        n => ((n - 2) / 3 + 1).min(6),
    }
}

/// The sum of a CAS segment's adjustment amounts (those with a reason), as
/// `cas_adjustments(seg).iter().map(|a| a.amount).sum()` without building the adjustments.
pub(crate) fn cas_amount(seg: &SegmentRef<'_>) -> Decimal {
    cas_total(&Fields::new(seg))
}

/// [`cas_amount`] of a CAS segment already split.
pub(crate) fn cas_total(f: &Fields<'_>) -> Decimal {
    let mut sum = Decimal::ZERO;
    for i in 0..6 {
        if !f.get(2 + i * 3).is_empty() {
            sum += decimal(f.get(3 + i * 3)).unwrap_or_default();
        }
    }
    sum
}

/// Moves the items gathered in `scratch` into a list of exactly their number, in one copy
/// (`drain(..).collect()` copies them one at a time); `scratch` keeps its buffer for the next
/// loop occurrence.
#[inline]
pub(crate) fn take_exact<T>(scratch: &mut Vec<T>) -> Vec<T> {
    let mut out = Vec::with_capacity(scratch.len());
    out.append(scratch);
    out
}

/// The text type of a model read from a set borrowed for `'a`: owned `Text`, or `&'a str`.
pub(crate) trait Model<'a>: From<&'a str> + AsRef<str> + Clone + Default {}

impl<'a, S: From<&'a str> + AsRef<str> + Clone + Default> Model<'a> for S {}

/// The text of a model field: up to 24 bytes inline (nearly every X12 element value), longer
/// on the heap; derefs to `str`, compares with `&str` and `String`, serializes as a string.
pub type Text = compact_str::CompactString;

/// An entity named in an NM1 (organization or person) with its identifier.
#[derive(Clone, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Party<S = Text> {
    /// NM101 entity identifier code (85 billing provider, 82 rendering, PR payer, IL insured...).
    pub entity: S,
    pub last_or_org: S,
    pub first: S,
    /// NM108 qualifier (XX NPI, PI payer id, MI member id, 46 ETIN ...) and NM109 value.
    pub id_qualifier: S,
    pub id: S,
}

impl<'a, S: From<&'a str> + Default> Party<S> {
    pub fn from_nm1(seg: &SegmentRef<'a>) -> Party<S> {
        Party::nm1(&Fields::new(seg))
    }

    /// From an NM1 already split.
    pub(crate) fn nm1(f: &Fields<'a>) -> Party<S> {
        Party { entity: f.text(1), last_or_org: f.text(3), first: f.text(4), id_qualifier: f.text(8), id: f.text(9) }
    }

    /// From an N1 already split (835 payer and payee).
    pub(crate) fn n1(f: &Fields<'a>) -> Party<S> {
        Party { entity: f.text(1), last_or_org: f.text(2), first: S::default(), id_qualifier: f.text(3), id: f.text(4) }
    }
}

impl Party {
    /// The NPI when the identifier is one.
    pub fn npi(&self) -> Option<&str> {
        (self.id_qualifier == "XX" && !self.id.is_empty()).then_some(self.id.as_str())
    }
}
