//! A finding's message and fix, kept as a template and its arguments and formatted only when
//! read.
//!
//! Why: a scrub of a finding-heavy batch makes several findings per claim, and formatting
//! each message and fix with `format!` when it is made was most of the allocation in the
//! scrubber. A [`Detail`] holds a pair of static templates and up to three small arguments
//! inline (codes, amounts, dates), so making a finding allocates nothing; the text is written
//! when it is rendered, printed or compared. Arguments that do not fit inline (a string over
//! 22 bytes) make the finding fall back to text formatted up front, so nothing is truncated.
//! The rendered text must stay byte-identical to what the rules formatted before; the
//! templates in `scrub.rs` sit beside the rules, and the differential check in
//! `benches/README.md` compared every finding of the bench and the samples.
//!
//! ```
//! use rules::text::{Arg, Detail, Piece::{A, L}, Template};
//! const T: Template = Template {
//!     message: &[L("E/M "), A(0), L(" billed with procedure "), A(1)],
//!     fix: &[L("append 25 to "), A(0)],
//! };
//! let d = Detail::new(&T, [Arg::Str("99213"), Arg::Str("64483"), Arg::Nil]);
//! assert_eq!(d.message(), "E/M 99213 billed with procedure 64483");
//! assert_eq!(d.fix().to_string(), "append 25 to 99213");
//! ```

use chrono::NaiveDate;
use rust_decimal::Decimal;
use std::cmp::Ordering;
use std::fmt;

/// One piece of a template: literal text or the argument at an index.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Piece {
    L(&'static str),
    A(u8),
}

/// A message template and a fix template sharing one argument list.
#[derive(Debug, PartialEq, Eq)]
pub struct Template {
    pub message: &'static [Piece],
    pub fix: &'static [Piece],
}

/// A borrowed argument, as the rules pass it.
#[derive(Clone, Copy, Debug)]
pub enum Arg<'a> {
    Nil,
    Str(&'a str),
    /// A procedure code with its modifiers, `64493-50-RT`.
    Proc(&'a str, &'a [hipaa::Text]),
    /// Strings joined with a separator.
    Join(&'a [String], &'static str),
    Dec(Decimal),
    Int(i64),
    Date(NaiveDate),
}

/// Strings up to this many bytes are kept inline.
const INLINE: usize = 22;

/// An owned argument, inline.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Value {
    Nil,
    Str { len: u8, bytes: [u8; INLINE] },
    Dec(Decimal),
    Int(i64),
    Date(NaiveDate),
}

impl Value {
    fn new(a: Arg<'_>) -> Option<Value> {
        Some(match a {
            Arg::Nil => Value::Nil,
            Arg::Str(s) if s.len() <= INLINE => {
                let mut bytes = [0; INLINE];
                bytes[..s.len()].copy_from_slice(s.as_bytes());
                Value::Str { len: s.len() as u8, bytes }
            }
            Arg::Str(_) => return None,
            Arg::Proc(..) | Arg::Join(..) => {
                let mut w = Inline { len: 0, bytes: [0; INLINE] };
                fmt::write(&mut w, format_args!("{a}")).ok()?;
                Value::Str { len: w.len as u8, bytes: w.bytes }
            }
            Arg::Dec(d) => Value::Dec(d),
            Arg::Int(i) => Value::Int(i),
            Arg::Date(d) => Value::Date(d),
        })
    }

    fn arg(&self) -> Arg<'_> {
        match self {
            Value::Nil => Arg::Nil,
            Value::Str { len, bytes } => {
                // Built from a `&str` cut at its own length, so always valid UTF-8.
                Arg::Str(std::str::from_utf8(&bytes[..*len as usize]).unwrap_or_default())
            }
            Value::Dec(d) => Arg::Dec(*d),
            Value::Int(i) => Arg::Int(*i),
            Value::Date(d) => Arg::Date(*d),
        }
    }
}

/// Writes into the inline bytes; fails when they are full.
struct Inline {
    len: usize,
    bytes: [u8; INLINE],
}

impl fmt::Write for Inline {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let to = self.bytes.get_mut(self.len..self.len + s.len()).ok_or(fmt::Error)?;
        to.copy_from_slice(s.as_bytes());
        self.len += s.len();
        Ok(())
    }
}

impl fmt::Display for Arg<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Arg::Nil => Ok(()),
            Arg::Str(s) => f.write_str(s),
            Arg::Proc(code, modifiers) => {
                f.write_str(code)?;
                modifiers.iter().try_for_each(|m| write!(f, "-{m}"))
            }
            Arg::Join(items, sep) => {
                for (k, i) in items.iter().enumerate() {
                    if k > 0 {
                        f.write_str(sep)?;
                    }
                    f.write_str(i)?;
                }
                Ok(())
            }
            Arg::Dec(d) => fmt::Display::fmt(d, f),
            Arg::Int(i) => fmt::Display::fmt(i, f),
            Arg::Date(d) => fmt::Display::fmt(d, f),
        }
    }
}

fn write_pieces<'a>(f: &mut dyn fmt::Write, pieces: &[Piece], arg: impl Fn(u8) -> Arg<'a>) -> fmt::Result {
    for p in pieces {
        match p {
            Piece::L(s) => f.write_str(s)?,
            Piece::A(i) => write!(f, "{}", arg(*i))?,
        }
    }
    Ok(())
}

#[derive(Clone)]
enum Repr {
    Fixed { message: &'static str, fix: &'static str },
    Deferred { template: &'static Template, args: [Value; 3] },
    Owned { message: Box<str>, fix: Box<str> },
}

/// A finding's message and fix.
#[derive(Clone)]
pub struct Detail(Repr);

impl Detail {
    /// A template with its arguments; formatted now only if an argument does not fit inline.
    pub fn new(template: &'static Template, args: [Arg<'_>; 3]) -> Detail {
        match (Value::new(args[0]), Value::new(args[1]), Value::new(args[2])) {
            (Some(a), Some(b), Some(c)) => Detail(Repr::Deferred { template, args: [a, b, c] }),
            _ => {
                let render = |pieces: &[Piece]| {
                    let mut s = String::new();
                    let _ = write_pieces(&mut s, pieces, |i| args[i as usize]);
                    s.into_boxed_str()
                };
                Detail(Repr::Owned { message: render(template.message), fix: render(template.fix) })
            }
        }
    }

    /// Text without arguments.
    pub fn fixed(message: &'static str, fix: &'static str) -> Detail {
        Detail(Repr::Fixed { message, fix })
    }

    /// Text formatted by the caller.
    pub fn owned(message: String, fix: String) -> Detail {
        Detail(Repr::Owned { message: message.into_boxed_str(), fix: fix.into_boxed_str() })
    }

    pub fn message(&self) -> Text<'_> {
        match &self.0 {
            Repr::Fixed { message, .. } => Text(TextRepr::Str(message)),
            Repr::Deferred { template, args } => Text(TextRepr::Parts(template.message, args)),
            Repr::Owned { message, .. } => Text(TextRepr::Str(message)),
        }
    }

    pub fn fix(&self) -> Text<'_> {
        match &self.0 {
            Repr::Fixed { fix, .. } => Text(TextRepr::Str(fix)),
            Repr::Deferred { template, args } => Text(TextRepr::Parts(template.fix, args)),
            Repr::Owned { fix, .. } => Text(TextRepr::Str(fix)),
        }
    }
}

impl PartialEq for Detail {
    fn eq(&self, other: &Detail) -> bool {
        self.message() == other.message() && self.fix() == other.fix()
    }
}

impl Eq for Detail {}

impl fmt::Debug for Detail {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Detail").field("message", &self.message()).field("fix", &self.fix()).finish()
    }
}

#[derive(Clone, Copy)]
enum TextRepr<'a> {
    Str(&'a str),
    Parts(&'static [Piece], &'a [Value; 3]),
}

/// A borrowed message or fix: `Display` writes it; `Debug` and `Serialize` show it as the
/// string it renders to; compares by its rendered text.
#[derive(Clone, Copy)]
pub struct Text<'a>(TextRepr<'a>);

impl Text<'_> {
    /// The text when it needs no formatting.
    pub fn as_str(&self) -> Option<&str> {
        match self.0 {
            TextRepr::Str(s) => Some(s),
            TextRepr::Parts([Piece::L(s)], _) => Some(s),
            TextRepr::Parts(..) => None,
        }
    }
}

impl fmt::Display for Text<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            TextRepr::Str(s) => f.write_str(s),
            TextRepr::Parts(pieces, args) => write_pieces(f, pieces, |i| args[i as usize].arg()),
        }
    }
}

impl fmt::Debug for Text<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.as_str() {
            Some(s) => fmt::Debug::fmt(s, f),
            None => fmt::Debug::fmt(&self.to_string(), f),
        }
    }
}

impl Ord for Text<'_> {
    fn cmp(&self, other: &Text<'_>) -> Ordering {
        if let (TextRepr::Parts(p, a), TextRepr::Parts(q, b)) = (self.0, other.0) {
            if std::ptr::eq(p, q) && a == b {
                return Ordering::Equal;
            }
        }
        match (self.as_str(), other.as_str()) {
            (Some(a), Some(b)) => a.cmp(b),
            _ => self.to_string().cmp(&other.to_string()),
        }
    }
}

impl PartialOrd for Text<'_> {
    fn partial_cmp(&self, other: &Text<'_>) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for Text<'_> {
    fn eq(&self, other: &Text<'_>) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Text<'_> {}

impl PartialEq<str> for Text<'_> {
    fn eq(&self, other: &str) -> bool {
        match self.as_str() {
            Some(s) => s == other,
            None => {
                let mut rest = Rest(other);
                fmt::write(&mut rest, format_args!("{self}")).is_ok() && rest.0.is_empty()
            }
        }
    }
}

/// Compares written text against a string as it is written: fails at the first difference.
struct Rest<'s>(&'s str);

impl fmt::Write for Rest<'_> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        self.0 = self.0.strip_prefix(s).ok_or(fmt::Error)?;
        Ok(())
    }
}

impl PartialEq<&str> for Text<'_> {
    fn eq(&self, other: &&str) -> bool {
        *self == **other
    }
}

impl serde::Serialize for Text<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self.as_str() {
            Some(t) => s.serialize_str(t),
            None => s.serialize_str(&self.to_string()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Piece::{A, L};
    use super::*;

    const T: Template = Template { message: &[L("a "), A(0), L(" b "), A(1), A(2)], fix: &[A(1), L("!")] };

    #[test]
    fn deferred_and_owned_render_the_same() {
        let long = "x".repeat(INLINE + 1);
        let date = NaiveDate::from_ymd_opt(2026, 11, 3).expect("a valid date");
        for s in ["", "64493", "exactly-22-bytes-long!", long.as_str()] {
            let args = [Arg::Str(s), Arg::Dec(Decimal::new(-12345, 2)), Arg::Date(date)];
            let d = Detail::new(&T, args);
            let want = format!("a {s} b -123.452026-11-03");
            assert_eq!(d.message().to_string(), want);
            assert_eq!(d.message(), want.as_str());
            assert!(d.message() != format!("{want}x").as_str() && d.message() != want[..want.len() - 1]);
            assert_eq!(d.fix().to_string(), "-123.45!");
            assert_eq!(format!("{:?}", d.message()), format!("{want:?}"));
            assert_eq!(matches!(d.0, Repr::Owned { .. }), s.len() > INLINE);
            assert_eq!(d, Detail::owned(want, "-123.45!".into()));
        }
    }

    #[test]
    fn procedures_and_lists_render_inline_or_owned() {
        let mods: Vec<hipaa::Text> = ["50", "59"].map(hipaa::Text::from).to_vec();
        let names: Vec<String> = ["50", "59"].map(String::from).to_vec();
        let d = Detail::new(&T, [Arg::Proc("64636", &mods), Arg::Join(&names, " or "), Arg::Nil]);
        assert_eq!(d.message().to_string(), "a 64636-50-59 b 50 or 59");
        assert!(matches!(d.0, Repr::Deferred { .. }));
        let many: Vec<hipaa::Text> = (0..8).map(|i| hipaa::Text::from(format!("M{i}"))).collect();
        let d = Detail::new(&T, [Arg::Proc("64636", &many), Arg::Join(&[], " or "), Arg::Nil]);
        assert_eq!(d.message().to_string(), "a 64636-M0-M1-M2-M3-M4-M5-M6-M7 b ");
        assert!(matches!(d.0, Repr::Owned { .. }));
    }

    #[test]
    fn texts_order_as_their_strings() {
        let a = Detail::new(&T, [Arg::Str("64493"), Arg::Int(9), Arg::Nil]);
        let b = Detail::new(&T, [Arg::Str("64493"), Arg::Int(10), Arg::Nil]);
        assert_eq!(a.message().cmp(&b.message()), a.message().to_string().cmp(&b.message().to_string()));
        assert_eq!(a.message().cmp(&a.clone().message()), Ordering::Equal);
        assert_eq!(Detail::fixed("b", "").message().cmp(&a.message()), Ordering::Greater);
    }
}

/// Immutable text, cheap to copy and to drop: up to [`Shared::INLINE`] bytes are kept in the
/// value itself (codes, modifiers, CARCs, classes, most ids), longer text is shared by
/// reference count (rows of one claim, set or chunk of work point to one copy). Making a row
/// allocates nothing and dropping it touches no shared counter for its short texts. Compares,
/// hashes, prints (`Display` and `Debug`) and serializes exactly as the `str` it holds.
///
/// ```
/// use rules::text::Shared;
/// let short = Shared::from("CO-45");
/// let long = Shared::from("paid below the contract: appeal with the computation");
/// assert_eq!((short.as_str(), short.clone()), ("CO-45", Shared::from(String::from("CO-45"))));
/// assert!(short < long && long == "paid below the contract: appeal with the computation");
/// assert_eq!(format!("{short:?} {long}"), "\"CO-45\" paid below the contract: appeal with the computation");
/// ```
pub struct Shared(SharedRepr);

/// The length of inline text. An enum rather than a `u8` so that `SharedRepr` can keep its tag in
/// the values a length never takes, and stays two words like the `Arc<str>` it replaced.
#[derive(Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
enum Len {
    L0,
    L1,
    L2,
    L3,
    L4,
    L5,
    L6,
    L7,
    L8,
    L9,
    L10,
    L11,
    L12,
    L13,
    L14,
    L15,
}

const LENS: [Len; Shared::INLINE + 1] = {
    use Len::*;
    [L0, L1, L2, L3, L4, L5, L6, L7, L8, L9, L10, L11, L12, L13, L14, L15]
};

/// Inline text: one `Copy` value, so a clone is a single 16-byte move (copying the length and
/// the bytes as separate fields made overlapping stores and loads the CPU could not forward).
#[derive(Clone, Copy)]
struct InlineText {
    len: Len,
    bytes: [u8; Shared::INLINE],
}

enum SharedRepr {
    Inline(InlineText),
    /// A thin pointer (the `Box<str>` behind the count), so the inline variant's length byte
    /// is free to tell the two apart.
    Heap(std::sync::Arc<Box<str>>),
}

impl Clone for Shared {
    fn clone(&self) -> Shared {
        match &self.0 {
            SharedRepr::Inline(t) => Shared(SharedRepr::Inline(*t)),
            SharedRepr::Heap(s) => Shared(SharedRepr::Heap(s.clone())),
        }
    }
}

impl Shared {
    /// Texts up to this many bytes are kept inline.
    pub const INLINE: usize = 15;

    /// Inline text, or `None` when `s` is longer than [`Shared::INLINE`].
    pub fn inline(s: &str) -> Option<Shared> {
        let len = *LENS.get(s.len())?;
        let mut bytes = [0; Shared::INLINE];
        bytes[..s.len()].copy_from_slice(s.as_bytes());
        Some(Shared(SharedRepr::Inline(InlineText { len, bytes })))
    }

    /// The empty text.
    pub const fn empty() -> Shared {
        Shared(SharedRepr::Inline(InlineText { len: Len::L0, bytes: [0; Shared::INLINE] }))
    }

    pub fn as_str(&self) -> &str {
        match &self.0 {
            // Copied from a `&str` cut at its own length, so always valid UTF-8.
            SharedRepr::Inline(t) => std::str::from_utf8(&t.bytes[..t.len as usize]).unwrap_or_default(),
            SharedRepr::Heap(s) => s,
        }
    }

    fn as_bytes(&self) -> &[u8] {
        match &self.0 {
            SharedRepr::Inline(t) => &t.bytes[..t.len as usize],
            SharedRepr::Heap(s) => s.as_bytes(),
        }
    }
}

impl Default for Shared {
    fn default() -> Shared {
        Shared::empty()
    }
}

impl std::ops::Deref for Shared {
    type Target = str;
    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl std::borrow::Borrow<str> for Shared {
    fn borrow(&self) -> &str {
        self.as_str()
    }
}

impl AsRef<str> for Shared {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

impl From<&str> for Shared {
    fn from(s: &str) -> Shared {
        Shared::inline(s).unwrap_or_else(|| Shared(SharedRepr::Heap(std::sync::Arc::new(s.into()))))
    }
}

impl From<String> for Shared {
    fn from(s: String) -> Shared {
        Shared::inline(&s).unwrap_or_else(|| Shared(SharedRepr::Heap(std::sync::Arc::new(s.into_boxed_str()))))
    }
}

// Byte order is `str` order, so comparisons need not check UTF-8 again.
impl PartialEq for Shared {
    fn eq(&self, other: &Shared) -> bool {
        self.as_bytes() == other.as_bytes()
    }
}

impl Eq for Shared {}

impl PartialOrd for Shared {
    fn partial_cmp(&self, other: &Shared) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Shared {
    fn cmp(&self, other: &Shared) -> Ordering {
        self.as_bytes().cmp(other.as_bytes())
    }
}

impl std::hash::Hash for Shared {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.as_str().hash(state)
    }
}

impl fmt::Display for Shared {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self.as_str(), f)
    }
}

impl fmt::Debug for Shared {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

impl PartialEq<str> for Shared {
    fn eq(&self, other: &str) -> bool {
        self.as_bytes() == other.as_bytes()
    }
}

impl PartialEq<&str> for Shared {
    fn eq(&self, other: &&str) -> bool {
        self.as_bytes() == other.as_bytes()
    }
}

impl PartialEq<String> for Shared {
    fn eq(&self, other: &String) -> bool {
        self.as_bytes() == other.as_bytes()
    }
}

impl serde::Serialize for Shared {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

type FxBuild = std::hash::BuildHasherDefault<crate::reference::FxHasher>;

/// A procedure's modifiers, shared by reference count: an appeal line and its computation
/// name the same list, and the lines of one chunk of work share one copy of each list.
/// Dereferences, compares, prints (`Debug`, as a list) and serializes as the slice it holds,
/// exactly like the `Vec<Text>` it replaced.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Modifiers(std::sync::Arc<[hipaa::Text]>);

impl std::ops::Deref for Modifiers {
    type Target = [hipaa::Text];
    fn deref(&self) -> &[hipaa::Text] {
        &self.0
    }
}

impl From<&[hipaa::Text]> for Modifiers {
    fn from(m: &[hipaa::Text]) -> Modifiers {
        Modifiers(m.into())
    }
}

impl fmt::Debug for Modifiers {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&*self.0, f)
    }
}

impl serde::Serialize for Modifiers {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(s)
    }
}

/// One copy of each distinct long text within a chunk of work (short texts are inline and need
/// none).
///
/// Texts that live at least as long as the interner (`'a`: the reference data, the input
/// models, literals) can be looked up by address with [`Interner::get_at`], so the long texts
/// the rows repeat (a CARC's description as the fix) are neither hashed nor compared; an
/// address names one text for the whole life of the interner because the text is borrowed
/// for it.
pub struct Interner<'a> {
    set: std::collections::HashSet<Shared, FxBuild>,
    /// (address, length) of each borrowed part of a text (zero for parts there are not).
    at: std::collections::HashMap<[usize; 8], Shared, FxBuild>,
    lists: std::collections::HashMap<Box<[hipaa::Text]>, Modifiers, FxBuild>,
    buf: String,
    _texts: std::marker::PhantomData<&'a str>,
}

impl Default for Interner<'_> {
    fn default() -> Self {
        Interner {
            set: Default::default(),
            at: Default::default(),
            lists: Default::default(),
            buf: String::new(),
            _texts: std::marker::PhantomData,
        }
    }
}

impl<'a> Interner<'a> {
    /// By content.
    pub fn get(&mut self, s: &str) -> Shared {
        if let Some(t) = Shared::inline(s) {
            return t;
        }
        if let Some(t) = self.set.get(s) {
            return t.clone();
        }
        let t = Shared::from(s);
        self.set.insert(t.clone());
        t
    }

    /// By address: `s` outlives the interner, so its address names it.
    pub fn get_at(&mut self, s: &'a str) -> Shared {
        if let Some(t) = Shared::inline(s) {
            return t;
        }
        self.by_address([s.as_ptr() as usize, s.len(), 0, 0, 0, 0, 0, 0], |i| i.get(s))
    }

    /// The parts joined, by their addresses: inline when short.
    pub fn get_parts(&mut self, parts: [&'a str; 4]) -> Shared {
        let mut w = InlineWriter::new();
        parts.iter().for_each(|p| w.push(p));
        if let Some(t) = w.finish() {
            return t;
        }
        let at = |s: &str| [s.as_ptr() as usize, s.len()];
        let ([a, b], [c, d], [e, f], [g, h]) = (at(parts[0]), at(parts[1]), at(parts[2]), at(parts[3]));
        self.by_address([a, b, c, d, e, f, g, h], |i| i.build(|s| parts.iter().for_each(|p| s.push_str(p))))
    }

    fn by_address(&mut self, key: [usize; 8], make: impl FnOnce(&mut Self) -> Shared) -> Shared {
        if let Some(t) = self.at.get(&key) {
            return t.clone();
        }
        let t = make(self);
        self.at.insert(key, t.clone());
        t
    }

    /// A modifier list, one copy per distinct list.
    pub fn modifiers(&mut self, m: &[hipaa::Text]) -> Modifiers {
        if let Some(l) = self.lists.get(m) {
            return l.clone();
        }
        let l = Modifiers::from(m);
        self.lists.insert(m.into(), l.clone());
        l
    }

    /// The text `write` builds, built in a buffer kept for the next call.
    pub fn build(&mut self, write: impl FnOnce(&mut String)) -> Shared {
        let mut buf = std::mem::take(&mut self.buf);
        buf.clear();
        write(&mut buf);
        let t = self.get(&buf);
        self.buf = buf;
        t
    }
}

/// Text written into inline storage; [`Shared`] when it fits, else `None`.
pub(crate) struct InlineWriter {
    len: usize,
    bytes: [u8; Shared::INLINE],
    overflow: bool,
}

impl InlineWriter {
    pub(crate) fn new() -> InlineWriter {
        InlineWriter { len: 0, bytes: [0; Shared::INLINE], overflow: false }
    }

    pub(crate) fn push(&mut self, s: &str) {
        match self.bytes.get_mut(self.len..self.len + s.len()) {
            Some(to) if !self.overflow => {
                to.copy_from_slice(s.as_bytes());
                self.len += s.len();
            }
            _ => self.overflow = true,
        }
    }

    pub(crate) fn finish(&self) -> Option<Shared> {
        if self.overflow {
            return None;
        }
        Some(Shared(SharedRepr::Inline(InlineText { len: LENS[self.len], bytes: self.bytes })))
    }
}
