//! Types shared by several transaction sets.

use crate::values::{components, decimal, text, Fields};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use x12::SegmentRef;

/// A composite procedure identifier (SV101, SVC01, EQ02, SV1 in 278): qualifier, code and up to
/// four modifiers.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub struct Procedure {
    /// `HC` (CPT/HCPCS), `ER`, `IV`, `WK`, `AD`, `N4`, ...
    pub qualifier: Text,
    pub code: Text,
    pub modifiers: Vec<Text>,
}

impl Procedure {
    /// Reads a composite element (`HC:64493:50`).
    pub fn from_composite(el: &[u8], component_separator: u8) -> Procedure {
        let mut parts = components(el, component_separator);
        let qualifier = text(parts.next().unwrap_or(b""));
        let code = text(parts.next().unwrap_or(b""));
        let modifiers = parts.take(4).filter(|m| !m.is_empty()).map(text).collect();
        Procedure { qualifier, code, modifiers }
    }

    /// Reads element `n` of a segment as a procedure composite.
    pub fn from_segment(seg: &SegmentRef<'_>, n: usize) -> Procedure {
        Procedure::from_composite(seg.get(n), seg.delimiters().component)
    }

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
pub struct Adjustment {
    /// CO, OA, PI, PR.
    pub group: Text,
    /// CARC.
    pub reason: Text,
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
pub(crate) fn cas_into(f: &Fields<'_>, out: &mut Vec<Adjustment>) {
    let group = f.get(1);
    for i in 0..6 {
        let reason = f.get(2 + i * 3);
        if reason.is_empty() {
            continue;
        }
        out.push(Adjustment {
            group: text(group),
            reason: text(reason),
            amount: decimal(f.get(3 + i * 3)).unwrap_or_default(),
            quantity: decimal(f.get(4 + i * 3)),
        });
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

/// The text of a model field: up to 24 bytes inline (nearly every X12 element value), longer
/// on the heap; derefs to `str`, compares with `&str` and `String`, serializes as a string.
pub type Text = compact_str::CompactString;

/// An entity named in an NM1 (organization or person) with its identifier.
#[derive(Clone, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Party {
    /// NM101 entity identifier code (85 billing provider, 82 rendering, PR payer, IL insured...).
    pub entity: Text,
    pub last_or_org: Text,
    pub first: Text,
    /// NM108 qualifier (XX NPI, PI payer id, MI member id, 46 ETIN ...) and NM109 value.
    pub id_qualifier: Text,
    pub id: Text,
}

impl Party {
    pub fn from_nm1(seg: &SegmentRef<'_>) -> Party {
        Party::nm1(&Fields::new(seg))
    }

    /// From an NM1 already split.
    pub(crate) fn nm1(f: &Fields<'_>) -> Party {
        Party {
            entity: text(f.get(1)),
            last_or_org: text(f.get(3)),
            first: text(f.get(4)),
            id_qualifier: text(f.get(8)),
            id: text(f.get(9)),
        }
    }

    /// From an N1 segment (835 payer and payee).
    pub fn from_n1(seg: &SegmentRef<'_>) -> Party {
        Party::n1(&Fields::new(seg))
    }

    /// From an N1 already split.
    pub(crate) fn n1(f: &Fields<'_>) -> Party {
        Party {
            entity: text(f.get(1)),
            last_or_org: text(f.get(2)),
            first: Text::default(),
            id_qualifier: text(f.get(3)),
            id: text(f.get(4)),
        }
    }

    /// The NPI when the identifier is one.
    pub fn npi(&self) -> Option<&str> {
        (self.id_qualifier == "XX" && !self.id.is_empty()).then_some(self.id.as_str())
    }
}
