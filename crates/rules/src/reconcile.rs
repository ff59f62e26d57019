//! ERA reconciliation: match each 835 claim payment to the claim that was sent, compare what
//! was paid with what the contract says, and put every line in one category with a next
//! action.
//!
//! Matching is CLP01 -> CLM01, then each SVC by REF*6R, then by code + modifiers + date.
//! Nothing is dropped: remits without a claim and claims without a remit come out as rows with
//! no category and an action saying so. An 835 set that fails SNIP-3 balancing is reported and
//! not reconciled at all, before anything is posted.
//!
//! Patient responsibility is not the payer's variance: the payer is expected to pay the
//! contracted allowed minus the PR amounts (and minus prior-payer amounts, CARC 23), minus 2%
//! sequestration where the payer applies it. `variance = expected - paid`, positive when money
//! is owed to the practice.
//!
//! ```
//! use rules::reconcile::{read_claims, read_remits, reconcile, ClaimIndex, Options};
//! let reference = rules::Reference::embedded().expect("embedded reference loads");
//! let claims = ClaimIndex::new(
//!     read_claims("claims.837", include_bytes!("../../../edi-samples/claims-20261127.837")).expect("reads"),
//! );
//! let remits = read_remits("era.835", include_bytes!("../../../edi-samples/era-20261201.835")).expect("reads");
//! let r = reconcile(&reference, &remits, &claims, &Options::default());
//! let l = r.variances.iter().find(|v| v.claim_id == "PC1006" && v.code == "76942").expect("matched");
//! assert_eq!(l.category.map(|c| c.as_str()), Some("imaging-underpaid"));
//! assert_eq!(l.variance.map(|v| v.to_string()), Some("18.00".to_string()));
//! ```

use crate::denials::{self, AppealClaim, AppealLine, DenialRecord, Disposition, LineFacts, BUNDLING_CARCS};
use crate::pricing::{cents, percent, price_claim, price_claim_with, ClaimPrice};
use crate::reference::Reference;
use chrono::NaiveDate;
use hipaa::{Claim, ClaimPayment, IssueCode, Remittance, ServicePayment, Transaction};
use rayon::prelude::*;
use rust_decimal::Decimal;
use serde::Serialize;
use std::cmp::Ordering;
use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use x12::{Event, OwnedSet, StreamReader};

/// Reading an X12 file for reconciliation failed.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error("{file}: {source}")]
    Io { file: String, source: std::io::Error },
    #[error("{file}: no {what} transaction set found")]
    Empty { file: String, what: &'static str },
}

/// The reconciliation category of a line (DESIGN.md).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Category {
    PaidAsContracted,
    MprOverReduction,
    ImagingUnderpaid,
    BundledUnderpaid,
    ContractUnderpaid,
    Overpaid,
    Denied,
    Reversed,
}

impl Category {
    pub fn as_str(self) -> &'static str {
        match self {
            Category::PaidAsContracted => "paid-as-contracted",
            Category::MprOverReduction => "mpr-over-reduction",
            Category::ImagingUnderpaid => "imaging-underpaid",
            Category::BundledUnderpaid => "bundled-underpaid",
            Category::ContractUnderpaid => "contract-underpaid",
            Category::Overpaid => "overpaid",
            Category::Denied => "denied",
            Category::Reversed => "reversed",
        }
    }

    /// The payer paid less than the contract on a line it did pay (or bundled a valid bypass).
    pub fn is_underpayment(self) -> bool {
        matches!(
            self,
            Category::MprOverReduction
                | Category::ImagingUnderpaid
                | Category::BundledUnderpaid
                | Category::ContractUnderpaid
        )
    }
}

/// Actions for rows that could not be categorised.
pub const ACTION_UNMATCHED_REMIT: &str = "match-remit";
pub const ACTION_MISSING_FROM_REMIT: &str = "missing-from-remit";
pub const ACTION_AWAIT_REMIT: &str = "await-remit";
pub const ACTION_MANUAL_REVIEW: &str = "manual-review";

/// One variance row: the columns of DESIGN.md in order, plus fields kept for letters and
/// `--explain` that are not part of the contract (not serialized).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Variance {
    pub file: String,
    pub claim_id: String,
    pub payer_claim_id: String,
    /// LX01 of the submitted line; the SVC ordinal when the line matched no submitted line;
    /// null for claim-level rows.
    pub line: Option<u32>,
    pub code: String,
    /// Modifiers joined with `:` (`50:RT`).
    pub modifiers: String,
    pub billed: Option<Decimal>,
    pub contracted: Option<Decimal>,
    pub allowed: Option<Decimal>,
    pub paid: Option<Decimal>,
    pub variance: Option<Decimal>,
    /// `None` for rows that could not be categorised (unmatched, unpriced); `action` says why.
    pub category: Option<Category>,
    pub carc: String,
    pub class: String,
    pub action: String,
    #[serde(skip)]
    pub payer_id: String,
    #[serde(skip)]
    pub patient_responsibility: Decimal,
    #[serde(skip)]
    pub sequestration: Decimal,
    #[serde(skip)]
    pub fix: String,
    #[serde(skip)]
    pub explain: String,
}

impl Variance {
    /// Rows a person must look at: anything but paid-as-contracted and reversed, except claims
    /// still waiting for their remittance.
    pub fn needs_person(&self) -> bool {
        match self.category {
            Some(Category::PaidAsContracted) | Some(Category::Reversed) => false,
            Some(_) => true,
            None => self.action != ACTION_AWAIT_REMIT,
        }
    }
}

/// A PLB adjustment, reported at provider level.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ProviderAdjustmentRow {
    pub file: String,
    pub payer_id: String,
    pub provider_id: String,
    pub fiscal_period_end: Option<NaiveDate>,
    pub reason: String,
    pub description: String,
    pub reference: String,
    /// Positive reduces the payment; negative (interest, L6) increases it.
    pub amount: Decimal,
}

/// An 835 set that failed SNIP-3 balancing and was not reconciled.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct BalancingFailure {
    pub file: String,
    pub set_control: String,
    /// The hipaa messages (positions and amounts, no patient data).
    pub messages: Vec<String>,
}

/// PLB reason codes (X12 element 426) seen on professional remittances.
const PLB_REASONS: [(&str, &str); 12] = [
    ("L6", "interest owed"),
    ("WO", "overpayment recovery"),
    ("FB", "forwarding balance"),
    ("72", "authorized return"),
    ("CS", "adjustment"),
    ("J1", "nonreimbursable"),
    ("B2", "rebate"),
    ("B3", "recovery allowance"),
    ("AP", "acceleration of benefits"),
    ("FC", "fund allocation"),
    ("IR", "internal revenue service withholding"),
    ("CV", "capital passthru"),
];

fn plb_description(reason: &str) -> String {
    PLB_REASONS.iter().find(|(c, _)| *c == reason).map(|(_, d)| d.to_string()).unwrap_or_else(|| "other".into())
}

/// One 835 transaction set as read.
#[derive(Clone, Debug)]
pub struct RemitSet {
    pub file: String,
    pub control: String,
    pub remittance: Remittance,
    /// Messages of the SNIP-3 balancing issues hipaa found.
    pub balancing: Vec<String>,
}

/// One submitted claim with the transaction set it came from (for secondary claims).
#[derive(Clone, Debug)]
pub struct SubmittedClaim {
    pub file: String,
    pub claim: Claim,
    pub source: Arc<OwnedSet>,
}

/// Submitted claims by CLM01; a later file's claim replaces an earlier one with the same id.
#[derive(Clone, Debug, Default)]
pub struct ClaimIndex {
    claims: Vec<SubmittedClaim>,
    by_id: HashMap<String, usize>,
}

impl ClaimIndex {
    pub fn new(claims: impl IntoIterator<Item = SubmittedClaim>) -> ClaimIndex {
        let mut ix = ClaimIndex::default();
        ix.extend(claims);
        ix
    }

    pub fn extend(&mut self, claims: impl IntoIterator<Item = SubmittedClaim>) {
        for c in claims {
            match self.by_id.get(&c.claim.claim_id) {
                Some(&i) => self.claims[i] = c,
                None => {
                    self.by_id.insert(c.claim.claim_id.clone(), self.claims.len());
                    self.claims.push(c);
                }
            }
        }
    }

    pub fn get(&self, claim_id: &str) -> Option<&SubmittedClaim> {
        self.by_id.get(claim_id).map(|&i| &self.claims[i])
    }

    pub fn iter(&self) -> impl Iterator<Item = &SubmittedClaim> {
        self.claims.iter()
    }

    pub fn len(&self) -> usize {
        self.claims.len()
    }

    pub fn is_empty(&self) -> bool {
        self.claims.is_empty()
    }
}

fn sets(file: &str, bytes: &[u8]) -> Result<Vec<OwnedSet>, ReadError> {
    let mut out = Vec::new();
    for ev in StreamReader::new(bytes) {
        if let Event::Set(s) = ev.map_err(|source| ReadError::Io { file: file.to_string(), source })? {
            out.push(s);
        }
    }
    Ok(out)
}

/// Reads the 835 sets of a file; other sets are ignored.
pub fn read_remits(file: &str, bytes: &[u8]) -> Result<Vec<RemitSet>, ReadError> {
    let mut out = Vec::new();
    for set in sets(file, bytes)? {
        let parsed = hipaa::parse_set(&set);
        if let Transaction::Remittance(r) = parsed.transaction {
            let balancing =
                parsed.issues.iter().filter(|i| i.code == IssueCode::Unbalanced).map(|i| i.to_string()).collect();
            out.push(RemitSet { file: file.to_string(), control: parsed.control, remittance: r, balancing });
        }
    }
    if out.is_empty() {
        return Err(ReadError::Empty { file: file.to_string(), what: "835" });
    }
    Ok(out)
}

/// Reads the claims of the 837P sets of a file.
pub fn read_claims(file: &str, bytes: &[u8]) -> Result<Vec<SubmittedClaim>, ReadError> {
    let mut out = Vec::new();
    let mut any = false;
    for set in sets(file, bytes)? {
        let parsed = hipaa::parse_set(&set);
        if let Transaction::Claims(c) = parsed.transaction {
            any = true;
            let source = Arc::new(set);
            out.extend(c.claims.into_iter().map(|claim| SubmittedClaim {
                file: file.to_string(),
                claim,
                source: Arc::clone(&source),
            }));
        }
    }
    if !any {
        return Err(ReadError::Empty { file: file.to_string(), what: "837P" });
    }
    Ok(out)
}

/// Reconciliation settings.
#[derive(Clone, Debug)]
pub struct Options {
    /// Differences up to this amount are paid as contracted.
    pub tolerance: Decimal,
    /// Report submitted claims no remittance mentions.
    pub report_unremitted: bool,
    /// Write the computation of each row into `Variance::explain` (appeal letters always get
    /// theirs). Formatting it is most of the cost of a row: batch runs that print no
    /// explanation turn it off.
    pub explain: bool,
}

impl Default for Options {
    fn default() -> Options {
        Options { tolerance: Decimal::new(1, 2), report_unremitted: true, explain: true }
    }
}

/// A claim whose primary remittance leaves patient responsibility while the claim names
/// another payer: a secondary claim is due.
#[derive(Clone, Debug)]
pub struct SecondaryDue {
    pub submitted: SubmittedClaim,
    pub payment: ClaimPayment,
    /// The primary payer as the remittance names it, and its adjudication date (BPR16).
    pub primary_payer_id: String,
    pub adjudicated: Option<NaiveDate>,
    /// Index into `claim.other_payers` of the payer to bill next.
    pub other_payer: usize,
}

/// Everything one run found.
#[derive(Clone, Debug, Default)]
pub struct Reconciliation {
    pub variances: Vec<Variance>,
    pub provider_adjustments: Vec<ProviderAdjustmentRow>,
    pub balancing_failures: Vec<BalancingFailure>,
    pub denials: Vec<DenialRecord>,
    pub appeals: Vec<AppealClaim>,
    pub secondary: Vec<SecondaryDue>,
    /// Claims remitted in this run; their net payment over all remits (reversals included).
    pub net_paid: Vec<(String, Decimal)>,
}

impl Reconciliation {
    pub fn needs_person(&self) -> bool {
        !self.balancing_failures.is_empty() || self.variances.iter().any(Variance::needs_person)
    }
}

/// Matches each service payment to a submitted line: REF*6R first, then code + modifiers +
/// date (the submitted procedure in SVC06 when the payer changed it). Each submitted line is
/// used once.
pub fn match_lines(claim: &Claim, payment: &ClaimPayment) -> Vec<Option<usize>> {
    let mut used = vec![false; claim.lines.len()];
    let mut out = vec![None; payment.services.len()];
    for (si, s) in payment.services.iter().enumerate() {
        if s.control.is_empty() {
            continue;
        }
        if let Some(li) = claim.lines.iter().enumerate().position(|(i, l)| !used[i] && l.control == s.control) {
            used[li] = true;
            out[si] = Some(li);
        }
    }
    for (si, s) in payment.services.iter().enumerate() {
        if out[si].is_some() {
            continue;
        }
        let proc = s.submitted_procedure.as_ref().unwrap_or(&s.procedure);
        let mut mods = proc.modifiers.clone();
        mods.sort();
        let date = s.service_date.or(payment.service_from);
        let found = claim.lines.iter().enumerate().position(|(i, l)| {
            let mut lm = l.procedure.modifiers.clone();
            lm.sort();
            !used[i]
                && l.procedure.code == proc.code
                && lm == mods
                && (date.is_none() || l.service_from.is_none() || l.service_from == date)
        });
        if let Some(li) = found {
            used[li] = true;
            out[si] = Some(li);
        }
    }
    out
}

/// Whether a submitted line carried a bypass modifier that is valid against the other lines of
/// its date: 25 on an E/M beside a procedure, or an NCCI-associated modifier where no
/// never-bypassable (indicator 0) edit pairs it with another line.
pub fn valid_bypass(reference: &Reference, claim: &Claim, index: usize) -> bool {
    let Some(l) = claim.lines.get(index) else { return false };
    let others: Vec<_> =
        claim.lines.iter().enumerate().filter(|(j, o)| *j != index && o.service_from == l.service_from).collect();
    if others.is_empty() {
        return false;
    }
    let family = |code: &str| reference.code(code).map(|c| c.family.as_str()).unwrap_or("");
    if l.procedure.has_modifier("25") && family(&l.procedure.code) == "em" {
        return others.iter().any(|(_, o)| family(&o.procedure.code) != "em");
    }
    let bypass = |m: &String| matches!(reference.modifier_kind(m), "distinct" | "anatomic" | "global" | "repeat" | "em-distinct");
    if !l.procedure.modifiers.iter().any(bypass) {
        return false;
    }
    let Some(on) = l.service_from else { return true };
    !others.iter().any(|(_, o)| {
        [(&o.procedure.code, &l.procedure.code), (&l.procedure.code, &o.procedure.code)]
            .iter()
            .any(|(a, b)| reference.ptp_edit(a, b, on).is_some_and(|e| e.modifier_indicator == 0))
    })
}

fn sum_where(adjs: &[&hipaa::Adjustment], f: impl Fn(&hipaa::Adjustment) -> bool) -> Decimal {
    adjs.iter().filter(|a| f(a)).map(|a| a.amount).sum()
}

fn join_mods(m: &[String]) -> String {
    m.join(":")
}

/// One remitted claim payment with where it came from.
struct Job<'a> {
    set: &'a RemitSet,
    payment: &'a ClaimPayment,
    superseded: bool,
}

#[derive(Default)]
struct Outcome {
    variances: Vec<Variance>,
    denials: Vec<DenialRecord>,
    appeal: Option<AppealClaim>,
    secondary: Option<SecondaryDue>,
}

/// Reconciles remittances against submitted claims and the contract.
pub fn reconcile(reference: &Reference, remits: &[RemitSet], claims: &ClaimIndex, opts: &Options) -> Reconciliation {
    let mut out = Reconciliation::default();
    let good: Vec<&RemitSet> = remits
        .iter()
        .filter(|s| {
            if s.balancing.is_empty() {
                true
            } else {
                out.balancing_failures.push(BalancingFailure {
                    file: s.file.clone(),
                    set_control: s.control.clone(),
                    messages: s.balancing.clone(),
                });
                false
            }
        })
        .collect();
    // A reversal (CLP02 = 22) names the payment it takes back by CLP01 + CLP07: that original,
    // when it is among the inputs, nets out with it.
    let reversed: HashSet<(&str, &str)> = good
        .iter()
        .flat_map(|s| s.remittance.claims.iter())
        .filter(|c| c.is_reversal())
        .map(|c| (c.claim_id.as_str(), c.payer_claim_id.as_str()))
        .collect();
    let jobs: Vec<Job<'_>> = good
        .iter()
        .flat_map(|s| {
            s.remittance.claims.iter().map(|c| Job {
                set: s,
                payment: c,
                superseded: !c.is_reversal() && reversed.contains(&(c.claim_id.as_str(), c.payer_claim_id.as_str())),
            })
        })
        .collect();
    // Jobs in output order, so the concatenated rows come out sorted without moving them.
    let mut jobs = jobs;
    jobs.sort_by(|a, b| {
        (&a.set.file, &a.payment.claim_id, &a.payment.payer_claim_id, a.payment.segment).cmp(&(
            &b.set.file,
            &b.payment.claim_id,
            &b.payment.payer_claim_id,
            b.payment.segment,
        ))
    });
    let outcomes: Vec<Outcome> = jobs.par_iter().map(|j| reconcile_payment(reference, claims, opts, j)).collect();
    let mut net: HashMap<&str, Decimal> = HashMap::new();
    for j in &jobs {
        *net.entry(j.payment.claim_id.as_str()).or_default() += j.payment.paid;
    }
    for o in outcomes {
        out.variances.extend(o.variances);
        out.denials.extend(o.denials);
        out.appeals.extend(o.appeal);
        out.secondary.extend(o.secondary);
    }
    if opts.report_unremitted {
        let unremitted: Vec<Variance> = claims
            .claims
            .par_iter()
            .filter(|c| !net.contains_key(c.claim.claim_id.as_str()))
            .map(|c| unremitted_row(reference, opts, c))
            .collect();
        out.variances.extend(unremitted);
    }
    for s in &good {
        for p in &s.remittance.provider_adjustments {
            out.provider_adjustments.push(ProviderAdjustmentRow {
                file: s.file.clone(),
                payer_id: s.remittance.payer_id().to_string(),
                provider_id: p.provider_id.clone(),
                fiscal_period_end: p.fiscal_period_end,
                reason: p.reason.clone(),
                description: plb_description(&p.reason),
                reference: p.reference.clone(),
                amount: p.amount,
            });
        }
    }
    out.net_paid = net.into_iter().map(|(k, v)| (k.to_string(), v)).collect();
    out.net_paid.sort();
    // Rows of one claim payment are sorted where they are made and jobs run in output order;
    // only unremitted claims (or a claim paid twice in one set) can leave this out of order.
    if out.variances.windows(2).any(|w| row_order(&w[0], &w[1]) == Ordering::Greater) {
        out.variances.sort_by(row_order);
    }
    out.denials.sort_by(|a, b| (&a.file, &a.claim_id, a.line).cmp(&(&b.file, &b.claim_id, b.line)));
    out.appeals.sort_by(|a, b| (&a.payer_id, &a.payer_claim_id).cmp(&(&b.payer_id, &b.payer_claim_id)));
    out.secondary.sort_by(|a, b| a.submitted.claim.claim_id.cmp(&b.submitted.claim.claim_id));
    out.provider_adjustments
        .sort_by(|a, b| (&a.file, &a.provider_id, &a.reason).cmp(&(&b.file, &b.provider_id, &b.reason)));
    out
}

fn row_order(a: &Variance, b: &Variance) -> Ordering {
    (&a.file, &a.claim_id, &a.payer_claim_id, a.line, &a.code, &a.modifiers).cmp(&(
        &b.file,
        &b.claim_id,
        &b.payer_claim_id,
        b.line,
        &b.code,
        &b.modifiers,
    ))
}

fn unremitted_row(reference: &Reference, opts: &Options, c: &SubmittedClaim) -> Variance {
    let price = price_claim_with(reference, &c.claim, &c.claim.payer.id, opts.explain);
    Variance {
        file: c.file.clone(),
        claim_id: c.claim.claim_id.clone(),
        payer_claim_id: String::new(),
        line: None,
        code: String::new(),
        modifiers: String::new(),
        billed: Some(cents(c.claim.charge)),
        contracted: price.total(),
        allowed: None,
        paid: None,
        variance: None,
        category: None,
        carc: String::new(),
        class: String::new(),
        action: ACTION_AWAIT_REMIT.into(),
        payer_id: c.claim.payer.id.clone(),
        patient_responsibility: Decimal::ZERO,
        sequestration: Decimal::ZERO,
        fix: "no remittance for this claim in the inputs".into(),
        explain: price.explain(),
    }
}

/// A group of service payments compared as one: a single line, or the two lines of an RT/LT
/// pair priced as one bilateral procedure.
struct Unit<'a> {
    services: Vec<(usize, &'a ServicePayment)>,
    /// Submitted line indexes, in the order of `services`.
    lines: Vec<Option<usize>>,
}

fn reconcile_payment(reference: &Reference, claims: &ClaimIndex, opts: &Options, job: &Job<'_>) -> Outcome {
    let pay = job.payment;
    let remit = &job.set.remittance;
    let payer_id = remit.payer_id();
    let payer = reference.payer(payer_id);
    let submitted = claims.get(&pay.claim_id);
    let price = submitted.map(|s| price_claim_with(reference, &s.claim, payer_id, opts.explain));
    let matches = submitted.map(|s| match_lines(&s.claim, pay)).unwrap_or_else(|| vec![None; pay.services.len()]);
    let mut out = Outcome::default();

    // Group service payments into units: RT/LT partners join the unit of their priced line.
    let mut units: Vec<Unit<'_>> = Vec::new();
    let mut unit_of_line: HashMap<u32, usize> = HashMap::new();
    for (si, s) in pay.services.iter().enumerate() {
        let li = matches[si];
        let key = match (li, &price, submitted) {
            (Some(li), Some(p), Some(sub)) => {
                let n = sub.claim.lines[li].number;
                p.line(n).and_then(|lp| lp.priced_with.or(lp.partner.map(|_| n)))
            }
            _ => None,
        };
        match key.and_then(|k| unit_of_line.get(&k).copied()) {
            Some(u) => {
                // The pair's priced line leads, so its row carries the pair's amounts.
                let is_priced =
                    key.is_some_and(|k| li.zip(submitted).is_some_and(|(li, sub)| sub.claim.lines[li].number == k));
                if is_priced {
                    units[u].services.insert(0, (si, s));
                    units[u].lines.insert(0, li);
                } else {
                    units[u].services.push((si, s));
                    units[u].lines.push(li);
                }
            }
            None => {
                if let Some(k) = key {
                    unit_of_line.insert(k, units.len());
                }
                units.push(Unit { services: vec![(si, s)], lines: vec![li] });
            }
        }
    }

    let rendering = |li: Option<usize>| -> String {
        if !pay.rendering_npi.is_empty() {
            return pay.rendering_npi.clone();
        }
        match (submitted, li) {
            (Some(sub), Some(li)) => sub.claim.rendering_npi(&sub.claim.lines[li]).to_string(),
            (Some(sub), None) => sub.claim.rendering_provider.as_ref().map(|p| p.id.clone()).unwrap_or_default(),
            _ => String::new(),
        }
    };

    let mut appeal_lines = Vec::new();
    for unit in &units {
        let first_li = unit.lines.first().copied().flatten();
        let rows = unit_rows(reference, opts, job, submitted, price.as_ref(), unit);
        for (row, li, disposition) in rows {
            if let Some(d) = disposition {
                if denials::is_denial(&d.class) {
                    out.denials.push(DenialRecord {
                        file: row.file.clone(),
                        payer_id: payer_id.to_string(),
                        claim_id: row.claim_id.clone(),
                        line: row.line,
                        code: row.code.clone(),
                        rendering_npi: rendering(li.or(first_li)),
                        paid_date: remit.payment_date,
                        disposition: d,
                    });
                }
            }
            if let (Some(cat), Some(var), Some(p), Some(li)) = (row.category, row.variance, &price, li) {
                if cat.is_underpayment() && var > Decimal::ZERO {
                    let sub_line = submitted.map(|s| &s.claim.lines[li]);
                    let lp = sub_line.and_then(|l| p.line(l.number)).cloned();
                    appeal_lines.push(AppealLine {
                        line: row.line.unwrap_or(0),
                        code: row.code.clone(),
                        modifiers: sub_line.map(|l| l.procedure.modifiers.clone()).unwrap_or_default(),
                        service_date: sub_line.and_then(|l| l.service_from),
                        category: cat.as_str().to_string(),
                        contract_rate: lp.as_ref().and_then(|l| l.fee),
                        expected_allowed: row.contracted.unwrap_or_default(),
                        patient_responsibility: row.patient_responsibility,
                        sequestration: row.sequestration,
                        expected_paid: row.paid.unwrap_or_default() + var,
                        paid: row.paid.unwrap_or_default(),
                        shortfall: var,
                        carc: row.carc.clone(),
                        price: lp,
                    });
                }
            }
            out.variances.push(row);
        }
    }

    if pay.services.is_empty() {
        out.variances.push(claim_level_row(reference, opts, job, submitted, price.as_ref()));
    }

    if let (Some(sub), true) = (submitted, !pay.services.is_empty()) {
        let used: HashSet<usize> = matches.iter().flatten().copied().collect();
        for (li, l) in sub.claim.lines.iter().enumerate() {
            if used.contains(&li) {
                continue;
            }
            let lp = price.as_ref().and_then(|p| p.line(l.number));
            out.variances.push(Variance {
                file: job.set.file.clone(),
                claim_id: pay.claim_id.clone(),
                payer_claim_id: pay.payer_claim_id.clone(),
                line: Some(l.number),
                code: l.procedure.code.clone(),
                modifiers: join_mods(&l.procedure.modifiers),
                billed: Some(cents(l.charge)),
                contracted: lp.and_then(|p| p.expected),
                allowed: None,
                paid: None,
                variance: None,
                category: None,
                carc: String::new(),
                class: String::new(),
                action: ACTION_MISSING_FROM_REMIT.into(),
                payer_id: payer_id.to_string(),
                patient_responsibility: Decimal::ZERO,
                sequestration: Decimal::ZERO,
                fix: "the remittance does not mention this submitted line: ask the payer for its status".into(),
                explain: lp.map(|p| p.explain()).unwrap_or_default(),
            });
        }
    }

    if let Some(sub) = submitted {
        if !appeal_lines.is_empty() && !job.superseded && !pay.is_reversal() {
            if !opts.explain {
                let full = price_claim(reference, &sub.claim, payer_id);
                for a in &mut appeal_lines {
                    a.price = full.line(a.line).cloned();
                }
            }
            let patient = sub.claim.patient.as_ref().unwrap_or(&sub.claim.subscriber);
            out.appeal = Some(AppealClaim {
                payer_id: payer_id.to_string(),
                payer_name: if remit.payer.last_or_org.is_empty() {
                    payer.name.clone()
                } else {
                    remit.payer.last_or_org.clone()
                },
                payer_claim_id: pay.payer_claim_id.clone(),
                claim_id: pay.claim_id.clone(),
                patient_name: format!("{} {}", patient.first, patient.last_or_org).trim().to_string(),
                member_id: sub.claim.subscriber.id.clone(),
                billing_name: sub.claim.billing_provider.last_or_org.clone(),
                billing_npi: sub.claim.billing_provider.id.clone(),
                rendering_npi: rendering(None),
                lines: appeal_lines,
            });
        }
        let pr = pay.pr_total().max(pay.patient_responsibility.unwrap_or_default());
        let primary = matches!(pay.status.as_str(), "1" | "4");
        if primary && !job.superseded && pr > Decimal::ZERO && pay.crossover.is_none() {
            if let Some(i) = sub.claim.other_payers.iter().position(|o| o.responsibility != "P") {
                out.secondary = Some(SecondaryDue {
                    submitted: sub.clone(),
                    payment: pay.clone(),
                    primary_payer_id: payer_id.to_string(),
                    adjudicated: remit.payment_date,
                    other_payer: i,
                });
            }
        }
    }
    out.variances.sort_by(row_order);
    out
}

/// Rows for one unit, with the submitted line index and the deciding disposition of each.
fn unit_rows(
    reference: &Reference,
    opts: &Options,
    job: &Job<'_>,
    submitted: Option<&SubmittedClaim>,
    price: Option<&ClaimPrice>,
    unit: &Unit<'_>,
) -> Vec<(Variance, Option<usize>, Option<Disposition>)> {
    let pay = job.payment;
    let payer_id = job.set.remittance.payer_id();
    let payer = reference.payer(payer_id);
    let adjs: Vec<&hipaa::Adjustment> = unit.services.iter().flat_map(|(_, s)| s.adjustments.iter()).collect();
    let pr = sum_where(&adjs, |a| a.group == "PR");
    let prior = sum_where(&adjs, |a| a.group != "PR" && a.reason == "23");
    let seq_taken = sum_where(&adjs, |a| a.reason == "253");
    let paid: Decimal = unit.services.iter().map(|(_, s)| s.paid).sum();
    let charge: Decimal = unit.services.iter().map(|(_, s)| s.charge).sum();
    let first_li = unit.lines.first().copied().flatten();
    let sub_line = |li: Option<usize>| submitted.zip(li).map(|(s, li)| &s.claim.lines[li]);
    let lp = |li: Option<usize>| sub_line(li).and_then(|l| price.and_then(|p| p.line(l.number)));
    let lead = unit.services.first().map(|(_, s)| *s);
    let (code, mods) = match (sub_line(first_li), lead) {
        (Some(l), _) => (l.procedure.code.as_str(), l.procedure.modifiers.as_slice()),
        (None, Some(s)) => (s.procedure.code.as_str(), s.procedure.modifiers.as_slice()),
        (None, None) => ("", &[][..]),
    };
    // Whether a bypass modifier was valid only matters for bundling denials.
    let bypass = adjs.iter().any(|a| BUNDLING_CARCS.contains(&a.reason.as_str()))
        && submitted.zip(first_li).is_some_and(|(s, li)| valid_bypass(reference, &s.claim, li));
    let remarks: Vec<String> =
        unit.services.iter().flat_map(|(_, s)| s.remarks.iter().cloned()).chain(pay.remarks.iter().cloned()).collect();
    let facts = LineFacts { payer_id, code, modifiers: mods, remarks: &remarks, valid_bypass: bypass };
    let disposition = denials::decide_refs(reference, adjs.iter().copied(), &facts);
    let contracted: Option<Decimal> = if submitted.is_some() && unit.lines.iter().all(Option::is_some) {
        unit.lines.iter().map(|li| lp(*li).and_then(|p| p.expected)).sum()
    } else {
        None
    };
    let info = reference.code(code);
    let denied = paid.is_zero()
        && !charge.is_zero()
        && (pay.is_denied() || disposition.as_ref().is_some_and(|d| denials::is_denial(&d.class)));
    let has_59 = adjs.iter().any(|a| a.reason == "59");
    let bundling = disposition.as_ref().is_some_and(|d| BUNDLING_CARCS.contains(&d.reason.as_str()));

    let mut category = None;
    let mut variance = None;
    let mut sequestration = Decimal::ZERO;
    let mut action = disposition.as_ref().map(|d| d.action.clone()).unwrap_or_else(|| "post".into());
    let mut fix = disposition.as_ref().map(|d| d.fix.clone()).unwrap_or_default();
    if pay.is_reversal() || job.superseded {
        category = Some(Category::Reversed);
        variance = Some(cents(Decimal::ZERO));
        action = "post".into();
        fix = if pay.is_reversal() {
            "reversal of an earlier payment: nets out with it".into()
        } else {
            "this payment was reversed by a later remittance: superseded by the correction".into()
        };
    } else if submitted.is_none() || unit.lines.iter().any(Option::is_none) {
        action = ACTION_UNMATCHED_REMIT.into();
        fix = "no submitted claim line matches this remitted line (CLP01, REF*6R, code + modifiers + date)".into();
    } else if let Some(contracted) = contracted {
        let before_seq = contracted - pr - prior;
        if payer.sequestration && before_seq > Decimal::ZERO {
            sequestration = percent(before_seq, 2);
        }
        let expected = before_seq - sequestration;
        if denied {
            variance = Some(cents(expected));
            category = Some(if bundling && bypass { Category::BundledUnderpaid } else { Category::Denied });
        } else {
            let v = cents(expected - paid);
            variance = Some(v);
            category = Some(if v.abs() <= opts.tolerance {
                // An expected reduction (CARC 59) that matches the contract needs no check.
                if action == "verify-reduction" {
                    action = "post".into();
                }
                Category::PaidAsContracted
            } else if v < Decimal::ZERO {
                action = "review-overpayment".into();
                fix = "paid above the contract: confirm the fee schedule; a refund may be due".into();
                Category::Overpaid
            } else if has_59 {
                Category::MprOverReduction
            } else if info.is_some_and(|c| c.family == "imaging-guidance") {
                Category::ImagingUnderpaid
            } else if bundling && bypass {
                Category::BundledUnderpaid
            } else {
                Category::ContractUnderpaid
            });
        }
        if let Some(c) = category.filter(|c| c.is_underpayment()) {
            if matches!(action.as_str(), "post" | "bill-patient") || c == Category::BundledUnderpaid {
                action = "appeal".into();
            }
            fix = format!(
                "{fix}{}paid below the contract: appeal with the computation",
                if fix.is_empty() { "" } else { "; " }
            );
        }
    } else {
        action = if denied { action } else { ACTION_MANUAL_REVIEW.into() };
        category = denied.then_some(Category::Denied);
        let why =
            unit.lines.iter().filter_map(|li| lp(*li).and_then(|p| p.review.clone())).collect::<Vec<_>>().join("; ");
        fix = if why.is_empty() { fix } else { why };
    }

    let explain_unit = |li: Option<usize>| -> String {
        if !opts.explain {
            return String::new();
        }
        let mut s = lp(li).map(|p| p.explain()).unwrap_or_default();
        let reversed = category == Some(Category::Reversed);
        if let (Some(c), Some(v), false) = (contracted, variance, reversed) {
            if !s.is_empty() {
                s.push(' ');
            }
            s.push_str(&format!(
                "Expected payment {} = {} - patient responsibility {}{}{}; paid {}; variance {}.",
                crate::pricing::money(c - pr - prior - sequestration),
                crate::pricing::money(c),
                crate::pricing::money(pr),
                if prior.is_zero() {
                    String::new()
                } else {
                    format!(" - prior payer {}", crate::pricing::money(prior))
                },
                if sequestration.is_zero() {
                    String::new()
                } else {
                    format!(
                        " - sequestration {} (taken {})",
                        crate::pricing::money(sequestration),
                        crate::pricing::money(seq_taken)
                    )
                },
                crate::pricing::money(paid),
                crate::pricing::money(v)
            ));
        }
        s
    };

    // One row per service payment; a pair's amounts and variance sit on its priced line.
    let mut rows = Vec::new();
    for (k, (si, s)) in unit.services.iter().enumerate() {
        let li = unit.lines[k];
        let l = sub_line(li);
        let is_lead = k == 0;
        let s_adjs: Vec<&hipaa::Adjustment> = s.adjustments.iter().collect();
        let allowed =
            s.allowed.unwrap_or_else(|| s.paid + sum_where(&s_adjs, |a| a.group == "PR" || a.reason == "253"));
        let row_disp = if unit.services.len() == 1 {
            disposition.clone()
        } else {
            denials::decide(reference, &s.adjustments, &facts).or_else(|| disposition.clone())
        };
        rows.push((
            Variance {
                file: job.set.file.clone(),
                claim_id: pay.claim_id.clone(),
                payer_claim_id: pay.payer_claim_id.clone(),
                line: Some(l.map(|l| l.number).unwrap_or(*si as u32 + 1)),
                code: l.map(|l| l.procedure.code.clone()).unwrap_or_else(|| s.procedure.code.clone()),
                modifiers: join_mods(l.map(|l| &l.procedure.modifiers).unwrap_or(&s.procedure.modifiers)),
                billed: Some(cents(s.charge)),
                contracted: if is_lead { contracted.map(cents) } else { lp(li).and_then(|p| p.expected).map(cents) },
                allowed: Some(cents(allowed)),
                paid: Some(cents(s.paid)),
                variance: if is_lead { variance } else { variance.map(|_| cents(Decimal::ZERO)) },
                category,
                carc: row_disp.as_ref().map(|d| d.carc.clone()).unwrap_or_default(),
                class: row_disp.as_ref().map(|d| d.class.clone()).unwrap_or_default(),
                action: action.clone(),
                payer_id: payer_id.to_string(),
                patient_responsibility: if is_lead { pr } else { Decimal::ZERO },
                sequestration: if is_lead { sequestration } else { Decimal::ZERO },
                fix: fix.clone(),
                explain: explain_unit(li),
            },
            li,
            row_disp,
        ));
    }
    rows
}

/// A claim payment without service lines: compared at claim level.
fn claim_level_row(
    reference: &Reference,
    opts: &Options,
    job: &Job<'_>,
    submitted: Option<&SubmittedClaim>,
    price: Option<&ClaimPrice>,
) -> Variance {
    let pay = job.payment;
    let payer_id = job.set.remittance.payer_id();
    let payer = reference.payer(payer_id);
    let adjs: Vec<&hipaa::Adjustment> = pay.adjustments.iter().collect();
    let pr = sum_where(&adjs, |a| a.group == "PR").max(pay.patient_responsibility.unwrap_or_default());
    let prior = sum_where(&adjs, |a| a.group != "PR" && a.reason == "23");
    let facts = LineFacts { payer_id, code: "", modifiers: &[], remarks: &pay.remarks, valid_bypass: false };
    let disposition = denials::decide(reference, &pay.adjustments, &facts);
    let contracted = price.and_then(ClaimPrice::total);
    let mut category = None;
    let mut variance = None;
    let mut sequestration = Decimal::ZERO;
    let mut action = disposition.as_ref().map(|d| d.action.clone()).unwrap_or_else(|| "post".into());
    if pay.is_reversal() || job.superseded {
        category = Some(Category::Reversed);
        variance = Some(cents(Decimal::ZERO));
        action = "post".into();
    } else if submitted.is_none() {
        action = ACTION_UNMATCHED_REMIT.into();
    } else if let Some(c) = contracted {
        let before = c - pr - prior;
        if payer.sequestration && before > Decimal::ZERO {
            sequestration = percent(before, 2);
        }
        let expected = before - sequestration;
        let denied = pay.paid.is_zero()
            && (pay.is_denied() || disposition.as_ref().is_some_and(|d| denials::is_denial(&d.class)));
        let v = cents(if denied { expected } else { expected - pay.paid });
        variance = Some(v);
        category = Some(if denied {
            Category::Denied
        } else if v.abs() <= opts.tolerance {
            Category::PaidAsContracted
        } else if v < Decimal::ZERO {
            action = "review-overpayment".into();
            Category::Overpaid
        } else {
            action = "appeal".into();
            Category::ContractUnderpaid
        });
    } else {
        action = ACTION_MANUAL_REVIEW.into();
    }
    Variance {
        file: job.set.file.clone(),
        claim_id: pay.claim_id.clone(),
        payer_claim_id: pay.payer_claim_id.clone(),
        line: None,
        code: String::new(),
        modifiers: String::new(),
        billed: Some(cents(pay.charge)),
        contracted: contracted.map(cents),
        allowed: None,
        paid: Some(cents(pay.paid)),
        variance,
        category,
        carc: disposition.as_ref().map(|d| d.carc.clone()).unwrap_or_default(),
        class: disposition.as_ref().map(|d| d.class.clone()).unwrap_or_default(),
        action,
        payer_id: payer_id.to_string(),
        patient_responsibility: pr,
        sequestration,
        fix: disposition.map(|d| d.fix).unwrap_or_default(),
        explain: price.map(ClaimPrice::explain).unwrap_or_default(),
    }
}
