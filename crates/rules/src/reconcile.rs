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

use crate::denials::{
    self, carc_text, AppealClaim, AppealLine, Decision, DenialRecord, Fix, LineFacts, BUNDLING_CARCS,
};
use crate::pricing::{cents, explain_all, find, percent, price_lines, price_lines_into, total, Priced};
use crate::reference::{FxHasher, HashMap, PayerRules, Reference};
use crate::text::{InlineWriter, Interner, Shared};
use chrono::NaiveDate;
use hipaa::Text;
use hipaa::{Adjustment, Claim, ClaimPayment, IssueCode, Remittance, ServicePayment, Transaction};
use rayon::prelude::*;
use rust_decimal::Decimal;
use serde::Serialize;
use std::borrow::Cow;
use std::cmp::Ordering;
use std::collections::HashSet;
use std::hash::BuildHasherDefault;
use std::io::Read;
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
    pub file: Shared,
    pub claim_id: Shared,
    pub payer_claim_id: Shared,
    /// LX01 of the submitted line; the SVC ordinal when the line matched no submitted line;
    /// null for claim-level rows.
    pub line: Option<u32>,
    pub code: Shared,
    /// Modifiers joined with `:` (`50:RT`).
    pub modifiers: Shared,
    pub billed: Option<Decimal>,
    pub contracted: Option<Decimal>,
    pub allowed: Option<Decimal>,
    pub paid: Option<Decimal>,
    pub variance: Option<Decimal>,
    /// `None` for rows that could not be categorised (unmatched, unpriced); `action` says why.
    pub category: Option<Category>,
    pub carc: Shared,
    pub class: Shared,
    pub action: Shared,
    #[serde(skip)]
    pub payer_id: Shared,
    #[serde(skip)]
    pub patient_responsibility: Decimal,
    #[serde(skip)]
    pub sequestration: Decimal,
    #[serde(skip)]
    pub fix: Shared,
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

type FxHashSet<T> = HashSet<T, BuildHasherDefault<FxHasher>>;

impl ClaimIndex {
    pub fn new(claims: impl IntoIterator<Item = SubmittedClaim>) -> ClaimIndex {
        let mut ix = ClaimIndex::default();
        ix.extend(claims);
        ix
    }

    pub fn extend(&mut self, claims: impl IntoIterator<Item = SubmittedClaim>) {
        for c in claims {
            match self.by_id.get(c.claim.claim_id.as_str()) {
                Some(&i) => self.claims[i] = c,
                None => {
                    self.by_id.insert(c.claim.claim_id.to_string(), self.claims.len());
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

/// Hands each transaction set of a stream to `f` as it is read: one set in memory at a time.
fn for_each_set(file: &str, reader: impl Read, mut f: impl FnMut(OwnedSet)) -> Result<(), ReadError> {
    for ev in StreamReader::new(reader) {
        if let Event::Set(s) = ev.map_err(|source| ReadError::Io { file: file.to_string(), source })? {
            f(s);
        }
    }
    Ok(())
}

/// Reads the 835 sets of a file in memory; other sets are ignored.
pub fn read_remits(file: &str, bytes: &[u8]) -> Result<Vec<RemitSet>, ReadError> {
    read_remits_from(file, bytes)
}

/// Reads the 835 sets of a stream (a `File`, not read whole): each set is parsed as it
/// arrives and only its model is kept; other sets are ignored.
pub fn read_remits_from(file: &str, reader: impl Read) -> Result<Vec<RemitSet>, ReadError> {
    let mut out = Vec::new();
    for_each_set(file, reader, |set| {
        let parsed = hipaa::parse_set(&set);
        if let Transaction::Remittance(r) = parsed.transaction {
            let balancing =
                parsed.issues.iter().filter(|i| i.code == IssueCode::Unbalanced).map(|i| i.to_string()).collect();
            out.push(RemitSet { file: file.to_string(), control: parsed.control, remittance: r, balancing });
        }
    })?;
    if out.is_empty() {
        return Err(ReadError::Empty { file: file.to_string(), what: "835" });
    }
    Ok(out)
}

/// Reads the claims of the 837P sets of a file in memory.
pub fn read_claims(file: &str, bytes: &[u8]) -> Result<Vec<SubmittedClaim>, ReadError> {
    read_claims_from(file, bytes)
}

/// Reads the claims of the 837P sets of a stream (a `File`, not read whole). Each claim keeps
/// its set (shared), which secondary claims are written from.
pub fn read_claims_from(file: &str, reader: impl Read) -> Result<Vec<SubmittedClaim>, ReadError> {
    let mut out = Vec::new();
    let mut any = false;
    for_each_set(file, reader, |set| {
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
    })?;
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
    let mut out = Vec::new();
    match_lines_into(claim, payment, &mut Vec::new(), &mut out);
    out
}

/// [`match_lines`] into buffers the caller reuses from claim to claim.
fn match_lines_into(claim: &Claim, payment: &ClaimPayment, used: &mut Vec<bool>, out: &mut Vec<Option<usize>>) {
    used.clear();
    used.resize(claim.lines.len(), false);
    out.clear();
    out.resize(payment.services.len(), None);
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
        let date = s.service_date.or(payment.service_from);
        let found = claim.lines.iter().enumerate().position(|(i, l)| {
            !used[i]
                && l.procedure.code == proc.code
                && same_modifiers(&l.procedure.modifiers, &proc.modifiers)
                && (date.is_none() || l.service_from.is_none() || l.service_from == date)
        });
        if let Some(li) = found {
            used[li] = true;
            out[si] = Some(li);
        }
    }
}

/// The same modifiers in any order (equal as sorted lists), without sorting copies.
fn same_modifiers(a: &[Text], b: &[Text]) -> bool {
    a.len() == b.len() && a.iter().all(|m| a.iter().filter(|x| *x == m).count() == b.iter().filter(|x| *x == m).count())
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
    let bypass =
        |m: &Text| matches!(reference.modifier_kind(m), "distinct" | "anatomic" | "global" | "repeat" | "em-distinct");
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

/// Modifiers joined with `:`, inline when they fit, else one copy per chunk.
fn join_mods(intern: &mut Interner<'_>, m: &[Text]) -> Shared {
    let mut w = InlineWriter::new();
    for (k, x) in m.iter().enumerate() {
        if k > 0 {
            w.push(":");
        }
        w.push(x);
    }
    if let Some(t) = w.finish() {
        return t;
    }
    intern.build(|s| {
        for (k, x) in m.iter().enumerate() {
            if k > 0 {
                s.push(':');
            }
            s.push_str(x);
        }
    })
}

/// One remitted claim payment with where it came from.
struct Job<'a> {
    set: &'a RemitSet,
    /// The settings of the set's payer.
    payer: &'a PayerRules,
    /// The set's file name ranked among the inputs' file names, so jobs sort without comparing
    /// the names themselves.
    file_rank: u32,
    /// [`prefix_key`] of CLP01.
    claim_key: u128,
    payment: &'a ClaimPayment,
    superseded: bool,
}

/// What one chunk of jobs produced, rows in output order within each job.
#[derive(Default)]
struct Outcome {
    variances: Vec<Variance>,
    denials: Vec<DenialRecord>,
    appeals: Vec<AppealClaim>,
    secondary: Vec<SecondaryDue>,
    /// A job's first row sorts before the previous job's last (a claim paid twice in one set).
    unordered: bool,
}

/// The items of several vectors in order, as an indexed parallel iterator.
///
/// Why: the chunks of jobs make their rows in vectors of their own, and appending them to the
/// result one after the other copied every row (a few hundred bytes each) into freshly faulted
/// memory on one thread, a tenth of a run. Collected with `par_extend`, each thread moves its
/// own part of the items straight into the result (rayon splits the target at the same index
/// as the producer below).
struct Concat<T> {
    parts: Vec<Vec<T>>,
    len: usize,
}

impl<T> Concat<T> {
    fn new(parts: Vec<Vec<T>>) -> Concat<T> {
        let len = parts.iter().map(Vec::len).sum();
        Concat { parts, len }
    }
}

impl<T: Send> ParallelIterator for Concat<T> {
    type Item = T;

    fn drive_unindexed<C: rayon::iter::plumbing::UnindexedConsumer<T>>(self, consumer: C) -> C::Result {
        rayon::iter::plumbing::bridge(self, consumer)
    }

    fn opt_len(&self) -> Option<usize> {
        Some(self.len)
    }
}

impl<T: Send> IndexedParallelIterator for Concat<T> {
    fn len(&self) -> usize {
        self.len
    }

    fn drive<C: rayon::iter::plumbing::Consumer<T>>(self, consumer: C) -> C::Result {
        rayon::iter::plumbing::bridge(self, consumer)
    }

    fn with_producer<CB: rayon::iter::plumbing::ProducerCallback<T>>(self, callback: CB) -> CB::Output {
        callback.callback(self)
    }
}

impl<T: Send> rayon::iter::plumbing::Producer for Concat<T> {
    type Item = T;
    type IntoIter = ConcatIter<T>;

    fn into_iter(self) -> ConcatIter<T> {
        let mut parts = self.parts.into_iter();
        let front = parts.next().unwrap_or_default().into_iter();
        let back = parts.next_back().unwrap_or_default().into_iter();
        ConcatIter { front, parts, back, len: self.len }
    }

    /// Splits between two parts, or splits the part the index falls in (moving its tail, at
    /// most one chunk's items).
    fn split_at(mut self, index: usize) -> (Concat<T>, Concat<T>) {
        let mut before = 0;
        let mut k = 0;
        while k < self.parts.len() && before + self.parts[k].len() <= index {
            before += self.parts[k].len();
            k += 1;
        }
        let mut right = self.parts.split_off(k);
        if before < index {
            let tail = right[0].split_off(index - before);
            self.parts.push(std::mem::replace(&mut right[0], tail));
        }
        (Concat { parts: self.parts, len: index }, Concat { parts: right, len: self.len - index })
    }
}

/// [`Concat`]'s items on one thread.
struct ConcatIter<T> {
    front: std::vec::IntoIter<T>,
    parts: std::vec::IntoIter<Vec<T>>,
    back: std::vec::IntoIter<T>,
    len: usize,
}

impl<T> Iterator for ConcatIter<T> {
    type Item = T;

    fn next(&mut self) -> Option<T> {
        loop {
            if let Some(t) = self.front.next() {
                self.len -= 1;
                return Some(t);
            }
            match self.parts.next() {
                Some(p) => self.front = p.into_iter(),
                None => {
                    let t = self.back.next()?;
                    self.len -= 1;
                    return Some(t);
                }
            }
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.len, Some(self.len))
    }
}

impl<T> DoubleEndedIterator for ConcatIter<T> {
    fn next_back(&mut self) -> Option<T> {
        loop {
            if let Some(t) = self.back.next_back() {
                self.len -= 1;
                return Some(t);
            }
            match self.parts.next_back() {
                Some(p) => self.back = p.into_iter(),
                None => {
                    let t = self.front.next_back()?;
                    self.len -= 1;
                    return Some(t);
                }
            }
        }
    }
}

impl<T> ExactSizeIterator for ConcatIter<T> {}

/// Buffers reused from claim to claim within a chunk of jobs.
#[derive(Default)]
struct Scratch<'a> {
    price: Vec<Priced<'a>>,
    matches: Vec<Option<usize>>,
    used: Vec<bool>,
    members: Vec<Member<'a>>,
    pairs: Vec<(u32, usize)>,
    /// One copy per chunk of each long code, modifier list, CARC, class, action and fix text.
    intern: Interner<'a>,
    /// The file and payer of each set the chunk's jobs came from (jobs in claim order take
    /// turns among a run's sets, so only keeping the last one remade them for most jobs).
    sets: Vec<(&'a RemitSet, Shared, Shared)>,
}

/// The texts every row of a claim payment carries.
struct Ids {
    file: Shared,
    payer_id: Shared,
    claim_id: Shared,
    payer_claim_id: Shared,
}

/// Jobs per parallel task: enough to amortize the task, few enough to balance two threads.
const CHUNK: usize = 256;

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
    // Every pass over the claim payments below runs on the pool: each payment is its own few
    // cache lines, so a serial pass is mostly waiting for memory.
    let reversed: FxHashSet<(&str, &str)> = good
        .par_iter()
        .flat_map_iter(|s| s.remittance.claims.iter())
        .filter(|c| c.is_reversal())
        .map(|c| (c.claim_id.as_str(), c.payer_claim_id.as_str()))
        .collect();
    let mut files: Vec<&str> = good.iter().map(|s| s.file.as_str()).collect();
    files.sort_unstable();
    files.dedup();
    let mut jobs: Vec<Job<'_>> = Vec::with_capacity(good.iter().map(|s| s.remittance.claims.len()).sum());
    jobs.par_extend(good.par_iter().flat_map_iter(|s| {
        let file_rank = files.partition_point(|f| *f < s.file.as_str()) as u32;
        let payer = reference.payer(s.remittance.payer_id());
        let reversed = &reversed;
        s.remittance.claims.iter().map(move |c| Job {
            set: s,
            payer,
            file_rank,
            claim_key: prefix_key(&c.claim_id),
            payment: c,
            superseded: !reversed.is_empty()
                && !c.is_reversal()
                && reversed.contains(&(c.claim_id.as_str(), c.payer_claim_id.as_str())),
        })
    }));
    // Jobs in output order (file, CLP01, CLP07, position), so the concatenated rows come out
    // sorted without moving them. Stable, as the rows' own sort is.
    jobs.par_sort_by(|a, b| {
        (a.file_rank, a.claim_key).cmp(&(b.file_rank, b.claim_key)).then_with(|| {
            (&a.payment.claim_id, &a.payment.payer_claim_id, a.payment.segment).cmp(&(
                &b.payment.claim_id,
                &b.payment.payer_claim_id,
                b.payment.segment,
            ))
        })
    });
    let outcomes: Vec<Outcome> = jobs
        .par_chunks(CHUNK)
        .map(|chunk| {
            let mut o = Outcome::default();
            let rows = chunk.iter().map(|j| j.payment.services.len().max(1)).sum();
            o.variances.reserve(rows);
            // At most one denial record per row and one appeal per claim payment.
            o.denials.reserve(rows);
            o.appeals.reserve(chunk.len());
            let mut scratch = Scratch::default();
            for j in chunk {
                reconcile_payment(reference, claims, opts, j, &mut o, &mut scratch);
            }
            o
        })
        .collect();
    // Net payment per claim: CLP01 in job order is sorted when there is one file.
    let mut net: Vec<(u128, &str, Decimal)> = Vec::new();
    jobs.par_iter().map(|j| (j.claim_key, j.payment.claim_id.as_str(), j.payment.paid)).collect_into_vec(&mut net);
    let by_claim = |a: &(u128, &str, Decimal), b: &(u128, &str, Decimal)| a.0.cmp(&b.0).then_with(|| a.1.cmp(b.1));
    if !net.is_sorted_by(|a, b| by_claim(a, b) != Ordering::Greater) {
        net.par_sort_unstable_by(by_claim);
    }
    net.dedup_by(|later, kept| {
        let same = later.0 == kept.0 && later.1 == kept.1;
        if same {
            kept.2 += later.2;
        }
        same
    });
    let mut unordered = false;
    let mut last: Option<&Variance> = None;
    for o in &outcomes {
        unordered |= o.unordered;
        if let (Some(last), Some(first)) = (last, o.variances.first()) {
            unordered |= row_order(last, first) == Ordering::Greater;
        }
        last = o.variances.last().or(last);
    }
    let (mut variances, mut denials, mut appeals) = (Vec::new(), Vec::new(), Vec::new());
    for o in outcomes {
        variances.push(o.variances);
        denials.push(o.denials);
        appeals.push(o.appeals);
        out.secondary.extend(o.secondary);
    }
    rayon::join(
        || out.variances.par_extend(Concat::new(variances)),
        || {
            rayon::join(
                || out.denials.par_extend(Concat::new(denials)),
                || out.appeals.par_extend(Concat::new(appeals)),
            )
        },
    );
    if opts.report_unremitted {
        let remitted = |id: &str| {
            let key = prefix_key(id);
            net.binary_search_by(|(k, c, _)| k.cmp(&key).then_with(|| (*c).cmp(id))).is_ok()
        };
        let unremitted: Vec<Variance> = claims
            .claims
            .par_iter()
            .filter(|c| !remitted(c.claim.claim_id.as_str()))
            .map(|c| unremitted_row(reference, opts, c))
            .collect();
        unordered |= !unremitted.is_empty();
        out.variances.extend(unremitted);
    }
    for s in &good {
        for p in &s.remittance.provider_adjustments {
            out.provider_adjustments.push(ProviderAdjustmentRow {
                file: s.file.clone(),
                payer_id: s.remittance.payer_id().to_string(),
                provider_id: p.provider_id.to_string(),
                fiscal_period_end: p.fiscal_period_end,
                reason: p.reason.to_string(),
                description: plb_description(&p.reason),
                reference: p.reference.to_string(),
                amount: p.amount,
            });
        }
    }
    // One String per remitted claim: made on the pool's threads.
    net.par_iter().map(|&(_, k, v)| (k.to_string(), v)).collect_into_vec(&mut out.net_paid);
    // Rows of one claim payment are sorted where they are made, jobs run in output order and
    // every boundary between jobs was compared: only unremitted claims (or a claim paid twice
    // in one set) can leave this out of order.
    if unordered && out.variances.windows(2).any(|w| row_order(&w[0], &w[1]) == Ordering::Greater) {
        out.variances.par_sort_by(row_order);
    }
    let denial_order =
        |a: &DenialRecord, b: &DenialRecord| (&a.file, &a.claim_id, a.line).cmp(&(&b.file, &b.claim_id, b.line));
    if !out.denials.is_sorted_by(|a, b| denial_order(a, b) != Ordering::Greater) {
        out.denials.par_sort_by(denial_order);
    }
    out.appeals.par_sort_by(|a, b| (&a.payer_id, &a.payer_claim_id).cmp(&(&b.payer_id, &b.payer_claim_id)));
    out.secondary.sort_by(|a, b| a.submitted.claim.claim_id.cmp(&b.submitted.claim.claim_id));
    out.provider_adjustments
        .sort_by(|a, b| (&a.file, &a.provider_id, &a.reason).cmp(&(&b.file, &b.provider_id, &b.reason)));
    out
}

/// The first 16 bytes of `s` as a big-endian number, zero-padded: where two keys differ they
/// order as their strings do, so sorts compare the strings themselves only on equal keys.
fn prefix_key(s: &str) -> u128 {
    let mut b = [0u8; 16];
    let n = s.len().min(16);
    b[..n].copy_from_slice(&s.as_bytes()[..n]);
    u128::from_be_bytes(b)
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

/// [`row_order`] for rows of one claim payment (same file, CLP01 and CLP07).
fn line_order(a: &Variance, b: &Variance) -> Ordering {
    (a.line, &a.code, &a.modifiers).cmp(&(b.line, &b.code, &b.modifiers))
}

fn unremitted_row(reference: &Reference, opts: &Options, c: &SubmittedClaim) -> Variance {
    let price = price_lines(reference, &c.claim, &c.claim.payer.id, opts.explain);
    let empty = Shared::from("");
    Variance {
        file: c.file.as_str().into(),
        claim_id: c.claim.claim_id.as_str().into(),
        payer_claim_id: empty.clone(),
        line: None,
        code: empty.clone(),
        modifiers: empty.clone(),
        billed: Some(cents(c.claim.charge)),
        contracted: total(&price),
        allowed: None,
        paid: None,
        variance: None,
        category: None,
        carc: empty.clone(),
        class: empty,
        action: ACTION_AWAIT_REMIT.into(),
        payer_id: c.claim.payer.id.as_str().into(),
        patient_responsibility: Decimal::ZERO,
        sequestration: Decimal::ZERO,
        fix: "no remittance for this claim in the inputs".into(),
        explain: explain_all(&price),
    }
}

/// One service payment of a unit. A unit is a group of service payments compared as one: a
/// single line, or the two lines of an RT/LT pair priced as one bilateral procedure.
#[derive(Clone, Copy)]
struct Member<'a> {
    /// Units are numbered in the order of their first service payment.
    unit: usize,
    /// The pair's priced line, which leads its unit so its row carries the pair's amounts.
    lead: bool,
    si: usize,
    s: &'a ServicePayment,
    /// The submitted line index.
    li: Option<usize>,
}

fn reconcile_payment<'a>(
    reference: &'a Reference,
    claims: &'a ClaimIndex,
    opts: &Options,
    job: &Job<'a>,
    out: &mut Outcome,
    scratch: &mut Scratch<'a>,
) {
    let pay = job.payment;
    let remit = &job.set.remittance;
    let payer_id = remit.payer_id();
    let payer = job.payer;
    let submitted = claims.get(&pay.claim_id);
    let (file, payer_shared) = match scratch.sets.iter().find(|(set, ..)| std::ptr::eq(*set, job.set)) {
        Some((_, f, p)) => (f.clone(), p.clone()),
        None => {
            let (f, p) = (Shared::from(job.set.file.as_str()), Shared::from(payer_id));
            // A few sets at a time: a chunk can take its jobs from hundreds of small files.
            if scratch.sets.len() == 8 {
                scratch.sets.clear();
            }
            scratch.sets.push((job.set, f.clone(), p.clone()));
            (f, p)
        }
    };
    let ids = Ids {
        file,
        payer_id: payer_shared,
        claim_id: pay.claim_id.as_str().into(),
        payer_claim_id: pay.payer_claim_id.as_str().into(),
    };
    let intern = &mut scratch.intern;
    let price = submitted.map(|s| {
        price_lines_into(&mut scratch.price, reference, &s.claim, payer_id, opts.explain);
        scratch.price.as_slice()
    });
    let matches = &mut scratch.matches;
    match submitted {
        Some(s) => match_lines_into(&s.claim, pay, &mut scratch.used, matches),
        None => {
            matches.clear();
            matches.resize(pay.services.len(), None);
        }
    }
    let matches = &*matches;
    let start = out.variances.len();

    // Group service payments into units: RT/LT partners join the unit of their priced line.
    let pairs = &mut scratch.pairs;
    pairs.clear();
    let members = &mut scratch.members;
    members.clear();
    let mut units = 0;
    for (si, s) in pay.services.iter().enumerate() {
        let li = matches[si];
        let number = li.zip(submitted).map(|(li, sub)| sub.claim.lines[li].number);
        let key = match (number, price) {
            (Some(n), Some(p)) => find(p, n).and_then(|lp| lp.priced_with.or(lp.partner.map(|_| n))),
            _ => None,
        };
        let (unit, lead) = match key.and_then(|k| pairs.iter().find(|(pk, _)| *pk == k)) {
            Some(&(k, u)) => (u, number == Some(k)),
            None => {
                units += 1;
                if let Some(k) = key {
                    pairs.push((k, units - 1));
                }
                (units - 1, false)
            }
        };
        members.push(Member { unit, lead, si, s, li });
    }
    if units < members.len() {
        members.sort_by_key(|m| (m.unit, !m.lead, m.si));
    }

    let rendering = |li: Option<usize>| -> &str {
        if !pay.rendering_npi.is_empty() {
            return &pay.rendering_npi;
        }
        match (submitted, li) {
            (Some(sub), Some(li)) => sub.claim.rendering_npi(&sub.claim.lines[li]),
            (Some(sub), None) => sub.claim.rendering_provider.as_ref().map_or("", |p| p.id.as_str()),
            _ => "",
        }
    };

    let mut appeal_lines = Vec::new();
    for unit in members.chunk_by(|a, b| a.unit == b.unit) {
        let first_li = unit[0].li;
        let rows = &mut out.variances;
        unit_rows(reference, opts, job, submitted, price, unit, &ids, intern, rows, |row, li, disposition, intern| {
            if let Some(d) = disposition.filter(|d| denials::is_denial(d.class)) {
                out.denials.push(DenialRecord {
                    file: row.file.clone(),
                    payer_id: ids.payer_id.clone(),
                    claim_id: row.claim_id.clone(),
                    line: row.line,
                    code: row.code.clone(),
                    rendering_npi: intern.get(rendering(li.or(first_li))),
                    paid_date: remit.payment_date,
                    disposition: d.to_disposition_in(intern),
                });
            }
            if let (Some(cat), Some(var), Some(p), Some(li)) = (row.category, row.variance, price, li) {
                if cat.is_underpayment() && var > Decimal::ZERO {
                    let sub_line = submitted.map(|s| &s.claim.lines[li]);
                    let lp = sub_line.and_then(|l| find(p, l.number));
                    let modifiers = intern.modifiers(sub_line.map_or(&[][..], |l| &l.procedure.modifiers));
                    appeal_lines.push(AppealLine {
                        line: row.line.unwrap_or(0),
                        code: row.code.clone(),
                        modifiers,
                        service_date: sub_line.and_then(|l| l.service_from),
                        category: intern.get_at(cat.as_str()),
                        contract_rate: lp.and_then(|l| l.fee),
                        expected_allowed: row.contracted.unwrap_or_default(),
                        patient_responsibility: row.patient_responsibility,
                        sequestration: row.sequestration,
                        expected_paid: row.paid.unwrap_or_default() + var,
                        paid: row.paid.unwrap_or_default(),
                        shortfall: var,
                        carc: row.carc.clone(),
                        // The letter shows the line's steps whether or not the rows explain.
                        price: lp.map(|p| p.to_line_price_wanted(intern.modifiers(p.modifiers))),
                    });
                }
            }
        });
    }

    if pay.services.is_empty() {
        out.variances.push(claim_level_row(reference, opts, job, submitted, price, &ids, intern));
    }

    if let (Some(sub), true) = (submitted, !pay.services.is_empty()) {
        for (li, l) in sub.claim.lines.iter().enumerate() {
            if matches.contains(&Some(li)) {
                continue;
            }
            let lp = price.and_then(|p| find(p, l.number));
            out.variances.push(Variance {
                file: ids.file.clone(),
                claim_id: ids.claim_id.clone(),
                payer_claim_id: ids.payer_claim_id.clone(),
                line: Some(l.number),
                code: intern.get(&l.procedure.code),
                modifiers: join_mods(intern, &l.procedure.modifiers),
                billed: Some(cents(l.charge)),
                contracted: lp.and_then(|p| p.expected),
                allowed: None,
                paid: None,
                variance: None,
                category: None,
                carc: Shared::empty(),
                class: Shared::empty(),
                action: intern.get_at(ACTION_MISSING_FROM_REMIT),
                payer_id: ids.payer_id.clone(),
                patient_responsibility: Decimal::ZERO,
                sequestration: Decimal::ZERO,
                fix: intern.get_at("the remittance does not mention this submitted line: ask the payer for its status"),
                explain: lp.map(|p| p.explain()).unwrap_or_default(),
            });
        }
    }

    if let Some(sub) = submitted {
        if !appeal_lines.is_empty() && !job.superseded && !pay.is_reversal() {
            let patient = sub.claim.patient.as_ref().unwrap_or(&sub.claim.subscriber);
            out.appeals.push(AppealClaim {
                payer_id: ids.payer_id.clone(),
                payer_name: intern.get_at(if remit.payer.last_or_org.is_empty() {
                    &payer.name
                } else {
                    &remit.payer.last_or_org
                }),
                payer_claim_id: ids.payer_claim_id.clone(),
                claim_id: ids.claim_id.clone(),
                patient_name: if patient.first.is_empty() && patient.last_or_org.is_empty() {
                    Shared::empty()
                } else {
                    Shared::from(format!("{} {}", patient.first, patient.last_or_org).trim())
                },
                member_id: intern.get(&sub.claim.subscriber.id),
                billing_name: intern.get(&sub.claim.billing_provider.last_or_org),
                billing_npi: intern.get(&sub.claim.billing_provider.id),
                rendering_npi: intern.get(rendering(None)),
                lines: appeal_lines,
            });
        }
        // The claim names a payer to bill next: only then is the patient responsibility summed.
        let next = sub.claim.other_payers.iter().position(|o| o.responsibility != "P");
        let primary = matches!(pay.status.as_str(), "1" | "4");
        if next.is_some() && primary && !job.superseded && pay.crossover.is_none() {
            let pr = pay.pr_total().max(pay.patient_responsibility.unwrap_or_default());
            if let (true, Some(i)) = (pr > Decimal::ZERO, next) {
                out.secondary.push(SecondaryDue {
                    submitted: sub.clone(),
                    payment: pay.clone(),
                    primary_payer_id: payer_id.to_string(),
                    adjudicated: remit.payment_date,
                    other_payer: i,
                });
            }
        }
    }
    let rows = &mut out.variances[start..];
    if !rows.is_sorted_by(|a, b| line_order(a, b) != Ordering::Greater) {
        rows.sort_by(line_order);
    }
    if start > 0 && start < out.variances.len() {
        out.unordered |= row_order(&out.variances[start - 1], &out.variances[start]) == Ordering::Greater;
    }
}

/// The sum of the amounts of the adjustments that pass `f`.
fn sum_where<'a>(adjs: impl Iterator<Item = &'a Adjustment>, f: impl Fn(&Adjustment) -> bool) -> Decimal {
    adjs.filter(|a| f(a)).map(|a| a.amount).sum()
}

/// Rows for one unit, pushed to `rows` and each handed to `emit` with its submitted line
/// index and deciding disposition.
#[allow(clippy::too_many_arguments)]
fn unit_rows<'a>(
    reference: &'a Reference,
    opts: &Options,
    job: &Job<'a>,
    submitted: Option<&'a SubmittedClaim>,
    price: Option<&[Priced<'_>]>,
    unit: &[Member<'a>],
    ids: &Ids,
    intern: &mut Interner<'a>,
    rows: &mut Vec<Variance>,
    mut emit: impl FnMut(&Variance, Option<usize>, Option<Decision<'a, 'a>>, &mut Interner<'a>),
) {
    let pay = job.payment;
    let payer_id = job.set.remittance.payer_id();
    let payer = job.payer;
    let adjs = || unit.iter().flat_map(|m| m.s.adjustments.iter());
    // One pass over the adjustments for every sum and flag (each sum adds in the same order
    // as a sum of its own would).
    let (mut pr, mut prior, mut seq_taken) = (Decimal::ZERO, Decimal::ZERO, Decimal::ZERO);
    let (mut has_59, mut any_bundling) = (false, false);
    for a in adjs() {
        let reason = a.reason.as_str();
        if a.group == "PR" {
            pr += a.amount;
        } else if reason == "23" {
            prior += a.amount;
        }
        if reason == "253" {
            seq_taken += a.amount;
        }
        has_59 |= reason == "59";
        any_bundling |= BUNDLING_CARCS.contains(&reason);
    }
    let (mut paid, mut charge) = (Decimal::ZERO, Decimal::ZERO);
    for m in unit {
        paid += m.s.paid;
        charge += m.s.charge;
    }
    let first_li = unit.first().and_then(|m| m.li);
    let sub_line = |li: Option<usize>| submitted.zip(li).map(|(s, li)| &s.claim.lines[li]);
    let lp = |li: Option<usize>| sub_line(li).and_then(|l| price.and_then(|p| find(p, l.number)));
    let lead = unit.first().map(|m| m.s);
    let (code, mods) = match (sub_line(first_li), lead) {
        (Some(l), _) => (l.procedure.code.as_str(), l.procedure.modifiers.as_slice()),
        (None, Some(s)) => (s.procedure.code.as_str(), s.procedure.modifiers.as_slice()),
        (None, None) => ("", &[][..]),
    };
    // Whether a bypass modifier was valid only matters for bundling denials.
    let bypass = any_bundling && submitted.zip(first_li).is_some_and(|(s, li)| valid_bypass(reference, &s.claim, li));
    // The remarks of the unit's lines and of the claim; borrowed when only one list has any.
    let mut with_remarks = unit.iter().map(|m| &m.s.remarks).filter(|r| !r.is_empty());
    let remarks: Cow<'_, [Text]> = match (with_remarks.next(), with_remarks.next(), pay.remarks.is_empty()) {
        (None, _, _) => Cow::Borrowed(&pay.remarks),
        (Some(r), None, true) => Cow::Borrowed(r),
        _ => Cow::Owned(
            unit.iter().flat_map(|m| m.s.remarks.iter().cloned()).chain(pay.remarks.iter().cloned()).collect(),
        ),
    };
    let facts = LineFacts { payer_id, code, modifiers: mods, remarks: &remarks, valid_bypass: bypass };
    let mut disposition = denials::decide_borrowed(reference, adjs(), &facts);
    let contracted: Option<Decimal> = if submitted.is_some() && unit.iter().all(|m| m.li.is_some()) {
        unit.iter().map(|m| lp(m.li).and_then(|p| p.expected)).sum()
    } else {
        None
    };
    let info = || reference.code(code);
    let denied = paid.is_zero()
        && !charge.is_zero()
        && (pay.is_denied() || disposition.as_ref().is_some_and(|d| denials::is_denial(d.class)));
    let bundling = disposition.as_ref().is_some_and(|d| BUNDLING_CARCS.contains(&d.adj.reason.as_str()));

    let mut category = None;
    let mut variance = None;
    let mut sequestration = Decimal::ZERO;
    let mut action: &str = disposition.as_ref().map_or("post", |d| d.action);
    let mut fix: Fix<'_> = disposition.as_ref().map_or(Fix::text(""), |d| d.fix.clone());
    // Underpaid lines get this after their fix.
    let mut below = None;
    if pay.is_reversal() || job.superseded {
        category = Some(Category::Reversed);
        variance = Some(cents(Decimal::ZERO));
        action = "post";
        fix = Fix::text(if pay.is_reversal() {
            "reversal of an earlier payment: nets out with it"
        } else {
            "this payment was reversed by a later remittance: superseded by the correction"
        });
    } else if submitted.is_none() || unit.iter().any(|m| m.li.is_none()) {
        action = ACTION_UNMATCHED_REMIT;
        fix = Fix::text("no submitted claim line matches this remitted line (CLP01, REF*6R, code + modifiers + date)");
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
                    action = "post";
                }
                Category::PaidAsContracted
            } else if v < Decimal::ZERO {
                action = "review-overpayment";
                fix = Fix::text("paid above the contract: confirm the fee schedule; a refund may be due");
                Category::Overpaid
            } else if has_59 {
                Category::MprOverReduction
            } else if info().is_some_and(|c| c.family == "imaging-guidance") {
                Category::ImagingUnderpaid
            } else if bundling && bypass {
                Category::BundledUnderpaid
            } else {
                Category::ContractUnderpaid
            });
        }
        if let Some(c) = category.filter(|c| c.is_underpayment()) {
            if matches!(action, "post" | "bill-patient") || c == Category::BundledUnderpaid {
                action = "appeal";
            }
            below = Some("paid below the contract: appeal with the computation");
        }
    } else {
        action = if denied { action } else { ACTION_MANUAL_REVIEW };
        category = denied.then_some(Category::Denied);
        let why = unit.iter().filter_map(|m| lp(m.li).and_then(|p| p.review.as_deref())).collect::<Vec<_>>().join("; ");
        if !why.is_empty() {
            fix = Fix::Owned(why);
        }
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

    let fix = fix.shared(intern, below);
    let action = intern.get_at(action);
    // One row per service payment; a pair's amounts and variance sit on its priced line.
    for (k, m) in unit.iter().enumerate() {
        let (si, s, li) = (m.si, m.s, m.li);
        let l = sub_line(li);
        let is_lead = k == 0;
        let allowed = s
            .allowed
            .unwrap_or_else(|| s.paid + sum_where(s.adjustments.iter(), |a| a.group == "PR" || a.reason == "253"));
        let row_disp = if unit.len() == 1 {
            disposition.take()
        } else {
            denials::decide_borrowed(reference, s.adjustments.iter(), &facts).or_else(|| disposition.clone())
        };
        let row = Variance {
            file: ids.file.clone(),
            claim_id: ids.claim_id.clone(),
            payer_claim_id: ids.payer_claim_id.clone(),
            line: Some(l.map(|l| l.number).unwrap_or(si as u32 + 1)),
            code: intern.get(l.map_or(&s.procedure.code, |l| &l.procedure.code)),
            modifiers: join_mods(intern, l.map_or(&s.procedure.modifiers, |l| &l.procedure.modifiers)),
            billed: Some(cents(s.charge)),
            contracted: if is_lead { contracted.map(cents) } else { lp(li).and_then(|p| p.expected).map(cents) },
            allowed: Some(cents(allowed)),
            paid: Some(cents(s.paid)),
            variance: if is_lead { variance } else { variance.map(|_| cents(Decimal::ZERO)) },
            category,
            carc: carc_text(intern, row_disp.as_ref().map(|d| d.adj)),
            class: row_disp.as_ref().map_or(Shared::empty(), |d| intern.get_at(d.class)),
            action: action.clone(),
            payer_id: ids.payer_id.clone(),
            patient_responsibility: if is_lead { pr } else { Decimal::ZERO },
            sequestration: if is_lead { sequestration } else { Decimal::ZERO },
            fix: fix.clone(),
            explain: explain_unit(li),
        };
        // Made in place in the output, then read from there.
        rows.push(row);
        let row = rows.last().expect("just pushed");
        emit(row, li, row_disp, intern);
    }
}

/// A claim payment without service lines: compared at claim level.
fn claim_level_row<'a>(
    reference: &'a Reference,
    opts: &Options,
    job: &Job<'_>,
    submitted: Option<&SubmittedClaim>,
    price: Option<&[Priced<'_>]>,
    ids: &Ids,
    intern: &mut Interner<'a>,
) -> Variance {
    let pay = job.payment;
    let payer_id = job.set.remittance.payer_id();
    let payer = job.payer;
    let pr = sum_where(pay.adjustments.iter(), |a| a.group == "PR").max(pay.patient_responsibility.unwrap_or_default());
    let prior = sum_where(pay.adjustments.iter(), |a| a.group != "PR" && a.reason == "23");
    let facts = LineFacts { payer_id, code: "", modifiers: &[], remarks: &pay.remarks, valid_bypass: false };
    let disposition = denials::decide_borrowed(reference, pay.adjustments.iter(), &facts);
    let contracted = price.and_then(total);
    let mut category = None;
    let mut variance = None;
    let mut sequestration = Decimal::ZERO;
    let mut action: &str = disposition.as_ref().map_or("post", |d| d.action);
    if pay.is_reversal() || job.superseded {
        category = Some(Category::Reversed);
        variance = Some(cents(Decimal::ZERO));
        action = "post";
    } else if submitted.is_none() {
        action = ACTION_UNMATCHED_REMIT;
    } else if let Some(c) = contracted {
        let before = c - pr - prior;
        if payer.sequestration && before > Decimal::ZERO {
            sequestration = percent(before, 2);
        }
        let expected = before - sequestration;
        let denied = pay.paid.is_zero()
            && (pay.is_denied() || disposition.as_ref().is_some_and(|d| denials::is_denial(d.class)));
        let v = cents(if denied { expected } else { expected - pay.paid });
        variance = Some(v);
        category = Some(if denied {
            Category::Denied
        } else if v.abs() <= opts.tolerance {
            Category::PaidAsContracted
        } else if v < Decimal::ZERO {
            action = "review-overpayment";
            Category::Overpaid
        } else {
            action = "appeal";
            Category::ContractUnderpaid
        });
    } else {
        action = ACTION_MANUAL_REVIEW;
    }
    Variance {
        file: ids.file.clone(),
        claim_id: ids.claim_id.clone(),
        payer_claim_id: ids.payer_claim_id.clone(),
        line: None,
        code: Shared::empty(),
        modifiers: Shared::empty(),
        billed: Some(cents(pay.charge)),
        contracted: contracted.map(cents),
        allowed: None,
        paid: Some(cents(pay.paid)),
        variance,
        category,
        carc: carc_text(intern, disposition.as_ref().map(|d| d.adj)),
        class: disposition.as_ref().map_or(Shared::empty(), |d| intern.get_at(d.class)),
        action: intern.get_at(action),
        payer_id: ids.payer_id.clone(),
        patient_responsibility: pr,
        sequestration,
        fix: disposition.as_ref().map_or(Shared::empty(), |d| d.fix.shared(intern, None)),
        explain: price.map(explain_all).unwrap_or_default(),
    }
}
