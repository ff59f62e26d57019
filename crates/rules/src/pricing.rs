//! Expected contracted amounts for a submitted claim: fee schedule per unit, bilateral
//! adjustment, then multiple-procedure ranking with the payer's percentages (DOMAIN.md
//! section 4), add-on and indicator-0 codes exempt.
//!
//! The order matters and is the contract's, not ours: the bilateral adjustment is applied
//! first, so a 64493-50 ranks with its 150% amount; only then are the indicator-2 lines of one
//! date ranked by amount. Every step is written down in [`LinePrice::steps`] so the same text
//! can go into an appeal letter.

use crate::reference::{CodeInfo, Fee, HashMap, Reference};
use crate::text::{Modifiers, Shared};
use chrono::NaiveDate;
use hipaa::Text;
use hipaa::{Claim, ServiceLine};
use rust_decimal::{Decimal, RoundingStrategy};
use serde::Serialize;
use std::fmt::{self, Write as _};

/// Money rounded to cents, half away from zero, with two decimals always shown.
#[inline]
pub fn cents(d: Decimal) -> Decimal {
    // Most amounts already are cents; rounding and rescaling would return them unchanged.
    if d.scale() == 2 {
        return d;
    }
    let mut r = d.round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero);
    r.rescale(2);
    r
}

/// `d` percent of `amount`, in cents.
pub fn percent(amount: Decimal, pct: u32) -> Decimal {
    cents(amount * Decimal::from(pct) / Decimal::ONE_HUNDRED)
}

/// Formats money for explanations: `$1,234.50`.
pub fn money(d: Decimal) -> String {
    Money(d).to_string()
}

/// [`money`] as a `Display`, written without building intermediate strings.
#[derive(Clone, Copy, Debug)]
pub struct Money(pub Decimal);

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let c = cents(self.0);
        if c.scale() != 2 {
            // Only amounts too large to carry two decimals (near 10^28).
            return f.write_str(&money_text(self.0));
        }
        let neg = c.is_sign_negative() && !c.is_zero();
        let m = c.mantissa().unsigned_abs();
        let (mut int, frac) = (m / 100, m % 100);
        // Digits right to left, a comma before each group of three.
        let mut buf = [0u8; 64];
        let mut at = buf.len();
        let mut digits = 0;
        loop {
            if digits > 0 && digits % 3 == 0 {
                at -= 1;
                buf[at] = b',';
            }
            at -= 1;
            buf[at] = b'0' + (int % 10) as u8;
            int /= 10;
            digits += 1;
            if int == 0 {
                break;
            }
        }
        let grouped = std::str::from_utf8(&buf[at..]).map_err(|_| fmt::Error)?;
        write!(f, "{}${grouped}.{frac:02}", if neg { "-" } else { "" })
    }
}

/// The reference for [`Money`]: through the decimal's text.
fn money_text(d: Decimal) -> String {
    let c = cents(d);
    let neg = c.is_sign_negative() && !c.is_zero();
    let s = c.abs().to_string();
    let (int, frac) = s.split_once('.').unwrap_or((s.as_str(), "00"));
    let mut grouped = String::new();
    for (i, ch) in int.chars().enumerate() {
        if i > 0 && (int.len() - i) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(ch);
    }
    format!("{}${grouped}.{frac}", if neg { "-" } else { "" })
}

/// The expected contracted amount of one submitted line, with how it was reached.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct LinePrice {
    /// LX01 of the submitted line.
    pub line: u32,
    pub code: Shared,
    pub modifiers: Modifiers,
    pub service_date: Option<NaiveDate>,
    /// Contracted single-unit fee from the fee schedule.
    pub fee: Option<Decimal>,
    /// After units and the bilateral adjustment, before multiple-procedure ranking.
    pub base: Option<Decimal>,
    /// Rank among the date's indicator-2 lines (1 = highest) and the percentage applied.
    pub mpr_rank: Option<u32>,
    pub mpr_percent: Option<u32>,
    /// The expected contracted allowed amount; `None` when it cannot be computed (no fee,
    /// by report): see `review`.
    pub expected: Option<Decimal>,
    /// For the second line of an RT/LT pair priced as one bilateral procedure: the line that
    /// carries the pair's amount. That line's `expected` covers both.
    pub priced_with: Option<u32>,
    /// For the first line of such a pair: its partner.
    pub partner: Option<u32>,
    /// Why no expected amount could be computed (manual review).
    pub review: Option<String>,
    /// The computation in words, one step per entry.
    pub steps: Vec<StepText>,
}

impl LinePrice {
    /// One paragraph a biller can paste into an appeal.
    pub fn explain(&self) -> String {
        explain_text(self.line, &self.code, &self.modifiers, self.steps.iter())
    }
}

fn explain_text<S: fmt::Display>(line: u32, code: &str, modifiers: &[Text], steps: impl Iterator<Item = S>) -> String {
    let mut s = format!("Line {line} ({}): ", display(code, modifiers));
    for (k, step) in steps.enumerate() {
        if k > 0 {
            s.push_str("; ");
        }
        let _ = write!(s, "{step}");
    }
    s.push('.');
    s
}

/// One step of a line's computation, kept as its values and written out only when read.
///
/// Why: the reconciler prices every claim without explanations, then needed the steps of the
/// lines an appeal letter names, and priced those claims a second time to get them (with the
/// steps formatted as they were made, a sixth of a run). Every step is now recorded as it is
/// taken, which costs a few words; [`Priced::want`] says which ones a line shows, and a letter
/// shows all of its line's. Each variant writes exactly the text the step had before.
#[derive(Clone, Debug)]
pub(crate) enum Step<S> {
    NoDate,
    NoFee {
        payer_id: S,
        code: S,
        on: NaiveDate,
    },
    Contract {
        payer_id: S,
        code: S,
        on: NaiveDate,
        fee: Decimal,
    },
    /// Shown whether or not the line's steps are wanted (as it always was).
    BilateralUnits {
        units: Decimal,
    },
    Bilateral {
        why: &'static str,
        amount: Decimal,
    },
    Units {
        units: Decimal,
        fee: Decimal,
        amount: Decimal,
    },
    Pair {
        first: u32,
        partner: u32,
        indicator: u8,
        pct: u32,
        fee: Decimal,
        amount: Decimal,
    },
    PricedWith {
        first: u32,
    },
    AddOn,
    ByReport {
        rank: u32,
        count: usize,
    },
    Rank {
        rank: u32,
        count: usize,
        pct: u32,
        payer_id: S,
        base: Decimal,
        amount: Decimal,
    },
    Expected {
        amount: Decimal,
    },
}

impl<S: fmt::Display> fmt::Display for Step<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Step::NoDate => f.write_str("no service date: the fee schedule cannot be read"),
            Step::NoFee { payer_id, code, on } => {
                write!(f, "no contracted fee for {payer_id} {code} on {on}: manual review")
            }
            Step::Contract { payer_id, code, on, fee } => {
                write!(f, "contract {payer_id} {code} on {on}: {} per unit", Money(*fee))
            }
            Step::BilateralUnits { units } => {
                write!(f, "modifier 50 billed with {} units: priced as one bilateral unit", units.normalize())
            }
            Step::Bilateral { why, amount } => write!(f, "modifier 50, {why} = {}", Money(*amount)),
            Step::Units { units, fee, amount } => {
                write!(f, "{} units x {} = {}", units.normalize(), Money(*fee), Money(*amount))
            }
            Step::Pair { first, partner, indicator, pct, fee, amount } => write!(
                f,
                "RT and LT on lines {first} and {partner} are one bilateral procedure (bilateral indicator {indicator}): \
                 {pct}% of {} = {} for both lines, carried on line {first}",
                Money(*fee),
                Money(*amount)
            ),
            Step::PricedWith { first } => write!(f, "priced with line {first} as one bilateral procedure"),
            Step::AddOn => f.write_str("add-on code: exempt from the multiple-procedure reduction"),
            Step::ByReport { rank, count } => {
                write!(f, "multiple-procedure rank {rank} of {count}: beyond five, priced by report (manual review)")
            }
            Step::Rank { rank, count, pct, payer_id, base, amount } => write!(
                f,
                "multiple-procedure rank {rank} of {count} by fee: {pct}% ({payer_id} contract) of {} = {}",
                Money(*base),
                Money(*amount)
            ),
            Step::Expected { amount } => write!(f, "expected allowed {}", Money(*amount)),
        }
    }
}

impl Step<&str> {
    /// The step owning its texts, for a [`LinePrice`].
    fn to_text(&self) -> StepText {
        let t = |s: &&str| Shared::from(*s);
        StepText(match self {
            Step::NoDate => Step::NoDate,
            Step::NoFee { payer_id, code, on } => Step::NoFee { payer_id: t(payer_id), code: t(code), on: *on },
            Step::Contract { payer_id, code, on, fee } => {
                Step::Contract { payer_id: t(payer_id), code: t(code), on: *on, fee: *fee }
            }
            Step::BilateralUnits { units } => Step::BilateralUnits { units: *units },
            Step::Bilateral { why, amount } => Step::Bilateral { why, amount: *amount },
            Step::Units { units, fee, amount } => Step::Units { units: *units, fee: *fee, amount: *amount },
            Step::Pair { first, partner, indicator, pct, fee, amount } => Step::Pair {
                first: *first,
                partner: *partner,
                indicator: *indicator,
                pct: *pct,
                fee: *fee,
                amount: *amount,
            },
            Step::PricedWith { first } => Step::PricedWith { first: *first },
            Step::AddOn => Step::AddOn,
            Step::ByReport { rank, count } => Step::ByReport { rank: *rank, count: *count },
            Step::Rank { rank, count, pct, payer_id, base, amount } => Step::Rank {
                rank: *rank,
                count: *count,
                pct: *pct,
                payer_id: t(payer_id),
                base: *base,
                amount: *amount,
            },
            Step::Expected { amount } => Step::Expected { amount: *amount },
        })
    }
}

/// One step of a [`LinePrice`]'s computation: its values, written as text when displayed,
/// printed with `{:?}`, compared or serialized, and in each of these exactly as the `String`
/// it renders to. A run makes tens of thousands of appeal drafts whose steps are read only
/// when a letter is written; formatting them up front was a tenth of a reconciliation.
#[derive(Clone)]
pub struct StepText(Step<Shared>);

impl fmt::Display for StepText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

impl fmt::Debug for StepText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.to_string(), f)
    }
}

impl PartialEq for StepText {
    fn eq(&self, other: &StepText) -> bool {
        self.to_string() == other.to_string()
    }
}

impl Eq for StepText {}

impl Serialize for StepText {
    fn serialize<Z: serde::Serializer>(&self, z: Z) -> Result<Z::Ok, Z::Error> {
        z.serialize_str(&self.to_string())
    }
}

/// A line's price as it is computed: [`LinePrice`] borrowing the claim's code and modifiers, so
/// the reconciler can price every remitted claim without copying its lines.
#[derive(Clone, Debug)]
pub(crate) struct Priced<'a> {
    pub line: u32,
    pub code: &'a str,
    pub modifiers: &'a [Text],
    /// The code's reference data, looked up once per line.
    pub info: Option<&'a CodeInfo>,
    pub service_date: Option<NaiveDate>,
    pub fee: Option<Decimal>,
    pub base: Option<Decimal>,
    pub mpr_rank: Option<u32>,
    pub mpr_percent: Option<u32>,
    pub expected: Option<Decimal>,
    pub priced_with: Option<u32>,
    pub partner: Option<u32>,
    pub review: Option<String>,
    /// Every step taken, shown or not.
    pub steps: Vec<Step<&'a str>>,
    /// Whether this line's steps are shown (explanations, or a line an appeal names).
    pub want: bool,
}

impl Priced<'_> {
    /// The steps the line shows: all when wanted, else only those always shown.
    fn shown(&self) -> impl Iterator<Item = &Step<&str>> {
        self.steps.iter().filter(|s| self.want || matches!(s, Step::BilateralUnits { .. }))
    }

    /// The same text as [`LinePrice::explain`].
    pub(crate) fn explain(&self) -> String {
        explain_text(self.line, self.code, self.modifiers, self.shown())
    }

    /// The line as priced with its steps wanted, as an appeal letter shows it, naming the
    /// line's `modifiers` (shared with the letter's line).
    pub(crate) fn to_line_price_wanted(&self, modifiers: Modifiers) -> LinePrice {
        self.line_price(modifiers, self.steps.iter())
    }

    pub(crate) fn to_line_price(&self) -> LinePrice {
        self.line_price(self.modifiers.into(), self.shown())
    }

    fn line_price<'s>(&'s self, modifiers: Modifiers, steps: impl Iterator<Item = &'s Step<&'s str>>) -> LinePrice {
        LinePrice {
            line: self.line,
            code: self.code.into(),
            modifiers,
            service_date: self.service_date,
            fee: self.fee,
            base: self.base,
            mpr_rank: self.mpr_rank,
            mpr_percent: self.mpr_percent,
            expected: self.expected,
            priced_with: self.priced_with,
            partner: self.partner,
            review: self.review.clone(),
            steps: steps.map(Step::to_text).collect(),
        }
    }

    fn into_line_price(self) -> LinePrice {
        self.to_line_price()
    }
}

/// The priced line with LX01 `number`.
pub(crate) fn find<'p, 'a>(lines: &'p [Priced<'a>], number: u32) -> Option<&'p Priced<'a>> {
    lines.iter().find(|l| l.line == number)
}

/// Sum of the lines' expected amounts, `None` when any line could not be priced.
pub(crate) fn total(lines: &[Priced<'_>]) -> Option<Decimal> {
    lines.iter().map(|l| l.expected).sum()
}

/// [`ClaimPrice::explain`] of borrowed lines.
pub(crate) fn explain_all(lines: &[Priced<'_>]) -> String {
    let mut out = String::new();
    for l in lines {
        out.push_str(&l.explain());
        out.push('\n');
    }
    out
}

/// The expected amounts of one claim.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ClaimPrice {
    pub claim_id: String,
    pub payer_id: String,
    pub lines: Vec<LinePrice>,
}

impl ClaimPrice {
    pub fn line(&self, number: u32) -> Option<&LinePrice> {
        self.lines.iter().find(|l| l.line == number)
    }

    /// Sum of the lines' expected amounts, `None` when any line could not be priced.
    pub fn total(&self) -> Option<Decimal> {
        self.lines.iter().map(|l| l.expected).sum()
    }

    /// The whole computation, one line per service line.
    pub fn explain(&self) -> String {
        let mut out = String::new();
        for l in &self.lines {
            out.push_str(&l.explain());
            out.push('\n');
        }
        out
    }
}

/// `64493-50-RT`.
pub fn display(code: &str, modifiers: &[Text]) -> String {
    let mut s = code.to_string();
    for m in modifiers {
        s.push('-');
        s.push_str(m);
    }
    s
}

fn has(mods: &[Text], m: &str) -> bool {
    mods.iter().any(|x| x == m)
}

/// Prices a claim for the payer `payer_id` (the payer whose contract applies: the claim's
/// 2010BB payer for a primary claim, or the remitting payer).
pub fn price_claim(reference: &Reference, claim: &Claim, payer_id: &str) -> ClaimPrice {
    price_claim_with(reference, claim, payer_id, true)
}

/// [`price_claim`], with the steps of the computation written down only when `steps` is set.
pub fn price_claim_with(reference: &Reference, claim: &Claim, payer_id: &str, steps: bool) -> ClaimPrice {
    let lines = price_lines(reference, claim, payer_id, steps).into_iter().map(Priced::into_line_price).collect();
    ClaimPrice { claim_id: claim.claim_id.to_string(), payer_id: payer_id.to_string(), lines }
}

/// [`price_claim_with`] without copying the claim's codes and modifiers.
pub(crate) fn price_lines<'a>(
    reference: &'a Reference,
    claim: &'a Claim,
    payer_id: &'a str,
    steps: bool,
) -> Vec<Priced<'a>> {
    let mut lines = Vec::with_capacity(claim.lines.len());
    price_lines_into(&mut lines, reference, claim, payer_id, steps);
    lines
}

/// [`price_lines`] into a buffer the caller reuses from claim to claim. Every step is recorded
/// ([`Step`]); `steps` says whether the lines show them.
pub(crate) fn price_lines_into<'a>(
    lines: &mut Vec<Priced<'a>>,
    reference: &'a Reference,
    claim: &'a Claim,
    payer_id: &'a str,
    steps: bool,
) {
    let payer = reference.payer(payer_id);
    // The payer's fee schedule, looked up once per claim rather than once per line.
    let fees = reference.fees.get(payer_id);
    let default_date = claim.first_service_date();
    // Each line's step list is reused from the claim priced before into the same buffer.
    lines.truncate(claim.lines.len());
    for (i, l) in claim.lines.iter().enumerate() {
        let mut recorded = lines.get_mut(i).map(|p| std::mem::take(&mut p.steps)).unwrap_or_default();
        recorded.clear();
        let p = base_price(reference, fees, payer_id, l, default_date, steps, recorded);
        match lines.get_mut(i) {
            Some(slot) => *slot = p,
            None => lines.push(p),
        }
    }
    pair_rt_lt(lines);
    rank_mpr(&payer.mpr_percentages, payer_id, lines);
}

/// Fee, units and modifier 50: everything that does not depend on the other lines.
fn base_price<'a>(
    reference: &'a Reference,
    fees: Option<&HashMap<String, Vec<Fee>>>,
    payer_id: &'a str,
    l: &'a ServiceLine,
    default_date: Option<NaiveDate>,
    steps: bool,
    recorded: Vec<Step<&'a str>>,
) -> Priced<'a> {
    let code = l.procedure.code.as_str();
    let mods = l.procedure.modifiers.as_slice();
    let date = l.service_from.or(default_date);
    let info = reference.code(code);
    let mut p = Priced {
        line: l.number,
        code,
        modifiers: mods,
        info,
        service_date: date,
        fee: None,
        base: None,
        mpr_rank: None,
        mpr_percent: None,
        expected: None,
        priced_with: None,
        partner: None,
        review: None,
        steps: recorded,
        want: steps,
    };
    let Some(on) = date else {
        p.review = Some("no service date on the line".into());
        p.steps.push(Step::NoDate);
        return p;
    };
    let Some(fee) = fees.and_then(|f| f.get(code)).and_then(|rows| Reference::fee_in(rows, mods, on)) else {
        p.review = Some(format!("no contracted fee for {payer_id} {code} on {on}"));
        p.steps.push(Step::NoFee { payer_id, code, on });
        return p;
    };
    p.fee = Some(fee);
    p.steps.push(Step::Contract { payer_id, code, on, fee });
    let base = if has(mods, "50") {
        if l.units != Decimal::ONE {
            p.steps.push(Step::BilateralUnits { units: l.units });
        }
        let (pct, why) = match info.map(|c| c.bilateral_indicator) {
            Some(1) => (150, "bilateral indicator 1: 150% of the single fee"),
            Some(0) => (100, "bilateral indicator 0: modifier 50 pays as one unit (100%)"),
            Some(2) => (100, "bilateral indicator 2: the fee is already bilateral (100%)"),
            Some(3) => (200, "bilateral indicator 3: each side at 100% (200%)"),
            _ => (100, "bilateral adjustment does not apply (100%)"),
        };
        let b = percent(fee, pct);
        p.steps.push(Step::Bilateral { why, amount: b });
        b
    } else {
        let b = cents(fee * l.units);
        if l.units != Decimal::ONE {
            p.steps.push(Step::Units { units: l.units, fee, amount: b });
        }
        b
    };
    p.base = Some(base);
    p.expected = Some(base);
    p
}

/// RT and LT of one code on one date on two lines are one bilateral procedure when the code's
/// bilateral indicator is 1 (150%) or 0/2 (100%, paid as one). Indicator 3 pays each side.
fn pair_rt_lt(lines: &mut [Priced<'_>]) {
    let n = lines.len();
    for i in 0..n {
        if lines[i].priced_with.is_some() || lines[i].partner.is_some() || !has(lines[i].modifiers, "RT") {
            continue;
        }
        let Some(j) = (0..n).find(|&j| {
            j != i
                && lines[j].code == lines[i].code
                && lines[j].service_date == lines[i].service_date
                && has(lines[j].modifiers, "LT")
                && !has(lines[j].modifiers, "50")
                && lines[j].priced_with.is_none()
                && lines[j].partner.is_none()
        }) else {
            continue;
        };
        let Some(ind) = lines[i].info.map(|c| c.bilateral_indicator) else { continue };
        let pct = match ind {
            1 => 150,
            0 | 2 => 100,
            _ => continue,
        };
        let (first, second) = if lines[i].line <= lines[j].line { (i, j) } else { (j, i) };
        let (Some(fee_a), Some(fee_b)) = (lines[first].fee, lines[second].fee) else { continue };
        let fee = fee_a.max(fee_b);
        let amount = percent(fee, pct);
        let partner_line = lines[second].line;
        let first_line = lines[first].line;
        let a = &mut lines[first];
        a.partner = Some(partner_line);
        a.base = Some(amount);
        a.expected = Some(amount);
        a.steps.push(Step::Pair { first: first_line, partner: partner_line, indicator: ind, pct, fee, amount });
        let b = &mut lines[second];
        b.priced_with = Some(first_line);
        b.base = Some(Decimal::ZERO);
        b.expected = Some(Decimal::ZERO.round_dp(2));
        b.steps.push(Step::PricedWith { first: first_line });
    }
}

/// Ranks the indicator-2, non-add-on lines of each date by their bilateral-adjusted amount and
/// applies the contract's percentages; rank 6 and beyond is by report.
fn rank_mpr<'a>(percentages: &[u32], payer_id: &'a str, lines: &mut [Priced<'a>]) {
    // The ranked lines of every date in one list, sorted by date, so each date is a run.
    let mut ranked: Vec<(Option<NaiveDate>, usize)> = Vec::new();
    for (i, l) in lines.iter_mut().enumerate() {
        let Some(info) = l.info else { continue };
        if l.priced_with.is_some() || l.base.is_none() {
            continue;
        }
        if info.is_addon() {
            l.steps.push(Step::AddOn);
            continue;
        }
        if info.mpr_indicator != 2 {
            continue;
        }
        ranked.push((l.service_date, i));
    }
    // Highest amount first; equal amounts keep line order so the result is deterministic.
    ranked.sort_by(|&(da, a), &(db, b)| {
        da.cmp(&db).then(lines[b].base.cmp(&lines[a].base)).then(lines[a].line.cmp(&lines[b].line))
    });
    for group in ranked.chunk_by(|a, b| a.0 == b.0) {
        let idx = group.iter().map(|&(_, i)| i);
        let count = idx.len();
        for (rank0, i) in idx.enumerate() {
            let rank = rank0 as u32 + 1;
            let l = &mut lines[i];
            l.mpr_rank = Some(rank);
            if count == 1 {
                l.mpr_percent = Some(100);
                continue;
            }
            if rank > 5 {
                l.expected = None;
                l.review = Some(format!("multiple-procedure rank {rank} of {count}: priced by report"));
                l.steps.push(Step::ByReport { rank, count });
                continue;
            }
            let pct = percentages.get(rank0).or(percentages.last()).copied().unwrap_or(100);
            let base = l.base.unwrap_or_default();
            let amount = percent(base, pct);
            l.mpr_percent = Some(pct);
            l.expected = Some(amount);
            l.steps.push(Step::Rank { rank, count, pct, payer_id, base, amount });
        }
    }
    for l in lines.iter_mut() {
        if let Some(e) = l.expected {
            if l.priced_with.is_none() {
                l.steps.push(Step::Expected { amount: e });
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hipaa::Procedure;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").expect("test date")
    }

    fn line(n: u32, code: &str, mods: &[&str], units: i64) -> ServiceLine {
        ServiceLine {
            number: n,
            procedure: Procedure {
                qualifier: "HC".into(),
                code: code.into(),
                modifiers: mods.iter().map(|&m| m.into()).collect(),
            },
            units: Decimal::from(units),
            service_from: Some(d("2026-11-03")),
            service_to: Some(d("2026-11-03")),
            ..ServiceLine::default()
        }
    }

    fn claim(lines: Vec<ServiceLine>) -> Claim {
        Claim { claim_id: "T1".into(), lines, ..Claim::default() }
    }

    fn dec(s: &str) -> Decimal {
        s.parse().expect("test decimal")
    }

    #[test]
    fn worked_example_prices_as_domain_section_4() {
        let r = Reference::embedded().expect("embedded");
        let c = claim(vec![
            line(1, "99214", &["25"], 1),
            line(2, "64493", &["50"], 1),
            line(3, "64494", &["50"], 1),
            line(4, "20553", &["XS"], 1),
        ]);
        let p = price_claim(&r, &c, "BCBSTX");
        let e: Vec<_> = p.lines.iter().map(|l| l.expected).collect();
        assert_eq!(e, vec![Some(dec("130.00")), Some(dec("300.00")), Some(dec("165.00")), Some(dec("37.50"))]);
        assert_eq!(p.lines[1].mpr_rank, Some(1));
        assert_eq!(p.lines[3].mpr_rank, Some(2));
        assert_eq!(p.lines[3].mpr_percent, Some(50));
        assert_eq!(p.total(), Some(dec("632.50")));
        assert!(p.lines[3].explain().contains("rank 2 of 2 by fee: 50% (BCBSTX contract) of $75.00 = $37.50"));
    }

    #[test]
    fn rt_lt_pair_with_indicator_1_is_one_bilateral_procedure() {
        let r = Reference::embedded().expect("embedded");
        let c = claim(vec![line(1, "64493", &["RT"], 1), line(2, "64493", &["LT"], 1)]);
        let p = price_claim(&r, &c, "AETNA1");
        // 207.46 x 150% = 311.19, on line 1; line 2 priced with it.
        assert_eq!(p.lines[0].expected, Some(dec("311.19")));
        assert_eq!(p.lines[1].expected, Some(dec("0.00")));
        assert_eq!(p.lines[1].priced_with, Some(1));
        assert_eq!(p.lines[0].mpr_percent, Some(100));
    }

    #[test]
    fn rt_lt_pair_with_indicator_0_pays_as_one() {
        let r = Reference::embedded().expect("embedded");
        let c = claim(vec![line(1, "20553", &["RT"], 1), line(2, "20553", &["LT"], 1)]);
        let p = price_claim(&r, &c, "BCBSTX");
        assert_eq!(p.lines[0].expected, Some(dec("75.00")));
        assert_eq!(p.lines[1].expected, Some(dec("0.00")));
    }

    #[test]
    fn contract_percentages_and_by_report_beyond_five() {
        let r = Reference::embedded().expect("embedded");
        // AETNA1: 100/50/25/25/25. Six indicator-2 lines: the sixth is by report.
        let c = claim(vec![
            line(1, "20553", &[], 1),
            line(2, "64635", &[], 1),
            line(3, "64483", &[], 1),
            line(4, "64493", &[], 1),
            line(5, "64490", &[], 1),
            line(6, "64633", &[], 1),
        ]);
        let p = price_claim(&r, &c, "AETNA1");
        let by_line = |n: u32| p.line(n).expect("line");
        assert_eq!((by_line(6).mpr_rank, by_line(6).expected), (Some(1), Some(dec("531.88"))));
        assert_eq!((by_line(2).mpr_rank, by_line(2).expected), (Some(2), Some(dec("264.50"))));
        assert_eq!((by_line(3).mpr_rank, by_line(3).expected), (Some(3), Some(dec("71.88"))));
        assert_eq!((by_line(5).mpr_rank, by_line(5).expected), (Some(4), Some(dec("59.60"))));
        assert_eq!((by_line(4).mpr_rank, by_line(4).expected), (Some(5), Some(dec("51.87"))));
        assert_eq!((by_line(1).mpr_rank, by_line(1).expected), (Some(6), None));
        assert!(by_line(1).review.as_deref().is_some_and(|r| r.contains("by report")));
        assert_eq!(p.total(), None);
    }

    #[test]
    fn units_multiply_and_missing_fee_needs_review() {
        let r = Reference::embedded().expect("embedded");
        let c = claim(vec![line(1, "64635", &["RT"], 1), line(2, "64636", &["RT"], 2), line(3, "99999", &[], 1)]);
        let p = price_claim(&r, &c, "AETNA1");
        assert_eq!(p.lines[0].expected, Some(dec("529.00")));
        assert_eq!(p.lines[1].expected, Some(dec("368.00")));
        assert_eq!(p.lines[2].expected, None);
        assert!(p.lines[2].review.is_some());
    }

    #[test]
    fn cents_keeps_amounts_already_in_cents_bit_for_bit() {
        for s in ["0.00", "-0.00", "12.50", "-7.05", "79228162514264337593543950.33"] {
            let d = dec(s);
            let mut slow = d.round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero);
            slow.rescale(2);
            assert_eq!(cents(d).serialize(), slow.serialize(), "{s}");
        }
    }

    #[test]
    fn money_display_matches_the_text_path() {
        for s in [
            "0",
            "-0.001",
            "0.005",
            "-0.005",
            "7",
            "-12.5",
            "999.995",
            "1234.5",
            "1000000",
            "-1234567.891",
            "7922816251426433759354395.03",
            "79228162514264337593543950.335",
        ] {
            let d = dec(s);
            assert_eq!(Money(d).to_string(), money_text(d), "{s}");
        }
    }

    #[test]
    fn money_formats_with_grouping() {
        assert_eq!(money(dec("1234.5")), "$1,234.50");
        assert_eq!(money(dec("-12.5")), "-$12.50");
        assert_eq!(money(dec("0")), "$0.00");
    }
}
