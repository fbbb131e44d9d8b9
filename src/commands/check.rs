//! `rapport check`: one draft in, findings out, exit 0/1/2 for mail-client hooks.
use std::io::{IsTerminal, Read, Write};

use anyhow::Context;

use rapport_core::clean::clean;
use rapport_core::parse::{self, ParseError, ParsedMail};
use rapport_core::report::check::{render_text, to_json, Style};
use rapport_core::source::{read_file_limited, RawMail, SourceRef, DEFAULT_MAX_MESSAGE_BYTES};

use crate::cli::{CheckArgs, ColorChoice, Format};

/// The most `rapport check` reads: a draft is far smaller; a bigger input is a mistake (a whole
/// mailbox, a binary), refused before it is read.
pub const MAX_DRAFT_BYTES: u64 = DEFAULT_MAX_MESSAGE_BYTES;

/// Read the draft named on the command line (a file, or `-` for stdin).
fn read_draft(a: &CheckArgs) -> anyhow::Result<ParsedMail> {
    let raw = if a.input.as_os_str() == "-" {
        let mut bytes = Vec::new();
        std::io::stdin()
            .lock()
            .take(MAX_DRAFT_BYTES + 1)
            .read_to_end(&mut bytes)
            .context("cannot read the draft from standard input")?;
        if bytes.len() as u64 > MAX_DRAFT_BYTES {
            anyhow::bail!("<stdin>: the draft is over {MAX_DRAFT_BYTES} bytes; check the text alone with --text");
        }
        RawMail::new(SourceRef::Stdin, bytes)
    } else {
        let origin = SourceRef::File { path: a.input.clone() };
        read_file_limited(&a.input, MAX_DRAFT_BYTES, origin)?
    };
    if a.text {
        let text = String::from_utf8(raw.bytes).map_err(|_| {
            anyhow::anyhow!("{}: --text expects UTF-8 text; this file is not. Convert it, or give the .eml instead", raw.origin)
        })?;
        let label = raw.origin.to_string();
        return Ok(parse::from_text(&label, &text));
    }
    Ok(parse::parse(&raw)?)
}

pub fn check(a: CheckArgs) -> anyhow::Result<i32> {
    let t0 = std::time::Instant::now();
    let mail = read_draft(&a)?;
    let cleaned = clean(&mail.body);
    if cleaned.sentences.is_empty() {
        return Err(ParseError::EmptyBody { origin: mail.origin.clone() }.into());
    }
    // One libtorch thread suits a single draft (no pool to wake, no spinning on a busy core).
    let info = std::rc::Rc::new(std::cell::RefCell::new(None));
    let mut assessor = super::lazy_assessor(&a.model, 1, std::rc::Rc::clone(&info));
    let assessment = assessor.assess_one(&cleaned)?;
    if std::env::var_os("RAPPORT_TIMINGS").is_some() {
        let how = info.borrow().as_ref().map(|i| format!("{} scorer, pid {}", i.kind, i.pid)).unwrap_or_else(|| "no scorer".into());
        eprintln!("timing: {} sentences checked in {:.1} ms ({how})", cleaned.sentences.len(), t0.elapsed().as_secs_f64() * 1000.0);
    }
    let failing = assessment.findings.iter().any(|f| f.severity >= a.fail_on);
    if !a.quiet {
        let mut out = std::io::stdout().lock();
        let written = (|| -> std::io::Result<()> {
            match a.format {
                Format::Json => {
                    serde_json::to_writer_pretty(&mut out, &to_json(&mail, &cleaned, &assessment))?;
                    writeln!(out)?;
                }
                Format::Text => {
                    let color = match a.color {
                        ColorChoice::Always => true,
                        ColorChoice::Never => false,
                        ColorChoice::Auto => std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none(),
                    };
                    render_text(&mut out, &mail, &cleaned, &assessment, Style { color }, None)?;
                }
            }
            out.flush()
        })();
        // A reader that stops early (`| head`) does not change the verdict: the exit code still says
        // whether the draft has findings.
        match written {
            Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {}
            other => other?,
        }
    }
    Ok(if failing { 1 } else { 0 })
}
