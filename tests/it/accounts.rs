//! `rapport accounts` end to end: the real binary, the real model and real SQLite files, over the
//! fixtures in tests/fixtures/accounts (mail from sam@contoso-tools.com to fourteen customer
//! accounts, a calendar export, a call log and a CRM mapping in CSV and TOML), and over the Enron
//! sent mail in ../shared/datasets when it is there. Every run pins `--as-of`.
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

use crate::{bin, fixture, repo};

fn fx(rel: &str) -> String {
    fixture(&format!("accounts/{rel}")).display().to_string()
}

/// Run `rapport accounts ARGS` with its own XDG_STATE_HOME, so that no test touches a real state.
fn accounts(args: &[&str], xdg: &Path) -> Output {
    Command::new(bin()).arg("accounts").args(args).current_dir(repo()).env("XDG_STATE_HOME", xdg).output().unwrap()
}

fn ok(out: &Output) -> &Output {
    assert_eq!(out.status.code(), Some(0), "stdout:\n{}\nstderr:\n{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    out
}

fn json(out: &Output) -> Value {
    serde_json::from_slice(&ok(out).stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}\n{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr)))
}

/// Audit the fixture mailbox into a fresh state with `rapport accounts PATH --state` and return
/// the state and the JSON report as of 2026-06-30 with the calendar export and the call log.
fn audited(dir: &Path) -> (PathBuf, Value) {
    let state = dir.join("state.sqlite3");
    let v = json(&accounts(
        &[&fx("sent"), "--state", state.to_str().unwrap(), "--as-of", "2026-06-30", "--calendar", &fx("calendar.ics"), "--calls", &fx("calls.csv"), "--format", "json"],
        dir,
    ));
    (state, v)
}

fn account<'a>(v: &'a Value, key: &str) -> &'a Value {
    v["accounts"].as_array().unwrap().iter().find(|a| a["account"] == key).unwrap_or_else(|| panic!("no account {key} in {:#}", v["accounts"]))
}

fn keys(v: &Value, list: &str, field: &str) -> Vec<String> {
    v[list].as_array().unwrap().iter().map(|a| a[field].as_str().unwrap().to_string()).collect()
}

/// (date, channel, source, status) of each piece of evidence.
fn evidence(a: &Value) -> Vec<(String, String, String, String)> {
    a["evidence"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            let s = |k: &str| e[k].as_str().unwrap_or("").to_string();
            (s("date"), s("channel"), s("source"), s("status"))
        })
        .collect()
}

fn ev(date: &str, channel: &str, source: &str, status: &str) -> (String, String, String, String) {
    (date.into(), channel.into(), source.into(), status.into())
}

#[test]
fn fixture_accounts_verdicts_evidence_and_ranking() {
    let dir = tempfile::tempdir().unwrap();
    let (state, v) = audited(dir.path());
    assert_eq!(v["schema"], 1);
    assert_eq!(v["as_of"], "2026-06-30");
    assert_eq!(v["window_days"], 90);
    assert_eq!(v["internal"]["domains"], serde_json::json!(["contoso-tools.com"]), "inferred from the sender");
    assert_eq!(v["internal"]["inferred"], true);
    assert_eq!(v["inputs"]["messages"], 22);
    assert_eq!(v["inputs"]["internal_only"], 1, "the stock check to two colleagues (one on a subdomain)");
    assert_eq!(v["inputs"]["scored"], 22);

    // Grouping: registrable domains (sales.bolt.co.uk and bolt.co.uk are one account), one
    // account per free-mail address, nothing internal.
    assert_eq!(
        keys(&v, "accounts", "account"),
        [
            "acme-labs.de", "acme.com", "bolt.co.uk", "cedar.io", "delta-energy.com", "elm.org", "fjord.no", "grove.com", "harbor.com", "ivy.com",
            "jade.com", "juniper.com", "lisa.m@gmail.com", "tom.k@gmail.com"
        ]
    );
    let bolt = account(&v, "bolt.co.uk");
    assert_eq!(bolt["contacts"], serde_json::json!(["mia@bolt.co.uk", "raj@sales.bolt.co.uk"]));
    assert_eq!(account(&v, "lisa.m@gmail.com")["kind"], "person");
    assert_eq!(account(&v, "acme.com")["kind"], "domain");

    // Each kind of evidence.
    // A calendar REQUEST counts at its DTSTART; a later CANCEL of the same UID cancels it.
    assert_eq!(evidence(account(&v, "acme.com")), [ev("2026-06-10", "meeting", "calendar_invite", "happened")]);
    assert_eq!(
        evidence(bolt),
        [ev("2026-06-15", "meeting", "calendar_invite", "cancelled"), ev("2026-06-15", "meeting", "calendar_invite", "cancelled")]
    );
    // Zoom ("for Thursday", sent on a Wednesday), Teams ("tomorrow"), Meet (no date: the message day).
    assert_eq!(evidence(account(&v, "cedar.io")), [ev("2026-06-04", "meeting", "meeting_link", "happened")]);
    assert_eq!(evidence(account(&v, "delta-energy.com")), [ev("2026-06-09", "meeting", "meeting_link", "happened")]);
    assert_eq!(evidence(account(&v, "elm.org")), [ev("2026-06-09", "meeting", "meeting_link", "happened")]);
    // "As discussed on the phone": a past call at the message date.
    let fjord = account(&v, "fjord.no");
    assert_eq!(evidence(fjord), [ev("2026-06-12", "call", "mention", "happened")]);
    assert_eq!(fjord["evidence"][0]["tense"], "past");
    assert_eq!(fjord["evidence"][0]["sentence"], "As discussed on the phone, I have attached the revised quote for the 400 units.");
    assert_eq!(fjord["evidence"][0]["message"]["subject"], "Revised quote");
    // "I'll call you next Tuesday", sent on Tuesday 2026-06-16: 2026-06-23, passed by the 30th.
    let grove = account(&v, "grove.com");
    assert_eq!(evidence(grove), [ev("2026-06-23", "call", "mention", "happened")]);
    assert_eq!(grove["evidence"][0]["tense"], "future");
    assert!(grove["evidence"][0]["note"].as_str().unwrap().contains("\"next Tuesday\" resolved to 2026-06-23"), "{}", grove["evidence"][0]);
    // The call log: a connected call counts, a zero-length one does not, an unknown name is a warning.
    let harbor = account(&v, "harbor.com");
    assert_eq!(evidence(harbor), [ev("2026-06-22", "call", "call_log", "happened"), ev("2026-06-25", "call", "call_log", "not_connected")]);
    assert!(harbor["evidence"][0]["file"].as_str().unwrap().ends_with("calls.csv:2"));
    // The calendar export: an event with an account's attendee counts; a cancelled one does not.
    assert_eq!(evidence(account(&v, "ivy.com")), [ev("2026-06-24", "meeting", "calendar_file", "happened")]);
    assert_eq!(evidence(account(&v, "juniper.com")), [ev("2026-06-25", "meeting", "calendar_file", "cancelled")]);
    let warnings: Vec<&str> = v["warnings"].as_array().unwrap().iter().map(|w| w.as_str().unwrap()).collect();
    assert_eq!(warnings.len(), 2, "{warnings:?}");
    assert!(warnings[0].ends_with("calendar.ics: 1 of 3 events have no attendee in a customer account; they are left out"), "{warnings:?}");
    assert!(warnings[1].contains("calls.csv:4: \"Unknown Ltd\" is neither an email address nor a known account"), "{warnings:?}");

    // Verdicts.
    let email_only: Vec<String> =
        v["accounts"].as_array().unwrap().iter().filter(|a| a["verdict"] == "email_only").map(|a| a["account"].as_str().unwrap().to_string()).collect();
    assert_eq!(email_only, ["acme-labs.de", "bolt.co.uk", "jade.com", "juniper.com", "lisa.m@gmail.com", "tom.k@gmail.com"]);
    assert!(v["accounts"].as_array().unwrap().iter().filter(|a| a["verdict"] != "email_only").all(|a| a["verdict"] == "mixed"));
    assert_eq!(v["summary"]["accounts"], 14);
    assert_eq!(v["summary"]["active"], 14);
    assert_eq!(v["summary"]["email_only"], 6);
    assert_eq!(v["summary"]["email_only_share"], 0.429);
    assert_eq!(v["summary"]["dipping"], 1);

    // Counts, trend, threads, thanks, channel mix.
    let jade = account(&v, "jade.com");
    assert_eq!((jade["emails"]["total"].as_u64(), jade["emails"]["last_30"].as_u64(), jade["emails"]["last_90"].as_u64(), jade["emails"]["last_365"].as_u64()), (Some(5), Some(1), Some(1), Some(5)));
    assert_eq!(jade["trend"], serde_json::json!({"last_90": 1, "prev_90": 4, "change": -0.75, "label": "dipping"}));
    let acme = account(&v, "acme.com");
    assert_eq!(acme["threads"], 1, "the follow-up is In-Reply-To the invite");
    assert_eq!(acme["last_thanked"]["date"], "2026-06-11");
    assert_eq!(acme["last_thanked"]["sentence"], "Thank you for your time yesterday.");
    assert_eq!(acme["channel_mix"], serde_json::json!({"email": 2, "meeting": 1, "call": 0}));
    assert_eq!(acme["days_since_last_touch"], 20);
    assert_eq!(harbor["channel_mix"], serde_json::json!({"email": 1, "meeting": 0, "call": 1}));
    assert_eq!(bolt["intent"]["reactive"], 1, "the cancellation says sorry");
    assert_eq!(account(&v, "fjord.no")["intent"]["sales"], 1, "the revised quote");

    // The ranking: email-only and dipping first; ties by volume, then name.
    assert_eq!(
        keys(&v, "needs_attention", "account"),
        [
            "jade.com", "bolt.co.uk", "acme-labs.de", "juniper.com", "lisa.m@gmail.com", "tom.k@gmail.com", "cedar.io", "delta-energy.com", "elm.org",
            "acme.com", "fjord.no", "harbor.com", "grove.com", "ivy.com"
        ]
    );
    let scores: Vec<f64> = v["needs_attention"].as_array().unwrap().iter().map(|n| n["score"].as_f64().unwrap()).collect();
    assert_eq!(scores, [75.0, 60.0, 60.0, 60.0, 60.0, 60.0, 2.9, 2.3, 2.3, 2.2, 2.0, 0.9, 0.8, 0.7]);
    assert_eq!(jade["need"], serde_json::json!({"score": 75.0, "email_only": 40.0, "dipping": 15.0, "flagged_rising": 0.0, "since_last_touch": 20.0}));
    assert_eq!(jade["need_rank"], 1);

    // Meetings with no email within two days after: the Teams and Meet calls and the site visit
    // (acme and cedar were followed up).
    assert_eq!(keys(&v, "thanks_after_meeting", "account"), ["delta-energy.com", "elm.org", "ivy.com"]);
    assert_eq!(v["thanks_after_meeting"][2]["follow_up_by"], "2026-06-26");

    // Reading the same state again (read-only, no audit) gives byte-identical JSON.
    let s = state.to_str().unwrap();
    let args = ["--state", s, "--as-of", "2026-06-30", "--calendar", &fx("calendar.ics"), "--calls", &fx("calls.csv"), "--format", "json"];
    let first = ok(&accounts(&args, dir.path())).stdout.clone();
    let second = ok(&accounts(&args, dir.path())).stdout.clone();
    assert_eq!(first, second, "same input, same bytes");
    assert_eq!(serde_json::from_slice::<Value>(&first).unwrap(), v, "auditing first changes nothing in the report");
}

#[test]
fn future_calls_count_only_once_their_date_has_passed_and_the_window_applies() {
    let dir = tempfile::tempdir().unwrap();
    let (state, _) = audited(dir.path());
    let s = state.to_str().unwrap();
    // As of 2026-06-20 the call promised for 2026-06-23 has not happened: grove is email-only.
    let before = json(&accounts(&["--state", s, "--as-of", "2026-06-20", "--format", "json"], dir.path()));
    let grove = account(&before, "grove.com");
    assert_eq!(evidence(grove), [ev("2026-06-23", "call", "mention", "scheduled")]);
    assert_eq!(grove["verdict"], "email_only");
    assert_eq!(grove["last_touch"], Value::Null);
    assert_eq!(before["inputs"]["after_as_of"], 3, "ivy, juniper and acme-labs are written later");
    assert!(before["accounts"].as_array().unwrap().iter().all(|a| a["account"] != "ivy.com"));
    // As of 2026-06-23 it has.
    let on = json(&accounts(&["--state", s, "--as-of", "2026-06-23", "--format", "json"], dir.path()));
    assert_eq!(account(&on, "grove.com")["verdict"], "mixed");
    assert_eq!(account(&on, "grove.com")["last_touch"]["date"], "2026-06-23");
    // A 10-day window: cedar's June 3–5 mail and meeting fall out of it.
    let narrow = json(&accounts(&["--state", s, "--as-of", "2026-06-30", "--window-days", "10", "--format", "json"], dir.path()));
    assert_eq!(narrow["window_days"], 10);
    assert_eq!(account(&narrow, "cedar.io")["verdict"], "inactive");
    assert_eq!(account(&narrow, "acme-labs.de")["verdict"], "email_only");
    assert_eq!(account(&narrow, "grove.com")["verdict"], "other_only", "the call on the 23rd, the email on the 16th");
    // Without the call log, harbor.com is email-only.
    let no_log = json(&accounts(&["--state", s, "--as-of", "2026-06-30", "--format", "json"], dir.path()));
    assert_eq!(account(&no_log, "harbor.com")["verdict"], "email_only");
}

#[test]
fn mapping_file_and_our_domains_override_the_grouping() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state.sqlite3");
    let s = state.to_str().unwrap();
    // The state as `rapport audit` fills it.
    let out = Command::new(bin()).args(["audit", &fx("sent"), "--state", s, "--format", "json"]).current_dir(repo()).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));

    let csv = json(&accounts(&["--state", s, "--as-of", "2026-06-30", "--map", &fx("map.csv"), "--format", "json"], dir.path()));
    let group = account(&csv, "Acme Group");
    assert_eq!(group["kind"], "mapped");
    assert_eq!(group["contacts"], serde_json::json!(["ann@acme.com", "tom.k@gmail.com", "ute@acme-labs.de"]));
    assert_eq!(group["domains"], serde_json::json!(["acme-labs.de", "acme.com", "gmail.com"]));
    assert_eq!(group["emails"]["total"], 4);
    assert_eq!(group["verdict"], "mixed", "the roadmap review covers the whole group");
    let k = keys(&csv, "accounts", "account");
    for gone in ["acme.com", "acme-labs.de", "tom.k@gmail.com"] {
        assert!(!k.iter().any(|x| x == gone), "{gone} is in Acme Group: {k:?}");
    }
    assert!(k.iter().any(|x| x == "lisa.m@gmail.com"), "unmapped free mail stays per person");
    assert_eq!(csv["summary"]["accounts"], 12);

    // The TOML mapping is the same mapping.
    let toml = json(&accounts(&["--state", s, "--as-of", "2026-06-30", "--map", &fx("map.toml"), "--format", "json"], dir.path()));
    assert_eq!(toml["accounts"], csv["accounts"]);
    assert_eq!(toml["needs_attention"], csv["needs_attention"]);

    // --our-domain replaces the inference: acme.com becomes internal too.
    let ours = json(&accounts(
        &["--state", s, "--as-of", "2026-06-30", "--our-domain", "contoso-tools.com", "--our-domain", "acme.com", "--format", "json"],
        dir.path(),
    ));
    assert_eq!(ours["internal"], serde_json::json!({"domains": ["acme.com", "contoso-tools.com"], "addresses": [], "inferred": false}));
    assert!(!keys(&ours, "accounts", "account").iter().any(|x| x == "acme.com"));
    assert_eq!(ours["inputs"]["internal_only"], 3);
}

#[test]
fn table_csv_and_html_renderings() {
    let dir = tempfile::tempdir().unwrap();
    let (state, v) = audited(dir.path());
    let s = state.to_str().unwrap();
    let base = ["--state", s, "--as-of", "2026-06-30", "--calendar", &fx("calendar.ics"), "--calls", &fx("calls.csv")];
    let run = |format: &str| {
        let mut args = base.to_vec();
        args.extend(["--format", format]);
        String::from_utf8(ok(&accounts(&args, dir.path())).stdout.clone()).unwrap()
    };

    let table = run("table");
    assert!(table.contains("14 accounts: 6 email only (43% of the 14 with email in the last 90 days)"), "{table}");
    assert!(table.contains("  1.  75.0  jade.com: email only: 1 email and no call or meeting in 90 days; volume down 75% (4 → 1 emails"), "{table}");
    assert!(table.contains("… 4 more"), "--top 10 by default: {table}");
    assert!(table.contains("ivy.com: meeting on 2026-06-24"), "{table}");
    assert!(table.lines().all(|l| l == l.trim_end()), "no trailing blanks");

    let csv = run("csv");
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines.len(), 15, "a header and one row per account");
    assert_eq!(lines[0], rapport_core::report::accounts::CSV_HEADER);
    let jade = lines.iter().find(|l| l.starts_with("jade.com,")).unwrap();
    assert!(jade.starts_with("jade.com,domain,email_only,1,1,1,5,1,4,dipping,-0.750,5,2026-06-15,,,0,0,"), "{jade}");
    assert!(jade.ends_with(",75.0,1"), "{jade}");

    let html = run("html");
    for external in ["<script", "<link", "src=", "url(", "@import"] {
        assert!(!html.contains(external), "the report must be self-contained, found {external}");
    }
    assert_eq!(html.matches("class=\"card account\"").count(), 14);
    assert_eq!(html.matches("<svg class=\"volume\"").count(), 14, "volume by month per account");
    assert_eq!(html.matches("<svg class=\"mix\"").count(), 14, "channel mix per account");
    assert_eq!(html.matches("class=\"need-row\"").count(), v["needs_attention"].as_array().unwrap().len());
    assert!(html.contains("<title>2026-06: 2 emails, 1 meetings, 0 calls</title>"), "acme's June bar");
    assert_eq!(html, run("html"), "deterministic");

    // A browser parses it: the ranking rows and every chart are in Chromium's DOM.
    let Some(chromium) = ["chromium", "chromium-browser"].into_iter().find(|c| Command::new(c).arg("--version").output().is_ok()) else {
        eprintln!("skipping the Chromium check: chromium is not installed (scripts/install-test-deps.sh installs it)");
        return;
    };
    let file = dir.path().join("accounts.html");
    std::fs::write(&file, &html).unwrap();
    let dom = Command::new(chromium)
        .args(["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"])
        .arg(format!("--user-data-dir={}", dir.path().join("profile").display()))
        .arg("--dump-dom")
        .arg(format!("file://{}", file.display()))
        .output()
        .unwrap();
    let dom = String::from_utf8_lossy(&dom.stdout);
    assert_eq!(dom.matches("class=\"need-row\"").count(), 14, "{dom}");
    assert_eq!(dom.matches("<svg class=\"volume\"").count(), 14, "{dom}");
    assert!(dom.contains("<rect class=\"meeting\""), "the channel mix of a met account: {dom}");
}

#[test]
fn sample_mailbox_by_default() {
    // No PATH and no --state: the shipped sample is audited into the sample state, like `rapport audit`.
    let xdg = tempfile::tempdir().unwrap();
    let v = json(&accounts(&["--as-of", "2026-11-23", "--format", "json"], xdg.path()));
    let sample_state = xdg.path().join("rapport/sample.sqlite3");
    assert!(sample_state.is_file(), "the sample state is created under XDG_STATE_HOME");
    assert_eq!(v["state"], sample_state.display().to_string());
    assert_eq!(v["inputs"]["messages"], 12);
    assert_eq!(v["internal"]["domains"], serde_json::json!(["northwind-supply.com"]));
    assert_eq!(keys(&v, "accounts", "account"), ["acme-robotics.com", "bluefin.io", "harborlight.co.uk", "orbital-labs.de", "sophie.laurent@gmail.com"]);
    let verdicts: Vec<String> = v["accounts"].as_array().unwrap().iter().map(|a| a["verdict"].as_str().unwrap().to_string()).collect();
    assert_eq!(verdicts, ["mixed", "email_only", "mixed", "email_only", "email_only"]);
    // The invite, and "talk it through on a call tomorrow" (sent 2026-09-09).
    assert_eq!(
        evidence(account(&v, "acme-robotics.com")),
        [ev("2026-09-10", "call", "mention", "happened"), ev("2026-10-06", "meeting", "calendar_invite", "happened")]
    );
    // "great to see you ... thanks for lunch", "I'll call you next Tuesday", "As discussed on the
    // phone", and the Zoom link "on Monday".
    let harbor = account(&v, "harborlight.co.uk");
    assert_eq!(
        evidence(harbor),
        [
            ev("2026-09-22", "meeting", "mention", "happened"),
            ev("2026-09-29", "call", "mention", "happened"),
            ev("2026-10-22", "call", "mention", "happened"),
            ev("2026-10-26", "meeting", "meeting_link", "happened")
        ]
    );
    assert_eq!(harbor["last_thanked"]["date"], "2026-09-22");
    assert_eq!(account(&v, "sophie.laurent@gmail.com")["kind"], "person");
    assert_eq!(keys(&v, "needs_attention", "account")[..3], ["bluefin.io", "sophie.laurent@gmail.com", "orbital-labs.de"]);
    assert_eq!(keys(&v, "thanks_after_meeting", "account"), ["acme-robotics.com", "harborlight.co.uk"]);

    // Before the Tuesday it promised, the call is only scheduled.
    let state = sample_state.to_str().unwrap();
    let early = json(&accounts(&["--state", state, "--as-of", "2026-09-25", "--format", "json"], xdg.path()));
    assert_eq!(evidence(account(&early, "harborlight.co.uk")), [ev("2026-09-22", "meeting", "mention", "happened"), ev("2026-09-29", "call", "mention", "scheduled")]);
}

#[test]
fn clear_errors_for_bad_inputs() {
    let dir = tempfile::tempdir().unwrap();
    let err = |args: &[&str]| {
        let out = accounts(args, dir.path());
        assert_eq!(out.status.code(), Some(2), "{}", String::from_utf8_lossy(&out.stdout));
        String::from_utf8_lossy(&out.stderr).into_owned()
    };
    let missing = dir.path().join("nothing.sqlite3");
    let e = err(&["--state", missing.to_str().unwrap()]);
    assert!(e.contains("no state at") && e.contains("nothing.sqlite3") && e.contains("rapport audit PATH --state"), "{e}");
    assert!(!missing.exists(), "a report never creates a state");

    let e = err(&["--state", missing.to_str().unwrap(), "--as-of", "30/06/2026"]);
    assert!(e.contains("--as-of \"30/06/2026\" is not a date") && e.contains("YYYY-MM-DD"), "{e}");

    let map = dir.path().join("map.csv");
    std::fs::write(&map, "account,domain_or_address\nAcme,acme.com\nAcme Inc, acme.com, extra\n").unwrap();
    let e = err(&["--state", missing.to_str().unwrap(), "--map", map.to_str().unwrap()]);
    assert!(e.contains("map.csv:3:") && e.contains("expected 2 fields"), "{e}");

    let calls = dir.path().join("calls.csv");
    std::fs::write(&calls, "date,contact,duration\n2026-06-01,kim@harbor.com,forever\n").unwrap();
    let e = err(&["--state", missing.to_str().unwrap(), "--calls", calls.to_str().unwrap()]);
    assert!(e.contains("calls.csv:2:") && e.contains("not a duration"), "{e}");

    let e = err(&["--state", missing.to_str().unwrap(), "--calendar", &fx("calls.csv")]);
    assert!(e.contains("calls.csv") && e.contains("not an iCalendar file"), "{e}");

    let e = err(&["--state", missing.to_str().unwrap(), "--map", dir.path().join("no-map.toml").to_str().unwrap()]);
    assert!(e.contains("cannot read the mapping file") && e.contains("no-map.toml"), "{e}");
}

fn enron_dir() -> PathBuf {
    repo().join("../shared/datasets/enron/maildir")
}

#[test]
fn enron_sent_mail_accounts() {
    let dir = enron_dir();
    if !dir.is_dir() {
        eprintln!("skipping: the Enron sample is not at {} (see ../shared/datasets/README.md)", dir.display());
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let state = tmp.path().join("enron.sqlite3");
    let s = state.to_str().unwrap();
    let audited = ok(&accounts(&[dir.to_str().unwrap(), "--state", s, "--as-of", "latest", "--format", "json"], tmp.path())).stdout.clone();
    let again = ok(&accounts(&["--state", s, "--as-of", "latest", "--format", "json"], tmp.path())).stdout.clone();
    assert_eq!(audited, again, "deterministic across runs");
    let v: Value = serde_json::from_slice(&again).unwrap();

    let in_state: i64 = rusqlite::Connection::open(&state).unwrap().query_row("SELECT count(*) FROM messages", [], |r| r.get(0)).unwrap();
    assert_eq!(v["inputs"]["messages"].as_i64(), Some(in_state));
    assert_eq!(v["inputs"]["after_as_of"], 0, "--as-of latest");
    assert_eq!(v["internal"]["domains"], serde_json::json!(["enron.com"]), "every sender is at enron.com");
    let accts = v["accounts"].as_array().unwrap();
    assert!(accts.len() >= 10, "several external accounts: {}", accts.len());
    for a in accts {
        let key = a["account"].as_str().unwrap();
        assert!(key != "enron.com" && !key.ends_with(".enron.com"), "{key} is internal");
        assert!(!["hotmail.com", "yahoo.com", "aol.com"].contains(&key), "free mail is per person: {key}");
        let e = &a["emails"];
        let n = |k: &str| e[k].as_u64().unwrap();
        assert!(n("last_30") <= n("last_90") && n("last_90") <= n("last_365") && n("last_365") <= n("total"), "{key}: {e}");
        assert_eq!(n("window"), n("last_90"), "{key}: the default window is 90 days");
        assert_eq!(a["channel_mix"]["email"], e["window"], "{key}");
        let other = a["channel_mix"]["meeting"].as_u64().unwrap() + a["channel_mix"]["call"].as_u64().unwrap();
        let expected = match (n("window") > 0, other > 0) {
            (true, false) => "email_only",
            (true, true) => "mixed",
            (false, true) => "other_only",
            (false, false) => "inactive",
        };
        assert_eq!(a["verdict"], expected, "{key}");
        assert!(!a["contacts"].as_array().unwrap().is_empty() || a["emails"]["total"] == 0, "{key}");
    }
    assert!(accts.iter().any(|a| a["kind"] == "person"), "hotmail/yahoo/aol correspondents");
    // The counts add up.
    let sum = v["summary"].clone();
    let count = |verdict: &str| accts.iter().filter(|a| a["verdict"] == verdict).count() as u64;
    assert_eq!(sum["accounts"].as_u64(), Some(accts.len() as u64));
    assert_eq!(count("email_only") + count("mixed") + count("other_only") + count("inactive"), accts.len() as u64);
    assert_eq!(sum["email_only"].as_u64(), Some(count("email_only")));
    let active = accts.iter().filter(|a| a["emails"]["window"].as_u64().unwrap() > 0).count() as u64;
    assert_eq!(sum["active"].as_u64(), Some(active));
    let external = v["inputs"]["messages"].as_u64().unwrap() - v["inputs"]["internal_only"].as_u64().unwrap();
    let per_account: u64 = accts.iter().map(|a| a["emails"]["total"].as_u64().unwrap()).sum();
    assert!(per_account >= external, "every message with an external recipient is in an account ({per_account} < {external})");
    // The ranking is complete, ordered and numbered.
    let needs = v["needs_attention"].as_array().unwrap();
    assert!(!needs.is_empty());
    for (i, n) in needs.iter().enumerate() {
        assert_eq!(n["rank"].as_u64(), Some(i as u64 + 1));
        if i > 0 {
            assert!(needs[i - 1]["score"].as_f64() >= n["score"].as_f64(), "{} before {}", needs[i - 1], n);
        }
    }
    eprintln!(
        "enron: {} messages ({} internal only), {} accounts, {} active in the last 90 days, {} email only ({:.1}% of the active), top need: {} ({})",
        v["inputs"]["messages"],
        v["inputs"]["internal_only"],
        accts.len(),
        active,
        count("email_only"),
        100.0 * sum["email_only_share"].as_f64().unwrap_or(0.0),
        needs[0]["account"],
        needs[0]["score"]
    );
}
