//! `rapport serve`: the resident scorer. It is `rapport-model serve --socket`, run in the
//! foreground (for systemd, or a terminal); `rapport check` and the others use it while it runs.
use std::os::unix::process::CommandExt;
use std::time::Duration;

use anyhow::Context;

use crate::cli::ServeArgs;

pub fn serve(a: ServeArgs) -> anyhow::Result<i32> {
    let socket = a.socket.clone().unwrap_or_else(rapport_core::paths::scorer_socket);
    if a.stop {
        return match rapport_core::scoring::ResidentScorer::connect(&socket, Duration::from_secs(5))? {
            Some(r) => {
                // SAFETY: kill only sends a signal to the pid the scorer reported for itself.
                let rc = unsafe { libc::kill(r.info.pid as i32, libc::SIGTERM) };
                anyhow::ensure!(rc == 0, "could not stop the scorer (pid {}): {}", r.info.pid, std::io::Error::last_os_error());
                eprintln!("rapport: stopped the resident scorer (pid {})", r.info.pid);
                Ok(0)
            }
            None => {
                eprintln!("rapport: no resident scorer is listening on {}", socket.display());
                Ok(0)
            }
        };
    }
    let bin = rapport_core::scoring::model_binary();
    let mut cmd = std::process::Command::new(&bin);
    cmd.arg("serve").arg("--socket").arg(&socket).arg("--idle-timeout").arg(a.idle_timeout.to_string()).args(a.model.options().args());
    let err = cmd.exec();
    Err(err).with_context(|| format!("{} could not be started: install it beside `rapport`, or set RAPPORT_MODEL_BIN", bin.display()))
}
