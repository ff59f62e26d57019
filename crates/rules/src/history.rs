//! What the scrubber needs to know about the past: earlier services, authorizations and
//! eligibility answers for a patient.
//!
//! The ledger implements `History` over SQLite; `MemoryHistory` serves tests and the
//! stand-alone `scrub --history` command, fed from earlier 837 files.

use chrono::NaiveDate;
use rust_decimal::Decimal;
use std::collections::HashMap;

/// One earlier service line for a patient.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PastService {
    pub claim_id: String,
    pub payer_id: String,
    pub date: NaiveDate,
    pub code: String,
    pub modifiers: Vec<String>,
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

/// Read-only history, keyed by patient. `patient` is the key from [`patient_key`].
pub trait History: Sync {
    fn services(&self, patient: &str) -> Vec<PastService>;
    fn authorizations(&self, patient: &str) -> Vec<AuthRecord>;
    fn eligibility(&self, patient: &str) -> Vec<EligibilityRecord>;
}

/// The patient key used by history: the payer's member id, and for a dependent the patient's
/// name and the subscriber's id. It never leaves the process.
pub fn patient_key(claim: &hipaa::Claim) -> String {
    match &claim.patient {
        Some(p) => format!("{}/{}/{}", claim.subscriber.id, p.last_or_org, p.first),
        None => claim.subscriber.id.clone(),
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
                        claim_id: c.claim_id.clone(),
                        payer_id: c.payer.id.clone(),
                        date,
                        code: l.procedure.code.clone(),
                        modifiers: l.procedure.modifiers.clone(),
                        relief: None,
                    });
                }
            }
        }
    }
}

impl History for MemoryHistory {
    fn services(&self, patient: &str) -> Vec<PastService> {
        self.services.get(patient).cloned().unwrap_or_default()
    }

    fn authorizations(&self, patient: &str) -> Vec<AuthRecord> {
        self.authorizations.get(patient).cloned().unwrap_or_default()
    }

    fn eligibility(&self, patient: &str) -> Vec<EligibilityRecord> {
        self.eligibility.get(patient).cloned().unwrap_or_default()
    }
}
