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

#[cfg(test)]
mod testkit;

pub use common::{Adjustment, Party, Procedure, Text};
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

/// The guide of a set read by the streaming reader (ST03, else GS08), with the version used.
fn set_guide(set: &OwnedSet) -> (Option<&'static str>, &str) {
    let version = if set.version.is_empty() { &set.group.version } else { &set.version };
    (guide(&set.id, version), version)
}

/// A guide's SNIP 2/3 validator over a built loop tree.
type Validator = fn(&tree::Node<'_>, u64, &mut Vec<Issue>);

/// The validator of a guide named by [`guide`] (its schema is [`schema`]).
fn validator(guide: &str) -> Option<Validator> {
    Some(match guide {
        "837P" => x837::validate,
        "835" => x835::validate,
        "270" | "271" => x270::validate,
        "278" => x278::validate,
        "276" | "277" | "277CA" => x276::validate,
        "999" => x999::validate,
        _ => return None,
    })
}

/// Builds and validates the loop tree of a set with a schema: the issues go to `issues`.
fn checked_tree<'s>(set: &'s OwnedSet, guide: &str, issues: &mut Vec<Issue>) -> Option<tree::Node<'s>> {
    let (root, validate) = (schema(guide)?, validator(guide)?);
    let tree = tree::build(root, set.segments(), issues);
    validate(&tree, set.segment, issues);
    Some(tree)
}

/// Parses and validates one transaction set from the streaming reader.
pub fn parse_set(set: &OwnedSet) -> ParsedSet {
    let (guide, version) = set_guide(set);
    let mut issues = Vec::new();
    // The claims, remittances, 271s and claim statuses are read in one pass; the other sets
    // from their loop tree.
    let transaction = match guide {
        Some("837P") => Transaction::Claims(x837::read(set, true, &mut issues)),
        Some("835") => Transaction::Remittance(x835::read(set, true, &mut issues)),
        Some("271") => Transaction::Eligibility(x270::read_271(set, true, &mut issues)),
        Some(g @ ("277" | "277CA")) => Transaction::ClaimStatus(x276::read_277(set, g == "277CA", true, &mut issues)),
        _ => tree_transaction(set, guide, version, &mut issues),
    };
    ParsedSet { id: set.id.clone(), control: set.control.clone(), version: version.to_string(), transaction, issues }
}

/// The typed content of a set read from its checked loop tree.
fn tree_transaction(
    set: &OwnedSet,
    guide: Option<&'static str>,
    version: &str,
    issues: &mut Vec<Issue>,
) -> Transaction {
    let tree = guide.and_then(|g| checked_tree(set, g, issues).map(|t| (g, t)));
    match &tree {
        Some(("270", t)) => Transaction::EligibilityRequest(x270::extract_270(t)),
        Some(("271", t)) => Transaction::Eligibility(x270::extract_271(t)),
        Some(("278", t)) => Transaction::Review(Box::new(x278::extract(t))),
        Some(("276", t)) => Transaction::StatusRequest(x276::extract_276(t)),
        Some(("277" | "277CA", t)) => Transaction::ClaimStatus(x276::extract_277(t)),
        Some(("999", t)) => Transaction::Acknowledgment(x999::extract(t)),
        _ => Transaction::Unsupported { id: set.id.clone(), version: version.to_string() },
    }
}

/// The typed content of a claims, remittance, eligibility response or claim status set with
/// its text borrowed from the set's bytes: the hot path's view. Same fields, values and JSON as
/// the owned models, without copying any text; `Claims837<&str>`, `Remittance<&str>`,
/// `EligibilityResponse<&str>` and `ClaimStatusReport<&str>` are the owned types' borrowed
/// instances.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "type", rename_all = "kebab-case")]
pub enum View<'a> {
    Claims(Claims837<&'a str>),
    Remittance(Remittance<&'a str>),
    /// 271 eligibility response (`Transaction::Eligibility`).
    Eligibility(EligibilityResponse<&'a str>),
    /// 277 claim status response or 277CA claim acknowledgment.
    ClaimStatus(ClaimStatusReport<&'a str>),
}

/// Reads and validates an 837P, 835, 271, 277 or 277CA set into a borrowed [`View`] (`None`
/// for other sets), in the same one pass as [`parse_set`]: the issues are exactly
/// `parse_set(set).issues`.
pub fn view_set(set: &OwnedSet) -> Option<(View<'_>, Vec<Issue>)> {
    let mut issues = Vec::new();
    let view = match set_guide(set).0 {
        Some("837P") => View::Claims(x837::read(set, true, &mut issues)),
        Some("835") => View::Remittance(x835::read(set, true, &mut issues)),
        Some("271") => View::Eligibility(x270::read_271(set, true, &mut issues)),
        Some(g @ ("277" | "277CA")) => View::ClaimStatus(x276::read_277(set, g == "277CA", true, &mut issues)),
        _ => return None,
    };
    Some((view, issues))
}

/// The implementation-guide (SNIP 2) and balancing (SNIP 3) issues of one set: exactly
/// `parse_set(set).issues`, without building the typed model (what `painrcm validate` needs).
/// A set with no schema here has none.
pub fn validate_set(set: &OwnedSet) -> Vec<Issue> {
    let mut issues = Vec::new();
    match set_guide(set).0 {
        Some("837P") => {
            x837::read::<&str>(set, false, &mut issues);
        }
        Some("835") => {
            x835::read::<&str>(set, false, &mut issues);
        }
        Some("271") => {
            x270::read_271::<&str>(set, false, &mut issues);
        }
        Some(g @ ("277" | "277CA")) => {
            x276::read_277::<&str>(set, g == "277CA", false, &mut issues);
        }
        Some(guide) => {
            checked_tree(set, guide, &mut issues);
        }
        None => {}
    }
    issues
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
    Some(match guide {
        "837P" => &x837::SCHEMA,
        "835" => &x835::SCHEMA,
        "270" => &x270::SCHEMA_270,
        "271" => &x270::SCHEMA_271,
        "278" => &x278::SCHEMA,
        "276" => &x276::SCHEMA_276,
        "277" => &x276::SCHEMA_277,
        "277CA" => &x276::SCHEMA_277CA,
        "999" => &x999::SCHEMA,
        _ => return None,
    })
}

/// The segments of one set in file order, as placed by its loop tree (for sets with a schema)
/// or as read: what `parse --format x12` emits.
pub fn tree_segments(set: &OwnedSet) -> Vec<SegmentRef<'_>> {
    let mut out = Vec::new();
    for_each_tree_segment(set, &mut |s| out.push(*s));
    out
}

/// Visits the segments of one set in file order as placed by its loop tree (for sets with a
/// schema) or as read.
fn for_each_tree_segment<'s>(set: &'s OwnedSet, f: &mut impl FnMut(&SegmentRef<'s>)) {
    match set_guide(set).0.and_then(schema) {
        Some(root) => tree::build(root, set.segments(), &mut Vec::new()).for_each_in_order(f),
        None => set.segments().for_each(|s| f(&s)),
    }
}

/// Emits one set (ST through SE) from its loop tree under `to` delimiters and line ending:
/// byte-exact for canonical input with its own delimiters.
pub fn emit_set(set: &OwnedSet, to: Delimiters, line: LineEnding, out: &mut Vec<u8>) {
    for_each_tree_segment(set, &mut |s| x12::write_ref(s, out, &to, line));
}

#[cfg(test)]
mod tests {
    /// The one-pass readers of the 837P, 835, 271, 277 and 277CA report exactly what the loop
    /// tree and its validator report (the pass decides only whether there is anything to
    /// report), over every shipped and corpus set and 60 mutations of each.
    #[test]
    fn one_pass_issues_equal_the_tree_validators() {
        let (mut sets, mut clean, mut with_issues) = (0, 0, 0);
        crate::testkit::each_mutated_set(60, &mut |at, set, schema, v| {
            type Pass = fn(&[x12::SegmentRef<'_>], u64, &mut Vec<crate::Issue>);
            let (validate, pass): (crate::Validator, Pass) = if std::ptr::eq(schema, &crate::x837::SCHEMA) {
                (crate::x837::validate, |v, start, issues| {
                    crate::x837::read_segments::<&str, _>(|| v.iter().copied(), None, &[], start, "0001", true, issues);
                })
            } else if std::ptr::eq(schema, &crate::x835::SCHEMA) {
                (crate::x835::validate, |v, start, issues| {
                    crate::x835::read_segments::<&str, _>(|| v.iter().copied(), None, &[], start, true, issues);
                })
            } else if std::ptr::eq(schema, &crate::x270::SCHEMA_271) {
                (crate::x270::validate, |v, start, issues| {
                    crate::x270::read_271_segments::<&str, _>(|| v.iter().copied(), None, &[], start, true, issues);
                })
            } else if std::ptr::eq(schema, &crate::x276::SCHEMA_277) {
                (crate::x276::validate, |v, start, issues| {
                    crate::x276::read_277_segments::<&str, _>(
                        || v.iter().copied(),
                        None,
                        &[],
                        start,
                        false,
                        true,
                        issues,
                    );
                })
            } else if std::ptr::eq(schema, &crate::x276::SCHEMA_277CA) {
                (crate::x276::validate, |v, start, issues| {
                    crate::x276::read_277_segments::<&str, _>(
                        || v.iter().copied(),
                        None,
                        &[],
                        start,
                        true,
                        true,
                        issues,
                    );
                })
            } else {
                return;
            };
            let mut tree_issues = Vec::new();
            let root = crate::tree::build(schema, v.iter().copied(), &mut tree_issues);
            validate(&root, set.segment, &mut tree_issues);
            let mut one_pass = Vec::new();
            pass(v, set.segment, &mut one_pass);
            assert_eq!(one_pass, tree_issues, "{at}");
            sets += 1;
            clean += usize::from(tree_issues.is_empty());
            with_issues += usize::from(!tree_issues.is_empty());
        });
        assert!(
            sets > 1000 && clean > 100 && with_issues > 500,
            "{sets} sets, {clean} clean, {with_issues} with issues"
        );
    }

    /// The 271's one pass reads the answers `extract_271` reads from the loop tree, clean or
    /// not, over every shipped and corpus 271 and 400 mutations of each: split in place with
    /// the set's text, and from segments alone; and reports the tree's issues, model or not.
    #[test]
    fn one_pass_271_equals_the_tree_extraction() {
        let (mut sets, mut clean, mut answers) = (0, 0, 0);
        crate::testkit::each_mutated_set(400, &mut |at, set, schema, v| {
            if !std::ptr::eq(schema, &crate::x270::SCHEMA_271) {
                return;
            }
            let mut tree_issues = Vec::new();
            let root = crate::tree::build(schema, v.iter().copied(), &mut tree_issues);
            crate::x270::validate(&root, set.segment, &mut tree_issues);
            let want = crate::x270::extract_271(&root);
            let whole = std::str::from_utf8(&set.bytes).ok();
            for (whole, backing) in [(whole, &set.bytes[..]), (None, &[][..])] {
                let mut issues = Vec::new();
                let got = crate::x270::read_271_segments(
                    || v.iter().copied(),
                    whole,
                    backing,
                    set.segment,
                    true,
                    &mut issues,
                );
                assert_eq!(got, want, "{at}");
                assert_eq!(issues, tree_issues, "{at}");
            }
            // As `validate_set` reads it: checks only.
            let mut issues = Vec::new();
            let none = crate::x270::read_271_segments::<crate::Text, _>(
                || v.iter().copied(),
                None,
                &set.bytes,
                set.segment,
                false,
                &mut issues,
            );
            assert_eq!((none, issues), (crate::EligibilityResponse::default(), tree_issues.clone()), "{at}");
            sets += 1;
            clean += usize::from(tree_issues.is_empty());
            answers += want.answers.len();
        });
        let (s, c, a) = if crate::testkit::corpus_present() { (2000, 50, 1500) } else { (1000, 200, 800) };
        assert!(sets > s && clean > c && answers > a, "{sets} sets, {clean} clean, {answers} answers");
    }

    /// The one-pass reader of the 277 and 277CA gives exactly what `extract_277` reads from the
    /// loop tree, over every shipped and corpus set and 60 mutations of each, with the set's
    /// text known (sliced) and unknown (validated element by element); and with the model
    /// off it reports the same issues.
    #[test]
    fn one_pass_claim_status_equals_the_tree_extraction() {
        let (mut sets, mut statuses, mut lines, mut from_tree) = (0, 0, 0, 0);
        crate::testkit::each_mutated_set(60, &mut |at, set, schema, v| {
            let ca = if std::ptr::eq(schema, &crate::x276::SCHEMA_277) {
                false
            } else if std::ptr::eq(schema, &crate::x276::SCHEMA_277CA) {
                true
            } else {
                return;
            };
            let root = crate::tree::build(schema, v.iter().copied(), &mut Vec::new());
            let want = crate::x276::extract_277(&root);
            let whole = std::str::from_utf8(&set.bytes).ok();
            let segs = || v.iter().copied();
            let mut issues = Vec::new();
            let sliced = crate::x276::read_277_segments(segs, whole, &set.bytes, set.segment, ca, true, &mut issues);
            assert_eq!(sliced, want, "{at}");
            let mut again = Vec::new();
            let copied = crate::x276::read_277_segments(segs, None, &[], set.segment, ca, true, &mut again);
            assert_eq!(copied, want, "{at}");
            assert_eq!(again, issues, "{at}");
            let mut checked = Vec::new();
            let empty = crate::x276::read_277_segments::<crate::Text, _>(
                segs,
                whole,
                &set.bytes,
                set.segment,
                ca,
                false,
                &mut checked,
            );
            assert_eq!(checked, issues, "{at}");
            assert!(empty.statuses.is_empty(), "{at}");
            // Whether the pass had to read the statuses from the tree (out of file order).
            let mut order = Vec::new();
            root.walk(&mut |n| {
                if n.def.id.starts_with("22") && n.def.id != "2220" && n.def.id != "2200A" {
                    order.push(n.first().index());
                }
            });
            from_tree += usize::from(order.windows(2).any(|w| w[0] > w[1]));
            sets += 1;
            statuses += want.statuses.len();
            lines += want.statuses.iter().map(|s| s.lines.len()).sum::<usize>();
        });
        assert!(
            sets > 300 && statuses > 500 && lines > 50 && from_tree > 0,
            "{sets} sets, {statuses} statuses, {lines} lines, {from_tree} out of file order"
        );
    }

    /// The borrowed view of a 277 or 277CA (`ClaimStatusReport<&str>`) serializes to exactly the
    /// JSON of the owned model with the same issues, over every shipped and corpus set and 60
    /// mutations of each, with the set's text known (sliced) and unknown (validated element by
    /// element), through the pass and through the tree when the pass gives up on the model;
    /// and `view_set` of each set as read gives what `parse_set` gives.
    #[test]
    fn claim_status_view_equals_the_owned_model() {
        fn json(t: &impl serde::Serialize) -> String {
            serde_json::to_string(t).expect("serializes")
        }
        let (mut sets, mut statuses, mut with_issues, mut views) = (0, 0, 0, 0);
        crate::testkit::each_mutated_set(60, &mut |at, set, schema, v| {
            let ca = if std::ptr::eq(schema, &crate::x276::SCHEMA_277) {
                false
            } else if std::ptr::eq(schema, &crate::x276::SCHEMA_277CA) {
                true
            } else {
                return;
            };
            let whole = std::str::from_utf8(&set.bytes).ok();
            let segs = || v.iter().copied();
            let mut owned_issues = Vec::new();
            let owned = crate::x276::read_277_segments::<crate::Text, _>(
                segs,
                whole,
                &set.bytes,
                set.segment,
                ca,
                true,
                &mut owned_issues,
            );
            let want = json(&owned);
            for whole in [whole, None] {
                let mut issues = Vec::new();
                let view = crate::x276::read_277_segments::<&str, _>(
                    segs,
                    whole,
                    &set.bytes,
                    set.segment,
                    ca,
                    true,
                    &mut issues,
                );
                assert_eq!(json(&view), want, "{at}");
                assert_eq!(issues, owned_issues, "{at}");
            }
            // Through the tree, as the pass reads the model when the statuses are out of order.
            let root = crate::tree::build(schema, segs(), &mut Vec::new());
            assert_eq!(json(&crate::x276::extract_277_as::<&str>(&root)), want, "{at}");
            if v.len() == set.segments().count() && v.iter().zip(set.segments()).all(|(a, b)| *a == b) {
                let parsed = crate::parse_set(set);
                let Some((view, issues)) = crate::view_set(set) else { panic!("{at}: no view") };
                assert!(matches!(view, crate::View::ClaimStatus(_)), "{at}");
                assert_eq!(json(&view), json(&parsed.transaction), "{at}");
                assert_eq!(issues, parsed.issues, "{at}");
                views += 1;
            }
            sets += 1;
            statuses += owned.statuses.len();
            with_issues += usize::from(!owned_issues.is_empty());
        });
        let (s, t, i, v) = if crate::testkit::corpus_present() { (400, 600, 300, 10) } else { (200, 300, 150, 5) };
        assert!(
            sets > s && statuses > t && with_issues > i && views > v,
            "{sets} sets, {statuses} statuses, {with_issues} with issues, {views} views"
        );
    }

    /// Each segment of every shipped and corpus 277 and 277CA followed by a copy of itself with
    /// other values, then with another qualifier: what catches a reader that keeps the last
    /// "first REF*EJ" instead of the first, or reads a party from the wrong name loop.
    #[test]
    fn one_pass_claim_status_keeps_the_first_of_each() {
        /// The last byte of each element from `from` on moved to the next digit or letter.
        fn other(raw: &[u8], sep: u8, from: usize) -> Vec<u8> {
            let mut out = raw.to_vec();
            let mut el = 0;
            for i in 0..out.len() {
                let end = i + 1 == out.len() || out[i + 1] == sep;
                if out[i] == sep {
                    el += 1;
                } else if end && el >= from {
                    out[i] = match out[i] {
                        b'9' => b'0',
                        b'Z' => b'A',
                        c if c.is_ascii_alphanumeric() => c + 1,
                        c => c,
                    };
                }
            }
            out
        }
        let mut variants = 0;
        crate::testkit::each_mutated_set(0, &mut |at, set, schema, v| {
            let ca = if std::ptr::eq(schema, &crate::x276::SCHEMA_277) {
                false
            } else if std::ptr::eq(schema, &crate::x276::SCHEMA_277CA) {
                true
            } else {
                return;
            };
            for i in 1..v.len().saturating_sub(1) {
                for from in [2, 1] {
                    let d = v[i].delimiters();
                    let mut raws: Vec<Vec<u8>> = v.iter().map(|s| s.raw().to_vec()).collect();
                    raws.insert(i + 1, other(v[i].raw(), d.element, from));
                    let segs: Vec<x12::SegmentRef<'_>> = raws
                        .iter()
                        .enumerate()
                        .map(|(n, r)| x12::SegmentRef::new(r, d, 0, set.segment + n as u64))
                        .collect();
                    let root = crate::tree::build(schema, segs.iter().copied(), &mut Vec::new());
                    let want = crate::x276::extract_277(&root);
                    let mut issues = Vec::new();
                    let got = crate::x276::read_277_segments(
                        || segs.iter().copied(),
                        None,
                        &[],
                        set.segment,
                        ca,
                        true,
                        &mut issues,
                    );
                    assert_eq!(got, want, "{at} segment {i} from {from}");
                    variants += 1;
                }
            }
        });
        let least = if crate::testkit::corpus_present() { 300 } else { 150 };
        assert!(variants > least, "{variants} variants");
    }

    /// The borrowed 271 (`EligibilityResponse<&str>`, what `view_set` returns) holds what the
    /// owned model holds, as the same JSON, with the same issues, over every shipped and corpus
    /// 271 and 200 mutations of each: split in place with the set's text, and from segments
    /// alone; and through `view_set` and `parse_set` for the sets as read.
    #[test]
    fn view_271_reads_as_the_owned_model() {
        let (mut sets, mut with_issues, mut answers) = (0, 0, 0);
        crate::testkit::each_mutated_set(200, &mut |at, set, schema, v| {
            if !std::ptr::eq(schema, &crate::x270::SCHEMA_271) {
                return;
            }
            let whole = std::str::from_utf8(&set.bytes).ok();
            for (whole, backing) in [(whole, &set.bytes[..]), (None, &[][..])] {
                let (mut owned_issues, mut view_issues) = (Vec::new(), Vec::new());
                let segments = || v.iter().copied();
                let start = set.segment;
                let owned = crate::x270::read_271_segments::<crate::Text, _>(
                    segments,
                    whole,
                    backing,
                    start,
                    true,
                    &mut owned_issues,
                );
                let view =
                    crate::x270::read_271_segments::<&str, _>(segments, whole, backing, start, true, &mut view_issues);
                let json = serde_json::to_string(&view).expect("serializes");
                assert_eq!(json, serde_json::to_string(&owned).expect("serializes"), "{at}");
                assert_eq!(view_issues, owned_issues, "{at}");
                with_issues += usize::from(!owned_issues.is_empty());
                answers += view.answers.len();
            }
            if at.ends_with(" round 0") {
                let parsed = crate::parse_set(set);
                let (view, issues) = crate::view_set(set).expect("a 271 has a view");
                assert!(matches!(view, crate::View::Eligibility(_)), "{at}");
                let json = serde_json::to_string(&view).expect("serializes");
                assert_eq!(json, serde_json::to_string(&parsed.transaction).expect("serializes"), "{at}");
                assert_eq!(issues, parsed.issues, "{at}");
            }
            sets += 1;
        });
        let (s, i, a) = if crate::testkit::corpus_present() { (1000, 1000, 1500) } else { (500, 500, 700) };
        assert!(sets > s && with_issues > i && answers > a, "{sets} sets, {with_issues}, {answers} answers");
    }
}
