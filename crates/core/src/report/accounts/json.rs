//! The accounts report for tools: the [`Report`] as JSON (schema version
//! [`crate::accounts::SCHEMA`], documented in docs/accounts.md), pretty-printed, one document.
use std::io::Write;

use crate::accounts::Report;

pub fn render(out: &mut dyn Write, rep: &Report) -> anyhow::Result<()> {
    serde_json::to_writer_pretty(&mut *out, rep)?;
    writeln!(out)?;
    Ok(())
}
