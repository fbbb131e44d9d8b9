//! `rapport explain [CODE]`: what a finding code means, or every code.
use std::io::Write;

use crate::cli::ExplainArgs;

pub fn explain(a: ExplainArgs) -> anyhow::Result<i32> {
    let mut out = std::io::stdout().lock();
    match a.code {
        Some(code) => match rapport_core::rules::explain(&code) {
            Some(r) => writeln!(out, "{} {} ({})\n\n{}", r.code, r.name, r.default_severity.as_str(), r.explanation)?,
            None => anyhow::bail!("no finding has the code or name {code:?}; `rapport explain` lists them all"),
        },
        None => {
            for r in rapport_core::rules::RULES {
                writeln!(out, "{:<5} {:<24} {}", r.code, r.name, r.default_severity.as_str())?;
            }
        }
    }
    Ok(0)
}
