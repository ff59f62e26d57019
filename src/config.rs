//! `painrcm.toml`: who the practice is on the wire (sender and receiver ids, submitter,
//! billing provider) and where the control-number counter lives; command-line overrides; and
//! the envelope every request command writes its sets into.
//!
//! Control numbers never repeat across runs: each run reserves the next ISA13 (used for GS06
//! too) from the counter file, under an exclusive lock file, and persists the new value
//! atomically *before* any output is written. A run that fails after reserving leaves a gap,
//! never a duplicate.

use anyhow::{bail, Context};
use serde::Deserialize;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use x12::{Delimiters, EnvelopeWriter, GroupHeader, InterchangeHeader, LineEnding, Segment};

/// The file as written by the user. Every field has a default so a partial file works.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    pub interchange: Interchange,
    pub submitter: Submitter,
    pub billing_provider: BillingProvider,
    pub control: Control,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Interchange {
    /// ISA05/ISA06 and ISA07/ISA08.
    pub sender_qualifier: String,
    pub sender_id: String,
    pub receiver_qualifier: String,
    pub receiver_id: String,
    /// GS02/GS03 application codes; default to the ISA ids.
    pub application_sender: String,
    pub application_receiver: String,
    /// ISA15: P production, T test.
    pub usage: String,
}

impl Default for Interchange {
    fn default() -> Self {
        Interchange {
            sender_qualifier: "ZZ".into(),
            sender_id: String::new(),
            receiver_qualifier: "ZZ".into(),
            receiver_id: String::new(),
            application_sender: String::new(),
            application_receiver: String::new(),
            usage: "P".into(),
        }
    }
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Submitter {
    /// The information receiver of a 276 (NM1*41) and its ETIN (qualifier 46).
    pub name: String,
    pub id: String,
    pub contact_name: String,
    pub contact_phone: String,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct BillingProvider {
    pub name: String,
    pub npi: String,
    /// Nine digits; `1` + tax id is the TRN03 originating company id of 270s and 278s.
    pub tax_id: String,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Control {
    /// The counter file, relative to the config file's directory.
    pub file: PathBuf,
}

impl Default for Control {
    fn default() -> Self {
        Control { file: PathBuf::from("painrcm-control.txt") }
    }
}

/// Options every request command takes: the config file and overrides of its values.
#[derive(clap::Args, Clone, Debug, Default)]
pub struct EnvelopeArgs {
    /// The configuration file (see README, "Requests and painrcm.toml").
    #[arg(long, value_name = "FILE", default_value = "painrcm.toml")]
    pub config: PathBuf,
    /// Override interchange.sender_id (ISA06).
    #[arg(long, value_name = "ID")]
    pub sender_id: Option<String>,
    /// Override interchange.sender_qualifier (ISA05).
    #[arg(long, value_name = "QUAL")]
    pub sender_qualifier: Option<String>,
    /// Override interchange.receiver_id (ISA08).
    #[arg(long, value_name = "ID")]
    pub receiver_id: Option<String>,
    /// Override interchange.receiver_qualifier (ISA07).
    #[arg(long, value_name = "QUAL")]
    pub receiver_qualifier: Option<String>,
    /// Override interchange.usage (ISA15): P or T.
    #[arg(long, value_name = "P|T")]
    pub usage: Option<String>,
    /// Override control.file, the persisted control-number counter.
    #[arg(long, value_name = "FILE")]
    pub control_file: Option<PathBuf>,
    /// Timestamp for BHT, GS and ISA as CCYYMMDDHHMM (default: now, UTC); for reproducible
    /// output.
    #[arg(long, value_name = "CCYYMMDDHHMM", value_parser = parse_stamp)]
    pub now: Option<String>,
}

fn parse_stamp(s: &str) -> Result<String, String> {
    if s.len() == 12 && s.bytes().all(|b| b.is_ascii_digit()) {
        Ok(s.to_string())
    } else {
        Err("expected 12 digits, CCYYMMDDHHMM".into())
    }
}

/// A validated configuration with the counter file resolved.
#[derive(Clone, Debug)]
pub struct Settings {
    pub config: Config,
    pub control_file: PathBuf,
    /// CCYYMMDDHHMM.
    pub stamp: String,
}

impl Settings {
    pub fn date(&self) -> chrono::NaiveDate {
        chrono::NaiveDate::parse_from_str(&self.stamp[..8], "%Y%m%d").unwrap_or_default()
    }

    pub fn time(&self) -> &str {
        &self.stamp[8..12]
    }

    /// TRN03: `1` followed by the billing provider's tax id.
    pub fn originator(&self) -> String {
        format!("1{}", self.config.billing_provider.tax_id)
    }
}

/// Reads the config (a missing file is an error: the ids must come from somewhere), applies
/// the overrides and checks what every request needs.
pub fn load(args: &EnvelopeArgs) -> anyhow::Result<Settings> {
    let text = std::fs::read_to_string(&args.config).with_context(|| format!("reading {}", args.config.display()))?;
    let mut config: Config = toml::from_str(&text).with_context(|| format!("parsing {}", args.config.display()))?;
    let i = &mut config.interchange;
    let set = |field: &mut String, v: &Option<String>| {
        if let Some(v) = v {
            *field = v.clone();
        }
    };
    set(&mut i.sender_id, &args.sender_id);
    set(&mut i.sender_qualifier, &args.sender_qualifier);
    set(&mut i.receiver_id, &args.receiver_id);
    set(&mut i.receiver_qualifier, &args.receiver_qualifier);
    set(&mut i.usage, &args.usage);
    if i.application_sender.is_empty() {
        i.application_sender = i.sender_id.clone();
    }
    if i.application_receiver.is_empty() {
        i.application_receiver = i.receiver_id.clone();
    }
    check(&config)?;
    let base = args.config.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let control_file = match &args.control_file {
        Some(f) => f.clone(),
        None if config.control.file.is_absolute() => config.control.file.clone(),
        None => base.join(&config.control.file),
    };
    let stamp = args.now.clone().unwrap_or_else(|| chrono::Utc::now().format("%Y%m%d%H%M").to_string());
    Ok(Settings { config, control_file, stamp })
}

fn check(c: &Config) -> anyhow::Result<()> {
    let i = &c.interchange;
    let id_ok =
        |s: &str| !s.is_empty() && s.len() <= 15 && s.bytes().all(|b| b.is_ascii_graphic() && !b"*~:^".contains(&b));
    if !id_ok(&i.sender_id) {
        bail!("interchange.sender_id must be 1-15 printable characters without delimiters");
    }
    if !id_ok(&i.receiver_id) {
        bail!("interchange.receiver_id must be 1-15 printable characters without delimiters");
    }
    for (name, q) in [("sender_qualifier", &i.sender_qualifier), ("receiver_qualifier", &i.receiver_qualifier)] {
        if q.len() != 2 {
            bail!("interchange.{name} must be two characters (ZZ, 30, 01 ...)");
        }
    }
    if !matches!(i.usage.as_str(), "P" | "T") {
        bail!("interchange.usage must be P or T");
    }
    if !hipaa::npi_valid(&c.billing_provider.npi) {
        bail!("billing_provider.npi is not a valid NPI (ten digits with a Luhn check digit)");
    }
    if c.billing_provider.tax_id.len() != 9 || !c.billing_provider.tax_id.bytes().all(|b| b.is_ascii_digit()) {
        bail!("billing_provider.tax_id must be nine digits");
    }
    if c.billing_provider.name.is_empty() {
        bail!("billing_provider.name is required");
    }
    Ok(())
}

/// Reserves the next interchange control number from the counter file and persists it before
/// returning. The counter holds the last number used; a missing file starts at 1. Wraps
/// from 999999999 to 1 (ISA13 is nine digits).
pub fn next_control(path: &Path) -> anyhow::Result<u32> {
    let lock = path.with_extension("lock");
    let _guard = Lock::acquire(&lock)?;
    let last = match std::fs::read_to_string(path) {
        Ok(s) => s
            .trim()
            .parse::<u32>()
            .with_context(|| format!("{}: expected the last control number used", path.display()))?,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => 0,
        Err(e) => return Err(e).with_context(|| format!("reading {}", path.display())),
    };
    let next = if last >= 999_999_999 { 1 } else { last + 1 };
    let dir = path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let mut tmp = tempfile::NamedTempFile::new_in(dir).with_context(|| format!("writing {}", path.display()))?;
    use std::io::Write;
    writeln!(tmp, "{next}")?;
    tmp.as_file().sync_all()?;
    tmp.persist(path).map_err(|e| e.error).with_context(|| format!("writing {}", path.display()))?;
    Ok(next)
}

/// An exclusive lock file (created with O_EXCL, removed on drop): two runs never reserve the
/// same number.
struct Lock(PathBuf);

impl Lock {
    fn acquire(path: &Path) -> anyhow::Result<Lock> {
        let start = Instant::now();
        loop {
            match std::fs::OpenOptions::new().write(true).create_new(true).open(path) {
                Ok(_) => return Ok(Lock(path.to_path_buf())),
                Err(e)
                    if e.kind() == std::io::ErrorKind::AlreadyExists && start.elapsed() < Duration::from_secs(10) =>
                {
                    std::thread::sleep(Duration::from_millis(50));
                }
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                    bail!("{} is held by another run (remove it if no run is active)", path.display())
                }
                Err(e) => return Err(e).with_context(|| format!("creating {}", path.display())),
            }
        }
    }
}

impl Drop for Lock {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// Writes one interchange with one functional group holding one set per body; returns the
/// bytes and the interchange control number used.
pub fn write_interchange(
    s: &Settings,
    functional_id: &str,
    set_id: &str,
    version: &str,
    bodies: &[Vec<Segment>],
) -> anyhow::Result<(Vec<u8>, u32)> {
    let control = next_control(&s.control_file)?;
    let i = &s.config.interchange;
    let isa = InterchangeHeader {
        sender_qualifier: i.sender_qualifier.clone(),
        sender_id: i.sender_id.clone(),
        receiver_qualifier: i.receiver_qualifier.clone(),
        receiver_id: i.receiver_id.clone(),
        date: s.stamp[2..8].to_string(),
        time: s.time().to_string(),
        version: "00501".into(),
        usage: i.usage.clone(),
        ..InterchangeHeader::default()
    };
    let gs = GroupHeader {
        functional_id: functional_id.into(),
        sender: i.application_sender.clone(),
        receiver: i.application_receiver.clone(),
        date: s.stamp[..8].to_string(),
        time: s.time().to_string(),
        agency: "X".into(),
        version: version.into(),
        ..GroupHeader::default()
    };
    let mut w = EnvelopeWriter::new(Vec::new(), Delimiters::default(), LineEnding::Lf);
    w.start_interchange(&isa, control)?;
    w.start_group(&gs, control)?;
    for (n, body) in bodies.iter().enumerate() {
        w.start_set(set_id, &format!("{:04}", n + 1), version)?;
        for seg in body {
            w.segment(seg)?;
        }
        w.end_set()?;
    }
    Ok((w.finish()?, control))
}

/// Parses what was just written with the crate's own parsers: the number of issues found
/// (syntax and implementation guide), printed with positions, never values.
pub fn self_check(bytes: &[u8]) -> anyhow::Result<usize> {
    let mut n = 0;
    for ev in x12::StreamReader::new(bytes) {
        match ev? {
            x12::Event::Set(set) => {
                for e in &set.errors {
                    eprintln!("painrcm: generated set {}: {e}", set.control);
                    n += 1;
                }
                for i in hipaa::parse_set(&set).issues {
                    eprintln!("painrcm: generated set {}: {i}", set.control);
                    n += 1;
                }
            }
            x12::Event::Issue(e) if e.severity() == x12::Severity::Error => {
                eprintln!("painrcm: generated file: {e}");
                n += 1;
            }
            x12::Event::GroupEnd { errors, .. } | x12::Event::InterchangeEnd { errors, .. } => {
                for e in errors.iter().filter(|e| e.severity() == x12::Severity::Error) {
                    eprintln!("painrcm: generated file: {e}");
                    n += 1;
                }
            }
            _ => {}
        }
    }
    Ok(n)
}

/// A CSV text value, trimmed and upper-cased; refused when it carries an X12 delimiter (it
/// would split an element). The message names the row and column, not the value.
pub fn clean(row: usize, column: &str, value: &str) -> anyhow::Result<String> {
    let v = value.trim();
    if v.bytes().any(|b| b"*~:^|\r\n".contains(&b)) {
        bail!("row {row}, column {column}: contains a character reserved as an X12 delimiter");
    }
    Ok(v.to_uppercase())
}

/// A CSV date, `YYYY-MM-DD` or `YYYYMMDD`.
pub fn csv_date(row: usize, column: &str, value: &str) -> anyhow::Result<Option<chrono::NaiveDate>> {
    let v = value.trim();
    if v.is_empty() {
        return Ok(None);
    }
    chrono::NaiveDate::parse_from_str(v, "%Y-%m-%d")
        .or_else(|_| chrono::NaiveDate::parse_from_str(v, "%Y%m%d"))
        .map(Some)
        .map_err(|_| anyhow::anyhow!("row {row}, column {column}: expected a date YYYY-MM-DD"))
}

/// Reads a CSV file with a header row into records keyed by column name.
pub fn read_csv<T: serde::de::DeserializeOwned>(path: &Path) -> anyhow::Result<Vec<T>> {
    let mut rdr = csv::ReaderBuilder::new()
        .comment(Some(b'#'))
        .trim(csv::Trim::All)
        .from_path(path)
        .with_context(|| format!("opening {}", path.display()))?;
    let mut out = Vec::new();
    for (i, rec) in rdr.deserialize().enumerate() {
        // csv errors quote the offending field; report the row only.
        let row: T = rec.map_err(|e| {
            let what = match e.kind() {
                csv::ErrorKind::Deserialize { err, .. } => {
                    err.field().map(|f| format!("field {}", f + 1)).unwrap_or_else(|| "a field".into())
                }
                _ => "the row".into(),
            };
            anyhow::anyhow!("{}: row {}: {what} could not be read", path.display(), i + 1)
        })?;
        out.push(row);
    }
    Ok(out)
}

/// A CSV row's `gender` column: empty, F, M or U (DMG03).
pub fn gender(row: usize, value: &str) -> anyhow::Result<String> {
    let g = clean(row, "gender", value)?;
    if !matches!(g.as_str(), "" | "F" | "M" | "U") {
        bail!("row {row}, column gender: expected F, M or U");
    }
    Ok(g)
}

/// The billing provider as the NM1*1P of a request.
pub fn billing_party(s: &Settings) -> hipaa::Party {
    let bp = &s.config.billing_provider;
    hipaa::Party {
        entity: "1P".into(),
        last_or_org: bp.name.to_uppercase().into(),
        first: hipaa::Text::default(),
        id_qualifier: "XX".into(),
        id: bp.npi.as_str().into(),
    }
}

/// The payer of a CSV row (`payer_name`, `payer_id` columns) under the entity code the set uses.
pub fn payer_party(row: usize, entity: &str, name: &str, id: &str) -> anyhow::Result<hipaa::Party> {
    Ok(hipaa::Party {
        entity: entity.into(),
        last_or_org: clean(row, "payer_name", name)?.into(),
        first: hipaa::Text::default(),
        id_qualifier: "PI".into(),
        id: clean(row, "payer_id", id)?.into(),
    })
}

/// The subscriber of a CSV row (`last_name`, `first_name`, `member_id` columns).
pub fn member_party(row: usize, last: &str, first: &str, member_id: &str) -> anyhow::Result<hipaa::Party> {
    Ok(hipaa::Party {
        entity: "IL".into(),
        last_or_org: clean(row, "last_name", last)?.into(),
        first: clean(row, "first_name", first)?.into(),
        id_qualifier: "MI".into(),
        id: clean(row, "member_id", member_id)?.into(),
    })
}

/// The set a request command writes: GS01, ST01 and the implementation guide's version.
pub struct RequestKind {
    pub functional_id: &'static str,
    pub set_id: &'static str,
    pub version: &'static str,
    /// What one row becomes, for messages (`270 set`, `278 request`).
    pub noun: &'static str,
}

/// The part every request command shares: build one set body per CSV row, envelope them
/// with a reserved control number, parse the result back with our own parsers, and only then
/// write it (atomically, 0600).
pub fn write_requests<R>(
    settings: &Settings,
    csv: &Path,
    out: &Path,
    kind: &RequestKind,
    mut body: impl FnMut(usize, &R) -> anyhow::Result<Vec<x12::Segment>>,
) -> anyhow::Result<u8>
where
    R: serde::de::DeserializeOwned,
{
    let rows: Vec<R> = read_csv(csv)?;
    let name = crate::input::display_name(csv);
    let mut bodies = Vec::with_capacity(rows.len());
    for (i, r) in rows.iter().enumerate() {
        bodies.push(body(i + 1, r).with_context(|| format!("reading {name}"))?);
    }
    if bodies.is_empty() {
        bail!("{name}: no rows");
    }
    let (bytes, control) = write_interchange(settings, kind.functional_id, kind.set_id, kind.version, &bodies)?;
    if self_check(&bytes)? > 0 {
        bail!("the generated file did not validate (see above); nothing written");
    }
    crate::output::write_private(out, &bytes)?;
    println!("wrote {} {}(s) to {} (ISA13 {control:09})", bodies.len(), kind.noun, crate::input::display_name(out));
    Ok(crate::cmd::OK)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_numbers_persist_and_never_repeat() {
        let dir = tempfile::tempdir().expect("tempdir");
        let f = dir.path().join("ctl.txt");
        assert_eq!(next_control(&f).expect("first"), 1);
        assert_eq!(next_control(&f).expect("second"), 2);
        std::fs::write(&f, "999999999\n").expect("write");
        assert_eq!(next_control(&f).expect("wrap"), 1);
        assert!(!f.with_extension("lock").exists());
    }

    #[test]
    fn delimiters_in_csv_values_are_refused_without_echoing_them() {
        let e = clean(3, "last_name", "O*BRIEN").expect_err("delimiter");
        assert_eq!(e.to_string(), "row 3, column last_name: contains a character reserved as an X12 delimiter");
        assert_eq!(clean(1, "x", " smith ").expect("ok"), "SMITH");
    }
}
