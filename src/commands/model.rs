//! `rapport eval` and `rapport calibrate`: the model's own commands, run by `rapport-model`.
use std::os::unix::process::CommandExt;

use anyhow::Context;

use crate::cli::PassThrough;

pub fn pass_through(command: &str, a: PassThrough) -> anyhow::Result<i32> {
    let bin = rapport_core::scoring::model_binary();
    let err = std::process::Command::new(&bin).arg(command).args(&a.args).exec();
    Err(err).with_context(|| format!("{} could not be started: rapport runs its model in that program; install it beside `rapport` (make build puts both in target/release) or set RAPPORT_MODEL_BIN", bin.display()))
}
