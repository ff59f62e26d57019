//! Every scrub rule: a claim that fires it and a near miss that must not.

use chrono::NaiveDate;
use hipaa::{Claim, Party, Procedure, ServiceLine};
use rules::history::{AuthRecord, EligibilityRecord, MemoryHistory, PastService};
use rules::scrub::{scrub_claim, Context, Finding, Severity};
use rules::Reference;
use rust_decimal::Decimal;
use std::sync::OnceLock;

fn reference() -> &'static Reference {
    static R: OnceLock<Reference> = OnceLock::new();
    R.get_or_init(|| Reference::embedded().expect("embedded reference"))
}

fn d(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").expect("test date")
}

fn dec(s: &str) -> Decimal {
    s.parse().expect("test amount")
}

const DOS: &str = "2026-11-03";
const TODAY: &str = "2026-11-27";

/// `("64493", "50", 1)`: code, modifiers joined by `-`, units; charge 999 so no
/// charge-below-allowed noise.
fn claim(payer: &str, lines: &[(&str, &str, u32)], dx: &[&str]) -> Claim {
    let lines: Vec<ServiceLine> = lines
        .iter()
        .enumerate()
        .map(|(i, (code, mods, units))| ServiceLine {
            number: i as u32 + 1,
            procedure: Procedure {
                qualifier: "HC".into(),
                code: code.to_string().into(),
                modifiers: mods.split('-').filter(|m| !m.is_empty()).map(hipaa::Text::from).collect(),
            },
            charge: dec("999"),
            unit_basis: "UN".into(),
            units: Decimal::from(*units),
            dx_pointers: vec![1, 2, 3, 4],
            service_from: Some(d(DOS)),
            service_to: Some(d(DOS)),
            control: format!("L{}", i + 1).into(),
            ..ServiceLine::default()
        })
        .collect();
    Claim {
        claim_id: "T1".into(),
        charge: lines.iter().map(|l| l.charge).sum(),
        place_of_service: "11".into(),
        frequency: "1".into(),
        billing_provider: Party {
            entity: "85".into(),
            id_qualifier: "XX".into(),
            id: "1747000010".into(),
            ..Party::default()
        },
        rendering_provider: Some(Party {
            entity: "82".into(),
            id_qualifier: "XX".into(),
            id: "1508000027".into(),
            ..Party::default()
        }),
        subscriber: Party { entity: "IL".into(), id_qualifier: "MI".into(), id: "M1".into(), ..Party::default() },
        payer: Party { entity: "PR".into(), id_qualifier: "PI".into(), id: payer.into(), ..Party::default() },
        diagnoses: dx.iter().map(|s| hipaa::Text::from(s.replace('.', ""))).collect(),
        lines,
        ..Claim::default()
    }
}

fn run(c: &Claim, h: &MemoryHistory) -> Vec<Finding> {
    let ctx = Context { reference: reference(), history: h, today: d(TODAY) };
    scrub_claim(c, &ctx)
}

fn rules_of(f: &[Finding]) -> Vec<(&'static str, Option<u32>, Severity)> {
    f.iter().map(|x| (x.rule, x.line, x.severity)).collect()
}

fn fired(c: &Claim, rule: &str) -> Vec<(Option<u32>, Severity)> {
    run(c, &MemoryHistory::new()).iter().filter(|f| f.rule == rule).map(|f| (f.line, f.severity)).collect()
}

const E: Severity = Severity::Error;
const W: Severity = Severity::Warning;

#[test]
fn worked_example_is_clean() {
    let c = claim(
        "BCBSTX",
        &[("99214", "25", 1), ("64493", "50", 1), ("64494", "50", 1), ("20553", "XS", 1)],
        &["M47.816", "M79.18"],
    );
    assert_eq!(rules_of(&run(&c, &MemoryHistory::new())), vec![]);
}

#[test]
fn imaging_included_fires_for_guidance_with_facet_block_not_with_tpi() {
    let c = claim("BCBSTX", &[("64493", "RT", 1), ("77003", "", 1)], &["M47.816"]);
    assert_eq!(fired(&c, "imaging-included"), [(Some(2), E)]);
    assert_eq!(fired(&c, "ncci-ptp"), [], "folded into imaging-included");
    let f = run(&c, &MemoryHistory::new());
    assert_eq!(f[0].message(), "77003 is included in 64493: its guidance is part of the code");
    let near = claim("BCBSTX", &[("20553", "", 1), ("76942", "", 1)], &["M79.18"]);
    assert_eq!(rules_of(&run(&near, &MemoryHistory::new())), vec![]);
}

#[test]
fn imaging_code_choice_for_62322_with_77003_not_for_62323_alone() {
    let c = claim("BCBSTX", &[("62322", "", 1), ("77003", "", 1)], &["M51.16"]);
    assert_eq!(rules_of(&run(&c, &MemoryHistory::new())), [("imaging-code-choice", Some(1), E)]);
    let f = run(&c, &MemoryHistory::new());
    assert_eq!(f[0].fix(), "bill 62323 and remove 77003");
    let near = claim("BCBSTX", &[("62323", "", 1)], &["M51.16"]);
    assert_eq!(rules_of(&run(&near, &MemoryHistory::new())), vec![]);
}

#[test]
fn laterality_50_with_two_units_fires_one_unit_passes() {
    let c = claim("BCBSTX", &[("64493", "50", 2)], &["M47.816"]);
    assert_eq!(fired(&c, "laterality"), [(Some(1), E)]);
    assert_eq!(fired(&claim("BCBSTX", &[("64493", "50", 1)], &["M47.816"]), "laterality"), []);
    let dup = claim("BCBSTX", &[("64493", "RT", 1), ("64493", "RT", 1)], &["M47.816"]);
    assert_eq!(fired(&dup, "laterality"), [(Some(2), E)]);
    let unsided = claim("MCRJL", &[("64483", "", 1)], &["M54.16"]);
    assert_eq!(fired(&unsided, "laterality"), [(Some(1), W)]);
}

#[test]
fn bilateral_style_follows_the_payer() {
    let aetna = claim("AETNA1", &[("64493", "50", 1)], &["M47.816"]);
    assert_eq!(fired(&aetna, "bilateral-style"), [(Some(1), E)]);
    let aetna_ok = claim("AETNA1", &[("64493", "RT", 1), ("64493", "LT", 1)], &["M47.816"]);
    assert_eq!(fired(&aetna_ok, "bilateral-style"), []);
    let bcbs = claim("BCBSTX", &[("64493", "RT", 1), ("64493", "LT", 1)], &["M47.816"]);
    assert_eq!(fired(&bcbs, "bilateral-style"), [(Some(2), E)]);
}

#[test]
fn addon_without_primary() {
    let c = claim("AETNA1", &[("64634", "RT", 1)], &["M47.812"]);
    assert_eq!(fired(&c, "addon-without-primary"), [(Some(1), E)]);
    let ok = claim("AETNA1", &[("64633", "RT", 1), ("64634", "RT", 1)], &["M47.812"]);
    assert_eq!(fired(&ok, "addon-without-primary"), []);
}

#[test]
fn modifier_25_missing_on_em_beside_a_procedure() {
    let c = claim("MCRJL", &[("99214", "", 1), ("64483", "RT", 1)], &["M54.16"]);
    assert_eq!(rules_of(&run(&c, &MemoryHistory::new())), [("modifier-25-missing", Some(1), E)]);
    let ok = claim("MCRJL", &[("99214", "25", 1), ("64483", "RT", 1)], &["M54.16"]);
    assert_eq!(fired(&ok, "modifier-25-missing"), []);
    let alone = claim("MCRJL", &[("99214", "", 1)], &["M54.16"]);
    assert_eq!(fired(&alone, "modifier-25-missing"), []);
}

#[test]
fn ncci_ptp_indicator_0_and_1() {
    // 20553 / 20552: indicator 0, no modifier helps.
    let c = claim("BCBSTX", &[("20553", "", 1), ("20552", "XS", 1)], &["M79.18"]);
    let f: Vec<_> = run(&c, &MemoryHistory::new()).into_iter().filter(|f| f.rule == "ncci-ptp").collect();
    assert_eq!(f.len(), 1);
    assert_eq!((f[0].line, f[0].severity), (Some(2), E));
    assert!(f[0].message().to_string().contains("modifier indicator 0"));
    // 64493 / 20553: indicator 1, bypassed by XS.
    let bundled = claim("BCBSTX", &[("64493", "50", 1), ("20553", "", 1)], &["M47.816", "M79.18"]);
    assert_eq!(fired(&bundled, "ncci-ptp"), [(Some(2), E)]);
    let bypassed = claim("BCBSTX", &[("64493", "50", 1), ("20553", "XS", 1)], &["M47.816", "M79.18"]);
    assert_eq!(fired(&bypassed, "ncci-ptp"), []);
}

#[test]
fn mue_units_per_date() {
    let c = claim("BCBSTX", &[("64484", "RT", 5)], &["M54.16"]);
    let hist = MemoryHistory::new();
    let mut f = run(&c, &hist);
    f.retain(|x| x.rule == "mue-units");
    assert_eq!(f.len(), 1);
    assert_eq!(f[0].line, Some(1));
    let ok = claim("BCBSTX", &[("64483", "RT", 1), ("64484", "RT", 2)], &["M54.16"]);
    assert_eq!(fired(&ok, "mue-units"), []);
}

#[test]
fn tpi_units_and_code_deleted() {
    let c = claim("BCBSTX", &[("20553", "", 2)], &["M79.18"]);
    assert_eq!(fired(&c, "tpi-units"), [(Some(1), E)]);
    assert_eq!(fired(&claim("BCBSTX", &[("20553", "", 1)], &["M79.18"]), "tpi-units"), []);
    let old = claim("MCRJL", &[("95972", "", 1), ("95973", "", 1)], &["M96.1"]);
    assert_eq!(fired(&old, "code-deleted"), [(Some(2), E)]);
}

#[test]
fn diagnoses_support_sequencing_and_excludes1() {
    let c = claim("MCRJL", &[("64483", "RT", 1)], &["M47.816"]);
    assert_eq!(fired(&c, "dx-not-supporting"), [(Some(1), E)]);
    assert_eq!(fired(&claim("MCRJL", &[("64483", "RT", 1)], &["M54.16"]), "dx-not-supporting"), []);
    let ex = claim("MCRJL", &[("64483", "RT", 1)], &["M54.16", "M51.16"]);
    assert_eq!(fired(&ex, "dx-excludes1"), [(None, E)]);
    let g89_second = claim("MCRJL", &[("64483", "RT", 1)], &["M54.16", "G89.29"]);
    assert_eq!(fired(&g89_second, "dx-sequencing"), [(None, W)]);
    let g89_first = claim("MCRJL", &[("64483", "RT", 1)], &["G89.29", "M54.16"]);
    assert_eq!(fired(&g89_first, "dx-sequencing"), []);
}

#[test]
fn authorization_missing_and_mismatch() {
    let c = claim("BCBSTX", &[("64635", "50", 1)], &["M47.816"]);
    assert_eq!(fired(&c, "auth-missing"), [(Some(1), E)]);
    let mut with_ref = c.clone();
    with_ref.prior_auth = "AUTH1".into();
    assert_eq!(fired(&with_ref, "auth-missing"), []);
    let mut h = MemoryHistory::new();
    h.authorizations.insert(
        "M1".into(),
        vec![AuthRecord {
            number: "AUTH1".into(),
            payer_id: "BCBSTX".into(),
            codes: vec!["64635".into()],
            units: Some(Decimal::ONE),
            from: d("2026-12-01"),
            to: d("2027-02-28"),
            status: "certified".into(),
        }],
    );
    let f: Vec<_> = run(&with_ref, &h).into_iter().filter(|f| f.rule == "auth-mismatch").collect();
    assert_eq!(f.len(), 1);
    assert_eq!(f[0].message(), "service date 2026-11-03 is outside the authorization window 2026-12-01 to 2027-02-28");
    // On file but missing from the claim: the fix names the number.
    h.authorizations.get_mut("M1").expect("inserted")[0].from = d("2026-11-01");
    let f: Vec<_> = run(&c, &h).into_iter().filter(|f| f.rule == "auth-missing").collect();
    assert_eq!(f[0].fix(), "add REF*G1 AUTH1 to the claim");
    assert_eq!(run(&with_ref, &h).iter().filter(|f| f.rule.starts_with("auth")).count(), 0);
}

#[test]
fn timely_filing_error_and_warning() {
    let mut c = claim("AETNA1", &[("64493", "RT", 1)], &["M47.816"]);
    for l in &mut c.lines {
        l.service_from = Some(d("2026-08-01"));
    }
    assert_eq!(fired(&c, "timely-filing"), [(None, E)]);
    for l in &mut c.lines {
        l.service_from = Some(d("2026-09-10"));
    }
    assert_eq!(fired(&c, "timely-filing"), [(None, W)], "78 of 90 days");
    for l in &mut c.lines {
        l.service_from = Some(d("2026-11-01"));
    }
    assert_eq!(fired(&c, "timely-filing"), []);
}

#[test]
fn npi_and_enrollment() {
    let mut c = claim("AETNA1", &[("64493", "RT", 1)], &["M47.816"]);
    c.rendering_provider.as_mut().expect("set").id = "1669000030".into();
    assert_eq!(fired(&c, "provider-not-enrolled"), [(Some(1), E)]);
    c.rendering_provider.as_mut().expect("set").id = "1669000031".into();
    assert_eq!(fired(&c, "npi-invalid"), [(None, E)]);
    let ok = claim("AETNA1", &[("64493", "RT", 1)], &["M47.816"]);
    assert_eq!(fired(&ok, "provider-not-enrolled"), []);
    let mut ended = claim("MCRJL", &[("64483", "RT", 1)], &["M54.16"]);
    ended.rendering_provider.as_mut().expect("set").id = "1892000047".into();
    assert_eq!(fired(&ended, "provider-not-enrolled"), [(Some(1), E)]);
}

fn past(code: &str, mods: &str, date: &str) -> PastService {
    PastService {
        claim_id: format!("H{date}"),
        payer_id: "AETNA1".into(),
        date: d(date),
        code: code.into(),
        modifiers: mods.split('-').filter(|m| !m.is_empty()).map(hipaa::Text::from).collect(),
        relief: None,
    }
}

#[test]
fn frequency_limit_counts_rolling_twelve_months_by_region() {
    let c = claim("AETNA1", &[("64493", "RT", 1)], &["M47.816"]);
    let mut h = MemoryHistory::new();
    h.services.insert("M1".into(), vec![past("64493", "RT", "2026-09-14"), past("64493", "RT", "2026-10-05")]);
    let f: Vec<_> = run(&c, &h).into_iter().filter(|f| f.rule == "frequency-limit").collect();
    assert_eq!(f.len(), 1);
    assert_eq!(
        f[0].message(),
        "3 facet-mbb sessions (lumbar-sacral) in 12 months with this one; payer AETNA1 allows 2"
    );
    // Outside the window, or in another region, does not count.
    h.services.insert("M1".into(), vec![past("64493", "RT", "2025-10-01"), past("64490", "RT", "2026-10-05")]);
    assert!(run(&c, &h).iter().all(|f| f.rule != "frequency-limit"));
}

#[test]
fn rfa_needs_two_prior_mbbs() {
    let mut c = claim("AETNA1", &[("64635", "RT", 1), ("64636", "RT", 1)], &["M47.816"]);
    c.prior_auth = "A".into();
    let mut h = MemoryHistory::new();
    h.services.insert("M1".into(), vec![past("64493", "RT", "2026-09-14")]);
    assert_eq!(
        run(&c, &h).iter().filter(|f| f.rule == "rfa-prerequisite").map(|f| f.line).collect::<Vec<_>>(),
        [Some(1)]
    );
    h.services.get_mut("M1").expect("inserted").push(past("64493", "RT", "2026-10-05"));
    assert!(run(&c, &h).iter().all(|f| f.rule != "rfa-prerequisite"));
    // Known relief below the payer threshold (AETNA1: 50%).
    for s in h.services.get_mut("M1").expect("inserted") {
        s.relief = Some(40);
    }
    let f: Vec<_> = run(&c, &h).into_iter().filter(|f| f.rule == "rfa-prerequisite").collect();
    assert_eq!(f[0].message(), "a diagnostic MBB gave 40% relief; payer AETNA1 requires 50%");
}

#[test]
fn charge_below_allowed_and_unbalanced_and_eligibility() {
    let mut c = claim("BCBSTX", &[("64493", "50", 1)], &["M47.816"]);
    c.lines[0].charge = dec("250");
    c.charge = dec("250");
    let f: Vec<_> = run(&c, &MemoryHistory::new()).into_iter().filter(|f| f.rule == "charge-below-allowed").collect();
    assert_eq!(f[0].message(), "64493-50 billed 250 below the contracted allowed 300.00");
    assert_eq!(f[0].severity, W);
    c.charge = dec("251");
    assert_eq!(fired(&c, "claim-unbalanced"), [(None, E)]);
    let mut h = MemoryHistory::new();
    h.eligibility.insert(
        "M1".into(),
        vec![EligibilityRecord {
            payer_id: "BCBSTX".into(),
            active: false,
            from: d("2026-11-01"),
            to: d("2026-11-30"),
        }],
    );
    assert_eq!(run(&c, &h).iter().filter(|f| f.rule == "eligibility-inactive").count(), 1);
    h.eligibility.get_mut("M1").expect("inserted")[0].active = true;
    assert_eq!(run(&c, &h).iter().filter(|f| f.rule == "eligibility-inactive").count(), 0);
}

#[test]
fn parallel_scrub_orders_findings_like_a_full_sort() {
    use rules::scrub::{scrub, sort, Input};
    let mut claims = Vec::new();
    for (i, id) in ["B2", "A1", "B2", "C3", "A1"].iter().enumerate() {
        let mut c = claim("MCRJL", &[("99214", "", 1), ("64483", "", 1), ("77003", "", 1)], &["M47.816"]);
        c.claim_id = id.to_string().into();
        c.lines[0].charge = dec(&format!("{}", 100 + i));
        claims.push(c);
    }
    let files = ["b.837", "a.837", "b.837", "a.837", "a.837"];
    let inputs: Vec<Input<'_>> = claims.iter().zip(files).map(|(c, f)| Input { file: f, claim: c }).collect();
    let h = MemoryHistory::new();
    let ctx = Context { reference: reference(), history: &h, today: d(TODAY) };
    let got = scrub(&inputs, &ctx);
    let mut want: Vec<Finding> = inputs
        .iter()
        .flat_map(|i| {
            let mut f = scrub_claim(i.claim, &ctx);
            f.iter_mut().for_each(|x| x.file = i.file.into());
            f
        })
        .collect();
    sort(&mut want);
    assert!(got.len() > 10);
    assert_eq!(got, want);
}
