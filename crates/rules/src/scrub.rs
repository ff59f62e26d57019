//! The claim scrubber: claim + reference + history -> findings.
//!
//! Each rule is a small function over one claim. Rules read facts from `Reference` (code
//! families, PTP and MUE edits, payer settings, fees, dx policy, enrollments) and from
//! `History`; none names a CPT code except through that data. Rule ids are the stable contract
//! in DESIGN.md. A finding of severity `error` holds the claim; `warning` lets it go.

use crate::history::{patient_key, History, PastService};
use crate::reference::{undot, CodeInfo, Reference};
use chrono::{Duration, NaiveDate};
use hipaa::Text;
use hipaa::{Claim, ServiceLine};
use rayon::prelude::*;
use rust_decimal::Decimal;
use serde::Serialize;
use std::collections::BTreeSet;

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

/// One finding, in the DESIGN.md contract's columns.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Finding {
    pub file: String,
    pub claim_id: String,
    /// 1-based service line, `None` for claim-level findings.
    pub line: Option<u32>,
    pub rule: &'static str,
    pub severity: Severity,
    pub message: String,
    pub fix: String,
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

/// Scrubs claims in parallel; findings sorted by (file, claim, line, rule, message).
///
/// Each claim's findings are sorted where they are made, in parallel; only the claims are then
/// ordered by (file, claim id), so the serial part compares one key per claim, not per finding.
pub fn scrub(inputs: &[Input<'_>], ctx: &Context<'_>) -> Vec<Finding> {
    let per_claim: Vec<Vec<Finding>> = inputs
        .par_iter()
        .map(|i| {
            let mut f = scrub_claim(i.claim, ctx);
            for x in &mut f {
                x.file = i.file.to_string();
            }
            f.sort_by(|a, b| (a.line, a.rule, &a.message).cmp(&(b.line, b.rule, &b.message)));
            f
        })
        .collect();
    let key = |k: usize| (inputs[k].file, inputs[k].claim.claim_id.as_str());
    let mut order: Vec<usize> = (0..inputs.len()).filter(|&k| !per_claim[k].is_empty()).collect();
    order.par_sort_by(|&a, &b| key(a).cmp(&key(b)));
    let mut per_claim: Vec<Option<Vec<Finding>>> = per_claim.into_iter().map(Some).collect();
    let mut out = Vec::with_capacity(order.iter().map(|&k| per_claim[k].as_ref().map_or(0, Vec::len)).sum());
    let mut start = 0;
    while start < order.len() {
        // Claims sharing a file and claim id (a duplicate CLM01) merge into one sorted run.
        let end = start + order[start..].iter().take_while(|&&k| key(k) == key(order[start])).count();
        let from = out.len();
        for &k in &order[start..end] {
            out.extend(per_claim[k].take().unwrap_or_default());
        }
        if end - start > 1 {
            sort(&mut out[from..]);
        }
        start = end;
    }
    out
}

/// Sorts findings deterministically.
pub fn sort(findings: &mut [Finding]) {
    findings.sort_by(|a, b| {
        (&a.file, &a.claim_id, a.line, a.rule, &a.message).cmp(&(&b.file, &b.claim_id, b.line, b.rule, &b.message))
    });
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
    patient: String,
    /// Earlier services of the patient (this claim's own lines excluded by `past`).
    history: std::borrow::Cow<'a, [PastService]>,
    out: Vec<Finding>,
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
    flags: u8,
    mods: u8,
    /// The code packed into an integer (codes are 5 characters), for cheap equality.
    key: u64,
}

/// Packs a procedure code (up to 8 bytes) into an integer; longer codes keep their first 8
/// bytes and length, which is only used as a fast pre-check before a full compare.
fn code_key(code: &str) -> u64 {
    let mut word = [0u8; 8];
    let n = code.len().min(7);
    word[..n].copy_from_slice(&code.as_bytes()[..n]);
    word[7] ^= code.len() as u8;
    u64::from_le_bytes(word)
}

const F_EM: u8 = 1;
const F_IMAGING: u8 = 2;
const F_PROCEDURE: u8 = 4;
const F_ADDON: u8 = 8;

const M_DISTINCT: u8 = 1;
const M_EM_DISTINCT: u8 = 2;
const M_ANATOMIC: u8 = 4;

impl<'a> L<'a> {
    fn new(n: u32, line: &'a ServiceLine, date: NaiveDate, r: &'a Reference) -> L<'a> {
        let info = r.code(&line.procedure.code);
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
        let mut mods = 0;
        for m in &line.procedure.modifiers {
            mods |= match r.modifier_kind(m) {
                "distinct" | "global" | "repeat" => M_DISTINCT,
                "em-distinct" => M_EM_DISTINCT,
                "anatomic" => M_ANATOMIC,
                _ => 0,
            };
        }
        L {
            n,
            line,
            date,
            info,
            ptp: r.ptp.get(line.procedure.code.as_str()),
            flags,
            mods,
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
        self.line.procedure.has_modifier(m)
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
    fn display(&self) -> String {
        self.line.procedure.display()
    }
}

const IMAGING: &str = "imaging-guidance";
const EM: &str = "em";

impl<'a, 'l> Claimed<'a, 'l> {
    fn push(&mut self, line: Option<u32>, rule: &'static str, severity: Severity, message: String, fix: String) {
        self.out.push(Finding {
            file: String::new(),
            claim_id: self.claim.claim_id.to_string(),
            line,
            rule,
            severity,
            message,
            fix,
        });
    }

    fn err(&mut self, line: Option<u32>, rule: &'static str, message: String, fix: String) {
        self.push(line, rule, Severity::Error, message, fix);
    }

    fn warn(&mut self, line: Option<u32>, rule: &'static str, message: String, fix: String) {
        self.push(line, rule, Severity::Warning, message, fix);
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
            l.line.procedure.modifiers.iter().filter(|m| r.modifier_kind(m) == "anatomic").map(Text::as_str).collect()
        };
        sites(a).is_disjoint(&sites(b))
    }
}

/// Scrubs one claim (the `file` field is left empty for the caller).
pub fn scrub_claim(claim: &Claim, ctx: &Context<'_>) -> Vec<Finding> {
    let fallback = claim.first_service_date().unwrap_or(ctx.today);
    let lines: Vec<L<'_>> = claim
        .lines
        .iter()
        .enumerate()
        .map(|(i, line)| L::new(i as u32 + 1, line, line.service_from.unwrap_or(fallback), ctx.reference))
        .collect();
    let patient = patient_key(claim);
    let history = ctx.history.services(&patient);
    let mut c = Claimed { claim, ctx, lines: &lines, patient, history, out: Vec::new() };
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
    c.out
}

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
            c.warn(
                Some(a.n),
                "ncci-ptp",
                format!("{} carries both 59 and an X modifier", a.display()),
                "keep the X modifier (XE/XS/XP/XU) and drop 59".into(),
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
                0 => c.err(
                    Some(b.n),
                    "ncci-ptp",
                    format!("{} is not separately payable with {} on the same date (NCCI PTP, modifier indicator 0)", b.code(), a.code()),
                    format!("remove {}; no modifier bypasses this edit", b.code()),
                ),
                1 if !c.bypassed(a, &b) => c.err(
                    Some(b.n),
                    "ncci-ptp",
                    format!("{} bundles into {} on the same date (NCCI PTP, modifier indicator 1)", b.code(), a.code()),
                    format!("if {} was a distinct service (separate site, session or practitioner), append XS (or 59) with documentation; otherwise remove it", b.code()),
                ),
                _ => {}
            }
        }
    }
}

fn mue_units(c: &mut Claimed<'_, '_>) {
    // (code, date) -> (units, last line); a claim has a handful of lines, so a Vec beats a map.
    let mut per_day: Vec<(&str, NaiveDate, Decimal, u32)> = Vec::new();
    for l in c.lines {
        let Some(mue) = c.r().mue.get(l.code()) else { continue };
        let value = Decimal::from(mue.value);
        if mue.mai == 1 {
            if l.line.units > value {
                c.err(
                    Some(l.n),
                    "mue-units",
                    format!("{} billed with {} units; the MUE is {} per line", l.code(), l.line.units, mue.value),
                    format!(
                        "reduce to {} unit(s), or split clinically distinct units onto lines with anatomic modifiers",
                        mue.value
                    ),
                );
            }
        } else {
            match per_day.iter_mut().find(|e| e.1 == l.date && e.0 == l.code()) {
                Some(e) => {
                    e.2 += l.line.units;
                    e.3 = l.n;
                }
                None => per_day.push((l.code(), l.date, l.line.units, l.n)),
            }
        }
    }
    per_day.sort_by(|a, b| (a.0, a.1).cmp(&(b.0, b.1)));
    for (code, _, units, last) in per_day {
        let Some(mue) = c.r().mue.get(code) else { continue };
        if units > Decimal::from(mue.value) {
            let kind = if mue.mai == 3 { "clinical" } else { "absolute" };
            c.err(
                Some(last),
                "mue-units",
                format!(
                    "{code} billed with {units} units on one date; the MUE is {} ({kind} date-of-service edit)",
                    mue.value
                ),
                if mue.mai == 3 {
                    format!("reduce to {} unit(s), or appeal with documentation of medical necessity", mue.value)
                } else {
                    format!("reduce to {} unit(s); the payer denies the whole line above the MUE", mue.value)
                },
            );
        }
    }
}

/// Imaging guidance billed beside a code that includes it, and no-imaging codes billed with
/// separate guidance (the with-imaging code is the right one).
fn imaging(c: &mut Claimed<'_, '_>) {
    for g in c.lines.iter().filter(|l| l.is(F_IMAGING)) {
        let others: Vec<L<'_>> = c.same_day(g).collect();
        if let Some(p) = others.iter().find(|o| o.info.is_some_and(|i| i.imaging_included)) {
            c.err(
                Some(g.n),
                "imaging-included",
                format!("{} is included in {}: its guidance is part of the code", g.code(), p.code()),
                format!("remove {}; imaging revenue for this service is captured by {} itself", g.code(), p.code()),
            );
        }
        for p in others.iter().filter(|o| !o.info.is_some_and(|i| i.imaging_included)) {
            if let Some(with) = c.r().with_imaging_counterpart(p.code()) {
                c.err(
                    Some(p.n),
                    "imaging-code-choice",
                    format!(
                        "{} billed with separate guidance {}: the code for this injection with imaging is {}",
                        p.code(),
                        g.code(),
                        with.code
                    ),
                    format!("bill {} and remove {}", with.code, g.code()),
                );
            }
        }
    }
}

fn addon_without_primary(c: &mut Claimed<'_, '_>) {
    for l in c.lines {
        let Some(info) = l.info else { continue };
        if info.addon_primaries.is_empty() {
            continue;
        }
        let on_claim = c.lines.iter().any(|o| o.date == l.date && info.addon_primaries.iter().any(|p| p == o.code()));
        let in_history = c.past().any(|s| s.date == l.date && info.addon_primaries.contains(&s.code));
        if !on_claim && !in_history {
            c.err(
                Some(l.n),
                "addon-without-primary",
                format!(
                    "add-on {} billed without its primary ({}) on the same date",
                    l.code(),
                    info.addon_primaries.join(" or ")
                ),
                format!("bill the primary {} with it, or remove the add-on", info.addon_primaries[0]),
            );
        }
    }
}

fn is_procedure(l: &L<'_>) -> bool {
    l.is(F_PROCEDURE)
}

fn modifier_25(c: &mut Claimed<'_, '_>) {
    for em in c.lines.iter().filter(|l| l.is(F_EM)) {
        if em.mods & M_EM_DISTINCT != 0 {
            continue;
        }
        let partner = c.same_day(em).find(is_procedure);
        if let Some(p) = partner {
            c.err(
                Some(em.n),
                "modifier-25-missing",
                format!("E/M {} billed with procedure {} on the same date without modifier 25", em.code(), p.code()),
                format!("append 25 to {} if the visit was significant and separately identifiable (documented apart from the procedure); otherwise remove it", em.code()),
            );
        }
    }
}

fn laterality(c: &mut Claimed<'_, '_>) {
    let style = c.r().payer(c.payer_id()).bilateral_style.as_str();
    let payer = c.payer_id();
    for l in c.lines {
        let Some(info) = l.info else { continue };
        let bilateral = l.has("50");
        if bilateral && l.line.units > Decimal::ONE {
            c.err(
                Some(l.n),
                "laterality",
                format!("{} with modifier 50 billed with {} units", l.code(), l.line.units),
                "report modifier 50 with 1 unit".into(),
            );
        }
        if bilateral {
            match info.bilateral_indicator {
                2 => c.err(
                    Some(l.n),
                    "laterality",
                    format!("{} is bilateral by definition (bilateral indicator 2)", l.code()),
                    "remove modifier 50".into(),
                ),
                9 => c.err(
                    Some(l.n),
                    "laterality",
                    format!("bilateral modifier 50 does not apply to {} (bilateral indicator 9)", l.code()),
                    "remove modifier 50".into(),
                ),
                0 => c.warn(
                    Some(l.n),
                    "laterality",
                    format!(
                        "{} has no bilateral payment adjustment (indicator 0): modifier 50 pays as one unit",
                        l.code()
                    ),
                    "bill one side, or both with the payer's guidance".into(),
                ),
                _ => {}
            }
        }
        if l.has("RT") && l.has("LT") {
            c.warn(
                Some(l.n),
                "laterality",
                format!("{} carries both RT and LT on one line", l.code()),
                "use modifier 50 on one line, or RT and LT on two lines, per the payer".into(),
            );
        }
        if info.bilateral_indicator == 1 && !bilateral && !l.has("RT") && !l.has("LT") {
            c.warn(
                Some(l.n),
                "laterality",
                format!("{} can be bilateral but carries no 50, RT or LT", l.code()),
                "add RT or LT (one side) or 50 (both sides)".into(),
            );
        }
        for side in ["RT", "LT"] {
            if l.has(side)
                && c.lines
                    .iter()
                    .any(|o| o.n < l.n && o.date == l.date && (o.key == l.key && o.code() == l.code()) && o.has(side))
            {
                c.err(
                    Some(l.n),
                    "laterality",
                    format!("{} billed twice with {side} on the same date", l.code()),
                    format!("remove the duplicate, or correct the side on line {}", l.n),
                );
            }
        }
        // The payer's bilateral style.
        if info.bilateral_indicator == 1 && bilateral && style == "rt-lt" {
            c.err(
                Some(l.n),
                "bilateral-style",
                format!("payer {payer} wants bilateral {} as two lines with RT and LT, not modifier 50", l.code()),
                format!("split into {}-RT and {}-LT, 1 unit each", l.code(), l.code()),
            );
        }
        if info.bilateral_indicator == 1
            && style == "modifier-50"
            && l.has("LT")
            && c.lines
                .iter()
                .any(|o| o.n != l.n && o.date == l.date && (o.key == l.key && o.code() == l.code()) && o.has("RT"))
        {
            c.err(
                Some(l.n),
                "bilateral-style",
                format!("payer {payer} wants bilateral {} as one line with modifier 50, not RT and LT lines", l.code()),
                format!("bill one line {}-50 with 1 unit", l.code()),
            );
        }
    }
}

fn authorization(c: &mut Claimed<'_, '_>) {
    let payer = c.r().payer(c.payer_id());
    let required = &payer.auth_required;
    let retro = payer.retro_auth;
    let auths = c.ctx.history.authorizations(&c.patient);
    for l in c.lines {
        if !required.iter().any(|r| code_key(r) == l.key && r == l.code()) {
            continue;
        }
        let number = if l.line.prior_auth.is_empty() { c.claim.prior_auth.clone() } else { l.line.prior_auth.clone() };
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

fn diagnoses(c: &mut Claimed<'_, '_>) {
    // X12 carries ICD-10-CM codes without the point; only hand-built claims need `undot`.
    let dx: Vec<std::borrow::Cow<'_, str>> =
        c.claim
            .diagnoses
            .iter()
            .map(|d| {
                if d.bytes().any(|b| b == b'.' || b.is_ascii_lowercase()) {
                    undot(d).into()
                } else {
                    d.as_str().into()
                }
            })
            .collect();
    // Medical necessity: a line's pointed diagnoses must support its family.
    for l in c.lines {
        let Some(prefixes) = c.r().dx_policy.get(l.family()) else { continue };
        let r = c.r();
        let family = l.family();
        let supports = |d: &std::borrow::Cow<'_, str>| r.dx_supports(family, d).unwrap_or(true);
        let supported = if l.line.dx_pointers.is_empty() {
            dx.iter().any(supports)
        } else {
            l.line.dx_pointers.iter().filter_map(|p| dx.get((*p as usize).checked_sub(1)?)).any(supports)
        };
        if !supported {
            let example = prefixes.first().cloned().unwrap_or_default();
            c.err(
                Some(l.n),
                "dx-not-supporting",
                format!("none of the diagnoses pointed to by {} supports a {} procedure", l.code(), l.family()),
                format!("point the line to a supporting diagnosis (e.g. {example}) or correct the code's specificity"),
            );
        }
    }
    // G89 sequencing.
    let g89_at = dx.iter().position(|d| d.starts_with("G89"));
    if let Some(pos) = g89_at {
        let pain_control = c.lines.iter().any(|l| is_procedure(l) && !l.is(F_EM) && !l.is(F_IMAGING));
        let definitive = dx.iter().any(|d| !d.starts_with("G89") && !d.starts_with('R'));
        if pain_control && pos != 0 {
            c.warn(
                None,
                "dx-sequencing",
                "G89 pain code is not first on a pain-control encounter".into(),
                "sequence the G89 code first, then the site code".into(),
            );
        } else if !pain_control && definitive {
            c.warn(
                None,
                "dx-sequencing",
                "G89 pain code billed with a definitive diagnosis on a visit that is not for pain control".into(),
                "drop the G89 code; code the definitive diagnosis".into(),
            );
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
            let pair = if x < y { (x.clone(), y.clone()) } else { (y.clone(), x.clone()) };
            if seen.insert(pair) {
                c.err(
                    None,
                    "dx-excludes1",
                    format!("{x} and {y} are an Excludes1 pair and cannot be reported together"),
                    format!("keep one: {note}"),
                );
            }
        }
    }
}

fn timely_filing(c: &mut Claimed<'_, '_>) {
    let Some(first) = c.lines.iter().map(|l| l.date).min() else { return };
    let limit = c.r().payer(c.payer_id()).timely_filing_days;
    let days = (c.ctx.today - first).num_days();
    if days > limit {
        c.err(
            None,
            "timely-filing",
            format!("{days} days since the first date of service; payer {} allows {limit}", c.payer_id()),
            "write off unless there is proof of timely filing".into(),
        );
    } else if days * 5 >= limit * 4 {
        c.warn(
            None,
            "timely-filing",
            format!("{days} of the payer's {limit} filing days used"),
            "submit tonight".into(),
        );
    }
}

fn providers(c: &mut Claimed<'_, '_>) {
    let claim = c.claim;
    let mut npis: Vec<(&str, &'static str, Option<u32>)> = vec![(claim.billing_provider.id.as_str(), "billing", None)];
    if let Some(p) = claim.rendering_provider.as_ref().filter(|p| !p.id.is_empty()) {
        npis.push((p.id.as_str(), "rendering", None));
    }
    for l in c.lines.iter().filter(|l| !l.line.rendering_npi.is_empty()) {
        npis.push((l.line.rendering_npi.as_str(), "rendering", Some(l.n)));
    }
    let mut reported: Vec<&str> = Vec::new();
    for &(npi, role, line) in &npis {
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
            None => c.warn(
                line,
                "provider-not-enrolled",
                format!("provider {npi} is not in providers.csv"),
                "add the provider's enrollments to the reference data".into(),
            ),
            Some(rows) => {
                let active = rows.iter().find(|e| {
                    e.payer_id == payer && e.enrolled_from <= l.date && e.enrolled_to.is_none_or(|t| t >= l.date)
                });
                match active {
                    None => c.err(
                        line,
                        "provider-not-enrolled",
                        format!("provider {npi} is not enrolled with payer {payer} on {}", l.date),
                        "bill under an enrolled provider, or complete enrollment before submitting".into(),
                    ),
                    Some(e) if e.credential_expires.is_some_and(|x| x < l.date) => c.err(
                        line,
                        "provider-not-enrolled",
                        format!("provider {npi}'s {} expired before {}", e.credential, l.date),
                        "renew the credential and update the payer before submitting".into(),
                    ),
                    Some(_) => {}
                }
            }
        }
    }
}

fn sessions<'h>(
    history: impl Iterator<Item = &'h PastService>,
    r: &Reference,
    family: &str,
    region: &str,
    from: NaiveDate,
    to: NaiveDate,
) -> BTreeSet<NaiveDate> {
    history
        .filter(|s| s.date >= from && s.date <= to)
        .filter(|s| r.code(&s.code).is_some_and(|i| i.family == family && i.region == region && !i.is_addon()))
        .map(|s| s.date)
        .collect()
}

fn frequency(c: &mut Claimed<'_, '_>) {
    let limits = &c.r().payer(c.payer_id()).frequency;
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
        let mut dates = sessions(c.past(), c.r(), l.family(), l.region(), l.date - Duration::days(364), l.date);
        dates.insert(l.date);
        if dates.len() as u32 > max {
            let region = if l.region().is_empty() { String::new() } else { format!(" ({})", l.region()) };
            c.err(
                Some(l.n),
                "frequency-limit",
                format!(
                    "{} {} sessions{region} in 12 months with this one; payer {} allows {max}",
                    dates.len(),
                    l.family(),
                    c.payer_id()
                ),
                "hold until the rolling window allows it, or request an exception with documentation".into(),
            );
        }
    }
}

fn rfa_prerequisite(c: &mut Claimed<'_, '_>) {
    let threshold = c.r().payer(c.payer_id()).mbb_relief_threshold;
    for l in c.lines.iter().filter(|l| l.family() == "facet-rfa" && !l.is_addon()) {
        let before = l.date - Duration::days(1);
        let prior_rfa = sessions(c.past(), c.r(), "facet-rfa", l.region(), NaiveDate::MIN, before);
        if !prior_rfa.is_empty() {
            continue; // a repeat RFA: its rule (sustained relief) is documentation, not history
        }
        let mbb: Vec<&PastService> = c
            .past()
            .filter(|s| {
                s.date <= before
                    && c.r()
                        .code(&s.code)
                        .is_some_and(|i| i.family == "facet-mbb" && i.region == l.region() && !i.is_addon())
            })
            .collect();
        let dates: BTreeSet<NaiveDate> = mbb.iter().map(|s| s.date).collect();
        let low_relief = mbb.iter().filter_map(|s| s.relief).filter(|&r| r < threshold).min();
        drop(mbb);
        if dates.len() < 2 {
            c.err(
                Some(l.n),
                "rfa-prerequisite",
                format!("RFA {} in {} without two prior diagnostic medial branch blocks (found {})", l.code(), l.region(), dates.len()),
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

fn tpi_units(c: &mut Claimed<'_, '_>) {
    for l in c.lines.iter().filter(|l| l.family() == "tpi") {
        if l.line.units > Decimal::ONE {
            c.err(
                Some(l.n),
                "tpi-units",
                format!("{} billed with {} units", l.code(), l.line.units),
                "trigger point injections are 1 unit per day whatever the number of injections".into(),
            );
        }
        if c.lines.iter().any(|o| o.n < l.n && o.date == l.date && o.family() == "tpi") {
            c.err(
                Some(l.n),
                "tpi-units",
                format!("more than one trigger point code on {}", l.date),
                "bill one code for the day: 20552 (1-2 muscles) or 20553 (3 or more)".into(),
            );
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
        let Some(fee) = c.r().fee(c.payer_id(), l.code(), &l.line.procedure.modifiers, l.date) else { continue };
        let bilateral = l.has("50") && l.info.is_some_and(|i| i.bilateral_indicator == 1);
        let mut allowed = fee * l.line.units.max(Decimal::ONE);
        if bilateral {
            allowed = fee * Decimal::new(15, 1);
        }
        if l.line.charge < allowed {
            c.warn(
                Some(l.n),
                "charge-below-allowed",
                format!("{} billed {} below the contracted allowed {}", l.display(), l.line.charge, allowed.round_dp(2)),
                "raise the charge master to at least the highest contracted amount; the payer pays the lesser of charge and allowed".into(),
            );
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
