//! `painrcm parse FILE... --format json|x12`: the typed model of every transaction set.

use super::{emit, FAILED, NEEDS_PERSON, OK};
use crate::input::{display_name, for_each_set};
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

pub fn run(args: Args) -> anyhow::Result<u8> {
    let mut code = OK;
    for path in &args.files {
        let name = display_name(path);
        let mut out: Vec<u8> = Vec::new();
        // Sets of one interchange and group are written together so trailers can be recounted.
        let mut writer: Option<(String, String, EnvelopeWriter<Vec<u8>>)> = None;
        let result = for_each_set(path, |s| {
            if !s.parsed.is_valid() || !s.set.is_clean() {
                code = code.max(NEEDS_PERSON);
            }
            match args.format {
                ParseFormat::Json => {
                    let doc = Doc {
                        file: &name,
                        interchange_control: &s.interchange.control,
                        group_control: &s.set.group.control,
                        set: &s.parsed,
                    };
                    emit(&(serde_json::to_string(&doc)? + "\n"))?;
                }
                ParseFormat::X12 => {
                    let same = writer.as_ref().is_some_and(|(i, _, _)| *i == s.interchange.control);
                    if !same {
                        if let Some((_, _, w)) = writer.take() {
                            out.extend(w.finish()?);
                        }
                        let line =
                            if s.set.line_ending == LineEnding::None { LineEnding::None } else { s.set.line_ending };
                        let mut w = EnvelopeWriter::new(Vec::new(), s.set.delimiters, line);
                        w.start_interchange(&s.interchange, s.interchange.control.parse().unwrap_or(0))?;
                        writer = Some((s.interchange.control.clone(), String::new(), w));
                    }
                    let (_, group, w) = writer.as_mut().expect("because it was set just above");
                    if *group != s.set.group.control {
                        w.start_group(&s.set.group, s.set.group.control.parse().unwrap_or(0))?;
                        *group = s.set.group.control.clone();
                    }
                    w.start_set(&s.set.id, &s.set.control, &s.set.version)?;
                    for seg in hipaa::tree_segments(&s.set).iter().filter(|g| !g.is(b"ST") && !g.is(b"SE")) {
                        w.segment_ref(seg)?;
                    }
                    w.end_set()?;
                }
            }
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
