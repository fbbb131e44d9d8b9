//! `rapport check`: one draft in, findings out, exit 0/1/2 for mail-client hooks.
use std::io::{IsTerminal, Read, Write};

use anyhow::Context;

use crate::cli::{CheckArgs, ColorChoice, Format};
use crate::clean::{clean, CleanText};
use crate::error::ParseError;
use crate::parse::{self, ParsedMail};
use crate::report::check::{render_text, to_json, Style};
use crate::score::{self, Scorer};
use crate::source::{read_file_limited, RawMail, SourceRef, DEFAULT_MAX_MESSAGE_BYTES};
use crate::tone::{assess, Assessment, DEFAULT_WEIGHTS};

/// Read the draft named on the command line (a file, or `-` for stdin).
fn read_draft(a: &CheckArgs) -> anyhow::Result<ParsedMail> {
    let raw = if a.input.as_os_str() == "-" {
        let mut bytes = Vec::new();
        std::io::stdin()
            .lock()
            .take(DEFAULT_MAX_MESSAGE_BYTES + 1)
            .read_to_end(&mut bytes)
            .context("cannot read the draft from standard input")?;
        if bytes.len() as u64 > DEFAULT_MAX_MESSAGE_BYTES {
            anyhow::bail!("<stdin>: the draft is over {DEFAULT_MAX_MESSAGE_BYTES} bytes; check the text alone with --text");
        }
        RawMail { origin: SourceRef::Stdin, bytes }
    } else {
        let origin = SourceRef::File { path: a.input.clone() };
        read_file_limited(&a.input, DEFAULT_MAX_MESSAGE_BYTES, origin)?
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

/// Clean, score and assess one parsed message.
pub fn assess_mail(scorer: &Scorer, mail: &ParsedMail) -> Result<(CleanText, Assessment), crate::error::ModelError> {
    let clean = clean(&mail.body);
    let sentences: Vec<&str> = clean.sentences.iter().map(|r| &clean.text[r.clone()]).collect();
    let scores = scorer.score(&sentences)?;
    let rules = crate::rules::check_rules(&clean);
    let assessment = assess(&clean, scores, rules, &DEFAULT_WEIGHTS);
    Ok((clean, assessment))
}

/// Load the scorer. `default_threads` applies when `--threads` is 0: one thread suits a single
/// draft (no thread pool to wake, no spinning against a busy second core).
pub fn load_scorer(m: &crate::cli::ModelArgs, default_threads: usize) -> anyhow::Result<Scorer> {
    score::set_threads(if m.threads == 0 { default_threads } else { m.threads });
    let device = score::parse_device(&m.device).map_err(anyhow::Error::msg)?;
    let precision = score::Precision::resolve(&m.precision, device).map_err(anyhow::Error::msg)?;
    Ok(Scorer::load(&score::default_model_dir(m.model_dir.as_deref()), device, precision)?)
}

pub fn check(a: CheckArgs) -> anyhow::Result<i32> {
    let mail = read_draft(&a)?;
    if clean(&mail.body).sentences.is_empty() {
        return Err(ParseError::EmptyBody { origin: mail.origin.clone() }.into());
    }
    let t0 = std::time::Instant::now();
    let scorer = load_scorer(&a.model, 1)?;
    let t1 = std::time::Instant::now();
    let (clean, assessment) = assess_mail(&scorer, &mail)?;
    if std::env::var_os("RAPPORT_TIMINGS").is_some() {
        eprintln!(
            "timing: model loaded in {:.1} ms, {} sentences scored in {:.1} ms",
            (t1 - t0).as_secs_f64() * 1000.0,
            clean.sentences.len(),
            t1.elapsed().as_secs_f64() * 1000.0
        );
    }
    let failing = assessment.findings.iter().any(|f| f.severity >= a.fail_on);
    if !a.quiet {
        let mut out = std::io::stdout().lock();
        match a.format {
            Format::Json => {
                serde_json::to_writer_pretty(&mut out, &to_json(&mail, &clean, &assessment))?;
                writeln!(out)?;
            }
            Format::Text => {
                let color = match a.color {
                    ColorChoice::Always => true,
                    ColorChoice::Never => false,
                    ColorChoice::Auto => std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none(),
                };
                render_text(&mut out, &mail, &clean, &assessment, Style { color }, None)?;
            }
        }
        out.flush()?;
    }
    Ok(if failing { 1 } else { 0 })
}
