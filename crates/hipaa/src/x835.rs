//! 835 health care claim payment/advice, 005010X221A1.

use crate::common::{cas_adjustments, cas_amount, Adjustment, Party, Procedure, Text};
use crate::issue::Issue;
use crate::tree::{build, check_usage, pack_id, s, seg_pack, LoopDef, Node, Trigger};
use crate::values::{date8, decimal, text, Checks, Fields};
use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use x12::SegmentRef;

const L2110: LoopDef = LoopDef {
    id: "2110",
    trigger: Trigger::seg("SVC"),
    segments: &[s("DTM", 0, 2), s("CAS", 0, 99), s("REF", 0, 15), s("AMT", 0, 15), s("QTY", 0, 6), s("LQ", 0, 99)],
    children: &[],
    min: 0,
    max: 999,
};

const L2100: LoopDef = LoopDef {
    id: "2100",
    trigger: Trigger::seg("CLP"),
    segments: &[
        s("CAS", 0, 99),
        s("NM1", 1, 7),
        s("MIA", 0, 1),
        s("MOA", 0, 1),
        s("REF", 0, 15),
        s("DTM", 0, 4),
        s("PER", 0, 2),
        s("AMT", 0, 13),
        s("QTY", 0, 14),
    ],
    children: &[L2110],
    min: 0,
    max: 0,
};

/// The 835 loop schema. A CLP directly under the header (no LX) is accepted, as many payers
/// send it.
pub static SCHEMA: LoopDef = LoopDef {
    id: "835",
    trigger: Trigger::seg("ST"),
    segments: &[
        s("ST", 1, 1),
        s("BPR", 1, 1),
        s("TRN", 1, 1),
        s("CUR", 0, 1),
        s("REF", 0, 2),
        s("DTM", 0, 1),
        s("PLB", 0, 0),
        s("SE", 1, 1),
    ],
    children: &[
        LoopDef {
            id: "1000A",
            trigger: Trigger::qual("N1", 1, &["PR"]),
            segments: &[s("N3", 1, 1), s("N4", 1, 1), s("REF", 0, 4), s("PER", 0, 3)],
            children: &[],
            min: 1,
            max: 1,
        },
        LoopDef {
            id: "1000B",
            trigger: Trigger::qual("N1", 1, &["PE"]),
            segments: &[s("N3", 0, 1), s("N4", 0, 1), s("REF", 0, 0), s("RDM", 0, 1)],
            children: &[],
            min: 1,
            max: 1,
        },
        LoopDef {
            id: "2000",
            trigger: Trigger::seg("LX"),
            segments: &[s("TS3", 0, 1), s("TS2", 0, 1)],
            children: &[L2100],
            min: 0,
            max: 0,
        },
        L2100,
    ],
    min: 1,
    max: 1,
};

/// One service line payment (loop 2110).
#[derive(Clone, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ServicePayment {
    pub procedure: Procedure,
    pub charge: Decimal,
    pub paid: Decimal,
    pub revenue_code: Text,
    /// SVC05 units paid (1 when absent) and SVC07 original units when they differ.
    pub units_paid: Decimal,
    pub units_billed: Option<Decimal>,
    /// SVC06: the procedure as submitted, when the payer changed it.
    pub submitted_procedure: Option<Procedure>,
    pub service_date: Option<NaiveDate>,
    /// REF*6R line item control number from the claim.
    pub control: Text,
    /// AMT*B6 allowed amount.
    pub allowed: Option<Decimal>,
    pub adjustments: Vec<Adjustment>,
    /// LQ*HE remark codes (RARCs).
    pub remarks: Vec<Text>,
    pub segment: u64,
}

/// One claim payment (loop 2100).
#[derive(Clone, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ClaimPayment {
    /// CLP01: the patient control number the claim was sent with (CLM01).
    pub claim_id: Text,
    /// CLP02: 1 primary, 2 secondary, 3 tertiary, 4 denied, 19-23 forwarded/reversal (22).
    pub status: Text,
    pub charge: Decimal,
    pub paid: Decimal,
    pub patient_responsibility: Option<Decimal>,
    pub filing_indicator: Text,
    /// CLP07 payer claim control number.
    pub payer_claim_id: Text,
    pub facility: Text,
    pub frequency: Text,
    pub adjustments: Vec<Adjustment>,
    pub patient: Party,
    pub rendering_npi: Text,
    /// NM1*TT crossover carrier, the next payer when the payer forwarded the claim.
    pub crossover: Option<Party>,
    pub service_from: Option<NaiveDate>,
    pub service_to: Option<NaiveDate>,
    pub received: Option<NaiveDate>,
    /// MOA/MIA remark codes.
    pub remarks: Vec<Text>,
    pub services: Vec<ServicePayment>,
    pub segment: u64,
}

impl ClaimPayment {
    pub fn is_reversal(&self) -> bool {
        self.status == "22"
    }

    pub fn is_denied(&self) -> bool {
        self.status == "4"
    }

    /// Patient responsibility from the PR adjustments on the claim and its lines.
    pub fn pr_total(&self) -> Decimal {
        self.adjustments
            .iter()
            .chain(self.services.iter().flat_map(|s| &s.adjustments))
            .filter(|a| a.group == "PR")
            .map(|a| a.amount)
            .sum()
    }
}

/// A provider-level adjustment (PLB), one per reason composite.
#[derive(Clone, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ProviderAdjustment {
    pub provider_id: Text,
    pub fiscal_period_end: Option<NaiveDate>,
    /// PLB03-1 reason (WO, FB, L6, 72, ...), PLB03-2 reference.
    pub reason: Text,
    pub reference: Text,
    /// Positive reduces the payment.
    pub amount: Decimal,
}

/// One 835 transaction set.
#[derive(Clone, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Remittance {
    /// BPR01 handling code, BPR02 total payment, BPR03 C/D, BPR04 method (ACH, CHK, NON).
    pub handling: Text,
    pub payment: Decimal,
    pub credit_debit: Text,
    pub method: Text,
    pub payment_date: Option<NaiveDate>,
    /// TRN02 check or EFT trace number.
    pub trace: Text,
    pub payer: Party,
    pub payee: Party,
    pub claims: Vec<ClaimPayment>,
    pub provider_adjustments: Vec<ProviderAdjustment>,
}

impl Remittance {
    /// The payer's identifier: N1*PR N104 when present, else TRN03.
    pub fn payer_id(&self) -> &str {
        &self.payer.id
    }
}

/// Reads the remittance from a built tree.
pub fn extract(root: &Node<'_>) -> Remittance {
    let mut r = Remittance::default();
    if let Some(bpr) = root.seg("BPR") {
        r.handling = text(bpr.get(1));
        r.payment = decimal(bpr.get(2)).unwrap_or_default();
        r.credit_debit = text(bpr.get(3));
        r.method = text(bpr.get(4));
        r.payment_date = date8(bpr.get(16));
    }
    r.trace = root.seg("TRN").map(|t| text(t.get(2))).unwrap_or_default();
    if let Some(n) = root.kid("1000A") {
        r.payer = Party::from_n1(n.first());
        if r.payer.id.is_empty() {
            r.payer.id = n.seg_q("REF", 1, "2U").map(|x| text(x.get(2))).unwrap_or_default();
        }
    }
    if r.payer.id.is_empty() {
        r.payer.id = root.seg("TRN").map(|t| text(t.get(3))).unwrap_or_default();
    }
    if let Some(n) = root.kid("1000B") {
        r.payee = Party::from_n1(n.first());
    }
    for lx in root.kids("2000") {
        for clp in lx.kids("2100") {
            r.claims.push(ClaimPayment::default());
            claim(clp, r.claims.last_mut().expect("because one was just pushed"));
        }
    }
    for clp in root.kids("2100") {
        r.claims.push(ClaimPayment::default());
        claim(clp, r.claims.last_mut().expect("because one was just pushed"));
    }
    r.claims.sort_by_key(|c| c.segment);
    for plb in root.segs("PLB") {
        let comp = plb.delimiters().component;
        for i in 0..6 {
            let reason = plb.get(3 + i * 2);
            if reason.is_empty() {
                continue;
            }
            let mut parts = x12::components(reason, comp);
            r.provider_adjustments.push(ProviderAdjustment {
                provider_id: text(plb.get(1)),
                fiscal_period_end: date8(plb.get(2)),
                reason: text(parts.next().unwrap_or(b"")),
                reference: text(parts.next().unwrap_or(b"")),
                amount: decimal(plb.get(4 + i * 2)).unwrap_or_default(),
            });
        }
    }
    r
}

const ID_CLP: u32 = pack_id(b"CLP");
const ID_SVC: u32 = pack_id(b"SVC");
const ID_CAS: u32 = pack_id(b"CAS");
const ID_DTM: u32 = pack_id(b"DTM");
const ID_AMT: u32 = pack_id(b"AMT");
const ID_QTY: u32 = pack_id(b"QTY");
const ID_PLB: u32 = pack_id(b"PLB");
const ID_NM1: u32 = pack_id(b"NM1");
const ID_REF: u32 = pack_id(b"REF");
const ID_LQ: u32 = pack_id(b"LQ");
const ID_MOA: u32 = pack_id(b"MOA");
const ID_MIA: u32 = pack_id(b"MIA");

/// DTM02 of the first DTM found, as a date.
fn dtm_date(seg: Option<&SegmentRef<'_>>) -> Option<NaiveDate> {
    seg.and_then(|d| date8(d.get(2)))
}

/// Fills in a claim payment (a default one, already in place in the output) from its 2100.
fn claim(node: &Node<'_>, c: &mut ClaimPayment) {
    let clp = Fields::new(node.first());
    c.claim_id = text(clp.get(1));
    c.status = text(clp.get(2));
    c.charge = decimal(clp.get(3)).unwrap_or_default();
    c.paid = decimal(clp.get(4)).unwrap_or_default();
    c.patient_responsibility = decimal(clp.get(5));
    c.filing_indicator = text(clp.get(6));
    c.payer_claim_id = text(clp.get(7));
    c.facility = text(clp.get(8));
    c.frequency = text(clp.get(9));
    c.segment = clp.seg.index();
    // One pass over the claim's segments; the first DTM of each qualifier wins, as with
    // `seg_q`, and MOA remarks come before MIA remarks.
    let (mut d232, mut d233, mut d050) = (None, None, None);
    let mut mia = Vec::new();
    for seg in &node.segments {
        match seg_pack(seg) {
            ID_CAS => c.adjustments.extend(cas_adjustments(seg)),
            ID_NM1 => {
                let f = Fields::new(seg);
                match f.get(1) {
                    b"QC" => c.patient = Party::nm1(&f),
                    b"82" => c.rendering_npi = text(f.get(9)),
                    b"TT" => c.crossover = Some(Party::nm1(&f)),
                    _ => {}
                }
            }
            ID_DTM => match seg.get(1) {
                b"232" if d232.is_none() => d232 = Some(seg),
                b"233" if d233.is_none() => d233 = Some(seg),
                b"050" if d050.is_none() => d050 = Some(seg),
                _ => {}
            },
            ID_MOA => remarks(seg, &mut c.remarks),
            ID_MIA => remarks(seg, &mut mia),
            _ => {}
        }
    }
    c.remarks.append(&mut mia);
    c.service_from = dtm_date(d232);
    c.service_to = dtm_date(d233);
    c.received = dtm_date(d050);
    c.services.reserve_exact(node.children.iter().filter(|k| k.def.id == "2110").count());
    for svc in node.kids("2110") {
        c.services.push(service(svc));
    }
}

fn remarks(seg: &SegmentRef<'_>, out: &mut Vec<Text>) {
    for el in seg.elements() {
        if el.len() >= 3 && el.iter().any(u8::is_ascii_alphabetic) && el.iter().all(u8::is_ascii_alphanumeric) {
            out.push(text(el));
        }
    }
}

fn service(node: &Node<'_>) -> ServicePayment {
    let svc = Fields::new(node.first());
    let comp = svc.seg.delimiters().component;
    let submitted = svc.get(6);
    let (mut d472, mut d150, mut r6r, mut b6) = (None, None, None, None);
    let mut adjustments = Vec::new();
    let mut remarks = Vec::new();
    for seg in node.segments.iter().skip(1) {
        match seg_pack(seg) {
            ID_DTM => match seg.get(1) {
                b"472" if d472.is_none() => d472 = Some(seg),
                b"150" if d150.is_none() => d150 = Some(seg),
                _ => {}
            },
            ID_REF if r6r.is_none() && seg.get(1) == b"6R" => r6r = Some(seg),
            ID_AMT if b6.is_none() && seg.get(1) == b"B6" => b6 = Some(seg),
            ID_CAS => adjustments.extend(cas_adjustments(seg)),
            ID_LQ => {
                let f = Fields::new(seg);
                if f.get(1) == b"HE" {
                    remarks.push(text(f.get(2)));
                }
            }
            _ => {}
        }
    }
    ServicePayment {
        procedure: Procedure::from_composite(svc.get(1), comp),
        charge: decimal(svc.get(2)).unwrap_or_default(),
        paid: decimal(svc.get(3)).unwrap_or_default(),
        revenue_code: text(svc.get(4)),
        units_paid: decimal(svc.get(5)).unwrap_or(Decimal::ONE),
        units_billed: decimal(svc.get(7)),
        submitted_procedure: (!submitted.is_empty()).then(|| Procedure::from_composite(submitted, comp)),
        service_date: dtm_date(d472).or_else(|| dtm_date(d150)),
        control: r6r.map(|r| text(r.get(2))).unwrap_or_default(),
        allowed: b6.and_then(|a| decimal(a.get(2))),
        adjustments,
        remarks,
        segment: svc.seg.index(),
    }
}

fn cas_sum<'s, 'a: 's>(segs: impl Iterator<Item = &'s SegmentRef<'a>>) -> Decimal {
    segs.map(|s| cas_amount(s)).sum()
}

/// Implementation-guide (SNIP 2) and balancing (SNIP 3) checks over a built tree.
pub fn validate(root: &Node<'_>, set_start: u64, issues: &mut Vec<Issue>) {
    check_usage(root, set_start, issues);
    let mut c = Checks::new(set_start, issues);
    let lid = "835";
    if let Some(bpr) = root.seg("BPR") {
        c.code(bpr, lid, 1, &["C", "D", "H", "I", "P", "U", "X"]);
        c.req_decimal(bpr, lid, 2);
        c.code(bpr, lid, 3, &["C", "D"]);
        c.code(bpr, lid, 4, &["ACH", "BOP", "CHK", "FWT", "NON"]);
        c.required(bpr, lid, 16);
        c.date(bpr, lid, 16);
    }
    if let Some(trn) = root.seg("TRN") {
        c.code(trn, lid, 1, &["1"]);
        c.required(trn, lid, 2);
        c.required(trn, lid, 3);
    }
    if let Some(payer) = root.kid("1000A") {
        if payer.seg_q("PER", 1, "BL").is_none() {
            let at = payer.first();
            c.issues.push(
                Issue::missing_segment(Some(at), set_start, "1000A", "PER")
                    .with_message("required PER*BL (payer technical contact) missing in loop 1000A"),
            );
        }
    }
    root.walk(&mut |n: &Node<'_>| {
        let lid = n.def.id;
        for seg in &n.segments {
            match seg_pack(seg) {
                ID_CLP => {
                    let f = Fields::new(seg);
                    c.required(&f, lid, 1);
                    c.code(&f, lid, 2, &["1", "2", "3", "4", "19", "20", "21", "22", "23", "25"]);
                    let charge = c.req_decimal(&f, lid, 3);
                    let paid = c.req_decimal(&f, lid, 4);
                    c.decimal(&f, lid, 5);
                    c.required(&f, lid, 7);
                    // SNIP 3: charge - paid = claim CAS + line CAS.
                    if let (Some(charge), Some(paid)) = (charge, paid) {
                        let adj =
                            cas_sum(n.segs("CAS")) + n.kids("2110").map(|s| cas_sum(s.segs("CAS"))).sum::<Decimal>();
                        if charge - paid != adj {
                            c.unbalanced(
                                seg,
                                lid,
                                4,
                                format!("CLP03 - CLP04 = {} but claim and line adjustments total {adj}", charge - paid),
                            );
                        }
                    }
                }
                ID_SVC => {
                    let f = Fields::new(seg);
                    c.required(&f, lid, 1);
                    let charge = c.req_decimal(&f, lid, 2);
                    let paid = c.req_decimal(&f, lid, 3);
                    c.decimal(&f, lid, 5);
                    if let (Some(charge), Some(paid)) = (charge, paid) {
                        let adj = cas_sum(n.segs("CAS"));
                        if charge - paid != adj {
                            c.unbalanced(
                                seg,
                                lid,
                                3,
                                format!("SVC02 - SVC03 = {} but line adjustments total {adj}", charge - paid),
                            );
                        }
                    }
                }
                ID_CAS => {
                    let f = Fields::new(seg);
                    c.required(&f, lid, 1);
                    c.code(&f, lid, 1, &["CO", "OA", "PI", "PR"]);
                    c.required(&f, lid, 2);
                    for i in 0..6 {
                        c.decimal(&f, lid, 3 + i * 3);
                        c.decimal(&f, lid, 4 + i * 3);
                    }
                }
                ID_DTM => {
                    let f = Fields::new(seg);
                    c.required(&f, lid, 1);
                    c.date(&f, lid, 2);
                }
                ID_AMT | ID_QTY => {
                    c.req_decimal(&Fields::new(seg), lid, 2);
                }
                ID_PLB => {
                    let f = Fields::new(seg);
                    c.required(&f, lid, 1);
                    c.date(&f, lid, 2);
                    for i in 0..6 {
                        c.decimal(&f, lid, 4 + i * 2);
                    }
                }
                ID_NM1 if lid == "2100" => {
                    let f = Fields::new(seg);
                    if f.get(8) == b"XX" {
                        c.npi(&f, lid, 9);
                    }
                }
                _ => {}
            }
        }
    });
    // SNIP 3: BPR02 = sum of CLP04 - sum of PLB amounts (credit), or the negative for debits.
    if let Some(bpr) = root.seg("BPR") {
        if let Some(total) = decimal(bpr.get(2)) {
            let mut paid = Decimal::ZERO;
            root.walk(&mut |n: &Node<'_>| {
                if n.def.id == "2100" {
                    paid += decimal(n.first().get(4)).unwrap_or_default();
                }
            });
            let plb: Decimal =
                root.segs("PLB").map(|p| (0..6).filter_map(|i| decimal(p.get(4 + i * 2))).sum::<Decimal>()).sum();
            let expected = paid - plb;
            let signed = if bpr.get(3) == b"D" { -total } else { total };
            if signed != expected {
                c.unbalanced(
                    bpr,
                    lid,
                    2,
                    format!("BPR02 = {total} but claim payments less provider adjustments total {expected}"),
                );
            }
        }
    }
}

/// Builds, validates and extracts one 835 set from its segments (ST..SE).
pub fn parse<'a>(segments: impl IntoIterator<Item = SegmentRef<'a>>, issues: &mut Vec<Issue>) -> Remittance {
    let mut segs = segments.into_iter().peekable();
    let start = segs.peek().map(|s| s.index()).unwrap_or(1);
    let root = build(&SCHEMA, segs, issues);
    validate(&root, start, issues);
    extract(&root)
}
