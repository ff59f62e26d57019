//! What the scrubber needs to know about the past: earlier services, authorizations and
//! eligibility answers for a patient.
//!
//! The ledger implements `History` over SQLite; `MemoryHistory` serves tests and the
//! stand-alone `scrub --history` command, fed from earlier 837 files.

use crate::reference::HashMap;
use chrono::NaiveDate;
/// Keyed with the reference data's Fx hasher: SipHash over the patient key was a visible part
/// of a scrub.
use hipaa::Text;
use rust_decimal::Decimal;
use std::borrow::Cow;

/// One earlier service line for a patient.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PastService {
    pub claim_id: String,
    pub payer_id: String,
    pub date: NaiveDate,
    pub code: String,
    pub modifiers: Vec<Text>,
    /// Percent pain relief documented for a diagnostic block, when known.
    pub relief: Option<u8>,
}

/// One authorization on file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuthRecord {
    pub number: String,
    pub payer_id: String,
    /// Procedure codes covered; empty covers any.
    pub codes: Vec<String>,
    pub units: Option<Decimal>,
    pub from: NaiveDate,
    pub to: NaiveDate,
    /// certified, modified, denied, pended.
    pub status: String,
}

impl AuthRecord {
    pub fn approved(&self) -> bool {
        matches!(self.status.as_str(), "certified" | "modified")
    }

    pub fn covers_code(&self, code: &str) -> bool {
        self.codes.is_empty() || self.codes.iter().any(|c| c == code)
    }

    pub fn covers(&self, code: &str, on: NaiveDate) -> bool {
        matches!(self.status.as_str(), "certified" | "modified")
            && self.from <= on
            && on <= self.to
            && (self.codes.is_empty() || self.codes.iter().any(|c| c == code))
    }
}

/// One eligibility answer on file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EligibilityRecord {
    pub payer_id: String,
    pub active: bool,
    /// The period the answer speaks for.
    pub from: NaiveDate,
    pub to: NaiveDate,
}

/// Read-only history, keyed by patient. `patient` is the key from [`patient_key`]. Answers are
/// `Cow` so an in-memory history lends its records while a database-backed one returns owned
/// rows.
pub trait History: Sync {
    fn services(&self, patient: &str) -> Cow<'_, [PastService]>;
    fn authorizations(&self, patient: &str) -> Cow<'_, [AuthRecord]>;
    fn eligibility(&self, patient: &str) -> Cow<'_, [EligibilityRecord]>;
}

/// The patient key used by history: the payer's member id, and for a dependent the patient's
/// name and the subscriber's id. It never leaves the process.
pub fn patient_key(claim: &hipaa::Claim) -> String {
    patient_key_ref(claim).into_owned()
}

/// [`patient_key`], borrowed from the claim when the patient is the subscriber.
pub fn patient_key_ref(claim: &hipaa::Claim) -> Cow<'_, str> {
    match &claim.patient {
        Some(p) => format!("{}/{}/{}", claim.subscriber.id, p.last_or_org, p.first).into(),
        None => claim.subscriber.id.as_str().into(),
    }
}

/// History held in memory.
#[derive(Clone, Debug, Default)]
pub struct MemoryHistory {
    pub services: HashMap<String, Vec<PastService>>,
    pub authorizations: HashMap<String, Vec<AuthRecord>>,
    pub eligibility: HashMap<String, Vec<EligibilityRecord>>,
}

impl MemoryHistory {
    pub fn new() -> MemoryHistory {
        MemoryHistory::default()
    }

    /// Adds every line of earlier claims as past services.
    pub fn add_claims<'c>(&mut self, claims: impl IntoIterator<Item = &'c hipaa::Claim>) {
        for c in claims {
            let key = patient_key(c);
            for l in &c.lines {
                if let Some(date) = l.service_from {
                    self.services.entry(key.clone()).or_default().push(PastService {
                        claim_id: c.claim_id.to_string(),
                        payer_id: c.payer.id.to_string(),
                        date,
                        code: l.procedure.code.to_string(),
                        modifiers: l.procedure.modifiers.clone(),
                        relief: None,
                    });
                }
            }
        }
    }
}

impl MemoryHistory {
    /// Adds the authorizations of a 278 response: one record per authorized service, so units
    /// are kept per code.
    pub fn add_review(&mut self, review: &hipaa::x278::Review) {
        let key = match &review.dependent {
            Some(d) => format!("{}/{}/{}", review.subscriber.id, d.last_or_org, d.first),
            None => review.subscriber.id.to_string(),
        };
        for a in &review.authorizations {
            let status = match a.status {
                hipaa::AuthStatus::Certified => "certified",
                hipaa::AuthStatus::Modified => "modified",
                hipaa::AuthStatus::Denied => "denied",
                hipaa::AuthStatus::Pended => "pended",
                _ => "other",
            };
            let window = |from: Option<NaiveDate>, to: Option<NaiveDate>| {
                (from.or(a.valid_from).unwrap_or(NaiveDate::MIN), to.or(a.valid_to).unwrap_or(NaiveDate::MAX))
            };
            let records = self.authorizations.entry(key.clone()).or_default();
            if a.services.is_empty() {
                let (from, to) = window(None, None);
                records.push(AuthRecord {
                    number: a.number.to_string(),
                    payer_id: review.umo.id.to_string(),
                    codes: vec![],
                    units: None,
                    from,
                    to,
                    status: status.into(),
                });
            }
            for s in &a.services {
                let (from, to) = window(s.from, s.to);
                let number = if s.number.is_empty() { a.number.to_string() } else { s.number.to_string() };
                let status = if s.status.approved() { status } else { "denied" };
                records.push(AuthRecord {
                    number,
                    payer_id: review.umo.id.to_string(),
                    codes: vec![s.procedure.code.to_string()],
                    units: s.units,
                    from,
                    to,
                    status: status.into(),
                });
            }
        }
    }

    /// Adds the coverage answers of a 271: active or not, for the plan period (or from the
    /// answer's date on when the payer sent no period).
    pub fn add_eligibility(&mut self, response: &hipaa::x270::EligibilityResponse) {
        for c in response.coverages() {
            let key = match &c.dependent {
                Some(d) => format!("{}/{}/{}", c.subscriber.id, d.last_or_org, d.first),
                None => c.subscriber.id.to_string(),
            };
            let from = c.plan_begin.or(c.eligibility_begin).or(response.created).unwrap_or(NaiveDate::MIN);
            let to = c.plan_end.unwrap_or(NaiveDate::MAX);
            self.eligibility.entry(key).or_default().push(EligibilityRecord {
                payer_id: c.payer.id.to_string(),
                active: c.active,
                from,
                to,
            });
        }
    }
}

impl History for MemoryHistory {
    fn services(&self, patient: &str) -> Cow<'_, [PastService]> {
        Cow::Borrowed(self.services.get(patient).map(Vec::as_slice).unwrap_or(&[]))
    }

    fn authorizations(&self, patient: &str) -> Cow<'_, [AuthRecord]> {
        Cow::Borrowed(self.authorizations.get(patient).map(Vec::as_slice).unwrap_or(&[]))
    }

    fn eligibility(&self, patient: &str) -> Cow<'_, [EligibilityRecord]> {
        Cow::Borrowed(self.eligibility.get(patient).map(Vec::as_slice).unwrap_or(&[]))
    }
}
