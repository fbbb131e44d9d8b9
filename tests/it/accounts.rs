//! `rapport accounts` end to end: the real binary, the real model and real SQLite files, over the
//! fixtures in tests/fixtures/accounts (mail from sam@contoso-tools.com to customer accounts and
//! their mail back in `received/`, a calendar export, a call log and a CRM mapping in CSV and
//! TOML), the shipped sample mailbox, and the Enron sent mail in ../shared/datasets when it is
//! there. Every fixture run pins `--as-of`.
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

/// Audit the fixture mail (sent and received) into a fresh state with `rapport accounts PATH
/// --received PATH --state` and return the state and the JSON report as of 2026-06-30 with the
/// calendar export and the call log.
fn audited(dir: &Path) -> (PathBuf, Value) {
    let state = dir.join("state.sqlite3");
    let v = json(&accounts(
        &[
            &fx("sent"),
            "--received",
            &fx("received"),
            "--state",
            state.to_str().unwrap(),
            "--as-of",
            "2026-06-30",
            "--calendar",
            &fx("calendar.ics"),
            "--calls",
            &fx("calls.csv"),
            "--format",
            "json",
        ],
        dir,
    ));
    (state, v)
}

fn account<'a>(v: &'a Value, key: &str) -> &'a Value {
    v["accounts"].as_array().unwrap().iter().find(|a| a["account"] == key).unwrap_or_else(|| panic!("no account {key} in {:#}", v["accounts"]))
}

fn keys(v: &Value, list: &str, field: &str) -> Vec<String> {
    v[list].as_array().unwrap().iter().map(|a| a[field].as_str().unwrap_or("").to_string()).collect()
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

/// (address or account, reason) of each excluded entry.
fn excluded(v: &Value) -> Vec<(String, String)> {
    v["excluded"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["address"].as_str().or(e["account"].as_str()).unwrap().to_string(), e["reason"].as_str().unwrap().to_string()))
        .collect()
}

/// No excluded address is a contact of any account.
fn assert_exclusions_hold(v: &Value) {
    let contacts: Vec<&str> = v["accounts"].as_array().unwrap().iter().flat_map(|a| a["contacts"].as_array().unwrap().iter().map(|c| c.as_str().unwrap())).collect();
    for e in v["excluded"].as_array().unwrap() {
        if let Some(addr) = e["address"].as_str() {
            assert!(!contacts.contains(&addr), "{addr} is excluded ({}) but a contact", e["reason"]);
        } else {
            assert!(!keys(v, "accounts", "account").contains(&e["account"].as_str().unwrap().to_string()), "{} is excluded but an account", e["account"]);
        }
    }
}

#[test]
fn fixture_customers_exclusions_evidence_and_reasons() {
    let dir = tempfile::tempdir().unwrap();
    let (state, v) = audited(dir.path());
    assert_eq!(v["schema"], 2);
    assert_eq!((v["as_of"].as_str(), v["as_of_basis"].as_str()), (Some("2026-06-30"), Some("given")));
    assert_eq!(v["internal"]["domains"], serde_json::json!(["contoso-tools.com"]), "inferred from the senders of our mail");
    let i = &v["inputs"];
    assert_eq!((i["messages"].as_u64(), i["sent"].as_u64(), i["received"].as_u64()), (Some(47), Some(36), Some(11)));
    assert_eq!((i["internal_only"].as_u64(), i["mass_mail"].as_u64(), i["automated"].as_u64()), (Some(1), Some(1), Some(2)));
    assert_eq!(v["senders"], serde_json::json!(["colleague@contoso-tools.com", "sam@contoso-tools.com"]), "two of us wrote");

    // Customers only.
    assert_eq!(
        keys(&v, "accounts", "account"),
        ["acme.com", "bolt.co.uk", "cedar.io", "delta-energy.com", "elm.org", "fjord.no", "grove.com", "harbor.com", "ivy.com", "jade.com", "lisa.m@gmail.com"]
    );
    assert_eq!(account(&v, "bolt.co.uk")["contacts"], serde_json::json!(["mia@bolt.co.uk", "raj@sales.bolt.co.uk"]), "one registrable domain");
    assert_eq!(account(&v, "lisa.m@gmail.com")["kind"], "person");
    assert_eq!(account(&v, "harbor.com")["our_senders"], serde_json::json!(["colleague@contoso-tools.com", "sam@contoso-tools.com"]));

    // Each exclusion, with its reason.
    let mut want: Vec<(String, String)> = [
        ("deals.contoso@outlook.com", "own_address"),
        ("sam.carter@gmail.com", "own_address"),
        ("rosie1950@web.de", "family"),
        ("ada@openhardware.org", "automated"),
        ("makers@lists.openhardware.org", "automated"),
        ("news@toolmakers-weekly.com", "automated"),
        ("unsubscribe@toolmakers-weekly.com", "automated"),
        ("acme-labs.de", "too_little_evidence"),
        ("juniper.com", "too_little_evidence"),
        ("tom.k@gmail.com", "too_little_evidence"),
    ]
    .iter()
    .map(|(a, r)| (a.to_string(), r.to_string()))
    .collect();
    want.extend((1..=12).map(|n| (format!("buyer@prospect{n:02}.com"), "mass_mail".to_string())));
    let mut got = excluded(&v);
    got.sort();
    want.sort();
    assert_eq!(got, want);
    let detail = |addr: &str| v["excluded"].as_array().unwrap().iter().find(|e| e["address"] == addr).unwrap()["detail"].as_str().unwrap().to_string();
    assert!(detail("deals.contoso@outlook.com").contains("Reply-To"));
    assert!(detail("sam.carter@gmail.com").contains("name of our sender"));
    assert!(detail("rosie1950@web.de").contains("greets it as family"));
    assert!(detail("makers@lists.openhardware.org").contains("List-Id") || detail("makers@lists.openhardware.org").contains("list mail"));
    assert_exclusions_hold(&v);

    // Evidence: what happened counts; promises wait for a confirmation.
    assert_eq!(evidence(account(&v, "acme.com")), [ev("2026-06-10", "meeting", "calendar_invite", "happened")]);
    assert_eq!(evidence(account(&v, "bolt.co.uk")), [ev("2026-06-15", "meeting", "calendar_invite", "cancelled"), ev("2026-06-15", "meeting", "calendar_invite", "cancelled")]);
    assert_eq!(evidence(account(&v, "cedar.io")), [ev("2026-06-04", "meeting", "meeting_link", "scheduled")], "a Zoom link is an invitation");
    // "Talk to you this afternoon." is a promise, not a call.
    let delta = account(&v, "delta-energy.com");
    assert_eq!(evidence(delta), [ev("2026-06-09", "meeting", "meeting_link", "scheduled"), ev("2026-06-26", "call", "mention", "scheduled")]);
    assert_eq!(delta["evidence"][1]["sentence"], "Talk to you this afternoon.");
    assert_eq!(delta["verdict"], "email_only");
    // "I'll call you next Tuesday" (06-23), confirmed by the customer's "Thanks for the call yesterday" (06-24).
    let grove = account(&v, "grove.com");
    assert_eq!(evidence(grove), [ev("2026-06-23", "call", "mention", "confirmed"), ev("2026-06-24", "call", "mention", "happened")]);
    assert_eq!(grove["evidence"][1]["message"]["direction"], "received");
    assert_eq!(grove["verdict"], "mixed");
    assert_eq!(evidence(account(&v, "fjord.no")), [ev("2026-06-12", "call", "mention", "happened")]);
    assert_eq!(
        evidence(account(&v, "harbor.com")),
        [ev("2026-06-22", "call", "call_log", "happened"), ev("2026-06-25", "call", "call_log", "not_connected"), ev("2026-06-26", "meeting", "calendar_file", "happened")]
    );
    // The visit in the calendar, and "thanks for coming over" the next day: one meeting.
    assert_eq!(evidence(account(&v, "ivy.com")), [ev("2026-06-24", "meeting", "calendar_file", "happened"), ev("2026-06-25", "meeting", "mention", "duplicate")]);
    assert_eq!(account(&v, "ivy.com")["channel_mix"]["meeting"], 1);
    assert_eq!(evidence(account(&v, "elm.org")), [ev("2025-04-01", "meeting", "mention", "happened"), ev("2026-06-09", "meeting", "meeting_link", "scheduled")]);
    let verdicts: Vec<String> = keys(&v, "accounts", "verdict");
    assert_eq!(verdicts, ["mixed", "email_only", "email_only", "email_only", "email_only", "mixed", "mixed", "mixed", "mixed", "email_only", "email_only"]);
    assert_eq!((v["summary"]["active"].as_u64(), v["summary"]["email_only"].as_u64(), v["summary"]["email_only_share"].as_f64()), (Some(11), Some(6), Some(0.545)));

    // Mail both ways: reciprocity, reply times, who starts threads.
    let fjord = account(&v, "fjord.no");
    assert_eq!((fjord["emails"]["sent"].as_u64(), fjord["emails"]["received"].as_u64()), (Some(4), Some(4)));
    assert_eq!(fjord["reciprocity"]["they_answered_share"], 1.0);
    assert_eq!(fjord["reciprocity"]["replies_timed"], 3);
    let bolt = account(&v, "bolt.co.uk");
    assert_eq!((bolt["reciprocity"]["our_threads"].as_u64(), bolt["reciprocity"]["our_threads_answered"].as_u64()), (Some(2), Some(1)));
    assert_eq!(bolt["reciprocity"]["median_reply_hours"], 6.0, "the complaint at 09:00, our answer at 15:00");
    let ivy = account(&v, "ivy.com");
    assert_eq!((ivy["threads"]["started_by_them"].as_u64(), ivy["reciprocity"]["we_answered_share"].as_f64()), (Some(1), Some(1.0)));
    assert_eq!(account(&v, "jade.com")["reciprocity"]["they_answered_share"], 0.0, "six updates, never an answer");
    assert_eq!(account(&v, "elm.org")["tenure_days"], 434, "from the first contact to the last, not to as_of");

    // Complaints with and without an apology, and the unanswered question.
    let cwa = &v["complaints_without_apology"];
    assert_eq!(cwa.as_array().unwrap().len(), 1, "{cwa:#}");
    assert_eq!(cwa[0]["account"], "bolt.co.uk");
    assert!(cwa[0]["complaint"]["sentence"].as_str().unwrap().starts_with("I am disappointed: this is the second time"));
    assert_eq!(cwa[0]["reply"]["sentence"], "A new date will follow once our engineers have the test results.");
    assert_eq!(cwa[0]["reply"]["message"]["subject"], "Re: Cancelled: Supplier review");
    let ivy_complaint = &ivy["complaints"][0];
    assert!(ivy_complaint["complaint"]["sentence"].as_str().unwrap().contains("wrong size"), "{ivy_complaint:#}");
    assert_eq!(ivy_complaint["apology"], "You're right, and I apologise: I packed the 40 mm parts.");
    assert_eq!(keys(&v, "unanswered", "account"), ["lisa.m@gmail.com"]);
    assert_eq!(v["unanswered"][0]["business_days"], 6);
    assert_eq!(v["unanswered"][0]["sentence"], "Could you tell me which courier has the samples?");

    // Who most needs a call or a visit, and why: one of each of seed 004's four cases.
    let needs: Vec<(String, Vec<String>)> = v["needs_attention"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| (n["account"].as_str().unwrap().to_string(), n["reasons"].as_array().unwrap().iter().map(|r| r["code"].as_str().unwrap().to_string()).collect()))
        .collect();
    let has = |acc: &str, code: &str| needs.iter().any(|(a, c)| a == acc && c.iter().any(|x| x == code));
    assert!(has("bolt.co.uk", "issue"), "{needs:?}");
    assert!(has("lisa.m@gmail.com", "issue"), "{needs:?}");
    assert!(has("fjord.no", "big_project"), "{needs:?}");
    assert!(has("jade.com", "dipped"), "{needs:?}");
    assert!(has("elm.org", "long_unseen"), "{needs:?}");
    assert_eq!(needs[0].0, "bolt.co.uk", "an unapologised complaint first: {needs:?}");
    for (k, n) in v["needs_attention"].as_array().unwrap().iter().enumerate() {
        let rank = n["rank"].as_u64().unwrap() as usize;
        assert!(rank <= k + 1);
        if k > 0 {
            assert!(v["needs_attention"][k - 1]["score"].as_f64() >= n["score"].as_f64());
        }
    }

    // The meeting without a thank-you, with its reminder.
    assert_eq!(keys(&v, "thanks_after_meeting", "account"), ["harbor.com"]);
    assert_eq!(v["thanks_after_meeting"][0]["follow_up_by"], "2026-06-28");
    assert!(v["thanks_after_meeting"][0]["reminder"].as_str().unwrap().contains("(Quarterly review, Harbor)"));

    // Reading the same state again (read-only, no audit) gives byte-identical JSON.
    let s = state.to_str().unwrap();
    let args = ["--state", s, "--as-of", "2026-06-30", "--calendar", &fx("calendar.ics"), "--calls", &fx("calls.csv"), "--format", "json"];
    let first = ok(&accounts(&args, dir.path())).stdout.clone();
    let second = ok(&accounts(&args, dir.path())).stdout.clone();
    assert_eq!(first, second, "same input, same bytes");
    assert_eq!(serde_json::from_slice::<Value>(&first).unwrap(), v, "auditing first changes nothing in the report");
}

#[test]
fn promises_the_window_and_the_default_day() {
    let dir = tempfile::tempdir().unwrap();
    let (state, _) = audited(dir.path());
    let s = state.to_str().unwrap();
    // As of 2026-06-23 the promised call has no confirmation yet: grove is email-only.
    let on = json(&accounts(&["--state", s, "--as-of", "2026-06-23", "--min-messages", "1", "--format", "json"], dir.path()));
    assert_eq!(evidence(account(&on, "grove.com")), [ev("2026-06-23", "call", "mention", "scheduled")]);
    assert_eq!(account(&on, "grove.com")["verdict"], "email_only");
    assert_eq!(account(&on, "grove.com")["last_touch"], Value::Null);
    assert!(on["inputs"]["after_as_of"].as_u64().unwrap() > 0);
    // A 10-day window: cedar's June 3–5 mail falls out of it.
    let narrow = json(&accounts(&["--state", s, "--as-of", "2026-06-30", "--window-days", "10", "--format", "json"], dir.path()));
    assert_eq!(narrow["window_days"], 10);
    assert_eq!(account(&narrow, "cedar.io")["verdict"], "inactive");
    // Without the call log and the calendar, harbor.com is email-only.
    let bare = json(&accounts(&["--state", s, "--as-of", "2026-06-30", "--format", "json"], dir.path()));
    assert_eq!(account(&bare, "harbor.com")["verdict"], "email_only");
    // A state alone is reported as of today, and an old mailbox says so.
    let today = json(&accounts(&["--state", s, "--format", "json"], dir.path()));
    assert_eq!(today["as_of_basis"], "today");
    assert!(today["warnings"].as_array().unwrap().iter().any(|w| w.as_str().unwrap().contains("--as-of latest")), "{:#}", today["warnings"]);
    assert!(today["accounts"].as_array().unwrap().iter().all(|a| a["verdict"] == "inactive"));
    // Mail files are read as of their newest message.
    let latest = json(&accounts(&[&fx("sent"), "--received", &fx("received"), "--state", s, "--format", "json"], dir.path()));
    assert_eq!((latest["as_of"].as_str(), latest["as_of_basis"].as_str()), (Some("2026-06-29"), Some("latest")));
    assert!(latest["warnings"].as_array().unwrap().iter().all(|w| !w.as_str().unwrap().contains("--as-of latest")));
    // The thresholds are options.
    let loose = json(&accounts(&["--state", s, "--as-of", "2026-06-30", "--min-messages", "1", "--mass-mail", "20", "--format", "json"], dir.path()));
    for k in ["acme-labs.de", "juniper.com", "tom.k@gmail.com", "prospect07.com"] {
        account(&loose, k);
    }
    assert_eq!(loose["settings"], serde_json::json!({"mass_mail_recipients": 20, "min_messages": 1, "unanswered_business_days": 2, "unseen_days": 180}));
    let ranks: Vec<(String, bool)> = loose["needs_attention"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| (n["account"].as_str().unwrap().to_string(), account(&loose, n["account"].as_str().unwrap())["need"]["established"].as_bool().unwrap()))
        .collect();
    let first_thin = ranks.iter().position(|r| !r.1).unwrap_or(ranks.len());
    assert!(ranks[first_thin..].iter().all(|r| !r.1), "one email ever never ranks above a relationship: {ranks:?}");
}

#[test]
fn mapping_file_forces_accounts_in_and_out() {
    let dir = tempfile::tempdir().unwrap();
    let (state, _) = audited(dir.path());
    let s = state.to_str().unwrap();
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
    // The TOML mapping is the same mapping.
    let toml = json(&accounts(&["--state", s, "--as-of", "2026-06-30", "--map", &fx("map.toml"), "--format", "json"], dir.path()));
    assert_eq!(toml["accounts"], csv["accounts"]);
    assert_eq!(toml["needs_attention"], csv["needs_attention"]);

    // Forcing out a customer, and forcing in what the heuristics left out.
    let map = dir.path().join("force.csv");
    std::fs::write(&map, "account,domain_or_address\n-,fjord.no\nMum,rosie1950@web.de\nSam's phone,deals.contoso@outlook.com\n").unwrap();
    let forced = json(&accounts(&["--state", s, "--as-of", "2026-06-30", "--map", map.to_str().unwrap(), "--format", "json"], dir.path()));
    let k = keys(&forced, "accounts", "account");
    assert!(!k.contains(&"fjord.no".to_string()) && k.contains(&"Mum".to_string()) && k.contains(&"Sam's phone".to_string()), "{k:?}");
    assert!(excluded(&forced).contains(&("ola@fjord.no".to_string(), "mapped".to_string())));
    assert_exclusions_hold(&forced);

    // --our-domain replaces the inference: acme.com becomes internal too.
    let ours = json(&accounts(&["--state", s, "--as-of", "2026-06-30", "--our-domain", "contoso-tools.com", "--our-domain", "acme.com", "--format", "json"], dir.path()));
    assert_eq!(ours["internal"], serde_json::json!({"domains": ["acme.com", "contoso-tools.com"], "addresses": [], "inferred": false}));
    assert!(!keys(&ours, "accounts", "account").iter().any(|x| x == "acme.com"));
}

#[test]
fn plan_file_is_icalendar_written_safely() {
    let dir = tempfile::tempdir().unwrap();
    let (state, v) = audited(dir.path());
    let s = state.to_str().unwrap();
    let plan = dir.path().join("plan.ics");
    let out = ok(&accounts(&["--state", s, "--as-of", "2026-06-30", "--top", "3", "--plan", plan.to_str().unwrap()], dir.path())).clone();
    assert!(String::from_utf8_lossy(&out.stderr).contains("wrote the plan for 3 accounts"));
    let text = std::fs::read_to_string(&plan).unwrap();
    assert!(text.lines().all(|l| l.len() <= 76), "lines folded at 75 octets");
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(std::fs::metadata(&plan).unwrap().permissions().mode() & 0o777, 0o600, "private, like every report");

    // The ical crate reads it back: one event per account, in rank order, with the reasons.
    let cals: Vec<_> = ical::IcalParser::new(std::io::BufReader::new(text.as_bytes())).collect::<Result<_, _>>().expect("valid iCalendar");
    assert_eq!(cals.len(), 1);
    let events = &cals[0].events;
    assert_eq!(events.len(), 3);
    let prop = |e: &ical::parser::ical::component::IcalEvent, name: &str| e.properties.iter().find(|p| p.name == name).and_then(|p| p.value.clone()).unwrap_or_default();
    let needs = v["needs_attention"].as_array().unwrap();
    let mut uids = std::collections::BTreeSet::new();
    for (k, e) in events.iter().enumerate() {
        let account = needs[k]["account"].as_str().unwrap();
        assert_eq!(prop(e, "SUMMARY"), format!("Call or visit {account}"));
        let description = prop(e, "DESCRIPTION");
        let first_reason = needs[k]["reasons"][0]["text"].as_str().unwrap().replace(',', "\\,");
        assert!(description.contains(&first_reason), "{description} lacks {first_reason}");
        assert!(uids.insert(prop(e, "UID")), "UIDs are unique");
        let start = e.properties.iter().find(|p| p.name == "DTSTART").unwrap();
        assert_eq!(start.params.as_ref().unwrap()[0], ("VALUE".to_string(), vec!["DATE".to_string()]));
    }
    assert_eq!(["20260701", "20260702", "20260703"].to_vec(), events.iter().map(|e| prop(e, "DTSTART")).collect::<Vec<_>>(), "the next business days");
    assert_eq!(std::fs::read_to_string(&plan).unwrap(), {
        ok(&accounts(&["--state", s, "--as-of", "2026-06-30", "--top", "3", "--plan", plan.to_str().unwrap()], dir.path()));
        std::fs::read_to_string(&plan).unwrap()
    }, "same report, same plan");

    // It never writes over the mail or the state.
    let mail = fx("sent/01-acme-invite.eml");
    let before = std::fs::read(&mail).unwrap();
    let out = accounts(&[&fx("sent"), "--state", s, "--as-of", "2026-06-30", "--plan", &mail], dir.path());
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--plan"), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(std::fs::read(&mail).unwrap(), before, "the mail is untouched");
    let out = accounts(&["--state", s, "--as-of", "2026-06-30", "--plan", s], dir.path());
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("state database"), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(rusqlite::Connection::open(&state).unwrap().query_row("SELECT count(*) FROM messages", [], |r| r.get::<_, i64>(0)).is_ok(), "the state is still a database");
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
    assert!(table.contains("11 customer accounts, 1 of them a person at a free-mail address; 22 not customers"), "{table}");
    assert!(table.contains("  1.") && table.contains("bolt.co.uk (email_only"), "{table}");
    assert!(table.contains("we answered 2026-06-08 \"Re: Cancelled: Supplier review\""), "{table}");
    assert!(table.contains("reminder: Thank harbor.com for the meeting on 2026-06-26"), "{table}");
    assert!(table.lines().all(|l| l == l.trim_end()), "no trailing blanks");

    let csv = run("csv");
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines.len(), 12, "a header and one row per account");
    assert_eq!(lines[0], rapport_core::report::accounts::CSV_HEADER);
    let jade = lines.iter().find(|l| l.starts_with("jade.com,")).unwrap();
    assert!(jade.starts_with("jade.com,domain,email_only,1,sam@contoso-tools.com,6,2,2,6,2,6,0,4,dipping,-0.500,"), "{jade}");
    assert!(jade.ends_with(",dipped"), "{jade}");

    let html = run("html");
    for external in ["<script", "<link", "src=", "url(", "@import"] {
        assert!(!html.contains(external), "the report must be self-contained, found {external}");
    }
    assert_eq!(html.matches("class=\"need-row\"").count(), v["needs_attention"].as_array().unwrap().len());
    assert_eq!(html.matches("class=\"card account\"").count(), v["needs_attention"].as_array().unwrap().len(), "a card per ranked account, not per account");
    assert_eq!(html.matches("class=\"account-row ").count(), 11);
    assert!(html.contains("<th>our side</th>"), "two senders: the sender column");
    assert!(html.contains("class=\"pair complaint\""));
    assert_eq!(html, run("html"), "deterministic");

    // A browser parses it: the ranking, the charts with their axes, and the email-only filter.
    let Some(chromium) = ["chromium", "chromium-browser"].into_iter().find(|c| Command::new(c).arg("--version").output().is_ok()) else {
        eprintln!("skipping the Chromium check: chromium is not installed (scripts/install-test-deps.sh installs it)");
        return;
    };
    // The report has no script; this copy adds one that ticks the filter and records which rows
    // the browser still shows.
    let probe = "<script>document.getElementById('only-email-only').checked = true;\
        const shown = [...document.querySelectorAll('tr.account-row')].filter(r => getComputedStyle(r).display !== 'none').map(r => r.className);\
        const p = document.createElement('pre'); p.id = 'probe'; p.textContent = 'PRO' + 'BE[' + shown.join('|') + ']'; document.body.appendChild(p);</script>";
    let file = dir.path().join("accounts.html");
    std::fs::write(&file, html.replace("</body>", &format!("{probe}</body>"))).unwrap();
    let dom = Command::new(chromium)
        .args(["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"])
        .arg(format!("--user-data-dir={}", dir.path().join("profile").display()))
        .arg("--dump-dom")
        .arg(format!("file://{}", file.display()))
        .output()
        .unwrap();
    let dom = String::from_utf8_lossy(&dom.stdout);
    assert_eq!(dom.matches("class=\"need-row\"").count(), v["needs_attention"].as_array().unwrap().len(), "{dom}");
    assert!(dom.matches("class=\"y-axis\"").count() >= 2 && dom.contains("class=\"x-axis\""), "charts with axes: {dom}");
    // (The script's own text spells the marker in two halves.)
    let shown = dom.split("PROBE[").nth(1).and_then(|s| s.split(']').next()).unwrap_or_else(|| panic!("no probe output in {dom}"));
    let shown: Vec<&str> = shown.split('|').collect();
    assert_eq!(shown.len(), 6, "the six email-only accounts: {shown:?}");
    assert!(shown.iter().all(|c| c.contains("v-email_only")), "{shown:?}");
}

#[test]
fn sample_mailbox_by_default() {
    // No PATH and no --state: the shipped sample (sent and received) is audited into the sample state.
    let xdg = tempfile::tempdir().unwrap();
    let v = json(&accounts(&["--as-of", "2026-11-23", "--format", "json"], xdg.path()));
    let sample_state = xdg.path().join("rapport/sample.sqlite3");
    assert!(sample_state.is_file(), "the sample state is created under XDG_STATE_HOME");
    assert_eq!(v["state"], sample_state.display().to_string());
    assert_eq!((v["inputs"]["sent"].as_u64(), v["inputs"]["received"].as_u64()), (Some(12), Some(10)));
    assert_eq!(v["internal"]["domains"], serde_json::json!(["northwind-supply.com"]));
    assert_eq!(keys(&v, "accounts", "account"), ["acme-robotics.com", "bluefin.io", "harborlight.co.uk", "orbital-labs.de", "sophie.laurent@gmail.com"]);
    assert_eq!(excluded(&v), [("dana.whitfield@gmail.com".to_string(), "own_address".to_string()), ("news@industrial-supply-weekly.com".to_string(), "automated".to_string())]);
    // The invite counts; "could we talk it through on a call tomorrow?" stays a promise.
    assert_eq!(
        evidence(account(&v, "acme-robotics.com")),
        [ev("2026-09-10", "call", "mention", "scheduled"), ev("2026-10-06", "meeting", "calendar_invite", "happened")]
    );
    // "great to see you ... thanks for lunch"; "I'll call you next Tuesday", confirmed by "As
    // discussed on the phone on Tuesday"; Ken's "thanks for the call on Tuesday" is the same call;
    // the Zoom link "on Monday" is an invitation.
    assert_eq!(
        evidence(account(&v, "harborlight.co.uk")),
        [
            ev("2026-09-22", "meeting", "mention", "happened"),
            ev("2026-09-29", "call", "mention", "confirmed"),
            ev("2026-10-22", "call", "mention", "happened"),
            ev("2026-10-23", "call", "mention", "duplicate"),
            ev("2026-10-26", "meeting", "meeting_link", "scheduled")
        ]
    );
    assert_eq!(account(&v, "sophie.laurent@gmail.com")["kind"], "person");
    assert_eq!(keys(&v, "complaints_without_apology", "account"), ["acme-robotics.com"]);
    assert!(v["complaints_without_apology"][0]["complaint"]["sentence"].as_str().unwrap().contains("arrived nine days late"));
    assert_eq!(keys(&v, "unanswered", "account"), ["sophie.laurent@gmail.com", "orbital-labs.de"]);
    assert!(account(&v, "bluefin.io")["complaints"][0]["complaint"]["sentence"].as_str().unwrap().contains("disappointed by the tone"));
    assert_eq!(keys(&v, "thanks_after_meeting", "account"), ["acme-robotics.com"]);
    let ranked = keys(&v, "needs_attention", "account");
    assert!(ranked.len() >= 3 && ranked[..2].contains(&"bluefin.io".to_string()) && ranked[..2].contains(&"acme-robotics.com".to_string()), "{ranked:?}");

    // The table says what the report is for.
    let table = String::from_utf8(ok(&accounts(&["--as-of", "2026-11-23"], xdg.path())).stdout.clone()).unwrap();
    assert!(table.contains("email_only") && table.contains("Most need a call or a visit"), "{table}");
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
    let audited = ok(&accounts(&[dir.to_str().unwrap(), "--state", s, "--format", "json"], tmp.path())).stdout.clone();
    let again = ok(&accounts(&["--state", s, "--as-of", "latest", "--format", "json"], tmp.path())).stdout.clone();
    let v: Value = serde_json::from_slice(&again).unwrap();
    assert_eq!(serde_json::from_slice::<Value>(&audited).unwrap()["as_of_basis"], "latest", "mail files: as of their newest message by default");
    assert_eq!(serde_json::from_slice::<Value>(&audited).unwrap()["accounts"], v["accounts"], "deterministic across runs");

    let in_state: i64 = rusqlite::Connection::open(&state).unwrap().query_row("SELECT count(*) FROM messages", [], |r| r.get(0)).unwrap();
    assert_eq!(v["inputs"]["messages"].as_i64(), Some(in_state));
    assert_eq!(v["inputs"]["after_as_of"], 0, "--as-of latest");
    assert_eq!(v["internal"]["domains"], serde_json::json!(["enron.com"]), "every sender is at enron.com");
    let accts = v["accounts"].as_array().unwrap();
    let contacts: Vec<&str> = accts.iter().flat_map(|a| a["contacts"].as_array().unwrap().iter().map(|c| c.as_str().unwrap())).collect();
    assert!(accts.len() >= 10, "several customer accounts: {}", accts.len());
    assert_exclusions_hold(&v);

    // No own address: the senders' personal free-mail addresses are ours, not customers.
    for own in ["harrysarora@yahoo.com", "pallen70@hotmail.com"] {
        assert!(!contacts.contains(&own), "{own} is one of our own addresses");
        assert!(excluded(&v).contains(&(own.to_string(), "own_address".to_string())), "{own}");
    }
    // No mass-forward recipients: nobody who only got a message to more than 10 external people.
    let state_db = rusqlite::Connection::open(&state).unwrap();
    let mut stmt = state_db.prepare("SELECT recipients FROM messages WHERE direction = 'sent'").unwrap();
    let recipients: Vec<Vec<String>> = stmt.query_map([], |r| r.get::<_, String>(0)).unwrap().map(|r| serde_json::from_str(&r.unwrap()).unwrap()).collect();
    let external = |r: &str| !r.ends_with("enron.com");
    for c in &contacts {
        let lists: Vec<&Vec<String>> = recipients.iter().filter(|r| r.iter().any(|x| x == c)).collect();
        assert!(lists.iter().any(|r| r.iter().filter(|x| external(x)).count() <= 10), "{c} only got mass mail");
    }
    assert!(v["inputs"]["mass_mail"].as_u64().unwrap() > 0);
    // No list or unsubscribe addresses.
    for c in &contacts {
        let local = c.split('@').next().unwrap();
        assert!(!["unsubscribe", "unsub", "remove-", "noreply", "no-reply", "mailer-daemon", "listserv"].iter().any(|p| local.contains(p)), "{c}");
    }
    for a in accts {
        let key = a["account"].as_str().unwrap();
        assert!(key != "enron.com" && !key.ends_with(".enron.com"), "{key} is internal");
        assert!(!["hotmail.com", "yahoo.com", "aol.com"].contains(&key), "free mail is per person: {key}");
        let e = &a["emails"];
        let n = |k: &str| e[k].as_u64().unwrap();
        assert!(n("last_30") <= n("last_90") && n("last_90") <= n("last_365") && n("last_365") <= n("total"), "{key}: {e}");
        assert!(n("total") >= 2 || a["last_touch"] != Value::Null, "{key}: below the minimum of evidence");
    }
    // The counts add up, and the ranking is ordered.
    let sum = &v["summary"];
    let count = |verdict: &str| accts.iter().filter(|a| a["verdict"] == verdict).count() as u64;
    assert_eq!(count("email_only") + count("mixed") + count("inactive"), accts.len() as u64);
    let needs = v["needs_attention"].as_array().unwrap();
    for w in needs.windows(2) {
        assert!(w[0]["score"].as_f64() >= w[1]["score"].as_f64() || !account(&v, w[1]["account"].as_str().unwrap())["need"]["established"].as_bool().unwrap());
    }
    let by_reason = |r: &str| v["excluded"].as_array().unwrap().iter().filter(|e| e["reason"] == r).count();
    eprintln!(
        "enron: {} messages, {} customer accounts ({} people), {} not customers (own {}, family {}, automated {}, mass mail {}, too little evidence {}); last 90 days: {} active, {} email only ({:.0}%), {} mixed, {} inactive; {} to call or visit{}",
        v["inputs"]["messages"],
        accts.len(),
        sum["people"],
        sum["excluded"],
        by_reason("own_address"),
        by_reason("family"),
        by_reason("automated"),
        by_reason("mass_mail"),
        by_reason("too_little_evidence"),
        sum["active"],
        sum["email_only"],
        100.0 * sum["email_only_share"].as_f64().unwrap_or(0.0),
        sum["mixed"],
        sum["inactive"],
        needs.len(),
        needs.first().map(|n| format!(", first {} ({})", n["account"], n["score"])).unwrap_or_default()
    );
}
