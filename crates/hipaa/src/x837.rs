//! 837P professional claims, 005010X222A1 (GS08/ST03 `005010X222A2` accepted too).

use crate::common::{cas_into, Adjustment, Model, Party, Procedure, Text};
use crate::issue::{Issue, IssueCode};
use crate::tree::{
    check_usage, claims_in, l, loop_key, one_pass, pack_id, s, seg_pack, LoopDef, Node, OnePass, Sink, Trigger,
};
use crate::values::{dated, decimal, text, Checks, Elements, Fields, Reading, Sum};
use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use x12::SegmentRef;

const NM1: &str = "NM1";

const L2330: [LoopDef; 7] = [
    l("2330A", Trigger::qual(NM1, 1, &["IL"]), &[s("N3", 0, 1), s("N4", 0, 1), s("REF", 0, 3)], &[], 1, 1),
    l(
        "2330B",
        Trigger::qual(NM1, 1, &["PR"]),
        &[s("N3", 0, 1), s("N4", 0, 1), s("DTP", 0, 1), s("REF", 0, 6)],
        &[],
        1,
        1,
    ),
    l("2330C", Trigger::qual(NM1, 1, &["DN", "P3"]), &[s("REF", 0, 3)], &[], 0, 2),
    l("2330D", Trigger::qual(NM1, 1, &["82"]), &[s("REF", 0, 3)], &[], 0, 1),
    l("2330E", Trigger::qual(NM1, 1, &["77"]), &[s("REF", 0, 3)], &[], 0, 1),
    l("2330F", Trigger::qual(NM1, 1, &["DQ"]), &[s("REF", 0, 3)], &[], 0, 1),
    l("2330G", Trigger::qual(NM1, 1, &["85"]), &[s("REF", 0, 2)], &[], 0, 1),
];

const L2400_KIDS: [LoopDef; 11] = [
    l("2410", Trigger::seg("LIN"), &[s("CTP", 1, 1), s("REF", 0, 1)], &[], 0, 1),
    l("2420A", Trigger::qual(NM1, 1, &["82"]), &[s("PRV", 0, 1), s("REF", 0, 20)], &[], 0, 1),
    l("2420B", Trigger::qual(NM1, 1, &["QB"]), &[s("REF", 0, 20)], &[], 0, 1),
    l("2420C", Trigger::qual(NM1, 1, &["77"]), &[s("N3", 1, 1), s("N4", 1, 1), s("REF", 0, 3)], &[], 0, 1),
    l("2420D", Trigger::qual(NM1, 1, &["DQ"]), &[s("REF", 0, 20)], &[], 0, 1),
    l(
        "2420E",
        Trigger::qual(NM1, 1, &["DK"]),
        &[s("N3", 0, 1), s("N4", 0, 1), s("REF", 0, 20), s("PER", 0, 1)],
        &[],
        0,
        1,
    ),
    l("2420F", Trigger::qual(NM1, 1, &["DN", "P3"]), &[s("REF", 0, 20)], &[], 0, 2),
    l("2420G", Trigger::qual(NM1, 1, &["PW"]), &[s("N3", 1, 1), s("N4", 1, 1)], &[], 0, 1),
    l("2420H", Trigger::qual(NM1, 1, &["45"]), &[s("N3", 1, 1), s("N4", 1, 1)], &[], 0, 1),
    l("2430", Trigger::seg("SVD"), &[s("CAS", 0, 5), s("DTP", 1, 1), s("AMT", 0, 1)], &[], 0, 15),
    l("2440", Trigger::seg("LQ"), &[s("FRM", 1, 99)], &[], 0, 0),
];

const L2300_KIDS: [LoopDef; 8] = [
    l("2310A", Trigger::qual(NM1, 1, &["DN", "P3"]), &[s("REF", 0, 3)], &[], 0, 1),
    l("2310B", Trigger::qual(NM1, 1, &["82"]), &[s("PRV", 0, 1), s("REF", 0, 4)], &[], 0, 1),
    l(
        "2310C",
        Trigger::qual(NM1, 1, &["77"]),
        &[s("N3", 1, 1), s("N4", 1, 1), s("REF", 0, 3), s("PER", 0, 1)],
        &[],
        0,
        1,
    ),
    l("2310D", Trigger::qual(NM1, 1, &["DQ"]), &[s("REF", 0, 3)], &[], 0, 1),
    l("2310E", Trigger::qual(NM1, 1, &["PW"]), &[s("N3", 1, 1), s("N4", 1, 1)], &[], 0, 1),
    l("2310F", Trigger::qual(NM1, 1, &["45"]), &[s("N3", 1, 1), s("N4", 1, 1)], &[], 0, 1),
    l("2320", Trigger::seg("SBR"), &[s("CAS", 0, 5), s("AMT", 0, 3), s("OI", 1, 1), s("MOA", 0, 1)], &L2330, 0, 10),
    l(
        "2400",
        Trigger::seg("LX"),
        &[
            s("SV1", 1, 1),
            s("SV5", 0, 1),
            s("PWK", 0, 10),
            s("CR1", 0, 1),
            s("CR3", 0, 1),
            s("CRC", 0, 3),
            s("DTP", 1, 0),
            s("QTY", 0, 2),
            s("MEA", 0, 5),
            s("CN1", 0, 1),
            s("REF", 0, 0),
            s("AMT", 0, 2),
            s("K3", 0, 10),
            s("NTE", 0, 2),
            s("PS1", 0, 1),
            s("HCP", 0, 1),
        ],
        &L2400_KIDS,
        1,
        50,
    ),
];

const L2300: LoopDef = l(
    "2300",
    Trigger::seg("CLM"),
    &[
        s("DTP", 0, 0),
        s("PWK", 0, 10),
        s("CN1", 0, 1),
        s("AMT", 0, 1),
        s("REF", 0, 0),
        s("K3", 0, 10),
        s("NTE", 0, 1),
        s("CR1", 0, 1),
        s("CR2", 0, 1),
        s("CRC", 0, 8),
        s("HI", 1, 4),
        s("HCP", 0, 1),
    ],
    &L2300_KIDS,
    0,
    100,
);

const L2000C: LoopDef = l(
    "2000C",
    Trigger::qual("HL", 3, &["23"]),
    &[s("PAT", 1, 1)],
    &[
        l(
            "2010CA",
            Trigger::qual(NM1, 1, &["QC"]),
            &[s("N3", 1, 1), s("N4", 1, 1), s("DMG", 1, 1), s("REF", 0, 2), s("PER", 0, 1)],
            &[],
            1,
            1,
        ),
        L2300,
    ],
    0,
    0,
);

const L2000B: LoopDef = l(
    "2000B",
    Trigger::qual("HL", 3, &["22"]),
    &[s("SBR", 1, 1), s("PAT", 0, 1)],
    &[
        l(
            "2010BA",
            Trigger::qual(NM1, 1, &["IL"]),
            &[s("N3", 0, 1), s("N4", 0, 1), s("DMG", 0, 1), s("REF", 0, 2), s("PER", 0, 1)],
            &[],
            1,
            1,
        ),
        l("2010BB", Trigger::qual(NM1, 1, &["PR"]), &[s("N3", 0, 1), s("N4", 0, 1), s("REF", 0, 3)], &[], 1, 1),
        L2000C,
        L2300,
    ],
    1,
    0,
);

const L2000A: LoopDef = l(
    "2000A",
    Trigger::qual("HL", 3, &["20"]),
    &[s("PRV", 0, 1), s("CUR", 0, 1)],
    &[
        l(
            "2010AA",
            Trigger::qual(NM1, 1, &["85"]),
            &[s("N3", 1, 1), s("N4", 1, 1), s("REF", 0, 3), s("PER", 0, 2)],
            &[],
            1,
            1,
        ),
        l("2010AB", Trigger::qual(NM1, 1, &["87"]), &[s("N3", 1, 1), s("N4", 1, 1)], &[], 0, 1),
        l("2010AC", Trigger::qual(NM1, 1, &["PE"]), &[s("N3", 0, 1), s("N4", 0, 1), s("REF", 0, 2)], &[], 0, 1),
        L2000B,
    ],
    1,
    0,
);

/// The 837P loop schema.
pub static SCHEMA: LoopDef = l(
    "837P",
    Trigger::seg("ST"),
    &[s("ST", 1, 1), s("BHT", 1, 1), s("SE", 1, 1)],
    &[
        l("1000A", Trigger::qual(NM1, 1, &["41"]), &[s("PER", 1, 2)], &[], 1, 1),
        l("1000B", Trigger::qual(NM1, 1, &["40"]), &[], &[], 1, 1),
        L2000A,
    ],
    1,
    1,
);

/// A service line (loop 2400).
#[derive(Clone, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ServiceLine<S = Text> {
    /// LX01, the line number.
    pub number: u32,
    pub procedure: Procedure<S>,
    pub charge: Decimal,
    /// SV103: UN units or MJ minutes.
    pub unit_basis: S,
    pub units: Decimal,
    /// SV105, when the line's place of service differs from the claim's.
    pub place_of_service: S,
    /// SV107 pointers (1-based into the claim's diagnoses).
    pub dx_pointers: Vec<u8>,
    /// DTP*472 service date (from and to).
    pub service_from: Option<NaiveDate>,
    pub service_to: Option<NaiveDate>,
    /// REF*6R line item control number.
    pub control: S,
    /// REF*G1 at the line.
    pub prior_auth: S,
    /// 2420A rendering provider NPI.
    pub rendering_npi: S,
    /// 2430 line adjudications by other payers (COB).
    pub adjudications: Vec<LineAdjudication<S>>,
    /// Segment number of the LX in the file.
    pub segment: u64,
}

/// One 2430 loop: what another payer did with this line.
#[derive(Clone, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct LineAdjudication<S = Text> {
    pub payer_id: S,
    pub paid: Decimal,
    pub procedure: Procedure<S>,
    pub units: Decimal,
    pub adjustments: Vec<Adjustment<S>>,
    pub date: Option<NaiveDate>,
}

/// One 2320/2330 other payer.
#[derive(Clone, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct OtherPayer<S = Text> {
    /// SBR01 of the other payer (P, S, T ...).
    pub responsibility: S,
    pub relationship: S,
    pub group_number: S,
    pub filing_indicator: S,
    pub subscriber: Party<S>,
    pub payer: Party<S>,
    /// AMT*D payer paid amount, AMT*EAF remaining patient liability.
    pub paid: Option<Decimal>,
    pub remaining: Option<Decimal>,
    pub adjustments: Vec<Adjustment<S>>,
}

/// One claim (loop 2300) with the parties from the loops above it.
#[derive(Clone, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Claim<S = Text> {
    /// CLM01, the patient control number.
    pub claim_id: S,
    pub charge: Decimal,
    /// CLM05-1, -3.
    pub place_of_service: S,
    pub frequency: S,
    pub provider_signature: S,
    pub assignment: S,
    pub billing_provider: Party<S>,
    pub billing_tax_id: S,
    /// SBR01 (P, S, T ...) and SBR09 claim filing indicator.
    pub responsibility: S,
    pub filing_indicator: S,
    pub group_number: S,
    pub subscriber: Party<S>,
    pub subscriber_birth_date: Option<NaiveDate>,
    /// The patient when not the subscriber (2000C/2010CA).
    pub patient: Option<Party<S>>,
    pub payer: Party<S>,
    /// HI codes in order; the first is the principal diagnosis.
    pub diagnoses: Vec<S>,
    /// REF*G1 prior authorization, REF*9F referral, REF*F8 payer claim control number.
    pub prior_auth: S,
    pub referral: S,
    pub original_reference: S,
    /// DTP*431 onset, DTP*454 initial treatment.
    pub onset: Option<NaiveDate>,
    pub rendering_provider: Option<Party<S>>,
    pub referring_provider: Option<Party<S>>,
    pub facility: Option<Party<S>>,
    pub other_payers: Vec<OtherPayer<S>>,
    pub lines: Vec<ServiceLine<S>>,
    /// Segment number of the CLM in the file and the ST control number of its set.
    pub segment: u64,
    pub set_control: S,
}

impl Claim {
    /// The earliest service date on the claim.
    pub fn first_service_date(&self) -> Option<NaiveDate> {
        self.lines.iter().filter_map(|l| l.service_from).min()
    }

    /// The rendering NPI of a line: its own 2420A, else the claim's 2310B, else the billing NPI.
    pub fn rendering_npi<'c>(&'c self, line: &'c ServiceLine) -> &'c str {
        if !line.rendering_npi.is_empty() {
            return &line.rendering_npi;
        }
        match &self.rendering_provider {
            Some(p) if !p.id.is_empty() => &p.id,
            _ => &self.billing_provider.id,
        }
    }
}

/// The header parties of an 837.
#[derive(Clone, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Header837<S = Text> {
    /// BHT03 reference and BHT04 date.
    pub reference: S,
    pub created: Option<NaiveDate>,
    /// BHT06: CH chargeable, RP reporting.
    pub claim_type: S,
    pub submitter: Party<S>,
    pub receiver: Party<S>,
}

/// A parsed 837P transaction set.
#[derive(Clone, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Claims837<S = Text> {
    pub header: Header837<S>,
    pub claims: Vec<Claim<S>>,
}

const ID_REF: u32 = pack_id(b"REF");
const ID_DTP: u32 = pack_id(b"DTP");
const ID_HI: u32 = pack_id(b"HI");
const ID_SV1: u32 = pack_id(b"SV1");
const ID_NM1: u32 = pack_id(b"NM1");
const ID_HL: u32 = pack_id(b"HL");
const ID_SBR: u32 = pack_id(b"SBR");
const ID_CLM: u32 = pack_id(b"CLM");
const ID_CAS: u32 = pack_id(b"CAS");
const ID_AMT: u32 = pack_id(b"AMT");
const ID_SVD: u32 = pack_id(b"SVD");

const ID_BHT: u32 = pack_id(b"BHT");
const ID_DMG: u32 = pack_id(b"DMG");
const ID_LX: u32 = pack_id(b"LX");

/// Reads the claims of one 837P set and checks it (the checks of [`validate`]) in one pass
/// over its segments, as they are placed in their loops: no loop tree is built, and each
/// segment is split once for both. Issues are exactly those of [`validate`] over the tree
/// from `tree::build`, in its order: the pass only decides whether there are any, and when
/// there are (or usage needs the full walk) the tree is built and checked for them. With
/// `extract` false the claims are left empty (what `validate_set` needs).
pub(crate) fn read<'a, S: Model<'a>>(set: &'a x12::OwnedSet, extract: bool, issues: &mut Vec<Issue>) -> Claims837<S> {
    let whole = crate::values::set_text(set, extract);
    read_segments(|| set.segments(), whole, &set.bytes, set.segment, &set.control, extract, issues)
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
    set_control: &'a str,
    extract: bool,
    issues: &mut Vec<Issue>,
) -> Claims837<S> {
    let mut found = Vec::new();
    let pass = Pass::new(set_start, &mut found, set_control, extract, whole, backing);
    one_pass(&SCHEMA, pass, segments, set_start, validate, issues)
}

const K_ROOT: u64 = loop_key("837P");
const K_1000A: u64 = loop_key("1000A");
const K_1000B: u64 = loop_key("1000B");
const K_2000A: u64 = loop_key("2000A");
const K_2010AA: u64 = loop_key("2010AA");
const K_2000B: u64 = loop_key("2000B");
const K_2010BA: u64 = loop_key("2010BA");
const K_2010BB: u64 = loop_key("2010BB");
const K_2000C: u64 = loop_key("2000C");
const K_2010CA: u64 = loop_key("2010CA");
const K_2300: u64 = loop_key("2300");
const K_2310A: u64 = loop_key("2310A");
const K_2310B: u64 = loop_key("2310B");
const K_2310C: u64 = loop_key("2310C");
const K_2320: u64 = loop_key("2320");
const K_2330A: u64 = loop_key("2330A");
const K_2330B: u64 = loop_key("2330B");
const K_2400: u64 = loop_key("2400");
const K_2420A: u64 = loop_key("2420A");
const K_2430: u64 = loop_key("2430");

/// The state of one pass over an 837P set (see [`read`]). "First" below means what
/// `Node::seg`, `seg_q` and `kid` find: the first occurrence within the loop occurrence.
struct Pass<'i, 'a, S> {
    r: Reading<'i, 'a>,
    /// A balancing rule failed: the tree decides the issues.
    unbalanced: bool,
    out: Claims837<S>,
    set_control: S,
    /// Root: BHT, 1000A and 1000B seen.
    bht: bool,
    submitter: bool,
    receiver: bool,
    /// 2000A: its first claim, how many 2010AA it opened, the first one's NM1 and REF*EI / *SY.
    a_from: usize,
    aa_n: u32,
    billing: Party<S>,
    tax_ei: Option<S>,
    tax_sy: Option<S>,
    /// 2000B: its first claim, its first SBR, its 2010BA and 2010BB counts and what they give.
    b_from: usize,
    sbr: bool,
    base: Claim<S>,
    ba_n: u32,
    bb_n: u32,
    dmg: bool,
    /// 2000C: its first claim and its first 2010CA.
    c_from: usize,
    ca_n: u32,
    patient: Option<Party<S>>,
    /// 2300: first REF*G1, *9F, *F8 and DTP*431 seen; CLM02 and the sum of the lines' SV102
    /// (`None` once a line has no SV1 or an SV102 that is not a number).
    g1: bool,
    f9: bool,
    f8: bool,
    onset: bool,
    charge: Option<Decimal>,
    lines_sum: Option<Sum>,
    /// 2320: first AMT*D, *EAF, 2330A and 2330B seen.
    amt_d: bool,
    amt_eaf: bool,
    o_a: bool,
    o_b: bool,
    /// 2400: first SV1, DTP*472, REF*6R, REF*G1 and 2420A seen.
    sv1: bool,
    dtp472: bool,
    r6r: bool,
    line_g1: bool,
    l_rendering: bool,
    /// 2430: first DTP*573 seen.
    dtp573: bool,
    /// The open claim's lines, moved into a right-sized list when the claim closes (growing
    /// it in place moved each line two or three times).
    lines: Vec<ServiceLine<S>>,
}

impl<'i, 'a, S: Model<'a>> Pass<'i, 'a, S> {
    fn new(
        set_start: u64,
        issues: &'i mut Vec<Issue>,
        set_control: &'a str,
        extract: bool,
        whole: Option<&'a str>,
        backing: &'a [u8],
    ) -> Pass<'i, 'a, S> {
        let mut pass = Pass {
            r: Reading::new(set_start, issues, extract, whole, backing),
            unbalanced: false,
            out: Claims837::default(),
            set_control: set_control.into(),
            bht: false,
            submitter: false,
            receiver: false,
            a_from: 0,
            aa_n: 0,
            billing: Party::default(),
            tax_ei: None,
            tax_sy: None,
            b_from: 0,
            sbr: false,
            base: Claim::default(),
            ba_n: 0,
            bb_n: 0,
            dmg: false,
            c_from: 0,
            ca_n: 0,
            patient: None,
            g1: false,
            f9: false,
            f8: false,
            onset: false,
            charge: None,
            lines_sum: None,
            amt_d: false,
            amt_eaf: false,
            o_a: false,
            o_b: false,
            sv1: false,
            dtp472: false,
            r6r: false,
            line_g1: false,
            l_rendering: false,
            dtp573: false,
            lines: Vec::new(),
        };
        if extract {
            pass.out.claims.reserve(claims_in(backing.len()));
        }
        pass
    }

    fn claim(&mut self) -> &mut Claim<S> {
        self.out.claims.last_mut().expect("because a 2300 is open")
    }

    fn line(&mut self) -> &mut ServiceLine<S> {
        self.lines.last_mut().expect("because a 2400 is open")
    }

    /// What a segment gives the model, by its loop.
    fn extract(&mut self, key: u64, id: u32, f: &Fields<'a>, opens: bool, parsed: &Parsed) {
        match (key, id) {
            (K_ROOT, ID_BHT) if !self.bht => {
                let h = &mut self.out.header;
                h.reference = f.text(3);
                h.created = crate::values::date8(f.get(4));
                h.claim_type = f.text(6);
            }
            (K_1000A, _) if opens && !self.submitter => {
                self.submitter = true;
                self.out.header.submitter = Party::nm1(f);
            }
            (K_1000B, _) if opens && !self.receiver => {
                self.receiver = true;
                self.out.header.receiver = Party::nm1(f);
            }
            (K_2000A, _) if opens => {
                self.a_from = self.out.claims.len();
                self.aa_n = 0;
                self.billing = Party::default();
                (self.tax_ei, self.tax_sy) = (None, None);
            }
            (K_2010AA, _) if opens => {
                self.aa_n += 1;
                if self.aa_n == 1 {
                    self.billing = Party::nm1(f);
                }
            }
            (K_2010AA, ID_REF) if self.aa_n == 1 => match f.get(1) {
                b"EI" if self.tax_ei.is_none() => self.tax_ei = Some(f.text(2)),
                b"SY" if self.tax_sy.is_none() => self.tax_sy = Some(f.text(2)),
                _ => {}
            },
            (K_2000B, _) if opens => {
                self.b_from = self.out.claims.len();
                self.sbr = false;
                self.base = Claim::default();
                (self.ba_n, self.bb_n, self.dmg) = (0, 0, false);
            }
            (K_2000B, ID_SBR) if !self.sbr => {
                self.sbr = true;
                self.base.responsibility = f.text(1);
                self.base.group_number = f.text(3);
                self.base.filing_indicator = f.text(9);
            }
            (K_2010BA, _) if opens => {
                self.ba_n += 1;
                if self.ba_n == 1 {
                    self.base.subscriber = Party::nm1(f);
                }
            }
            (K_2010BA, ID_DMG) if self.ba_n == 1 && !self.dmg => {
                self.dmg = true;
                self.base.subscriber_birth_date = crate::values::date8(f.get(2));
            }
            (K_2010BB, _) if opens => {
                self.bb_n += 1;
                if self.bb_n == 1 {
                    self.base.payer = Party::nm1(f);
                }
            }
            (K_2000C, _) if opens => {
                self.c_from = self.out.claims.len();
                self.ca_n = 0;
                self.patient = None;
            }
            (K_2010CA, _) if opens => {
                self.ca_n += 1;
                if self.ca_n == 1 {
                    self.patient = Some(Party::nm1(f));
                }
            }
            (K_2300, ID_CLM) if opens => {
                (self.g1, self.f9, self.f8, self.onset) = (false, false, false, false);
                let comp = f.seg.delimiters().component;
                let mut clm05 = f.components(5, comp).map(|p| p.1);
                let place_of_service = S::from(clm05.next().unwrap_or(""));
                clm05.next();
                let frequency = S::from(clm05.next().unwrap_or(""));
                self.out.claims.push(Claim {
                    claim_id: f.text(1),
                    charge: parsed.amounts(f, 2, 0).0.unwrap_or_default(),
                    place_of_service,
                    frequency,
                    provider_signature: f.text(6),
                    assignment: f.text(7),
                    segment: f.seg.index(),
                    ..Claim::default()
                });
            }
            (K_2300, ID_HI) => {
                let comp = f.seg.delimiters().component;
                let claim = self.claim();
                for n in 1..=f.count() {
                    let mut parts = f.components(n, comp);
                    let _qualifier = parts.next();
                    if let Some((_, code)) = parts.next().filter(|c| !c.0.is_empty()) {
                        claim.diagnoses.push(S::from(code));
                    }
                }
            }
            (K_2300, ID_REF) => match f.get(1) {
                b"G1" if !self.g1 => {
                    self.g1 = true;
                    self.claim().prior_auth = f.text(2);
                }
                b"9F" if !self.f9 => {
                    self.f9 = true;
                    self.claim().referral = f.text(2);
                }
                b"F8" if !self.f8 => {
                    self.f8 = true;
                    self.claim().original_reference = f.text(2);
                }
                _ => {}
            },
            (K_2300, ID_DTP) if !self.onset && f.get(1) == b"431" => {
                self.onset = true;
                self.claim().onset = parsed.dates(f).map(|d| d.0);
            }
            (K_2310A, _) if opens && self.claim().referring_provider.is_none() => {
                self.claim().referring_provider = Some(Party::nm1(f));
            }
            (K_2310B, _) if opens && self.claim().rendering_provider.is_none() => {
                self.claim().rendering_provider = Some(Party::nm1(f));
            }
            (K_2310C, _) if opens && self.claim().facility.is_none() => {
                self.claim().facility = Some(Party::nm1(f));
            }
            (K_2320, ID_SBR) if opens => {
                (self.amt_d, self.amt_eaf, self.o_a, self.o_b) = (false, false, false, false);
                self.claim().other_payers.push(OtherPayer {
                    responsibility: f.text(1),
                    relationship: f.text(2),
                    group_number: f.text(3),
                    filing_indicator: f.text(9),
                    ..OtherPayer::default()
                });
            }
            (K_2320, ID_AMT) => {
                let which = f.get(1);
                let first = match which {
                    b"D" => !std::mem::replace(&mut self.amt_d, true),
                    b"EAF" => !std::mem::replace(&mut self.amt_eaf, true),
                    _ => false,
                };
                if first {
                    let v = decimal(f.get(2));
                    let o = self.other_payer();
                    if which == b"D" {
                        o.paid = v;
                    } else {
                        o.remaining = v;
                    }
                }
            }
            (K_2320, ID_CAS) => cas_into(f, &mut self.other_payer().adjustments),
            (K_2330A, _) if opens && !self.o_a => {
                self.o_a = true;
                self.other_payer().subscriber = Party::nm1(f);
            }
            (K_2330B, _) if opens && !self.o_b => {
                self.o_b = true;
                self.other_payer().payer = Party::nm1(f);
            }
            (K_2400, ID_LX) if opens => {
                (self.dtp472, self.r6r, self.line_g1, self.l_rendering) = (false, false, false, false);
                let number = crate::values::unsigned(f.get(1)).unwrap_or(0);
                let line = ServiceLine { number, segment: f.seg.index(), ..ServiceLine::default() };
                self.lines.push(line);
            }
            (K_2400, ID_SV1) if !self.sv1 => {
                let comp = f.seg.delimiters().component;
                let l = self.line();
                l.procedure = Procedure::from_fields(f, 1, comp);
                let (charge, units) = parsed.amounts(f, 2, 4);
                l.charge = charge.unwrap_or_default();
                l.unit_basis = f.text(3);
                l.units = units.unwrap_or_default();
                l.place_of_service = f.text(5);
                l.dx_pointers = crate::values::components(f.get(7), comp).filter_map(crate::values::unsigned).collect();
            }
            (K_2400, ID_DTP) if !self.dtp472 && f.get(1) == b"472" => {
                self.dtp472 = true;
                if let Some((from, to)) = parsed.dates(f) {
                    let l = self.line();
                    l.service_from = Some(from);
                    l.service_to = Some(to);
                }
            }
            (K_2400, ID_REF) => match f.get(1) {
                b"6R" if !self.r6r => {
                    self.r6r = true;
                    self.line().control = f.text(2);
                }
                b"G1" if !self.line_g1 => {
                    self.line_g1 = true;
                    self.line().prior_auth = f.text(2);
                }
                _ => {}
            },
            (K_2420A, _) if opens && !self.l_rendering => {
                self.l_rendering = true;
                self.line().rendering_npi = f.text(9);
            }
            (K_2430, ID_SVD) if opens => {
                self.dtp573 = false;
                let comp = f.seg.delimiters().component;
                self.line().adjudications.push(LineAdjudication {
                    payer_id: f.text(1),
                    paid: decimal(f.get(2)).unwrap_or_default(),
                    procedure: Procedure::from_fields(f, 3, comp),
                    units: decimal(f.get(5)).unwrap_or_default(),
                    adjustments: Vec::new(),
                    date: None,
                });
            }
            (K_2430, ID_CAS) => cas_into(f, &mut self.adjudication().adjustments),
            (K_2430, ID_DTP) if !self.dtp573 && f.get(1) == b"573" => {
                self.dtp573 = true;
                self.adjudication().date = parsed.dates(f).map(|d| d.0);
            }
            _ => {}
        }
    }

    fn other_payer(&mut self) -> &mut OtherPayer<S> {
        self.claim().other_payers.last_mut().expect("because a 2320 is open")
    }

    fn adjudication(&mut self) -> &mut LineAdjudication<S> {
        self.line().adjudications.last_mut().expect("because a 2430 is open")
    }
}

impl<'a, S: Model<'a>> OnePass<'a> for Pass<'_, 'a, S> {
    type Model = Claims837<S>;

    /// The claims read, and whether nothing was found and every balancing rule held.
    fn finish(self) -> (Claims837<S>, bool) {
        let clean = !self.unbalanced && self.r.c.issues.is_empty();
        (self.out, clean)
    }
}

impl<'a, S: Model<'a>> Sink<'a> for Pass<'_, 'a, S> {
    #[inline]
    fn segment(&mut self, def: &'static LoopDef, key: u64, id: u32, seg: &SegmentRef<'a>, opens: bool) {
        // Whether the checks read the segment (`checked`, and the BHT) and whether the model
        // does, in one match.
        let (check, read) = match id {
            ID_BHT | ID_NM1 | ID_REF | ID_SBR | ID_CLM | ID_HI | ID_DTP | ID_SV1 | ID_SVD | ID_CAS | ID_AMT => {
                (true, true)
            }
            ID_HL => (true, false),
            ID_DMG | ID_LX => (false, true),
            _ => (false, false),
        };
        debug_assert_eq!(check, checked(id) || id == ID_BHT);
        let keep = self.r.extract && (opens || read);
        if opens && id == ID_LX {
            self.sv1 = false;
        }
        if !check && !keep {
            return;
        }
        let f = self.r.split(seg);
        let mut parsed = Parsed::Nothing;
        if id == ID_BHT {
            if key == K_ROOT && !self.bht {
                check_bht(&mut self.r.c, &f);
            }
        } else if check {
            parsed = check_segment(&mut self.r.c, def.id, id, &f);
            if id == ID_CLM && key == K_2300 {
                self.charge = parsed.amounts(&f, 2, 0).0;
                self.lines_sum = Some(Sum::ZERO);
            }
            if id == ID_SV1 && key == K_2400 && !self.sv1 {
                // The first SV1 of the line (`validate_clm` sums `lx.seg("SV1")`).
                let charge = parsed.amounts(&f, 2, 4).0;
                self.lines_sum = self.lines_sum.and_then(|s| charge.map(|d| s.plus(Sum::of(d))));
            }
        }
        if keep {
            self.extract(key, id, &f, opens, &parsed);
        }
        if id == ID_BHT && key == K_ROOT {
            self.bht = true;
        }
        if id == ID_SV1 && key == K_2400 {
            self.sv1 = true;
        }
    }

    fn close(&mut self, _def: &'static LoopDef, key: u64) {
        match key {
            K_2400 if !self.sv1 => self.lines_sum = None,
            K_2300 => {
                if let (Some(charge), Some(sum)) = (self.charge, self.lines_sum) {
                    self.unbalanced |= !Sum::of(charge).same(sum);
                }
                if self.r.extract {
                    let lines = crate::common::take_exact(&mut self.lines);
                    self.claim().lines = lines;
                }
            }
            K_2000C if self.r.extract => {
                for c in &mut self.out.claims[self.c_from..] {
                    c.patient.clone_from(&self.patient);
                }
            }
            K_2000B if self.r.extract => {
                let b = &self.base;
                for c in &mut self.out.claims[self.b_from..] {
                    c.responsibility.clone_from(&b.responsibility);
                    c.group_number.clone_from(&b.group_number);
                    c.filing_indicator.clone_from(&b.filing_indicator);
                    c.subscriber.clone_from(&b.subscriber);
                    c.subscriber_birth_date = b.subscriber_birth_date;
                    c.payer.clone_from(&b.payer);
                    c.set_control.clone_from(&self.set_control);
                }
            }
            K_2000A if self.r.extract => {
                let tax = self.tax_ei.as_ref().or(self.tax_sy.as_ref()).cloned().unwrap_or_default();
                for c in &mut self.out.claims[self.a_from..] {
                    c.billing_provider.clone_from(&self.billing);
                    c.billing_tax_id.clone_from(&tax);
                }
            }
            _ => {}
        }
    }
}

const ENTITY_NPI_LOOPS: [&str; 9] = ["2010AA", "2310A", "2310B", "2310C", "2310D", "2420A", "2420B", "2420E", "2420F"];

/// The segments the 837P checks read.
#[inline]
fn checked(id: u32) -> bool {
    matches!(id, ID_NM1 | ID_HL | ID_SBR | ID_CLM | ID_HI | ID_SV1 | ID_DTP | ID_CAS | ID_AMT | ID_SVD | ID_REF)
}

/// Implementation-guide (SNIP 2) and balancing (SNIP 3) checks over a built tree.
pub fn validate(root: &Node<'_>, set_start: u64, issues: &mut Vec<Issue>) {
    check_usage(root, set_start, issues);
    let mut c = Checks::new(set_start, issues);
    if let Some(bht) = root.seg("BHT") {
        check_bht(&mut c, &Fields::new(bht));
    }
    root.walk(&mut |n: &Node<'_>| {
        for seg in &n.segments {
            let id = seg_pack(seg);
            if !checked(id) {
                continue;
            }
            let f = Fields::new(seg);
            let parsed = check_segment(&mut c, n.def.id, id, &f);
            // SNIP 3: the claim charge is the sum of its line charges.
            if let (ID_CLM, Parsed::Amounts(Some(charge), _)) = (id, parsed) {
                let lines: Option<Decimal> =
                    n.kids("2400").map(|lx| lx.seg("SV1").and_then(|s| decimal(s.get(2)))).sum();
                if let Some(sum) = lines {
                    if sum != charge {
                        let what = format!(
                            "CLM02 does not equal the sum of SV102 ({} lines sum to {sum})",
                            n.kids("2400").count()
                        );
                        c.unbalanced(seg, "2300", 2, what);
                    }
                }
            }
        }
    });
}

/// The checks of the set's (first) BHT.
fn check_bht(c: &mut Checks<'_>, bht: &Fields<'_>) {
    c.code(bht, "837P", 1, &["0019"]);
    c.code(bht, "837P", 2, &["00", "18"]);
    c.required(bht, "837P", 3);
    c.date(bht, "837P", 4);
    c.code(bht, "837P", 6, &["CH", "RP", "31"]);
}

/// Values the checks of a segment parsed, handed on so the model and the balancing rule do
/// not parse them again.
#[derive(Clone, Copy)]
enum Parsed {
    Nothing,
    /// CLM02 (and nothing); SV102 and SV104: `decimal` of each.
    Amounts(Option<Decimal>, Option<Decimal>),
    /// A DTP's DTP03 under its DTP02 format: `dated`.
    Dates(Option<(NaiveDate, NaiveDate)>),
}

impl Parsed {
    /// `decimal` of elements `a` and `b` (0 for none), from the checks when they parsed them.
    #[inline]
    fn amounts(&self, f: &Fields<'_>, a: usize, b: usize) -> (Option<Decimal>, Option<Decimal>) {
        match *self {
            Parsed::Amounts(x, y) => (x, y),
            _ => (decimal(f.get(a)), if b == 0 { None } else { decimal(f.get(b)) }),
        }
    }

    /// `dated` of a DTP, from the checks when they parsed it.
    #[inline]
    fn dates(&self, f: &Fields<'_>) -> Option<(NaiveDate, NaiveDate)> {
        match *self {
            Parsed::Dates(d) => d,
            _ => dated(f.get(2), f.get(3)),
        }
    }
}

/// The element checks of one segment in loop `lid` (a segment `checked` names), with what
/// they parsed: CLM02 for a CLM, SV102 and SV104 for an SV1, the dates of a DTP.
fn check_segment(c: &mut Checks<'_>, lid: &'static str, id: u32, f: &Fields<'_>) -> Parsed {
    let seg = &f.seg;
    match id {
        ID_NM1 => {
            c.required(f, lid, 1);
            c.code(f, lid, 2, &["1", "2"]);
            if ENTITY_NPI_LOOPS.contains(&lid) {
                if f.get(8) == b"XX" {
                    c.npi(f, lid, 9);
                } else if lid == "2010AA" {
                    c.code(f, lid, 8, &["XX"]);
                }
            }
        }
        ID_HL => {
            c.required(f, lid, 1);
            c.required(f, lid, 3);
        }
        ID_SBR => {
            c.code(f, lid, 1, &["A", "B", "C", "D", "E", "F", "G", "H", "P", "S", "T", "U"]);
            c.code(
                f,
                lid,
                9,
                &[
                    "11", "12", "13", "14", "15", "16", "17", "AM", "BL", "CH", "CI", "DS", "FI", "HM", "LM", "MA",
                    "MB", "MC", "OF", "TV", "VA", "WC", "ZZ",
                ],
            );
        }
        ID_CLM => return Parsed::Amounts(check_clm(c, f), None),
        ID_HI => validate_hi(c, f, lid),
        ID_SV1 => {
            c.required(f, lid, 1);
            // SV101-1 and -2, as `Procedure::from_segment` would read them (text that
            // is not UTF-8 reads as empty).
            let mut parts = crate::values::components(f.get(1), seg.delimiters().component);
            let qualifier = parts.next().unwrap_or(b"");
            let code = parts.next().unwrap_or(b"");
            if !matches!(qualifier, b"HC" | b"ER" | b"IV" | b"WK") {
                c.issues.push(Issue::element(
                    seg,
                    c.set_start,
                    Some(lid),
                    1,
                    Some(1),
                    IssueCode::InvalidCode,
                    "invalid procedure code qualifier in SV101-1".into(),
                ));
            }
            if code.is_empty() || !code.is_ascii() && std::str::from_utf8(code).is_err() {
                c.issues.push(Issue::element(
                    seg,
                    c.set_start,
                    Some(lid),
                    1,
                    Some(2),
                    IssueCode::RequiredElementMissing,
                    "procedure code missing in SV101-2".into(),
                ));
            }
            let charge = c.req_decimal(f, lid, 2);
            c.required(f, lid, 3);
            c.code(f, lid, 3, &["UN", "MJ"]);
            let units = c.req_decimal(f, lid, 4);
            if let Some(u) = units {
                if u <= Decimal::ZERO {
                    c.issues.push(Issue::element(
                        seg,
                        c.set_start,
                        Some(lid),
                        4,
                        None,
                        IssueCode::InvalidNumber,
                        "SV104 units must be positive".into(),
                    ));
                }
            }
            c.required(f, lid, 7);
            return Parsed::Amounts(charge, units);
        }
        ID_DTP => return Parsed::Dates(c.dtp(f, lid)),
        ID_CAS => {
            c.code(f, lid, 1, &["CO", "OA", "PI", "PR"]);
            for i in 0..6 {
                c.decimal(f, lid, 3 + i * 3);
            }
        }
        ID_AMT | ID_SVD => {
            c.req_decimal(f, lid, 2);
        }
        ID_REF => {
            c.required(f, lid, 1);
            c.required(f, lid, 2);
            c.length(f, lid, 2, 1, 50);
        }
        _ => {}
    }
    Parsed::Nothing
}

/// The CLM checks (always as loop 2300); returns CLM02 when valid.
fn check_clm(c: &mut Checks<'_>, f: &Fields<'_>) -> Option<Decimal> {
    let lid = "2300";
    let clm = &f.seg;
    if c.required(f, lid, 1) {
        c.length(f, lid, 1, 1, 38);
    }
    let charge = c.req_decimal(f, lid, 2);
    if c.required(f, lid, 5) {
        let comp = clm.delimiters().component;
        let mut it = crate::values::components(f.get(5), comp);
        let parts = [it.next(), it.next(), it.next()];
        let pos = parts[0].unwrap_or(b"");
        if pos.len() != 2 || !pos.iter().all(u8::is_ascii_digit) {
            c.issues.push(Issue::element(
                clm,
                c.set_start,
                Some(lid),
                5,
                Some(1),
                IssueCode::InvalidCode,
                "CLM05-1 place of service must be two digits".into(),
            ));
        }
        if parts[1].unwrap_or(b"") != b"B" {
            c.issues.push(Issue::element(
                clm,
                c.set_start,
                Some(lid),
                5,
                Some(2),
                IssueCode::InvalidCode,
                "CLM05-2 facility code qualifier must be B".into(),
            ));
        }
        if !matches!(parts[2].unwrap_or(b""), b"1" | b"6" | b"7" | b"8") {
            c.issues.push(Issue::element(
                clm,
                c.set_start,
                Some(lid),
                5,
                Some(3),
                IssueCode::InvalidCode,
                "CLM05-3 claim frequency must be 1, 6, 7 or 8".into(),
            ));
        }
    }
    c.code(f, lid, 6, &["Y", "N"]);
    c.code(f, lid, 7, &["A", "B", "C"]);
    c.code(f, lid, 8, &["N", "W", "Y"]);
    c.code(f, lid, 9, &["I", "Y"]);
    charge
}

fn validate_hi(c: &mut Checks<'_>, hi: &Fields<'_>, lid: &'static str) {
    const PRINCIPAL: &[&[u8]] = &[b"ABK", b"BK"];
    const OTHER: &[&[u8]] = &[b"ABF", b"BF", b"ABK", b"BK", b"BP", b"BO", b"BG", b"ABN", b"BN", b"ABJ", b"APR"];
    c.diagnoses(hi, lid, |i| if i == 0 { PRINCIPAL } else { OTHER });
}

/// Writes the body of an 837P set (BHT through the last claim, ST and SE left to the writer)
/// keeping only the claims `keep` accepts, given their CLM segment. HL numbers are reassigned
/// and parents and child codes recomputed, so the result is a valid set; billing providers
/// and subscribers left without claims are dropped. Returns the number of claims written.
pub fn write_filtered<W: std::io::Write>(
    root: &Node<'_>,
    keep: &dyn Fn(&SegmentRef<'_>) -> bool,
    w: &mut x12::EnvelopeWriter<W>,
) -> std::io::Result<usize> {
    fn kept(n: &Node<'_>, keep: &dyn Fn(&SegmentRef<'_>) -> bool) -> usize {
        n.children.iter().map(|c| if c.def.id == "2300" { usize::from(keep(c.first())) } else { kept(c, keep) }).sum()
    }
    fn verbatim<W: std::io::Write>(n: &Node<'_>, w: &mut x12::EnvelopeWriter<W>) -> std::io::Result<()> {
        for s in n.all_segments() {
            w.segment_ref(&s)?;
        }
        Ok(())
    }
    fn hl<W: std::io::Write>(
        w: &mut x12::EnvelopeWriter<W>,
        id: u32,
        parent: Option<u32>,
        level: &str,
        has_kids: bool,
    ) -> std::io::Result<()> {
        let parent = parent.map(|p| p.to_string()).unwrap_or_default();
        w.segment(&x12::Segment::new(
            "HL",
            [id.to_string(), parent, level.to_string(), if has_kids { "1" } else { "0" }.to_string()],
        ))
    }
    /// Writes a hierarchical loop: a new HL, its own segments, then its children.
    fn level<W: std::io::Write>(
        n: &Node<'_>,
        parent: Option<u32>,
        next: &mut u32,
        keep: &dyn Fn(&SegmentRef<'_>) -> bool,
        w: &mut x12::EnvelopeWriter<W>,
    ) -> std::io::Result<usize> {
        *next += 1;
        let me = *next;
        let code: String = text(n.first().get(3));
        let has_kids = n.children.iter().any(|c| c.first().is(b"HL") && kept(c, keep) > 0);
        hl(w, me, parent, &code, has_kids)?;
        for s in n.segments.iter().skip(1) {
            w.segment_ref(s)?;
        }
        let mut written = 0;
        for c in &n.children {
            if c.def.id == "2300" {
                if keep(c.first()) {
                    verbatim(c, w)?;
                    written += 1;
                }
            } else if c.first().is(b"HL") {
                if kept(c, keep) > 0 {
                    written += level(c, Some(me), next, keep, w)?;
                }
            } else {
                verbatim(c, w)?;
            }
        }
        Ok(written)
    }
    for s in root.segments.iter().filter(|s| !s.is(b"ST") && !s.is(b"SE")) {
        w.segment_ref(s)?;
    }
    let mut next = 0;
    let mut written = 0;
    for c in &root.children {
        if c.def.id == "2000A" {
            if kept(c, keep) > 0 {
                written += level(c, None, &mut next, keep, w)?;
            }
        } else {
            verbatim(c, w)?;
        }
    }
    Ok(written)
}
