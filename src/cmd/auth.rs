//! `painrcm auth request REQUESTS.csv --out FILE.278`: one 278 request per procedure needing
//! authorization, with the clinical package referenced by PWK.

use crate::cmd::eligibility::procedure;
use crate::config::{self, clean, csv_date, EnvelopeArgs};
use anyhow::bail;
use hipaa::x278::{build_278, Attachment, PatientEvent, ReviewService};
use hipaa::{Party, Review};
use rust_decimal::Decimal;
use std::path::PathBuf;

const REQUESTS_HELP: &str = "\
REQUESTS.csv columns (header row required; # starts a comment line):
  request_id         practice request id: BHT03 and the TRN02 trace echoed in the response
  payer_id           utilization management organization id (NM1*X3, qualifier PI)
  payer_name         its name
  member_id          subscriber member id (NM1*IL, qualifier MI)
  last_name          patient last name
  first_name         patient first name
  birth_date         YYYY-MM-DD
  gender             F, M or U (may be empty)
  rendering_npi      the physician doing the procedure (NM1*SJ, 2010EA)
  rendering_last     physician last name
  rendering_first    physician first name
  place_of_service   UM04 facility code: 11 office, 22 outpatient hospital, 24 ASC
  from, to           requested dates, YYYY-MM-DD (DTP*AAH on the event, DTP*472 on services)
  diagnoses          ICD-10-CM codes without the point, separated by ';' (first is principal)
  procedures         CPT=units separated by ';', modifiers after '-' (64635-LT=1;64636-LT=2);
                     one service loop (SV1) each
  mbb_doc            attachment control number of the medial branch block note(s) (PWK*OB)
  mbb_relief_pct     percent relief reported after the block(s), written into the PWK description
  imaging_doc        attachment control number of the imaging report (PWK*RR)
  imaging_desc       short description (e.g. MRI LUMBAR 2026-09)
  conservative_doc   attachment control number of conservative-treatment notes (PWK*09)
  conservative_weeks weeks of conservative treatment, written into the PWK description
Attachments are sent electronically (PWK02 EL) under their control numbers (PWK05 AC); empty
columns add none.";

/// Build 278 prior-authorization requests: one transaction set per row, with diagnoses, CPT
/// codes and units, requested dates and PWK references to the clinical documents.
#[derive(clap::Args)]
pub struct Args {
    #[command(subcommand)]
    pub action: Action,
}

#[derive(clap::Subcommand)]
pub enum Action {
    /// Write one 278 request per procedure needing authorization.
    #[command(after_help = REQUESTS_HELP)]
    Request(RequestArgs),
}

#[derive(clap::Args)]
pub struct RequestArgs {
    /// The authorization requests (CSV, columns below).
    pub requests: PathBuf,
    /// The 278 file to write (atomically, mode 0600).
    #[arg(long, value_name = "FILE")]
    pub out: PathBuf,
    #[command(flatten)]
    pub envelope: EnvelopeArgs,
}

#[derive(serde::Deserialize)]
struct Row {
    request_id: String,
    payer_id: String,
    payer_name: String,
    member_id: String,
    last_name: String,
    first_name: String,
    #[serde(default)]
    birth_date: String,
    #[serde(default)]
    gender: String,
    rendering_npi: String,
    rendering_last: String,
    rendering_first: String,
    place_of_service: String,
    from: String,
    to: String,
    diagnoses: String,
    procedures: String,
    #[serde(default)]
    mbb_doc: String,
    #[serde(default)]
    mbb_relief_pct: String,
    #[serde(default)]
    imaging_doc: String,
    #[serde(default)]
    imaging_desc: String,
    #[serde(default)]
    conservative_doc: String,
    #[serde(default)]
    conservative_weeks: String,
}

fn attachment(
    row: usize,
    column: &str,
    control: &str,
    kind: &str,
    description: String,
) -> anyhow::Result<Option<Attachment>> {
    let control = clean(row, column, control)?;
    if control.is_empty() {
        return Ok(None);
    }
    Ok(Some(Attachment {
        report_type: kind.into(),
        transmission: "EL".into(),
        control: control.into(),
        description: description.into(),
    }))
}

fn number(row: usize, column: &str, v: &str) -> anyhow::Result<Option<Decimal>> {
    let v = v.trim();
    if v.is_empty() {
        return Ok(None);
    }
    v.parse::<Decimal>()
        .ok()
        .filter(|d| !d.is_sign_negative())
        .map(Some)
        .ok_or_else(|| anyhow::anyhow!("row {row}, column {column}: expected a number"))
}

fn review(s: &config::Settings, row: usize, r: &Row) -> anyhow::Result<Review> {
    let id = clean(row, "request_id", &r.request_id)?;
    if id.is_empty() || id.len() > 30 {
        bail!("row {row}, column request_id: required, at most 30 characters");
    }
    let npi = clean(row, "rendering_npi", &r.rendering_npi)?;
    if !hipaa::npi_valid(&npi) {
        bail!("row {row}, column rendering_npi: not a valid NPI");
    }
    let (from, to) = (csv_date(row, "from", &r.from)?, csv_date(row, "to", &r.to)?);
    match (from, to) {
        (Some(a), Some(b)) if a <= b => {}
        _ => bail!("row {row}, columns from/to: both required, from not after to"),
    }
    let diagnoses: Vec<hipaa::Text> = r
        .diagnoses
        .split(';')
        .map(|d| clean(row, "diagnoses", d).map(|d| hipaa::Text::from(d.replace('.', ""))))
        .filter(|d| d.as_ref().map_or(true, |d| !d.is_empty()))
        .collect::<anyhow::Result<_>>()?;
    if diagnoses.is_empty() || diagnoses.len() > 12 {
        bail!("row {row}, column diagnoses: one to twelve codes");
    }
    let mut services = Vec::new();
    for p in r.procedures.split(';').filter(|p| !p.trim().is_empty()) {
        let (code, units) = p.split_once('=').unwrap_or((p, "1"));
        let units = number(row, "procedures", units)?.unwrap_or(Decimal::ONE);
        if units.is_zero() {
            bail!("row {row}, column procedures: units must be positive");
        }
        services.push(ReviewService {
            procedure: Some(procedure(row, "procedures", code)?),
            unit_basis: "UN".into(),
            units: Some(units),
            from,
            to,
            ..ReviewService::default()
        });
    }
    if services.is_empty() {
        bail!("row {row}, column procedures: at least one procedure");
    }
    let relief = number(row, "mbb_relief_pct", &r.mbb_relief_pct)?;
    let weeks = number(row, "conservative_weeks", &r.conservative_weeks)?;
    let attachments = [
        attachment(
            row,
            "mbb_doc",
            &r.mbb_doc,
            "OB",
            match relief {
                Some(p) => format!("MEDIAL BRANCH BLOCK NOTE RELIEF {p} PCT"),
                None => "MEDIAL BRANCH BLOCK NOTE".into(),
            },
        )?,
        attachment(row, "imaging_doc", &r.imaging_doc, "RR", {
            let d = clean(row, "imaging_desc", &r.imaging_desc)?;
            if d.is_empty() {
                "IMAGING REPORT".into()
            } else {
                format!("IMAGING {d}")
            }
        })?,
        attachment(
            row,
            "conservative_doc",
            &r.conservative_doc,
            "09",
            match weeks {
                Some(w) => format!("CONSERVATIVE TREATMENT {w} WEEKS"),
                None => "CONSERVATIVE TREATMENT NOTES".into(),
            },
        )?,
    ];
    let pos = clean(row, "place_of_service", &r.place_of_service)?;
    if pos.len() != 2 || !pos.bytes().all(|b| b.is_ascii_digit()) {
        bail!("row {row}, column place_of_service: two digits");
    }
    let gender = config::gender(row, &r.gender)?;
    Ok(Review {
        purpose: "13".into(),
        reference: id.as_str().into(),
        created: Some(s.date()),
        time: s.time().into(),
        umo: config::payer_party(row, "X3", &r.payer_name, &r.payer_id)?,
        requester: config::billing_party(s),
        subscriber: config::member_party(row, &r.last_name, &r.first_name, &r.member_id)?,
        subscriber_birth_date: csv_date(row, "birth_date", &r.birth_date)?,
        subscriber_gender: gender.into(),
        events: vec![PatientEvent {
            trace: id.into(),
            trace_originator: s.originator().into(),
            category: "HS".into(),
            certification_type: "I".into(),
            // Service type 2: surgical (interventional procedures).
            service_type: "2".into(),
            place_of_service: pos.into(),
            diagnoses,
            from,
            to,
            providers: vec![Party {
                entity: "SJ".into(),
                last_or_org: clean(row, "rendering_last", &r.rendering_last)?.into(),
                first: clean(row, "rendering_first", &r.rendering_first)?.into(),
                id_qualifier: "XX".into(),
                id: npi.into(),
            }],
            attachments: attachments.into_iter().flatten().collect(),
            services,
            ..PatientEvent::default()
        }],
        ..Review::default()
    })
}

pub fn run(args: Args) -> anyhow::Result<u8> {
    let Action::Request(args) = args.action;
    let settings = config::load(&args.envelope)?;
    let kind = config::RequestKind { functional_id: "HI", set_id: "278", version: "005010X217", noun: "278 request" };
    config::write_requests(&settings, &args.requests, &args.out, &kind, |row, r| {
        Ok(build_278(&review(&settings, row, r)?))
    })
}
