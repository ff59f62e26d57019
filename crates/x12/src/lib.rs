//! X12 syntax for painrcm: delimiters, a zero-copy tokenizer, envelope checks, a streaming
//! reader, a writer, and TA1/999 builders.
//!
//! This crate knows X12, not HIPAA: it does not know what a CLM or an NM1 means, only how
//! segments, elements, components and repetitions are delimited and how ISA/GS/ST envelopes
//! nest and count. The typed transaction models live in the `hipaa` crate on top of it.
//!
//! ```
//! use x12::{Event, StreamReader};
//! let file: &[u8] = b"ISA*00*          *00*          *ZZ*A              *ZZ*B              *261127*1200*^*00501*000000001*0*P*:~
//! GS*HC*A*B*20261127*1200*1*X*005010X222A1~
//! ST*837*0001*005010X222A1~
//! BHT*0019*00*1*20261127*1200*CH~
//! SE*9*0001~
//! GE*1*1~
//! IEA*1*000000001~
//! ";
//! for event in StreamReader::new(file) {
//!     if let Event::Set(set) = event.expect("in-memory reads cannot fail") {
//!         assert_eq!(set.segments().count(), 3);
//!         // SE01 says 9, the set has 3: reported with its position, not fatal.
//!         assert_eq!(set.errors[0].to_string(),
//!             "segment 5 (SE, byte 207) element 01: SE01 says 9 segments, found 3");
//!     }
//! }
//! ```

mod ack;
mod delim;
mod envelope;
mod error;
mod segment;
#[doc(hidden)]
pub mod simd;
mod stream;
mod tokenizer;
mod writer;

pub use ack::{
    ack_999, ack_ta1, reply_group, reply_header, ta1, AckEnvelope, AckStatus, ElementNote, GroupAck, SegmentNote,
    SetAck,
};
pub use delim::{Delimiters, IsaLayout, ISA_LEN};
pub use envelope::{Checker, GroupHeader, InterchangeHeader, Role, Step};
pub use error::{AckCode, Error, ErrorKind, Position, SegmentId, Severity};
pub use segment::{components, Elements, SegmentRef};
pub use stream::{Event, LineEnding, OwnedSet, StreamReader, MAX_SEGMENT};
pub use tokenizer::{count_terminators, Resume, Token, Tokenizer};
pub use writer::{write_ref, Element, EnvelopeWriter, Segment};
