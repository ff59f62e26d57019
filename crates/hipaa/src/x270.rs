//! 270 eligibility inquiry and 271 eligibility response, 005010X279A1.
//!
//! The 271 becomes a list of typed answers: a [`Coverage`] per subscriber or dependent the
//! payer found, or an [`EligibilityRejection`] when the payer answered with AAA request
//! validation errors instead (at the source, receiver, subscriber or dependent level). The
//! 270 is read into the same [`EligibilityRequest`] model that [`build_270`] writes from, so
//! `parse(build(x)) == x`.
//!
//! This module also holds the small helpers the other front-end sets (278, 276/277, 999) share:
//! schema constructors, the envelope-free segment builders and the element checks every one of
//! them needs (NM1, HL, TRN, DMG, REF, PER, DTP).

use crate::common::{Model, Party, Procedure, Text};
use crate::issue::{Issue, IssueCode};
use crate::tree::{
    build, check_usage, l, loop_key, one_pass, pack_id, s, seg_pack, LoopDef, Node, OnePass, SegSpec, Sink, Trigger,
};
use crate::values::{components, date8, dated, decimal, text, Checks, Fields, Reading};
use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use x12::{Element, Segment, SegmentRef};

const NM1: &str = "NM1";
const HL: &str = "HL";

// ---------------------------------------------------------------------------------------------
// 270 schema

const L2110_270: LoopDef =
    l("2110", Trigger::seg("EQ"), &[s("AMT", 0, 2), s("III", 0, 1), s("REF", 0, 1), s("DTP", 0, 1)], &[], 0, 99);

const L2100C_270: LoopDef = l(
    "2100C",
    Trigger::qual(NM1, 1, &["IL"]),
    &[
        s("REF", 0, 9),
        s("N3", 0, 1),
        s("N4", 0, 1),
        s("PRV", 0, 1),
        s("DMG", 0, 1),
        s("INS", 0, 1),
        s("HI", 0, 1),
        s("DTP", 0, 2),
    ],
    &[L2110_270],
    1,
    1,
);

const L2000D_270: LoopDef = l(
    "2000D",
    Trigger::qual(HL, 3, &["23"]),
    &[s("TRN", 0, 2)],
    &[l(
        "2100D",
        Trigger::qual(NM1, 1, &["03"]),
        &[
            s("REF", 0, 9),
            s("N3", 0, 1),
            s("N4", 0, 1),
            s("PRV", 0, 1),
            s("DMG", 0, 1),
            s("INS", 0, 1),
            s("HI", 0, 1),
            s("DTP", 0, 2),
        ],
        &[L2110_270],
        1,
        1,
    )],
    0,
    0,
);

const L2000C_270: LoopDef =
    l("2000C", Trigger::qual(HL, 3, &["22"]), &[s("TRN", 0, 2)], &[L2100C_270, L2000D_270], 1, 0);

const SOURCE_ENTITIES: &[&str] = &["2B", "36", "GP", "P5", "PR"];
const RECEIVER_ENTITIES: &[&str] = &["1P", "2B", "36", "80", "FA", "GP", "P5", "PR"];

const L2000B_270: LoopDef = l(
    "2000B",
    Trigger::qual(HL, 3, &["21"]),
    &[],
    &[
        l(
            "2100B",
            Trigger::qual(NM1, 1, RECEIVER_ENTITIES),
            &[s("REF", 0, 9), s("N3", 0, 1), s("N4", 0, 1), s("PRV", 0, 1)],
            &[],
            1,
            1,
        ),
        L2000C_270,
    ],
    1,
    0,
);

/// The 270 loop schema.
pub static SCHEMA_270: LoopDef = l(
    "270",
    Trigger::seg("ST"),
    &[s("ST", 1, 1), s("BHT", 1, 1), s("SE", 1, 1)],
    &[l(
        "2000A",
        Trigger::qual(HL, 3, &["20"]),
        &[],
        &[l("2100A", Trigger::qual(NM1, 1, SOURCE_ENTITIES), &[], &[], 1, 1), L2000B_270],
        1,
        0,
    )],
    1,
    1,
);

// ---------------------------------------------------------------------------------------------
// 271 schema

const L2120_271: LoopDef =
    l("2120", Trigger::seg(NM1), &[s("N3", 0, 1), s("N4", 0, 1), s("PER", 0, 3), s("PRV", 0, 1)], &[], 0, 23);

const L2110_271: LoopDef = l(
    "2110",
    Trigger::seg("EB"),
    &[s("HSD", 0, 9), s("REF", 0, 9), s("DTP", 0, 20), s("AAA", 0, 9), s("MSG", 0, 10), s("LS", 0, 1), s("LE", 0, 1)],
    &[l("2115", Trigger::seg("III"), &[], &[], 0, 10), L2120_271],
    0,
    0,
);

const MEMBER_271: [SegSpec; 10] = [
    s("REF", 0, 9),
    s("N3", 0, 1),
    s("N4", 0, 1),
    s("AAA", 0, 9),
    s("PRV", 0, 1),
    s("DMG", 0, 1),
    s("INS", 0, 1),
    s("HI", 0, 1),
    s("DTP", 0, 9),
    s("MPI", 0, 1),
];

const L2000D_271: LoopDef = l(
    "2000D",
    Trigger::qual(HL, 3, &["23"]),
    &[s("TRN", 0, 3)],
    &[l("2100D", Trigger::qual(NM1, 1, &["03"]), &MEMBER_271, &[L2110_271], 1, 1)],
    0,
    0,
);

const L2000C_271: LoopDef = l(
    "2000C",
    Trigger::qual(HL, 3, &["22"]),
    &[s("TRN", 0, 3)],
    &[l("2100C", Trigger::qual(NM1, 1, &["IL"]), &MEMBER_271, &[L2110_271], 1, 1), L2000D_271],
    0,
    0,
);

/// The 271 loop schema.
pub static SCHEMA_271: LoopDef = l(
    "271",
    Trigger::seg("ST"),
    &[s("ST", 1, 1), s("BHT", 1, 1), s("SE", 1, 1)],
    &[l(
        "2000A",
        Trigger::qual(HL, 3, &["20"]),
        &[s("AAA", 0, 9)],
        &[
            l("2100A", Trigger::qual(NM1, 1, SOURCE_ENTITIES), &[s("PER", 0, 3), s("AAA", 0, 9)], &[], 1, 1),
            l(
                "2000B",
                Trigger::qual(HL, 3, &["21"]),
                &[],
                &[
                    l(
                        "2100B",
                        Trigger::qual(NM1, 1, RECEIVER_ENTITIES),
                        &[s("REF", 0, 9), s("N3", 0, 1), s("N4", 0, 1), s("AAA", 0, 9), s("PRV", 0, 1)],
                        &[],
                        1,
                        1,
                    ),
                    L2000C_271,
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

/// One EQ: a service type inquiry (EQ01, repeating) or a procedure-level inquiry (EQ02).
#[derive(Clone, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ServiceInquiry {
    /// EQ01 service type codes (`30` health benefit plan coverage, `1` medical care, ...).
    pub service_types: Vec<Text>,
    /// EQ02 composite procedure (`HC:64493`).
    pub procedure: Option<Procedure>,
}

/// One subscriber (and optional dependent) inquiry of a 270.
#[derive(Clone, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Inquiry {
    /// 2100A information source (the payer).
    pub payer: Party,
    /// 2100B information receiver (the practice).
    pub provider: Party,
    pub subscriber: Party,
    pub subscriber_birth_date: Option<NaiveDate>,
    /// DMG03 of the subscriber (F, M, U).
    pub subscriber_gender: Text,
    /// 2100D when the patient is a dependent.
    pub dependent: Option<Party>,
    pub dependent_birth_date: Option<NaiveDate>,
    /// TRN02 reference the payer echoes back, TRN03 originating company id.
    pub trace: Text,
    pub trace_originator: Text,
    /// DTP*291 plan date (the date of service asked about).
    pub service_date: Option<NaiveDate>,
    pub services: Vec<ServiceInquiry>,
}

/// A parsed 270 transaction set.
#[derive(Clone, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct EligibilityRequest {
    /// BHT03, BHT04 and BHT05 (HHMM).
    pub reference: Text,
    pub created: Option<NaiveDate>,
    pub time: Text,
    pub inquiries: Vec<Inquiry>,
}

/// HSD health care services delivery: a quantity per period.
#[derive(Clone, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Delivery<S = Text> {
    /// HSD01 quantity qualifier (`VS` visits, `DY` days, `FL` units ...).
    pub qualifier: S,
    pub quantity: Option<Decimal>,
    /// HSD05 time period qualifier (`23` calendar year, `29` remaining, `22` service year ...).
    pub period: S,
    /// HSD06 number of periods.
    pub periods: Option<Decimal>,
}

/// One EB benefit (loop 2110C/2110D) with its HSD, MSG and related entities.
#[derive(Clone, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Benefit<S = Text> {
    /// EB01 eligibility or benefit information code (`1` active, `6` inactive, `C` deductible,
    /// `G` out of pocket, `A` co-insurance, `B` co-payment, `F` limitations ...).
    pub code: S,
    /// EB02 coverage level (`IND`, `FAM` ...).
    pub coverage_level: S,
    /// EB03 service type codes.
    pub service_types: Vec<S>,
    /// EB04 insurance type, EB05 plan coverage description.
    pub insurance_type: S,
    pub plan: S,
    /// EB06 time period qualifier (`23` calendar year, `29` remaining ...).
    pub period: S,
    pub amount: Option<Decimal>,
    pub percent: Option<Decimal>,
    /// EB09 quantity qualifier and EB10 quantity.
    pub quantity_qualifier: S,
    pub quantity: Option<Decimal>,
    /// EB11 authorization or certification required (Y/N, `None` when not sent or U).
    pub auth_required: Option<bool>,
    /// EB12 in plan network (Y/N, `None` when not sent, U or W).
    pub in_network: Option<bool>,
    /// EB13 composite procedure.
    pub procedure: Option<Procedure<S>>,
    pub deliveries: Vec<Delivery<S>>,
    pub messages: Vec<S>,
    /// 2120C benefit related entities (inside LS/LE).
    pub related: Vec<Party<S>>,
    /// DTP dates on the benefit (qualifier, from, to).
    pub dates: Vec<BenefitDate<S>>,
}

/// A dated qualifier (DTP) on a benefit or member.
#[derive(Clone, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct BenefitDate<S = Text> {
    pub qualifier: S,
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
}

/// Coverage of one procedure code (EB with EB13).
#[derive(Clone, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ProcedureCoverage<S = Text> {
    pub procedure: Procedure<S>,
    /// False when the payer says inactive (6-8), non-covered (I) or cannot process (V).
    pub covered: bool,
    pub in_network: Option<bool>,
    pub auth_required: Option<bool>,
    pub messages: Vec<S>,
}

/// A frequency limit with what is used and what remains, as far as the payer said.
#[derive(Clone, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct FrequencyLimit<S = Text> {
    /// The procedure the limit is for, when procedure-level.
    pub procedure: Option<Procedure<S>>,
    pub service_types: Vec<S>,
    /// HSD01 (`VS` visits ...).
    pub unit: S,
    pub limit: Decimal,
    /// HSD05 period of the limit (`23` calendar year, `22` service year, `25` rolling 12 months ...).
    pub period: S,
    /// Used so far: from a MSG ("2 USED") or the limit less the remaining count.
    pub used: Option<Decimal>,
    /// Remaining: from HSD with period 29 or the limit less the used count.
    pub remaining: Option<Decimal>,
}

/// One AAA request validation error.
#[derive(Clone, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct RequestError<S = Text> {
    /// The loop that carried the AAA (`2100A`, `2100B`, `2100C`, `2110C` ...).
    pub loop_id: S,
    /// AAA01: Y the request was valid but the answer is an error, N invalid request.
    pub valid_request: bool,
    /// AAA03 reject reason and its meaning.
    pub reason: S,
    pub reason_text: S,
    /// AAA04 follow-up action and its meaning.
    pub follow_up: S,
    pub follow_up_text: S,
}

/// What a payer said about one subscriber or dependent.
#[derive(Clone, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Coverage<S = Text> {
    pub payer: Party<S>,
    pub provider: Party<S>,
    pub subscriber: Party<S>,
    /// The dependent, when the answer is about one.
    pub dependent: Option<Party<S>>,
    /// TRN02 of the trace the payer echoed (the request's own), else the first TRN02.
    pub trace: S,
    /// An active-coverage EB (EB01 1-5) was sent and no inactive one (6-8) for plan coverage.
    pub active: bool,
    /// EB12 of the first active-coverage EB that carries one: whether the inquiring provider's
    /// services fall under in-network benefits. `None` when no active EB says.
    pub in_network: Option<bool>,
    /// EB05 of the first active-coverage EB.
    pub plan: S,
    /// DTP*346 plan begin, DTP*347 plan end, DTP*356 eligibility begin (member level).
    pub plan_begin: Option<NaiveDate>,
    pub plan_end: Option<NaiveDate>,
    pub eligibility_begin: Option<NaiveDate>,
    /// Remaining deductible and out-of-pocket (EB01 C / G with EB06 29), individual level,
    /// for the network the provider is in (in network when unknown).
    pub deductible_remaining: Option<Decimal>,
    pub out_of_pocket_remaining: Option<Decimal>,
    pub procedures: Vec<ProcedureCoverage<S>>,
    pub frequency_limits: Vec<FrequencyLimit<S>>,
    pub benefits: Vec<Benefit<S>>,
    /// AAA errors sent alongside benefits.
    pub errors: Vec<RequestError<S>>,
}

impl<S: AsRef<str>> Coverage<S> {
    /// Whether the payer said the procedure needs authorization (`None`: not said).
    pub fn auth_required(&self, code: &str) -> Option<bool> {
        self.procedures.iter().find(|p| p.procedure.code.as_ref() == code).and_then(|p| p.auth_required)
    }

    /// The frequency limit for a procedure code, when the payer sent one.
    pub fn limit_for(&self, code: &str) -> Option<&FrequencyLimit<S>> {
        self.frequency_limits.iter().find(|f| f.procedure.as_ref().is_some_and(|p| p.code.as_ref() == code))
    }
}

/// The payer could not answer: AAA errors instead of benefits.
#[derive(Clone, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct EligibilityRejection<S = Text> {
    /// `source`, `receiver`, `subscriber` or `dependent`: the level the error was given at.
    pub level: S,
    pub payer: Party<S>,
    pub provider: Party<S>,
    pub subscriber: Option<Party<S>>,
    pub dependent: Option<Party<S>>,
    pub trace: S,
    pub errors: Vec<RequestError<S>>,
}

/// One answer of a 271.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "answer", rename_all = "kebab-case")]
pub enum EligibilityAnswer<S = Text> {
    Coverage(Coverage<S>),
    Rejected(EligibilityRejection<S>),
}

/// A parsed 271 transaction set.
///
/// Like the 271's other answer types, generic over its text: `Text` (owned, the default) or
/// `&'a str` borrowed from the set's bytes (the hot path's view, see `hipaa::view_set`).
#[derive(Clone, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct EligibilityResponse<S = Text> {
    pub reference: S,
    pub created: Option<NaiveDate>,
    pub answers: Vec<EligibilityAnswer<S>>,
}

impl<S> EligibilityResponse<S> {
    pub fn coverages(&self) -> impl Iterator<Item = &Coverage<S>> {
        self.answers.iter().filter_map(|a| match a {
            EligibilityAnswer::Coverage(c) => Some(c),
            EligibilityAnswer::Rejected(_) => None,
        })
    }

    pub fn rejections(&self) -> impl Iterator<Item = &EligibilityRejection<S>> {
        self.answers.iter().filter_map(|a| match a {
            EligibilityAnswer::Rejected(r) => Some(r),
            EligibilityAnswer::Coverage(_) => None,
        })
    }
}

// ---------------------------------------------------------------------------------------------
// AAA code meanings (X12 code source 901 subset used by 271 and 278 responses)

const AAA_REASONS: &[(&str, &str)] = &[
    ("04", "authorized quantity exceeded"),
    ("15", "required application data missing"),
    ("33", "input errors"),
    ("35", "out of network"),
    ("41", "authorization/access restrictions"),
    ("42", "unable to respond at current time"),
    ("43", "invalid/missing provider identification"),
    ("44", "invalid/missing provider name"),
    ("45", "invalid/missing provider specialty"),
    ("46", "invalid/missing provider phone number"),
    ("47", "invalid/missing provider state"),
    ("48", "invalid/missing referring provider identification number"),
    ("49", "provider is not primary care physician"),
    ("50", "provider ineligible for inquiries"),
    ("51", "provider not on file"),
    ("52", "service dates not within provider plan enrollment"),
    ("53", "inquired benefit inconsistent with provider type"),
    ("54", "inappropriate product/service id qualifier"),
    ("55", "inappropriate product/service id"),
    ("56", "inappropriate date"),
    ("57", "invalid/missing date(s) of service"),
    ("58", "invalid/missing date-of-birth"),
    ("60", "date of birth follows date(s) of service"),
    ("61", "date of death precedes date(s) of service"),
    ("62", "date of service not within allowable inquiry period"),
    ("63", "date of service in future"),
    ("64", "invalid/missing patient id"),
    ("65", "invalid/missing patient name"),
    ("66", "invalid/missing patient gender code"),
    ("67", "patient not found"),
    ("68", "duplicate patient id number"),
    ("69", "inconsistent with patient's age"),
    ("70", "inconsistent with patient's gender"),
    ("71", "patient birth date does not match that for the patient on the database"),
    ("72", "invalid/missing subscriber/insured id"),
    ("73", "invalid/missing subscriber/insured name"),
    ("74", "invalid/missing subscriber/insured gender code"),
    ("75", "subscriber/insured not found"),
    ("76", "duplicate subscriber/insured id number"),
    ("77", "subscriber found, patient not found"),
    ("78", "subscriber/insured not in group/plan identified"),
    ("79", "invalid participant identification"),
    ("80", "no response received - transaction terminated"),
    ("97", "invalid or missing provider address"),
    ("T4", "payer name or identifier missing"),
];

const AAA_FOLLOW_UPS: &[(&str, &str)] = &[
    ("C", "please correct and resubmit"),
    ("N", "resubmission not allowed"),
    ("P", "please resubmit original transaction"),
    ("R", "resubmission allowed"),
    ("S", "do not resubmit; inquiry initiated to a third party"),
    ("W", "please wait 30 days and resubmit"),
    ("X", "please wait 10 days and resubmit"),
    ("Y", "do not resubmit; we will hand deliver"),
];

/// The codes of `AAA_FOLLOW_UPS`, for the AAA04 check (a test keeps the two in step).
const AAA_FOLLOW_UP_CODES: [&str; 8] = ["C", "N", "P", "R", "S", "W", "X", "Y"];

/// The meaning of a code from a table, borrowed from the table (no copy of the text).
fn meaning<'a, S: AnswerText<'a>>(table: &[(&str, &'static str)], code: &[u8]) -> S {
    table.iter().find(|(c, _)| c.as_bytes() == code).map(|(_, m)| S::fixed(m)).unwrap_or_default()
}

pub(crate) fn request_error(seg: &SegmentRef<'_>, loop_id: &'static str) -> RequestError {
    aaa(&Fields::new(seg), loop_id)
}

/// An AAA already split.
fn aaa<'a, S: AnswerText<'a>>(f: &Fields<'a>, loop_id: &'static str) -> RequestError<S> {
    let (reason, follow_up) = (f.get(3), f.get(4));
    RequestError {
        loop_id: S::fixed(loop_id),
        valid_request: f.get(1) == b"Y",
        reason_text: meaning(AAA_REASONS, reason),
        follow_up_text: meaning(AAA_FOLLOW_UPS, follow_up),
        reason: f.text(3),
        follow_up: f.text(4),
    }
}

pub(crate) fn aaa_errors(node: &Node<'_>) -> Vec<RequestError> {
    let mut out = Vec::new();
    push_aaa_errors(node, &mut out);
    out
}

/// Appends the AAA errors of one loop, in order.
fn push_aaa_errors(node: &Node<'_>, out: &mut Vec<RequestError>) {
    for s in &node.segments {
        if seg_pack(s) == ID_AAA {
            out.push(request_error(s, node.def.id));
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Extraction
//
// Each loop's segments are read in one pass, dispatching on the packed segment id, and each
// segment is split once (`Fields`): `Node::seg`/`seg_q` and `SegmentRef::get` rescan per field.
// Where the models keep "the first segment with this qualifier", the pass keeps the first one
// seen, whether or not its value parses, exactly as `seg_q(..).and_then(parse)` did.

const ID_AAA: u32 = pack_id(b"AAA");
const ID_AMT: u32 = pack_id(b"AMT");
const ID_BHT: u32 = pack_id(b"BHT");
const ID_DMG: u32 = pack_id(b"DMG");
const ID_DTP: u32 = pack_id(b"DTP");
const ID_EB: u32 = pack_id(b"EB");
const ID_EQ: u32 = pack_id(b"EQ");
const ID_HI: u32 = pack_id(b"HI");
const ID_HL: u32 = pack_id(b"HL");
const ID_HSD: u32 = pack_id(b"HSD");
const ID_INS: u32 = pack_id(b"INS");
const ID_LE: u32 = pack_id(b"LE");
const ID_LS: u32 = pack_id(b"LS");
const ID_MSG: u32 = pack_id(b"MSG");
const ID_N4: u32 = pack_id(b"N4");
const ID_NM1: u32 = pack_id(b"NM1");
const ID_PER: u32 = pack_id(b"PER");
const ID_REF: u32 = pack_id(b"REF");
const ID_TRN: u32 = pack_id(b"TRN");

pub(crate) fn yes_no(b: &[u8]) -> Option<bool> {
    match b {
        b"Y" => Some(true),
        b"N" => Some(false),
        _ => None,
    }
}

pub(crate) fn party(node: Option<&Node<'_>>) -> Party {
    node.map(|n| Party::from_nm1(n.first())).unwrap_or_default()
}

/// The non-empty repetitions of an element (the whole element without a repetition separator).
fn repeats(el: &[u8], rep: Option<u8>) -> Vec<Text> {
    let Some(r) = rep else {
        return if el.is_empty() { Vec::new() } else { vec![text(el)] };
    };
    if el.is_empty() {
        return Vec::new();
    }
    let mut out = Vec::with_capacity(1 + el.iter().filter(|&&c| c == r).count());
    out.extend(el.split(|&c| c == r).filter(|t| !t.is_empty()).map(text));
    out
}

/// [`repeats`] of element `n` of a split segment, each piece's text from `codes`: sliced
/// from the element's text when it is all UTF-8 (`""` where a separator byte cuts a
/// character, as `from_utf8` of the piece's bytes would fail), else read piece by piece.
fn repeats_in<'a, S: AnswerText<'a>>(f: &Fields<'a>, n: usize, rep: Option<u8>, codes: &mut Codes<S>) -> Vec<S> {
    let el = f.get(n);
    if el.is_empty() {
        return Vec::new();
    }
    // Only wanted when `codes` builds the text (owned text reuses most).
    let piece = |from: usize, to: usize| {
        let whole = f.str(n);
        if whole.len() == el.len() {
            whole.get(from..to).unwrap_or("")
        } else {
            std::str::from_utf8(&el[from..to]).unwrap_or("")
        }
    };
    let Some(r) = rep else {
        return vec![codes.text(el, || piece(0, el.len()))];
    };
    let mut out = Vec::with_capacity(1 + el.iter().filter(|&&c| c == r).count());
    let mut at = 0;
    for t in el.split(|&c| c == r) {
        if !t.is_empty() {
            out.push(codes.text(t, || piece(at, at + t.len())));
        }
        at += t.len() + 1;
    }
    out
}

/// The text of the 271's answer types as the one pass reads them: owned `Text` or `&'a str`
/// borrowed from the set ([`Model`]), with how fixed text is made and short codes shared.
pub(crate) trait AnswerText<'a>: Model<'a> {
    /// Whether short codes are cloned from the ones already built ([`Codes`]): owned text,
    /// which costs more to build than to clone; borrowed text is sliced where it is.
    const SHARED_CODES: bool;

    /// Fixed text (a code's meaning, a level, a loop id) as model text, without a copy.
    fn fixed(s: &'static str) -> Self;
}

impl AnswerText<'_> for Text {
    const SHARED_CODES: bool = true;

    #[inline]
    fn fixed(s: &'static str) -> Text {
        Text::const_new(s)
    }
}

impl<'a> AnswerText<'a> for &'a str {
    const SHARED_CODES: bool = false;

    #[inline]
    fn fixed(s: &'static str) -> &'a str {
        s
    }
}

/// Model text for short values (codes and qualifiers of one to three bytes), cloned from the
/// ones already built: building a `Text` writes its inline buffer piecewise and reads it
/// back whole, which stalls on store forwarding (most of building a benefit), while a clone
/// copies one built long ago. A direct-mapped table keyed by the packed value, so a slot
/// holds exactly the text of its key; other values are built as `text` builds them.
/// Borrowed text (`AnswerText::SHARED_CODES` false) is sliced where it is, the table unused.
struct Codes<S> {
    slots: [(u32, S); 64],
}

impl<S: Default> Default for Codes<S> {
    fn default() -> Codes<S> {
        Codes { slots: std::array::from_fn(|_| (0, S::default())) }
    }
}

impl<'a, S: AnswerText<'a>> Codes<S> {
    /// The model text of value `v`, whose text (`text(v)`) `t` gives.
    #[inline(always)]
    fn text(&mut self, v: &[u8], t: impl FnOnce() -> &'a str) -> S {
        if !S::SHARED_CODES {
            return S::from(t());
        }
        let p = pack_id(v);
        if p == 0 {
            return if v.is_empty() { S::default() } else { S::from(t()) };
        }
        let slot = &mut self.slots[(p.wrapping_mul(0x9E37_79B1) >> 26) as usize];
        if slot.0 != p {
            // A value that is not UTF-8 reads as "" and is not kept.
            let t = t();
            if t.is_empty() {
                return S::default();
            }
            *slot = (p, S::from(t));
        }
        slot.1.clone()
    }

    /// Element `n` of a split segment as model text (`Fields::text`).
    #[inline(always)]
    fn of(&mut self, f: &Fields<'a>, n: usize) -> S {
        let v = f.get(n);
        if S::SHARED_CODES && v.len() <= 3 {
            self.text(v, || f.str(n))
        } else if v.is_empty() {
            // Many elements are empty: their text needs no slicing.
            S::default()
        } else {
            f.text(n)
        }
    }
}

/// The start date of a DTP already split (`dated` of DTP02/DTP03).
fn dtp_from(f: &Fields<'_>) -> Option<NaiveDate> {
    dated(f.get(2), f.get(3)).map(|d| d.0)
}

/// The first of each of BHT03, BHT04 and BHT05 of the root.
fn bht(root: &Node<'_>) -> Option<(Text, Option<NaiveDate>, Text)> {
    let b = root.segments.iter().find(|s| seg_pack(s) == ID_BHT)?;
    bht_of(&Fields::new(b))
}

/// BHT03, BHT04 and BHT05 of a BHT.
fn bht_of<'a, S: From<&'a str>>(f: &Fields<'a>) -> Option<(S, Option<NaiveDate>, S)> {
    Some((f.text(3), date8(f.get(4)), f.text(5)))
}

/// TRN02 of the first TRN*2 (the payer's echo of the request's trace), else of the first TRN.
fn trace(node: &Node<'_>) -> Text {
    let mut first = None;
    for s in &node.segments {
        if seg_pack(s) == ID_TRN {
            let f = Fields::new(s);
            if f.get(1) == b"2" {
                return text(f.get(2));
            }
            first.get_or_insert(f);
        }
    }
    first.map(|f| text(f.get(2))).unwrap_or_default()
}

/// The first DMG of a loop, split.
fn dmg_of<'a>(node: &Node<'a>) -> Option<Fields<'a>> {
    node.segments.iter().find(|s| seg_pack(s) == ID_DMG).map(Fields::new)
}

/// Reads the inquiries of a built 270 tree.
pub fn extract_270(root: &Node<'_>) -> EligibilityRequest {
    let mut out = EligibilityRequest::default();
    if let Some((reference, created, time)) = bht(root) {
        (out.reference, out.created, out.time) = (reference, created, time);
    }
    for a in root.kids("2000A") {
        let payer = party(a.kid("2100A"));
        for b in a.kids("2000B") {
            let provider = party(b.kid("2100B"));
            for c in b.kids("2000C") {
                let sub = c.kid("2100C");
                let dmg = sub.and_then(dmg_of);
                let base = Inquiry {
                    payer: payer.clone(),
                    provider: provider.clone(),
                    subscriber: party(sub),
                    subscriber_birth_date: dmg.and_then(|d| date8(d.get(2))),
                    subscriber_gender: dmg.map(|d| text(d.get(3))).unwrap_or_default(),
                    ..Inquiry::default()
                };
                let has_dependents = c.kids("2000D").next().is_some();
                if let Some(n) = sub {
                    let mut q = base.clone();
                    member_inquiry(c, n, &mut q);
                    if !has_dependents || !q.services.is_empty() {
                        out.inquiries.push(q);
                    }
                }
                for d in c.kids("2000D") {
                    let mut q = base.clone();
                    if let Some(n) = d.kid("2100D") {
                        q.dependent = Some(party(Some(n)));
                        q.dependent_birth_date = dmg_of(n).and_then(|d| date8(d.get(2)));
                        member_inquiry(d, n, &mut q);
                    }
                    out.inquiries.push(q);
                }
            }
        }
    }
    out
}

fn member_inquiry(hl: &Node<'_>, nm1: &Node<'_>, q: &mut Inquiry) {
    if let Some(t) = hl.segments.iter().find(|s| seg_pack(s) == ID_TRN) {
        let t = Fields::new(t);
        q.trace = text(t.get(2));
        q.trace_originator = text(t.get(3));
    }
    q.service_date = nm1
        .segments
        .iter()
        .filter(|s| seg_pack(s) == ID_DTP)
        .map(Fields::new)
        .find(|d| d.get(1) == b"291")
        .and_then(|d| dtp_from(&d));
    for eq in nm1.kids("2110") {
        let e = Fields::new(eq.first());
        let d = e.seg.delimiters();
        let p = e.get(2);
        q.services.push(ServiceInquiry {
            service_types: repeats(e.get(1), d.repetition),
            procedure: (!p.is_empty()).then(|| Procedure::from_composite(p, d.component)),
        });
    }
}

/// One EB loop (2110C/2110D) as a benefit; its AAA errors go to `errors`.
fn benefit(node: &Node<'_>, errors: &mut Vec<RequestError>, codes: &mut Codes<Text>) -> Benefit {
    let e = Fields::new(node.first());
    let mut b = Benefit::default();
    benefit_head(&mut b, &e, [decimal(e.get(7)), decimal(e.get(8)), decimal(e.get(10))], codes);
    for s in &node.segments[1..] {
        let id = seg_pack(s);
        if matches!(id, ID_HSD | ID_MSG | ID_DTP | ID_AAA) {
            benefit_segment(&mut b, errors, id, &Fields::new(s), node.def.id, Parsed::Unknown, codes);
        }
    }
    for k in &node.children {
        if k.def.id == "2120" {
            b.related.push(Party::from_nm1(k.first()));
        }
    }
    b
}

/// A benefit from its EB, before the loop's other segments, written over `b` (a default
/// benefit; filled in place, as a benefit is a few hundred bytes to move); `amounts` are EB07,
/// EB08 and EB10 as `decimal` reads them.
fn benefit_head<'a, S: AnswerText<'a>>(
    b: &mut Benefit<S>,
    e: &Fields<'a>,
    [amount, percent, quantity]: [Option<Decimal>; 3],
    codes: &mut Codes<S>,
) {
    let delims = e.seg.delimiters();
    let p = e.get(13);
    b.code = codes.of(e, 1);
    b.coverage_level = codes.of(e, 2);
    b.service_types = repeats_in(e, 3, delims.repetition, codes);
    b.insurance_type = codes.of(e, 4);
    b.plan = txt(e, 5);
    b.period = codes.of(e, 6);
    b.amount = amount;
    b.percent = percent;
    b.quantity_qualifier = codes.of(e, 9);
    b.quantity = quantity;
    b.auth_required = yes_no(e.get(11));
    b.in_network = yes_no(e.get(12));
    b.procedure = (!p.is_empty()).then(|| procedure_in(e, 13, delims.component, codes));
}

/// `Procedure::from_fields` with its qualifier from `codes`.
fn procedure_in<'a, S: AnswerText<'a>>(f: &Fields<'a>, n: usize, component: u8, codes: &mut Codes<S>) -> Procedure<S> {
    if !S::SHARED_CODES {
        // Borrowed text: the codes table would slice the same text.
        return Procedure::from_fields(f, n, component);
    }
    let mut parts = f.components(n, component);
    let qualifier = parts.next().map_or(S::default(), |p| codes.text(p.0, || p.1));
    let code = S::from(parts.next().map_or("", |p| p.1));
    let modifiers = parts.take(4).filter(|m| !m.0.is_empty()).map(|m| codes.text(m.0, || m.1)).collect();
    Procedure { qualifier, code, modifiers }
}

/// Element `n` as model text (`Fields::text`), the empty text without copying anything.
#[inline]
fn txt<'a, S: AnswerText<'a>>(f: &Fields<'a>, n: usize) -> S {
    if f.get(n).is_empty() {
        S::default()
    } else {
        f.text(n)
    }
}

/// What one of an EB loop's own segments after the EB (an HSD, MSG, DTP or AAA, packed id
/// `id`) gives its benefit; an AAA goes to `errors` with the loop's id. `parsed` is what its
/// checks parsed, when they ran.
fn benefit_segment<'a, S: AnswerText<'a>>(
    b: &mut Benefit<S>,
    errors: &mut Vec<RequestError<S>>,
    id: u32,
    f: &Fields<'a>,
    lid: &'static str,
    parsed: Parsed,
    codes: &mut Codes<S>,
) {
    match id {
        ID_HSD => {
            let [quantity, periods, _] = parsed.amounts(|| [decimal(f.get(2)), decimal(f.get(6)), None]);
            b.deliveries.push(Delivery { qualifier: codes.of(f, 1), quantity, period: codes.of(f, 5), periods });
        }
        ID_MSG => b.messages.push(f.text(1)),
        ID_DTP => {
            let r = parsed.dates(f);
            b.dates.push(BenefitDate { qualifier: codes.of(f, 1), from: r.map(|x| x.0), to: r.map(|x| x.1) });
        }
        ID_AAA => errors.push(aaa(f, lid)),
        _ => {}
    }
}

/// "2 USED", "USED 2": the count a payer writes into a free-text MSG. Words are runs of
/// ASCII letters and digits (any other character, multibyte ones included, separates them),
/// read byte by byte: for each word "used" (any case) in order, the word before it, then the
/// word after it, when it is a number. Only the bytes that can start "used" are looked at
/// closely (a word-by-word walk spent most of a coverage's completion here).
fn used_from_messages<S: AsRef<str>>(messages: &[S]) -> Option<Decimal> {
    for m in messages {
        let b = m.as_ref().as_bytes();
        let mut from = 0;
        while let Some(i) = next_u(b, from) {
            from = i + 1;
            let word = b.get(i..i + 4).is_some_and(|w| w.eq_ignore_ascii_case(b"used"));
            if !word || alnum_at(b, i.wrapping_sub(1)) || alnum_at(b, i + 4) {
                continue;
            }
            for cand in [word_before(b, i), word_after(b, i + 4)].into_iter().flatten() {
                if let Some(d) = decimal(cand) {
                    return Some(d);
                }
            }
        }
    }
    None
}

/// The first `u` or `U` of `b` from `from` on: 16 bytes tested at once (a test the compiler
/// vectorizes), then the block that has one byte by byte.
#[inline]
fn next_u(b: &[u8], from: usize) -> Option<usize> {
    let rest = b.get(from..)?;
    let mut blocks = rest.chunks_exact(16);
    let mut at = from;
    for block in &mut blocks {
        if block.iter().fold(false, |any, &c| any | (c | 0x20 == b'u')) {
            return block.iter().position(|&c| c | 0x20 == b'u').map(|i| at + i);
        }
        at += 16;
    }
    blocks.remainder().iter().position(|&c| c | 0x20 == b'u').map(|i| at + i)
}

/// Whether byte `i` of `b` is an ASCII letter or digit (false past either end).
#[inline]
fn alnum_at(b: &[u8], i: usize) -> bool {
    b.get(i).is_some_and(u8::is_ascii_alphanumeric)
}

/// The last run of ASCII letters and digits that ends at or before `end`.
fn word_before(b: &[u8], end: usize) -> Option<&[u8]> {
    let end = b[..end].iter().rposition(u8::is_ascii_alphanumeric)? + 1;
    let start = b[..end].iter().rposition(|c| !c.is_ascii_alphanumeric()).map_or(0, |i| i + 1);
    Some(&b[start..end])
}

/// The first run of ASCII letters and digits that starts at or after `start`.
fn word_after(b: &[u8], start: usize) -> Option<&[u8]> {
    let rest = b.get(start..)?;
    let start = rest.iter().position(u8::is_ascii_alphanumeric)?;
    let len = rest[start..].iter().position(|c| !c.is_ascii_alphanumeric()).unwrap_or(rest.len() - start);
    Some(&rest[start..start + len])
}

fn frequency_limit<S: Clone + AsRef<str>>(b: &Benefit<S>) -> Option<FrequencyLimit<S>> {
    let limit = b.deliveries.iter().find(|d| d.period.as_ref() != "29" && d.quantity.is_some())?;
    let total = limit.quantity?;
    let remaining_hsd = b.deliveries.iter().find(|d| d.period.as_ref() == "29").and_then(|d| d.quantity);
    let used_msg = used_from_messages(&b.messages);
    let used = used_msg.or(remaining_hsd.map(|r| total - r));
    let remaining = remaining_hsd.or(used_msg.map(|u| total - u));
    Some(FrequencyLimit {
        procedure: b.procedure.clone(),
        service_types: b.service_types.clone(),
        unit: limit.qualifier.clone(),
        limit: total,
        period: limit.period.clone(),
        used,
        remaining,
    })
}

/// The parties and trace every answer under one subscriber loop shares.
struct Who<'p> {
    payer: &'p Party,
    provider: &'p Party,
    subscriber: &'p Party,
    trace: &'p Text,
}

fn coverage(
    hl: &Node<'_>,
    member: &Node<'_>,
    who: &Who<'_>,
    dependent: Option<Party>,
    codes: &mut Codes<Text>,
) -> Coverage {
    let t = trace(hl);
    let mut c = Coverage {
        payer: who.payer.clone(),
        provider: who.provider.clone(),
        subscriber: who.subscriber.clone(),
        dependent,
        trace: if t.is_empty() { who.trace.clone() } else { t },
        ..Coverage::default()
    };
    let mut dates = MemberDates::default();
    for s in &member.segments {
        match seg_pack(s) {
            ID_DTP => dates.see(&Fields::new(s), Parsed::Unknown),
            ID_AAA => c.errors.push(aaa(&Fields::new(s), member.def.id)),
            _ => {}
        }
    }
    dates.set(&mut c);
    c.benefits.reserve_exact(member.children.len());
    for eb in &member.children {
        if eb.def.id == "2110" {
            let b = benefit(eb, &mut c.errors, codes);
            c.benefits.push(b);
        }
    }
    derive(&mut c);
    c
}

/// The first DTP*346, *291, *347 and *356 of a member loop, parsed or not.
#[derive(Default)]
struct MemberDates([Option<Option<NaiveDate>>; 4]);

impl MemberDates {
    fn see(&mut self, d: &Fields<'_>, parsed: Parsed) {
        let slot = match d.get(1) {
            b"346" => 0,
            b"291" => 1,
            b"347" => 2,
            b"356" => 3,
            _ => return,
        };
        if self.0[slot].is_none() {
            self.0[slot] = Some(parsed.dates(d).map(|r| r.0));
        }
    }

    fn set<S>(self, c: &mut Coverage<S>) {
        let [begin, plan_date, end, elig] = self.0;
        c.plan_begin = begin.flatten().or(plan_date.flatten());
        c.plan_end = end.flatten();
        c.eligibility_begin = elig.flatten();
    }
}

/// What a coverage says from its benefits: active, network, plan, remaining amounts,
/// procedures and frequency limits. One walk finds, for each, the first benefit that
/// qualifies, as one search per field did (`remaining`, the `ACTIVE` and `INACTIVE` codes).
fn derive<S: Clone + Default + AsRef<str>>(c: &mut Coverage<S>) {
    let (mut active, mut inactive) = (false, false);
    let (mut network_plan, mut network_any) = (None, None);
    let mut plan = None;
    // The first remaining deductible (C) and out-of-pocket (G) amount in network, out of
    // network and with the network not said.
    let mut left = [[None::<Decimal>; 3]; 2];
    // Procedure-level benefits, and those that may carry a frequency limit: the two lists are
    // sized once (a first push would take room for four).
    let (mut procedures, mut limits) = (0, 0);
    for b in &c.benefits {
        procedures += usize::from(b.procedure.is_some());
        limits += usize::from(!b.deliveries.is_empty());
        let code = b.code.as_ref().as_bytes();
        let plan_level = b.procedure.is_none();
        if matches!(code, [b'1'..=b'5']) {
            active = true;
            if plan_level && network_plan.is_none() {
                network_plan = b.in_network;
            }
            if network_any.is_none() {
                network_any = b.in_network;
            }
            if plan.is_none() && !b.plan.as_ref().is_empty() {
                plan = Some(&b.plan);
            }
        } else if plan_level && matches!(code, [b'6'..=b'8']) {
            inactive = true;
        }
        let which = match code {
            b"C" => 0,
            b"G" => 1,
            _ => continue,
        };
        if b.period.as_ref() == "29" && matches!(b.coverage_level.as_ref(), "" | "IND") {
            if let Some(a) = b.amount {
                let slot = match b.in_network {
                    Some(true) => 0,
                    Some(false) => 1,
                    None => 2,
                };
                left[which][slot].get_or_insert(a);
            }
        }
    }
    let plan = plan.cloned().unwrap_or_default();
    c.active = active && !inactive;
    c.in_network = network_plan.or(network_any);
    c.plan = plan;
    let at = if c.in_network.unwrap_or(true) { 0 } else { 1 };
    c.deductible_remaining = left[0][at].or(left[0][2]);
    c.out_of_pocket_remaining = left[1][at].or(left[1][2]);
    c.procedures.reserve_exact(procedures);
    c.frequency_limits.reserve_exact(limits);
    for b in &c.benefits {
        if let Some(p) = &b.procedure {
            c.procedures.push(ProcedureCoverage {
                procedure: p.clone(),
                covered: !matches!(b.code.as_ref(), "6" | "7" | "8" | "I" | "V"),
                in_network: b.in_network,
                auth_required: b.auth_required,
                messages: b.messages.clone(),
            });
        }
        if let Some(f) = frequency_limit(b) {
            c.frequency_limits.push(f);
        }
    }
}

/// Reads the answers of a built 271 tree.
pub fn extract_271(root: &Node<'_>) -> EligibilityResponse {
    let mut out = EligibilityResponse::default();
    let mut codes = Codes::default();
    if let Some((reference, created, _)) = bht(root) {
        (out.reference, out.created) = (reference, created);
    }
    for a in root.kids("2000A") {
        let payer = party(a.kid("2100A"));
        let mut source_errors = aaa_errors(a);
        if let Some(n) = a.kid("2100A") {
            push_aaa_errors(n, &mut source_errors);
        }
        if !source_errors.is_empty() {
            out.answers.push(EligibilityAnswer::Rejected(EligibilityRejection {
                level: Text::const_new("source"),
                payer: payer.clone(),
                errors: source_errors,
                ..EligibilityRejection::default()
            }));
        }
        for b in a.kids("2000B") {
            let provider = party(b.kid("2100B"));
            let receiver_errors = b.kid("2100B").map(aaa_errors).unwrap_or_default();
            if !receiver_errors.is_empty() {
                out.answers.push(EligibilityAnswer::Rejected(EligibilityRejection {
                    level: Text::const_new("receiver"),
                    payer: payer.clone(),
                    provider: provider.clone(),
                    errors: receiver_errors,
                    ..EligibilityRejection::default()
                }));
            }
            out.answers.reserve(b.children.len());
            for c in b.kids("2000C") {
                let (mut sub, mut has_dependents) = (None, false);
                for k in &c.children {
                    match k.def.id {
                        "2100C" if sub.is_none() => sub = Some(k),
                        "2000D" => has_dependents = true,
                        _ => {}
                    }
                }
                let subscriber = party(sub);
                let trace = trace(c);
                let who = Who { payer: &payer, provider: &provider, subscriber: &subscriber, trace: &trace };
                if let Some(n) = sub {
                    let cov = coverage(c, n, &who, None, &mut codes);
                    member_answer(cov, "subscriber", &mut out.answers, has_dependents);
                }
                for d in c.kids("2000D") {
                    if let Some(n) = d.kid("2100D") {
                        let dependent = Some(party(Some(n)));
                        let cov = coverage(d, n, &who, dependent, &mut codes);
                        member_answer(cov, "dependent", &mut out.answers, false);
                    }
                }
            }
        }
    }
    out
}

fn member_answer<'a, S: AnswerText<'a>>(
    c: Coverage<S>,
    level: &'static str,
    answers: &mut Vec<EligibilityAnswer<S>>,
    has_dependents: bool,
) {
    if c.benefits.is_empty() && !c.errors.is_empty() {
        answers.push(EligibilityAnswer::Rejected(EligibilityRejection {
            level: S::fixed(level),
            payer: c.payer,
            provider: c.provider,
            subscriber: Some(c.subscriber),
            dependent: c.dependent,
            trace: c.trace,
            errors: c.errors,
        }));
    } else if !(c.benefits.is_empty() && has_dependents) {
        // A subscriber loop with dependents below and no benefits of its own only carries
        // identity: the answer is the dependent's.
        answers.push(EligibilityAnswer::Coverage(c));
    }
}

// ---------------------------------------------------------------------------------------------
// The 271 in one pass

/// Reads the answers of one 271 set and checks it (the checks of [`validate`]) in one pass
/// over its segments, as they are placed in their loops: no loop tree is built, and each
/// segment is split once for both. Issues are exactly those of [`validate`] over the tree
/// from `tree::build`, in its order: the pass only decides whether there are any, and when
/// there are (or usage needs the full walk) the tree is built and checked for them. The
/// answers are those [`extract_271`] reads from the tree, whatever the input. With `extract`
/// false they are left empty (what `validate_set` needs).
pub(crate) fn read_271<'a, S: AnswerText<'a>>(
    set: &'a x12::OwnedSet,
    extract: bool,
    issues: &mut Vec<Issue>,
) -> EligibilityResponse<S> {
    let whole = crate::values::set_text(set, extract);
    read_271_segments(|| set.segments(), whole, &set.bytes, set.segment, extract, issues)
}

/// [`read_271`] over the segments `segments` yields (twice when there are issues); `whole` is
/// the set's text when it is UTF-8 (element text is then sliced from it), `backing` its bytes
/// (segments are split in place; empty for segments from elsewhere), `set_start` the file
/// segment number of the ST.
pub(crate) fn read_271_segments<'a, S: AnswerText<'a>, I: IntoIterator<Item = SegmentRef<'a>>>(
    segments: impl Fn() -> I,
    whole: Option<&'a str>,
    backing: &'a [u8],
    set_start: u64,
    extract: bool,
    issues: &mut Vec<Issue>,
) -> EligibilityResponse<S> {
    let mut found = Vec::new();
    let pass = Pass::new(set_start, &mut found, extract, whole, backing);
    one_pass(&SCHEMA_271, pass, segments, set_start, validate, issues)
}

const K_271: u64 = loop_key("271");
const K_2000A: u64 = loop_key("2000A");
const K_2100A: u64 = loop_key("2100A");
const K_2000B: u64 = loop_key("2000B");
const K_2100B: u64 = loop_key("2100B");
const K_2000C: u64 = loop_key("2000C");
const K_2100C: u64 = loop_key("2100C");
const K_2000D: u64 = loop_key("2000D");
const K_2100D: u64 = loop_key("2100D");
const K_2110: u64 = loop_key("2110");
const K_2120: u64 = loop_key("2120");

/// The TRN of an HL loop that [`trace`] picks: TRN02 of the first TRN*2, else of the first TRN.
struct Trace<S> {
    echo: Option<S>,
    first: Option<S>,
}

impl<S> Default for Trace<S> {
    fn default() -> Trace<S> {
        Trace { echo: None, first: None }
    }
}

impl<'a, S: AnswerText<'a>> Trace<S> {
    fn see(&mut self, f: &Fields<'a>) {
        if f.get(1) == b"2" {
            if self.echo.is_none() {
                self.echo = Some(f.text(2));
            }
        } else if self.first.is_none() {
            self.first = Some(f.text(2));
        }
    }

    fn take(&mut self) -> S {
        self.echo.take().or(self.first.take()).unwrap_or_default()
    }
}

/// The state of one pass over a 271 set (see [`read_271`]). "First" below means what
/// `Node::seg` and `kid` find: the first occurrence within the loop occurrence. A loop's
/// answers are pushed as its members close and completed when it closes (a party or trace
/// can come after the loops below it: a loop takes its own segments back after its children).
struct Pass<'i, 'a, S> {
    r: Reading<'i, 'a>,
    out: EligibilityResponse<S>,
    /// Root: the first BHT seen.
    bht: bool,
    /// 2000A: where its answers start, the first 2100A's party (and whether the open 2100A is
    /// it), the AAA errors of the 2000A and of its first 2100A.
    a_from: usize,
    payer: Option<Party<S>>,
    in_payer: bool,
    a_errors: Vec<RequestError<S>>,
    payer_errors: Vec<RequestError<S>>,
    /// 2000B: where its answers start, the first 2100B's party and AAA errors.
    b_from: usize,
    provider: Option<Party<S>>,
    in_provider: bool,
    provider_errors: Vec<RequestError<S>>,
    /// 2000C: where its answers start (dependents' go in as their 2000D closes, the
    /// subscriber's is put before them when the 2000C closes), the first 2100C's party and
    /// coverage (`sub`: read), whether a 2000D came, its trace.
    c_from: usize,
    subscriber: Option<Party<S>>,
    sub: bool,
    sub_cov: Coverage<S>,
    dependents: bool,
    c_trace: Trace<S>,
    /// 2000D: whether its 2100D came, its coverage, its trace.
    dep: bool,
    dep_cov: Coverage<S>,
    d_trace: Trace<S>,
    /// The member loop (2100C/2100D) being read, when it is the first of its HL loop
    /// (`SUB` or `DEP`: its coverage is `sub_cov` or `dep_cov`, member AAA errors included):
    /// its dates and its benefits' AAA errors.
    member: u8,
    dates: MemberDates,
    eb_errors: Vec<RequestError<S>>,
    /// Benefits of the last member read, to size the next one's list.
    benefits: usize,
    codes: Codes<S>,
}

const SUB: u8 = 1;
const DEP: u8 = 2;

impl<'i, 'a, S: AnswerText<'a>> Pass<'i, 'a, S> {
    fn new(
        set_start: u64,
        issues: &'i mut Vec<Issue>,
        extract: bool,
        whole: Option<&'a str>,
        backing: &'a [u8],
    ) -> Pass<'i, 'a, S> {
        let mut out = EligibilityResponse::default();
        if extract {
            // An answer per 512 bytes of the set, so the list (hundreds of bytes an answer)
            // is not moved as it grows; real answers take more.
            out.answers.reserve(backing.len() / 512);
        }
        Pass {
            r: Reading::new(set_start, issues, extract, whole, backing),
            out,
            bht: false,
            a_from: 0,
            payer: None,
            in_payer: false,
            a_errors: Vec::new(),
            payer_errors: Vec::new(),
            b_from: 0,
            provider: None,
            in_provider: false,
            provider_errors: Vec::new(),
            c_from: 0,
            subscriber: None,
            sub: false,
            sub_cov: Coverage::default(),
            dependents: false,
            c_trace: Trace::default(),
            dep: false,
            dep_cov: Coverage::default(),
            d_trace: Trace::default(),
            member: 0,
            dates: MemberDates::default(),
            eb_errors: Vec::new(),
            benefits: 0,
            codes: Codes::default(),
        }
    }

    /// The coverage of the member loop being read.
    #[inline]
    fn cov(&mut self) -> &mut Coverage<S> {
        self.cov_codes().0
    }

    /// The coverage of the member loop being read, and the short texts.
    #[inline]
    fn cov_codes(&mut self) -> (&mut Coverage<S>, &mut Codes<S>) {
        let cov = if self.member == SUB { &mut self.sub_cov } else { &mut self.dep_cov };
        (cov, &mut self.codes)
    }

    /// Starts reading a member loop's coverage (`SUB` or `DEP`).
    fn open_member(&mut self, member: u8, dependent: Option<Party<S>>) {
        self.member = member;
        let benefits = Vec::with_capacity(self.benefits);
        // The coverage is the default its last answer left behind (`mem::take` as its HL loop
        // closed; a member loop opens a coverage only once per HL loop): only these are set,
        // not a whole new coverage written over it.
        let c = self.cov();
        c.dependent = dependent;
        c.benefits = benefits;
        self.dates = MemberDates::default();
        self.eb_errors.clear();
    }

    /// Completes the coverage of the member loop now closing, but for its parties and trace.
    fn close_member(&mut self) {
        let dates = std::mem::take(&mut self.dates);
        let mut eb_errors = std::mem::take(&mut self.eb_errors);
        let c = self.cov();
        dates.set(c);
        c.errors.append(&mut eb_errors);
        derive(c);
        self.benefits = c.benefits.len();
        self.eb_errors = eb_errors;
        self.member = 0;
    }

    /// What a segment gives the model, by its loop.
    fn extract(&mut self, def: &'static LoopDef, key: u64, id: u32, f: &Fields<'a>, opens: bool, parsed: Parsed) {
        match (key, id) {
            (K_271, ID_BHT) => {
                if let Some((reference, created, _)) = bht_of(f) {
                    (self.out.reference, self.out.created) = (reference, created);
                }
            }
            (K_2000A, ID_HL) if opens => {
                self.a_from = self.out.answers.len();
                self.payer = None;
                self.a_errors.clear();
                self.payer_errors.clear();
            }
            (K_2000A, ID_AAA) => self.a_errors.push(aaa(f, def.id)),
            (K_2100A, ID_NM1) if opens => {
                self.in_payer = self.payer.is_none();
                if self.in_payer {
                    self.payer = Some(Party::nm1(f));
                }
            }
            (K_2100A, ID_AAA) if self.in_payer => self.payer_errors.push(aaa(f, def.id)),
            (K_2000B, ID_HL) if opens => {
                self.b_from = self.out.answers.len();
                self.provider = None;
                self.provider_errors.clear();
            }
            (K_2100B, ID_NM1) if opens => {
                self.in_provider = self.provider.is_none();
                if self.in_provider {
                    self.provider = Some(Party::nm1(f));
                }
            }
            (K_2100B, ID_AAA) if self.in_provider => self.provider_errors.push(aaa(f, def.id)),
            (K_2000C, ID_HL) if opens => {
                self.c_from = self.out.answers.len();
                self.subscriber = None;
                self.sub = false;
                self.dependents = false;
                self.c_trace = Trace::default();
            }
            (K_2000C, ID_TRN) => self.c_trace.see(f),
            (K_2100C, ID_NM1) if opens && self.subscriber.is_none() => {
                self.subscriber = Some(Party::nm1(f));
                self.sub = true;
                self.open_member(SUB, None);
            }
            (K_2000D, ID_HL) if opens => {
                self.dependents = true;
                self.dep = false;
                self.d_trace = Trace::default();
            }
            (K_2000D, ID_TRN) => self.d_trace.see(f),
            (K_2100D, ID_NM1) if opens && !self.dep => {
                self.dep = true;
                self.open_member(DEP, Some(Party::nm1(f)));
            }
            (K_2100C | K_2100D, ID_DTP) if self.member != 0 => self.dates.see(f, parsed),
            (K_2100C | K_2100D, ID_AAA) if self.member != 0 => {
                let e = aaa(f, def.id);
                self.cov().errors.push(e);
            }
            (K_2110, ID_EB) if opens && self.member != 0 => {
                let amounts = parsed.amounts(|| [decimal(f.get(7)), decimal(f.get(8)), decimal(f.get(10))]);
                let (cov, codes) = self.cov_codes();
                let benefits = &mut cov.benefits;
                // Written in place (`push` of a default copied it from the stack).
                benefits.resize_with(benefits.len() + 1, Benefit::default);
                if let Some(b) = benefits.last_mut() {
                    benefit_head(b, f, amounts, codes);
                }
            }
            (K_2110, ID_HSD | ID_MSG | ID_DTP | ID_AAA) if self.member != 0 => {
                let mut errors = std::mem::take(&mut self.eb_errors);
                let (cov, codes) = self.cov_codes();
                if let Some(b) = cov.benefits.last_mut() {
                    benefit_segment(b, &mut errors, id, f, def.id, parsed, codes);
                }
                self.eb_errors = errors;
            }
            (K_2120, ID_NM1) if opens && self.member != 0 => {
                if let Some(b) = self.cov().benefits.last_mut() {
                    b.related.push(Party::nm1(f));
                }
            }
            _ => {}
        }
    }

    /// Pushes a member's answer at the end of the answers, or at `at` (before the answers
    /// pushed since).
    fn answer(&mut self, c: Coverage<S>, level: &'static str, has_dependents: bool, at: usize) {
        let n = self.out.answers.len();
        member_answer(c, level, &mut self.out.answers, has_dependents);
        if self.out.answers.len() > n && at < n {
            self.out.answers[at..].rotate_right(1);
        }
    }
}

/// The segments [`Pass`] reads: those [`check_segment`] checks, and the BHT.
#[inline]
fn read_by_pass(id: u32) -> bool {
    matches!(
        id,
        ID_HL
            | ID_NM1
            | ID_TRN
            | ID_DMG
            | ID_DTP
            | ID_REF
            | ID_PER
            | ID_N4
            | ID_MSG
            | ID_AAA
            | ID_HI
            | ID_EQ
            | ID_AMT
            | ID_INS
            | ID_EB
            | ID_HSD
            | ID_LS
            | ID_LE
            | ID_BHT
    )
}

impl<'a, S: AnswerText<'a>> OnePass<'a> for Pass<'_, 'a, S> {
    type Model = EligibilityResponse<S>;

    /// The answers read, and whether no check found anything.
    fn finish(self) -> (EligibilityResponse<S>, bool) {
        let clean = self.r.c.issues.is_empty();
        (self.out, clean)
    }
}

impl<'a, S: AnswerText<'a>> Sink<'a> for Pass<'_, 'a, S> {
    #[inline]
    fn segment(&mut self, def: &'static LoopDef, key: u64, id: u32, seg: &SegmentRef<'a>, opens: bool) {
        if !read_by_pass(id) {
            return;
        }
        let f = self.r.split(seg);
        let parsed = if key == K_271 && id == ID_BHT {
            // Only the first BHT of the root is checked and read (`Node::seg`).
            if std::mem::replace(&mut self.bht, true) {
                return;
            }
            check_bht_271(&mut self.r.c, &f);
            Parsed::Nothing
        } else {
            check_segment(&mut self.r.c, &f, def.id)
        };
        if self.r.extract {
            self.extract(def, key, id, &f, opens, parsed);
        }
    }

    fn close(&mut self, _def: &'static LoopDef, key: u64) {
        if !self.r.extract {
            return;
        }
        match key {
            K_2100C | K_2100D if self.member != 0 => self.close_member(),
            K_2000D if self.dep => {
                self.dep = false;
                let mut c = std::mem::take(&mut self.dep_cov);
                c.trace = self.d_trace.take();
                let at = self.out.answers.len();
                self.answer(c, "dependent", false, at);
            }
            K_2000C => {
                let trace = self.c_trace.take();
                if self.sub {
                    self.sub = false;
                    let mut c = std::mem::take(&mut self.sub_cov);
                    c.trace = trace.clone();
                    self.answer(c, "subscriber", self.dependents, self.c_from);
                }
                let subscriber = self.subscriber.take().unwrap_or_default();
                for a in &mut self.out.answers[self.c_from..] {
                    let (party, t) = match a {
                        EligibilityAnswer::Coverage(c) => (&mut c.subscriber, &mut c.trace),
                        EligibilityAnswer::Rejected(r) => (r.subscriber.insert(Party::default()), &mut r.trace),
                    };
                    *party = subscriber.clone();
                    if t.as_ref().is_empty() {
                        *t = trace.clone();
                    }
                }
            }
            K_2000B => {
                let provider = self.provider.take().unwrap_or_default();
                for a in &mut self.out.answers[self.b_from..] {
                    match a {
                        EligibilityAnswer::Coverage(c) => c.provider = provider.clone(),
                        EligibilityAnswer::Rejected(r) => r.provider = provider.clone(),
                    }
                }
                if !self.provider_errors.is_empty() {
                    let r = EligibilityRejection {
                        level: S::fixed("receiver"),
                        provider,
                        errors: std::mem::take(&mut self.provider_errors),
                        ..EligibilityRejection::default()
                    };
                    self.out.answers.insert(self.b_from, EligibilityAnswer::Rejected(r));
                }
            }
            K_2000A => {
                let payer = self.payer.take().unwrap_or_default();
                for a in &mut self.out.answers[self.a_from..] {
                    match a {
                        EligibilityAnswer::Coverage(c) => c.payer = payer.clone(),
                        EligibilityAnswer::Rejected(r) => r.payer = payer.clone(),
                    }
                }
                let mut errors = std::mem::take(&mut self.a_errors);
                errors.append(&mut self.payer_errors);
                if !errors.is_empty() {
                    let r = EligibilityRejection {
                        level: S::fixed("source"),
                        payer,
                        errors,
                        ..EligibilityRejection::default()
                    };
                    self.out.answers.insert(self.a_from, EligibilityAnswer::Rejected(r));
                }
            }
            _ => {}
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Validation shared by the front-end sets

pub(crate) const ID_QUALIFIERS: &[&str] =
    &["24", "34", "46", "FI", "II", "MI", "PI", "XV", "XX", "SV", "ZZ", "PP", "ND", "NI", "AD", "SJ", "MR"];

/// Element checks for segments common to 270/271, 276/277, 278: returns true when handled.
pub(crate) fn check_common(c: &mut Checks<'_>, seg: &Fields<'_>, lid: &'static str) -> bool {
    // Dispatch on the packed id: one integer compare per arm instead of a slice compare.
    match pack_id(seg.id) {
        ID_HL => {
            c.required(seg, lid, 1);
            c.required(seg, lid, 3);
            c.code(seg, lid, 4, &["0", "1"]);
        }
        ID_NM1 => {
            c.required(seg, lid, 1);
            if c.required(seg, lid, 2) {
                c.code(seg, lid, 2, &["1", "2"]);
            }
            c.length(seg, lid, 3, 1, 60);
            c.code(seg, lid, 8, ID_QUALIFIERS);
            if seg.get(8) == b"XX" {
                c.npi(seg, lid, 9);
            }
            if !seg.get(8).is_empty() {
                c.required(seg, lid, 9);
            }
            c.length(seg, lid, 9, 2, 80);
        }
        ID_TRN => {
            c.required(seg, lid, 1);
            c.code(seg, lid, 1, &["1", "2"]);
            c.required(seg, lid, 2);
            c.length(seg, lid, 2, 1, 50);
            c.length(seg, lid, 3, 10, 10);
        }
        ID_DMG => {
            c.code(seg, lid, 1, &["D8"]);
            c.date(seg, lid, 2);
            c.code(seg, lid, 3, &["F", "M", "U"]);
        }
        ID_DTP => {
            c.dtp(seg, lid);
        }
        ID_REF => {
            c.required(seg, lid, 1);
            c.required(seg, lid, 2);
            c.length(seg, lid, 2, 1, 50);
        }
        ID_PER => {
            c.required(seg, lid, 1);
        }
        ID_N4 => {
            c.required(seg, lid, 1);
        }
        ID_MSG => {
            c.required(seg, lid, 1);
            c.length(seg, lid, 1, 1, 264);
        }
        ID_AAA => {
            if c.required(seg, lid, 1) {
                c.code(seg, lid, 1, &["Y", "N"]);
            }
            // AAA03 lists differ per guide (271, 278, 277): only its shape is checked.
            if c.required(seg, lid, 3) {
                c.length(seg, lid, 3, 2, 2);
            }
            if c.required(seg, lid, 4) {
                c.code(seg, lid, 4, &AAA_FOLLOW_UP_CODES);
            }
        }
        ID_HI => check_hi(c, &seg.seg, lid),
        _ => return false,
    }
    true
}

/// HI diagnoses: qualifier and an ICD-10-CM code without the decimal point.
pub(crate) fn check_hi(c: &mut Checks<'_>, hi: &SegmentRef<'_>, lid: &'static str) {
    const ANY: &[&[u8]] = &[b"ABK", b"ABF", b"ABJ", b"ABN", b"BK", b"BF", b"BJ", b"BN", b"BP", b"BO", b"BR", b"BQ"];
    c.diagnoses(hi, lid, |_| ANY);
}

/// A composite procedure element: qualifier from the list, code present (and UTF-8, as the
/// model's text is). Read in place: no `Procedure` is built and the segment id is only
/// formatted for a message.
pub(crate) fn check_procedure(c: &mut Checks<'_>, f: &Fields<'_>, lid: &'static str, el: usize) {
    const QUALIFIERS: [&[u8]; 10] = [b"AD", b"CJ", b"HC", b"ID", b"IV", b"N4", b"ZZ", b"NU", b"ER", b"WK"];
    let v = f.get(el);
    if v.is_empty() {
        return;
    }
    let seg = &f.seg;
    let mut parts = components(v, seg.delimiters().component);
    let qualifier = parts.next().unwrap_or(b"");
    let code = parts.next().unwrap_or(b"");
    if !QUALIFIERS.contains(&qualifier) {
        let id = String::from_utf8_lossy(seg.id());
        c.issues.push(Issue::element(
            seg,
            c.set_start,
            Some(lid),
            el as u16,
            Some(1),
            IssueCode::InvalidCode,
            format!("invalid product/service id qualifier in {id}{el:02}-1"),
        ));
    }
    if code.is_empty() || !code.is_ascii() && std::str::from_utf8(code).is_err() {
        let id = String::from_utf8_lossy(seg.id());
        c.issues.push(Issue::element(
            seg,
            c.set_start,
            Some(lid),
            el as u16,
            Some(2),
            IssueCode::RequiredElementMissing,
            format!("procedure code missing in {id}{el:02}-2"),
        ));
    }
}

/// The checks of a set's (first) BHT.
fn check_bht(c: &mut Checks<'_>, bht: &Fields<'_>, lid: &'static str, purpose: &[&str], structure: &str) {
    c.code(bht, lid, 1, &[structure]);
    c.code(bht, lid, 2, purpose);
    c.required(bht, lid, 3);
    c.required(bht, lid, 4);
    c.date(bht, lid, 4);
    c.required(bht, lid, 5);
}

/// The checks of the 271's (first) BHT.
fn check_bht_271(c: &mut Checks<'_>, bht: &Fields<'_>) {
    check_bht(c, bht, "271", &["06", "11"], "0022");
}

const EB01: &[&str] = &[
    "1", "2", "3", "4", "5", "6", "7", "8", "A", "B", "C", "D", "E", "F", "G", "H", "I", "J", "K", "L", "M", "N", "O",
    "P", "Q", "R", "S", "T", "U", "V", "W", "X", "Y", "CB", "MC",
];
const COVERAGE_LEVELS: &[&str] = &["CHD", "DEP", "ECH", "EMP", "ESP", "FAM", "IND", "SPC", "SPO", "TWO"];
const PERIODS: &[&str] =
    &["6", "7", "13", "21", "22", "23", "24", "25", "26", "27", "28", "29", "30", "31", "32", "33", "34", "35", "36"];
/// Whether a value is in `EB01`, `COVERAGE_LEVELS` or `PERIODS`, by byte patterns instead of
/// a slice compare per entry (a test keeps each in step with its list).
#[inline(always)]
fn eb01_listed(v: &[u8]) -> bool {
    matches!(v, [b'1'..=b'8'] | [b'A'..=b'Y'] | b"CB" | b"MC")
}

#[inline(always)]
fn level_listed(v: &[u8]) -> bool {
    matches!(v, b"CHD" | b"DEP" | b"ECH" | b"EMP" | b"ESP" | b"FAM" | b"IND" | b"SPC" | b"SPO" | b"TWO")
}

#[inline(always)]
fn period_listed(v: &[u8]) -> bool {
    matches!(v, [b'6' | b'7'] | b"13" | [b'2', b'1'..=b'9'] | [b'3', b'0'..=b'6'])
}

/// `Checks::code` against a list, unless `listed` (the list's own test) already says the
/// value is in it, when the check has nothing to report.
#[inline(always)]
fn code_listed(
    c: &mut Checks<'_>,
    seg: &Fields<'_>,
    lid: &'static str,
    el: usize,
    list: &[&str],
    listed: fn(&[u8]) -> bool,
) {
    let v = seg.get(el);
    if !v.is_empty() && !listed(v) {
        c.code(seg, lid, el, list);
    }
}

/// Implementation-guide (SNIP 2) checks over a built 270 or 271 tree.
pub fn validate(root: &Node<'_>, set_start: u64, issues: &mut Vec<Issue>) {
    check_usage(root, set_start, issues);
    let response = root.def.id == "271";
    let mut c = Checks::new(set_start, issues);
    if let Some(bht) = root.seg("BHT") {
        let bht = &Fields::new(bht);
        if response {
            check_bht_271(&mut c, bht);
        } else {
            check_bht(&mut c, bht, "270", &["01", "13", "36"], "0022");
        }
    }
    root.walk(&mut |n: &Node<'_>| {
        let lid = n.def.id;
        for seg in &n.segments {
            check_segment(&mut c, &Fields::new(seg), lid);
        }
    });
}

/// The element checks of one 270 or 271 segment in loop `lid`, whatever its loop: what
/// [`validate`] runs on every segment of the tree (the first BHT aside) and the 271's one
/// pass on every segment it places.
fn check_segment(c: &mut Checks<'_>, seg: &Fields<'_>, lid: &'static str) -> Parsed {
    match pack_id(seg.id) {
        // The DTP's checks are `check_common`'s, here for the dates they parse.
        ID_DTP => return Parsed::Dates(c.dtp(seg, lid)),
        ID_EB => {
            if c.required(seg, lid, 1) {
                code_listed(c, seg, lid, 1, EB01, eb01_listed);
            }
            code_listed(c, seg, lid, 2, COVERAGE_LEVELS, level_listed);
            code_listed(c, seg, lid, 6, PERIODS, period_listed);
            let amount = c.decimal(seg, lid, 7);
            let percent = c.decimal(seg, lid, 8);
            let quantity = c.decimal(seg, lid, 10);
            c.code(seg, lid, 11, &["N", "U", "Y"]);
            c.code(seg, lid, 12, &["N", "U", "W", "Y"]);
            check_procedure(c, seg, lid, 13);
            return Parsed::Amounts([amount, percent, quantity]);
        }
        ID_HSD => {
            let quantity = c.decimal(seg, lid, 2);
            code_listed(c, seg, lid, 5, PERIODS, period_listed);
            let periods = c.decimal(seg, lid, 6);
            return Parsed::Amounts([quantity, periods, None]);
        }
        _ => {}
    }
    if check_common(c, seg, lid) {
        return Parsed::Nothing;
    }
    match pack_id(seg.id) {
        ID_EQ => {
            if seg.get(1).is_empty() && seg.get(2).is_empty() {
                c.required(seg, lid, 1);
            }
            check_procedure(c, seg, lid, 2);
            c.code(seg, lid, 3, COVERAGE_LEVELS);
        }
        ID_AMT => {
            c.required(seg, lid, 1);
            c.req_decimal(seg, lid, 2);
        }
        ID_INS => {
            c.code(seg, lid, 1, &["Y", "N"]);
        }
        ID_LS | ID_LE => {
            c.code(seg, lid, 1, &["2120"]);
        }
        _ => {}
    }
    Parsed::Nothing
}

/// Values the checks of a segment parsed, handed on so the model does not parse them again.
/// Each is what `decimal` or `dated` of the elements gives.
#[derive(Clone, Copy)]
enum Parsed {
    /// The checks did not run (the tree route) or parsed nothing.
    Unknown,
    Nothing,
    /// EB07, EB08, EB10; HSD02, HSD06.
    Amounts([Option<Decimal>; 3]),
    /// A DTP's DTP03 read by DTP02.
    Dates(Option<(NaiveDate, NaiveDate)>),
}

impl Parsed {
    #[inline]
    fn amounts(self, parse: impl FnOnce() -> [Option<Decimal>; 3]) -> [Option<Decimal>; 3] {
        match self {
            Parsed::Amounts(a) => a,
            _ => parse(),
        }
    }

    /// `dated` of DTP02 and DTP03.
    #[inline]
    fn dates(self, f: &Fields<'_>) -> Option<(NaiveDate, NaiveDate)> {
        match self {
            Parsed::Dates(d) => d,
            _ => dated(f.get(2), f.get(3)),
        }
    }
}

/// Builds, validates and extracts one 270 set from its segments (ST..SE).
pub fn parse_270<'a>(
    segments: impl IntoIterator<Item = SegmentRef<'a>>,
    issues: &mut Vec<Issue>,
) -> EligibilityRequest {
    let mut segs = segments.into_iter().peekable();
    let start = segs.peek().map(|s| s.index()).unwrap_or(1);
    let root = build(&SCHEMA_270, segs, issues);
    validate(&root, start, issues);
    extract_270(&root)
}

/// Builds, validates and extracts one 271 set from its segments (ST..SE).
pub fn parse_271<'a>(
    segments: impl IntoIterator<Item = SegmentRef<'a>>,
    issues: &mut Vec<Issue>,
) -> EligibilityResponse {
    let mut segs = segments.into_iter().peekable();
    let start = segs.peek().map(|s| s.index()).unwrap_or(1);
    let root = build(&SCHEMA_271, segs, issues);
    validate(&root, start, issues);
    extract_271(&root)
}

// ---------------------------------------------------------------------------------------------
// Building

pub(crate) fn d8(d: NaiveDate) -> String {
    d.format("%Y%m%d").to_string()
}

pub(crate) fn opt_d8(d: Option<NaiveDate>) -> String {
    d.map(d8).unwrap_or_default()
}

/// NM1 from a party: person (NM102 1) when a first name is given, else organization.
pub(crate) fn nm1(p: &Party) -> Segment {
    let kind = if p.first.is_empty() { "2" } else { "1" };
    Segment::new("NM1", [p.entity.as_str(), kind, &p.last_or_org, &p.first, "", "", "", &p.id_qualifier, &p.id])
}

pub(crate) fn procedure_element(p: &Procedure) -> Element {
    let mut parts = vec![p.qualifier.clone(), p.code.clone()];
    parts.extend(p.modifiers.iter().cloned());
    Element::composite(parts)
}

pub(crate) fn hl(n: usize, parent: usize, level: &str, children: bool) -> Segment {
    let parent = if parent == 0 { String::new() } else { parent.to_string() };
    Segment::new("HL", [n.to_string(), parent, level.to_string(), if children { "1" } else { "0" }.to_string()])
}

pub(crate) fn dmg(birth: Option<NaiveDate>, gender: &str) -> Option<Segment> {
    birth.map(|b| Segment::new("DMG", ["D8".to_string(), d8(b), gender.to_string()]))
}

/// The body (BHT through the last EQ; ST and SE are the writer's) of a 270 asking about each
/// inquiry, one information source loop per inquiry.
pub fn build_270(request: &EligibilityRequest) -> Vec<Segment> {
    let mut out = vec![Segment::new(
        "BHT",
        [
            "0022".to_string(),
            "13".to_string(),
            request.reference.to_string(),
            opt_d8(request.created),
            request.time.to_string(),
        ],
    )];
    let mut n = 0;
    for q in &request.inquiries {
        let source = n + 1;
        out.push(hl(source, 0, "20", true));
        out.push(nm1(&q.payer));
        out.push(hl(source + 1, source, "21", true));
        out.push(nm1(&q.provider));
        out.push(hl(source + 2, source + 1, "22", q.dependent.is_some()));
        n = source + 2;
        let member = |out: &mut Vec<Segment>, who: &Party, birth, gender: &str| {
            out.push(Segment::new("TRN", ["1", &q.trace, &q.trace_originator]));
            out.push(nm1(who));
            out.extend(dmg(birth, gender));
            if let Some(d) = q.service_date {
                out.push(Segment::new("DTP", ["291".to_string(), "D8".to_string(), d8(d)]));
            }
            for s in &q.services {
                let types = Element { repetitions: s.service_types.iter().map(|t| vec![t.to_string()]).collect() };
                let proc = s.procedure.as_ref().map(procedure_element).unwrap_or_default();
                out.push(Segment { id: "EQ".into(), elements: vec![types, proc] });
            }
        };
        match &q.dependent {
            None => member(&mut out, &q.subscriber, q.subscriber_birth_date, &q.subscriber_gender),
            Some(dep) => {
                out.push(nm1(&q.subscriber));
                out.extend(dmg(q.subscriber_birth_date, &q.subscriber_gender));
                out.push(hl(n + 1, n, "23", false));
                n += 1;
                member(&mut out, dep, q.dependent_birth_date, "");
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The code lists' byte patterns hold exactly the lists' values, over every value of up
    /// to three letters and digits.
    #[test]
    fn listed_patterns_match_their_lists() {
        let alphabet: Vec<u8> = (b'0'..=b'9').chain(b'A'..=b'Z').collect();
        let mut values: Vec<Vec<u8>> = vec![Vec::new()];
        for len in 1..=3 {
            let mut next = Vec::new();
            for v in values.iter().filter(|v| v.len() == len - 1) {
                for &c in &alphabet {
                    let mut w = v.clone();
                    w.push(c);
                    next.push(w);
                }
            }
            values.extend(next);
        }
        for v in &values {
            let is = |list: &[&str]| list.iter().any(|x| x.as_bytes() == &v[..]);
            assert_eq!(eb01_listed(v), is(EB01), "{v:?}");
            assert_eq!(level_listed(v), is(COVERAGE_LEVELS), "{v:?}");
            assert_eq!(period_listed(v), is(PERIODS), "{v:?}");
        }
    }

    /// What `derive` computed before it walked the benefits once: one search per field.
    fn derive_by_searches(c: &mut Coverage) {
        const ACTIVE: [&str; 5] = ["1", "2", "3", "4", "5"];
        const INACTIVE: [&str; 3] = ["6", "7", "8"];
        fn remaining(benefits: &[Benefit], code: &str, network: bool) -> Option<Decimal> {
            let candidates = || {
                benefits.iter().filter(move |b| {
                    b.code == code
                        && b.period == "29"
                        && b.amount.is_some()
                        && matches!(b.coverage_level.as_str(), "" | "IND")
                })
            };
            candidates()
                .find(|b| b.in_network == Some(network))
                .or_else(|| candidates().find(|b| b.in_network.is_none()))
                .and_then(|b| b.amount)
        }
        let plan_level = |b: &&Benefit| b.procedure.is_none();
        let active = |b: &&Benefit| ACTIVE.contains(&b.code.as_str());
        c.active = c.benefits.iter().any(|b| active(&b))
            && !c.benefits.iter().filter(plan_level).any(|b| INACTIVE.contains(&b.code.as_str()));
        c.in_network = c
            .benefits
            .iter()
            .filter(active)
            .filter(plan_level)
            .find_map(|b| b.in_network)
            .or_else(|| c.benefits.iter().filter(active).find_map(|b| b.in_network));
        c.plan =
            c.benefits.iter().filter(active).find(|b| !b.plan.is_empty()).map(|b| b.plan.clone()).unwrap_or_default();
        let network = c.in_network.unwrap_or(true);
        c.deductible_remaining = remaining(&c.benefits, "C", network);
        c.out_of_pocket_remaining = remaining(&c.benefits, "G", network);
    }

    proptest::proptest! {
        /// One walk over the benefits says what one search per field said.
        #[test]
        fn derive_reads_as_the_searches(
            bs in proptest::collection::vec(
                (
                    proptest::sample::select(vec!["1", "2", "5", "6", "8", "C", "G", "A", "F", "I", "", "CB", "10"]),
                    proptest::sample::select(vec!["29", "23", "", "2"]),
                    proptest::sample::select(vec!["", "IND", "FAM"]),
                    proptest::option::of(0u32..3),
                    proptest::option::of(proptest::bool::ANY),
                    proptest::bool::ANY,
                    proptest::sample::select(vec!["", "P1", "P2"]),
                ),
                0..12,
            )
        ) {
            let benefits: Vec<Benefit> = bs
                .iter()
                .map(|(code, period, level, amount, in_network, procedure, plan)| Benefit {
                    code: Text::from(*code),
                    period: Text::from(*period),
                    coverage_level: Text::from(*level),
                    amount: amount.map(Decimal::from),
                    in_network: *in_network,
                    procedure: procedure.then(Procedure::default),
                    plan: Text::from(*plan),
                    ..Benefit::default()
                })
                .collect();
            let mut got = Coverage { benefits: benefits.clone(), ..Coverage::default() };
            derive(&mut got);
            let mut want = Coverage { benefits, ..Coverage::default() };
            derive_by_searches(&mut want);
            proptest::prop_assert_eq!(
                (got.active, got.in_network, &got.plan, got.deductible_remaining, got.out_of_pocket_remaining),
                (want.active, want.in_network, &want.plan, want.deductible_remaining, want.out_of_pocket_remaining)
            );
        }
    }

    #[test]
    fn follow_up_codes_match_their_table() {
        assert!(AAA_FOLLOW_UPS.iter().map(|(k, _)| *k).eq(AAA_FOLLOW_UP_CODES));
    }

    /// Segments a loop takes back after its children (a 2100B after the 2000C, a member's
    /// AAA after its benefits, a 2000C's TRN after its 2000D, a subscriber after a dependent),
    /// second occurrences where the tree reads the first, and AAA errors at every level: the
    /// one pass reads the answers the tree extraction reads.
    #[test]
    fn one_pass_reads_late_and_repeated_loops_as_the_tree() {
        let isa = "ISA*00*          *00*          *ZZ*A              *ZZ*B              *261201*0900*^*00501*000000001*0*T*:~\
GS*HB*A*B*20261201*0900*1*X*005010X279A1~";
        let bodies = [
            // 2100B after the 2000C (clean usage), member AAA after a DMG that closed the 2110.
            "HL*1**20*1~NM1*PR*2*PAYER*****PI*P1~HL*2*1*21*1~HL*3*2*22*0~TRN*2*T1*1234567890~\
NM1*IL*1*DOE*JANE****MI*M1~EB*1*IND*30*PR*PLAN~DMG*D8*19700101*F~AAA*Y**72*C~DTP*346*D8*20260101~\
DTP*346*D8*20250101~NM1*1P*2*CLINIC*****XX*1234567893~AAA*N**43*C~",
            // Subscriber after its dependent, the 2000C's TRN after the 2000D, a second 2100C,
            // a 2000D with no 2100D, source errors on 2000A and 2100A.
            "HL*1**20*1~AAA*Y**42*R~NM1*PR*2*PAYER*****PI*P1~AAA*N**79*C~HL*2*1*21*1~NM1*1P*2*CLINIC~\
HL*3*2*22*1~HL*4*3*23*0~TRN*1*D1~NM1*03*1*DOE*KID~EB*1*FAM*30~EB*6*IND*30~MSG*GONE~NM1*IL*1*DOE*JANE~\
EB*C*IND*30*PR**29*100*****N~EB*C*IND*30*PR**29*200*****Y~TRN*1*C1~TRN*2*C2~NM1*IL*1*OTHER~EB*1~\
HL*5*3*23*0~HL*6*2*22*0~NM1*IL*1*ROE*RICK~AAA*N**75*C~EB*F*IND**PR********Y*HC:62323:50~HSD*VS*4***23~\
HSD*VS*3***29~LS*2120~NM1*1P*2*OTHER CLINIC~NM1*FA*2*FACILITY~LE*2120~DTP*292*RD8*20260101-20261231~AAA*Y**15*C~",
            // A subscriber with dependents and no benefits of its own; dependents answering
            // with errors only.
            "HL*1**20*1~NM1*PR*2*PAYER~HL*2*1*21*1~NM1*1P*2*CLINIC~HL*3*2*22*1~NM1*IL*1*DOE~\
HL*4*3*23*0~NM1*03*1*DOE*A~AAA*N**67*C~HL*5*3*23*0~TRN*2*D2~NM1*03*1*DOE*B~NM1*03*1*DOE*C~EB*1~\
HL*6**20*1~NM1*PR*2*SECOND PAYER~HL*7*6*21*0~NM1*1P*2*CLINIC~AAA*N**51*C~",
        ];
        for body in bodies {
            let n = body.matches('~').count() + 3;
            let file = format!(
                "{isa}ST*271*0001*005010X279A1~BHT*0022*11*R1*20261201*0900~{body}SE*{n}*0001~GE*1*1~IEA*1*000000001~"
            );
            let set = x12::StreamReader::new(file.as_bytes())
                .find_map(|e| match e.expect("in memory") {
                    x12::Event::Set(s) => Some(s),
                    _ => None,
                })
                .expect("one set");
            let mut tree_issues = Vec::new();
            let root = build(&SCHEMA_271, set.segments(), &mut tree_issues);
            validate(&root, set.segment, &mut tree_issues);
            let want = extract_271(&root);
            let mut issues = Vec::new();
            let got = read_271(&set, true, &mut issues);
            assert_eq!(got, want, "{body}");
            assert_eq!(issues, tree_issues, "{body}");
            let mut view_issues = Vec::new();
            let view = read_271::<&str>(&set, true, &mut view_issues);
            assert_eq!(serde_json::to_string(&view).ok(), serde_json::to_string(&want).ok(), "{body}");
            assert_eq!(view_issues, tree_issues, "{body}");
            assert!(want.answers.len() >= 2, "{body}: {:?}", want.answers);
        }
    }

    /// The borrowed answers read what the owned ones read (the same JSON, the same issues),
    /// which is what the tree extraction reads, with text that needs care: multibyte
    /// characters in repeated, composite and free-text elements, a byte that is not UTF-8
    /// (the set's text is then unknown and each element is read alone), and a repetition
    /// separator that cuts a character in two.
    #[test]
    fn borrowed_answers_read_as_owned() {
        let isa = "ISA*00*          *00*          *ZZ*A              *ZZ*B              *261201*0900*^*00501*000000001*0*T*:~\
GS*HB*A*B*20261201*0900*1*X*005010X279A1~";
        let body = "HL*1**20*1~NM1*PR*2*PAYÉR~HL*2*1*21*1~NM1*1P*2*CLINIC~HL*3*2*22*0~TRN*2*T1é~\
NM1*IL*1*DOE*JANÉ~EB*1*IND*30^é1^^A7^é*PR*PLAN É*******Y*HC:64493:5é:50~MSG*2 USÉD; USED 3~\
HSD*VS*4***23~HSD*é*1***29~AAA*N**72*C~EB*C*IÑD*é*PR**29*10~MSG*é~DTP*é*D8*20260101~EB*F~";
        for (rep, extra) in
            [(b'^', &b""[..]), (b'^', &b"MSG*\xFFX\xC3~"[..]), (0xA9, &b""[..]), (0xA9, &b"MSG*\xA9~"[..])]
        {
            let mut file = isa.as_bytes().to_vec();
            let at = isa.find("*^*").expect("ISA11") + 1;
            file[at] = rep;
            let mut body = body.as_bytes().to_vec();
            body.extend_from_slice(extra);
            let n = body.iter().filter(|&&c| c == b'~').count() + 3;
            file.extend_from_slice(b"ST*271*0001*005010X279A1~BHT*0022*11*R1*20261201*0900~");
            file.extend_from_slice(&body);
            file.extend_from_slice(format!("SE*{n}*0001~GE*1*1~IEA*1*000000001~").as_bytes());
            let set = x12::StreamReader::new(&file[..])
                .find_map(|e| match e.expect("in memory") {
                    x12::Event::Set(s) => Some(s),
                    _ => None,
                })
                .expect("one set");
            let mut tree_issues = Vec::new();
            let root = build(&SCHEMA_271, set.segments(), &mut tree_issues);
            validate(&root, set.segment, &mut tree_issues);
            let want = extract_271(&root);
            let (mut issues, mut view_issues) = (Vec::new(), Vec::new());
            let got = read_271(&set, true, &mut issues);
            let view = read_271::<&str>(&set, true, &mut view_issues);
            let label = format!("{rep} {extra:?}");
            assert_eq!(got, want, "{label}");
            assert_eq!(serde_json::to_string(&view).ok(), serde_json::to_string(&want).ok(), "{label}");
            assert_eq!((&issues, &view_issues), (&tree_issues, &tree_issues), "{label}");
            let c = want.coverages().next().expect("a coverage");
            assert_eq!(c.benefits.len(), 3, "{label}");
            // As the 270's reading, piece by piece, reads them.
            assert_eq!(c.benefits[0].service_types, repeats("30^é1^^A7^é".as_bytes(), Some(rep)), "{label}");
        }
    }

    proptest::proptest! {
        /// Words read byte by byte are the words read by characters (the reading before).
        #[test]
        fn used_count_by_bytes_reads_as_by_chars(m in "([0-9]{1,3}|USED|used|UsEd|USEDX|U|[a-zé\\.;: ]{1,4}|ü){0,12}") {
            fn by_chars(messages: &[Text]) -> Option<Decimal> {
                for m in messages {
                    let mut words = m.split(|c: char| !c.is_ascii_alphanumeric()).filter(|w| !w.is_empty());
                    let mut before: Option<&str> = None;
                    while let Some(w) = words.next() {
                        if w.eq_ignore_ascii_case("used") {
                            let after = words.clone().next();
                            for cand in [before, after].into_iter().flatten() {
                                if let Some(d) = decimal(cand.as_bytes()) {
                                    return Some(d);
                                }
                            }
                        }
                        before = Some(w);
                    }
                }
                None
            }
            let m = vec![Text::from(m.as_str()), Text::from("2 USED")];
            proptest::prop_assert_eq!(used_from_messages(&m), by_chars(&m));
            proptest::prop_assert_eq!(used_from_messages(&m[..1]), by_chars(&m[..1]));
        }
    }

    #[test]
    fn used_count_from_free_text() {
        let m = |s: &str| vec![Text::from(s)];
        assert_eq!(used_from_messages(&m("LIMITED TO 4 PER CALENDAR YEAR; 2 USED")), Some(Decimal::from(2)));
        assert_eq!(used_from_messages(&m("VISITS USED: 3")), Some(Decimal::from(3)));
        assert_eq!(used_from_messages(&m("NO LIMIT")), None);
    }
}
