//! Typed element values: money, quantities, dates, NPIs, and the element checks built on them.

use crate::issue::{Issue, IssueCode};
use chrono::NaiveDate;
use rust_decimal::Decimal;
use std::str::FromStr;
use x12::SegmentRef;

/// Parses an X12 `R` (decimal) value: optional minus, digits, at most one point, at most 18
/// digits. Stricter than `Decimal::from_str`, which also takes `_` and exponents.
pub fn decimal(b: &[u8]) -> Option<Decimal> {
    let digits = b.strip_prefix(b"-").unwrap_or(b);
    if digits.is_empty() || digits.len() > 19 {
        return None;
    }
    let mut points = 0;
    let mut n = 0;
    for &c in digits {
        match c {
            b'0'..=b'9' => n += 1,
            b'.' => points += 1,
            _ => return None,
        }
    }
    if points > 1 || n == 0 || n > 18 {
        return None;
    }
    Decimal::from_str(std::str::from_utf8(b).ok()?).ok()
}

/// Parses a `D8` date, CCYYMMDD.
pub fn date8(b: &[u8]) -> Option<NaiveDate> {
    if b.len() != 8 || !b.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let n = |r: std::ops::Range<usize>| b[r].iter().fold(0u32, |a, &d| a * 10 + u32::from(d - b'0'));
    NaiveDate::from_ymd_opt(n(0..4) as i32, n(4..6), n(6..8))
}

/// Parses an `RD8` range, CCYYMMDD-CCYYMMDD, start not after end.
pub fn range8(b: &[u8]) -> Option<(NaiveDate, NaiveDate)> {
    if b.len() != 17 || b[8] != b'-' {
        return None;
    }
    let (from, to) = (date8(&b[..8])?, date8(&b[9..])?);
    (from <= to).then_some((from, to))
}

/// A date element whose format is given by a qualifier (`D8` or `RD8`): the start and end.
pub fn dated(qualifier: &[u8], value: &[u8]) -> Option<(NaiveDate, NaiveDate)> {
    match qualifier {
        b"D8" => date8(value).map(|d| (d, d)),
        b"RD8" => range8(value),
        _ => None,
    }
}

/// Checks an NPI: ten digits whose last is the Luhn check digit over `80840` + the first nine.
///
/// ```
/// assert!(hipaa::npi_valid("1234567893"));
/// assert!(!hipaa::npi_valid("1234567890"));
/// ```
pub fn npi_valid(npi: &str) -> bool {
    let b = npi.as_bytes();
    if b.len() != 10 || !b.iter().all(u8::is_ascii_digit) {
        return false;
    }
    // 24 is the Luhn contribution of the constant prefix 80840.
    let mut sum = 24u32;
    for (i, &d) in b[..9].iter().rev().enumerate() {
        let mut v = u32::from(d - b'0');
        if i % 2 == 0 {
            v *= 2;
            if v > 9 {
                v -= 9;
            }
        }
        sum += v;
    }
    (10 - sum % 10) % 10 == u32::from(b[9] - b'0')
}

/// Text of an element, `""` when absent or not UTF-8.
pub fn text(b: &[u8]) -> String {
    std::str::from_utf8(b).unwrap_or("").to_string()
}

/// Element checks for one transaction set, collecting issues with positions.
pub struct Checks<'i> {
    pub set_start: u64,
    pub issues: &'i mut Vec<Issue>,
}

impl<'i> Checks<'i> {
    pub fn new(set_start: u64, issues: &'i mut Vec<Issue>) -> Checks<'i> {
        Checks { set_start, issues }
    }

    fn push(
        &mut self,
        seg: &SegmentRef<'_>,
        l: &'static str,
        el: usize,
        comp: Option<u16>,
        code: IssueCode,
        what: String,
    ) {
        self.issues.push(Issue::element(seg, self.set_start, Some(l), el as u16, comp, code, what));
    }

    /// A required element: present and not empty.
    pub fn required(&mut self, seg: &SegmentRef<'_>, l: &'static str, el: usize) -> bool {
        if seg.get(el).is_empty() {
            let id = String::from_utf8_lossy(seg.id()).into_owned();
            self.push(
                seg,
                l,
                el,
                None,
                IssueCode::RequiredElementMissing,
                format!("required element {id}{el:02} missing"),
            );
            return false;
        }
        true
    }

    /// A code value from a fixed list (checked only when present).
    pub fn code(&mut self, seg: &SegmentRef<'_>, l: &'static str, el: usize, allowed: &[&str]) -> bool {
        let v = seg.get(el);
        if v.is_empty() || allowed.iter().any(|a| a.as_bytes() == v) {
            return true;
        }
        let id = String::from_utf8_lossy(seg.id()).into_owned();
        self.push(seg, l, el, None, IssueCode::InvalidCode, format!("invalid code value in {id}{el:02}"));
        false
    }

    /// Length limits (checked only when present).
    pub fn length(&mut self, seg: &SegmentRef<'_>, l: &'static str, el: usize, min: usize, max: usize) -> bool {
        let n = seg.get(el).len();
        let id = String::from_utf8_lossy(seg.id()).into_owned();
        if n > 0 && n < min {
            self.push(seg, l, el, None, IssueCode::TooShort, format!("{id}{el:02} shorter than {min}"));
            false
        } else if n > max {
            self.push(seg, l, el, None, IssueCode::TooLong, format!("{id}{el:02} longer than {max}"));
            false
        } else {
            true
        }
    }

    /// A money or quantity element (`R`), `None` when absent or invalid (invalid is reported).
    pub fn decimal(&mut self, seg: &SegmentRef<'_>, l: &'static str, el: usize) -> Option<Decimal> {
        let v = seg.get(el);
        if v.is_empty() {
            return None;
        }
        let d = decimal(v);
        if d.is_none() {
            let id = String::from_utf8_lossy(seg.id()).into_owned();
            self.push(seg, l, el, None, IssueCode::InvalidNumber, format!("{id}{el:02} is not a decimal number"));
        }
        d
    }

    /// A required decimal.
    pub fn req_decimal(&mut self, seg: &SegmentRef<'_>, l: &'static str, el: usize) -> Option<Decimal> {
        if self.required(seg, l, el) {
            self.decimal(seg, l, el)
        } else {
            None
        }
    }

    /// A `D8` date element (checked only when present).
    pub fn date(&mut self, seg: &SegmentRef<'_>, l: &'static str, el: usize) -> Option<NaiveDate> {
        let v = seg.get(el);
        if v.is_empty() {
            return None;
        }
        let d = date8(v);
        if d.is_none() {
            let id = String::from_utf8_lossy(seg.id()).into_owned();
            self.push(seg, l, el, None, IssueCode::InvalidDate, format!("{id}{el:02} is not a valid CCYYMMDD date"));
        }
        d
    }

    /// A DTP segment: DTP02 format qualifier and DTP03 date or range.
    pub fn dtp(&mut self, seg: &SegmentRef<'_>, l: &'static str) -> Option<(NaiveDate, NaiveDate)> {
        self.required(seg, l, 1);
        if !self.required(seg, l, 2) || !self.required(seg, l, 3) {
            return None;
        }
        if !self.code(seg, l, 2, &["D8", "RD8"]) {
            return None;
        }
        let d = dated(seg.get(2), seg.get(3));
        if d.is_none() {
            self.push(seg, l, 3, None, IssueCode::InvalidDate, "DTP03 does not match its DTP02 date format".into());
        }
        d
    }

    /// An NPI element (checked when present and the qualifier says XX).
    pub fn npi(&mut self, seg: &SegmentRef<'_>, l: &'static str, el: usize) -> bool {
        let v = std::str::from_utf8(seg.get(el)).unwrap_or("");
        if v.is_empty() || npi_valid(v) {
            return true;
        }
        let id = String::from_utf8_lossy(seg.id()).into_owned();
        self.push(
            seg,
            l,
            el,
            None,
            IssueCode::PatternMismatch,
            format!("{id}{el:02} is not a valid NPI (check digit)"),
        );
        false
    }

    /// A balancing failure, reported on the element that does not add up.
    pub fn unbalanced(&mut self, seg: &SegmentRef<'_>, l: &'static str, el: usize, what: String) {
        self.push(seg, l, el, None, IssueCode::Unbalanced, what);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Decimal {
        s.parse().expect("test literal")
    }

    #[test]
    fn decimals_are_strict() {
        assert_eq!(decimal(b"37.50"), Some(d("37.50")));
        assert_eq!(decimal(b"-12.5"), Some(d("-12.5")));
        assert_eq!(decimal(b".5"), Some(d("0.5")));
        for bad in [&b""[..], b"1_000", b"1e3", b"1.2.3", b"-", b".", b"12a", b"1234567890123456789"] {
            assert_eq!(decimal(bad), None, "{:?}", String::from_utf8_lossy(bad));
        }
    }

    #[test]
    fn dates_and_ranges() {
        assert_eq!(date8(b"20261127"), NaiveDate::from_ymd_opt(2026, 11, 27));
        assert_eq!(date8(b"20002316"), None);
        assert_eq!(date8(b"2026112"), None);
        let r = range8(b"20261101-20261231").expect("valid");
        assert_eq!(r.1, NaiveDate::from_ymd_opt(2026, 12, 31).expect("valid"));
        assert_eq!(range8(b"20261231-20261101"), None);
    }

    #[test]
    fn npi_check_digit() {
        assert!(npi_valid("1234567893"));
        assert!(!npi_valid("123456789"));
        assert!(!npi_valid("12345678A3"));
    }
}
