//! `painrcm status request CLAIMS.csv --out FILE.276`: one 276 per claim still out.

use crate::config::{self, clean, csv_date, EnvelopeArgs};
use anyhow::bail;
use hipaa::x276::{build_276, StatusInquiry};
use hipaa::{Party, StatusRequest};
use rust_decimal::Decimal;
use std::path::PathBuf;

const CLAIMS_HELP: &str = "\
CLAIMS.csv columns (header row required; # starts a comment line):
  claim_id        the claim's patient control number (CLM01): REF*EJ and the TRN02 trace
  payer_id        payer id (NM1*PR, qualifier PI)
  payer_name      payer name
  member_id       subscriber member id (NM1*IL, qualifier MI)
  last_name       patient last name
  first_name      patient first name
  birth_date      YYYY-MM-DD (DMG02; may be empty)
  gender          F, M or U (may be empty)
  charge          total claim charge (AMT*T3), e.g. 1250.00
  from, to        service dates, YYYY-MM-DD (DTP*472; to may be empty for one day)
  payer_claim_id  the payer's claim number when known (REF*1K; may be empty)
The information receiver is [submitter] and the provider is [billing_provider] of painrcm.toml.";

/// Build 276 claim status requests: one transaction set per claim.
#[derive(clap::Args)]
pub struct Args {
    #[command(subcommand)]
    pub action: Action,
}

#[derive(clap::Subcommand)]
pub enum Action {
    /// Write one 276 per claim.
    #[command(after_help = CLAIMS_HELP)]
    Request(RequestArgs),
}

#[derive(clap::Args)]
pub struct RequestArgs {
    /// The claims to ask about (CSV, columns below).
    pub claims: PathBuf,
    /// The 276 file to write (atomically, mode 0600).
    #[arg(long, value_name = "FILE")]
    pub out: PathBuf,
    #[command(flatten)]
    pub envelope: EnvelopeArgs,
}

#[derive(serde::Deserialize)]
struct Row {
    claim_id: String,
    payer_id: String,
    payer_name: String,
    member_id: String,
    last_name: String,
    first_name: String,
    #[serde(default)]
    birth_date: String,
    #[serde(default)]
    gender: String,
    charge: String,
    from: String,
    #[serde(default)]
    to: String,
    #[serde(default)]
    payer_claim_id: String,
}

fn inquiry(s: &config::Settings, row: usize, r: &Row) -> anyhow::Result<StatusRequest> {
    let claim_id = clean(row, "claim_id", &r.claim_id)?;
    if claim_id.is_empty() || claim_id.len() > 38 {
        bail!("row {row}, column claim_id: required, at most 38 characters");
    }
    let charge: Decimal = r
        .charge
        .trim()
        .parse()
        .ok()
        .filter(|d: &Decimal| !d.is_sign_negative())
        .ok_or_else(|| anyhow::anyhow!("row {row}, column charge: expected an amount"))?;
    let from = csv_date(row, "from", &r.from)?;
    let to = csv_date(row, "to", &r.to)?.or(from);
    match (from, to) {
        (Some(a), Some(b)) if a <= b => {}
        _ => bail!("row {row}, columns from/to: from required, not after to"),
    }
    let gender = config::gender(row, &r.gender)?;
    let c = &s.config;
    if c.submitter.name.is_empty() || c.submitter.id.is_empty() {
        bail!("painrcm.toml: [submitter] name and id are required for 276 requests");
    }
    Ok(StatusRequest {
        reference: claim_id.as_str().into(),
        created: Some(s.date()),
        time: s.time().into(),
        inquiries: vec![StatusInquiry {
            payer: config::payer_party(row, "PR", &r.payer_name, &r.payer_id)?,
            receiver: Party {
                entity: "41".into(),
                last_or_org: c.submitter.name.to_uppercase().into(),
                first: hipaa::Text::default(),
                id_qualifier: "46".into(),
                id: c.submitter.id.as_str().into(),
            },
            provider: config::billing_party(s),
            subscriber: config::member_party(row, &r.last_name, &r.first_name, &r.member_id)?,
            subscriber_birth_date: csv_date(row, "birth_date", &r.birth_date)?,
            subscriber_gender: gender.into(),
            trace: claim_id.as_str().into(),
            claim_id: claim_id.into(),
            payer_claim_id: clean(row, "payer_claim_id", &r.payer_claim_id)?.into(),
            charge: Some(charge),
            from,
            to,
            ..StatusInquiry::default()
        }],
    })
}

pub fn run(args: Args) -> anyhow::Result<u8> {
    let Action::Request(args) = args.action;
    let settings = config::load(&args.envelope)?;
    let kind = config::RequestKind { functional_id: "HR", set_id: "276", version: "005010X212", noun: "276 set" };
    config::write_requests(&settings, &args.claims, &args.out, &kind, |row, r| {
        Ok(build_276(&inquiry(&settings, row, r)?))
    })
}
