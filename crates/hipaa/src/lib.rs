//! Typed HIPAA 5010 transaction sets over the `x12` syntax layer.
//!
//! For each supported guide there is a static loop schema (`SCHEMA` in each module), a
//! loop-aware reader that builds the loop tree of one transaction set (`tree::build`), a
//! validator for implementation-guide (SNIP 2) and balancing (SNIP 3) rules that reports
//! [`Issue`]s with positions and 999 codes, and an extractor into owned, serde-ready models
//! (`Claim`, `Remittance`, ...). Money is `Decimal`, dates are `NaiveDate`.
//!
//! Not for: deciding whether a claim should be paid (that is the `rules` crate) or storing
//! anything (the ledger).
//!
//! Emit is exact: the loop tree keeps every segment it was given, in order, and [`emit`]
//! writes them back (re-delimited if asked), so `emit(parse(bytes)) == bytes` for canonical
//! input; models built from emitted bytes equal the models built from the original.
//!
//! ```
//! use x12::{Event, StreamReader};
//! let file: &[u8] = b"ISA*00*          *00*          *ZZ*A              *ZZ*B              *261127*1200*^*00501*000000001*0*P*:~GS*HC*A*B*20261127*1200*1*X*005010X222A1~ST*837*0001*005010X222A1~BHT*0019*00*1*20261127*1200*CH~SE*3*0001~GE*1*1~IEA*1*000000001~";
//! for event in StreamReader::new(file) {
//!     if let Event::Set(set) = event.expect("in-memory reads cannot fail") {
//!         let parsed = hipaa::parse_set(&set);
//!         assert!(matches!(parsed.transaction, hipaa::Transaction::Claims(_)));
//!         // The stub set lacks its required loops: reported, with positions and 999 codes.
//!         assert!(parsed.issues.iter().any(|i| i.message == "required loop 1000A missing in loop 837P"));
//!     }
//! }
//! ```

pub mod common;
pub mod issue;
pub mod tree;
pub mod values;
pub mod x270;
pub mod x276;
pub mod x278;
pub mod x835;
pub mod x837;
pub mod x999;

pub use common::{Adjustment, Party, Procedure};
pub use issue::{Issue, IssueCode};
pub use values::npi_valid;
pub use x270::{Coverage, EligibilityAnswer, EligibilityRejection, EligibilityRequest, EligibilityResponse};
pub use x276::{ClaimStatus, ClaimStatusReport, StatusCategory, StatusRequest};
pub use x278::{AuthStatus, Authorization, Review};
pub use x835::{ClaimPayment, ProviderAdjustment, Remittance, ServicePayment};
pub use x837::{Claim, Claims837, ServiceLine};
pub use x999::Acknowledgment;

use serde::Serialize;
use x12::{Delimiters, LineEnding, OwnedSet, SegmentRef};

/// The typed content of one transaction set.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "type", rename_all = "kebab-case")]
pub enum Transaction {
    Claims(Claims837),
    Remittance(Remittance),
    /// 270 eligibility inquiry.
    EligibilityRequest(EligibilityRequest),
    /// 271 eligibility response: coverage answers or AAA rejections.
    Eligibility(EligibilityResponse),
    /// 278 services review, request or response (authorizations filled for responses).
    Review(Box<Review>),
    /// 276 claim status request.
    StatusRequest(StatusRequest),
    /// 277 claim status response or 277CA claim acknowledgment.
    ClaimStatus(ClaimStatusReport),
    /// 999 implementation acknowledgment.
    Acknowledgment(Acknowledgment),
    /// A set this crate has no model for (its segments still emit exactly).
    Unsupported {
        id: String,
        version: String,
    },
}

/// One parsed set: the model, the problems found, and enough identity to report them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ParsedSet {
    pub id: String,
    pub control: String,
    pub version: String,
    pub transaction: Transaction,
    pub issues: Vec<Issue>,
}

impl ParsedSet {
    /// True when no error-severity issue was found.
    pub fn is_valid(&self) -> bool {
        self.issues.iter().all(|i| i.severity == x12::Severity::Warning)
    }
}

/// The implementation guide a set follows, from ST01 and the version (ST03, else GS08).
pub fn guide(id: &str, version: &str) -> Option<&'static str> {
    let v = version;
    match id {
        "837" if v.starts_with("005010X222") => Some("837P"),
        "835" if v.starts_with("005010X221") => Some("835"),
        "270" if v.starts_with("005010X279") => Some("270"),
        "271" if v.starts_with("005010X279") => Some("271"),
        "278" if v.starts_with("005010X217") => Some("278"),
        "276" if v.starts_with("005010X212") => Some("276"),
        "277" if v.starts_with("005010X212") => Some("277"),
        "277" if v.starts_with("005010X214") => Some("277CA"),
        "999" if v.starts_with("005010X231") => Some("999"),
        _ => None,
    }
}

/// Parses and validates one transaction set from the streaming reader.
pub fn parse_set(set: &OwnedSet) -> ParsedSet {
    let version = if set.version.is_empty() { set.group.version.clone() } else { set.version.clone() };
    let mut issues = Vec::new();
    let transaction = match guide(&set.id, &version) {
        Some("837P") => Transaction::Claims(x837::parse(set.segments(), &set.control, &mut issues)),
        Some("835") => Transaction::Remittance(x835::parse(set.segments(), &mut issues)),
        Some("270") => Transaction::EligibilityRequest(x270::parse_270(set.segments(), &mut issues)),
        Some("271") => Transaction::Eligibility(x270::parse_271(set.segments(), &mut issues)),
        Some("278") => Transaction::Review(Box::new(x278::parse(set.segments(), &mut issues))),
        Some("276") => Transaction::StatusRequest(x276::parse_276(set.segments(), &mut issues)),
        Some("277") => Transaction::ClaimStatus(x276::parse_277(set.segments(), false, &mut issues)),
        Some("277CA") => Transaction::ClaimStatus(x276::parse_277(set.segments(), true, &mut issues)),
        Some("999") => Transaction::Acknowledgment(x999::parse(set.segments(), &mut issues)),
        _ => Transaction::Unsupported { id: set.id.clone(), version: version.clone() },
    };
    ParsedSet { id: set.id.clone(), control: set.control.clone(), version, transaction, issues }
}

/// Writes segments back out, re-delimited to `to` when given, else byte for byte.
pub fn emit<'a>(
    segments: impl IntoIterator<Item = SegmentRef<'a>>,
    to: Delimiters,
    line: LineEnding,
    out: &mut Vec<u8>,
) {
    for s in segments {
        x12::write_ref(&s, out, &to, line);
    }
}

/// The loop schema of a guide named by [`guide`].
pub fn schema(guide: &str) -> Option<&'static tree::LoopDef> {
    match guide {
        "837P" => Some(&x837::SCHEMA),
        "835" => Some(&x835::SCHEMA),
        _ => None,
    }
}

/// The segments of one set in file order, as placed by its loop tree (for sets with a schema)
/// or as read: what `parse --format x12` emits.
pub fn tree_segments(set: &OwnedSet) -> Vec<SegmentRef<'_>> {
    let version = if set.version.is_empty() { &set.group.version } else { &set.version };
    match guide(&set.id, version).and_then(schema) {
        Some(root) => {
            let mut issues = Vec::new();
            tree::build(root, set.segments(), &mut issues).all_segments()
        }
        None => set.segments().collect(),
    }
}

/// Emits one set (ST through SE) from its loop tree under `to` delimiters and line ending:
/// byte-exact for canonical input with its own delimiters.
pub fn emit_set(set: &OwnedSet, to: Delimiters, line: LineEnding, out: &mut Vec<u8>) {
    emit(tree_segments(set), to, line, out);
}
