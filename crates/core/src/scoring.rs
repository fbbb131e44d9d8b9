//! Reaching the tone model, which runs in its own process (`rapport-model`, crates/model): either a
//! resident scorer that keeps the model warm (`rapport serve`, on a Unix socket), or a child process
//! started for this run and spoken to over its standard input and output. The `rapport` binary does
//! not link libtorch, so commands that need no model start in milliseconds.
//!
//! **Protocol.** JSON Lines, one request and one answer per line, in order:
//!
//! ```text
//! > {"op":"hello"}
//! < {"ok":true,"model_id":"all-MiniLM-L6-v2@gt-0.1.0+verdict-…","pid":1234,"device":"cpu","precision":"bf16"}
//! > {"op":"score","sentences":["Thanks for the call.","I need this by noon."]}
//! < {"ok":true,"scores":[{"negative":0.02,…},{…}]}
//! < {"ok":false,"error":"the tone model's encoder is missing: …"}
//! ```
//!
//! The client checks in `hello` that the model process was built with the same verdict code
//! ([`crate::model_id`]); a `rapport-model` from another build is refused with a clear message.
use std::ffi::OsString;
use std::io::{BufRead, BufReader, BufWriter, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use crate::verdict::{ScoreError, SentenceScorer, SentenceScores};

/// A request to the scorer.
#[derive(Debug, serde::Serialize, serde::Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum Request {
    Hello,
    Score { sentences: Vec<String> },
}

/// The scorer's answer to one request.
#[derive(Debug, Default, serde::Serialize, serde::Deserialize)]
pub struct Response {
    pub ok: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pid: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub precision: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scores: Option<Vec<SentenceScores>>,
}

impl Response {
    pub fn error(message: impl Into<String>) -> Self {
        Self { ok: false, error: Some(message.into()), ..Default::default() }
    }
}

/// Write one JSON line and flush.
pub fn write_line<W: Write, T: serde::Serialize>(w: &mut W, value: &T) -> std::io::Result<()> {
    serde_json::to_writer(&mut *w, value)?;
    w.write_all(b"\n")?;
    w.flush()
}

/// Read one JSON line; `None` at end of input.
pub fn read_line<R: BufRead, T: serde::de::DeserializeOwned>(r: &mut R) -> std::io::Result<Option<T>> {
    let mut line = String::new();
    if r.read_line(&mut line)? == 0 {
        return Ok(None);
    }
    serde_json::from_str(&line).map(Some).map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e))
}

/// What the scorer said in `hello`.
#[derive(Debug, Clone)]
pub struct ScorerInfo {
    pub model_id: String,
    pub pid: u32,
    pub device: String,
    pub precision: String,
    /// `resident` (a `rapport serve` socket) or `child` (a process started for this run).
    pub kind: &'static str,
}

struct Conn<R, W> {
    reader: R,
    writer: W,
    what: String,
}

impl<R: BufRead, W: Write> Conn<R, W> {
    fn call(&mut self, req: &Request) -> Result<Response, ScoreError> {
        let lost = |e: std::io::Error| ScoreError::Process(format!("{} stopped answering ({e})", self.what));
        write_line(&mut self.writer, req).map_err(lost)?;
        let resp: Response = read_line(&mut self.reader)
            .map_err(|e| ScoreError::Process(format!("{} answered something unreadable ({e})", self.what)))?
            .ok_or_else(|| ScoreError::Process(format!("{} exited before answering", self.what)))?;
        if !resp.ok {
            return Err(ScoreError::Model(resp.error.unwrap_or_else(|| "the tone model failed".into())));
        }
        Ok(resp)
    }

    fn hello(&mut self, kind: &'static str) -> Result<ScorerInfo, ScoreError> {
        let r = self.call(&Request::Hello)?;
        let model_id = r.model_id.unwrap_or_default();
        if model_id != crate::model_id() {
            return Err(ScoreError::Process(format!(
                "{} runs another build of rapport's model ({model_id}, this rapport expects {}). Install rapport and rapport-model from the same build, and restart `rapport serve`",
                self.what,
                crate::model_id()
            )));
        }
        Ok(ScorerInfo {
            model_id,
            pid: r.pid.unwrap_or(0),
            device: r.device.unwrap_or_default(),
            precision: r.precision.unwrap_or_default(),
            kind,
        })
    }

    fn score(&mut self, sentences: &[&str]) -> Result<Vec<SentenceScores>, ScoreError> {
        let req = Request::Score { sentences: sentences.iter().map(|s| s.to_string()).collect() };
        let scores = self.call(&req)?.scores.unwrap_or_default();
        if scores.len() != sentences.len() {
            return Err(ScoreError::Process(format!("{} answered {} scores for {} sentences", self.what, scores.len(), sentences.len())));
        }
        Ok(scores)
    }
}

/// How to start the model: the `rapport-model` options (`--model-dir`, `--device`, `--threads`,
/// `--precision`) passed through.
#[derive(Debug, Clone, Default)]
pub struct ModelOptions {
    pub model_dir: Option<PathBuf>,
    pub device: String,
    pub threads: usize,
    pub precision: String,
}

impl ModelOptions {
    pub fn args(&self) -> Vec<OsString> {
        let mut a: Vec<OsString> = Vec::new();
        if let Some(d) = &self.model_dir {
            a.push("--model-dir".into());
            a.push(d.into());
        }
        if !self.device.is_empty() {
            a.push("--device".into());
            a.push(self.device.clone().into());
        }
        a.push("--threads".into());
        a.push(self.threads.to_string().into());
        if !self.precision.is_empty() {
            a.push("--precision".into());
            a.push(self.precision.clone().into());
        }
        a
    }

    /// Whether a resident scorer may answer for these options: it runs with its own device,
    /// precision and model folder, so only a run that asks for nothing special uses it.
    pub fn is_default(&self) -> bool {
        self.model_dir.is_none() && matches!(self.device.as_str(), "" | "cpu") && matches!(self.precision.as_str(), "" | "auto")
    }
}

/// The `rapport-model` program: `$RAPPORT_MODEL_BIN`, else beside the running executable, else on
/// `PATH`.
pub fn model_binary() -> PathBuf {
    if let Some(p) = std::env::var_os("RAPPORT_MODEL_BIN").filter(|p| !p.is_empty()) {
        return PathBuf::from(p);
    }
    if let Some(dir) = std::env::current_exe().ok().and_then(|p| p.parent().map(Path::to_path_buf)) {
        let beside = dir.join("rapport-model");
        if beside.is_file() {
            return beside;
        }
        // `cargo test` runs test binaries from target/*/deps: the programs are one folder up.
        let up = dir.join("../rapport-model");
        if dir.ends_with("deps") && up.is_file() {
            return up;
        }
    }
    PathBuf::from("rapport-model")
}

/// A `rapport-model` child process, spoken to over its standard input and output. It exits when
/// this value is dropped (its input closes).
pub struct ChildScorer {
    conn: Option<Conn<BufReader<std::process::ChildStdout>, BufWriter<std::process::ChildStdin>>>,
    child: Child,
    pub info: ScorerInfo,
}

impl ChildScorer {
    pub fn spawn(opts: &ModelOptions) -> Result<Self, ScoreError> {
        let bin = model_binary();
        let mut child = Command::new(&bin)
            .arg("serve")
            .arg("--stdio")
            .args(opts.args())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .map_err(|e| {
                ScoreError::Process(format!(
                    "{} could not be started ({e}). rapport runs its tone model in that program: install it beside `rapport` (make build puts both in target/release), or set RAPPORT_MODEL_BIN",
                    bin.display()
                ))
            })?;
        let what = format!("{} (pid {})", bin.display(), child.id());
        let conn = Conn {
            reader: BufReader::new(child.stdout.take().expect("piped")),
            writer: BufWriter::new(child.stdin.take().expect("piped")),
            what,
        };
        let mut conn = conn;
        let info = match conn.hello("child") {
            Ok(info) => info,
            Err(e) => {
                drop(conn);
                let _ = child.kill();
                let _ = child.wait();
                return Err(e);
            }
        };
        Ok(Self { conn: Some(conn), child, info })
    }
}

impl SentenceScorer for ChildScorer {
    fn score(&mut self, sentences: &[&str]) -> Result<Vec<SentenceScores>, ScoreError> {
        self.conn.as_mut().expect("open until dropped").score(sentences)
    }
}

impl Drop for ChildScorer {
    fn drop(&mut self) {
        // Closing its input ends the child; wait (a little) so that no zombie is left behind.
        drop(self.conn.take());
        for _ in 0..200 {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A connection to a resident scorer (`rapport serve`).
pub struct ResidentScorer {
    conn: Conn<BufReader<UnixStream>, BufWriter<UnixStream>>,
    pub info: ScorerInfo,
}

impl ResidentScorer {
    /// Connect to the resident scorer at `path`; `Ok(None)` when none is listening there.
    pub fn connect(path: &Path, timeout: Duration) -> Result<Option<Self>, ScoreError> {
        let stream = match UnixStream::connect(path) {
            Ok(s) => s,
            Err(_) => return Ok(None),
        };
        let io = |e: std::io::Error| ScoreError::Process(format!("at {} could not be used ({e})", path.display()));
        stream.set_read_timeout(Some(timeout)).map_err(io)?;
        stream.set_write_timeout(Some(timeout)).map_err(io)?;
        let reader = BufReader::new(stream.try_clone().map_err(io)?);
        let what = format!("resident scorer at {}", path.display());
        let mut conn = Conn { reader, writer: BufWriter::new(stream), what };
        let info = conn.hello("resident")?;
        Ok(Some(Self { conn, info }))
    }
}

impl SentenceScorer for ResidentScorer {
    fn score(&mut self, sentences: &[&str]) -> Result<Vec<SentenceScores>, ScoreError> {
        self.conn.score(sentences)
    }
}

/// The scorer for a run: the resident one when it is running (and the options allow it), else a
/// child process. The [`ScorerInfo`] says which one answered.
pub fn connect(opts: &ModelOptions, use_resident: bool) -> Result<(Box<dyn SentenceScorer>, ScorerInfo), ScoreError> {
    if use_resident && opts.is_default() {
        if let Some(r) = ResidentScorer::connect(&crate::paths::scorer_socket(), Duration::from_secs(30))? {
            let info = r.info.clone();
            return Ok((Box::new(r), info));
        }
    }
    let c = ChildScorer::spawn(opts)?;
    let info = c.info.clone();
    Ok((Box::new(c), info))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_and_answers_are_json_lines() {
        let mut buf = Vec::new();
        write_line(&mut buf, &Request::Score { sentences: vec!["a\nb".into()] }).unwrap();
        assert_eq!(buf.iter().filter(|&&b| b == b'\n').count(), 1, "a sentence with a line break stays on one line");
        let back: Request = read_line(&mut &buf[..]).unwrap().unwrap();
        assert!(matches!(back, Request::Score { sentences } if sentences == ["a\nb"]));
        let e: Response = serde_json::from_str(r#"{"ok":false,"error":"x"}"#).unwrap();
        assert!(!e.ok && e.error.as_deref() == Some("x"));
    }

    #[test]
    fn options_become_rapport_model_flags() {
        let o = ModelOptions { model_dir: Some("/m".into()), device: "cpu".into(), threads: 1, precision: "f32".into() };
        let a: Vec<String> = o.args().into_iter().map(|s| s.into_string().unwrap()).collect();
        assert_eq!(a, ["--model-dir", "/m", "--device", "cpu", "--threads", "1", "--precision", "f32"]);
        assert!(!o.is_default());
        assert!(ModelOptions { device: "cpu".into(), precision: "auto".into(), ..Default::default() }.is_default());
    }
}
