//! Denial management: each adjusted line's class and next action from its CAS group, CARC and
//! RARCs (`carc.csv`, refined by the payer's settings), root-cause tables across remittances,
//! and appeal letters for underpayments.
//!
//! The class and the default action are data (`carc.csv`); what this module adds is the
//! refinement that needs more than one row: the payer's retro-authorization setting for CO-197,
//! the RARC for CARC 16, the payer's bilateral style for CARC 4, and whether a bundling denial
//! hit a line that carried a valid bypass modifier.

use crate::pricing::{money, LinePrice};
use crate::reference::{CarcRule, Reference};
use crate::text::{InlineWriter, Interner, Modifiers, Shared};
use chrono::NaiveDate;
use hipaa::Adjustment;
use hipaa::Text;
use rust_decimal::Decimal;
use serde::Serialize;
use std::collections::BTreeMap;

/// CARCs that mean "bundled into another service". `carc.csv` has no column for this yet.
pub const BUNDLING_CARCS: [&str; 2] = ["97", "236"];

/// Class order for choosing the adjustment that explains a line: what needs a person first.
fn class_rank(class: &str) -> u8 {
    match class {
        "hard" => 0,
        "soft" => 1,
        "unknown" => 2,
        "expected" => 3,
        "patient" => 4,
        "contractual" => 5,
        _ => 6,
    }
}

/// What one adjustment (or a line's deciding adjustment) means and what to do next.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Disposition {
    /// `CO-197`.
    pub carc: Shared,
    pub group: Shared,
    pub reason: Shared,
    pub amount: Decimal,
    /// hard, soft, contractual, patient, expected, or unknown (CARC not in the table).
    pub class: Shared,
    /// corrected-claim, appeal, peer-to-peer, retro-auth, write-off, bill-patient, post, ...
    pub action: Shared,
    /// The specific fix, in words.
    pub fix: Shared,
}

/// What the classifier needs to know about the line besides its adjustments.
#[derive(Clone, Copy, Debug)]
pub struct LineFacts<'a> {
    pub payer_id: &'a str,
    pub code: &'a str,
    pub modifiers: &'a [Text],
    pub remarks: &'a [Text],
    /// The line carried a bypass modifier that is valid against the other lines of its date.
    pub valid_bypass: bool,
}

/// Classifies one adjustment.
pub fn classify(reference: &Reference, adj: &Adjustment, facts: &LineFacts<'_>) -> Disposition {
    decision(reference, adj, facts).to_disposition()
}

/// A [`Disposition`] borrowing the adjustment and the reference data: what the reconciler
/// builds for every line, turned into an owned disposition only for the denial records.
#[derive(Clone, Debug)]
pub(crate) struct Decision<'a, 'r> {
    pub adj: &'a Adjustment,
    pub class: &'r str,
    pub action: &'r str,
    pub fix: Fix<'r>,
}

/// A fix text as the rules give it: a text of the reference data or a literal, or a payer's
/// name and a sentence, joined only when the text is shared or read, so deciding a line
/// formats nothing.
#[derive(Clone, Debug)]
pub(crate) enum Fix<'r> {
    Parts(&'r str, &'static str),
    Owned(String),
}

impl<'r> Fix<'r> {
    pub(crate) fn text(s: &'r str) -> Fix<'r> {
        Fix::Parts(s, "")
    }

    pub(crate) fn is_empty(&self) -> bool {
        match self {
            Fix::Parts(a, b) => a.is_empty() && b.is_empty(),
            Fix::Owned(s) => s.is_empty(),
        }
    }

    /// The text, with `tail` after `"; "` when there is one (just `tail` when the fix is empty).
    pub(crate) fn shared<'i>(&self, intern: &mut Interner<'i>, tail: Option<&'static str>) -> Shared
    where
        'r: 'i,
    {
        match (self, tail) {
            (_, Some(t)) if self.is_empty() => intern.get_at(t),
            (Fix::Parts(a, b), None) => intern.get_parts([a, b, "", ""]),
            (Fix::Parts(a, b), Some(t)) => intern.get_parts([a, b, "; ", t]),
            (Fix::Owned(f), None) => intern.get(f),
            (Fix::Owned(f), Some(t)) => intern.build(|s| {
                s.push_str(f);
                s.push_str("; ");
                s.push_str(t);
            }),
        }
    }
}

impl<'r> Decision<'_, 'r> {
    pub(crate) fn to_disposition(&self) -> Disposition {
        self.to_disposition_in(&mut Interner::default())
    }

    /// [`Decision::to_disposition`] with its texts shared through `intern`.
    pub(crate) fn to_disposition_in<'i>(&self, intern: &mut Interner<'i>) -> Disposition
    where
        'r: 'i,
    {
        Disposition {
            carc: carc_text(intern, Some(self.adj)),
            group: intern.get(&self.adj.group),
            reason: intern.get(&self.adj.reason),
            amount: self.adj.amount,
            class: intern.get_at(self.class),
            action: intern.get_at(self.action),
            fix: self.fix.shared(intern, None),
        }
    }
}

/// An adjustment as `CO-45` (empty for none), inline when it fits.
pub(crate) fn carc_text(intern: &mut Interner<'_>, adj: Option<&Adjustment>) -> Shared {
    let Some(adj) = adj else { return Shared::empty() };
    let mut w = InlineWriter::new();
    w.push(&adj.group);
    w.push("-");
    w.push(&adj.reason);
    w.finish().unwrap_or_else(|| intern.get(&carc_of(adj)))
}

fn carc_of(adj: &Adjustment) -> String {
    let mut carc = String::with_capacity(adj.group.len() + 1 + adj.reason.len());
    carc.push_str(&adj.group);
    carc.push('-');
    carc.push_str(&adj.reason);
    carc
}

/// [`classify`] without copying what the reference data already holds.
pub(crate) fn decision<'a, 'r>(
    reference: &'r Reference,
    adj: &'a Adjustment,
    facts: &LineFacts<'_>,
) -> Decision<'a, 'r> {
    decision_with(reference, adj, reference.carc(&adj.group, &adj.reason), facts)
}

/// [`decision`] with the adjustment's `carc.csv` rule already looked up.
fn decision_with<'a, 'r>(
    reference: &'r Reference,
    adj: &'a Adjustment,
    rule: Option<&'r CarcRule>,
    facts: &LineFacts<'_>,
) -> Decision<'a, 'r> {
    let (mut class, mut action, mut fix): (&'r str, &'r str, Fix<'r>) = match rule {
        Some(r) => (r.class.as_str(), r.action.as_str(), Fix::text(r.description.as_str())),
        None => {
            ("unknown", "review", Fix::Owned(format!("{} is not in carc.csv: review the remittance", carc_of(adj))))
        }
    };
    // Only a few CARCs depend on the payer's settings.
    let payer = || reference.payer(facts.payer_id);
    let remark = |r: &str| facts.remarks.iter().any(|x| x == r);
    match adj.reason.as_str() {
        "197" => {
            let payer = payer();
            // carc.csv: hard, soft when the payer takes retro-authorization requests.
            if payer.auth_denial_action == "peer-to-peer" {
                class = "soft";
                action = "peer-to-peer";
                fix = Fix::Parts(
                    &payer.name,
                    " handles authorization denials by peer-to-peer review: schedule it with the medical director and \
                     bring the authorization request and clinical notes",
                );
            } else if payer.retro_auth {
                class = "soft";
                action = "retro-auth";
                fix = Fix::Parts(&payer.name, " accepts retro-authorization: request it with the date of service and the clinical notes, or send \
                     the authorization already on file as evidence");
            } else {
                class = "hard";
                action = "write-off";
                fix = Fix::Parts(
                    &payer.name,
                    " does not accept retro-authorization: write off and fix the authorization workflow",
                );
            }
        }
        "50" if remark("N54") || payer().auth_required.iter().any(|c| c == facts.code) => {
            action = "peer-to-peer";
            fix = Fix::text(
                "medical necessity denied on an authorized service: request a peer-to-peer review with the LCD criteria",
            );
        }
        "16" if remark("MA130") => {
            fix = Fix::text("MA130: the claim is unprocessable; correct it and send it as a new claim (frequency 1)");
        }
        "16" if remark("N290") => {
            action = "corrected-claim";
            fix = Fix::text("N290: rendering provider NPI missing or invalid; fix 2310B/2420A and send frequency 7");
        }
        "4" => {
            let payer = payer();
            let has50 = facts.modifiers.iter().any(|m| m == "50");
            fix = if has50 && payer.bilateral_style == "rt-lt" {
                Fix::Parts(&payer.name, " wants bilateral procedures as RT and LT on two lines, not modifier 50: corrected claim (frequency 7)")
            } else if !has50
                && payer.bilateral_style == "modifier-50"
                && facts.modifiers.iter().any(|m| m == "RT" || m == "LT")
            {
                Fix::Parts(&payer.name, " wants bilateral procedures on one line with modifier 50 and 1 unit: corrected claim (frequency 7)")
            } else {
                Fix::text("check 50/RT/LT, KX on diagnostic lines, 25 on the E/M and X{EPSU}/59 on distinct services: corrected claim (frequency 7)")
            };
        }
        r if BUNDLING_CARCS.contains(&r) => {
            if facts.valid_bypass {
                action = "appeal";
                class = "soft";
                fix = Fix::text(
                    "the line already carried a valid bypass modifier (25 on the E/M, XS/59 on a distinct service): \
                     appeal with the documentation of the separately identifiable service",
                );
            } else {
                fix = Fix::text(
                    "bundled: if the documentation supports a distinct service and the PTP indicator is 1, send a \
                     corrected claim (frequency 7) with 25 on the E/M or XS/59 on the procedure; else write off",
                );
            }
        }
        _ => {}
    }
    Decision { adj, class, action, fix }
}

/// The adjustment that explains a line: the first by class (hard, soft, unknown, expected,
/// patient, contractual), then by amount. `None` when the line has no adjustments.
pub fn decide(reference: &Reference, adjustments: &[Adjustment], facts: &LineFacts<'_>) -> Option<Disposition> {
    decide_refs(reference, adjustments.iter(), facts)
}

/// [`decide`] over borrowed adjustments. Only the chosen adjustment is classified in full (its
/// fix text); the others are ranked by their class alone.
pub fn decide_refs<'a>(
    reference: &Reference,
    adjustments: impl Iterator<Item = &'a Adjustment>,
    facts: &LineFacts<'_>,
) -> Option<Disposition> {
    decide_borrowed(reference, adjustments, facts).map(|d| d.to_disposition())
}

/// [`decide_refs`], borrowing.
pub(crate) fn decide_borrowed<'a, 'r>(
    reference: &'r Reference,
    adjustments: impl Iterator<Item = &'a Adjustment>,
    facts: &LineFacts<'_>,
) -> Option<Decision<'a, 'r>> {
    // The first of the lowest (class rank, larger amount first), each adjustment ranked once
    // and its rule looked up once.
    let mut best: Option<(u8, Decimal, &'a Adjustment, Option<&'r CarcRule>)> = None;
    for a in adjustments.filter(|a| !a.amount.is_zero()) {
        let rule = reference.carc(&a.group, &a.reason);
        let rank = class_rank(quick_class(reference, a, rule, facts));
        let amount = a.amount.abs();
        if best.is_none_or(|(r, m, _, _)| rank < r || (rank == r && amount > m)) {
            best = Some((rank, amount, a, rule));
        }
    }
    best.map(|(_, _, a, rule)| decision_with(reference, a, rule, facts))
}

/// The class [`classify`] gives, without building the disposition.
fn quick_class<'r>(
    reference: &'r Reference,
    adj: &Adjustment,
    rule: Option<&'r CarcRule>,
    facts: &LineFacts<'_>,
) -> &'r str {
    match adj.reason.as_str() {
        "197" => {
            let payer = reference.payer(facts.payer_id);
            if payer.auth_denial_action == "peer-to-peer" || payer.retro_auth {
                "soft"
            } else {
                "hard"
            }
        }
        r if BUNDLING_CARCS.contains(&r) && facts.valid_bypass => "soft",
        _ => rule.map(|r| r.class.as_str()).unwrap_or("unknown"),
    }
}

/// Where the fix for a pattern lives upstream, from the action (the action is data; this maps
/// it onto the team that can stop the denial from recurring).
pub fn upstream_fix(action: &str) -> &'static str {
    match action {
        "corrected-claim" | "split-lines" => {
            "coding: fix modifiers, units or diagnosis pointers before submission (scrubber rule)"
        }
        "retro-auth" | "peer-to-peer" => {
            "authorization workflow: verify and attach the authorization before the date of service"
        }
        "appeal" => "documentation: make the notes state the criteria (LCD, distinct service) the payer checks",
        "resubmit" => {
            "front desk and billing data: eligibility, COB order, NPIs and authorization numbers on the claim"
        }
        "write-off" => "submission workflow: timely filing and coverage checks before the service",
        "check-frequency" => "scheduling: check frequency limits and benefit maximums before booking",
        "post" => "posting: duplicates and contractual adjustments need no rework",
        "bill-patient" => "patient financial counseling: collect estimates at the visit",
        _ => "review the payer's remark codes",
    }
}

/// One denied or adjusted line, the input of the root-cause tables.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct DenialRecord {
    pub file: Shared,
    pub payer_id: Shared,
    pub claim_id: Shared,
    pub line: Option<u32>,
    pub code: Shared,
    pub rendering_npi: Shared,
    pub paid_date: Option<NaiveDate>,
    pub disposition: Disposition,
}

/// One row of a root-cause table.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct CauseRow {
    /// by-cpt, by-payer, by-carc, by-provider, or pattern.
    pub table: String,
    pub key: String,
    pub count: u64,
    pub dollars: Decimal,
    /// Counts by month of payment (`2026-11:3 2026-12:1`), oldest first.
    pub trend: String,
    pub action: String,
    pub upstream_fix: String,
}

/// The denial classes that count as denials in the tables (contractual, patient and expected
/// adjustments are not denials).
pub fn is_denial(class: &str) -> bool {
    matches!(class, "hard" | "soft" | "unknown")
}

#[derive(Default)]
struct Acc {
    count: u64,
    dollars: Decimal,
    months: BTreeMap<String, u64>,
    actions: BTreeMap<String, u64>,
}

impl Acc {
    fn add(&mut self, r: &DenialRecord) {
        self.count += 1;
        self.dollars += r.disposition.amount;
        let m = r.paid_date.map(|d| d.format("%Y-%m").to_string()).unwrap_or_else(|| "undated".into());
        *self.months.entry(m).or_default() += 1;
        *self.actions.entry(r.disposition.action.to_string()).or_default() += 1;
    }

    fn row(self, table: &str, key: String) -> CauseRow {
        let action =
            self.actions.iter().max_by(|a, b| a.1.cmp(b.1).then(b.0.cmp(a.0))).map(|a| a.0.clone()).unwrap_or_default();
        let trend = self.months.iter().map(|(m, c)| format!("{m}:{c}")).collect::<Vec<_>>().join(" ");
        CauseRow {
            table: table.to_string(),
            key,
            count: self.count,
            dollars: crate::pricing::cents(self.dollars),
            trend,
            upstream_fix: upstream_fix(&action).to_string(),
            action,
        }
    }
}

type KeyFn = fn(&DenialRecord) -> String;

/// Root-cause tables: top patterns (payer + CPT + CARC) first, then by CPT, payer, CARC and
/// rendering provider; each table sorted by dollars, then count, then key.
pub fn root_causes(records: &[DenialRecord]) -> Vec<CauseRow> {
    let tables: [(&str, KeyFn); 5] = [
        ("pattern", |r| format!("{} {} {}", r.payer_id, r.code, r.disposition.carc)),
        ("by-cpt", |r| r.code.to_string()),
        ("by-payer", |r| r.payer_id.to_string()),
        ("by-carc", |r| r.disposition.carc.to_string()),
        ("by-provider", |r| if r.rendering_npi.is_empty() { "unknown".into() } else { r.rendering_npi.to_string() }),
    ];
    let mut out = Vec::new();
    for (name, key) in tables {
        let mut acc: BTreeMap<String, Acc> = BTreeMap::new();
        for r in records.iter().filter(|r| is_denial(&r.disposition.class)) {
            acc.entry(key(r)).or_default().add(r);
        }
        let mut rows: Vec<CauseRow> = acc.into_iter().map(|(k, a)| a.row(name, k)).collect();
        rows.sort_by(|a, b| b.dollars.cmp(&a.dollars).then(b.count.cmp(&a.count)).then(a.key.cmp(&b.key)));
        out.extend(rows);
    }
    out
}

/// One underpaid line, as an appeal letter names it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AppealLine {
    pub line: u32,
    pub code: Shared,
    pub modifiers: Modifiers,
    pub service_date: Option<NaiveDate>,
    pub category: Shared,
    pub contract_rate: Option<Decimal>,
    pub expected_allowed: Decimal,
    pub patient_responsibility: Decimal,
    pub sequestration: Decimal,
    pub expected_paid: Decimal,
    pub paid: Decimal,
    pub shortfall: Decimal,
    pub carc: Shared,
    pub price: Option<LinePrice>,
}

/// What an appeal letter is about. Texts are [`Shared`] with the rows (ids, payer) or inline,
/// so a run's tens of thousands of drafts are not a dozen allocations each.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AppealClaim {
    pub payer_id: Shared,
    pub payer_name: Shared,
    pub payer_claim_id: Shared,
    pub claim_id: Shared,
    pub patient_name: Shared,
    pub member_id: Shared,
    pub billing_name: Shared,
    pub billing_npi: Shared,
    pub rendering_npi: Shared,
    pub lines: Vec<AppealLine>,
}

impl AppealClaim {
    pub fn shortfall(&self) -> Decimal {
        self.lines.iter().map(|l| l.shortfall).sum()
    }

    /// A file name without patient data: payer and payer claim number (CLM01 when the payer
    /// sent none), restricted to `[A-Za-z0-9-]`.
    pub fn file_name(&self) -> String {
        let clean = |s: &str| {
            s.chars().map(|c| if c.is_ascii_alphanumeric() || c == '-' { c } else { '_' }).collect::<String>()
        };
        let id = if self.payer_claim_id.is_empty() { &self.claim_id } else { &self.payer_claim_id };
        format!("appeal-{}-{}.md", clean(&self.payer_id), clean(id))
    }
}

/// Drafts the Markdown appeal letter: the contract rate, the computation and the shortfall
/// for each underpaid line. The letter carries PHI; whoever writes it writes it 0600.
pub fn appeal_letter(a: &AppealClaim, today: NaiveDate) -> String {
    let mut s = String::new();
    s.push_str(&format!("# Request for payment review: claim {}\n\n", a.payer_claim_id));
    s.push_str(&format!("Date: {today}\n\n"));
    s.push_str(&format!("To: {} ({}), provider appeals\n\n", a.payer_name, a.payer_id));
    s.push_str(&format!("From: {} (NPI {})\n\n", a.billing_name, a.billing_npi));
    s.push_str(&format!(
        "Re: patient {}, member ID {}, patient control number {}, payer claim number {}{}\n\n",
        a.patient_name,
        a.member_id,
        a.claim_id,
        a.payer_claim_id,
        if a.rendering_npi.is_empty() {
            String::new()
        } else {
            format!(", rendering provider NPI {}", a.rendering_npi)
        }
    ));
    s.push_str(&format!(
        "We ask you to reprocess this claim. It was paid {} less than our contract with {} provides, as the table \
         and the computation below show.\n\n",
        money(a.shortfall()),
        a.payer_name
    ));
    s.push_str("| line | service | date | finding | contract rate | expected allowed | patient resp. | expected payment | paid | shortfall |\n");
    s.push_str("|---|---|---|---|---|---|---|---|---|---|\n");
    for l in &a.lines {
        s.push_str(&format!(
            "| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |\n",
            l.line,
            crate::pricing::display(&l.code, &l.modifiers),
            l.service_date.map(|d| d.to_string()).unwrap_or_default(),
            l.category,
            l.contract_rate.map(money).unwrap_or_else(|| "-".into()),
            money(l.expected_allowed),
            money(l.patient_responsibility),
            money(l.expected_paid),
            money(l.paid),
            money(l.shortfall),
        ));
    }
    s.push_str(&format!("\nTotal shortfall: **{}**\n\n## Computation\n\n", money(a.shortfall())));
    for l in &a.lines {
        if let Some(p) = &l.price {
            s.push_str(&format!("- {}\n", p.explain()));
        }
        let mut tail = format!(
            "  Expected payment = expected allowed {} - patient responsibility {}",
            money(l.expected_allowed),
            money(l.patient_responsibility)
        );
        if !l.sequestration.is_zero() {
            tail.push_str(&format!(" - sequestration {}", money(l.sequestration)));
        }
        tail.push_str(&format!(
            " = {}; paid {}; shortfall {}{}.\n",
            money(l.expected_paid),
            money(l.paid),
            money(l.shortfall),
            if l.carc.is_empty() { String::new() } else { format!(" (adjusted with {})", l.carc) }
        ));
        s.push_str(&tail);
        match l.category.as_str() {
            "mpr-over-reduction" => s.push_str(
                "  The multiple-procedure reduction taken exceeds the percentage in our contract for this rank.\n",
            ),
            "imaging-underpaid" => {
                s.push_str("  The guidance code is separately payable with this procedure and was paid below the contract rate.\n")
            }
            "bundled-underpaid" => s.push_str(
                "  The line carried a valid NCCI bypass modifier for a separately identifiable service; the documentation \
                 is attached.\n",
            ),
            _ => {}
        }
    }
    s.push_str(
        "\nPlease adjust the claim and remit the shortfall. Enclosed: the remittance advice, the claim as submitted \
         and the contract fee schedule page.\n\nSincerely,\n\nBilling office\n",
    );
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn adj(group: &str, reason: &str, amount: i64) -> Adjustment {
        Adjustment { group: group.into(), reason: reason.into(), amount: Decimal::from(amount), quantity: None }
    }

    fn facts<'a>(payer: &'a str, code: &'a str, mods: &'a [Text], bypass: bool) -> LineFacts<'a> {
        LineFacts { payer_id: payer, code, modifiers: mods, remarks: &[], valid_bypass: bypass }
    }

    #[test]
    fn co_197_follows_the_payer_setting() {
        let r = Reference::embedded().expect("embedded");
        let d = classify(&r, &adj("CO", "197", 400), &facts("AETNA1", "64636", &[], false));
        assert_eq!((d.class.as_str(), d.action.as_str()), ("soft", "retro-auth"));
        let d = classify(&r, &adj("CO", "197", 400), &facts("BCBSTX", "64636", &[], false));
        assert_eq!((d.class.as_str(), d.action.as_str()), ("soft", "peer-to-peer"));
        // MCRJL: retro-auth is the configured action but retro_auth = false: write off.
        let d = classify(&r, &adj("CO", "197", 400), &facts("MCRJL", "64636", &[], false));
        assert_eq!((d.class.as_str(), d.action.as_str()), ("hard", "write-off"));
    }

    #[test]
    fn bundling_with_valid_bypass_is_an_appeal() {
        let r = Reference::embedded().expect("embedded");
        let mods = vec![Text::from("25")];
        let d = classify(&r, &adj("CO", "97", 150), &facts("MCRJL", "99213", &mods, true));
        assert_eq!((d.class.as_str(), d.action.as_str()), ("soft", "appeal"));
        let d = classify(&r, &adj("CO", "97", 150), &facts("MCRJL", "99213", &[], false));
        assert_eq!((d.class.as_str(), d.action.as_str()), ("hard", "corrected-claim"));
    }

    #[test]
    fn decide_prefers_denials_over_contractual() {
        let r = Reference::embedded().expect("embedded");
        let d = decide(&r, &[adj("CO", "45", 350), adj("PR", "2", 50)], &facts("MCRJL", "64483", &[], false))
            .expect("adjusted");
        assert_eq!(d.carc, "PR-2");
        let d = decide(&r, &[adj("CO", "45", 45), adj("CO", "59", 50)], &facts("BCBSTX", "20553", &[], false))
            .expect("adjusted");
        assert_eq!((d.carc.as_str(), d.action.as_str()), ("CO-59", "verify-reduction"));
        let d = decide(&r, &[adj("CO", "XYZ", 5)], &facts("BCBSTX", "20553", &[], false)).expect("adjusted");
        assert_eq!((d.class.as_str(), d.action.as_str()), ("unknown", "review"));
    }

    #[test]
    fn root_causes_rank_by_dollars() {
        let r = Reference::embedded().expect("embedded");
        let rec = |payer: &str, code: &str, a: Adjustment| DenialRecord {
            file: "f".into(),
            payer_id: payer.into(),
            claim_id: "C".into(),
            line: Some(1),
            code: code.into(),
            rendering_npi: "1508000027".into(),
            paid_date: NaiveDate::from_ymd_opt(2026, 12, 1),
            disposition: classify(&r, &a, &facts(payer, code, &[], false)),
        };
        let rows = root_causes(&[
            rec("AETNA1", "64636", adj("CO", "197", 400)),
            rec("MCRJL", "99213", adj("CO", "97", 150)),
            rec("MCRJL", "99213", adj("CO", "97", 150)),
            rec("MCRJL", "64483", adj("CO", "45", 350)),
        ]);
        let patterns: Vec<_> =
            rows.iter().filter(|r| r.table == "pattern").map(|r| (r.key.as_str(), r.count)).collect();
        assert_eq!(patterns, vec![("AETNA1 64636 CO-197", 1), ("MCRJL 99213 CO-97", 2)]);
        let cpt = rows.iter().find(|r| r.table == "by-cpt" && r.key == "99213").expect("row");
        assert_eq!((cpt.dollars, cpt.trend.as_str()), (Decimal::new(30000, 2), "2026-12:2"));
    }
}
