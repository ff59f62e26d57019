//! 276 claim status request and 277 response, 005010X212; 277CA claim acknowledgment,
//! 005010X214.
//!
//! A 277 and a 277CA both become a [`ClaimStatusReport`]: one [`ClaimStatus`] per status the
//! payer gave (for the information receiver, a provider, or a claim), each with its STC
//! statuses classified into a [`StatusCategory`] so callers act on the class (fix and resubmit,
//! wait, expect an 835, send records) rather than on raw codes. A 276 is read into the same
//! [`StatusRequest`] model that [`build_276`] writes from.

use crate::common::{Party, Procedure, Text};
use crate::issue::{Issue, IssueCode};
use crate::tree::{build, check_usage, pack_id, seg_pack, LoopDef, Node, SegSpec, Trigger};
use crate::tree::{l, s};
use crate::values::{components, date8, dated, decimal, text, Checks, Fields};
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
#[derive(Clone, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Status {
    /// Category code (A7, P1, F2 ...), its class and its meaning.
    pub category_code: Text,
    pub category: StatusCategory,
    pub meaning: Text,
    /// Status code (code source 508) and entity identifier (code source 237) when given.
    pub code: Text,
    pub entity: Text,
    /// STC02 status information effective date.
    pub date: Option<NaiveDate>,
    /// STC04 total charge and STC05 payment.
    pub charge: Option<Decimal>,
    pub paid: Option<Decimal>,
    /// STC06 adjudication or payment date, STC08 check date, STC09 check number.
    pub adjudicated: Option<NaiveDate>,
    pub check_date: Option<NaiveDate>,
    pub check_number: Text,
}

/// One service line status (2220D/2220E).
#[derive(Clone, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct LineStatus {
    pub procedure: Procedure,
    pub charge: Option<Decimal>,
    pub paid: Option<Decimal>,
    pub units: Option<Decimal>,
    /// REF*FJ line item control number.
    pub control: Text,
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
    pub statuses: Vec<Status>,
}

/// One status answer: about a claim, or about the whole receiver or provider level.
#[derive(Clone, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ClaimStatus {
    /// `receiver`, `provider` or `claim`.
    pub level: Text,
    pub payer: Party,
    pub receiver: Party,
    pub provider: Party,
    pub subscriber: Option<Party>,
    pub patient: Option<Party>,
    /// TRN02.
    pub trace: Text,
    /// The practice's claim id: REF*EJ, else (277CA, where TRN02 carries CLM01) the trace.
    pub claim_id: Text,
    /// REF*1K payer claim control number, REF*D9 clearinghouse trace, REF*BLT bill type.
    pub payer_claim_id: Text,
    pub clearinghouse_trace: Text,
    pub bill_type: Text,
    /// The class of the first status, the one that decides what to do.
    pub category: StatusCategory,
    pub statuses: Vec<Status>,
    /// DTP*472 service dates (claim level).
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
    pub lines: Vec<LineStatus>,
}

impl ClaimStatus {
    /// The first status (STC01 of the first STC).
    pub fn primary(&self) -> Option<&Status> {
        self.statuses.first()
    }
}

/// A parsed 277 or 277CA transaction set.
#[derive(Clone, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ClaimStatusReport {
    /// `277` or `277CA`.
    pub kind: Text,
    pub reference: Text,
    pub created: Option<NaiveDate>,
    /// DTP*050 received and DTP*009 process date (277CA 2200A).
    pub received: Option<NaiveDate>,
    pub processed: Option<NaiveDate>,
    pub statuses: Vec<ClaimStatus>,
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
fn bht(root: &Node<'_>) -> Option<(Text, Option<NaiveDate>, Text)> {
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
fn push_stc(f: &Fields<'_>, out: &mut Vec<Status>) {
    let comp = f.seg.delimiters().component;
    let (date, charge, paid) = (date8(f.get(2)), decimal(f.get(4)), decimal(f.get(5)));
    let (adjudicated, check_date) = (date8(f.get(6)), date8(f.get(8)));
    let number = f.get(9);
    for el in [1usize, 10, 11] {
        let v = f.get(el);
        if v.is_empty() {
            continue;
        }
        let mut parts = components(v, comp);
        let category_code: Text = text(parts.next().unwrap_or(b""));
        let code = text(parts.next().unwrap_or(b""));
        let entity = text(parts.next().unwrap_or(b""));
        out.push(Status {
            category: StatusCategory::from_code(&category_code),
            meaning: Text::const_new(StatusCategory::meaning(&category_code)),
            category_code,
            code,
            entity,
            date,
            charge,
            paid,
            adjudicated,
            check_date,
            check_number: text(number),
        });
    }
}

/// The parties a status answer carries, borrowed from the loops above it.
#[derive(Clone, Copy)]
struct Above<'p> {
    payer: &'p Party,
    receiver: &'p Party,
    provider: &'p Party,
    subscriber: Option<&'p Party>,
    patient: Option<&'p Party>,
}

fn tracking(node: &Node<'_>, level: &'static str, above: &Above<'_>, ca: bool) -> ClaimStatus {
    let mut c = ClaimStatus {
        level: Text::const_new(level),
        payer: above.payer.clone(),
        receiver: above.receiver.clone(),
        provider: above.provider.clone(),
        subscriber: above.subscriber.cloned(),
        patient: above.patient.cloned(),
        trace: text(Fields::new(node.first()).get(2)),
        ..ClaimStatus::default()
    };
    let (mut ej, mut k1, mut d9, mut blt, mut dates): (Option<Text>, _, _, _, Dates) = (None, None, None, None, None);
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
    if c.claim_id.is_empty() && ca && level == "claim" {
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
fn line_facts(svc: &Node<'_>, mut stc: impl FnMut(&Fields<'_>)) -> (Text, Option<(NaiveDate, NaiveDate)>) {
    let (mut fj, mut dates): (Option<Text>, Dates) = (None, None);
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
fn kid_party(node: &Node<'_>, id: &str) -> Option<Party> {
    node.kid(id).map(|n| Party::from_nm1(n.first()))
}

/// Reads the statuses of a built 277 or 277CA tree.
pub fn extract_277(root: &Node<'_>) -> ClaimStatusReport {
    let ca = root.def.id == "277CA";
    let mut out = ClaimStatusReport { kind: root.def.id.into(), ..ClaimStatusReport::default() };
    if let Some((reference, created, _)) = bht(root) {
        (out.reference, out.created) = (reference, created);
    }
    let none = Party::default();
    for a in root.kids("2000A") {
        if let Some(t) = a.kid("2200A") {
            out.received = dtp_start(t, b"050");
            out.processed = dtp_start(t, b"009");
        }
        let payer = party(a.kid("2100A"));
        let above = Above { payer: &payer, receiver: &none, provider: &none, subscriber: None, patient: None };
        for b in a.kids("2000B") {
            let receiver = party(b.kid("2100B"));
            let above = Above { receiver: &receiver, ..above };
            for t in b.kids("2200B") {
                out.statuses.push(tracking(t, "receiver", &above, ca));
            }
            for c in b.kids("2000C") {
                let provider = party(c.kid("2100C"));
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

fn known_category(code: &[u8]) -> bool {
    std::str::from_utf8(code).is_ok_and(|c| StatusCategory::from_code(c) != StatusCategory::Unknown)
}

fn check_stc(c: &mut Checks<'_>, f: &Fields<'_>, lid: &'static str) {
    if !c.required(f, lid, 1) {
        return;
    }
    let seg = &f.seg;
    let comp = seg.delimiters().component;
    for el in [1usize, 10, 11] {
        let v = f.get(el);
        if v.is_empty() {
            continue;
        }
        let mut parts = x12::components(v, comp);
        let cat = parts.next().unwrap_or(b"");
        let code = parts.next().unwrap_or(b"");
        if !known_category(cat) {
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
        if code.is_empty() {
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
    c.date(f, lid, 2);
    c.decimal(f, lid, 4);
    c.decimal(f, lid, 5);
    c.date(f, lid, 6);
    c.date(f, lid, 8);
}

/// Implementation-guide (SNIP 2) checks over a built 276, 277 or 277CA tree.
pub fn validate(root: &Node<'_>, set_start: u64, issues: &mut Vec<Issue>) {
    check_usage(root, set_start, issues);
    let set = root.def.id;
    let mut c = Checks::new(set_start, issues);
    if let Some(bht) = root.seg("BHT") {
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
    root.walk(&mut |n: &Node<'_>| {
        let lid = n.def.id;
        for seg in &n.segments {
            let seg = &Fields::new(seg);
            if check_common(&mut c, seg, lid) {
                continue;
            }
            match pack_id(seg.id) {
                ID_STC => check_stc(&mut c, seg, lid),
                ID_SVC => {
                    c.required(seg, lid, 1);
                    check_procedure(&mut c, seg, lid, 1);
                    c.decimal(seg, lid, 2);
                    c.decimal(seg, lid, 3);
                    c.decimal(seg, lid, 7);
                }
                ID_AMT | ID_QTY => {
                    c.required(seg, lid, 1);
                    c.req_decimal(seg, lid, 2);
                }
                _ => {}
            }
        }
        // Every status tracking loop of a response carries at least one STC.
        // (In a 277CA the provider level 2200C carries STC only when the provider is rejected.)
        let needs_stc = match set {
            "276" => false,
            "277" => lid.starts_with("22"),
            _ => matches!(lid, "2200B" | "2200D"),
        };
        if needs_stc && n.seg("STC").is_none() {
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
