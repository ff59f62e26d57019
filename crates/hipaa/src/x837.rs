//! 837P professional claims, 005010X222A1 (GS08/ST03 `005010X222A2` accepted too).

use crate::common::{cas_adjustments, Adjustment, Party, Procedure, Text};
use crate::issue::{Issue, IssueCode};
use crate::tree::{build, check_usage, l, pack_id, s, seg_pack, LoopDef, Node, Trigger};
use crate::values::{dated, decimal, text, Checks, Fields};
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
pub struct ServiceLine {
    /// LX01, the line number.
    pub number: u32,
    pub procedure: Procedure,
    pub charge: Decimal,
    /// SV103: UN units or MJ minutes.
    pub unit_basis: Text,
    pub units: Decimal,
    /// SV105, when the line's place of service differs from the claim's.
    pub place_of_service: Text,
    /// SV107 pointers (1-based into the claim's diagnoses).
    pub dx_pointers: Vec<u8>,
    /// DTP*472 service date (from and to).
    pub service_from: Option<NaiveDate>,
    pub service_to: Option<NaiveDate>,
    /// REF*6R line item control number.
    pub control: Text,
    /// REF*G1 at the line.
    pub prior_auth: Text,
    /// 2420A rendering provider NPI.
    pub rendering_npi: Text,
    /// 2430 line adjudications by other payers (COB).
    pub adjudications: Vec<LineAdjudication>,
    /// Segment number of the LX in the file.
    pub segment: u64,
}

/// One 2430 loop: what another payer did with this line.
#[derive(Clone, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct LineAdjudication {
    pub payer_id: Text,
    pub paid: Decimal,
    pub procedure: Procedure,
    pub units: Decimal,
    pub adjustments: Vec<Adjustment>,
    pub date: Option<NaiveDate>,
}

/// One 2320/2330 other payer.
#[derive(Clone, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct OtherPayer {
    /// SBR01 of the other payer (P, S, T ...).
    pub responsibility: Text,
    pub relationship: Text,
    pub group_number: Text,
    pub filing_indicator: Text,
    pub subscriber: Party,
    pub payer: Party,
    /// AMT*D payer paid amount, AMT*EAF remaining patient liability.
    pub paid: Option<Decimal>,
    pub remaining: Option<Decimal>,
    pub adjustments: Vec<Adjustment>,
}

/// One claim (loop 2300) with the parties from the loops above it.
#[derive(Clone, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Claim {
    /// CLM01, the patient control number.
    pub claim_id: Text,
    pub charge: Decimal,
    /// CLM05-1, -3.
    pub place_of_service: Text,
    pub frequency: Text,
    pub provider_signature: Text,
    pub assignment: Text,
    pub billing_provider: Party,
    pub billing_tax_id: Text,
    /// SBR01 (P, S, T ...) and SBR09 claim filing indicator.
    pub responsibility: Text,
    pub filing_indicator: Text,
    pub group_number: Text,
    pub subscriber: Party,
    pub subscriber_birth_date: Option<NaiveDate>,
    /// The patient when not the subscriber (2000C/2010CA).
    pub patient: Option<Party>,
    pub payer: Party,
    /// HI codes in order; the first is the principal diagnosis.
    pub diagnoses: Vec<Text>,
    /// REF*G1 prior authorization, REF*9F referral, REF*F8 payer claim control number.
    pub prior_auth: Text,
    pub referral: Text,
    pub original_reference: Text,
    /// DTP*431 onset, DTP*454 initial treatment.
    pub onset: Option<NaiveDate>,
    pub rendering_provider: Option<Party>,
    pub referring_provider: Option<Party>,
    pub facility: Option<Party>,
    pub other_payers: Vec<OtherPayer>,
    pub lines: Vec<ServiceLine>,
    /// Segment number of the CLM in the file and the ST control number of its set.
    pub segment: u64,
    pub set_control: Text,
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
pub struct Header837 {
    /// BHT03 reference and BHT04 date.
    pub reference: Text,
    pub created: Option<NaiveDate>,
    /// BHT06: CH chargeable, RP reporting.
    pub claim_type: Text,
    pub submitter: Party,
    pub receiver: Party,
}

/// A parsed 837P transaction set.
#[derive(Clone, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Claims837 {
    pub header: Header837,
    pub claims: Vec<Claim>,
}

/// Reads the claims from a built tree; `set_control` is the ST02.
pub fn extract(root: &Node<'_>, set_control: &str) -> Claims837 {
    let mut out = Claims837::default();
    if let Some(bht) = root.seg("BHT") {
        out.header.reference = text(bht.get(3));
        out.header.created = crate::values::date8(bht.get(4));
        out.header.claim_type = text(bht.get(6));
    }
    if let Some(n) = root.kid("1000A") {
        out.header.submitter = Party::from_nm1(n.first());
    }
    if let Some(n) = root.kid("1000B") {
        out.header.receiver = Party::from_nm1(n.first());
    }
    let claims: usize = root
        .kids("2000A")
        .flat_map(|a| a.kids("2000B"))
        .map(|b| b.kids("2300").count() + b.kids("2000C").map(|p| p.kids("2300").count()).sum::<usize>())
        .sum();
    out.claims.reserve_exact(claims);
    for a in root.kids("2000A") {
        let billing = a.kid("2010AA");
        let billing_provider = billing.map(|n| Party::from_nm1(n.first())).unwrap_or_default();
        let billing_tax_id: Text = billing
            .and_then(|n| n.seg_q("REF", 1, "EI").or_else(|| n.seg_q("REF", 1, "SY")))
            .map(|r| text(r.get(2)))
            .unwrap_or_default();
        for b in a.kids("2000B") {
            let mut base = Claim {
                billing_provider: billing_provider.clone(),
                billing_tax_id: billing_tax_id.clone(),
                set_control: set_control.into(),
                ..Claim::default()
            };
            if let Some(sbr) = b.seg("SBR") {
                base.responsibility = text(sbr.get(1));
                base.group_number = text(sbr.get(3));
                base.filing_indicator = text(sbr.get(9));
            }
            if let Some(n) = b.kid("2010BA") {
                base.subscriber = Party::from_nm1(n.first());
                base.subscriber_birth_date = n.seg("DMG").and_then(|d| crate::values::date8(d.get(2)));
            }
            if let Some(n) = b.kid("2010BB") {
                base.payer = Party::from_nm1(n.first());
            }
            for c in b.kids("2300") {
                out.claims.push(base.clone());
                claim(c, out.claims.last_mut().expect("because one was just pushed"));
            }
            for p in b.kids("2000C") {
                let mut with_patient = base.clone();
                with_patient.patient = p.kid("2010CA").map(|n| Party::from_nm1(n.first()));
                for c in p.kids("2300") {
                    out.claims.push(with_patient.clone());
                    claim(c, out.claims.last_mut().expect("because one was just pushed"));
                }
            }
        }
    }
    out
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

/// The second element of the first segment found, as text (`REF02`).
fn ref02(seg: Option<&SegmentRef<'_>>) -> Text {
    seg.map(|r| text(r.get(2))).unwrap_or_default()
}

/// Fills in a claim (a copy of its header parties, already in place in the output) from its 2300.
fn claim(node: &Node<'_>, c: &mut Claim) {
    let clm = Fields::new(node.first());
    c.claim_id = text(clm.get(1));
    c.charge = decimal(clm.get(2)).unwrap_or_default();
    let comp = clm.seg.delimiters().component;
    let mut clm05 = crate::values::components(clm.get(5), comp);
    c.place_of_service = text(clm05.next().unwrap_or(b""));
    clm05.next();
    c.frequency = text(clm05.next().unwrap_or(b""));
    c.provider_signature = text(clm.get(6));
    c.assignment = text(clm.get(7));
    c.segment = clm.seg.index();
    // One pass over the claim's segments for what `seg_q` would look up one by one (the first
    // match of each wins, as with `seg_q`).
    let (mut g1, mut f9, mut f8, mut onset) = (None, None, None, None);
    for seg in &node.segments {
        match seg_pack(seg) {
            ID_HI => {
                for el in seg.elements() {
                    let mut parts = crate::values::components(el, comp);
                    let _qualifier = parts.next();
                    if let Some(code) = parts.next().filter(|c| !c.is_empty()) {
                        c.diagnoses.push(text(code));
                    }
                }
            }
            ID_REF => match seg.get(1) {
                b"G1" if g1.is_none() => g1 = Some(seg),
                b"9F" if f9.is_none() => f9 = Some(seg),
                b"F8" if f8.is_none() => f8 = Some(seg),
                _ => {}
            },
            ID_DTP if onset.is_none() && seg.get(1) == b"431" => onset = Some(seg),
            _ => {}
        }
    }
    c.prior_auth = ref02(g1);
    c.referral = ref02(f9);
    c.original_reference = ref02(f8);
    c.onset = onset.and_then(|d| dated(d.get(2), d.get(3))).map(|d| d.0);
    let (mut rendering, mut referring, mut facility) = (None, None, None);
    let lines = node.children.iter().filter(|k| k.def.id == "2400").count();
    c.lines.reserve_exact(lines);
    for kid in &node.children {
        match kid.def.id {
            "2400" => c.lines.push(line(kid)),
            "2310B" if rendering.is_none() => rendering = Some(kid),
            "2310A" if referring.is_none() => referring = Some(kid),
            "2310C" if facility.is_none() => facility = Some(kid),
            "2320" => c.other_payers.push(other_payer(kid)),
            _ => {}
        }
    }
    c.rendering_provider = rendering.map(|n| Party::from_nm1(n.first()));
    c.referring_provider = referring.map(|n| Party::from_nm1(n.first()));
    c.facility = facility.map(|n| Party::from_nm1(n.first()));
}

fn other_payer(o: &Node<'_>) -> OtherPayer {
    let sbr = Fields::new(o.first());
    let mut op = OtherPayer {
        responsibility: text(sbr.get(1)),
        relationship: text(sbr.get(2)),
        group_number: text(sbr.get(3)),
        filing_indicator: text(sbr.get(9)),
        paid: o.seg_q("AMT", 1, "D").and_then(|a| decimal(a.get(2))),
        remaining: o.seg_q("AMT", 1, "EAF").and_then(|a| decimal(a.get(2))),
        adjustments: o.segs("CAS").flat_map(cas_adjustments).collect(),
        ..OtherPayer::default()
    };
    if let Some(n) = o.kid("2330A") {
        op.subscriber = Party::from_nm1(n.first());
    }
    if let Some(n) = o.kid("2330B") {
        op.payer = Party::from_nm1(n.first());
    }
    op
}

fn line(node: &Node<'_>) -> ServiceLine {
    let lx = node.first();
    let number = std::str::from_utf8(lx.get(1)).ok().and_then(|n| n.parse().ok()).unwrap_or(0);
    let mut l = ServiceLine { number, segment: lx.index(), ..ServiceLine::default() };
    let (mut sv1, mut dtp472, mut r6r, mut g1) = (None, None, None, None);
    for seg in node.segments.iter().skip(1) {
        match seg_pack(seg) {
            ID_SV1 if sv1.is_none() => sv1 = Some(seg),
            ID_DTP if dtp472.is_none() && seg.get(1) == b"472" => dtp472 = Some(seg),
            ID_REF => match seg.get(1) {
                b"6R" if r6r.is_none() => r6r = Some(seg),
                b"G1" if g1.is_none() => g1 = Some(seg),
                _ => {}
            },
            _ => {}
        }
    }
    if let Some(sv1) = sv1 {
        let f = Fields::new(sv1);
        let comp = sv1.delimiters().component;
        l.procedure = Procedure::from_composite(f.get(1), comp);
        l.charge = decimal(f.get(2)).unwrap_or_default();
        l.unit_basis = text(f.get(3));
        l.units = decimal(f.get(4)).unwrap_or_default();
        l.place_of_service = text(f.get(5));
        l.dx_pointers = crate::values::components(f.get(7), comp)
            .filter_map(|p| std::str::from_utf8(p).ok()?.parse().ok())
            .collect();
    }
    if let Some((from, to)) = dtp472.and_then(|d| {
        let f = Fields::new(d);
        dated(f.get(2), f.get(3))
    }) {
        l.service_from = Some(from);
        l.service_to = Some(to);
    }
    l.control = ref02(r6r);
    l.prior_auth = ref02(g1);
    let mut rendering = false;
    for kid in &node.children {
        match kid.def.id {
            "2420A" if !rendering => {
                rendering = true;
                l.rendering_npi = text(kid.first().get(9));
            }
            "2430" => {
                let s = Fields::new(kid.first());
                l.adjudications.push(LineAdjudication {
                    payer_id: text(s.get(1)),
                    paid: decimal(s.get(2)).unwrap_or_default(),
                    procedure: Procedure::from_composite(s.get(3), s.seg.delimiters().component),
                    units: decimal(s.get(5)).unwrap_or_default(),
                    adjustments: kid.segs("CAS").flat_map(cas_adjustments).collect(),
                    date: kid.seg_q("DTP", 1, "573").and_then(|d| dated(d.get(2), d.get(3))).map(|d| d.0),
                });
            }
            _ => {}
        }
    }
    l
}

const ENTITY_NPI_LOOPS: [&str; 9] = ["2010AA", "2310A", "2310B", "2310C", "2310D", "2420A", "2420B", "2420E", "2420F"];

/// Implementation-guide (SNIP 2) and balancing (SNIP 3) checks over a built tree.
pub fn validate(root: &Node<'_>, set_start: u64, issues: &mut Vec<Issue>) {
    check_usage(root, set_start, issues);
    let mut c = Checks::new(set_start, issues);
    if let Some(bht) = root.seg("BHT") {
        c.code(bht, "837P", 1, &["0019"]);
        c.code(bht, "837P", 2, &["00", "18"]);
        c.required(bht, "837P", 3);
        c.date(bht, "837P", 4);
        c.code(bht, "837P", 6, &["CH", "RP", "31"]);
    }
    root.walk(&mut |n: &Node<'_>| {
        let lid = n.def.id;
        for seg in &n.segments {
            match seg_pack(seg) {
                ID_NM1 => {
                    let f = Fields::new(seg);
                    c.required(&f, lid, 1);
                    c.code(&f, lid, 2, &["1", "2"]);
                    if ENTITY_NPI_LOOPS.contains(&lid) {
                        if f.get(8) == b"XX" {
                            c.npi(&f, lid, 9);
                        } else if lid == "2010AA" {
                            c.code(&f, lid, 8, &["XX"]);
                        }
                    }
                }
                ID_HL => {
                    let f = Fields::new(seg);
                    c.required(&f, lid, 1);
                    c.required(&f, lid, 3);
                }
                ID_SBR => {
                    let f = Fields::new(seg);
                    c.code(&f, lid, 1, &["A", "B", "C", "D", "E", "F", "G", "H", "P", "S", "T", "U"]);
                    c.code(
                        &f,
                        lid,
                        9,
                        &[
                            "11", "12", "13", "14", "15", "16", "17", "AM", "BL", "CH", "CI", "DS", "FI", "HM", "LM",
                            "MA", "MB", "MC", "OF", "TV", "VA", "WC", "ZZ",
                        ],
                    );
                }
                ID_CLM => validate_clm(&mut c, &Fields::new(seg), n),
                ID_HI => validate_hi(&mut c, seg, lid),
                ID_SV1 => {
                    let f = Fields::new(seg);
                    c.required(&f, lid, 1);
                    // SV101-1 and -2, as `Procedure::from_segment` would read them (text that
                    // is not UTF-8 reads as empty).
                    let mut parts = crate::values::components(f.get(1), seg.delimiters().component);
                    let qualifier = parts.next().unwrap_or(b"");
                    let code = parts.next().unwrap_or(b"");
                    if !matches!(qualifier, b"HC" | b"ER" | b"IV" | b"WK") {
                        c.issues.push(Issue::element(
                            seg,
                            set_start,
                            Some(lid),
                            1,
                            Some(1),
                            IssueCode::InvalidCode,
                            "invalid procedure code qualifier in SV101-1".into(),
                        ));
                    }
                    if code.is_empty() || std::str::from_utf8(code).is_err() {
                        c.issues.push(Issue::element(
                            seg,
                            set_start,
                            Some(lid),
                            1,
                            Some(2),
                            IssueCode::RequiredElementMissing,
                            "procedure code missing in SV101-2".into(),
                        ));
                    }
                    c.req_decimal(&f, lid, 2);
                    c.required(&f, lid, 3);
                    c.code(&f, lid, 3, &["UN", "MJ"]);
                    if let Some(u) = c.req_decimal(&f, lid, 4) {
                        if u <= Decimal::ZERO {
                            c.issues.push(Issue::element(
                                seg,
                                set_start,
                                Some(lid),
                                4,
                                None,
                                IssueCode::InvalidNumber,
                                "SV104 units must be positive".into(),
                            ));
                        }
                    }
                    c.required(&f, lid, 7);
                }
                ID_DTP => {
                    c.dtp(&Fields::new(seg), lid);
                }
                ID_CAS => {
                    let f = Fields::new(seg);
                    c.code(&f, lid, 1, &["CO", "OA", "PI", "PR"]);
                    for i in 0..6 {
                        c.decimal(&f, lid, 3 + i * 3);
                    }
                }
                ID_AMT | ID_SVD => {
                    c.req_decimal(&Fields::new(seg), lid, 2);
                }
                ID_REF => {
                    let f = Fields::new(seg);
                    c.required(&f, lid, 1);
                    c.required(&f, lid, 2);
                    c.length(&f, lid, 2, 1, 50);
                }
                _ => {}
            }
        }
    });
}

fn validate_clm(c: &mut Checks<'_>, f: &Fields<'_>, node: &Node<'_>) {
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
    // SNIP 3: the claim charge is the sum of its line charges.
    if let Some(charge) = charge {
        let lines: Option<Decimal> = node.kids("2400").map(|lx| lx.seg("SV1").and_then(|s| decimal(s.get(2)))).sum();
        if let Some(sum) = lines {
            if sum != charge {
                c.unbalanced(
                    clm,
                    lid,
                    2,
                    format!("CLM02 does not equal the sum of SV102 ({} lines sum to {sum})", node.kids("2400").count()),
                );
            }
        }
    }
}

fn validate_hi(c: &mut Checks<'_>, hi: &SegmentRef<'_>, lid: &'static str) {
    const PRINCIPAL: &[&[u8]] = &[b"ABK", b"BK"];
    const OTHER: &[&[u8]] = &[b"ABF", b"BF", b"ABK", b"BK", b"BP", b"BO", b"BG", b"ABN", b"BN", b"ABJ", b"APR"];
    c.diagnoses(hi, lid, |i| if i == 0 { PRINCIPAL } else { OTHER });
}

/// Builds, validates and extracts one 837P set from its segments (ST..SE).
pub fn parse<'a>(
    segments: impl IntoIterator<Item = SegmentRef<'a>>,
    set_control: &str,
    issues: &mut Vec<Issue>,
) -> Claims837 {
    let mut segs = segments.into_iter().peekable();
    let start = segs.peek().map(|s| s.index()).unwrap_or(1);
    let root = build(&SCHEMA, segs, issues);
    validate(&root, start, issues);
    extract(&root, set_control)
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
