//! `rapport lsp`: a language server on stdio (lsp-server + lsp-types) for the editor mail is written
//! in (vim, neovim, helix, VS Code: mutt, aerc and himalaya hand the draft to one).
//!
//! * Diagnostics as you type: every finding of `rapport check` (rules, tone model, context, after
//!   the `[check]` tuning) with its code, span and message. Changes that arrive while a check runs
//!   are folded into the next one, so the server never falls behind the typing.
//! * Hover on a finding runs `rapport explain` for its code.
//! * Code actions apply a suggestion when it is a concrete rewrite ([`rapport_core::rewrite`]).
//! * Quoted text and the signature are skipped, as `rapport check` skips them: the cleaner's
//!   sentences are mapped back to the buffer with [`CleanText::to_original`].
//!
//! A buffer that starts with mail headers (`To:`, `Subject:`, ... then a blank line, as mutt's
//! `edit_headers`, aerc and himalaya write them) is read as a message: its recipients and
//! In-Reply-To give the context from the audit state. Any other buffer is the body alone.
//!
//! The server holds one scorer (resident `rapport serve`, else one child `rapport-model`) for its
//! lifetime, and re-reads the audit state when the file changes.
use std::collections::HashMap;
use std::path::PathBuf;
use std::time::{Duration, SystemTime};

use lsp_server::{Connection, ErrorCode, Message, Notification, Request, Response};
use lsp_types::{
    CodeAction, CodeActionKind, CodeActionOrCommand, CodeActionParams, CodeActionProviderCapability, Diagnostic, DiagnosticSeverity,
    DidChangeTextDocumentParams, DidCloseTextDocumentParams, DidOpenTextDocumentParams, Hover, HoverContents, HoverParams,
    HoverProviderCapability, InitializeParams, MarkupContent, MarkupKind, MessageType, NumberOrString, Position, PositionEncodingKind,
    PublishDiagnosticsParams, Range, ServerCapabilities, ShowMessageParams, TextDocumentSyncCapability, TextDocumentSyncKind, TextEdit,
    Uri, WorkspaceEdit,
};

use rapport_core::clean::CleanText;
use rapport_core::context::History;
use rapport_core::findings::{Finding, Severity};
use rapport_core::parse::{self, ParsedMail};
use rapport_core::source::{RawMail, SourceRef};
use rapport_core::tuning::Tuning;
use rapport_core::verdict::Assessor;

use super::check::{evaluate, load_history, load_tuning};
use crate::cli::{LspArgs, ModelArgs};

/// How long the server waits for more changes before it checks (typing comes in bursts).
const SETTLE: Duration = Duration::from_millis(40);

pub fn lsp(a: LspArgs) -> anyhow::Result<i32> {
    // A config mistake is reported before the editor connects: it shows the server's stderr.
    let (config, tuning) = load_tuning(a.config.as_deref())?;
    let state = a.state.clone().map(|p| (p, true)).unwrap_or_else(|| {
        (config.state.clone().unwrap_or_else(rapport_core::paths::default_state), false)
    });
    let (conn, io) = Connection::stdio();
    let (id, params) = conn.initialize_start()?;
    let init: InitializeParams = serde_json::from_value(params).unwrap_or_default();
    let utf8 = init
        .capabilities
        .general
        .as_ref()
        .and_then(|g| g.position_encodings.as_ref())
        .is_some_and(|e| e.contains(&PositionEncodingKind::UTF8));
    let caps = ServerCapabilities {
        position_encoding: Some(if utf8 { PositionEncodingKind::UTF8 } else { PositionEncodingKind::UTF16 }),
        text_document_sync: Some(TextDocumentSyncCapability::Kind(TextDocumentSyncKind::FULL)),
        hover_provider: Some(HoverProviderCapability::Simple(true)),
        code_action_provider: Some(CodeActionProviderCapability::Simple(true)),
        ..Default::default()
    };
    conn.initialize_finish(
        id,
        serde_json::json!({"capabilities": caps, "serverInfo": {"name": "rapport", "version": env!("CARGO_PKG_VERSION")}}),
    )?;
    let mut server = Server {
        docs: HashMap::new(),
        tuning,
        utf8,
        assessor: None,
        model: a.model.clone(),
        state: StateWatch { path: state.0, explicit: state.1, stamp: None, history: None },
        told: None,
    };
    server.run(&conn)?;
    drop(conn);
    io.join()?;
    Ok(0)
}

/// One open buffer.
struct Doc {
    uri: Uri,
    text: String,
    version: i32,
    /// Changed since the last check.
    dirty: bool,
    items: Vec<Item>,
}

/// A finding of the last check, placed in the buffer.
struct Item {
    diagnostic: Diagnostic,
    finding: Option<Finding>,
    rewrite: Option<(Range, String)>,
}

/// The audit state, re-read when its file (or its write-ahead log) changes.
struct StateWatch {
    path: PathBuf,
    explicit: bool,
    stamp: Option<(Option<SystemTime>, Option<SystemTime>)>,
    history: Option<History>,
}

impl StateWatch {
    fn history(&mut self) -> Option<&mut History> {
        let mtime = |p: &std::path::Path| std::fs::metadata(p).and_then(|m| m.modified()).ok();
        let mut wal = self.path.as_os_str().to_owned();
        wal.push("-wal");
        let stamp = (mtime(&self.path), mtime(std::path::Path::new(&wal)));
        if self.stamp != Some(stamp) {
            self.stamp = Some(stamp);
            self.history = match stamp.0 {
                None => {
                    if self.explicit {
                        eprintln!("rapport lsp: no state at {}: checking without context", self.path.display());
                    }
                    None
                }
                // Errors are on stderr (the editor's log); the check goes on without context.
                Some(_) => load_history(&self.path, false).ok().flatten(),
            };
        }
        self.history.as_mut()
    }
}

struct Server {
    docs: HashMap<String, Doc>,
    tuning: Tuning,
    utf8: bool,
    /// Made on the first check and kept: one scorer for the server's lifetime (remade after a failure).
    assessor: Option<Assessor<'static>>,
    model: ModelArgs,
    state: StateWatch,
    /// The last error shown to the user, so it is shown once.
    told: Option<String>,
}

enum Flow {
    Go,
    Exit,
}

impl Server {
    fn run(&mut self, conn: &Connection) -> anyhow::Result<()> {
        while let Ok(msg) = conn.receiver.recv() {
            if let Flow::Exit = self.handle(conn, msg)? {
                return Ok(());
            }
            // Fold in whatever else arrives while typing goes on, then check once.
            while let Ok(msg) = conn.receiver.recv_timeout(SETTLE) {
                if let Flow::Exit = self.handle(conn, msg)? {
                    return Ok(());
                }
            }
            let dirty: Vec<String> = self.docs.iter().filter(|(_, d)| d.dirty).map(|(k, _)| k.clone()).collect();
            for uri in dirty {
                self.check(conn, &uri);
            }
        }
        Ok(())
    }

    fn handle(&mut self, conn: &Connection, msg: Message) -> anyhow::Result<Flow> {
        match msg {
            Message::Request(req) => {
                if conn.handle_shutdown(&req)? {
                    return Ok(Flow::Exit);
                }
                let resp = self.request(conn, req);
                conn.sender.send(resp.into())?;
            }
            Message::Notification(n) => return Ok(self.notification(conn, n)),
            Message::Response(_) => {}
        }
        Ok(Flow::Go)
    }

    fn request(&mut self, conn: &Connection, req: Request) -> Response {
        let id = req.id.clone();
        let bad = |e: serde_json::Error| Response::new_err(id.clone(), ErrorCode::InvalidParams as i32, e.to_string());
        match req.method.as_str() {
            "textDocument/hover" => match serde_json::from_value::<HoverParams>(req.params) {
                Ok(p) => {
                    let uri = p.text_document_position_params.text_document.uri.as_str().to_string();
                    self.check(conn, &uri);
                    Response::new_ok(id, self.hover(&uri, p.text_document_position_params.position))
                }
                Err(e) => bad(e),
            },
            "textDocument/codeAction" => match serde_json::from_value::<CodeActionParams>(req.params) {
                Ok(p) => {
                    let uri = p.text_document.uri.as_str().to_string();
                    self.check(conn, &uri);
                    Response::new_ok(id, self.code_actions(&uri, p.range))
                }
                Err(e) => bad(e),
            },
            m => Response::new_err(id, ErrorCode::MethodNotFound as i32, format!("rapport lsp does not handle {m}")),
        }
    }

    fn notification(&mut self, conn: &Connection, n: Notification) -> Flow {
        match n.method.as_str() {
            "exit" => return Flow::Exit,
            "textDocument/didOpen" => {
                if let Ok(p) = serde_json::from_value::<DidOpenTextDocumentParams>(n.params) {
                    let d = p.text_document;
                    let doc = Doc { uri: d.uri.clone(), text: d.text, version: d.version, dirty: true, items: Vec::new() };
                    self.docs.insert(d.uri.as_str().to_string(), doc);
                }
            }
            "textDocument/didChange" => {
                if let Ok(p) = serde_json::from_value::<DidChangeTextDocumentParams>(n.params) {
                    let utf8 = self.utf8;
                    if let Some(doc) = self.docs.get_mut(p.text_document.uri.as_str()) {
                        for c in p.content_changes {
                            match c.range {
                                None => doc.text = c.text,
                                Some(r) => {
                                    let lines = Lines::new(&doc.text, utf8);
                                    let (a, b) = (lines.offset(r.start), lines.offset(r.end));
                                    doc.text.replace_range(a..b.max(a), &c.text);
                                }
                            }
                        }
                        doc.version = p.text_document.version;
                        doc.dirty = true;
                    }
                }
            }
            "textDocument/didClose" => {
                if let Ok(p) = serde_json::from_value::<DidCloseTextDocumentParams>(n.params) {
                    if self.docs.remove(p.text_document.uri.as_str()).is_some() {
                        publish(conn, p.text_document.uri, Vec::new(), None);
                    }
                }
            }
            _ => {}
        }
        Flow::Go
    }

    fn tell(&mut self, conn: &Connection, message: String) {
        if self.told.as_deref() != Some(message.as_str()) {
            eprintln!("rapport lsp: {message}");
            let params = ShowMessageParams { typ: MessageType::ERROR, message: format!("rapport: {message}") };
            let _ = conn.sender.send(Notification::new("window/showMessage".into(), params).into());
            self.told = Some(message);
        }
    }

    /// Check one buffer when it changed since its last check, and publish its diagnostics.
    fn check(&mut self, conn: &Connection, uri: &str) {
        let Some(doc) = self.docs.get(uri).filter(|d| d.dirty) else { return };
        let (mail, body_at) = draft_of(uri, &doc.text);
        // One libtorch thread suits a draft, as in `rapport check`.
        let assessor = self.assessor.get_or_insert_with(|| super::lazy_assessor(&self.model, 1, Default::default()));
        let result = evaluate(&mail, assessor, &self.tuning, self.state.history());
        let doc = self.docs.get_mut(uri).expect("looked up above");
        doc.dirty = false;
        match result {
            Ok(ev) => {
                let lines = Lines::new(&doc.text, self.utf8);
                let to_range = |body: std::ops::Range<usize>| Range::new(lines.position(body_at + body.start), lines.position(body_at + body.end));
                let mut items: Vec<Item> = ev
                    .assessment
                    .findings
                    .iter()
                    .map(|f| {
                        let range = to_range(ev.clean.to_original(f.span.clone()));
                        let rewrite = rapport_core::rewrite::rewrite(f, &ev.clean).map(|r| (to_range(ev.clean.to_original(r.range)), r.text));
                        Item { diagnostic: diagnostic(f, range), finding: Some(f.clone()), rewrite }
                    })
                    .collect();
                let notes = ev.notes();
                if !notes.is_empty() {
                    // The language and the context, on the body's first line.
                    let start = first_line(&mail.body, &ev.clean);
                    let range = to_range(start.clone());
                    let severity = if ev.language.checked { DiagnosticSeverity::HINT } else { DiagnosticSeverity::INFORMATION };
                    let diagnostic = Diagnostic { range, severity: Some(severity), source: Some("rapport".into()), message: notes.join("\n"), ..Default::default() };
                    items.insert(0, Item { diagnostic, finding: None, rewrite: None });
                }
                let diagnostics = items.iter().map(|i| i.diagnostic.clone()).collect();
                doc.items = items;
                publish(conn, doc.uri.clone(), diagnostics, Some(doc.version));
                self.told = None;
            }
            Err(e) => {
                self.assessor = None;
                self.tell(conn, format!("the tone model failed: {e}"));
            }
        }
    }

    fn hover(&self, uri: &str, pos: Position) -> Option<Hover> {
        let doc = self.docs.get(uri)?;
        let hits: Vec<&Item> = doc.items.iter().filter(|i| i.finding.is_some() && contains(i.diagnostic.range, pos)).collect();
        let first = hits.first()?;
        let mut seen = std::collections::BTreeSet::new();
        let mut md = Vec::new();
        for i in &hits {
            let f = i.finding.as_ref().expect("filtered above");
            let mut part = format!("**{} {}** ({})\n\n{}", f.code, f.name, f.severity.as_str(), f.message);
            if let Some(s) = &f.suggestion {
                part.push_str(&format!("\n\n*Suggestion:* {s}"));
            }
            if seen.insert(f.code) {
                if let Some(rule) = rapport_core::rules::explain(f.code) {
                    part.push_str(&format!("\n\n---\n\n{}", rule.explanation));
                }
            }
            md.push(part);
        }
        Some(Hover { contents: HoverContents::Markup(MarkupContent { kind: MarkupKind::Markdown, value: md.join("\n\n---\n\n") }), range: Some(first.diagnostic.range) })
    }

    fn code_actions(&self, uri: &str, range: Range) -> Vec<CodeActionOrCommand> {
        let Some(doc) = self.docs.get(uri) else { return Vec::new() };
        doc.items
            .iter()
            .filter(|i| overlaps(i.diagnostic.range, range))
            .filter_map(|i| {
                let (r, text) = i.rewrite.as_ref()?;
                let code = i.finding.as_ref().map(|f| f.code).unwrap_or("");
                let edit = WorkspaceEdit { changes: Some(HashMap::from([(doc.uri.clone(), vec![TextEdit::new(*r, text.clone())])])), ..Default::default() };
                Some(CodeActionOrCommand::CodeAction(CodeAction {
                    title: format!("Rewrite as “{}” ({code})", rapport_core::text::one_line(text, 60)),
                    kind: Some(CodeActionKind::QUICKFIX),
                    diagnostics: Some(vec![i.diagnostic.clone()]),
                    edit: Some(edit),
                    is_preferred: Some(true),
                    ..Default::default()
                }))
            })
            .collect()
    }
}

fn publish(conn: &Connection, uri: Uri, diagnostics: Vec<Diagnostic>, version: Option<i32>) {
    let params = PublishDiagnosticsParams { uri, diagnostics, version };
    let _ = conn.sender.send(Notification::new("textDocument/publishDiagnostics".into(), params).into());
}

fn diagnostic(f: &Finding, range: Range) -> Diagnostic {
    let severity = match f.severity {
        Severity::Error => DiagnosticSeverity::ERROR,
        Severity::Warning => DiagnosticSeverity::WARNING,
        Severity::Info => DiagnosticSeverity::INFORMATION,
    };
    let message = match &f.suggestion {
        Some(s) => format!("{} ({})\n{s}", f.message, f.name),
        None => format!("{} ({})", f.message, f.name),
    };
    Diagnostic {
        range,
        severity: Some(severity),
        code: Some(NumberOrString::String(f.code.to_string())),
        source: Some("rapport".into()),
        message,
        ..Default::default()
    }
}

/// The body range of the first thing the sender wrote (its first sentence), else the body's first line.
fn first_line(body: &str, clean: &CleanText) -> std::ops::Range<usize> {
    if !clean.sentences.is_empty() {
        let r = clean.sentence_original(0);
        let end = body[r.start..].find('\n').map_or(body.len(), |n| r.start + n);
        return r.start..end.max(r.start);
    }
    0..body.find('\n').unwrap_or(body.len())
}

fn contains(r: Range, p: Position) -> bool {
    (r.start.line, r.start.character) <= (p.line, p.character) && (p.line, p.character) <= (r.end.line, r.end.character)
}

fn overlaps(a: Range, b: Range) -> bool {
    let key = |p: Position| (p.line, p.character);
    key(a.start) <= key(b.end) && key(b.start) <= key(a.end)
}

/// Headers of which at least one must be in a header block.
const MAIL_HEADERS: &[&str] = &["from", "to", "cc", "bcc", "subject", "in-reply-to", "references", "date", "message-id", "reply-to"];

/// Whether `text` starts with a block of mail headers (one of them a [`MAIL_HEADERS`]) followed by
/// a blank line; returns the offset of the body.
fn header_block(text: &str) -> Option<usize> {
    let mut at = 0;
    let mut known = false;
    for (lines, line) in text.split_inclusive('\n').enumerate() {
        let l = line.trim_end_matches(['\n', '\r']);
        if l.is_empty() {
            return (lines > 0 && known).then_some(at + line.len());
        }
        let is_header = l.split_once(':').is_some_and(|(name, _)| {
            let ok = !name.is_empty() && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') && name.as_bytes()[0].is_ascii_alphabetic();
            known |= ok && MAIL_HEADERS.contains(&name.to_ascii_lowercase().as_str());
            ok
        });
        let continuation = lines > 0 && l.starts_with([' ', '\t']);
        if !is_header && !continuation {
            return None;
        }
        at += line.len();
    }
    None
}

/// The draft in a buffer, and where its body starts. Headers are read by the mail parser; the body
/// is the buffer's text as it is, so offsets map straight back.
fn draft_of(uri: &str, text: &str) -> (ParsedMail, usize) {
    if let Some(body_at) = header_block(text) {
        let mut raw = text[..body_at].to_string();
        raw.push_str("-\n");
        if let Ok(mut mail) = parse::parse(&RawMail::new(SourceRef::Text { label: uri.to_string() }, raw.into_bytes())) {
            mail.body = text[body_at..].to_string();
            return (mail, body_at);
        }
    }
    (parse::from_text(uri, text), 0)
}

/// Byte offsets and LSP positions (UTF-8 or UTF-16 code units) in one text.
struct Lines<'a> {
    text: &'a str,
    starts: Vec<usize>,
    utf8: bool,
}

impl<'a> Lines<'a> {
    fn new(text: &'a str, utf8: bool) -> Self {
        let starts = std::iter::once(0).chain(text.match_indices('\n').map(|(i, _)| i + 1)).collect();
        Lines { text, starts, utf8 }
    }

    fn position(&self, offset: usize) -> Position {
        let offset = offset.min(self.text.len());
        let line = self.starts.partition_point(|&s| s <= offset) - 1;
        let start = self.starts[line];
        let piece = self.text.get(start..offset).unwrap_or("");
        let character = if self.utf8 { piece.len() } else { piece.encode_utf16().count() };
        Position::new(line as u32, character as u32)
    }

    fn offset(&self, p: Position) -> usize {
        let Some(&start) = self.starts.get(p.line as usize) else { return self.text.len() };
        let end = self.starts.get(p.line as usize + 1).copied().unwrap_or(self.text.len());
        let line = &self.text[start..end];
        let mut units = 0u32;
        for (i, c) in line.char_indices() {
            if units >= p.character {
                return start + i;
            }
            units += if self.utf8 { c.len_utf8() as u32 } else { c.len_utf16() as u32 };
        }
        end
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_in_utf16_and_utf8() {
        let t = "Grüße 😀 x\nzweite";
        let l16 = Lines::new(t, false);
        let x = t.find('x').unwrap();
        assert_eq!(l16.position(x), Position::new(0, 9), "ü and ß are one unit each, the emoji two");
        assert_eq!(l16.offset(Position::new(0, 9)), x);
        let l8 = Lines::new(t, true);
        assert_eq!(l8.position(x), Position::new(0, x as u32));
        assert_eq!(l8.offset(Position::new(1, 2)), t.find("zweite").unwrap() + 2);
    }

    #[test]
    fn headers_are_read_when_the_buffer_starts_with_them() {
        let t = "To: Anna <anna@fabrikam.com>\nSubject: Re: prices\nIn-Reply-To: <k1@fabrikam.com>\n\nHi Anna,\n";
        let (mail, at) = draft_of("file:///tmp/d.eml", t);
        assert_eq!(&t[at..], "Hi Anna,\n");
        assert_eq!(mail.body, "Hi Anna,\n");
        assert_eq!(mail.to[0].address, "anna@fabrikam.com");
        assert_eq!(mail.in_reply_to, ["k1@fabrikam.com"]);
        let (_, at) = draft_of("u", "Note: this is the body\n\nMore.\n");
        assert_eq!(at, 0, "a line that only looks like a header is body");
        let (mail, at) = draft_of("u", "Hi Anna,\n\nthe body.\n");
        assert_eq!((at, mail.body.as_str()), (0, "Hi Anna,\n\nthe body.\n"));
    }
}
