//! `painrcm eligibility request SCHEDULE.csv --out FILE.270`: one 270 per scheduled visit.

use crate::config::{self, clean, csv_date, EnvelopeArgs};
use anyhow::bail;
use hipaa::x270::{build_270, Inquiry, ServiceInquiry};
use hipaa::{EligibilityRequest, Procedure};
use std::path::PathBuf;

const SCHEDULE_HELP: &str = "\
SCHEDULE.csv columns (header row required; # starts a comment line):
  visit_id       practice visit id: BHT03 and the TRN02 trace the payer echoes in the 271
  date           date of service, YYYY-MM-DD (DTP*291)
  payer_id       payer id (NM1*PR, qualifier PI)
  payer_name     payer name
  member_id      subscriber member id (NM1*IL, qualifier MI)
  last_name      patient last name
  first_name     patient first name
  birth_date     YYYY-MM-DD (DMG02)
  gender         F, M or U (DMG03; may be empty)
  service_type   EQ01 service type code; empty for 30 (health benefit plan coverage)
  procedures     CPT/HCPCS codes scheduled, separated by ';' (one procedure-level EQ each;
                 modifiers after '-', e.g. 64483-RT); empty for none
The patient is sent as the subscriber. Sender, receiver, billing provider and the control
number come from painrcm.toml (see --config).";

/// Build 270 eligibility inquiries from a visit schedule: one transaction set per visit, with a
/// procedure-level inquiry (EQ02) for each scheduled procedure.
#[derive(clap::Args)]
pub struct Args {
    #[command(subcommand)]
    pub action: Action,
}

#[derive(clap::Subcommand)]
pub enum Action {
    /// Write one 270 per scheduled visit.
    #[command(after_help = SCHEDULE_HELP)]
    Request(RequestArgs),
}

#[derive(clap::Args)]
pub struct RequestArgs {
    /// The schedule (CSV, columns below).
    pub schedule: PathBuf,
    /// The 270 file to write (atomically, mode 0600).
    #[arg(long, value_name = "FILE")]
    pub out: PathBuf,
    #[command(flatten)]
    pub envelope: EnvelopeArgs,
}

#[derive(serde::Deserialize)]
struct Visit {
    visit_id: String,
    date: String,
    payer_id: String,
    payer_name: String,
    member_id: String,
    last_name: String,
    first_name: String,
    #[serde(default)]
    birth_date: String,
    #[serde(default)]
    gender: String,
    #[serde(default)]
    service_type: String,
    #[serde(default)]
    procedures: String,
}

/// `64483-RT-50` as a procedure composite.
pub fn procedure(row: usize, column: &str, text: &str) -> anyhow::Result<Procedure> {
    let v = clean(row, column, text)?;
    let mut parts = v.split('-').map(str::trim);
    let code = parts.next().unwrap_or_default().to_string();
    if code.len() != 5 || !code.bytes().all(|b| b.is_ascii_alphanumeric()) {
        bail!("row {row}, column {column}: expected a five-character CPT/HCPCS code");
    }
    Ok(Procedure {
        qualifier: "HC".into(),
        code: code.into(),
        modifiers: parts.filter(|m| !m.is_empty()).map(hipaa::Text::from).collect(),
    })
}

fn request(s: &config::Settings, row: usize, v: &Visit) -> anyhow::Result<EligibilityRequest> {
    let id = clean(row, "visit_id", &v.visit_id)?;
    if id.is_empty() || id.len() > 30 {
        bail!("row {row}, column visit_id: required, at most 30 characters");
    }
    let service_type = match clean(row, "service_type", &v.service_type)? {
        t if t.is_empty() => "30".to_string(),
        t => t,
    };
    let mut services = vec![ServiceInquiry { service_types: vec![service_type.into()], procedure: None }];
    for p in v.procedures.split(';').filter(|p| !p.trim().is_empty()) {
        services.push(ServiceInquiry { service_types: vec![], procedure: Some(procedure(row, "procedures", p)?) });
    }
    let gender = config::gender(row, &v.gender)?;
    let service_date = csv_date(row, "date", &v.date)?;
    if service_date.is_none() {
        bail!("row {row}, column date: required");
    }
    Ok(EligibilityRequest {
        reference: id.as_str().into(),
        created: Some(s.date()),
        time: s.time().into(),
        inquiries: vec![Inquiry {
            payer: config::payer_party(row, "PR", &v.payer_name, &v.payer_id)?,
            provider: config::billing_party(s),
            subscriber: config::member_party(row, &v.last_name, &v.first_name, &v.member_id)?,
            subscriber_birth_date: csv_date(row, "birth_date", &v.birth_date)?,
            subscriber_gender: gender.into(),
            trace: id.into(),
            trace_originator: s.originator().into(),
            service_date,
            services,
            ..Inquiry::default()
        }],
    })
}

pub fn run(args: Args) -> anyhow::Result<u8> {
    let Action::Request(args) = args.action;
    let settings = config::load(&args.envelope)?;
    let kind = config::RequestKind { functional_id: "HS", set_id: "270", version: "005010X279A1", noun: "270 set" };
    config::write_requests(&settings, &args.schedule, &args.out, &kind, |row, r| {
        Ok(build_270(&request(&settings, row, r)?))
    })
}
