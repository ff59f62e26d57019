//! The claim scrubber: claim + reference + history -> findings.
//!
//! Each rule is a small function over one claim. Rules read facts from `Reference` (code
//! families, PTP and MUE edits, payer settings, fees, dx policy, enrollments) and from
//! `History`; none names a CPT code except through that data. Rule ids are the stable contract
//! in DESIGN.md. A finding of severity `error` holds the claim; `warning` lets it go.

use crate::history::{patient_key_ref, History, PastService};
use crate::reference::{undot, CodeInfo, Reference};
use crate::text::{Arg, Detail, Piece::A, Piece::L as S, Template, Text};
use chrono::{Duration, NaiveDate};
use hipaa::{Claim, ServiceLine};
use rayon::prelude::*;
use rust_decimal::Decimal;
use serde::Serialize;
use std::collections::BTreeSet;
use std::sync::Arc;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
        }
    }
}

/// One finding, in the DESIGN.md contract's columns. The message and fix are kept as a
/// template and its arguments ([`Detail`]) and written when read: [`Finding::message`] and
/// [`Finding::fix`]. `Debug` and `Serialize` show them as the strings they render to.
#[derive(Clone, PartialEq, Eq)]
pub struct Finding {
    /// Shared by the findings of one file (per parallel task).
    pub file: Arc<str>,
    /// Shared by the findings of one claim.
    pub claim_id: Arc<str>,
    /// 1-based service line, `None` for claim-level findings.
    pub line: Option<u32>,
    pub rule: &'static str,
    pub severity: Severity,
    pub detail: Detail,
}

impl Finding {
    /// What is wrong.
    pub fn message(&self) -> Text<'_> {
        self.detail.message()
    }

    /// How to fix it.
    pub fn fix(&self) -> Text<'_> {
        self.detail.fix()
    }
}

impl std::fmt::Debug for Finding {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Finding")
            .field("file", &self.file)
            .field("claim_id", &self.claim_id)
            .field("line", &self.line)
            .field("rule", &self.rule)
            .field("severity", &self.severity)
            .field("message", &self.message())
            .field("fix", &self.fix())
            .finish()
    }
}

impl Serialize for Finding {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut st = s.serialize_struct("Finding", 7)?;
        st.serialize_field("file", &*self.file)?;
        st.serialize_field("claim_id", &*self.claim_id)?;
        st.serialize_field("line", &self.line)?;
        st.serialize_field("rule", self.rule)?;
        st.serialize_field("severity", &self.severity)?;
        st.serialize_field("message", &self.message())?;
        st.serialize_field("fix", &self.fix())?;
        st.end()
    }
}

/// Every rule id, in the order of the contract.
pub const RULES: [&str; 23] = [
    "ncci-ptp",
    "mue-units",
    "imaging-included",
    "imaging-code-choice",
    "addon-without-primary",
    "modifier-25-missing",
    "laterality",
    "bilateral-style",
    "auth-missing",
    "auth-mismatch",
    "dx-not-supporting",
    "dx-sequencing",
    "dx-excludes1",
    "timely-filing",
    "npi-invalid",
    "provider-not-enrolled",
    "frequency-limit",
    "rfa-prerequisite",
    "tpi-units",
    "code-deleted",
    "charge-below-allowed",
    "claim-unbalanced",
    "eligibility-inactive",
];

/// What the rules run against.
pub struct Context<'r> {
    pub reference: &'r Reference,
    pub history: &'r dyn History,
    /// The date filing is measured to (today, for a nightly run).
    pub today: NaiveDate,
}

/// A claim paired with the file it came from.
pub struct Input<'c> {
    pub file: &'c str,
    pub claim: &'c Claim,
}

/// Claims per parallel task.
const CHUNK: usize = 512;

/// Scrubs claims in parallel; findings sorted by (file, claim, line, rule, message).
///
/// Each claim's findings are sorted where they are made, in parallel. Inputs already in
/// (file, claim id) order with no repeated claim id (one 837 file sorted by CLM01, or the
/// bench) come out in order by concatenation; otherwise the whole result takes a stable sort,
/// which gives claims sharing a file and claim id one merged, sorted run.
pub fn scrub(inputs: &[Input<'_>], ctx: &Context<'_>) -> Vec<Finding> {
    fn key<'a>(i: &Input<'a>) -> (&'a str, &'a str) {
        (i.file, i.claim.claim_id.as_str())
    }
    let in_order = inputs.windows(2).all(|w| key(&w[0]) < key(&w[1]));
    let chunks: Vec<Vec<Finding>> = inputs
        .par_chunks(CHUNK)
        .map_init(
            || (0, Scratch::default()),
            |(hint, scratch), chunk| {
                // Sized from the previous chunk of this worker: growing by doubling copied every
                // finding again.
                let mut out = Vec::with_capacity(*hint + *hint / 8);
                let mut file: Option<Arc<str>> = None;
                for i in chunk {
                    let f = match &file {
                        Some(f) if **f == *i.file => f.clone(),
                        _ => file.insert(Arc::from(i.file)).clone(),
                    };
                    let from = out.len();
                    scrub_into(i.claim, ctx, &f, scratch, &mut out);
                    out[from..].sort_by(|a: &Finding, b: &Finding| {
                        (a.line, a.rule).cmp(&(b.line, b.rule)).then_with(|| a.message().cmp(&b.message()))
                    });
                }
                *hint = out.len();
                out
            },
        )
        .collect();
    let mut out = Vec::with_capacity(chunks.iter().map(Vec::len).sum());
    for c in chunks {
        out.extend(c);
    }
    if !in_order {
        out.par_sort_by(order);
    }
    out
}

fn order(a: &Finding, b: &Finding) -> std::cmp::Ordering {
    (&a.file, &a.claim_id, a.line, a.rule)
        .cmp(&(&b.file, &b.claim_id, b.line, b.rule))
        .then_with(|| a.message().cmp(&b.message()))
}

/// Sorts findings deterministically.
pub fn sort(findings: &mut [Finding]) {
    findings.sort_by(order);
}

/// Whether a claim's findings hold it.
pub fn holds(findings: &[Finding]) -> bool {
    findings.iter().any(|f| f.severity == Severity::Error)
}

struct Claimed<'a, 'l> {
    claim: &'a Claim,
    ctx: &'a Context<'a>,
    /// Each line with its 1-based number, date and code info.
    lines: &'l [L<'a>],
    patient: std::borrow::Cow<'a, str>,
    /// Earlier services of the patient (this claim's own lines excluded by `past`).
    history: std::borrow::Cow<'a, [PastService]>,
    /// The reference row of each entry of `history`.
    past_info: &'l [Option<&'a CodeInfo>],
    /// The payer's rules, looked up once.
    payer: &'a crate::reference::PayerRules,
    file: &'l Arc<str>,
    /// The claim id shared by its findings, made with the first one.
    id: Option<Arc<str>>,
    out: &'l mut Vec<Finding>,
}

/// One service line with what the rules ask of it, looked up once: the code's reference row,
/// its PTP column-2 table, and its families and modifier kinds as bits (the rules test these
/// for every pair of lines, so string compares and hash lookups there add up).
#[derive(Clone, Copy)]
struct L<'a> {
    n: u32,
    line: &'a ServiceLine,
    date: NaiveDate,
    info: Option<&'a CodeInfo>,
    ptp: Option<&'a crate::reference::HashMap<String, Vec<crate::reference::PtpEdit>>>,
    mue: Option<&'a crate::reference::Mue>,
    dx: Option<(&'a str, u64)>,
    flags: u8,
    mods: u8,
    /// 50, RT and LT present ([`N_50`] ...).
    named: u8,
    /// The claim's payer's fee schedule rows for the code.
    fees: Option<&'a [crate::reference::Fee]>,
    /// The code packed into an integer (codes are 5 characters), for cheap equality.
    key: u64,
}

/// Packs a procedure code (up to 8 bytes) into an integer; longer codes keep their first 8
/// bytes and length, which is only used as a fast pre-check before a full compare.
fn code_key(code: &str) -> u64 {
    // A byte loop: `copy_from_slice` of a variable length is a `memcpy` call, and this runs
    // for every line against every code a payer requires authorization for.
    let b = code.as_bytes();
    let n = b.len().min(7);
    let mut word = 0u64;
    let mut i = 0;
    if n >= 4 {
        word = u64::from(u32::from_le_bytes([b[0], b[1], b[2], b[3]]));
        i = 4;
    }
    while i < n {
        word |= u64::from(b[i]) << (8 * i);
        i += 1;
    }
    word ^ (u64::from(code.len() as u8) << 56)
}

const F_EM: u8 = 1;
const F_IMAGING: u8 = 2;
const F_PROCEDURE: u8 = 4;
const F_ADDON: u8 = 8;

const M_DISTINCT: u8 = 1;
const M_EM_DISTINCT: u8 = 2;
const M_ANATOMIC: u8 = 4;
/// Modifiers the rules ask for by name, as bits of `L::named`.
const N_50: u8 = 1;
const N_RT: u8 = 2;
const N_LT: u8 = 4;

/// What the rules ask of a procedure code: its reference row, PTP column-2 table, MUE, family
/// bits and dx policy. Looked up once per distinct code in a parallel task ([`Scratch`]):
/// these hash lookups by `String` were a fifth of a scrub when made per line.
#[derive(Clone, Copy)]
struct Facts<'a> {
    info: Option<&'a CodeInfo>,
    ptp: Option<&'a crate::reference::HashMap<String, Vec<crate::reference::PtpEdit>>>,
    mue: Option<&'a crate::reference::Mue>,
    flags: u8,
    /// The family's dx policy: its first prefix (the example in messages) and its bit in
    /// `Reference::dx_family_bits` (0 when it has none); `None` when the family has no policy.
    dx: Option<(&'a str, u64)>,
}

impl<'a> Facts<'a> {
    fn new(code: &str, r: &'a Reference) -> Facts<'a> {
        let info = r.code(code);
        let mut flags = 0;
        if let Some(i) = info {
            if i.family == EM {
                flags |= F_EM;
            }
            if i.family == IMAGING {
                flags |= F_IMAGING;
            }
            if matches!(i.global_days.as_str(), "000" | "010" | "090") {
                flags |= F_PROCEDURE;
            }
            if i.is_addon() {
                flags |= F_ADDON;
            }
        }
        let family = info.map(|i| i.family.as_str()).unwrap_or("");
        let dx = r.dx_policy.get(family).map(|prefixes| {
            (prefixes.first().map_or("", |p| p.as_str()), r.dx_family_bits.get(family).copied().unwrap_or(0))
        });
        Facts { info, ptp: r.ptp.get(code), mue: r.mue.get(code), flags, dx }
    }
}

fn modifier_bits(r: &Reference, m: &str) -> u8 {
    match r.modifier_kind(m) {
        "distinct" | "global" | "repeat" => M_DISTINCT,
        "em-distinct" => M_EM_DISTINCT,
        "anatomic" => M_ANATOMIC,
        _ => 0,
    }
}

/// Scratch space and lookups kept across the claims of one parallel task.
#[derive(Default)]
struct Scratch<'a> {
    lines: Vec<L<'a>>,
    /// Code facts by [`code_key`], for codes of up to 7 bytes (where the key is the code).
    codes: crate::reference::HashMap<u64, Facts<'a>>,
    /// Fee schedule rows by payer and code ([`code_key`] of each, both up to 7 bytes).
    fees: crate::reference::HashMap<(u64, u64), Option<&'a [crate::reference::Fee]>>,
    /// Modifier bits by [`code_key`], for modifiers of up to 7 bytes.
    modifiers: crate::reference::HashMap<u64, u8>,
    /// The reference row of each of the patient's earlier services.
    past: Vec<Option<&'a CodeInfo>>,
}

fn facts<'a>(codes: &mut crate::reference::HashMap<u64, Facts<'a>>, code: &str, r: &'a Reference) -> Facts<'a> {
    if code.len() > 7 {
        return Facts::new(code, r);
    }
    *codes.entry(code_key(code)).or_insert_with(|| Facts::new(code, r))
}

impl<'a> L<'a> {
    fn new(
        n: u32,
        line: &'a ServiceLine,
        date: NaiveDate,
        r: &'a Reference,
        payer_id: &str,
        scratch: &mut Scratch<'a>,
    ) -> L<'a> {
        let code = line.procedure.code.as_str();
        let f = facts(&mut scratch.codes, code, r);
        let fees = if payer_id.len() > 7 || code.len() > 7 {
            r.fee_rows(payer_id, code)
        } else {
            *scratch.fees.entry((code_key(payer_id), code_key(code))).or_insert_with(|| r.fee_rows(payer_id, code))
        };
        let mut mods = 0;
        let mut named = 0;
        for m in &line.procedure.modifiers {
            named |= match m.as_str() {
                "50" => N_50,
                "RT" => N_RT,
                "LT" => N_LT,
                _ => 0,
            };
            mods |= if m.len() > 7 {
                modifier_bits(r, m)
            } else {
                *scratch.modifiers.entry(code_key(m)).or_insert_with(|| modifier_bits(r, m))
            };
        }
        L {
            n,
            line,
            date,
            info: f.info,
            ptp: f.ptp,
            mue: f.mue,
            dx: f.dx,
            flags: f.flags,
            mods,
            named,
            fees,
            key: code_key(&line.procedure.code),
        }
    }

    fn is(&self, flag: u8) -> bool {
        self.flags & flag != 0
    }
    fn code(&self) -> &'a str {
        &self.line.procedure.code
    }
    fn has(&self, m: &str) -> bool {
        let bit = match m {
            "50" => N_50,
            "RT" => N_RT,
            "LT" => N_LT,
            _ => return self.line.procedure.has_modifier(m),
        };
        self.named & bit != 0
    }
    fn family(&self) -> &'a str {
        self.info.map(|i| i.family.as_str()).unwrap_or("")
    }
    fn region(&self) -> &'a str {
        self.info.map(|i| i.region.as_str()).unwrap_or("")
    }
    fn is_addon(&self) -> bool {
        self.is(F_ADDON)
    }
}

const IMAGING: &str = "imaging-guidance";
const EM: &str = "em";

impl<'a, 'l> Claimed<'a, 'l> {
    fn push(&mut self, line: Option<u32>, rule: &'static str, severity: Severity, detail: Detail) {
        let claim = self.claim;
        let claim_id = self.id.get_or_insert_with(|| Arc::from(claim.claim_id.as_str())).clone();
        self.out.push(Finding { file: self.file.clone(), claim_id, line, rule, severity, detail });
    }

    /// An error whose text the rule formats itself (rules that fire rarely).
    fn err(&mut self, line: Option<u32>, rule: &'static str, message: String, fix: String) {
        self.push(line, rule, Severity::Error, Detail::owned(message, fix));
    }

    /// An error from a template, formatted when read.
    fn err_t(&mut self, line: Option<u32>, rule: &'static str, t: &'static Template, args: [Arg<'_>; 3]) {
        self.push(line, rule, Severity::Error, Detail::new(t, args));
    }

    fn warn_t(&mut self, line: Option<u32>, rule: &'static str, t: &'static Template, args: [Arg<'_>; 3]) {
        self.push(line, rule, Severity::Warning, Detail::new(t, args));
    }

    fn r(&self) -> &'a Reference {
        self.ctx.reference
    }

    fn payer_id(&self) -> &'a str {
        &self.claim.payer.id
    }

    fn same_day(&self, l: &L<'a>) -> impl Iterator<Item = L<'a>> + 'l {
        let (n, d) = (l.n, l.date);
        self.lines.iter().copied().filter(move |o| o.n != n && o.date == d)
    }

    /// Earlier services of the patient, this claim's own excluded.
    fn past(&self) -> impl Iterator<Item = &PastService> + '_ {
        let id = &self.claim.claim_id;
        self.history.iter().filter(move |s| s.claim_id != *id)
    }

    /// [`Claimed::past`] with each service's reference row.
    fn past_info(&self) -> impl Iterator<Item = (&PastService, Option<&'a CodeInfo>)> + '_ {
        let id = &self.claim.claim_id;
        self.history.iter().zip(self.past_info.iter().copied()).filter(move |(s, _)| s.claim_id != *id)
    }

    /// Whether a modifier on either line bypasses an NCCI indicator-1 edit.
    fn bypassed(&self, a: &L<'a>, b: &L<'a>) -> bool {
        if (a.mods | b.mods) & M_DISTINCT != 0 {
            return true;
        }
        // 25 and 57 bypass only from the E/M line.
        let em_bypass = |l: &L<'a>| l.is(F_EM) && l.mods & M_EM_DISTINCT != 0;
        if em_bypass(a) || em_bypass(b) {
            return true;
        }
        // Anatomic modifiers bypass when the two lines name different sites.
        if a.mods & b.mods & M_ANATOMIC == 0 {
            return false;
        }
        let r = self.r();
        let sites = |l: &L<'a>| -> BTreeSet<&'a str> {
            l.line
                .procedure
                .modifiers
                .iter()
                .filter(|m| r.modifier_kind(m) == "anatomic")
                .map(hipaa::Text::as_str)
                .collect()
        };
        sites(a).is_disjoint(&sites(b))
    }
}

/// Scrubs one claim (the `file` field is left empty for the caller).
pub fn scrub_claim(claim: &Claim, ctx: &Context<'_>) -> Vec<Finding> {
    let mut out = Vec::new();
    scrub_into(claim, ctx, &Arc::from(""), &mut Scratch::default(), &mut out);
    out
}

/// Appends one claim's findings, unsorted, to `out`; `scratch` is reused across the claims of
/// a parallel task.
fn scrub_into<'a>(
    claim: &'a Claim,
    ctx: &'a Context<'a>,
    file: &Arc<str>,
    scratch: &mut Scratch<'a>,
    out: &mut Vec<Finding>,
) {
    let r = ctx.reference;
    let fallback = claim.first_service_date().unwrap_or(ctx.today);
    let mut lines = std::mem::take(&mut scratch.lines);
    lines.clear();
    for (i, line) in claim.lines.iter().enumerate() {
        let date = line.service_from.unwrap_or(fallback);
        lines.push(L::new(i as u32 + 1, line, date, r, &claim.payer.id, scratch));
    }
    let patient = patient_key_ref(claim);
    let history = ctx.history.services(&patient);
    scratch.past.clear();
    for s in history.iter() {
        let info = facts(&mut scratch.codes, &s.code, r).info;
        scratch.past.push(info);
    }
    scrub_lines(claim, ctx, file, &lines, patient, history, &scratch.past, out);
    scratch.lines = lines;
}

#[allow(clippy::too_many_arguments)]
fn scrub_lines<'a>(
    claim: &'a Claim,
    ctx: &'a Context<'a>,
    file: &Arc<str>,
    lines: &[L<'a>],
    patient: std::borrow::Cow<'a, str>,
    history: std::borrow::Cow<'a, [PastService]>,
    past_info: &[Option<&'a CodeInfo>],
    out: &mut Vec<Finding>,
) {
    let payer = ctx.reference.payer(&claim.payer.id);
    let mut c = Claimed { claim, ctx, lines, patient, history, past_info, payer, file, id: None, out };
    ncci_ptp(&mut c);
    mue_units(&mut c);
    imaging(&mut c);
    addon_without_primary(&mut c);
    modifier_25(&mut c);
    laterality(&mut c);
    authorization(&mut c);
    diagnoses(&mut c);
    timely_filing(&mut c);
    providers(&mut c);
    frequency(&mut c);
    rfa_prerequisite(&mut c);
    tpi_units(&mut c);
    code_deleted(&mut c);
    charges(&mut c);
    eligibility(&mut c);
}

const PTP_59_AND_X: Template = Template {
    message: &[A(0), S(" carries both 59 and an X modifier")],
    fix: &[S("keep the X modifier (XE/XS/XP/XU) and drop 59")],
};
const PTP_0: Template = Template {
    message: &[
        A(0),
        S(" is not separately payable with "),
        A(1),
        S(" on the same date (NCCI PTP, modifier indicator 0)"),
    ],
    fix: &[S("remove "), A(0), S("; no modifier bypasses this edit")],
};
const PTP_1: Template = Template {
    message: &[A(0), S(" bundles into "), A(1), S(" on the same date (NCCI PTP, modifier indicator 1)")],
    fix: &[
        S("if "),
        A(0),
        S(" was a distinct service (separate site, session or practitioner), append XS (or 59) with documentation; otherwise remove it"),
    ],
};

/// NCCI procedure-to-procedure edits between lines of the same date. Pairs that a more
/// specific rule explains (imaging guidance, E/M with 25, a no-imaging code with guidance) are
/// left to that rule so one mistake gives one finding.
fn ncci_ptp(c: &mut Claimed<'_, '_>) {
    let lines = c.lines;
    for a in lines {
        if a.line.procedure.has_modifier("59")
            && a.line
                .procedure
                .modifiers
                .iter()
                .any(|m| m.len() == 2 && m.starts_with('X') && c.r().modifier_kind(m) == "distinct")
        {
            c.warn_t(
                Some(a.n),
                "ncci-ptp",
                &PTP_59_AND_X,
                [Arg::Proc(a.code(), &a.line.procedure.modifiers), Arg::Nil, Arg::Nil],
            );
        }
        let Some(column2) = a.ptp else { continue };
        for b in c.same_day(a) {
            if a.key == b.key && a.code() == b.code() {
                continue;
            }
            let Some(edit) = column2.get(b.code()).and_then(|e| e.iter().find(|e| e.active_on(a.date))) else {
                continue;
            };
            let explained = (b.is(F_IMAGING)
                && (a.info.is_some_and(|i| i.imaging_included) || c.r().with_imaging_counterpart(a.code()).is_some()))
                || b.is(F_EM)
                || a.is(F_EM);
            if explained {
                continue;
            }
            match edit.modifier_indicator {
                0 => c.err_t(Some(b.n), "ncci-ptp", &PTP_0, [Arg::Str(b.code()), Arg::Str(a.code()), Arg::Nil]),
                1 if !c.bypassed(a, &b) => {
                    c.err_t(Some(b.n), "ncci-ptp", &PTP_1, [Arg::Str(b.code()), Arg::Str(a.code()), Arg::Nil])
                }
                _ => {}
            }
        }
    }
}

const MUE_LINE: Template = Template {
    message: &[A(0), S(" billed with "), A(1), S(" units; the MUE is "), A(2), S(" per line")],
    fix: &[S("reduce to "), A(2), S(" unit(s), or split clinically distinct units onto lines with anatomic modifiers")],
};
const MUE_DAY_CLINICAL: Template = Template {
    message: &[
        A(0),
        S(" billed with "),
        A(1),
        S(" units on one date; the MUE is "),
        A(2),
        S(" (clinical date-of-service edit)"),
    ],
    fix: &[S("reduce to "), A(2), S(" unit(s), or appeal with documentation of medical necessity")],
};
const MUE_DAY_ABSOLUTE: Template = Template {
    message: &[
        A(0),
        S(" billed with "),
        A(1),
        S(" units on one date; the MUE is "),
        A(2),
        S(" (absolute date-of-service edit)"),
    ],
    fix: &[S("reduce to "), A(2), S(" unit(s); the payer denies the whole line above the MUE")],
};

fn mue_units(c: &mut Claimed<'_, '_>) {
    // (code, date) -> (units, last line); a claim has a handful of lines, so a Vec beats a map.
    let mut per_day: Vec<(&str, NaiveDate, Decimal, u32, &crate::reference::Mue)> = Vec::new();
    for l in c.lines {
        let Some(mue) = l.mue else { continue };
        let value = Decimal::from(mue.value);
        if mue.mai == 1 {
            if l.line.units > value {
                let args = [Arg::Str(l.code()), Arg::Dec(l.line.units), Arg::Int(mue.value.into())];
                c.err_t(Some(l.n), "mue-units", &MUE_LINE, args);
            }
        } else {
            match per_day.iter_mut().find(|e| e.1 == l.date && e.0 == l.code()) {
                Some(e) => {
                    e.2 += l.line.units;
                    e.3 = l.n;
                }
                None => per_day.push((l.code(), l.date, l.line.units, l.n, mue)),
            }
        }
    }
    per_day.sort_by(|a, b| (a.0, a.1).cmp(&(b.0, b.1)));
    for (code, _, units, last, mue) in per_day {
        if units > Decimal::from(mue.value) {
            let t = if mue.mai == 3 { &MUE_DAY_CLINICAL } else { &MUE_DAY_ABSOLUTE };
            c.err_t(Some(last), "mue-units", t, [Arg::Str(code), Arg::Dec(units), Arg::Int(mue.value.into())]);
        }
    }
}

const IMAGING_INCLUDED: Template = Template {
    message: &[A(0), S(" is included in "), A(1), S(": its guidance is part of the code")],
    fix: &[S("remove "), A(0), S("; imaging revenue for this service is captured by "), A(1), S(" itself")],
};
const IMAGING_CODE_CHOICE: Template = Template {
    message: &[
        A(0),
        S(" billed with separate guidance "),
        A(1),
        S(": the code for this injection with imaging is "),
        A(2),
    ],
    fix: &[S("bill "), A(2), S(" and remove "), A(1)],
};

/// Imaging guidance billed beside a code that includes it, and no-imaging codes billed with
/// separate guidance (the with-imaging code is the right one).
fn imaging(c: &mut Claimed<'_, '_>) {
    let lines = c.lines;
    for g in lines.iter().filter(|l| l.is(F_IMAGING)) {
        let others = || lines.iter().filter(move |o| o.n != g.n && o.date == g.date);
        if let Some(p) = others().find(|o| o.info.is_some_and(|i| i.imaging_included)) {
            c.err_t(
                Some(g.n),
                "imaging-included",
                &IMAGING_INCLUDED,
                [Arg::Str(g.code()), Arg::Str(p.code()), Arg::Nil],
            );
        }
        for p in others().filter(|o| !o.info.is_some_and(|i| i.imaging_included)) {
            if let Some(with) = c.r().with_imaging_counterpart(p.code()) {
                let args = [Arg::Str(p.code()), Arg::Str(g.code()), Arg::Str(&with.code)];
                c.err_t(Some(p.n), "imaging-code-choice", &IMAGING_CODE_CHOICE, args);
            }
        }
    }
}

const ADDON_WITHOUT_PRIMARY: Template = Template {
    message: &[S("add-on "), A(0), S(" billed without its primary ("), A(1), S(") on the same date")],
    fix: &[S("bill the primary "), A(2), S(" with it, or remove the add-on")],
};

fn addon_without_primary(c: &mut Claimed<'_, '_>) {
    for l in c.lines {
        let Some(info) = l.info else { continue };
        if info.addon_primaries.is_empty() {
            continue;
        }
        let on_claim = c.lines.iter().any(|o| o.date == l.date && info.addon_primaries.iter().any(|p| p == o.code()));
        let in_history = c.past().any(|s| s.date == l.date && info.addon_primaries.contains(&s.code));
        if !on_claim && !in_history {
            let args =
                [Arg::Str(l.code()), Arg::Join(&info.addon_primaries, " or "), Arg::Str(&info.addon_primaries[0])];
            c.err_t(Some(l.n), "addon-without-primary", &ADDON_WITHOUT_PRIMARY, args);
        }
    }
}

fn is_procedure(l: &L<'_>) -> bool {
    l.is(F_PROCEDURE)
}

const MODIFIER_25: Template = Template {
    message: &[S("E/M "), A(0), S(" billed with procedure "), A(1), S(" on the same date without modifier 25")],
    fix: &[
        S("append 25 to "),
        A(0),
        S(" if the visit was significant and separately identifiable (documented apart from the procedure); otherwise remove it"),
    ],
};

fn modifier_25(c: &mut Claimed<'_, '_>) {
    for em in c.lines.iter().filter(|l| l.is(F_EM)) {
        if em.mods & M_EM_DISTINCT != 0 {
            continue;
        }
        let partner = c.same_day(em).find(is_procedure);
        if let Some(p) = partner {
            c.err_t(
                Some(em.n),
                "modifier-25-missing",
                &MODIFIER_25,
                [Arg::Str(em.code()), Arg::Str(p.code()), Arg::Nil],
            );
        }
    }
}

const LAT_50_UNITS: Template = Template {
    message: &[A(0), S(" with modifier 50 billed with "), A(1), S(" units")],
    fix: &[S("report modifier 50 with 1 unit")],
};
const LAT_INDICATOR_2: Template = Template {
    message: &[A(0), S(" is bilateral by definition (bilateral indicator 2)")],
    fix: &[S("remove modifier 50")],
};
const LAT_INDICATOR_9: Template = Template {
    message: &[S("bilateral modifier 50 does not apply to "), A(0), S(" (bilateral indicator 9)")],
    fix: &[S("remove modifier 50")],
};
const LAT_INDICATOR_0: Template = Template {
    message: &[A(0), S(" has no bilateral payment adjustment (indicator 0): modifier 50 pays as one unit")],
    fix: &[S("bill one side, or both with the payer's guidance")],
};
const LAT_RT_AND_LT: Template = Template {
    message: &[A(0), S(" carries both RT and LT on one line")],
    fix: &[S("use modifier 50 on one line, or RT and LT on two lines, per the payer")],
};
const LAT_NO_SIDE: Template = Template {
    message: &[A(0), S(" can be bilateral but carries no 50, RT or LT")],
    fix: &[S("add RT or LT (one side) or 50 (both sides)")],
};
const LAT_TWICE: Template = Template {
    message: &[A(0), S(" billed twice with "), A(1), S(" on the same date")],
    fix: &[S("remove the duplicate, or correct the side on line "), A(2)],
};
const STYLE_RT_LT: Template = Template {
    message: &[S("payer "), A(0), S(" wants bilateral "), A(1), S(" as two lines with RT and LT, not modifier 50")],
    fix: &[S("split into "), A(1), S("-RT and "), A(1), S("-LT, 1 unit each")],
};
const STYLE_50: Template = Template {
    message: &[
        S("payer "),
        A(0),
        S(" wants bilateral "),
        A(1),
        S(" as one line with modifier 50, not RT and LT lines"),
    ],
    fix: &[S("bill one line "), A(1), S("-50 with 1 unit")],
};

fn laterality(c: &mut Claimed<'_, '_>) {
    let style = c.payer.bilateral_style.as_str();
    let payer = c.payer_id();
    for l in c.lines {
        let Some(info) = l.info else { continue };
        let bilateral = l.has("50");
        if bilateral && l.line.units > Decimal::ONE {
            c.err_t(Some(l.n), "laterality", &LAT_50_UNITS, [Arg::Str(l.code()), Arg::Dec(l.line.units), Arg::Nil]);
        }
        if bilateral {
            match info.bilateral_indicator {
                2 => c.err_t(Some(l.n), "laterality", &LAT_INDICATOR_2, [Arg::Str(l.code()), Arg::Nil, Arg::Nil]),
                9 => c.err_t(Some(l.n), "laterality", &LAT_INDICATOR_9, [Arg::Str(l.code()), Arg::Nil, Arg::Nil]),
                0 => c.warn_t(Some(l.n), "laterality", &LAT_INDICATOR_0, [Arg::Str(l.code()), Arg::Nil, Arg::Nil]),
                _ => {}
            }
        }
        if l.has("RT") && l.has("LT") {
            c.warn_t(Some(l.n), "laterality", &LAT_RT_AND_LT, [Arg::Str(l.code()), Arg::Nil, Arg::Nil]);
        }
        if info.bilateral_indicator == 1 && !bilateral && !l.has("RT") && !l.has("LT") {
            c.warn_t(Some(l.n), "laterality", &LAT_NO_SIDE, [Arg::Str(l.code()), Arg::Nil, Arg::Nil]);
        }
        for side in ["RT", "LT"] {
            if l.has(side)
                && c.lines
                    .iter()
                    .any(|o| o.n < l.n && o.date == l.date && (o.key == l.key && o.code() == l.code()) && o.has(side))
            {
                let args = [Arg::Str(l.code()), Arg::Str(side), Arg::Int(l.n.into())];
                c.err_t(Some(l.n), "laterality", &LAT_TWICE, args);
            }
        }
        // The payer's bilateral style.
        if info.bilateral_indicator == 1 && bilateral && style == "rt-lt" {
            c.err_t(Some(l.n), "bilateral-style", &STYLE_RT_LT, [Arg::Str(payer), Arg::Str(l.code()), Arg::Nil]);
        }
        if info.bilateral_indicator == 1
            && style == "modifier-50"
            && l.has("LT")
            && c.lines
                .iter()
                .any(|o| o.n != l.n && o.date == l.date && (o.key == l.key && o.code() == l.code()) && o.has("RT"))
        {
            c.err_t(Some(l.n), "bilateral-style", &STYLE_50, [Arg::Str(payer), Arg::Str(l.code()), Arg::Nil]);
        }
    }
}

fn authorization(c: &mut Claimed<'_, '_>) {
    let payer = c.payer;
    let required = &payer.auth_required;
    let retro = payer.retro_auth;
    let auths = c.ctx.history.authorizations(&c.patient);
    for l in c.lines {
        if !required.iter().any(|r| code_key(r) == l.key && r == l.code()) {
            continue;
        }
        let claim = c.claim;
        let number: &str = if l.line.prior_auth.is_empty() { &claim.prior_auth } else { &l.line.prior_auth };
        if number.is_empty() {
            match auths.iter().find(|a| a.covers(l.code(), l.date)) {
                Some(a) => c.err(
                    Some(l.n),
                    "auth-missing",
                    format!("{} needs prior authorization; one is on file but the claim carries no REF*G1", l.code()),
                    format!("add REF*G1 {} to the claim", a.number),
                ),
                None => c.err(
                    Some(l.n),
                    "auth-missing",
                    format!(
                        "{} needs prior authorization with payer {} and none is on the claim or on file",
                        l.code(),
                        c.payer_id()
                    ),
                    if retro {
                        "request retro-authorization (the payer accepts it), then add REF*G1".into()
                    } else {
                        "obtain authorization (278) before submitting; this payer does not accept retro-authorization"
                            .into()
                    },
                ),
            }
            continue;
        }
        if auths.is_empty() {
            continue;
        }
        let with_number: Vec<_> = auths.iter().filter(|a| a.number == number).collect();
        if with_number.is_empty() {
            c.err(
                Some(l.n),
                "auth-mismatch",
                format!("REF*G1 on the claim matches no authorization on file for {}", l.code()),
                "correct the authorization number from the payer's 278 response".into(),
            );
            continue;
        }
        let problem = match with_number.iter().find(|a| a.covers_code(l.code())) {
            None => Some(format!("authorization does not cover {}", l.code())),
            Some(a) if !a.approved() => Some(format!("authorization status is {}", a.status)),
            Some(a) if l.date < a.from || l.date > a.to => {
                Some(format!("service date {} is outside the authorization window {} to {}", l.date, a.from, a.to))
            }
            Some(a) => {
                let used: Decimal =
                    c.lines.iter().filter(|o| o.key == l.key && o.code() == l.code()).map(|o| o.line.units).sum();
                a.units.filter(|u| used > *u).map(|u| format!("{used} units of {} billed, {u} authorized", l.code()))
            }
        };
        if let Some(p) = problem {
            c.err(
                Some(l.n),
                "auth-mismatch",
                p,
                "request an authorization update (extension or additional units) before submitting".into(),
            );
        }
    }
}

const DX_NOT_SUPPORTING: Template = Template {
    message: &[S("none of the diagnoses pointed to by "), A(0), S(" supports a "), A(1), S(" procedure")],
    fix: &[S("point the line to a supporting diagnosis (e.g. "), A(2), S(") or correct the code's specificity")],
};
const DX_EXCLUDES1: Template = Template {
    message: &[A(0), S(" and "), A(1), S(" are an Excludes1 pair and cannot be reported together")],
    fix: &[S("keep one: "), A(2)],
};

fn diagnoses(c: &mut Claimed<'_, '_>) {
    // X12 carries ICD-10-CM codes without the point; only hand-built claims need `undot`.
    let claim = c.claim;
    let dx: std::borrow::Cow<'_, [hipaa::Text]> =
        if claim.diagnoses.iter().any(|d| d.bytes().any(|b| b == b'.' || b.is_ascii_lowercase())) {
            claim.diagnoses.iter().map(|d| hipaa::Text::from(undot(d))).collect::<Vec<_>>().into()
        } else {
            claim.diagnoses.as_slice().into()
        };
    // Medical necessity: a line's pointed diagnoses must support its family.
    // Each diagnosis's supported families as bits, found once per claim (one lookup per
    // prefix length) instead of once per line and family.
    let r = c.r();
    let mut masks: [Option<u64>; 12] = [None; 12];
    let by_bits = dx.len() <= masks.len() && r.dx_families("").is_some();
    for l in c.lines {
        let Some((example, bit)) = l.dx else { continue };
        let family = l.family();
        let mut supports = |i: usize| {
            let d = &dx[i];
            if by_bits {
                *masks[i].get_or_insert_with(|| r.dx_families(d).unwrap_or(0)) & bit != 0
            } else {
                r.dx_supports(family, d).unwrap_or(true)
            }
        };
        let supported = if l.line.dx_pointers.is_empty() {
            (0..dx.len()).any(&mut supports)
        } else {
            l.line
                .dx_pointers
                .iter()
                .filter_map(|p| (*p as usize).checked_sub(1).filter(|&i| i < dx.len()))
                .any(supports)
        };
        if !supported {
            let args = [Arg::Str(l.code()), Arg::Str(l.family()), Arg::Str(example)];
            c.err_t(Some(l.n), "dx-not-supporting", &DX_NOT_SUPPORTING, args);
        }
    }
    // G89 sequencing.
    let g89_at = dx.iter().position(|d| d.starts_with("G89"));
    if let Some(pos) = g89_at {
        let pain_control = c.lines.iter().any(|l| is_procedure(l) && !l.is(F_EM) && !l.is(F_IMAGING));
        let definitive = dx.iter().any(|d| !d.starts_with("G89") && !d.starts_with('R'));
        if pain_control && pos != 0 {
            let d = Detail::fixed(
                "G89 pain code is not first on a pain-control encounter",
                "sequence the G89 code first, then the site code",
            );
            c.push(None, "dx-sequencing", Severity::Warning, d);
        } else if !pain_control && definitive {
            let d = Detail::fixed(
                "G89 pain code billed with a definitive diagnosis on a visit that is not for pain control",
                "drop the G89 code; code the definitive diagnosis",
            );
            c.push(None, "dx-sequencing", Severity::Warning, d);
        }
    }
    // Excludes1 pairs.
    let mut seen = BTreeSet::new();
    let r = c.r();
    let candidates: BTreeSet<usize> =
        dx.iter().filter_map(|d| r.excludes1_by_category.get(d.get(..3)?)).flatten().copied().collect();
    for (a, b, note) in candidates.into_iter().map(|k| &r.excludes1[k]) {
        let ha = dx.iter().find(|d| d.starts_with(a.as_str()));
        let hb = dx.iter().find(|d| d.starts_with(b.as_str()) && Some(*d) != ha);
        if let (Some(x), Some(y)) = (ha, hb) {
            let pair = if x < y { (x.as_str(), y.as_str()) } else { (y.as_str(), x.as_str()) };
            if seen.insert(pair) {
                c.err_t(None, "dx-excludes1", &DX_EXCLUDES1, [Arg::Str(x), Arg::Str(y), Arg::Str(note)]);
            }
        }
    }
}

const TIMELY_PAST: Template = Template {
    message: &[A(0), S(" days since the first date of service; payer "), A(1), S(" allows "), A(2)],
    fix: &[S("write off unless there is proof of timely filing")],
};
const TIMELY_CLOSE: Template =
    Template { message: &[A(0), S(" of the payer's "), A(1), S(" filing days used")], fix: &[S("submit tonight")] };

fn timely_filing(c: &mut Claimed<'_, '_>) {
    let Some(first) = c.lines.iter().map(|l| l.date).min() else { return };
    let limit = c.payer.timely_filing_days;
    let days = (c.ctx.today - first).num_days();
    if days > limit {
        c.err_t(None, "timely-filing", &TIMELY_PAST, [Arg::Int(days), Arg::Str(c.payer_id()), Arg::Int(limit)]);
    } else if days * 5 >= limit * 4 {
        c.warn_t(None, "timely-filing", &TIMELY_CLOSE, [Arg::Int(days), Arg::Int(limit), Arg::Nil]);
    }
}

const NOT_IN_PROVIDERS: Template = Template {
    message: &[S("provider "), A(0), S(" is not in providers.csv")],
    fix: &[S("add the provider's enrollments to the reference data")],
};
const NOT_ENROLLED: Template = Template {
    message: &[S("provider "), A(0), S(" is not enrolled with payer "), A(1), S(" on "), A(2)],
    fix: &[S("bill under an enrolled provider, or complete enrollment before submitting")],
};
const CREDENTIAL_EXPIRED: Template = Template {
    message: &[S("provider "), A(0), S("'s "), A(1), S(" expired before "), A(2)],
    fix: &[S("renew the credential and update the payer before submitting")],
};

fn providers(c: &mut Claimed<'_, '_>) {
    let claim = c.claim;
    let lines = c.lines;
    let npis = std::iter::once((claim.billing_provider.id.as_str(), "billing", None))
        .chain(
            claim.rendering_provider.as_ref().filter(|p| !p.id.is_empty()).map(|p| (p.id.as_str(), "rendering", None)),
        )
        .chain(
            lines
                .iter()
                .filter(|l| !l.line.rendering_npi.is_empty())
                .map(|l| (l.line.rendering_npi.as_str(), "rendering", Some(l.n))),
        );
    let mut reported: Vec<&str> = Vec::new();
    for (npi, role, line) in npis {
        if !hipaa::npi_valid(npi) && !reported.contains(&npi) {
            reported.push(npi);
            c.err(
                line,
                "npi-invalid",
                format!("{role} NPI {npi} fails the NPI check digit"),
                "correct the NPI from NPPES".into(),
            );
        }
    }
    // Enrollment of whoever rendered each line (its own, the claim's, or the billing NPI).
    let payer = c.payer_id();
    let mut checked: Vec<&str> = Vec::new();
    for l in c.lines {
        let npi = claim.rendering_npi(l.line);
        if !hipaa::npi_valid(npi) || checked.contains(&npi) {
            continue;
        }
        checked.push(npi);
        let line = Some(l.n);
        match c.r().providers.get(npi) {
            None => c.warn_t(line, "provider-not-enrolled", &NOT_IN_PROVIDERS, [Arg::Str(npi), Arg::Nil, Arg::Nil]),
            Some(rows) => {
                let active = rows.iter().find(|e| {
                    e.payer_id == payer && e.enrolled_from <= l.date && e.enrolled_to.is_none_or(|t| t >= l.date)
                });
                match active {
                    None => c.err_t(
                        line,
                        "provider-not-enrolled",
                        &NOT_ENROLLED,
                        [Arg::Str(npi), Arg::Str(payer), Arg::Date(l.date)],
                    ),
                    Some(e) if e.credential_expires.is_some_and(|x| x < l.date) => c.err_t(
                        line,
                        "provider-not-enrolled",
                        &CREDENTIAL_EXPIRED,
                        [Arg::Str(npi), Arg::Str(&e.credential), Arg::Date(l.date)],
                    ),
                    Some(_) => {}
                }
            }
        }
    }
}

/// Dates of earlier sessions of a family and region in a window (repeats included).
fn sessions<'h>(
    history: impl Iterator<Item = (&'h PastService, Option<&'h CodeInfo>)> + 'h,
    family: &'h str,
    region: &'h str,
    from: NaiveDate,
    to: NaiveDate,
) -> impl Iterator<Item = NaiveDate> + 'h {
    history
        .filter(move |(s, _)| s.date >= from && s.date <= to)
        .filter(move |(_, i)| i.is_some_and(|i| i.family == family && i.region == region && !i.is_addon()))
        .map(|(s, _)| s.date)
}

/// How many distinct dates: a patient has a handful, so they are counted in a buffer on the
/// stack (a set only past 32).
fn distinct(dates: impl Iterator<Item = NaiveDate>) -> usize {
    let mut buf = [NaiveDate::MIN; 32];
    let mut n = 0;
    let mut more: BTreeSet<NaiveDate> = BTreeSet::new();
    for d in dates {
        if buf[..n].contains(&d) || more.contains(&d) {
            continue;
        }
        if n < buf.len() {
            buf[n] = d;
            n += 1;
        } else {
            more.insert(d);
        }
    }
    n + more.len()
}

fn frequency(c: &mut Claimed<'_, '_>) {
    let limits = &c.payer.frequency;
    let mut done: Vec<(&str, &str, NaiveDate)> = Vec::new();
    for l in c.lines {
        if l.is_addon() {
            continue;
        }
        let Some(&max) = limits.get(l.family()) else { continue };
        let key = (l.family(), l.region(), l.date);
        if done.contains(&key) {
            continue;
        }
        done.push(key);
        let earlier = sessions(c.past_info(), l.family(), l.region(), l.date - Duration::days(364), l.date);
        let dates = distinct(earlier.chain([l.date]));
        if dates as u32 > max {
            let region = if l.region().is_empty() { String::new() } else { format!(" ({})", l.region()) };
            c.err(
                Some(l.n),
                "frequency-limit",
                format!(
                    "{} {} sessions{region} in 12 months with this one; payer {} allows {max}",
                    dates,
                    l.family(),
                    c.payer_id()
                ),
                "hold until the rolling window allows it, or request an exception with documentation".into(),
            );
        }
    }
}

fn rfa_prerequisite(c: &mut Claimed<'_, '_>) {
    let threshold = c.payer.mbb_relief_threshold;
    for l in c.lines.iter().filter(|l| l.family() == "facet-rfa" && !l.is_addon()) {
        let before = l.date - Duration::days(1);
        if sessions(c.past_info(), "facet-rfa", l.region(), NaiveDate::MIN, before).next().is_some() {
            continue; // a repeat RFA: its rule (sustained relief) is documentation, not history
        }
        let mbb: Vec<&PastService> = c
            .past_info()
            .filter(|(s, i)| {
                s.date <= before
                    && i.is_some_and(|i| i.family == "facet-mbb" && i.region == l.region() && !i.is_addon())
            })
            .map(|(s, _)| s)
            .collect();
        let dates = distinct(mbb.iter().map(|s| s.date));
        let low_relief = mbb.iter().filter_map(|s| s.relief).filter(|&r| r < threshold).min();
        drop(mbb);
        if dates < 2 {
            c.err(
                Some(l.n),
                "rfa-prerequisite",
                format!("RFA {} in {} without two prior diagnostic medial branch blocks (found {})", l.code(), l.region(), dates),
                "complete two diagnostic MBBs (the second at least two weeks after the first, with documented relief) before the RFA".into(),
            );
            continue;
        }
        if let Some(low) = low_relief {
            c.err(
                Some(l.n),
                "rfa-prerequisite",
                format!("a diagnostic MBB gave {low}% relief; payer {} requires {threshold}%", c.payer_id()),
                "RFA is not supported by the diagnostic blocks; do not bill it".into(),
            );
        }
    }
}

const TPI_UNITS: Template = Template {
    message: &[A(0), S(" billed with "), A(1), S(" units")],
    fix: &[S("trigger point injections are 1 unit per day whatever the number of injections")],
};
const TPI_TWO_CODES: Template = Template {
    message: &[S("more than one trigger point code on "), A(0)],
    fix: &[S("bill one code for the day: 20552 (1-2 muscles) or 20553 (3 or more)")],
};

fn tpi_units(c: &mut Claimed<'_, '_>) {
    for l in c.lines.iter().filter(|l| l.family() == "tpi") {
        if l.line.units > Decimal::ONE {
            c.err_t(Some(l.n), "tpi-units", &TPI_UNITS, [Arg::Str(l.code()), Arg::Dec(l.line.units), Arg::Nil]);
        }
        if c.lines.iter().any(|o| o.n < l.n && o.date == l.date && o.family() == "tpi") {
            c.err_t(Some(l.n), "tpi-units", &TPI_TWO_CODES, [Arg::Date(l.date), Arg::Nil, Arg::Nil]);
        }
    }
}

fn code_deleted(c: &mut Claimed<'_, '_>) {
    for l in c.lines {
        if let Some(info) = l.info.filter(|i| i.is_deleted_on(l.date)) {
            let deleted = info.deleted_on.map(|d| d.to_string()).unwrap_or_default();
            c.err(
                Some(l.n),
                "code-deleted",
                format!("{} was deleted on {deleted}", l.code()),
                "bill the current code for the service".into(),
            );
        }
    }
}

const CHARGE_BELOW_ALLOWED: Template = Template {
    message: &[A(0), S(" billed "), A(1), S(" below the contracted allowed "), A(2)],
    fix: &[S("raise the charge master to at least the highest contracted amount; the payer pays the lesser of charge and allowed")],
};

fn charges(c: &mut Claimed<'_, '_>) {
    let sum: Decimal = c.claim.lines.iter().map(|l| l.charge).sum();
    if sum != c.claim.charge {
        c.err(
            None,
            "claim-unbalanced",
            format!("claim charge {} does not equal the sum of its lines {sum}", c.claim.charge),
            "set CLM02 to the sum of the line charges".into(),
        );
    }
    for l in c.lines {
        let Some(fee) = l.fees.and_then(|rows| Reference::fee_in(rows, &l.line.procedure.modifiers, l.date)) else {
            continue;
        };
        let bilateral = l.has("50") && l.info.is_some_and(|i| i.bilateral_indicator == 1);
        let mut allowed = fee * l.line.units.max(Decimal::ONE);
        if bilateral {
            allowed = fee * Decimal::new(15, 1);
        }
        if l.line.charge < allowed {
            let args = [
                Arg::Proc(l.code(), &l.line.procedure.modifiers),
                Arg::Dec(l.line.charge),
                Arg::Dec(allowed.round_dp(2)),
            ];
            c.warn_t(Some(l.n), "charge-below-allowed", &CHARGE_BELOW_ALLOWED, args);
        }
    }
}

fn eligibility(c: &mut Claimed<'_, '_>) {
    let records = c.ctx.history.eligibility(&c.patient);
    let Some(first) = c.lines.iter().map(|l| l.date).min() else { return };
    let payer = c.payer_id();
    let on: Vec<_> = records.iter().filter(|e| e.payer_id == payer && e.from <= first && first <= e.to).collect();
    if !on.is_empty() && on.iter().all(|e| !e.active) {
        c.err(
            None,
            "eligibility-inactive",
            format!("the eligibility response on file says coverage with payer {payer} was inactive on {first}"),
            "verify coverage (270), find the active payer, and bill it".into(),
        );
    }
}
