//! 276 claim status request and 277 response, 005010X212; 277CA claim acknowledgment,
//! 005010X214.
//!
//! A 277 and a 277CA both become a [`ClaimStatusReport`]: one [`ClaimStatus`] per status the
//! payer gave (for the information receiver, a provider, or a claim), each with its STC
//! statuses classified into a [`StatusCategory`] so callers act on the class (fix and resubmit,
//! wait, expect an 835, send records) rather than on raw codes. A 276 is read into the same
//! [`StatusRequest`] model that [`build_276`] writes from.

use crate::common::{Model, Party, Procedure, Text};
use crate::issue::{Issue, IssueCode};
use crate::tree::{
    build, check_usage, loop_key, one_pass, pack_id, seg_pack, LoopDef, Node, OnePass, SegSpec, Sink, Trigger,
};
use crate::tree::{l, s};
use crate::values::{date8, dated, decimal, text, Checks, Fields, Reading};
use crate::x270::{check_common, check_procedure, d8, hl, nm1, opt_d8, party, procedure_element};
use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use x12::{Element, Segment, SegmentRef};

const NM1: &str = "NM1";
const HL: &str = "HL";

// ---------------------------------------------------------------------------------------------
// 276 schema

const L2210_276: LoopDef = l("2210", Trigger::seg("SVC"), &[s("REF", 0, 1), s("DTP", 0, 1)], &[], 0, 0);
const TRACK_276: [SegSpec; 3] = [s("REF", 0, 9), s("AMT", 0, 1), s("DTP", 0, 1)];

const L2000E_276: LoopDef = l(
    "2000E",
    Trigger::qual(HL, 3, &["23"]),
    &[s("DMG", 0, 1)],
    &[
        l("2100E", Trigger::qual(NM1, 1, &["QC"]), &[], &[], 1, 1),
        l("2200E", Trigger::seg("TRN"), &TRACK_276, &[L2210_276], 1, 0),
    ],
    0,
    0,
);

const L2000D_276: LoopDef = l(
    "2000D",
    Trigger::qual(HL, 3, &["22"]),
    &[s("DMG", 0, 1)],
    &[
        l("2100D", Trigger::qual(NM1, 1, &["IL"]), &[], &[], 1, 1),
        l("2200D", Trigger::seg("TRN"), &TRACK_276, &[L2210_276], 0, 0),
        L2000E_276,
    ],
    1,
    0,
);

/// The 276 loop schema.
pub static SCHEMA_276: LoopDef = l(
    "276",
    Trigger::seg("ST"),
    &[s("ST", 1, 1), s("BHT", 1, 1), s("SE", 1, 1)],
    &[l(
        "2000A",
        Trigger::qual(HL, 3, &["20"]),
        &[],
        &[
            l("2100A", Trigger::qual(NM1, 1, &["PR"]), &[], &[], 1, 1),
            l(
                "2000B",
                Trigger::qual(HL, 3, &["21"]),
                &[],
                &[
                    l("2100B", Trigger::qual(NM1, 1, &["41"]), &[], &[], 1, 1),
                    l(
                        "2000C",
                        Trigger::qual(HL, 3, &["19"]),
                        &[],
                        &[l("2100C", Trigger::qual(NM1, 1, &["1P"]), &[], &[], 1, 1), L2000D_276],
                        1,
                        0,
                    ),
                ],
                1,
                0,
            ),
        ],
        1,
        0,
    )],
    1,
    1,
);

// ---------------------------------------------------------------------------------------------
// 277 and 277CA schemas

const L2220: LoopDef = l("2220", Trigger::seg("SVC"), &[s("STC", 1, 99), s("REF", 0, 3), s("DTP", 0, 1)], &[], 0, 0);
const TRACK_277: [SegSpec; 5] = [s("STC", 0, 99), s("REF", 0, 9), s("DTP", 0, 2), s("QTY", 0, 2), s("AMT", 0, 2)];

const L2000E_277: LoopDef = l(
    "2000E",
    Trigger::qual(HL, 3, &["23"]),
    &[],
    &[
        l("2100E", Trigger::qual(NM1, 1, &["QC"]), &[], &[], 1, 1),
        l("2200E", Trigger::seg("TRN"), &TRACK_277, &[L2220], 1, 0),
    ],
    0,
    0,
);

const L2000D_277: LoopDef = l(
    "2000D",
    Trigger::qual(HL, 3, &["22"]),
    &[],
    &[
        l("2100D", Trigger::qual(NM1, 1, &["IL", "QC"]), &[], &[], 1, 1),
        l("2200D", Trigger::seg("TRN"), &TRACK_277, &[L2220], 0, 0),
        L2000E_277,
    ],
    0,
    0,
);

/// The 277 (005010X212) loop schema.
pub static SCHEMA_277: LoopDef = l(
    "277",
    Trigger::seg("ST"),
    &[s("ST", 1, 1), s("BHT", 1, 1), s("SE", 1, 1)],
    &[l(
        "2000A",
        Trigger::qual(HL, 3, &["20"]),
        &[],
        &[
            l("2100A", Trigger::qual(NM1, 1, &["PR", "AY"]), &[s("PER", 0, 3)], &[], 1, 1),
            l(
                "2000B",
                Trigger::qual(HL, 3, &["21"]),
                &[],
                &[
                    l("2100B", Trigger::qual(NM1, 1, &["41"]), &[], &[], 1, 1),
                    l("2200B", Trigger::seg("TRN"), &TRACK_277, &[], 0, 1),
                    l(
                        "2000C",
                        Trigger::qual(HL, 3, &["19"]),
                        &[],
                        &[
                            l("2100C", Trigger::qual(NM1, 1, &["1P", "85"]), &[], &[], 1, 1),
                            l("2200C", Trigger::seg("TRN"), &TRACK_277, &[], 0, 1),
                            L2000D_277,
                        ],
                        0,
                        0,
                    ),
                ],
                1,
                0,
            ),
        ],
        1,
        0,
    )],
    1,
    1,
);

/// The 277CA (005010X214) loop schema: the patient level is `HL03 = PT`.
pub static SCHEMA_277CA: LoopDef = l(
    "277CA",
    Trigger::seg("ST"),
    &[s("ST", 1, 1), s("BHT", 1, 1), s("SE", 1, 1)],
    &[l(
        "2000A",
        Trigger::qual(HL, 3, &["20"]),
        &[],
        &[
            l("2100A", Trigger::qual(NM1, 1, &["AY", "PR"]), &[], &[], 1, 1),
            l("2200A", Trigger::seg("TRN"), &[s("DTP", 0, 2)], &[], 0, 1),
            l(
                "2000B",
                Trigger::qual(HL, 3, &["21"]),
                &[],
                &[
                    l("2100B", Trigger::qual(NM1, 1, &["41"]), &[], &[], 1, 1),
                    l("2200B", Trigger::seg("TRN"), &TRACK_277, &[], 0, 1),
                    l(
                        "2000C",
                        Trigger::qual(HL, 3, &["19"]),
                        &[],
                        &[
                            l("2100C", Trigger::qual(NM1, 1, &["85"]), &[s("REF", 0, 9)], &[], 1, 1),
                            l("2200C", Trigger::seg("TRN"), &TRACK_277, &[], 0, 1),
                            l(
                                "2000D",
                                Trigger::qual(HL, 3, &["PT"]),
                                &[],
                                &[
                                    l("2100D", Trigger::qual(NM1, 1, &["QC"]), &[], &[], 1, 1),
                                    l("2200D", Trigger::seg("TRN"), &TRACK_277, &[L2220], 1, 0),
                                ],
                                0,
                                0,
                            ),
                        ],
                        0,
                        0,
                    ),
                ],
                0,
                0,
            ),
        ],
        1,
        0,
    )],
    1,
    1,
);

// ---------------------------------------------------------------------------------------------
// Models

/// One service line asked about (2210D/2210E).
#[derive(Clone, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct LineInquiry {
    pub procedure: Procedure,
    pub charge: Option<Decimal>,
    pub units: Option<Decimal>,
    /// REF*FJ line item control number.
    pub control: Text,
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
}

/// One claim asked about (2200D/2200E).
#[derive(Clone, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct StatusInquiry {
    pub payer: Party,
    /// 2100B information receiver (the submitter) and 2100C service provider.
    pub receiver: Party,
    pub provider: Party,
    pub subscriber: Party,
    pub subscriber_birth_date: Option<NaiveDate>,
    pub subscriber_gender: Text,
    pub dependent: Option<Party>,
    pub dependent_birth_date: Option<NaiveDate>,
    /// TRN02 the payer echoes in the 277.
    pub trace: Text,
    /// REF*EJ patient control number (CLM01), REF*1K payer claim number, REF*BLT bill type.
    pub claim_id: Text,
    pub payer_claim_id: Text,
    pub bill_type: Text,
    /// AMT*T3 total claim charge.
    pub charge: Option<Decimal>,
    /// DTP*472 claim service dates.
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
    pub lines: Vec<LineInquiry>,
}

/// A parsed 276 transaction set.
#[derive(Clone, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct StatusRequest {
    pub reference: Text,
    pub created: Option<NaiveDate>,
    pub time: Text,
    pub inquiries: Vec<StatusInquiry>,
}

/// What a claim status category code (STC01-1) means for the work queue.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum StatusCategory {
    /// A0, A1, A2, A5: acknowledged, received, accepted into adjudication.
    Accepted,
    /// A3, A6, A7, A8: rejected (fix and resubmit).
    Rejected,
    /// A4, D0: not found / data search unsuccessful.
    NotFound,
    /// P0-P5: pending (wait).
    Pending,
    /// F1: finalized, paid.
    Paid,
    /// F2: finalized, denied (expect an 835).
    Denied,
    /// F0, F3, F3F, F3N: finalized otherwise (revised, forwarded).
    Finalized,
    /// F4: adjudication complete, no payment forthcoming.
    NoPayment,
    /// R0-R16: request for more information (send documentation).
    RequestForInformation,
    /// E0-E4: the status request itself could not be answered.
    Error,
    #[default]
    Unknown,
}

impl StatusCategory {
    pub fn from_code(code: &str) -> StatusCategory {
        match code {
            "A0" | "A1" | "A2" | "A5" => StatusCategory::Accepted,
            "A3" | "A6" | "A7" | "A8" => StatusCategory::Rejected,
            "A4" | "D0" => StatusCategory::NotFound,
            "F1" => StatusCategory::Paid,
            "F2" => StatusCategory::Denied,
            "F0" | "F3" | "F3F" | "F3N" => StatusCategory::Finalized,
            "F4" => StatusCategory::NoPayment,
            c if c.len() == 2 && c.starts_with('P') && matches!(c.as_bytes()[1], b'0'..=b'5') => {
                StatusCategory::Pending
            }
            c if c.starts_with('R') && c[1..].parse::<u8>().is_ok_and(|n| n <= 16) => {
                StatusCategory::RequestForInformation
            }
            c if c.len() == 2 && c.starts_with('E') && matches!(c.as_bytes()[1], b'0'..=b'4') => StatusCategory::Error,
            _ => StatusCategory::Unknown,
        }
    }

    /// The category code's meaning, for reports.
    pub fn meaning(code: &str) -> &'static str {
        match code {
            "A0" => "acknowledgement/forwarded",
            "A1" => "acknowledgement/receipt",
            "A2" => "acknowledgement/acceptance into adjudication system",
            "A3" => "acknowledgement/returned as unprocessable claim",
            "A4" => "acknowledgement/not found",
            "A5" => "acknowledgement/split claim",
            "A6" => "acknowledgement/rejected for missing information",
            "A7" => "acknowledgement/rejected for invalid information",
            "A8" => "acknowledgement/rejected for relational field in error",
            "D0" => "data search unsuccessful",
            "E0" => "response not possible - error on submitted request data",
            "E1" => "response not possible - system status",
            "E2" => "information holder is not responding",
            "E3" => "correction required - relational fields in error",
            "E4" => "trading partner agreement specific requirement not met",
            "F0" => "finalized",
            "F1" => "finalized/payment",
            "F2" => "finalized/denial",
            "F3" => "finalized/revised",
            "F3F" => "finalized/forwarded",
            "F3N" => "finalized/not forwarded",
            "F4" => "finalized/adjudication complete - no payment forthcoming",
            "P0" => "pending: adjudication/details",
            "P1" => "pending/in process",
            "P2" => "pending/payer review",
            "P3" => "pending/provider requested information",
            "P4" => "pending/patient requested information",
            "P5" => "pending/payer administrative/system hold",
            c if c.starts_with('R') => "request for additional information",
            _ => "",
        }
    }

    /// The claim needs a person: fix and resubmit, send records, or work a denial.
    pub fn needs_action(self) -> bool {
        matches!(
            self,
            StatusCategory::Rejected
                | StatusCategory::NotFound
                | StatusCategory::Denied
                | StatusCategory::RequestForInformation
                | StatusCategory::Error
        )
    }
}

/// One status composite of an STC (STC01, STC10 or STC11) with the segment's dates and amounts.
///
/// Like every response model here, generic over its text: `Text` (owned, the default) or
/// `&'a str` borrowed from the set's bytes (the view, see `hipaa::view_set`).
#[derive(Clone, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Status<S = Text> {
    /// Category code (A7, P1, F2 ...), its class and its meaning.
    pub category_code: S,
    pub category: StatusCategory,
    pub meaning: S,
    /// Status code (code source 508) and entity identifier (code source 237) when given.
    pub code: S,
    pub entity: S,
    /// STC02 status information effective date.
    pub date: Option<NaiveDate>,
    /// STC04 total charge and STC05 payment.
    pub charge: Option<Decimal>,
    pub paid: Option<Decimal>,
    /// STC06 adjudication or payment date, STC08 check date, STC09 check number.
    pub adjudicated: Option<NaiveDate>,
    pub check_date: Option<NaiveDate>,
    pub check_number: S,
}

/// One service line status (2220D/2220E).
#[derive(Clone, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct LineStatus<S = Text> {
    pub procedure: Procedure<S>,
    pub charge: Option<Decimal>,
    pub paid: Option<Decimal>,
    pub units: Option<Decimal>,
    /// REF*FJ line item control number.
    pub control: S,
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
    pub statuses: Vec<Status<S>>,
}

/// One status answer: about a claim, or about the whole receiver or provider level.
#[derive(Clone, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ClaimStatus<S = Text> {
    /// `receiver`, `provider` or `claim`.
    pub level: S,
    pub payer: Party<S>,
    pub receiver: Party<S>,
    pub provider: Party<S>,
    pub subscriber: Option<Party<S>>,
    pub patient: Option<Party<S>>,
    /// TRN02.
    pub trace: S,
    /// The practice's claim id: REF*EJ, else (277CA, where TRN02 carries CLM01) the trace.
    pub claim_id: S,
    /// REF*1K payer claim control number, REF*D9 clearinghouse trace, REF*BLT bill type.
    pub payer_claim_id: S,
    pub clearinghouse_trace: S,
    pub bill_type: S,
    /// The class of the first status, the one that decides what to do.
    pub category: StatusCategory,
    pub statuses: Vec<Status<S>>,
    /// DTP*472 service dates (claim level).
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
    pub lines: Vec<LineStatus<S>>,
}

impl<S> ClaimStatus<S> {
    /// The first status (STC01 of the first STC).
    pub fn primary(&self) -> Option<&Status<S>> {
        self.statuses.first()
    }
}

/// A parsed 277 or 277CA transaction set.
#[derive(Clone, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ClaimStatusReport<S = Text> {
    /// `277` or `277CA`.
    pub kind: S,
    pub reference: S,
    pub created: Option<NaiveDate>,
    /// DTP*050 received and DTP*009 process date (277CA 2200A).
    pub received: Option<NaiveDate>,
    pub processed: Option<NaiveDate>,
    pub statuses: Vec<ClaimStatus<S>>,
}

/// The text of a 277 model read from a set borrowed for `'a`: owned [`Text`] or `&'a str`,
/// with what the readers need beyond [`Model`]: fixed texts built without a copy (the levels
/// at compile time) and text written into an empty field in place (a short `Text` built in a
/// temporary and moved stalls on the reload; a `&str` is just stored).
pub(crate) trait StatusText<'a>: Model<'a> {
    const RECEIVER: Self;
    const PROVIDER: Self;
    const CLAIM: Self;
    /// A fixed text (a category meaning, a set kind).
    fn fixed(t: &'static str) -> Self;
    /// Appends `t` to the text (set it, when empty).
    fn push(&mut self, t: &'a str);
    /// Sets the text to `t`.
    fn put(&mut self, t: &'a str);
}

impl<'a> StatusText<'a> for Text {
    const RECEIVER: Text = Text::const_new("receiver");
    const PROVIDER: Text = Text::const_new("provider");
    const CLAIM: Text = Text::const_new("claim");

    #[inline]
    fn fixed(t: &'static str) -> Text {
        Text::const_new(t)
    }

    #[inline]
    fn push(&mut self, t: &'a str) {
        self.push_str(t);
    }

    #[inline]
    fn put(&mut self, t: &'a str) {
        self.clear();
        self.push_str(t);
    }
}

impl<'a> StatusText<'a> for &'a str {
    const RECEIVER: &'a str = "receiver";
    const PROVIDER: &'a str = "provider";
    const CLAIM: &'a str = "claim";

    #[inline]
    fn fixed(t: &'static str) -> &'a str {
        t
    }

    #[inline]
    fn push(&mut self, t: &'a str) {
        // Only ever called on an empty field.
        *self = t;
    }

    #[inline]
    fn put(&mut self, t: &'a str) {
        *self = t;
    }
}

// ---------------------------------------------------------------------------------------------
// Extraction
//
// Each loop's segments are read in one pass, dispatching on the packed segment id, and each
// segment is split once (`Fields`): `Node::seg`/`seg_q` and `SegmentRef::get` rescan per field.
// "The first REF*EJ" and the like keep the first segment with that qualifier, whether or not
// its value parses, as `seg_q(..).and_then(parse)` did.

const ID_AMT: u32 = pack_id(b"AMT");
const ID_BHT: u32 = pack_id(b"BHT");
const ID_DMG: u32 = pack_id(b"DMG");
const ID_DTP: u32 = pack_id(b"DTP");
const ID_REF: u32 = pack_id(b"REF");
const ID_STC: u32 = pack_id(b"STC");
const ID_SVC: u32 = pack_id(b"SVC");
const ID_QTY: u32 = pack_id(b"QTY");

/// BHT03, BHT04 and BHT05 of the first BHT of the root.
fn bht<'a, S: From<&'a str>>(root: &Node<'a>) -> Option<(S, Option<NaiveDate>, S)> {
    let b = root.segments.iter().find(|s| seg_pack(s) == ID_BHT)?;
    let f = Fields::new(b);
    Some((text(f.get(3)), date8(f.get(4)), text(f.get(5))))
}

/// Sets `slot` to `value()` unless an earlier segment already did.
#[inline]
fn first<T>(slot: &mut Option<T>, value: impl FnOnce() -> T) {
    if slot.is_none() {
        *slot = Some(value());
    }
}

/// The DTP*472 dates of a loop's first DTP*472 (`None` when it has none or it does not parse).
type Dates = Option<Option<(NaiveDate, NaiveDate)>>;

/// Appends the statuses of one STC (STC01, STC10, STC11 composites), already split.
fn push_stc<'a, S: StatusText<'a>>(f: &Fields<'a>, out: &mut Vec<Status<S>>) {
    let values = StcValues {
        date: date8(f.get(2)),
        charge: decimal(f.get(4)),
        paid: decimal(f.get(5)),
        adjudicated: date8(f.get(6)),
        check_date: date8(f.get(8)),
        composites: [composite(f, 1), composite(f, 10), composite(f, 11)],
    };
    push_stc_with(f, &values, out);
}

/// [`push_stc`] with the STC's dates and amounts already parsed (as its checks give them).
/// Each status is written in place in `out` (text pushed into its fields, not built apart and
/// moved: a short string copied into a temporary and read back as words stalls the load).
fn push_stc_with<'a, S: StatusText<'a>>(f: &Fields<'a>, values: &StcValues<'a>, out: &mut Vec<Status<S>>) {
    if out.is_empty() {
        // Most answers carry one status: sized exactly (a first push would reserve four).
        out.reserve_exact(values.composites.iter().flatten().count());
    }
    for c in values.composites.iter().flatten() {
        let [category_code, code, entity] = c.text;
        out.push(Status::default());
        let Some(s) = out.last_mut() else { return };
        s.category = c.category;
        s.meaning = S::fixed(StatusCategory::meaning(category_code));
        s.date = values.date;
        s.charge = values.charge;
        s.paid = values.paid;
        s.adjudicated = values.adjudicated;
        s.check_date = values.check_date;
        s.category_code.push(category_code);
        s.code.push(code);
        s.entity.push(entity);
        s.check_number.push(f.str(9));
    }
}

/// An empty party filled from an NM1 already split: `Party::nm1`, written in place.
fn nm1_into<'a, S: StatusText<'a>>(p: &mut Party<S>, f: &Fields<'a>) {
    p.entity.push(f.str(1));
    p.last_or_org.push(f.str(3));
    p.first.push(f.str(4));
    p.id_qualifier.push(f.str(8));
    p.id.push(f.str(9));
}

/// The parties a status answer carries, borrowed from the loops above it.
struct Above<'p, S> {
    payer: &'p Party<S>,
    receiver: &'p Party<S>,
    provider: &'p Party<S>,
    subscriber: Option<&'p Party<S>>,
    patient: Option<&'p Party<S>>,
}

impl<S> Clone for Above<'_, S> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<S> Copy for Above<'_, S> {}

fn tracking<'a, S: StatusText<'a>>(
    node: &Node<'a>,
    level: &'static str,
    above: &Above<'_, S>,
    ca: bool,
) -> ClaimStatus<S> {
    let mut c = ClaimStatus {
        level: S::fixed(level),
        payer: above.payer.clone(),
        receiver: above.receiver.clone(),
        provider: above.provider.clone(),
        subscriber: above.subscriber.cloned(),
        patient: above.patient.cloned(),
        trace: text(Fields::new(node.first()).get(2)),
        ..ClaimStatus::default()
    };
    let (mut ej, mut k1, mut d9, mut blt, mut dates): (Option<S>, _, _, _, Dates) = (None, None, None, None, None);
    for s in &node.segments {
        match seg_pack(s) {
            ID_STC => push_stc(&Fields::new(s), &mut c.statuses),
            ID_REF => {
                let f = Fields::new(s);
                let slot = match f.get(1) {
                    b"EJ" => &mut ej,
                    b"1K" => &mut k1,
                    b"D9" => &mut d9,
                    b"BLT" => &mut blt,
                    _ => continue,
                };
                first(slot, || text(f.get(2)));
            }
            ID_DTP => {
                let f = Fields::new(s);
                if f.get(1) == b"472" {
                    first(&mut dates, || dated(f.get(2), f.get(3)));
                }
            }
            _ => {}
        }
    }
    c.category = c.statuses.first().map(|s| s.category).unwrap_or_default();
    c.claim_id = ej.unwrap_or_default();
    if c.claim_id.as_ref().is_empty() && ca && level == "claim" {
        c.claim_id = c.trace.clone();
    }
    c.payer_claim_id = k1.unwrap_or_default();
    c.clearinghouse_trace = d9.unwrap_or_default();
    c.bill_type = blt.unwrap_or_default();
    if let Some((a, b)) = dates.flatten() {
        c.from = Some(a);
        c.to = Some(b);
    }
    c.lines.reserve_exact(node.children.len());
    for svc in &node.children {
        if svc.def.id != "2220" {
            continue;
        }
        let s = Fields::new(svc.first());
        let mut line = LineStatus {
            procedure: Procedure::from_composite(s.get(1), s.seg.delimiters().component),
            charge: decimal(s.get(2)),
            paid: decimal(s.get(3)),
            units: decimal(s.get(7)),
            ..LineStatus::default()
        };
        let (control, r) = line_facts(svc, |f| push_stc(f, &mut line.statuses));
        line.control = control;
        (line.from, line.to) = (r.map(|x| x.0), r.map(|x| x.1));
        c.lines.push(line);
    }
    c
}

/// A service line loop's (2210, 2220) first REF*FJ line control and first DTP*472 dates
/// (`None` when they do not parse); `stc` is given each STC, split.
fn line_facts<'a, S: From<&'a str> + Default>(
    svc: &Node<'a>,
    mut stc: impl FnMut(&Fields<'a>),
) -> (S, Option<(NaiveDate, NaiveDate)>) {
    let (mut fj, mut dates): (Option<S>, Dates) = (None, None);
    for seg in &svc.segments {
        match seg_pack(seg) {
            ID_STC => stc(&Fields::new(seg)),
            ID_REF => {
                let f = Fields::new(seg);
                if f.get(1) == b"FJ" {
                    first(&mut fj, || text(f.get(2)));
                }
            }
            ID_DTP => {
                let f = Fields::new(seg);
                if f.get(1) == b"472" {
                    first(&mut dates, || dated(f.get(2), f.get(3)));
                }
            }
            _ => {}
        }
    }
    (fj.unwrap_or_default(), dates.flatten())
}

/// The start date of the first DTP with this qualifier in a loop (`None` when it does not parse).
fn dtp_start(node: &Node<'_>, q: &[u8]) -> Option<NaiveDate> {
    node.segments
        .iter()
        .filter(|s| seg_pack(s) == ID_DTP)
        .map(Fields::new)
        .find(|f| f.get(1) == q)
        .and_then(|f| dated(f.get(2), f.get(3)))
        .map(|r| r.0)
}

/// The first child loop with this id and its NM1 party.
fn kid_party<'a, S: From<&'a str> + Default>(node: &Node<'a>, id: &str) -> Option<Party<S>> {
    node.kid(id).map(|n| Party::from_nm1(n.first()))
}

/// The NM1 party of a name loop (`x270::party` with any text).
fn party_of<'a, S: From<&'a str> + Default>(node: Option<&Node<'a>>) -> Party<S> {
    node.map(|n| Party::from_nm1(n.first())).unwrap_or_default()
}

/// Reads the statuses of a built 277 or 277CA tree.
pub fn extract_277(root: &Node<'_>) -> ClaimStatusReport {
    extract_277_as(root)
}

/// [`extract_277`] with the text owned or borrowed from the set.
pub(crate) fn extract_277_as<'a, S: StatusText<'a>>(root: &Node<'a>) -> ClaimStatusReport<S> {
    let ca = root.def.id == "277CA";
    let mut out = ClaimStatusReport { kind: S::fixed(root.def.id), ..ClaimStatusReport::default() };
    if let Some((reference, created, _)) = bht(root) {
        (out.reference, out.created) = (reference, created);
    }
    let none = Party::default();
    for a in root.kids("2000A") {
        if let Some(t) = a.kid("2200A") {
            out.received = dtp_start(t, b"050");
            out.processed = dtp_start(t, b"009");
        }
        let payer = party_of(a.kid("2100A"));
        let above = Above { payer: &payer, receiver: &none, provider: &none, subscriber: None, patient: None };
        for b in a.kids("2000B") {
            let receiver = party_of(b.kid("2100B"));
            let above = Above { receiver: &receiver, ..above };
            for t in b.kids("2200B") {
                out.statuses.push(tracking(t, "receiver", &above, ca));
            }
            for c in b.kids("2000C") {
                let provider = party_of(c.kid("2100C"));
                let above = Above { provider: &provider, ..above };
                for t in c.kids("2200C") {
                    out.statuses.push(tracking(t, "provider", &above, ca));
                }
                for d in c.kids("2000D") {
                    let who = kid_party(d, "2100D");
                    let above = if ca {
                        Above { patient: who.as_ref(), ..above }
                    } else {
                        Above { subscriber: who.as_ref(), ..above }
                    };
                    for t in d.kids("2200D") {
                        out.statuses.push(tracking(t, "claim", &above, ca));
                    }
                    for e in d.kids("2000E") {
                        let patient = kid_party(e, "2100E");
                        let above = Above { patient: patient.as_ref(), ..above };
                        for t in e.kids("2200E") {
                            out.statuses.push(tracking(t, "claim", &above, ca));
                        }
                    }
                }
            }
        }
    }
    out
}

fn inquiry(node: &Node<'_>, base: &StatusInquiry) -> StatusInquiry {
    let mut q = base.clone();
    q.trace = text(Fields::new(node.first()).get(2));
    let (mut ej, mut k1, mut blt, mut t3, mut dates): (Option<Text>, _, _, _, Dates) = (None, None, None, None, None);
    for s in &node.segments {
        match seg_pack(s) {
            ID_REF => {
                let f = Fields::new(s);
                let slot = match f.get(1) {
                    b"EJ" => &mut ej,
                    b"1K" => &mut k1,
                    b"BLT" => &mut blt,
                    _ => continue,
                };
                first(slot, || text(f.get(2)));
            }
            ID_AMT => {
                let f = Fields::new(s);
                if f.get(1) == b"T3" {
                    first(&mut t3, || decimal(f.get(2)));
                }
            }
            ID_DTP => {
                let f = Fields::new(s);
                if f.get(1) == b"472" {
                    first(&mut dates, || dated(f.get(2), f.get(3)));
                }
            }
            _ => {}
        }
    }
    q.claim_id = ej.unwrap_or_default();
    q.payer_claim_id = k1.unwrap_or_default();
    q.bill_type = blt.unwrap_or_default();
    q.charge = t3.flatten();
    if let Some((a, b)) = dates.flatten() {
        q.from = Some(a);
        q.to = Some(b);
    }
    for svc in node.kids("2210") {
        let s = Fields::new(svc.first());
        let (control, r) = line_facts(svc, |_| {});
        q.lines.push(LineInquiry {
            procedure: Procedure::from_composite(s.get(1), s.seg.delimiters().component),
            charge: decimal(s.get(2)),
            units: decimal(s.get(7)),
            control,
            from: r.map(|x| x.0),
            to: r.map(|x| x.1),
        });
    }
    q
}

/// The first DMG of a loop, split.
fn dmg_of<'a>(node: &Node<'a>) -> Option<Fields<'a>> {
    node.segments.iter().find(|s| seg_pack(s) == ID_DMG).map(Fields::new)
}

/// Reads the inquiries of a built 276 tree.
pub fn extract_276(root: &Node<'_>) -> StatusRequest {
    let mut out = StatusRequest::default();
    if let Some((reference, created, time)) = bht(root) {
        (out.reference, out.created, out.time) = (reference, created, time);
    }
    for a in root.kids("2000A") {
        let payer = party(a.kid("2100A"));
        for b in a.kids("2000B") {
            let receiver = party(b.kid("2100B"));
            for c in b.kids("2000C") {
                let provider = party(c.kid("2100C"));
                for d in c.kids("2000D") {
                    let dmg = dmg_of(d);
                    let base = StatusInquiry {
                        payer: payer.clone(),
                        receiver: receiver.clone(),
                        provider: provider.clone(),
                        subscriber: party(d.kid("2100D")),
                        subscriber_birth_date: dmg.and_then(|x| date8(x.get(2))),
                        subscriber_gender: dmg.map(|x| text(x.get(3))).unwrap_or_default(),
                        ..StatusInquiry::default()
                    };
                    for t in d.kids("2200D") {
                        out.inquiries.push(inquiry(t, &base));
                    }
                    for e in d.kids("2000E") {
                        let mut dep = base.clone();
                        dep.dependent = kid_party(e, "2100E");
                        dep.dependent_birth_date = dmg_of(e).and_then(|x| date8(x.get(2)));
                        for t in e.kids("2200E") {
                            out.inquiries.push(inquiry(t, &dep));
                        }
                    }
                }
            }
        }
    }
    out
}

// ---------------------------------------------------------------------------------------------
// Validation

/// One status composite of an STC (STC01, STC10 or STC11), split once: the text of its
/// category code, status code and entity (each as `text` of its bytes reads it), the category
/// (`StatusCategory::from_code` of the first) and whether the status code's bytes are empty.
#[derive(Clone, Copy)]
struct Composite<'a> {
    text: [&'a str; 3],
    category: StatusCategory,
    no_code: bool,
}

/// Element `el` of an STC as a status composite, `None` when it is empty.
fn composite<'a>(f: &Fields<'a>, el: usize) -> Option<Composite<'a>> {
    if f.get(el).is_empty() {
        return None;
    }
    // Each piece's bytes, and its text as `from_utf8` of them reads it (sliced from the set's
    // text when known).
    let mut parts = f.components(el, f.seg.delimiters().component);
    let (_, category_code) = parts.next().unwrap_or((b"", ""));
    let (code, code_text) = parts.next().unwrap_or((b"", ""));
    let (_, entity) = parts.next().unwrap_or((b"", ""));
    Some(Composite {
        text: [category_code, code_text, entity],
        category: StatusCategory::from_code(category_code),
        no_code: code.is_empty(),
    })
}

/// What an STC gives each of its statuses, parsed once: STC02, STC04, STC05, STC06 and STC08
/// (`date8` and `decimal` of each, `None` when absent), and its status composites.
#[derive(Clone, Copy)]
struct StcValues<'a> {
    date: Option<NaiveDate>,
    charge: Option<Decimal>,
    paid: Option<Decimal>,
    adjudicated: Option<NaiveDate>,
    check_date: Option<NaiveDate>,
    composites: [Option<Composite<'a>>; 3],
}

/// The checks of an STC, with the dates and amounts they parsed (`None` when STC01 is missing
/// and the rest is not checked).
fn check_stc<'a>(c: &mut Checks<'_>, f: &Fields<'a>, lid: &'static str) -> Option<StcValues<'a>> {
    if !c.required(f, lid, 1) {
        return None;
    }
    let seg = &f.seg;
    let composites = [composite(f, 1), composite(f, 10), composite(f, 11)];
    for (el, k) in [1usize, 10, 11].into_iter().zip(&composites) {
        let Some(k) = k else { continue };
        if k.category == StatusCategory::Unknown {
            c.issues.push(Issue::element(
                seg,
                c.set_start,
                Some(lid),
                el as u16,
                Some(1),
                IssueCode::InvalidCode,
                format!("invalid claim status category code in STC{el:02}-1"),
            ));
        }
        if k.no_code {
            c.issues.push(Issue::element(
                seg,
                c.set_start,
                Some(lid),
                el as u16,
                Some(2),
                IssueCode::RequiredElementMissing,
                format!("claim status code missing in STC{el:02}-2"),
            ));
        }
    }
    let date = c.date(f, lid, 2);
    let charge = c.decimal(f, lid, 4);
    let paid = c.decimal(f, lid, 5);
    let adjudicated = c.date(f, lid, 6);
    let check_date = c.date(f, lid, 8);
    Some(StcValues { date, charge, paid, adjudicated, check_date, composites })
}

/// What the checks of a segment parsed, handed on so the model does not parse it again.
enum Parsed<'a> {
    Nothing,
    Stc(StcValues<'a>),
    /// SVC02, SVC03 and SVC07.
    Svc([Option<Decimal>; 3]),
    /// A DTP's dates (`dated` of DTP02 and DTP03).
    Dates(Option<(NaiveDate, NaiveDate)>),
}

impl Parsed<'_> {
    /// `dated` of a DTP's DTP02 and DTP03, from its checks when they parsed them.
    #[inline]
    fn dates(&self, f: &Fields<'_>) -> Option<(NaiveDate, NaiveDate)> {
        match self {
            Parsed::Dates(d) => *d,
            _ => dated(f.get(2), f.get(3)),
        }
    }
}

/// The element checks of one segment of a 276, 277 or 277CA in loop `lid` (every segment
/// goes through them), with what they parsed.
fn check_segment<'a>(c: &mut Checks<'_>, lid: &'static str, f: &Fields<'a>) -> Parsed<'a> {
    let id = pack_id(f.id);
    if id == ID_DTP {
        // What `check_common` does with a DTP, keeping the dates its check parsed
        // (`Checks::dtp` gives `dated` of DTP02 and DTP03 whatever it reports).
        return Parsed::Dates(c.dtp(f, lid));
    }
    if check_common(c, f, lid) {
        return Parsed::Nothing;
    }
    match id {
        ID_STC => {
            if let Some(v) = check_stc(c, f, lid) {
                return Parsed::Stc(v);
            }
        }
        ID_SVC => {
            c.required(f, lid, 1);
            check_procedure(c, f, lid, 1);
            let charge = c.decimal(f, lid, 2);
            let paid = c.decimal(f, lid, 3);
            let units = c.decimal(f, lid, 7);
            return Parsed::Svc([charge, paid, units]);
        }
        ID_AMT | ID_QTY => {
            c.required(f, lid, 1);
            c.req_decimal(f, lid, 2);
        }
        _ => {}
    }
    Parsed::Nothing
}

/// The checks of the set's (first) BHT.
fn check_bht(c: &mut Checks<'_>, set: &'static str, bht: &Fields<'_>) {
    match set {
        "276" => {
            c.code(bht, set, 1, &["0010"]);
            c.code(bht, set, 2, &["13"]);
        }
        "277" => {
            c.code(bht, set, 1, &["0010"]);
            c.code(bht, set, 2, &["08"]);
            c.code(bht, set, 6, &["DG"]);
        }
        _ => {
            c.code(bht, set, 1, &["0085"]);
            c.code(bht, set, 2, &["08"]);
            c.code(bht, set, 6, &["TH"]);
        }
    }
    c.required(bht, set, 3);
    c.required(bht, set, 4);
    c.date(bht, set, 4);
}

/// Whether a loop of set `set` must carry an STC: every status tracking loop of a response
/// (in a 277CA the provider level 2200C carries STC only when the provider is rejected).
fn needs_stc(set: &str, lid: &str) -> bool {
    match set {
        "276" => false,
        "277" => lid.starts_with("22"),
        _ => matches!(lid, "2200B" | "2200D"),
    }
}

/// Implementation-guide (SNIP 2) checks over a built 276, 277 or 277CA tree.
pub fn validate(root: &Node<'_>, set_start: u64, issues: &mut Vec<Issue>) {
    check_usage(root, set_start, issues);
    let set = root.def.id;
    let mut c = Checks::new(set_start, issues);
    if let Some(bht) = root.seg("BHT") {
        check_bht(&mut c, set, &Fields::new(bht));
    }
    root.walk(&mut |n: &Node<'_>| {
        let lid = n.def.id;
        for seg in &n.segments {
            check_segment(&mut c, lid, &Fields::new(seg));
        }
        // Every status tracking loop of a response carries at least one STC.
        if needs_stc(set, lid) && n.seg("STC").is_none() {
            c.issues.push(Issue::missing_segment(Some(n.first()), set_start, lid, "STC"));
        }
    });
}

/// Builds, validates and extracts one 276 set from its segments (ST..SE).
pub fn parse_276<'a>(segments: impl IntoIterator<Item = SegmentRef<'a>>, issues: &mut Vec<Issue>) -> StatusRequest {
    let mut segs = segments.into_iter().peekable();
    let start = segs.peek().map(|s| s.index()).unwrap_or(1);
    let root = build(&SCHEMA_276, segs, issues);
    validate(&root, start, issues);
    extract_276(&root)
}

/// Builds, validates and extracts one 277 (`ca = false`) or 277CA set from its segments.
pub fn parse_277<'a>(
    segments: impl IntoIterator<Item = SegmentRef<'a>>,
    ca: bool,
    issues: &mut Vec<Issue>,
) -> ClaimStatusReport {
    let mut segs = segments.into_iter().peekable();
    let start = segs.peek().map(|s| s.index()).unwrap_or(1);
    let root = build(if ca { &SCHEMA_277CA } else { &SCHEMA_277 }, segs, issues);
    validate(&root, start, issues);
    extract_277(&root)
}

// ---------------------------------------------------------------------------------------------
// One pass (277, 277CA)

/// Reads one 277 (`ca = false`) or 277CA set and checks it (the checks of [`validate`]) in one
/// pass over its segments, as they are placed in their loops: no loop tree is built, and each
/// segment is split once for both. Issues are exactly those of [`validate`] over the tree from
/// `tree::build`, in its order: the pass only decides whether there are any, and when there
/// are (or usage needs the full walk) the tree is built and checked for them. The report is
/// exactly [`extract_277`] of that tree. With `extract` false the report is left empty (what
/// `validate_set` needs).
pub(crate) fn read_277<'a, S: StatusText<'a>>(
    set: &'a x12::OwnedSet,
    ca: bool,
    extract: bool,
    issues: &mut Vec<Issue>,
) -> ClaimStatusReport<S> {
    let whole = crate::values::set_text(set, extract);
    read_277_segments(|| set.segments(), whole, &set.bytes, set.segment, ca, extract, issues)
}

/// [`read_277`] over the segments `segments` yields (once more when there are issues, and once
/// more when the statuses are not in the tree's order); `whole` is the set's text when it is UTF-8 (element text
/// is then sliced from it), `backing` its bytes (segments are split in place; empty for
/// segments from elsewhere), `set_start` the file segment number of the ST.
pub(crate) fn read_277_segments<'a, S: StatusText<'a>, I: IntoIterator<Item = SegmentRef<'a>>>(
    segments: impl Fn() -> I,
    whole: Option<&'a str>,
    backing: &'a [u8],
    set_start: u64,
    ca: bool,
    extract: bool,
    issues: &mut Vec<Issue>,
) -> ClaimStatusReport<S> {
    let root = if ca { &SCHEMA_277CA } else { &SCHEMA_277 };
    let mut found = Vec::new();
    let pass = Pass::new(root, set_start, &mut found, extract, whole, backing);
    match one_pass(root, pass, &segments, set_start, validate, issues) {
        Some(report) => report,
        // The statuses came in another order than the tree lists them: read from the tree.
        None => extract_277_as(&build(root, segments(), &mut Vec::new())),
    }
}

const K_2000A: u64 = loop_key("2000A");
const K_2100A: u64 = loop_key("2100A");
const K_2200A: u64 = loop_key("2200A");
const K_2000B: u64 = loop_key("2000B");
const K_2100B: u64 = loop_key("2100B");
const K_2200B: u64 = loop_key("2200B");
const K_2000C: u64 = loop_key("2000C");
const K_2100C: u64 = loop_key("2100C");
const K_2200C: u64 = loop_key("2200C");
const K_2000D: u64 = loop_key("2000D");
const K_2100D: u64 = loop_key("2100D");
const K_2200D: u64 = loop_key("2200D");
const K_2000E: u64 = loop_key("2000E");
const K_2100E: u64 = loop_key("2100E");
const K_2200E: u64 = loop_key("2200E");
const K_2220: u64 = loop_key("2220");

/// One open HL level (2000A to 2000E) as the pass reads it: where its statuses start in the
/// report, its first name loop's party once seen (`kid("2100x")`), and whether a nested HL
/// level has opened in it (a status tracking loop after that would be listed by the tree
/// before statuses that came earlier in the file).
#[derive(Default)]
struct Level<S> {
    from: usize,
    /// The party (default until `named`).
    party: Party<S>,
    named: bool,
    nested: bool,
}

impl<S: Clone + Default> Level<S> {
    fn open(&mut self, from: usize) {
        (self.from, self.named, self.nested) = (from, false, false);
        self.party = Party::default();
    }

    /// The party as `kid_party` reads it.
    fn named(&self) -> Option<Party<S>> {
        self.named.then(|| self.party.clone())
    }
}

/// The state of one pass over a 277 or 277CA set (see [`read_277`]). "First" below means what
/// `Node::seg`, `seg_q` and `kid` find: the first occurrence within the loop occurrence.
struct Pass<'i, 'a, S> {
    r: Reading<'i, 'a>,
    set: &'static str,
    ca: bool,
    root_key: u64,
    /// A rule the checks do not report failed (a tracking loop without its STC): the tree
    /// decides the issues.
    doubt: bool,
    /// A status tracking loop came after a nested HL level of its own level: the tree orders
    /// the statuses otherwise, so the report is read from the tree.
    disorder: bool,
    out: ClaimStatusReport<S>,
    /// Root: the first BHT seen.
    bht: bool,
    /// The open HL levels 2000A to 2000E.
    a: Level<S>,
    b: Level<S>,
    c: Level<S>,
    d: Level<S>,
    e: Level<S>,
    /// 2000A: its first 2200A seen; the open 2200A is that first one; its first DTP*050 and
    /// DTP*009 start dates.
    a_2200a: bool,
    first_2200a: bool,
    d050: Option<Option<NaiveDate>>,
    d009: Option<Option<NaiveDate>>,
    /// The open status tracking loop (2200B to 2200E): first REF*EJ, *1K, *D9, *BLT and
    /// DTP*472 seen, its dates, an STC seen.
    ej: bool,
    k1: bool,
    d9: bool,
    blt: bool,
    t472: bool,
    dates: Option<(NaiveDate, NaiveDate)>,
    stc: bool,
    /// The open service line (2220): first REF*FJ and DTP*472 seen, an STC seen.
    fj: bool,
    l472: bool,
    line_stc: bool,
}

impl<'i, 'a, S: StatusText<'a>> Pass<'i, 'a, S> {
    fn new(
        root: &'static LoopDef,
        set_start: u64,
        issues: &'i mut Vec<Issue>,
        extract: bool,
        whole: Option<&'a str>,
        backing: &'a [u8],
    ) -> Pass<'i, 'a, S> {
        let mut out = ClaimStatusReport { kind: S::fixed(root.id), ..ClaimStatusReport::default() };
        if extract {
            // A status answer with its line takes 300 bytes or so (`claims_in` assumes claims of
            // 512 or more): sized at one per 256 bytes, so the list does not grow and move; at
            // most 65,536 up front (~50 MiB), past which a huge set's list grows as usual.
            out.statuses.reserve((backing.len() / 256).min(1 << 16));
        }
        Pass {
            r: Reading::new(set_start, issues, extract, whole, backing),
            set: root.id,
            ca: root.id == "277CA",
            root_key: loop_key(root.id),
            doubt: false,
            disorder: false,
            out,
            bht: false,
            a: Level::default(),
            b: Level::default(),
            c: Level::default(),
            d: Level::default(),
            e: Level::default(),
            a_2200a: false,
            first_2200a: false,
            d050: None,
            d009: None,
            ej: false,
            k1: false,
            d9: false,
            blt: false,
            t472: false,
            dates: None,
            stc: false,
            fj: false,
            l472: false,
            line_stc: false,
        }
    }

    /// The first name loop of an HL level: its party goes to the statuses read under that
    /// level so far, and to those read later as they open.
    fn party(&mut self, key: u64, f: &Fields<'a>) {
        let ca = self.ca;
        let level = match key {
            K_2100A => &mut self.a,
            K_2100B => &mut self.b,
            K_2100C => &mut self.c,
            K_2100D => &mut self.d,
            _ => &mut self.e,
        };
        if std::mem::replace(&mut level.named, true) {
            return;
        }
        nm1_into(&mut level.party, f);
        let p = &level.party;
        for st in &mut self.out.statuses[level.from..] {
            match key {
                K_2100A => st.payer.clone_from(p),
                K_2100B => st.receiver.clone_from(p),
                K_2100C => st.provider.clone_from(p),
                K_2100D if !ca => st.subscriber = Some(p.clone()),
                _ => st.patient = Some(p.clone()),
            }
        }
    }

    /// A status tracking loop opens (its TRN): a status answer with the parties known so far.
    fn tracking(&mut self, key: u64, f: &Fields<'a>) {
        (self.ej, self.k1, self.d9, self.blt, self.t472, self.dates, self.stc) =
            (false, false, false, false, false, None, false);
        let (level, nested) = match key {
            K_2200B => (S::RECEIVER, self.b.nested),
            K_2200C => (S::PROVIDER, self.c.nested),
            K_2200D => (S::CLAIM, self.d.nested),
            _ => (S::CLAIM, false),
        };
        self.disorder |= nested;
        if !self.r.extract {
            return;
        }
        // Written in place (see `push_stc_with`).
        self.out.statuses.push(ClaimStatus::default());
        let Some(st) = self.out.statuses.last_mut() else { return };
        st.level = level;
        st.payer.clone_from(&self.a.party);
        st.receiver.clone_from(&self.b.party);
        st.trace.push(f.str(2));
        if key != K_2200B {
            st.provider.clone_from(&self.c.party);
        }
        match key {
            K_2200D if self.ca => st.patient = self.d.named(),
            K_2200D => st.subscriber = self.d.named(),
            K_2200E => {
                st.subscriber = self.d.named();
                st.patient = self.e.named();
            }
            _ => {}
        }
    }

    /// What a segment of a status tracking loop gives its status.
    fn tracking_segment(&mut self, id: u32, f: &Fields<'a>, parsed: &Parsed<'a>) {
        let Some(st) = self.out.statuses.last_mut() else { return };
        match id {
            ID_STC => match parsed {
                Parsed::Stc(v) => push_stc_with(f, v, &mut st.statuses),
                _ => push_stc(f, &mut st.statuses),
            },
            ID_REF => {
                let (seen, slot) = match f.get(1) {
                    b"EJ" => (&mut self.ej, &mut st.claim_id),
                    b"1K" => (&mut self.k1, &mut st.payer_claim_id),
                    b"D9" => (&mut self.d9, &mut st.clearinghouse_trace),
                    b"BLT" => (&mut self.blt, &mut st.bill_type),
                    _ => return,
                };
                if !std::mem::replace(seen, true) {
                    slot.put(f.str(2));
                }
            }
            ID_DTP if !self.t472 && f.get(1) == b"472" => {
                self.t472 = true;
                self.dates = parsed.dates(f);
            }
            _ => {}
        }
    }

    /// A service line opens (its SVC) in the open status tracking loop.
    fn line(&mut self, f: &Fields<'a>, parsed: &Parsed<'a>) {
        (self.fj, self.l472, self.line_stc) = (false, false, false);
        if !self.r.extract {
            return;
        }
        let Some(st) = self.out.statuses.last_mut() else { return };
        let [charge, paid, units] = match parsed {
            Parsed::Svc(a) => *a,
            _ => [decimal(f.get(2)), decimal(f.get(3)), decimal(f.get(7))],
        };
        if st.lines.is_empty() {
            // Most answers carry one line (as `tracking` reserves them exactly).
            st.lines.reserve_exact(1);
        }
        st.lines.push(LineStatus::default());
        let Some(line) = st.lines.last_mut() else { return };
        (line.charge, line.paid, line.units) = (charge, paid, units);
        // `Procedure::from_fields`, written in place.
        let p = &mut line.procedure;
        let mut parts = f.components(1, f.seg.delimiters().component);
        p.qualifier.push(parts.next().map_or("", |x| x.1));
        p.code.push(parts.next().map_or("", |x| x.1));
        p.modifiers.extend(parts.take(4).filter(|m| !m.0.is_empty()).map(|m| S::from(m.1)));
    }

    /// What a segment of a service line gives it.
    fn line_segment(&mut self, id: u32, f: &Fields<'a>, parsed: &Parsed<'a>) {
        let Some(line) = self.out.statuses.last_mut().and_then(|st| st.lines.last_mut()) else { return };
        match id {
            ID_STC => match parsed {
                Parsed::Stc(v) => push_stc_with(f, v, &mut line.statuses),
                _ => push_stc(f, &mut line.statuses),
            },
            ID_REF if !self.fj && f.get(1) == b"FJ" => {
                self.fj = true;
                line.control.put(f.str(2));
            }
            ID_DTP if !self.l472 && f.get(1) == b"472" => {
                self.l472 = true;
                let r = parsed.dates(f);
                (line.from, line.to) = (r.map(|x| x.0), r.map(|x| x.1));
            }
            _ => {}
        }
    }
}

impl<'a, S: StatusText<'a>> OnePass<'a> for Pass<'_, 'a, S> {
    /// `None` when the statuses must be read from the tree.
    type Model = Option<ClaimStatusReport<S>>;

    /// The report read, and whether nothing was found and every rule held.
    fn finish(self) -> (Option<ClaimStatusReport<S>>, bool) {
        let clean = !self.doubt && self.r.c.issues.is_empty();
        ((!self.disorder || !self.r.extract).then_some(self.out), clean)
    }
}

impl<'a, S: StatusText<'a>> Sink<'a> for Pass<'_, 'a, S> {
    #[inline]
    fn segment(&mut self, def: &'static LoopDef, key: u64, id: u32, seg: &SegmentRef<'a>, opens: bool) {
        // Every segment goes through the checks, as the tree validator's walk does.
        let f = self.r.split(seg);
        let parsed = check_segment(&mut self.r.c, def.id, &f);
        if id == ID_BHT && key == self.root_key && !std::mem::replace(&mut self.bht, true) {
            check_bht(&mut self.r.c, self.set, &f);
            if self.r.extract {
                (self.out.reference, self.out.created) = (f.text(3), date8(f.get(4)));
            }
            return;
        }
        let from = self.out.statuses.len();
        match key {
            K_2000A if opens => {
                self.a.open(from);
                self.a_2200a = false;
            }
            K_2000B if opens => {
                self.a.nested = true;
                self.b.open(from);
            }
            K_2000C if opens => {
                self.b.nested = true;
                self.c.open(from);
            }
            K_2000D if opens => {
                self.c.nested = true;
                self.d.open(from);
            }
            K_2000E if opens => {
                self.d.nested = true;
                self.e.open(from);
            }
            K_2100A | K_2100B | K_2100C | K_2100D | K_2100E if opens && self.r.extract => self.party(key, &f),
            K_2200A if opens => {
                self.first_2200a = !std::mem::replace(&mut self.a_2200a, true);
                (self.d050, self.d009) = (None, None);
            }
            K_2200A if self.first_2200a && id == ID_DTP => {
                let slot = match f.get(1) {
                    b"050" => &mut self.d050,
                    b"009" => &mut self.d009,
                    _ => return,
                };
                if slot.is_none() {
                    *slot = Some(parsed.dates(&f).map(|r| r.0));
                }
            }
            K_2200B | K_2200C | K_2200D | K_2200E => {
                if opens {
                    self.tracking(key, &f);
                } else {
                    self.stc |= id == ID_STC;
                    if self.r.extract {
                        self.tracking_segment(id, &f, &parsed);
                    }
                }
            }
            K_2220 => {
                if opens {
                    self.line(&f, &parsed);
                } else {
                    self.line_stc |= id == ID_STC;
                    if self.r.extract {
                        self.line_segment(id, &f, &parsed);
                    }
                }
            }
            _ => {}
        }
    }

    fn close(&mut self, def: &'static LoopDef, key: u64) {
        match key {
            K_2200A if self.first_2200a && self.r.extract => {
                self.out.received = self.d050.flatten();
                self.out.processed = self.d009.flatten();
            }
            K_2200B | K_2200C | K_2200D | K_2200E => {
                self.doubt |= !self.stc && needs_stc(self.set, def.id);
                if !self.r.extract {
                    return;
                }
                let (ca, dates) = (self.ca, self.dates);
                let Some(st) = self.out.statuses.last_mut() else { return };
                st.category = st.statuses.first().map(|s| s.category).unwrap_or_default();
                if st.claim_id.as_ref().is_empty() && ca && st.level.as_ref() == "claim" {
                    st.claim_id = st.trace.clone();
                }
                if let Some((a, b)) = dates {
                    (st.from, st.to) = (Some(a), Some(b));
                }
            }
            K_2220 => self.doubt |= !self.line_stc && needs_stc(self.set, def.id),
            _ => {}
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Building

fn dtp472(from: Option<NaiveDate>, to: Option<NaiveDate>) -> Option<Segment> {
    match (from, to) {
        (Some(a), Some(b)) if a != b => {
            Some(Segment::new("DTP", ["472".to_string(), "RD8".into(), format!("{}-{}", d8(a), d8(b))]))
        }
        (Some(a), _) => Some(Segment::new("DTP", ["472".to_string(), "D8".into(), d8(a)])),
        _ => None,
    }
}

/// The body of a 276 (BHT through the last inquiry; ST and SE are the writer's), one
/// information source loop per inquiry.
pub fn build_276(r: &StatusRequest) -> Vec<Segment> {
    let mut out = vec![Segment::new(
        "BHT",
        ["0010".to_string(), "13".into(), r.reference.to_string(), opt_d8(r.created), r.time.to_string()],
    )];
    let mut n = 0;
    for q in &r.inquiries {
        let a = n + 1;
        out.push(hl(a, 0, "20", true));
        out.push(nm1(&q.payer));
        out.push(hl(a + 1, a, "21", true));
        out.push(nm1(&q.receiver));
        out.push(hl(a + 2, a + 1, "19", true));
        out.push(nm1(&q.provider));
        out.push(hl(a + 3, a + 2, "22", q.dependent.is_some()));
        n = a + 3;
        if let Some(b) = q.subscriber_birth_date {
            out.push(Segment::new("DMG", ["D8".to_string(), d8(b), q.subscriber_gender.to_string()]));
        }
        out.push(nm1(&q.subscriber));
        if let Some(dep) = &q.dependent {
            n += 1;
            out.push(hl(n, n - 1, "23", false));
            if let Some(b) = q.dependent_birth_date {
                out.push(Segment::new("DMG", ["D8".to_string(), d8(b)]));
            }
            out.push(nm1(dep));
        }
        out.push(Segment::new("TRN", ["1", &q.trace]));
        for (qual, v) in [("BLT", &q.bill_type), ("1K", &q.payer_claim_id), ("EJ", &q.claim_id)] {
            if !v.is_empty() {
                out.push(Segment::new("REF", [qual, v.as_str()]));
            }
        }
        if let Some(c) = q.charge {
            out.push(Segment::new("AMT", ["T3".to_string(), c.to_string()]));
        }
        out.extend(dtp472(q.from, q.to));
        for line in &q.lines {
            out.push(Segment {
                id: "SVC".into(),
                elements: vec![
                    procedure_element(&line.procedure),
                    line.charge.map(|c| c.to_string()).unwrap_or_default().into(),
                    Element::default(),
                    Element::default(),
                    Element::default(),
                    Element::default(),
                    line.units.map(|u| u.to_string()).unwrap_or_default().into(),
                ],
            });
            if !line.control.is_empty() {
                out.push(Segment::new("REF", ["FJ", line.control.as_str()]));
            }
            out.extend(dtp472(line.from, line.to));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn categories() {
        assert_eq!(StatusCategory::from_code("A7"), StatusCategory::Rejected);
        assert_eq!(StatusCategory::from_code("P1"), StatusCategory::Pending);
        assert_eq!(StatusCategory::from_code("F2"), StatusCategory::Denied);
        assert_eq!(StatusCategory::from_code("F4"), StatusCategory::NoPayment);
        assert_eq!(StatusCategory::from_code("R16"), StatusCategory::RequestForInformation);
        assert_eq!(StatusCategory::from_code("R17"), StatusCategory::Unknown);
        assert_eq!(StatusCategory::from_code("E0"), StatusCategory::Error);
        assert_eq!(StatusCategory::from_code("P9"), StatusCategory::Unknown);
    }
}
