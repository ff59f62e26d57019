//! Secondary 837P claims: when the primary's 835 leaves patient responsibility and the claim
//! named another payer (2320/2330), the claim goes to that payer with the primary's
//! adjudication in the COB loops.
//!
//! The typed `Claim` does not keep addresses or demographics, so the parties' loops are copied
//! from the transaction set the claim was sent in (`SubmittedClaim::source`) and rearranged:
//! the other payer's 2330A/2330B become 2010BA/2010BB under `SBR*S`, the primary's 2000B
//! becomes the 2320/2330A/2330B with the claim-level CAS, `AMT*D` (paid) and `AMT*EAF`
//! (remaining patient liability), and each line gets a 2430 (`SVD`, its `CAS`, `DTP*573`).
//! Whatever changes in the 837P loop layout must change here too; the round-trip test parses
//! the output with `hipaa::parse_set` and expects no error.

use crate::reconcile::{match_lines, SecondaryDue};
use chrono::NaiveDate;
use hipaa::Adjustment;
use rust_decimal::Decimal;
use std::collections::BTreeMap;
use x12::{Delimiters, Element, EnvelopeWriter, GroupHeader, InterchangeHeader, LineEnding, Segment};

/// Building a secondary claim failed.
#[derive(Debug, thiserror::Error)]
pub enum SecondaryError {
    #[error("claim in set {set} (segment {segment}): the source set has no {what}")]
    Missing { set: String, segment: u64, what: &'static str },
    #[error("writing the 837: {0}")]
    Io(#[from] std::io::Error),
}

/// Envelope settings for the emitted file.
#[derive(Clone, Debug)]
pub struct Envelope {
    pub date: NaiveDate,
    /// HHMM.
    pub time: String,
    pub control: u32,
    /// ISA15: `P` production or `T` test.
    pub usage: String,
}

const MAX_CLAIMS_PER_SET: usize = 5000;

fn amount(d: Decimal) -> String {
    let n = d.normalize();
    if n.is_zero() {
        "0".into()
    } else {
        n.to_string()
    }
}

fn seg<E: Into<Element>>(id: &str, els: impl IntoIterator<Item = E>) -> Segment {
    Segment::new(id, els)
}

/// The source set's segments as owned segments, with their file segment numbers.
struct Source {
    segs: Vec<(u64, Segment)>,
}

impl Source {
    fn id(&self, i: usize) -> &str {
        self.segs[i].1.id.as_str()
    }

    fn el(&self, i: usize, n: usize) -> &str {
        self.segs[i].1.get(n)
    }

    fn find_back(&self, from: usize, f: impl Fn(usize) -> bool) -> Option<usize> {
        (0..from).rev().find(|&i| f(i))
    }

    fn next(&self, from: usize, f: impl Fn(usize) -> bool) -> usize {
        (from..self.segs.len()).find(|&i| f(i)).unwrap_or(self.segs.len())
    }

    fn range(&self, a: usize, b: usize) -> Vec<Segment> {
        self.segs[a..b].iter().map(|(_, s)| s.clone()).collect()
    }
}

/// The pieces of one claim's source, as index ranges into `Source`.
struct Parts {
    billing: (usize, usize),
    subscriber_sbr: usize,
    subscriber: (usize, usize),
    patient: Option<(usize, usize)>,
    head: (usize, usize),
    others: Vec<(usize, usize)>,
    lines: Vec<(usize, usize)>,
}

fn parts(src: &Source, clm_segment: u64, set: &str) -> Result<Parts, SecondaryError> {
    let missing = |what| SecondaryError::Missing { set: set.to_string(), segment: clm_segment, what };
    let p = src.segs.iter().position(|(n, s)| *n == clm_segment && s.id == "CLM").ok_or_else(|| missing("CLM"))?;
    let hl = |level: &'static str| src.find_back(p, |i| src.id(i) == "HL" && src.el(i, 3) == level);
    let hl20 = hl("20").ok_or_else(|| missing("billing provider HL"))?;
    let hl22 = hl("22").ok_or_else(|| missing("subscriber HL"))?;
    let hl23 = hl("23").filter(|&i| i > hl22);
    let billing = (hl20 + 1, src.next(hl20 + 1, |i| src.id(i) == "HL"));
    let sub_end = src.next(hl22 + 1, |i| matches!(src.id(i), "HL" | "CLM"));
    let subscriber_sbr = src.next(hl22 + 1, |i| src.id(i) == "SBR");
    if subscriber_sbr >= sub_end {
        return Err(missing("subscriber SBR"));
    }
    let patient = hl23.map(|h| (h + 1, src.next(h + 1, |i| matches!(src.id(i), "HL" | "CLM"))));
    let end = src.next(p + 1, |i| matches!(src.id(i), "CLM" | "HL" | "SE"));
    let head_end = src.next(p + 1, |i| i >= end || matches!(src.id(i), "SBR" | "LX"));
    let mut others = Vec::new();
    let mut i = head_end;
    while i < end && src.id(i) == "SBR" {
        let e = src.next(i + 1, |j| j >= end || matches!(src.id(j), "SBR" | "LX"));
        others.push((i, e));
        i = e;
    }
    let mut lines = Vec::new();
    while i < end && src.id(i) == "LX" {
        let e = src.next(i + 1, |j| j >= end || src.id(j) == "LX");
        lines.push((i, e));
        i = e;
    }
    Ok(Parts {
        billing,
        subscriber_sbr,
        subscriber: (subscriber_sbr + 1, sub_end),
        patient,
        head: (p, head_end),
        others,
        lines,
    })
}

/// The segments of one loop (NM1 with the given entity code) within a range, up to the next NM1.
fn nm1_loop(src: &Source, (a, b): (usize, usize), entity: &str, keep: &[&str]) -> Vec<Segment> {
    let Some(start) = (a..b).find(|&i| src.id(i) == "NM1" && src.el(i, 1) == entity) else { return Vec::new() };
    let end = src.next(start + 1, |i| i >= b || src.id(i) == "NM1");
    let mut out = vec![src.segs[start].1.clone()];
    out.extend(src.range(start + 1, end).into_iter().filter(|s| keep.contains(&s.id.as_str())));
    out
}

fn cas_segments(adjs: &[Adjustment]) -> Vec<Segment> {
    let mut by_group: BTreeMap<&str, Vec<&Adjustment>> = BTreeMap::new();
    for a in adjs.iter().filter(|a| !a.amount.is_zero()) {
        by_group.entry(a.group.as_str()).or_default().push(a);
    }
    let mut out = Vec::new();
    for (group, list) in by_group {
        for chunk in list.chunks(6) {
            let mut els: Vec<Element> = vec![group.into()];
            for a in chunk {
                els.push(a.reason.as_str().into());
                els.push(amount(a.amount).into());
                els.push(a.quantity.map(amount).unwrap_or_default().into());
            }
            out.push(Segment { id: "CAS".into(), elements: els });
        }
    }
    out
}

/// The 2000A..2400 segments of one secondary claim, HL numbers from `hl`.
pub fn claim_segments(due: &SecondaryDue, hl: &mut u32) -> Result<Vec<Segment>, SecondaryError> {
    let claim = &due.submitted.claim;
    let set = &due.submitted.source;
    let src = Source { segs: set.segments().map(|s| (s.index(), Segment::from_ref(&s))).collect() };
    let pt = parts(&src, claim.segment, &set.control)?;
    let other = claim.other_payers.get(due.other_payer).ok_or(SecondaryError::Missing {
        set: set.control.clone(),
        segment: claim.segment,
        what: "other payer (2320)",
    })?;
    let Some(&other_range) = pt.others.get(due.other_payer) else {
        return Err(SecondaryError::Missing { set: set.control.clone(), segment: claim.segment, what: "2320 loop" });
    };
    let pay = &due.payment;
    let primary_id =
        if claim.payer.id.is_empty() { due.primary_payer_id.to_string() } else { claim.payer.id.to_string() };
    let primary_name = claim.payer.last_or_org.clone();
    let orig_rel = src.el(pt.subscriber_sbr, 2).to_string();
    let orig_pat_rel =
        pt.patient.and_then(|(a, b)| (a..b).find(|&i| src.id(i) == "PAT")).map(|i| src.el(i, 1).to_string());
    let patient_is_new_subscriber = other.relationship == "18";

    let mut out = Vec::new();
    let a = *hl;
    out.push(seg("HL", [a.to_string(), String::new(), "20".into(), "1".into()]));
    out.extend(src.range(pt.billing.0, pt.billing.1));
    let b = a + 1;
    out.push(seg(
        "HL",
        [b.to_string(), a.to_string(), "22".into(), if patient_is_new_subscriber { "0" } else { "1" }.into()],
    ));
    out.push(seg(
        "SBR",
        [
            "S",
            if patient_is_new_subscriber { "18" } else { "" },
            other.group_number.as_str(),
            "",
            "",
            "",
            "",
            "",
            other.filing_indicator.as_str(),
        ],
    ));
    // 2010BA: the secondary's subscriber (the original 2330A), with the demographics of the
    // original subscriber when it is the same person (the patient).
    out.extend(nm1_loop(&src, other_range, "IL", &["N3", "N4"]));
    if patient_is_new_subscriber {
        let dmg = if orig_rel == "18" {
            (pt.subscriber.0..pt.subscriber.1).find(|&i| src.id(i) == "DMG")
        } else {
            pt.patient.and_then(|(x, y)| (x..y).find(|&i| src.id(i) == "DMG"))
        };
        out.extend(dmg.map(|i| src.segs[i].1.clone()));
    }
    // 2010BB: the secondary payer.
    let payer_loop = nm1_loop(&src, other_range, "PR", &["N3", "N4"]);
    if payer_loop.is_empty() {
        return Err(SecondaryError::Missing { set: set.control.clone(), segment: claim.segment, what: "2330B payer" });
    }
    out.extend(payer_loop);
    *hl = b + 1;
    if !patient_is_new_subscriber {
        let c = *hl;
        *hl += 1;
        out.push(seg("HL", [c.to_string(), b.to_string(), "23".into(), "0".into()]));
        out.push(seg("PAT", [other.relationship.as_str()]));
        match pt.patient {
            Some(range) => out.extend(nm1_loop(&src, range, "QC", &["N3", "N4", "DMG"])),
            None => {
                let mut l = nm1_loop(&src, pt.subscriber, "IL", &["N3", "N4", "DMG"]);
                if let Some(nm1) = l.first_mut() {
                    nm1.id = "NM1".into();
                    nm1.elements.truncate(7);
                    if let Some(e) = nm1.elements.first_mut() {
                        *e = "QC".into();
                    }
                }
                out.extend(l);
            }
        }
    }
    // 2300 as sent (CLM, dates, references, HI, 2310 loops).
    out.extend(src.range(pt.head.0, pt.head.1));
    // 2320: the primary payer's adjudication.
    let primary_rel = if orig_rel == "18" { "18".to_string() } else { orig_pat_rel.unwrap_or_else(|| "18".into()) };
    let (group, filing) = (src.el(pt.subscriber_sbr, 3).to_string(), src.el(pt.subscriber_sbr, 9).to_string());
    out.push(seg("SBR", ["P", primary_rel.as_str(), group.as_str(), "", "", "", "", "", filing.as_str()]));
    out.extend(cas_segments(&pay.adjustments));
    let remaining = pay.pr_total().max(pay.patient_responsibility.unwrap_or_default());
    out.push(seg("AMT", ["D".to_string(), amount(pay.paid)]));
    out.push(seg("AMT", ["EAF".to_string(), amount(remaining)]));
    let oi = (other_range.0..other_range.1).find(|&i| src.id(i) == "OI");
    out.push(oi.map(|i| src.segs[i].1.clone()).unwrap_or_else(|| seg("OI", ["", "", "Y", "P", "", "Y"])));
    // 2330A: the primary's subscriber (the original 2010BA).
    out.extend(nm1_loop(&src, pt.subscriber, "IL", &["N3", "N4"]));
    // 2330B: the primary payer.
    out.push(seg("NM1", ["PR", "2", primary_name.as_str(), "", "", "", "", "PI", primary_id.as_str()]));
    let date = due.adjudicated.map(|d| d.format("%Y%m%d").to_string());
    if let Some(d) = &date {
        out.push(seg("DTP", ["573", "D8", d.as_str()]));
    }
    // 2400 as sent (without any earlier 2430), each with the primary's 2430.
    let matches = match_lines(claim, pay);
    for (li, &(x, y)) in pt.lines.iter().enumerate() {
        let mut kept = Vec::new();
        let mut in_2430 = false;
        for s in src.range(x, y) {
            match s.id.as_str() {
                "SVD" => in_2430 = true,
                "LQ" => in_2430 = false,
                _ => {}
            }
            if !in_2430 {
                kept.push(s);
            }
        }
        let (tail_start, _) = kept
            .iter()
            .enumerate()
            .find(|(_, s)| s.id == "LQ")
            .map(|(i, s)| (i, s.clone()))
            .unwrap_or((kept.len(), Segment::default()));
        let tail = kept.split_off(tail_start);
        out.extend(kept);
        let line = claim.lines.get(li);
        if let (Some(si), Some(line)) = (matches.iter().position(|m| *m == Some(li)), line) {
            let svc = &pay.services[si];
            let mut proc = vec![line.procedure.qualifier.clone(), line.procedure.code.clone()];
            proc.extend(line.procedure.modifiers.iter().cloned());
            out.push(Segment {
                id: "SVD".into(),
                elements: vec![
                    primary_id.as_str().into(),
                    amount(svc.paid).into(),
                    Element::composite(proc),
                    "".into(),
                    amount(svc.units_paid).into(),
                ],
            });
            out.extend(cas_segments(&svc.adjustments));
            let d = svc.service_date.map(|d| d.format("%Y%m%d").to_string()).or(date.clone());
            if let Some(d) = date.clone().or(d) {
                out.push(seg("DTP", ["573", "D8", d.as_str()]));
            }
        }
        out.extend(tail);
    }
    Ok(out)
}

/// Writes the secondary claims as one interchange (one ST per 5,000 claims), the header loops
/// (1000A submitter, 1000B receiver) taken from the first claim's source set.
pub fn build_secondary_837(dues: &[SecondaryDue], env: &Envelope) -> Result<Vec<u8>, SecondaryError> {
    let Some(first) = dues.first() else { return Ok(Vec::new()) };
    let source = &first.submitted.source;
    let src = Source { segs: source.segments().map(|s| (s.index(), Segment::from_ref(&s))).collect() };
    let missing =
        |what| SecondaryError::Missing { set: source.control.clone(), segment: first.submitted.claim.segment, what };
    let submitter =
        src.segs.iter().position(|(_, s)| s.id == "NM1" && s.get(1) == "41").ok_or_else(|| missing("1000A"))?;
    let mut header = vec![src.segs[submitter].1.clone()];
    header.extend(src.range(submitter + 1, src.next(submitter + 1, |i| src.id(i) != "PER")));
    header.extend(src.segs.iter().find(|(_, s)| s.id == "NM1" && s.get(1) == "40").map(|(_, s)| s.clone()));
    let g = &source.group;
    let date8 = env.date.format("%Y%m%d").to_string();
    let isa = InterchangeHeader {
        sender_qualifier: "ZZ".into(),
        sender_id: g.sender.clone(),
        receiver_qualifier: "ZZ".into(),
        receiver_id: g.receiver.clone(),
        date: env.date.format("%y%m%d").to_string(),
        time: env.time.clone(),
        version: "00501".into(),
        usage: env.usage.clone(),
        ..InterchangeHeader::default()
    };
    let gs = GroupHeader {
        functional_id: "HC".into(),
        sender: g.sender.clone(),
        receiver: g.receiver.clone(),
        date: date8.clone(),
        time: env.time.clone(),
        agency: "X".into(),
        version: "005010X222A1".into(),
        ..GroupHeader::default()
    };
    let mut w = EnvelopeWriter::new(Vec::new(), Delimiters::default(), LineEnding::Lf);
    w.start_interchange(&isa, env.control)?;
    w.start_group(&gs, env.control)?;
    for (n, chunk) in dues.chunks(MAX_CLAIMS_PER_SET).enumerate() {
        let st = format!("{:04}", n + 1);
        w.start_set("837", &st, "005010X222A1")?;
        w.segment(&seg(
            "BHT",
            [
                "0019".to_string(),
                "00".into(),
                format!("SEC{}{}", env.control, st),
                date8.clone(),
                env.time.clone(),
                "CH".into(),
            ],
        ))?;
        for s in &header {
            w.segment(s)?;
        }
        let mut hl = 1;
        for due in chunk {
            for s in claim_segments(due, &mut hl)? {
                w.segment(&s)?;
            }
        }
        w.end_set()?;
    }
    w.end_group()?;
    Ok(w.finish()?)
}
