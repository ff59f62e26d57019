//! Reference data, the claim scrubber and the ERA reconciler.
//!
//! Pure functions over typed models (`hipaa::Claim`, `hipaa::Remittance`), reference data and
//! a read-only view of history: no I/O beyond loading reference files, no printing. Claims are
//! scrubbed in parallel with rayon and results are sorted so output never depends on thread
//! timing.

pub mod denials;
pub mod history;
pub mod pricing;
pub mod reconcile;
pub mod reference;
pub mod scrub;
pub mod secondary;
pub mod text;

pub use history::{History, MemoryHistory};
pub use reference::{LoadError, Reference};
pub use scrub::{scrub, scrub_claim, Context, Finding, Severity};
