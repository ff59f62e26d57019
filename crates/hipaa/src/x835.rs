//! 835 health care claim payment/advice, 005010X221A1.

use crate::common::{cas_amount, cas_slots, Adjustment, Model, Party, Procedure, Text};
use crate::issue::Issue;
use crate::tree::{
    check_usage, claims_in, loop_key, one_pass, pack_id, s, seg_pack, LoopDef, Node, OnePass, Sink, Trigger,
};
use crate::values::{date8, decimal, text, Checks, Fields, Reading, Sum};
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
pub struct ServicePayment<S = Text> {
    pub procedure: Procedure<S>,
    pub charge: Decimal,
    pub paid: Decimal,
    pub revenue_code: S,
    /// SVC05 units paid (1 when absent) and SVC07 original units when they differ.
    pub units_paid: Decimal,
    pub units_billed: Option<Decimal>,
    /// SVC06: the procedure as submitted, when the payer changed it.
    pub submitted_procedure: Option<Procedure<S>>,
    pub service_date: Option<NaiveDate>,
    /// REF*6R line item control number from the claim.
    pub control: S,
    /// AMT*B6 allowed amount.
    pub allowed: Option<Decimal>,
    pub adjustments: Vec<Adjustment<S>>,
    /// LQ*HE remark codes (RARCs).
    pub remarks: Vec<S>,
    pub segment: u64,
}

/// One claim payment (loop 2100).
#[derive(Clone, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ClaimPayment<S = Text> {
    /// CLP01: the patient control number the claim was sent with (CLM01).
    pub claim_id: S,
    /// CLP02: 1 primary, 2 secondary, 3 tertiary, 4 denied, 19-23 forwarded/reversal (22).
    pub status: S,
    pub charge: Decimal,
    pub paid: Decimal,
    pub patient_responsibility: Option<Decimal>,
    pub filing_indicator: S,
    /// CLP07 payer claim control number.
    pub payer_claim_id: S,
    pub facility: S,
    pub frequency: S,
    pub adjustments: Vec<Adjustment<S>>,
    pub patient: Party<S>,
    pub rendering_npi: S,
    /// NM1*TT crossover carrier, the next payer when the payer forwarded the claim.
    pub crossover: Option<Party<S>>,
    pub service_from: Option<NaiveDate>,
    pub service_to: Option<NaiveDate>,
    pub received: Option<NaiveDate>,
    /// MOA/MIA remark codes.
    pub remarks: Vec<S>,
    pub services: Vec<ServicePayment<S>>,
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
pub struct ProviderAdjustment<S = Text> {
    pub provider_id: S,
    pub fiscal_period_end: Option<NaiveDate>,
    /// PLB03-1 reason (WO, FB, L6, 72, ...), PLB03-2 reference.
    pub reason: S,
    pub reference: S,
    /// Positive reduces the payment.
    pub amount: Decimal,
}

/// One 835 transaction set.
#[derive(Clone, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Remittance<S = Text> {
    /// BPR01 handling code, BPR02 total payment, BPR03 C/D, BPR04 method (ACH, CHK, NON).
    pub handling: S,
    pub payment: Decimal,
    pub credit_debit: S,
    pub method: S,
    pub payment_date: Option<NaiveDate>,
    /// TRN02 check or EFT trace number.
    pub trace: S,
    pub payer: Party<S>,
    pub payee: Party<S>,
    pub claims: Vec<ClaimPayment<S>>,
    pub provider_adjustments: Vec<ProviderAdjustment<S>>,
}

impl Remittance {
    /// The payer's identifier: N1*PR N104 when present, else TRN03.
    pub fn payer_id(&self) -> &str {
        &self.payer.id
    }
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

const ID_BPR: u32 = pack_id(b"BPR");
const ID_TRN: u32 = pack_id(b"TRN");
const ID_N1: u32 = pack_id(b"N1");
const ID_PER: u32 = pack_id(b"PER");

/// Reads one 835 set and checks it (the checks of [`validate`]) in one pass over its
/// segments, as they are placed in their loops: no loop tree is built, and each segment is
/// split once for both. Issues are exactly those of [`validate`] over the tree from
/// `tree::build`, in its order: the pass only decides whether there are any, and when there
/// are (or usage needs the full walk) the tree is built and checked for them. With `extract`
/// false the remittance is left empty (what `validate_set` needs).
pub(crate) fn read<'a, S: Model<'a>>(set: &'a x12::OwnedSet, extract: bool, issues: &mut Vec<Issue>) -> Remittance<S> {
    let whole = crate::values::set_text(set, extract);
    read_segments(|| set.segments(), whole, &set.bytes, set.segment, extract, issues)
}

/// [`read`] over the segments `segments` yields (twice when there are issues); `whole` is the
/// set's text when it is UTF-8 (element text is then sliced from it), `backing` its bytes
/// (segments are split in place, and the claim list sized from them; empty for segments from
/// elsewhere), `set_start` the file segment number of the ST.
pub(crate) fn read_segments<'a, S: Model<'a>, I: IntoIterator<Item = SegmentRef<'a>>>(
    segments: impl Fn() -> I,
    whole: Option<&'a str>,
    backing: &'a [u8],
    set_start: u64,
    extract: bool,
    issues: &mut Vec<Issue>,
) -> Remittance<S> {
    let mut found = Vec::new();
    let pass = Pass::new(set_start, &mut found, extract, whole, backing);
    one_pass(&SCHEMA, pass, segments, set_start, validate, issues)
}

const K_ROOT: u64 = loop_key("835");
const K_1000A: u64 = loop_key("1000A");
const K_1000B: u64 = loop_key("1000B");
const K_2100: u64 = loop_key("2100");
const K_2110: u64 = loop_key("2110");

/// The state of one pass over an 835 set (see [`read`]). "First" below means what
/// `Node::seg`, `seg_q` and `kid` find: the first occurrence within the loop occurrence.
struct Pass<'i, 'a, S> {
    r: Reading<'i, 'a>,
    /// A balancing or payer-contact rule failed: the tree decides the issues.
    doubt: bool,
    out: Remittance<S>,
    /// Root: first BPR (its BPR02 and BPR03), first TRN (its TRN03); claim payments (CLP04)
    /// and provider adjustments (PLB) so far.
    bpr: Option<(Option<Decimal>, bool)>,
    trn03: Option<S>,
    clp_paid: Sum,
    plb: Sum,
    /// 1000A occurrences, the first one's REF*2U and whether it has a PER*BL; 1000B seen.
    payers: u32,
    ref_2u: Option<S>,
    per_bl: bool,
    payee: bool,
    /// 2100: CLP03 and CLP04 when both valid, claim and line CAS amounts, first DTM*232,
    /// *233, *050 seen, MIA remarks (after MOA's).
    clp: Option<(Decimal, Decimal)>,
    clp_adj: Sum,
    d232: bool,
    d233: bool,
    d050: bool,
    mia: Vec<S>,
    /// 2110: SVC02 and SVC03 when both valid, its CAS amounts; first DTM*472 and *150 (with
    /// their dates), REF*6R and AMT*B6 seen.
    svc: Option<(Decimal, Decimal)>,
    svc_adj: Sum,
    d472: Option<Option<NaiveDate>>,
    d150: Option<Option<NaiveDate>>,
    r6r: bool,
    b6: bool,
    /// The open claim's service payments and the open service's adjustments, moved into
    /// right-sized lists when their loop closes (growing them in place moved each service
    /// two or three times).
    services: Vec<ServicePayment<S>>,
    line_adjustments: Vec<Adjustment<S>>,
}

impl<'i, 'a, S: Model<'a>> Pass<'i, 'a, S> {
    fn new(
        set_start: u64,
        issues: &'i mut Vec<Issue>,
        extract: bool,
        whole: Option<&'a str>,
        backing: &'a [u8],
    ) -> Pass<'i, 'a, S> {
        let mut pass = Pass {
            r: Reading::new(set_start, issues, extract, whole, backing),
            doubt: false,
            out: Remittance::default(),
            bpr: None,
            trn03: None,
            clp_paid: Sum::ZERO,
            plb: Sum::ZERO,
            payers: 0,
            ref_2u: None,
            per_bl: false,
            payee: false,
            clp: None,
            clp_adj: Sum::ZERO,
            d232: false,
            d233: false,
            d050: false,
            mia: Vec::new(),
            svc: None,
            svc_adj: Sum::ZERO,
            d472: None,
            d150: None,
            r6r: false,
            b6: false,
            services: Vec::new(),
            line_adjustments: Vec::new(),
        };
        if extract {
            pass.out.claims.reserve(claims_in(backing.len()));
        }
        pass
    }

    /// The checks, balancing sums and model of one segment: one dispatch on its id, then on
    /// its loop. Loop opens of the payer and payee are read whatever their trigger.
    #[inline]
    fn read(&mut self, def: &'static LoopDef, key: u64, id: u32, f: &Fields<'a>, opens: bool) {
        let x = self.r.extract;
        if opens {
            match key {
                K_1000A => {
                    self.payers += 1;
                    if x && self.payers == 1 {
                        self.out.payer = Party::n1(f);
                    }
                }
                K_1000B if x && !self.payee => {
                    self.payee = true;
                    self.out.payee = Party::n1(f);
                }
                _ => {}
            }
        }
        let lid = def.id;
        match id {
            ID_CAS => {
                // The checks, the adjustments' sum and `cas_into` in one walk over the slots.
                let mut into = match key {
                    K_2110 if x => Some(&mut self.line_adjustments),
                    K_2100 if x => self.out.claims.last_mut().map(|claim| &mut claim.adjustments),
                    _ => None,
                };
                let mut sum = Sum::ZERO;
                check_cas(&mut self.r.c, lid, f, |i, amount, quantity| {
                    sum += amount.unwrap_or_default();
                    if let Some(out) = into.as_deref_mut() {
                        out.push(Adjustment::of_cas(f, i, amount, quantity));
                    }
                });
                match key {
                    K_2110 => {
                        self.svc_adj = self.svc_adj.plus(sum);
                        self.clp_adj = self.clp_adj.plus(sum);
                    }
                    K_2100 => self.clp_adj = self.clp_adj.plus(sum),
                    _ => {}
                }
            }
            ID_SVC => {
                let parsed = check_segment(&mut self.r.c, lid, ID_SVC, f);
                if key == K_2110 && opens {
                    if let Parsed::Amounts([charge, paid, _]) = parsed {
                        self.svc = charge.zip(paid);
                        self.svc_adj = Sum::ZERO;
                    }
                    if x {
                        (self.d472, self.d150, self.r6r, self.b6) = (None, None, false, false);
                        let comp = f.seg.delimiters().component;
                        let submitted = f.get(6);
                        self.services.push(ServicePayment {
                            procedure: Procedure::from_fields(f, 1, comp),
                            charge: parsed.amount(f, 2, 0).unwrap_or_default(),
                            paid: parsed.amount(f, 3, 1).unwrap_or_default(),
                            revenue_code: f.text(4),
                            units_paid: parsed.amount(f, 5, 2).unwrap_or(Decimal::ONE),
                            units_billed: decimal(f.get(7)),
                            submitted_procedure: (!submitted.is_empty()).then(|| Procedure::from_fields(f, 6, comp)),
                            segment: f.seg.index(),
                            ..ServicePayment::default()
                        });
                    }
                }
            }
            ID_DTM => {
                let parsed = check_segment(&mut self.r.c, lid, ID_DTM, f);
                if !x {
                    return;
                }
                match key {
                    K_2110 => match f.get(1) {
                        b"472" if self.d472.is_none() => self.d472 = Some(parsed.date(f)),
                        b"150" if self.d150.is_none() => self.d150 = Some(parsed.date(f)),
                        _ => {}
                    },
                    K_2100 => {
                        let first = match f.get(1) {
                            b"232" => !std::mem::replace(&mut self.d232, true),
                            b"233" => !std::mem::replace(&mut self.d233, true),
                            b"050" => !std::mem::replace(&mut self.d050, true),
                            _ => false,
                        };
                        if first {
                            let d = parsed.date(f);
                            let c = self.claim();
                            match f.get(1) {
                                b"232" => c.service_from = d,
                                b"233" => c.service_to = d,
                                _ => c.received = d,
                            }
                        }
                    }
                    _ => {}
                }
            }
            ID_CLP => {
                let parsed = check_segment(&mut self.r.c, lid, ID_CLP, f);
                if key == K_2100 && opens {
                    if let Parsed::Amounts([charge, paid, _]) = parsed {
                        self.clp = charge.zip(paid);
                        self.clp_adj = Sum::ZERO;
                        self.clp_paid += paid.unwrap_or_default();
                    }
                    if x {
                        (self.d232, self.d233, self.d050) = (false, false, false);
                        self.out.claims.push(ClaimPayment {
                            claim_id: f.text(1),
                            status: f.text(2),
                            charge: parsed.amount(f, 3, 0).unwrap_or_default(),
                            paid: parsed.amount(f, 4, 1).unwrap_or_default(),
                            patient_responsibility: parsed.amount(f, 5, 2),
                            filing_indicator: f.text(6),
                            payer_claim_id: f.text(7),
                            facility: f.text(8),
                            frequency: f.text(9),
                            segment: f.seg.index(),
                            ..ClaimPayment::default()
                        });
                    }
                }
            }
            ID_AMT | ID_QTY => {
                let parsed = check_segment(&mut self.r.c, lid, id, f);
                if x && id == ID_AMT && key == K_2110 && !self.b6 && f.get(1) == b"B6" {
                    self.b6 = true;
                    self.service().allowed = parsed.amount(f, 2, 0);
                }
            }
            ID_REF if x => match key {
                K_2110 if !self.r6r && f.get(1) == b"6R" => {
                    self.r6r = true;
                    self.service().control = f.text(2);
                }
                K_1000A if self.payers == 1 && self.ref_2u.is_none() && f.get(1) == b"2U" => {
                    self.ref_2u = Some(f.text(2));
                }
                _ => {}
            },
            ID_NM1 => {
                check_segment(&mut self.r.c, lid, ID_NM1, f);
                if x && key == K_2100 {
                    match f.get(1) {
                        b"QC" => self.claim().patient = Party::nm1(f),
                        b"82" => self.claim().rendering_npi = f.text(9),
                        b"TT" => self.claim().crossover = Some(Party::nm1(f)),
                        _ => {}
                    }
                }
            }
            ID_LQ if x && key == K_2110 && f.get(1) == b"HE" => {
                let code = f.text(2);
                self.service().remarks.push(code);
            }
            ID_MOA if x && key == K_2100 => remarks(&f.seg, &mut self.claim().remarks),
            ID_MIA if x && key == K_2100 => remarks(&f.seg, &mut self.mia),
            ID_PLB => {
                check_segment(&mut self.r.c, lid, ID_PLB, f);
                if key == K_ROOT {
                    for i in 0..6 {
                        if let Some(d) = decimal(f.get(4 + i * 2)) {
                            self.plb += d;
                        }
                    }
                    if x {
                        let comp = f.seg.delimiters().component;
                        for i in 0..6 {
                            let reason = f.get(3 + i * 2);
                            if reason.is_empty() {
                                continue;
                            }
                            let mut parts = crate::values::components(reason, comp);
                            self.out.provider_adjustments.push(ProviderAdjustment {
                                provider_id: f.text(1),
                                fiscal_period_end: date8(f.get(2)),
                                reason: text(parts.next().unwrap_or(b"")),
                                reference: text(parts.next().unwrap_or(b"")),
                                amount: decimal(f.get(4 + i * 2)).unwrap_or_default(),
                            });
                        }
                    }
                }
            }
            ID_BPR if key == K_ROOT && self.bpr.is_none() => {
                check_bpr(&mut self.r.c, f);
                let payment = decimal(f.get(2));
                self.bpr = Some((payment, f.get(3) == b"D"));
                if x {
                    let r = &mut self.out;
                    r.handling = f.text(1);
                    r.payment = payment.unwrap_or_default();
                    r.credit_debit = f.text(3);
                    r.method = f.text(4);
                    r.payment_date = date8(f.get(16));
                }
            }
            ID_TRN if key == K_ROOT && self.trn03.is_none() => {
                check_trn(&mut self.r.c, f);
                self.trn03 = Some(f.text(3));
                self.out.trace = f.text(2);
            }
            ID_PER if key == K_1000A && self.payers == 1 && f.get(1) == b"BL" => self.per_bl = true,
            _ => {}
        }
    }

    fn claim(&mut self) -> &mut ClaimPayment<S> {
        self.out.claims.last_mut().expect("because a 2100 is open")
    }

    fn service(&mut self) -> &mut ServicePayment<S> {
        self.services.last_mut().expect("because a 2110 is open")
    }
}

/// The segments [`Pass`] reads: for the checks, and for the model.
#[inline]
fn checked(id: u32) -> bool {
    matches!(id, ID_CLP | ID_SVC | ID_CAS | ID_DTM | ID_AMT | ID_QTY | ID_PLB | ID_NM1)
}

#[inline]
fn read_by_pass(id: u32) -> bool {
    checked(id) || matches!(id, ID_BPR | ID_TRN | ID_N1 | ID_REF | ID_PER | ID_MOA | ID_MIA | ID_LQ)
}

impl<'a, S: Model<'a>> OnePass<'a> for Pass<'_, 'a, S> {
    type Model = Remittance<S>;

    /// The remittance read, and whether nothing was found and every rule held.
    fn finish(mut self) -> (Remittance<S>, bool) {
        // SNIP 3: BPR02 = sum of CLP04 - sum of PLB amounts (credit), or the negative for debits.
        if let Some((Some(total), debit)) = self.bpr {
            let signed = if debit { -total } else { total };
            self.doubt |= !Sum::of(signed).same(self.clp_paid.minus(self.plb));
        }
        let r = &mut self.out;
        if r.payer.id.as_ref().is_empty() {
            if let Some(id) = self.ref_2u.take() {
                r.payer.id = id;
            }
        }
        if r.payer.id.as_ref().is_empty() {
            r.payer.id = self.trn03.take().unwrap_or_default();
        }
        let clean = !self.doubt && self.r.c.issues.is_empty();
        (self.out, clean)
    }
}

impl<'a, S: Model<'a>> Sink<'a> for Pass<'_, 'a, S> {
    #[inline]
    fn segment(&mut self, def: &'static LoopDef, key: u64, id: u32, seg: &SegmentRef<'a>, opens: bool) {
        if !opens && !read_by_pass(id) {
            return;
        }
        let f = self.r.split(seg);
        self.read(def, key, id, &f, opens);
    }

    fn close(&mut self, _def: &'static LoopDef, key: u64) {
        match key {
            K_2110 => {
                if let Some((charge, paid)) = self.svc {
                    self.doubt |= !Sum::of(charge).minus(Sum::of(paid)).same(self.svc_adj);
                }
                if self.r.extract {
                    let date = self.d472.flatten().or(self.d150.flatten());
                    let adjustments = crate::common::take_exact(&mut self.line_adjustments);
                    let s = self.service();
                    s.service_date = date;
                    s.adjustments = adjustments;
                }
            }
            K_2100 => {
                if let Some((charge, paid)) = self.clp {
                    self.doubt |= !Sum::of(charge).minus(Sum::of(paid)).same(self.clp_adj);
                }
                if self.r.extract {
                    let mut mia = std::mem::take(&mut self.mia);
                    let services = crate::common::take_exact(&mut self.services);
                    let c = self.claim();
                    c.remarks.append(&mut mia);
                    c.services = services;
                    self.mia = mia;
                }
            }
            K_1000A if self.payers == 1 && !self.per_bl => self.doubt = true,
            _ => {}
        }
    }
}

/// Implementation-guide (SNIP 2) and balancing (SNIP 3) checks over a built tree.
pub fn validate(root: &Node<'_>, set_start: u64, issues: &mut Vec<Issue>) {
    check_usage(root, set_start, issues);
    let mut c = Checks::new(set_start, issues);
    let lid = "835";
    if let Some(bpr) = root.seg("BPR") {
        check_bpr(&mut c, &Fields::new(bpr));
    }
    if let Some(trn) = root.seg("TRN") {
        check_trn(&mut c, &Fields::new(trn));
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
            let id = seg_pack(seg);
            if !checked(id) {
                continue;
            }
            let parsed = check_segment(&mut c, lid, id, &Fields::new(seg));
            // SNIP 3: charge - paid = the loop's CAS (and, for a claim, its lines' CAS).
            let amounts = match parsed {
                Parsed::Amounts([charge, paid, _]) => charge.zip(paid),
                _ => None,
            };
            match (id, amounts) {
                (ID_CLP, Some((charge, paid))) => {
                    let adj = cas_sum(n.segs("CAS")) + n.kids("2110").map(|s| cas_sum(s.segs("CAS"))).sum::<Decimal>();
                    if charge - paid != adj {
                        let what =
                            format!("CLP03 - CLP04 = {} but claim and line adjustments total {adj}", charge - paid);
                        c.unbalanced(seg, lid, 4, what);
                    }
                }
                (ID_SVC, Some((charge, paid))) => {
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

/// The checks of the set's (first) BPR.
fn check_bpr(c: &mut Checks<'_>, bpr: &Fields<'_>) {
    let lid = "835";
    c.code(bpr, lid, 1, &["C", "D", "H", "I", "P", "U", "X"]);
    c.req_decimal(bpr, lid, 2);
    c.code(bpr, lid, 3, &["C", "D"]);
    c.code(bpr, lid, 4, &["ACH", "BOP", "CHK", "FWT", "NON"]);
    c.required(bpr, lid, 16);
    c.date(bpr, lid, 16);
}

/// The checks of the set's (first) TRN.
fn check_trn(c: &mut Checks<'_>, trn: &Fields<'_>) {
    let lid = "835";
    c.code(trn, lid, 1, &["1"]);
    c.required(trn, lid, 2);
    c.required(trn, lid, 3);
}

/// Values the checks of a segment parsed, handed on so the model and the balancing sums do
/// not parse them again. Each is what `decimal` or `date8` of the element gives.
#[derive(Clone, Copy)]
enum Parsed {
    Nothing,
    /// CLP03, CLP04, CLP05; SVC02, SVC03, SVC05; AMT02 or QTY02.
    Amounts([Option<Decimal>; 3]),
    /// DTM02.
    Date(Option<NaiveDate>),
}

impl Parsed {
    /// `decimal` of element `el`, the checks' `Amounts[at]` when they parsed it.
    #[inline]
    fn amount(&self, f: &Fields<'_>, el: usize, at: usize) -> Option<Decimal> {
        match self {
            Parsed::Amounts(a) => a[at],
            _ => decimal(f.get(el)),
        }
    }

    /// `date8` of DTM02, from the checks when they parsed it.
    #[inline]
    fn date(&self, f: &Fields<'_>) -> Option<NaiveDate> {
        match self {
            Parsed::Date(d) => *d,
            _ => date8(f.get(2)),
        }
    }
}

/// The checks of a CAS, calling `each` with the index, amount and quantity (as `decimal` reads
/// them) of every adjustment that has a reason.
#[inline]
fn check_cas(
    c: &mut Checks<'_>,
    lid: &'static str,
    f: &Fields<'_>,
    mut each: impl FnMut(usize, Option<Decimal>, Option<Decimal>),
) {
    c.required(f, lid, 1);
    c.code(f, lid, 1, &["CO", "OA", "PI", "PR"]);
    c.required(f, lid, 2);
    // Past the last slot every element is empty: nothing to check.
    for i in 0..cas_slots(f) {
        let amount = c.decimal(f, lid, 3 + i * 3);
        let quantity = c.decimal(f, lid, 4 + i * 3);
        if !f.get(2 + i * 3).is_empty() {
            each(i, amount, quantity);
        }
    }
}

/// The element checks of one segment in loop `lid` (a segment `checked` names), with what
/// they parsed: charge, paid and CLP05/SVC05 for a CLP or an SVC, DTM02.
fn check_segment(c: &mut Checks<'_>, lid: &'static str, id: u32, f: &Fields<'_>) -> Parsed {
    match id {
        ID_CLP => {
            c.required(f, lid, 1);
            c.code(f, lid, 2, &["1", "2", "3", "4", "19", "20", "21", "22", "23", "25"]);
            let charge = c.req_decimal(f, lid, 3);
            let paid = c.req_decimal(f, lid, 4);
            let pr = c.decimal(f, lid, 5);
            c.required(f, lid, 7);
            return Parsed::Amounts([charge, paid, pr]);
        }
        ID_SVC => {
            c.required(f, lid, 1);
            let charge = c.req_decimal(f, lid, 2);
            let paid = c.req_decimal(f, lid, 3);
            let units = c.decimal(f, lid, 5);
            return Parsed::Amounts([charge, paid, units]);
        }
        ID_CAS => {
            check_cas(c, lid, f, |_, _, _| {});
        }
        ID_DTM => {
            c.required(f, lid, 1);
            return Parsed::Date(c.date(f, lid, 2));
        }
        ID_AMT | ID_QTY => return Parsed::Amounts([c.req_decimal(f, lid, 2), None, None]),
        ID_PLB => {
            c.required(f, lid, 1);
            c.date(f, lid, 2);
            for i in 0..6 {
                c.decimal(f, lid, 4 + i * 2);
            }
        }
        ID_NM1 if lid == "2100" && f.get(8) == b"XX" => {
            c.npi(f, lid, 9);
        }
        _ => {}
    }
    Parsed::Nothing
}

fn remarks<'a, S: From<&'a str>>(seg: &SegmentRef<'a>, out: &mut Vec<S>) {
    for el in seg.elements() {
        if el.len() >= 3 && el.iter().any(u8::is_ascii_alphabetic) && el.iter().all(u8::is_ascii_alphanumeric) {
            out.push(text(el));
        }
    }
}

fn cas_sum<'s, 'a: 's>(segs: impl Iterator<Item = &'s SegmentRef<'a>>) -> Decimal {
    segs.map(|s| cas_amount(s)).sum()
}
