//! `rapport check` in context (tests/fixtures/context): an email-only account with a kind customer
//! message and a harsh reply, an account with a meeting and an upset customer, the `[check]`
//! tuning, findings accepted for one account, and drafts in German and French. The real binary,
//! the real model and a real SQLite state filled by `rapport audit --received`.
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use serde_json::Value;

use crate::{bin, fixture, repo};

/// A command with its own (empty) config and state folders, so nothing of the user's is read.
pub fn isolated(home: &Path) -> Command {
    let mut c = Command::new(bin());
    c.current_dir(repo())
        .env("XDG_CONFIG_HOME", home.join("config"))
        .env("XDG_STATE_HOME", home.join("state"))
        .env_remove("RAPPORT_CONFIG");
    c
}

/// The context fixtures audited into a state, once for the whole test binary. Tests that write to
/// a state use a copy ([`state_copy`]).
pub fn audited() -> &'static Path {
    static STATE: OnceLock<(tempfile::TempDir, PathBuf)> = OnceLock::new();
    &STATE
        .get_or_init(|| {
            let dir = tempfile::tempdir().unwrap();
            let state = dir.path().join("context.sqlite3");
            let out = isolated(dir.path())
                .arg("audit")
                .arg(fixture("context/sent"))
                .arg("--received")
                .arg(fixture("context/received"))
                .arg("--state")
                .arg(&state)
                .args(["--format", "json"])
                .output()
                .unwrap();
            assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
            (dir, state)
        })
        .1
}

fn state_copy(dir: &Path) -> PathBuf {
    let p = dir.join("copy.sqlite3");
    std::fs::copy(audited(), &p).unwrap();
    p
}

fn draft(name: &str) -> PathBuf {
    fixture(&format!("context/drafts/{name}"))
}

/// `rapport check --format json` of a draft against a state: (exit code, JSON, stderr).
fn check_json(home: &Path, state: Option<&Path>, extra: &[&str], draft_path: &Path) -> (Option<i32>, Value, String) {
    let mut c = isolated(home);
    c.args(["check", "--format", "json"]).args(extra);
    if let Some(s) = state {
        c.arg("--state").arg(s);
    }
    let out = c.arg(draft_path).output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    let v = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}\n{err}", String::from_utf8_lossy(&out.stdout)));
    (out.status.code(), v, err)
}

fn codes(v: &Value) -> Vec<String> {
    v["findings"].as_array().unwrap().iter().map(|f| f["code"].as_str().unwrap().to_string()).collect()
}

fn finding<'a>(v: &'a Value, code: &str) -> &'a Value {
    v["findings"].as_array().unwrap().iter().find(|f| f["code"] == code).unwrap_or_else(|| panic!("no {code} in {v}"))
}

#[test]
fn a_harsh_reply_to_a_kind_message_on_an_email_only_account() {
    let home = tempfile::tempdir().unwrap();
    let (code, v, err) = check_json(home.path(), Some(audited()), &[], &draft("harsh-reply.eml"));
    assert_eq!(code, Some(1), "{err}");
    let ctx = &v["context"];
    assert_eq!(
        ctx["account"],
        serde_json::json!({"name": "fabrikam.com", "verdict": "email_only", "emails_90d": 12, "last_call_or_meeting": null}),
        "{v}"
    );
    let replying = &ctx["thread"]["replying_to"];
    assert_eq!(replying["from"], "Anna Roth <anna@fabrikam.com>");
    assert_eq!(replying["date"], "2026-11-18");
    let parent_risk = replying["risk"].as_f64().unwrap();
    assert!(parent_risk < 0.1, "the customer's message is kind: {parent_risk}");
    assert_eq!(ctx["thread"]["escalation"], true, "{v}");
    assert_eq!(v["account"], "fabrikam.com");
    let found = codes(&v);
    for want in ["C301", "C302"] {
        assert!(found.iter().any(|c| c == want), "{want} missing from {found:?}");
    }
    // Its misread risk is not far above the usual mail to fabrikam.com; a rant's is (C304).
    let (_, rant, _) = check_json(home.path(), Some(audited()), &[], &draft("rant-reply.eml"));
    assert!(codes(&rant).iter().any(|c| c == "C304"), "C304 missing from {rant}");
    assert_eq!(finding(&v, "C301")["severity"], "warning");
    assert_eq!(finding(&v, "C302")["severity"], "warning");
    assert!(finding(&v, "C301")["suggestion"].as_str().unwrap().starts_with("Call anna@fabrikam.com"));

    // The text report says it in a line of its own.
    let out = isolated(home.path()).args(["check", "--color", "never", "--state"]).arg(audited()).arg(draft("harsh-reply.eml")).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("\nfabrikam.com has had nothing but email from you for 90 days (12 emails): consider a call.\n"), "{text}");
    assert!(text.contains("Replying to Anna Roth <anna@fabrikam.com> (2026-11-18, risk "), "{text}");
    assert!(text.contains("warning[C302] escalation:"), "{text}");
}

#[test]
fn a_kind_reply_raises_no_context_finding() {
    let home = tempfile::tempdir().unwrap();
    let (code, v, err) = check_json(home.path(), Some(audited()), &[], &draft("kind-reply.eml"));
    assert_eq!(code, Some(0), "{v}{err}");
    assert!(codes(&v).iter().all(|c| !c.starts_with('C')), "{v}");
    assert_eq!(v["context"]["thread"]["escalation"], false);
    assert_eq!(v["context"]["account"]["verdict"], "email_only");
}

#[test]
fn an_account_with_a_meeting_and_an_upset_customer() {
    let home = tempfile::tempdir().unwrap();
    let (_, v, err) = check_json(home.path(), Some(audited()), &[], &draft("upset-reply.eml"));
    let acc = &v["context"]["account"];
    assert_eq!(acc["name"], "contoso.com", "{v}\n{err}");
    assert_eq!(acc["verdict"], "mixed");
    assert_eq!(acc["emails_90d"], 4);
    assert_eq!(acc["last_call_or_meeting"]["channel"], "meeting", "{acc}");
    assert!(acc["last_call_or_meeting"]["date"].as_str().unwrap().starts_with("2026-10-1"), "{acc}");
    let thread = &v["context"]["thread"];
    assert_eq!(thread["replying_to"]["from"], "Ben Ito <ben@contoso.com>");
    assert!(thread["replying_to"]["risk"].as_f64().is_some(), "the complaint has a verdict: {thread}");
    let c303 = finding(&v, "C303");
    assert_eq!(c303["severity"], "info");
    assert!(c303["message"].as_str().unwrap().contains("Ben Ito <ben@contoso.com> sounded upset on 2026-11-19"), "{c303}");
    assert!(!codes(&v).contains(&"C301".to_string()), "not an email-only account");
}

#[test]
fn without_a_state_there_is_no_context_and_a_named_state_must_exist() {
    let home = tempfile::tempdir().unwrap();
    let (code, v, _) = check_json(home.path(), None, &[], &draft("kind-reply.eml"));
    assert_eq!(code, Some(0));
    assert!(v["context"].is_null() && v["account"].is_null(), "{v}");
    let out = isolated(home.path()).args(["check", "--state"]).arg(home.path().join("nope.sqlite3")).arg(draft("kind-reply.eml")).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("nope.sqlite3") && err.contains("rapport audit"), "{err}");
    // The configured state is read when it exists.
    std::fs::create_dir_all(home.path().join("config/rapport")).unwrap();
    std::fs::write(home.path().join("config/rapport/config.toml"), format!("state = {:?}\n", audited().display().to_string())).unwrap();
    let (_, v, _) = check_json(home.path(), None, &[], &draft("kind-reply.eml"));
    assert_eq!(v["context"]["account"]["name"], "fabrikam.com", "{v}");
}

#[test]
fn a_finding_accepted_for_one_account_is_a_note_there_and_a_warning_elsewhere() {
    let home = tempfile::tempdir().unwrap();
    let state = state_copy(home.path());
    let (_, before, _) = check_json(home.path(), Some(&state), &[], &draft("harsh-reply.eml"));
    assert_eq!(finding(&before, "R109")["severity"], "warning");

    let (_, v, err) = check_json(home.path(), Some(&state), &["--accept", "condescending"], &draft("harsh-reply.eml"));
    assert!(err.contains("R109 accepted for fabrikam.com"), "{err}");
    let r109 = finding(&v, "R109");
    assert_eq!(r109["severity"], "info", "{r109}");
    assert!(r109["message"].as_str().unwrap().ends_with("(accepted for fabrikam.com)"));
    // Later checks of mail to that account see it as a note; to another account, a warning.
    let (_, again, _) = check_json(home.path(), Some(&state), &[], &draft("harsh-reply.eml"));
    assert_eq!(finding(&again, "R109")["severity"], "info");
    let (code, other, _) = check_json(home.path(), Some(&state), &[], &draft("contoso-reminder.eml"));
    assert_eq!(finding(&other, "R109")["severity"], "warning", "{other}");
    assert_eq!(code, Some(1));

    // An unknown code is refused, and the state is left as it was.
    let out = isolated(home.path()).args(["check", "--accept", "R999", "--state"]).arg(&state).arg(draft("harsh-reply.eml")).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--accept \"R999\""));

    // The audit keeps the baseline: a new harsh message to fabrikam.com lists R109 as a note, one
    // to contoso.com as a warning.
    let mail = home.path().join("new-sent");
    std::fs::create_dir_all(&mail).unwrap();
    for (name, to) in [("fab", "Anna Roth <anna@fabrikam.com>"), ("con", "Ben Ito <ben@contoso.com>")] {
        std::fs::write(
            mail.join(format!("{name}.eml")),
            format!(
                "From: Dana Berg <dana@northwind.example>\nTo: {to}\nSubject: Invoice\nDate: Sat, 21 Nov 2026 09:00:00 +0000\nMessage-ID: <{name}-late@northwind.example>\n\nAs per my last email, the invoice is overdue. I'm sure even you can pay an invoice on time. Send the payment immediately!!\n\nDana\n"
            ),
        )
        .unwrap();
    }
    let out = isolated(home.path()).arg("audit").arg(&mail).arg("--state").arg(&state).args(["--format", "json"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let rep: Value = serde_json::from_slice(&out.stdout).unwrap();
    let severity_of_r109 = |domain: &str| -> String {
        let m = rep["flagged"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["recipients"][0].as_str().unwrap().ends_with(domain))
            .unwrap_or_else(|| panic!("no flagged message to {domain}: {rep}"));
        m["findings"].as_array().unwrap().iter().find(|f| f["code"] == "R109").unwrap()["severity"].as_str().unwrap().to_string()
    };
    assert_eq!(severity_of_r109("fabrikam.com"), "info");
    assert_eq!(severity_of_r109("contoso.com"), "warning");
}

fn write_config(home: &Path, text: &str) -> PathBuf {
    let p = home.join("tuned.toml");
    std::fs::write(&p, text).unwrap();
    p
}

#[test]
fn the_check_section_tunes_findings_like_a_linter() {
    let home = tempfile::tempdir().unwrap();
    let (_, plain, _) = check_json(home.path(), None, &[], &draft("harsh-reply.eml"));
    for want in ["R104", "R106", "R108"] {
        assert!(codes(&plain).iter().any(|c| c == want), "{want}: {plain}");
    }
    let cfg = write_config(
        home.path(),
        "[check]\nignore = [\"blame\", \"M206\"]\nfail-on = \"error\"\nmax-findings-per-sentence = 1\n\n[check.severity]\nR104 = \"error\"\nR108 = \"off\"\n",
    );
    let cfg_s = cfg.to_str().unwrap();
    let (code, v, err) = check_json(home.path(), None, &["--config", cfg_s], &draft("harsh-reply.eml"));
    let found = codes(&v);
    assert!(!found.iter().any(|c| c == "R106" || c == "R108" || c == "M206"), "{found:?}");
    assert_eq!(finding(&v, "R104")["severity"], "error");
    let mut per_sentence = std::collections::HashMap::new();
    for f in v["findings"].as_array().unwrap() {
        *per_sentence.entry(f["sentence_index"].as_u64().unwrap()).or_insert(0) += 1;
    }
    assert!(per_sentence.values().all(|&n| n == 1), "{per_sentence:?}");
    assert_eq!(code, Some(1), "fail-on error, and R104 is an error now: {err}");
    let (code, _, _) = check_json(home.path(), None, &["--config", cfg_s], &draft("contoso-reminder.eml"));
    assert_eq!(code, Some(1), "R104 raised to error");
    // fail-on = "never" in the config; --fail-on on the command line wins over it.
    let never = write_config(home.path(), "[check]\nfail-on = \"never\"\n");
    let never_s = never.to_str().unwrap();
    let (code, v, _) = check_json(home.path(), None, &["--config", never_s], &draft("contoso-reminder.eml"));
    assert_eq!(code, Some(0), "{v}");
    let (code, _, _) = check_json(home.path(), None, &["--config", never_s, "--fail-on", "warning"], &draft("contoso-reminder.eml"));
    assert_eq!(code, Some(1));

    // A mistake names the file, the key and the value.
    let bad = write_config(home.path(), "[check]\nignore = [\"R999\"]\n");
    let out = isolated(home.path()).args(["check", "--config"]).arg(&bad).arg(draft("kind-reply.eml")).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("tuned.toml") && err.contains("[check] ignore") && err.contains("\"R999\""), "{err}");
}

#[test]
fn german_and_french_drafts_are_not_checked_with_english_rules() {
    let home = tempfile::tempdir().unwrap();
    for (name, lang, code) in [("german.eml", "German", "de"), ("french.eml", "French", "fr")] {
        let (exit, v, err) = check_json(home.path(), None, &["--fail-on", "info"], &draft(name));
        assert_eq!(exit, Some(0), "{name}: {v}{err}");
        assert!(v["findings"].as_array().unwrap().is_empty(), "{name}: no English-rule findings: {v}");
        assert_eq!(v["language"], serde_json::json!({"code": code, "name": lang, "checked": false, "how": "detected"}), "{name}");
        assert_eq!(v["flagged"], false);
        let out = isolated(home.path()).args(["check", "--color", "never"]).arg(draft(name)).output().unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(text.contains(&format!("not checked — written in {lang} ({code})")), "{text}");
        assert!(text.contains(&format!("This draft reads as {lang} ({code}): rapport's rules and tone model are for English")), "{text}");
    }
    // The config can insist on English; then the English rules run, and misfire as the issue says.
    let cfg = write_config(home.path(), "[check]\nlanguage = \"en\"\n");
    let (_, v, _) = check_json(home.path(), None, &["--config", cfg.to_str().unwrap()], &draft("german.eml"));
    assert_eq!(v["language"]["checked"], true);
    assert_eq!(v["language"]["how"], "configured");
    // And an English draft says it is English.
    let (_, v, _) = check_json(home.path(), None, &[], &draft("kind-reply.eml"));
    assert_eq!(v["language"]["code"], "en");
    assert_eq!(v["language"]["checked"], true);
}
