//! `rapport lsp` spoken to as an editor does: JSON-RPC over the real binary's stdin and stdout
//! (initialize, didOpen, didChange, publishDiagnostics, hover, codeAction, shutdown, exit), with
//! the real model and the context fixtures' audit state.
use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Child, ChildStdin, Stdio};
use std::sync::mpsc::{channel, Receiver};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use super::context::{audited, isolated};

/// How long one answer may take (the first check starts the model).
const PATIENCE: Duration = Duration::from_secs(120);

struct Client {
    child: Child,
    stdin: ChildStdin,
    rx: Receiver<Value>,
    next_id: i64,
    /// Messages read while waiting for something else.
    seen: Vec<Value>,
}

impl Client {
    fn start(home: &std::path::Path, extra: &[&str]) -> Client {
        let mut child = isolated(home)
            .arg("lsp")
            .args(extra)
            .arg("--state")
            .arg(audited())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        let stdin = child.stdin.take().unwrap();
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = channel();
        std::thread::spawn(move || {
            let mut r = BufReader::new(stdout);
            loop {
                let mut len = None;
                loop {
                    let mut line = String::new();
                    if r.read_line(&mut line).unwrap_or(0) == 0 {
                        return;
                    }
                    let line = line.trim_end();
                    if line.is_empty() {
                        break;
                    }
                    if let Some(v) = line.strip_prefix("Content-Length: ") {
                        len = v.parse::<usize>().ok();
                    }
                }
                let mut body = vec![0; len.expect("a Content-Length header")];
                if r.read_exact(&mut body).is_err() {
                    return;
                }
                let v: Value = serde_json::from_slice(&body).expect("the server writes JSON");
                if tx.send(v).is_err() {
                    return;
                }
            }
        });
        Client { child, stdin, rx, next_id: 1, seen: Vec::new() }
    }

    fn send(&mut self, v: Value) {
        let body = serde_json::to_vec(&v).unwrap();
        write!(self.stdin, "Content-Length: {}\r\n\r\n", body.len()).unwrap();
        self.stdin.write_all(&body).unwrap();
        self.stdin.flush().unwrap();
    }

    fn notify(&mut self, method: &str, params: Value) {
        self.send(json!({"jsonrpc": "2.0", "method": method, "params": params}));
    }

    fn request(&mut self, method: &str, params: Value) -> Value {
        let id = self.next_id;
        self.next_id += 1;
        self.send(json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}));
        let resp = self.wait(|m| m["id"] == id && m.get("method").is_none());
        assert!(resp.get("error").is_none(), "{method}: {resp}");
        resp["result"].clone()
    }

    /// The first message (already seen or new) that `pred` accepts.
    fn wait(&mut self, pred: impl Fn(&Value) -> bool) -> Value {
        if let Some(i) = self.seen.iter().position(&pred) {
            return self.seen.remove(i);
        }
        let deadline = Instant::now() + PATIENCE;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let m = self.rx.recv_timeout(left).unwrap_or_else(|_| panic!("no answer in {PATIENCE:?}; seen: {:?}", self.seen));
            if pred(&m) {
                return m;
            }
            self.seen.push(m);
        }
    }

    /// The diagnostics published for `uri` at `version`.
    fn diagnostics(&mut self, uri: &str, version: i64) -> Vec<Value> {
        let m = self.wait(|m| m["method"] == "textDocument/publishDiagnostics" && m["params"]["uri"] == uri && m["params"]["version"] == version);
        m["params"]["diagnostics"].as_array().unwrap().clone()
    }
}

/// A reply being written in the editor, with its headers (as mutt's edit_headers shows them), a
/// quoted customer message and a signature: only the sender's own words may be flagged.
const DRAFT: &str = "From: Dana Berg <dana@northwind.example>
To: Anna Roth <anna@fabrikam.com>
Subject: Re: Thank you!
In-Reply-To: <kind-1@fabrikam.com>

Anna,

> WHY IS THE LIST NOT ON THE WEBSITE??
> You failed to send it!!

As per my last email, the price list is on our website. Surely you know where it is??

Dana

-- 
Dana Berg | NORTHWIND SALES | CALL US NOW!!
";

const FRIENDLY: &str = "From: Dana Berg <dana@northwind.example>
To: Anna Roth <anna@fabrikam.com>
Subject: Re: Thank you!
In-Reply-To: <kind-1@fabrikam.com>

Hi Anna,

you're very welcome, I'm glad everything arrived safely! The updated price list is attached.

Best regards,
Dana
";

fn code(d: &Value) -> &str {
    d["code"].as_str().unwrap_or("")
}

fn line_of(text: &str, needle: &str) -> u64 {
    text.lines().position(|l| l.contains(needle)).unwrap() as u64
}

#[test]
fn diagnostics_as_you_type_hover_explains_and_code_actions_rewrite() {
    let home = tempfile::tempdir().unwrap();
    let mut c = Client::start(home.path(), &[]);
    let init = c.request("initialize", json!({"processId": null, "rootUri": null, "capabilities": {}}));
    assert_eq!(init["serverInfo"]["name"], "rapport");
    assert_eq!(init["capabilities"]["hoverProvider"], true);
    assert_eq!(init["capabilities"]["positionEncoding"], "utf-16", "the default when the client offers none");
    c.notify("initialized", json!({}));

    let uri = "file:///tmp/neomutt-draft-1";
    c.notify("textDocument/didOpen", json!({"textDocument": {"uri": uri, "languageId": "mail", "version": 1, "text": DRAFT}}));
    let diags = c.diagnostics(uri, 1);
    let codes: Vec<&str> = diags.iter().map(code).collect();
    for want in ["R104", "R102", "R109", "C302"] {
        assert!(codes.contains(&want), "{want} missing: {diags:?}");
    }
    // Every finding is in the sender's own lines: none in the quote, none in the signature.
    let own = line_of(DRAFT, "As per my last email");
    let (greeting, quote, signature) = (line_of(DRAFT, "Anna,"), line_of(DRAFT, "> WHY"), line_of(DRAFT, "NORTHWIND SALES"));
    for d in diags.iter().filter(|d| !code(d).is_empty()) {
        let line = d["range"]["start"]["line"].as_u64().unwrap();
        assert!(line >= greeting && line != quote && line != quote + 1 && line < signature - 1, "{} on line {line}: {d}", code(d));
        assert_eq!(d["source"], "rapport");
    }
    // The span is exact, in UTF-16 columns.
    let r104 = diags.iter().find(|d| code(d) == "R104").unwrap();
    assert_eq!(r104["range"], json!({"start": {"line": own, "character": 0}, "end": {"line": own, "character": 20}}));
    assert_eq!(r104["severity"], 3, "a note (calibrated on labelled mail)");
    let r109 = diags.iter().find(|d| code(d) == "R109").unwrap();
    assert_eq!(r109["severity"], 2, "a warning");
    assert!(r104["message"].as_str().unwrap().contains("passive-aggressive"), "{r104}");
    // The context: the account line, as a hint on the first line of the body.
    let hint = diags.iter().find(|d| code(d).is_empty()).expect("the context hint");
    assert!(hint["message"].as_str().unwrap().contains("fabrikam.com has had nothing but email from you"), "{hint}");

    // Hover on the finding runs `rapport explain R104`.
    let hover = c.request("textDocument/hover", json!({"textDocument": {"uri": uri}, "position": {"line": own, "character": 5}}));
    let md = hover["contents"]["value"].as_str().unwrap();
    assert!(md.contains("**R104 passive-aggressive** (info)"), "{md}");
    assert!(md.contains("Each of these has a polite surface and a pointed subtext"), "the catalogue's explanation: {md}");
    let nothing = c.request("textDocument/hover", json!({"textDocument": {"uri": uri}, "position": {"line": 2, "character": 3}}));
    assert!(nothing.is_null(), "no finding in the headers: {nothing}");

    // The piled question marks have a rewrite; the passive-aggressive phrase has advice only.
    let r102 = diags.iter().find(|d| code(d) == "R102").unwrap().clone();
    let actions = c.request("textDocument/codeAction", json!({"textDocument": {"uri": uri}, "range": r102["range"], "context": {"diagnostics": [r102]}}));
    let action = actions.as_array().unwrap().iter().find(|a| a["diagnostics"][0]["code"] == "R102").unwrap_or_else(|| panic!("{actions}"));
    assert_eq!(action["kind"], "quickfix");
    let edit = &action["edit"]["changes"][uri][0];
    assert_eq!(edit["newText"], "?");
    assert_eq!(edit["range"], r102["range"]);
    let none = c.request("textDocument/codeAction", json!({"textDocument": {"uri": uri}, "range": r104["range"], "context": {"diagnostics": []}}));
    assert!(none.as_array().unwrap().iter().all(|a| a["diagnostics"][0]["code"] != "R104"), "{none}");

    // Typing on: the draft becomes friendly, and the warnings go.
    c.notify("textDocument/didChange", json!({"textDocument": {"uri": uri, "version": 2}, "contentChanges": [{"text": FRIENDLY}]}));
    let diags = c.diagnostics(uri, 2);
    assert!(diags.iter().all(|d| d["severity"].as_u64().unwrap() >= 3), "only notes and hints left: {diags:?}");

    // A German draft: one statement, no English-rule findings.
    let de = "file:///tmp/neomutt-draft-2";
    let german = "Sehr geehrter Herr Weber,\n\nvielen Dank für Ihre Bestellung vom Montag. Leider verzögert sich die Lieferung um eine Woche, weil ein Bauteil noch fehlt.\n\nMit freundlichen Grüßen\nDana Berg\n";
    c.notify("textDocument/didOpen", json!({"textDocument": {"uri": de, "languageId": "mail", "version": 7, "text": german}}));
    let diags = c.diagnostics(de, 7);
    assert_eq!(diags.len(), 1, "{diags:?}");
    assert!(diags[0]["message"].as_str().unwrap().contains("German (de)"), "{diags:?}");
    assert!(diags[0].get("code").is_none());

    // Closing clears; shutdown and exit end the server cleanly.
    c.notify("textDocument/didClose", json!({"textDocument": {"uri": de}}));
    let cleared = c.wait(|m| m["method"] == "textDocument/publishDiagnostics" && m["params"]["uri"] == de);
    assert!(cleared["params"]["diagnostics"].as_array().unwrap().is_empty());
    let down = c.request("shutdown", Value::Null);
    assert!(down.is_null());
    c.notify("exit", Value::Null);
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Some(status) = c.child.try_wait().unwrap() {
            assert!(status.success(), "{status}");
            break;
        }
        assert!(Instant::now() < deadline, "the server did not exit");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn utf8_positions_when_the_client_offers_them() {
    let home = tempfile::tempdir().unwrap();
    let mut c = Client::start(home.path(), &["--no-resident"]);
    let init = c.request("initialize", json!({"capabilities": {"general": {"positionEncodings": ["utf-8", "utf-16"]}}}));
    assert_eq!(init["capabilities"]["positionEncoding"], "utf-8");
    c.notify("initialized", json!({}));
    let uri = "file:///tmp/body-only.txt";
    let text = "Grüße — thanks for the call. Did you get the contract??\n";
    c.notify("textDocument/didOpen", json!({"textDocument": {"uri": uri, "languageId": "mail", "version": 1, "text": text}}));
    let diags = c.diagnostics(uri, 1);
    let r102 = diags.iter().find(|d| code(d) == "R102").unwrap_or_else(|| panic!("{diags:?}"));
    let at = text.find("??").unwrap() as u64;
    assert_eq!(r102["range"]["start"], json!({"line": 0, "character": at}), "byte columns");
    c.request("shutdown", Value::Null);
    c.notify("exit", Value::Null);
    let _ = c.child.wait();
}
