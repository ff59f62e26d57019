//! `painrcm parse FILE... --format json|x12`: the typed model of every transaction set.

use super::{emit, FAILED, NEEDS_PERSON, OK};
use crate::input::{display_name, for_each_read_set};
use std::path::PathBuf;
use x12::{EnvelopeWriter, LineEnding};

/// Parse X12 files into typed HIPAA models.
///
/// `--format json` prints one JSON document per transaction set and line: the file, the
/// envelope control numbers, the set identity, the typed model (claims with lines, diagnoses and
/// parties for an 837P; payments with adjustments for an 835) and the implementation-guide
/// issues with positions. `--format x12` writes the file back out from the loop trees, with
/// envelopes rewritten and trailers recounted: for canonical input the bytes are identical.
/// Exits 0 when every set is valid, 1 when any set has issues, 2 when a file cannot be read.
#[derive(clap::Args)]
pub struct Args {
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    #[arg(long, value_enum, default_value_t)]
    pub format: ParseFormat,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum ParseFormat {
    /// One JSON document per transaction set, one per line.
    #[default]
    Json,
    /// X12, emitted from the typed loop trees.
    X12,
}

#[derive(serde::Serialize)]
struct Doc<'a> {
    file: &'a str,
    interchange_control: &'a str,
    group_control: &'a str,
    #[serde(flatten)]
    set: &'a hipaa::ParsedSet,
}

/// [`Doc`] for a claims, remittance, 271, 277 or 277CA set read into its borrowed view: the
/// same fields, in the same order, as `ParsedSet` flattened (`id`, `control`, `version`,
/// `transaction`, `issues`), without copying the model's text.
#[derive(serde::Serialize)]
struct ViewDoc<'a> {
    file: &'a str,
    interchange_control: &'a str,
    group_control: &'a str,
    id: &'a str,
    control: &'a str,
    version: &'a str,
    transaction: &'a hipaa::View<'a>,
    issues: &'a [hipaa::Issue],
}

/// The version a set follows, as `ParsedSet::version` gives it (ST03, else GS08).
fn set_version(set: &x12::OwnedSet) -> &str {
    if set.version.is_empty() {
        &set.group.version
    } else {
        &set.version
    }
}

/// Whether no issue is an error (`ParsedSet::is_valid`).
fn all_warnings(issues: &[hipaa::Issue]) -> bool {
    issues.iter().all(|i| i.severity == x12::Severity::Warning)
}

pub fn run(args: Args) -> anyhow::Result<u8> {
    let mut code = OK;
    for path in &args.files {
        let name = display_name(path);
        let mut out: Vec<u8> = Vec::new();
        // Sets of one interchange and group are written together so trailers can be recounted.
        let mut writer: Option<(String, String, EnvelopeWriter<Vec<u8>>)> = None;
        let result = for_each_read_set(path, |interchange, set| {
            if args.format == ParseFormat::Json {
                // Claims, remittances, 271s and 277s as borrowed views (no text copied); other
                // sets typed.
                let (json, valid) = match hipaa::view_set(&set) {
                    Some((view, issues)) => {
                        let doc = ViewDoc {
                            file: &name,
                            interchange_control: &interchange.control,
                            group_control: &set.group.control,
                            id: &set.id,
                            control: &set.control,
                            version: set_version(&set),
                            transaction: &view,
                            issues: &issues,
                        };
                        (serde_json::to_string(&doc)?, all_warnings(&issues))
                    }
                    None => {
                        let parsed = hipaa::parse_set(&set);
                        let doc = Doc {
                            file: &name,
                            interchange_control: &interchange.control,
                            group_control: &set.group.control,
                            set: &parsed,
                        };
                        (serde_json::to_string(&doc)?, parsed.is_valid())
                    }
                };
                if !valid || !set.is_clean() {
                    code = code.max(NEEDS_PERSON);
                }
                emit(&(json + "\n"))?;
                return Ok(());
            }
            // X12 needs only the loop tree, and the issues for the exit code.
            if !all_warnings(&hipaa::validate_set(&set)) || !set.is_clean() {
                code = code.max(NEEDS_PERSON);
            }
            let same = writer.as_ref().is_some_and(|(i, _, _)| *i == interchange.control);
            if !same {
                if let Some((_, _, w)) = writer.take() {
                    out.extend(w.finish()?);
                }
                let line = if set.line_ending == LineEnding::None { LineEnding::None } else { set.line_ending };
                let mut w = EnvelopeWriter::new(Vec::new(), set.delimiters, line);
                w.start_interchange(interchange, interchange.control.parse().unwrap_or(0))?;
                writer = Some((interchange.control.clone(), String::new(), w));
            }
            let (_, group, w) = writer.as_mut().expect("because it was set just above");
            if *group != set.group.control {
                w.start_group(&set.group, set.group.control.parse().unwrap_or(0))?;
                *group = set.group.control.clone();
            }
            w.start_set(&set.id, &set.control, &set.version)?;
            for seg in hipaa::tree_segments(&set).iter().filter(|g| !g.is(b"ST") && !g.is(b"SE")) {
                w.segment_ref(seg)?;
            }
            w.end_set()?;
            Ok(())
        });
        if let Some((_, _, w)) = writer.take() {
            out.extend(w.finish()?);
        }
        // A file whose last segment has no line break after it gets none either.
        if args.format == ParseFormat::X12 && !ends_with_line_break(path) {
            while out.last().is_some_and(|b| *b == b'\n' || *b == b'\r') {
                out.pop();
            }
        }
        match result {
            Ok(()) => {
                use std::io::Write;
                let mut stdout = std::io::stdout().lock();
                stdout.write_all(&out)?;
                stdout.flush()?;
            }
            Err(e) => {
                eprintln!("painrcm: {e:#}");
                code = FAILED;
            }
        }
    }
    Ok(code)
}

fn ends_with_line_break(path: &std::path::Path) -> bool {
    use std::io::{Read, Seek, SeekFrom};
    let Ok(mut f) = std::fs::File::open(path) else { return true };
    let mut last = [0u8; 1];
    f.seek(SeekFrom::End(-1)).is_ok() && f.read_exact(&mut last).is_ok() && matches!(last[0], b'\n' | b'\r')
}
