//! 278 health care services review, request and response, 005010X217.
//!
//! Both directions share one loop schema and one model ([`Review`]): a request carries the
//! patient events and services asked for, a response adds the payer's certification (HCR) and
//! numbers, and [`Review::authorizations`] holds the typed answers ([`Authorization`]) when the
//! set is a response (BHT02 `11`). [`build_278`] writes a request from the same model, so a
//! generated request parses back to the value it was built from.

use crate::common::{Party, Procedure, Text};
use crate::issue::Issue;
use crate::tree::{build, check_usage, pack_id, seg_pack, LoopDef, Node, SegSpec, Trigger};
use crate::tree::{l, s};
use crate::values::{components, date8, dated, decimal, text, Checks, Fields};
use crate::x270::{
    aaa_errors, check_common, check_procedure, d8, dmg, hl, nm1, opt_d8, party, procedure_element, request_error,
    RequestError,
};
use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use x12::{Element, Segment, SegmentRef};

const NM1: &str = "NM1";
const HL: &str = "HL";

const PARTY_SEGS: [SegSpec; 6] =
    [s("REF", 0, 9), s("N3", 0, 1), s("N4", 0, 1), s("PER", 0, 3), s("AAA", 0, 9), s("PRV", 0, 1)];
const MEMBER_SEGS: [SegSpec; 6] =
    [s("REF", 0, 9), s("N3", 0, 1), s("N4", 0, 1), s("AAA", 0, 9), s("DMG", 0, 1), s("INS", 0, 1)];

const REQUESTERS: &[&str] = &["1P", "2B", "36", "80", "FA", "X3"];
const EVENT_PROVIDERS: &[&str] =
    &["1T", "71", "72", "73", "77", "AAJ", "DD", "DK", "DN", "FA", "G3", "P3", "QB", "QV", "SJ"];

const L2000F: LoopDef = l(
    "2000F",
    Trigger::qual(HL, 3, &["SS"]),
    &[
        s("TRN", 0, 3),
        s("AAA", 0, 9),
        s("UM", 0, 1),
        s("HCR", 0, 1),
        s("REF", 0, 9),
        s("DTP", 0, 9),
        s("SV1", 0, 1),
        s("SV2", 0, 1),
        s("SV3", 0, 1),
        s("TOO", 0, 99),
        s("HSD", 0, 1),
        s("CRC", 0, 9),
        s("PWK", 0, 10),
        s("MSG", 0, 1),
    ],
    &[l("2010F", Trigger::qual(NM1, 1, EVENT_PROVIDERS), &PARTY_SEGS, &[], 0, 3)],
    0,
    0,
);

const L2000E: LoopDef = l(
    "2000E",
    Trigger::qual(HL, 3, &["EV"]),
    &[
        s("TRN", 0, 3),
        s("AAA", 0, 9),
        s("UM", 1, 1),
        s("HCR", 0, 1),
        s("REF", 0, 9),
        s("DTP", 0, 9),
        s("HI", 0, 1),
        s("HSD", 0, 1),
        s("CRC", 0, 9),
        s("CL1", 0, 1),
        s("CR1", 0, 1),
        s("CR2", 0, 1),
        s("CR4", 0, 1),
        s("CR5", 0, 1),
        s("CR6", 0, 1),
        s("CR7", 0, 3),
        s("CR8", 0, 1),
        s("PWK", 0, 10),
        s("MSG", 0, 1),
    ],
    &[
        l("2010EA", Trigger::qual(NM1, 1, EVENT_PROVIDERS), &PARTY_SEGS, &[], 0, 12),
        l("2010EB", Trigger::qual(NM1, 1, &["45", "FS", "ND", "PW", "R3"]), &[s("N3", 0, 1), s("N4", 0, 1)], &[], 0, 5),
        l("2010EC", Trigger::qual(NM1, 1, &["X3"]), &[s("REF", 0, 1)], &[], 0, 1),
        L2000F,
    ],
    0,
    0,
);

const L2000D: LoopDef = l(
    "2000D",
    Trigger::qual(HL, 3, &["23"]),
    &[],
    &[l("2010D", Trigger::qual(NM1, 1, &["QC"]), &MEMBER_SEGS, &[], 1, 1), L2000E],
    0,
    0,
);

/// The 278 loop schema (request and response).
pub static SCHEMA: LoopDef = l(
    "278",
    Trigger::seg("ST"),
    &[s("ST", 1, 1), s("BHT", 1, 1), s("SE", 1, 1)],
    &[l(
        "2000A",
        Trigger::qual(HL, 3, &["20"]),
        &[s("AAA", 0, 9)],
        &[
            l("2010A", Trigger::qual(NM1, 1, &["X3"]), &PARTY_SEGS, &[], 1, 1),
            l(
                "2000B",
                Trigger::qual(HL, 3, &["21"]),
                &[],
                &[
                    l("2010B", Trigger::qual(NM1, 1, REQUESTERS), &PARTY_SEGS, &[], 1, 1),
                    l(
                        "2000C",
                        Trigger::qual(HL, 3, &["22"]),
                        &[],
                        &[l("2010C", Trigger::qual(NM1, 1, &["IL"]), &MEMBER_SEGS, &[], 1, 1), L2000D, L2000E],
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

/// A PWK attachment reference: the clinical package the reviewer should look at.
#[derive(Clone, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Attachment {
    /// PWK01 report type (`OB` operative note, `RR` radiology report, `09` progress report ...).
    pub report_type: Text,
    /// PWK02 transmission (`EL` electronic, `FX` fax, `BM` mail ...).
    pub transmission: Text,
    /// PWK06 attachment control number (PWK05 `AC`).
    pub control: Text,
    /// PWK07 description.
    pub description: Text,
}

/// HCR: what the reviewer decided.
#[derive(Clone, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Certification {
    /// HCR01 action code (A1 certified, A2 certified partial, A3 not certified, A4 pended,
    /// A6 modified, C cancelled, CT contact payer, NA no action required).
    pub action: Text,
    /// HCR02 review identification (certification) number.
    pub number: Text,
    /// HCR03 review decision reason code.
    pub reason: Text,
}

/// One service (loop 2000F).
#[derive(Clone, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ReviewService {
    /// SV101 professional procedure.
    pub procedure: Option<Procedure>,
    /// SV103 unit basis (UN, MJ) and SV104 quantity.
    pub unit_basis: Text,
    pub units: Option<Decimal>,
    /// DTP*472 requested (or certified) service dates.
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
    pub certification: Option<Certification>,
    /// REF*BB authorization number, else REF*NE.
    pub auth_number: Text,
    pub attachments: Vec<Attachment>,
    pub messages: Vec<Text>,
    pub providers: Vec<Party>,
    pub errors: Vec<RequestError>,
}

/// One patient event (loop 2000E) with its services.
#[derive(Clone, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct PatientEvent {
    /// TRN02 and TRN03 (the requester's trace, echoed in the response).
    pub trace: Text,
    pub trace_originator: Text,
    /// UM01 request category (HS health services review, AR admission, SC specialty care).
    pub category: Text,
    /// UM02 certification type (I initial, 1 appeal, 2 appeal urgent, 3 cancel, 4 extension ...).
    pub certification_type: Text,
    /// UM03 service type code.
    pub service_type: Text,
    /// UM04-1 facility (place of service) code.
    pub place_of_service: Text,
    /// HI diagnosis codes in order; the first is the principal.
    pub diagnoses: Vec<Text>,
    /// DTP*AAH event date (range).
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
    pub certification: Option<Certification>,
    pub auth_number: Text,
    /// DTP*007 certification effective and DTP*036 expiration (response).
    pub effective: Option<NaiveDate>,
    pub expires: Option<NaiveDate>,
    pub providers: Vec<Party>,
    pub attachments: Vec<Attachment>,
    pub messages: Vec<Text>,
    pub services: Vec<ReviewService>,
    pub errors: Vec<RequestError>,
}

/// The reviewer's decision, as a status.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum AuthStatus {
    /// A1.
    Certified,
    /// A2 (certified partial) or A6 (modified).
    Modified,
    /// A3 not certified.
    Denied,
    /// A4 pended.
    Pended,
    /// C.
    Cancelled,
    /// CT.
    ContactPayer,
    /// NA.
    NoActionRequired,
    /// No HCR, or a code this crate does not know.
    #[default]
    Unknown,
}

impl AuthStatus {
    pub fn from_action(code: &str) -> AuthStatus {
        match code {
            "A1" => AuthStatus::Certified,
            "A2" | "A6" => AuthStatus::Modified,
            "A3" => AuthStatus::Denied,
            "A4" => AuthStatus::Pended,
            "C" => AuthStatus::Cancelled,
            "CT" => AuthStatus::ContactPayer,
            "NA" => AuthStatus::NoActionRequired,
            _ => AuthStatus::Unknown,
        }
    }

    /// Certified or modified: the work may be done (within what was approved).
    pub fn approved(self) -> bool {
        matches!(self, AuthStatus::Certified | AuthStatus::Modified)
    }
}

/// One approved (or not) service of an authorization.
#[derive(Clone, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct AuthorizedService {
    pub procedure: Procedure,
    pub units: Option<Decimal>,
    pub status: AuthStatus,
    pub number: Text,
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
}

/// The typed answer of a 278 response, one per patient event.
#[derive(Clone, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Authorization {
    /// The requester's trace (TRN02), to match the request.
    pub trace: Text,
    /// REF*BB, else REF*NE, else HCR02 (event level, else the first service's).
    pub number: Text,
    pub status: AuthStatus,
    /// HCR01 as sent and HCR03 the decision reason (for denials and pends).
    pub action: Text,
    pub reason: Text,
    /// Validity window: DTP*AAH (RD8) on the event, else DTP*007 / DTP*036, else the services'.
    pub valid_from: Option<NaiveDate>,
    pub valid_to: Option<NaiveDate>,
    pub services: Vec<AuthorizedService>,
    /// AAA errors returned instead of (or with) a decision.
    pub errors: Vec<RequestError>,
}

impl Authorization {
    /// Units approved for a CPT/HCPCS code (sum over its certified or modified services).
    pub fn units_approved(&self, code: &str) -> Decimal {
        self.services.iter().filter(|s| s.procedure.code == code && s.status.approved()).filter_map(|s| s.units).sum()
    }

    /// Whether a date falls in the validity window.
    pub fn covers(&self, date: NaiveDate) -> bool {
        match (self.valid_from, self.valid_to) {
            (Some(a), Some(b)) => a <= date && date <= b,
            _ => false,
        }
    }
}

/// A parsed 278 transaction set (request or response).
#[derive(Clone, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Review {
    /// BHT02 `13` request, `11` response; BHT03, BHT04 and BHT05.
    pub purpose: Text,
    pub reference: Text,
    pub created: Option<NaiveDate>,
    pub time: Text,
    /// 2010A utilization management organization (the payer).
    pub umo: Party,
    /// 2010B requester (the practice or ordering provider).
    pub requester: Party,
    pub subscriber: Party,
    pub subscriber_birth_date: Option<NaiveDate>,
    pub subscriber_gender: Text,
    pub dependent: Option<Party>,
    pub events: Vec<PatientEvent>,
    /// AAA errors at the UMO, requester or member level.
    pub errors: Vec<RequestError>,
    /// Filled for responses only.
    pub authorizations: Vec<Authorization>,
}

impl Review {
    pub fn is_response(&self) -> bool {
        self.purpose == "11"
    }
}

// Each loop's segments are read in one pass, dispatching on the packed segment id, and each
// segment is split once (`Fields`): `Node::seg`/`seg_q` and `SegmentRef::get` rescan per field.
// "The first REF*BB" and the like keep the first segment with that qualifier, whether or not
// its value parses, as `seg_q(..).and_then(parse)` did.

const ID_AAA: u32 = pack_id(b"AAA");
const ID_BHT: u32 = pack_id(b"BHT");
const ID_DMG: u32 = pack_id(b"DMG");
const ID_DTP: u32 = pack_id(b"DTP");
const ID_HCR: u32 = pack_id(b"HCR");
const ID_HI: u32 = pack_id(b"HI");
const ID_MSG: u32 = pack_id(b"MSG");
const ID_PWK: u32 = pack_id(b"PWK");
const ID_REF: u32 = pack_id(b"REF");
const ID_SV1: u32 = pack_id(b"SV1");
const ID_TRN: u32 = pack_id(b"TRN");
const ID_UM: u32 = pack_id(b"UM");

/// What an event (2000E) or service (2000F) loop says, read in one pass over its segments.
#[derive(Default)]
struct Scan<'a> {
    trn2: Option<Fields<'a>>,
    trn: Option<Fields<'a>>,
    um: Option<Fields<'a>>,
    hi: Option<Fields<'a>>,
    sv1: Option<Fields<'a>>,
    hcr: Option<Fields<'a>>,
    ref_bb: Option<Fields<'a>>,
    ref_ne: Option<Fields<'a>>,
    /// The first DTP*AAH, *007, *036 and *472.
    dtp: [Option<Fields<'a>>; 4],
    attachments: Vec<Attachment>,
    messages: Vec<Text>,
    errors: Vec<RequestError>,
}

const DTP_QUALIFIERS: [&[u8]; 4] = [b"AAH", b"007", b"036", b"472"];

impl<'a> Scan<'a> {
    fn new(node: &Node<'a>) -> Scan<'a> {
        let mut s = Scan::default();
        for seg in &node.segments {
            let id = seg_pack(seg);
            if !matches!(id, ID_AAA | ID_DTP | ID_HCR | ID_HI | ID_MSG | ID_PWK | ID_REF | ID_SV1 | ID_TRN | ID_UM) {
                continue;
            }
            let f = Fields::new(seg);
            let keep = |slot: &mut Option<Fields<'a>>| {
                slot.get_or_insert(f);
            };
            match id {
                ID_TRN => {
                    if f.get(1) == b"2" {
                        keep(&mut s.trn2);
                    }
                    keep(&mut s.trn);
                }
                ID_UM => keep(&mut s.um),
                ID_HI => keep(&mut s.hi),
                ID_SV1 => keep(&mut s.sv1),
                ID_HCR => keep(&mut s.hcr),
                ID_REF => match f.get(1) {
                    b"BB" => keep(&mut s.ref_bb),
                    b"NE" => keep(&mut s.ref_ne),
                    _ => {}
                },
                ID_DTP => {
                    if let Some(i) = DTP_QUALIFIERS.iter().position(|q| *q == f.get(1)) {
                        keep(&mut s.dtp[i]);
                    }
                }
                ID_PWK => s.attachments.push(Attachment {
                    report_type: text(f.get(1)),
                    transmission: text(f.get(2)),
                    control: text(f.get(6)),
                    description: text(f.get(7)),
                }),
                ID_MSG => s.messages.push(text(f.get(1))),
                ID_AAA => s.errors.push(request_error(seg, node.def.id)),
                _ => {}
            }
        }
        s
    }

    /// The dates of the first DTP with `DTP_QUALIFIERS[i]`.
    fn range(&self, i: usize) -> Option<(NaiveDate, NaiveDate)> {
        self.dtp[i].and_then(|d| dated(d.get(2), d.get(3)))
    }

    fn certification(&self) -> Option<Certification> {
        self.hcr.map(|h| Certification { action: text(h.get(1)), number: text(h.get(2)), reason: text(h.get(3)) })
    }

    fn auth_number(&self) -> Text {
        self.ref_bb.or(self.ref_ne).map(|r| text(r.get(2))).unwrap_or_default()
    }
}

/// The NM1 parties of the child loops with this id.
fn kid_parties(node: &Node<'_>, id: &str) -> Vec<Party> {
    node.kids(id).map(|n| Party::from_nm1(n.first())).collect()
}

fn service(node: &Node<'_>) -> ReviewService {
    let s = Scan::new(node);
    let sv1 = s.sv1;
    let r = s.range(3);
    ReviewService {
        procedure: sv1
            .filter(|f| !f.get(1).is_empty())
            .map(|f| Procedure::from_composite(f.get(1), f.seg.delimiters().component)),
        unit_basis: sv1.map(|f| text(f.get(3))).unwrap_or_default(),
        units: sv1.and_then(|f| decimal(f.get(4))),
        from: r.map(|x| x.0),
        to: r.map(|x| x.1),
        certification: s.certification(),
        auth_number: s.auth_number(),
        providers: kid_parties(node, "2010F"),
        attachments: s.attachments,
        messages: s.messages,
        errors: s.errors,
    }
}

fn event(node: &Node<'_>) -> PatientEvent {
    let s = Scan::new(node);
    let mut e = PatientEvent::default();
    if let Some(t) = s.trn2.or(s.trn) {
        e.trace = text(t.get(2));
        e.trace_originator = text(t.get(3));
    }
    if let Some(um) = s.um {
        e.category = text(um.get(1));
        e.certification_type = text(um.get(2));
        e.service_type = text(um.get(3));
        let d = um.seg.delimiters();
        let facility = um.get(4);
        let first = match d.repetition.and_then(|r| facility.iter().position(|&c| c == r)) {
            Some(i) => &facility[..i],
            None => facility,
        };
        e.place_of_service = text(components(first, d.component).next().unwrap_or(b""));
    }
    if let Some(hi) = s.hi {
        let comp = hi.seg.delimiters().component;
        for el in hi.seg.elements() {
            if let Some(code) = components(el, comp).nth(1).filter(|c| !c.is_empty()) {
                e.diagnoses.push(text(code));
            }
        }
    }
    if let Some((a, b)) = s.range(0) {
        e.from = Some(a);
        e.to = Some(b);
    }
    e.certification = s.certification();
    e.auth_number = s.auth_number();
    e.effective = s.range(1).map(|r| r.0);
    e.expires = s.range(2).map(|r| r.0);
    e.providers = kid_parties(node, "2010EA");
    e.services = node.kids("2000F").map(service).collect();
    (e.attachments, e.messages, e.errors) = (s.attachments, s.messages, s.errors);
    e
}

/// The typed answer for one event of a response.
pub fn authorization(e: &PatientEvent) -> Authorization {
    let cert = e.certification.clone().or_else(|| e.services.iter().find_map(|s| s.certification.clone()));
    let cert = cert.unwrap_or_default();
    let mut number = e.auth_number.clone();
    if number.is_empty() {
        number = e.services.iter().map(|s| s.auth_number.clone()).find(|n| !n.is_empty()).unwrap_or_default();
    }
    if number.is_empty() {
        number = cert.number.clone();
    }
    let (mut valid_from, mut valid_to) = match (e.from, e.to) {
        (Some(a), Some(b)) => (Some(a), Some(b)),
        _ => (e.effective, e.expires),
    };
    if valid_from.is_none() {
        valid_from = e.services.iter().filter_map(|s| s.from).min();
        valid_to = e.services.iter().filter_map(|s| s.to).max();
    }
    let event_status = AuthStatus::from_action(&cert.action);
    let services = e
        .services
        .iter()
        .filter_map(|s| {
            let p = s.procedure.clone()?;
            let sc = s.certification.as_ref();
            Some(AuthorizedService {
                procedure: p,
                units: s.units,
                status: sc.map(|c| AuthStatus::from_action(&c.action)).unwrap_or(event_status),
                number: if s.auth_number.is_empty() {
                    sc.map(|c| c.number.clone()).filter(|n| !n.is_empty()).unwrap_or_else(|| number.clone())
                } else {
                    s.auth_number.clone()
                },
                from: s.from,
                to: s.to,
            })
        })
        .collect();
    let mut errors = e.errors.clone();
    errors.extend(e.services.iter().flat_map(|s| s.errors.iter().cloned()));
    Authorization {
        trace: e.trace.clone(),
        number,
        status: event_status,
        action: cert.action,
        reason: cert.reason,
        valid_from,
        valid_to,
        services,
        errors,
    }
}

/// Reads the review from a built tree.
pub fn extract(root: &Node<'_>) -> Review {
    let mut r = Review::default();
    if let Some(bht) = root.segments.iter().find(|s| seg_pack(s) == ID_BHT).map(Fields::new) {
        r.purpose = text(bht.get(2));
        r.reference = text(bht.get(3));
        r.created = date8(bht.get(4));
        r.time = text(bht.get(5));
    }
    for a in root.kids("2000A") {
        r.umo = party(a.kid("2010A"));
        r.errors.extend(aaa_errors(a));
        r.errors.extend(a.kid("2010A").map(aaa_errors).unwrap_or_default());
        for b in a.kids("2000B") {
            r.requester = party(b.kid("2010B"));
            r.errors.extend(b.kid("2010B").map(aaa_errors).unwrap_or_default());
            for c in b.kids("2000C") {
                if let Some(n) = c.kid("2010C") {
                    r.subscriber = Party::from_nm1(n.first());
                    let dmg = n.segments.iter().find(|s| seg_pack(s) == ID_DMG).map(Fields::new);
                    r.subscriber_birth_date = dmg.and_then(|d| date8(d.get(2)));
                    r.subscriber_gender = dmg.map(|d| text(d.get(3))).unwrap_or_default();
                    r.errors.extend(aaa_errors(n));
                }
                r.events.extend(c.kids("2000E").map(event));
                for d in c.kids("2000D") {
                    if let Some(n) = d.kid("2010D") {
                        r.dependent = Some(Party::from_nm1(n.first()));
                        r.errors.extend(aaa_errors(n));
                    }
                    r.events.extend(d.kids("2000E").map(event));
                }
            }
        }
    }
    if r.is_response() {
        r.authorizations = r.events.iter().map(authorization).collect();
    }
    r
}

const HCR01: &[&str] = &["A1", "A2", "A3", "A4", "A6", "C", "CT", "NA"];
const UM01: &[&str] = &["AR", "HS", "IN", "SC"];
const UM02: &[&str] = &["1", "2", "3", "4", "I", "N", "R", "S"];
const PWK02: &[&str] = &["AA", "BM", "EL", "EM", "FT", "FX", "VO"];

/// Implementation-guide (SNIP 2) checks over a built 278 tree.
pub fn validate(root: &Node<'_>, set_start: u64, issues: &mut Vec<Issue>) {
    check_usage(root, set_start, issues);
    let mut c = Checks::new(set_start, issues);
    let response = root.seg("BHT").is_some_and(|b| b.get(2) == b"11");
    if let Some(bht) = root.seg("BHT") {
        c.code(bht, "278", 1, &["0007"]);
        c.code(bht, "278", 2, &["01", "11", "13", "36"]);
        c.required(bht, "278", 3);
        c.required(bht, "278", 4);
        c.date(bht, "278", 4);
        c.required(bht, "278", 5);
    }
    root.walk(&mut |n: &Node<'_>| {
        let lid = n.def.id;
        for seg in &n.segments {
            let seg = &Fields::new(seg);
            if check_common(&mut c, seg, lid) {
                continue;
            }
            match seg.id {
                b"UM" => {
                    if c.required(seg, lid, 1) {
                        c.code(seg, lid, 1, UM01);
                    }
                    if c.required(seg, lid, 2) {
                        c.code(seg, lid, 2, UM02);
                    }
                }
                b"HCR" => {
                    if c.required(seg, lid, 1) {
                        c.code(seg, lid, 1, HCR01);
                    }
                    // A certified answer carries its certification number.
                    if matches!(seg.get(1), b"A1" | b"A2" | b"A6") {
                        c.required(seg, lid, 2);
                    }
                    // A denial says why.
                    if seg.get(1) == b"A3" {
                        c.required(seg, lid, 3);
                    }
                }
                b"SV1" => {
                    c.required(seg, lid, 1);
                    check_procedure(&mut c, seg, lid, 1);
                    c.decimal(seg, lid, 2);
                    c.code(seg, lid, 3, &["MJ", "UN"]);
                    c.decimal(seg, lid, 4);
                }
                b"SV2" => {
                    c.required(seg, lid, 1);
                }
                b"HSD" => {
                    c.decimal(seg, lid, 2);
                    c.decimal(seg, lid, 6);
                }
                b"PWK" => {
                    c.required(seg, lid, 1);
                    if c.required(seg, lid, 2) {
                        c.code(seg, lid, 2, PWK02);
                    }
                    c.code(seg, lid, 5, &["AC"]);
                    if !seg.get(5).is_empty() {
                        c.required(seg, lid, 6);
                    }
                    c.length(seg, lid, 7, 1, 80);
                }
                b"CL1" | b"CR1" | b"CR2" | b"CR4" | b"CR5" | b"CR6" | b"CR7" | b"CR8" | b"CRC" | b"TOO" => {}
                _ => {}
            }
        }
        // A response event that is not an error answer carries the decision.
        if response && lid == "2000E" && n.seg("AAA").is_none() && n.seg("HCR").is_none() {
            let services_decided = n.kids("2000F").all(|f| f.seg("HCR").is_some() || f.seg("AAA").is_some());
            if n.kids("2000F").next().is_none() || !services_decided {
                c.issues.push(
                    Issue::missing_segment(Some(n.first()), set_start, "2000E", "HCR")
                        .with_message("required segment HCR missing in loop 2000E of a response"),
                );
            }
        }
    });
}

/// Builds, validates and extracts one 278 set from its segments (ST..SE).
pub fn parse<'a>(segments: impl IntoIterator<Item = SegmentRef<'a>>, issues: &mut Vec<Issue>) -> Review {
    let mut segs = segments.into_iter().peekable();
    let start = segs.peek().map(|s| s.index()).unwrap_or(1);
    let root = build(&SCHEMA, segs, issues);
    validate(&root, start, issues);
    extract(&root)
}

fn pwk(a: &Attachment) -> Segment {
    Segment::new(
        "PWK",
        [
            a.report_type.as_str(),
            &a.transmission,
            "",
            "",
            if a.control.is_empty() { "" } else { "AC" },
            &a.control,
            &a.description,
        ],
    )
}

fn dtp_range(q: &str, from: Option<NaiveDate>, to: Option<NaiveDate>) -> Option<Segment> {
    match (from, to) {
        (Some(a), Some(b)) if a == b => Some(Segment::new("DTP", [q.to_string(), "D8".into(), d8(a)])),
        (Some(a), Some(b)) => Some(Segment::new("DTP", [q.to_string(), "RD8".into(), format!("{}-{}", d8(a), d8(b))])),
        (Some(a), None) => Some(Segment::new("DTP", [q.to_string(), "D8".into(), d8(a)])),
        _ => None,
    }
}

/// The body of a 278 request (BHT through the last service; ST and SE are the writer's).
/// Responses are not built by a practice, so certification data on the model is ignored.
pub fn build_278(r: &Review) -> Vec<Segment> {
    let mut out = vec![Segment::new(
        "BHT",
        ["0007".to_string(), "13".to_string(), r.reference.to_string(), opt_d8(r.created), r.time.to_string()],
    )];
    out.push(hl(1, 0, "20", true));
    out.push(nm1(&r.umo));
    out.push(hl(2, 1, "21", true));
    out.push(nm1(&r.requester));
    out.push(hl(3, 2, "22", true));
    out.push(nm1(&r.subscriber));
    out.extend(dmg(r.subscriber_birth_date, &r.subscriber_gender));
    let mut n = 3;
    let mut parent = 3;
    if let Some(dep) = &r.dependent {
        n += 1;
        out.push(hl(n, 3, "23", true));
        out.push(nm1(dep));
        parent = n;
    }
    for e in &r.events {
        n += 1;
        let ev = n;
        out.push(hl(ev, parent, "EV", !e.services.is_empty()));
        if !e.trace.is_empty() {
            out.push(Segment::new("TRN", ["1", &e.trace, &e.trace_originator]));
        }
        let facility = if e.place_of_service.is_empty() {
            Element::default()
        } else {
            Element::composite([e.place_of_service.as_str(), "B"])
        };
        out.push(Segment {
            id: "UM".into(),
            elements: vec![
                e.category.as_str().into(),
                e.certification_type.as_str().into(),
                e.service_type.as_str().into(),
                facility,
            ],
        });
        out.extend(dtp_range("AAH", e.from, e.to));
        if !e.diagnoses.is_empty() {
            let els = e
                .diagnoses
                .iter()
                .enumerate()
                .map(|(i, d)| Element::composite([if i == 0 { "ABK" } else { "ABF" }, d.as_str()]));
            out.push(Segment { id: "HI".into(), elements: els.collect() });
        }
        out.extend(e.attachments.iter().map(pwk));
        out.extend(e.messages.iter().map(|m| Segment::new("MSG", [m.as_str()])));
        out.extend(e.providers.iter().map(nm1));
        for s in &e.services {
            n += 1;
            out.push(hl(n, ev, "SS", false));
            out.extend(dtp_range("472", s.from, s.to));
            if let Some(p) = &s.procedure {
                out.push(Segment {
                    id: "SV1".into(),
                    elements: vec![
                        procedure_element(p),
                        Element::default(),
                        s.unit_basis.as_str().into(),
                        s.units.map(|u| u.to_string()).unwrap_or_default().into(),
                    ],
                });
            }
            out.extend(s.attachments.iter().map(pwk));
            out.extend(s.messages.iter().map(|m| Segment::new("MSG", [m.as_str()])));
            out.extend(s.providers.iter().map(nm1));
        }
    }
    out
}
