//! IMAP ingestion against a real Dovecot server (one per test, see `support/dovecot.rs`).
//! Tests that need Dovecot skip, saying so on stderr, when it is not installed; run
//! `scripts/install-test-deps.sh` to install it.
use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use rapport_core::secret::SecretSource;
use rapport_core::source::imap::{Auth, ImapConfig, ImapSession, ImapSource, Retry, Security};
use rapport_core::source::{MailSource, RawMail, SourceRef};

use crate::support::dovecot::{self, Dovecot, Options, PASSWORD, USER};

/// The password in a fresh environment variable named after the test.
fn env_password(test: &str, value: &str) -> SecretSource {
    let var = format!("RAPPORT_TEST_IMAP_PASSWORD_{}", test.to_ascii_uppercase());
    std::env::set_var(&var, value);
    SecretSource::Env(var)
}

/// The password printed by a command, the way `pass show …` would.
fn command_password(value: &str) -> SecretSource {
    assert!(!value.contains('\''));
    SecretSource::Command(format!("printf '%s\\n' '{value}'"))
}

/// Implicit TLS to the fixture, trusting its throw-away CA.
fn tls_config(dc: &Dovecot, name: &str, secret: SecretSource) -> ImapConfig {
    let mut cfg = ImapConfig::new(name, "localhost", USER, Auth::Password(secret));
    cfg.port = dc.imaps_port;
    cfg.ca_file = Some(dc.ca_file.clone());
    cfg.timeout = Duration::from_secs(10);
    cfg
}

fn uid_of(mail: &RawMail) -> u32 {
    match &mail.origin {
        SourceRef::Imap { uid, .. } => *uid,
        other => panic!("not an IMAP origin: {other:?}"),
    }
}

fn assert_same_as_fixtures(mails: &[RawMail]) {
    let fixtures = dovecot::fixture_messages();
    assert_eq!(mails.len(), fixtures.len(), "message count");
    for (i, (mail, (file, bytes))) in mails.iter().zip(&fixtures).enumerate() {
        assert_eq!(uid_of(mail), i as u32 + 1, "{file}: UID");
        assert!(
            mail.bytes == *bytes,
            "{file}: the fetched bytes differ from the fixture"
        );
    }
}

fn read_all(src: &mut ImapSource) -> Vec<RawMail> {
    src.mails()
        .collect::<Result<Vec<_>, _>>()
        .unwrap_or_else(|e| panic!("reading {} failed: {e}", src.describe()))
}

#[test]
fn imap_fetches_the_sent_folder_over_implicit_tls() {
    let Some(dc) = Dovecot::start("imap_fetches_the_sent_folder_over_implicit_tls") else {
        return;
    };
    let n = dovecot::fixture_messages().len() as u32;
    let mut cfg = tls_config(&dc, "work", env_password("implicit_tls", PASSWORD));
    cfg.folders = vec!["Sent".into()];

    let mut s = ImapSession::connect(&cfg).expect("connect over implicit TLS");
    assert_eq!(s.sent_folders().unwrap(), ["Sent"]);
    let status = s.examine("Sent").unwrap();
    assert_eq!(status.exists, n);
    assert_eq!(status.uidnext, Some(n + 1));
    let uids = s.uids_after("Sent", 0).unwrap();
    assert_eq!(uids, (1..=n).collect::<Vec<_>>());
    let mails = s.fetch("Sent", status.uidvalidity, &uids).unwrap();
    assert_same_as_fixtures(&mails);
    for m in &mails {
        assert_eq!(
            m.origin,
            SourceRef::Imap {
                mailbox: "work".into(),
                folder: "Sent".into(),
                uidvalidity: status.uidvalidity,
                uid: uid_of(m)
            }
        );
    }
    // Any subset, in the order asked for.
    let some = s.fetch("Sent", status.uidvalidity, &[5, 2]).unwrap();
    assert_eq!(some.iter().map(uid_of).collect::<Vec<_>>(), [5, 2]);
    s.logout().unwrap();
    assert_eq!(dc.logins(1), 1, "{}", dc.logs());
    assert!(
        dc.logs()
            .contains(&format!("Login: user=<{USER}>, method=PLAIN")),
        "{}",
        dc.logs()
    );

    // The streaming source, 3 messages per UID FETCH.
    cfg.batch_size = 3;
    let mut src = ImapSource::new(cfg, "Sent".into(), status.uidvalidity, 0);
    assert_eq!(src.describe(), "imap:work/Sent");
    assert_same_as_fixtures(&read_all(&mut src));
    assert_eq!(src.last_uid(), n);
    assert_eq!(
        src.mails().count(),
        0,
        "a second pull resumes after the last UID: nothing new"
    );
    let body_fetches: Vec<String> = dc
        .client_commands()
        .into_iter()
        .filter(|c| c.contains("BODY.PEEK[]"))
        .collect();
    // 2 by the session above, then ceil(8 / 3) = 3 batches.
    assert_eq!(
        body_fetches.len(),
        2 + n.div_ceil(3) as usize,
        "{body_fetches:?}"
    );
    // Partial fetches: one byte over the message limit, so no body over it ever comes whole.
    let partial = rapport_core::source::DEFAULT_MAX_MESSAGE_BYTES + 1;
    assert!(
        body_fetches.contains(&format!("UID FETCH 1:3 (UID RFC822.SIZE BODY.PEEK[]<0.{partial}>)")),
        "{body_fetches:?}"
    );
}

#[test]
fn imap_starttls_with_password_command_and_config_from_serde() {
    let Some(dc) = Dovecot::start("imap_starttls_with_password_command_and_config_from_serde")
    else {
        return;
    };
    let mut cfg: ImapConfig = serde_json::from_value(serde_json::json!({
        "host": "localhost",
        "port": dc.imap_port,
        "security": "starttls",
        "ca-file": dc.ca_file,
        "user": USER,
        "password-command": format!("printf '%s\\n' '{PASSWORD}'; echo second line is ignored"),
        "batch-size": 4,
        "timeout-secs": 10,
    }))
    .expect("valid config");
    cfg.name = "shop".into();
    assert_eq!(cfg.security, Security::StartTls);

    let mut s = ImapSession::connect(&cfg).expect("connect with STARTTLS");
    let sent = s.sent_folders().unwrap();
    assert_eq!(sent, ["Sent"]);
    let status = s.examine("Sent").unwrap();
    drop(s);
    let mut src = ImapSource::new(cfg, "Sent".into(), status.uidvalidity, 0);
    assert_same_as_fixtures(&read_all(&mut src));
    // Dovecot marks logins on encrypted connections with "TLS".
    assert_eq!(dc.logins(2), 2);
    let logs = dc.logs();
    let logins: Vec<&str> = logs
        .lines()
        .filter(|l| l.contains("Login: user="))
        .collect();
    assert_eq!(logins.len(), 2, "{logs}");
    for line in logins {
        assert!(line.contains(", TLS"), "login without TLS: {line}");
    }
}

#[test]
fn imap_finds_the_sent_folder_by_special_use_not_by_name() {
    let options = Options {
        sent_folder: "Éléments envoyés".into(),
        other_folders: vec!["Sent".into(), "Drafts".into()],
        ..Options::default()
    };
    let Some(dc) = Dovecot::start_with(
        "imap_finds_the_sent_folder_by_special_use_not_by_name",
        options,
    ) else {
        return;
    };
    // A decoy called "Sent" that is not the SPECIAL-USE \Sent folder.
    dc.append(
        "Sent",
        b"From: decoy@example.org\r\nSubject: decoy\r\n\r\nnot sent mail\r\n",
    );
    let cfg = tls_config(&dc, "fr", command_password(PASSWORD));
    assert!(cfg.folders.is_empty());

    let mut s = ImapSession::connect(&cfg).unwrap();
    assert_eq!(s.sent_folders().unwrap(), ["Éléments envoyés"]);
    let folders = s.folders().unwrap();
    assert!(
        folders
            .iter()
            .any(|f| f.name == "Éléments envoyés" && f.sent),
        "{folders:?}"
    );
    assert!(
        folders.iter().any(|f| f.name == "Sent" && !f.sent),
        "{folders:?}"
    );
    let status = s.examine("Éléments envoyés").unwrap();
    drop(s);
    let mut src = ImapSource::new(
        cfg.clone(),
        "Éléments envoyés".into(),
        status.uidvalidity,
        0,
    );
    let mails = read_all(&mut src);
    assert_same_as_fixtures(&mails);
    assert!(
        matches!(&mails[0].origin, SourceRef::Imap { folder, .. } if folder == "Éléments envoyés")
    );
    // On the wire the name is modified UTF-7.
    assert!(
        dc.client_commands()
            .iter()
            .any(|c| c == "EXAMINE \"&AMk-l&AOk-ments envoy&AOk-s\""),
        "{:?}",
        dc.client_commands()
    );

    // Configured folders win over discovery.
    let mut configured = cfg;
    configured.folders = vec!["Sent".into()];
    assert_eq!(
        ImapSession::connect(&configured)
            .unwrap()
            .sent_folders()
            .unwrap(),
        ["Sent"]
    );
}

#[test]
fn imap_xoauth2_with_a_bearer_token() {
    let Some(dc) = Dovecot::start("imap_xoauth2_with_a_bearer_token") else {
        return;
    };
    let var = "RAPPORT_TEST_IMAP_TOKEN_XOAUTH2";
    std::env::set_var(var, dc.oauth2_token(USER, 3600));
    let mut cfg: ImapConfig = serde_json::from_value(serde_json::json!({
        "host": "localhost",
        "port": dc.imaps_port,
        "ca-file": dc.ca_file,
        "user": USER,
        "oauth2-token-env": var,
    }))
    .unwrap();
    cfg.name = "m365".into();
    let mut s = ImapSession::connect(&cfg).expect("XOAUTH2 login");
    let status = s.examine("Sent").unwrap();
    drop(s);
    let mut src = ImapSource::new(cfg.clone(), "Sent".into(), status.uidvalidity, 0);
    assert_same_as_fixtures(&read_all(&mut src));
    assert_eq!(dc.logins(2), 2);
    assert_eq!(
        dc.logs().matches("method=XOAUTH2").count(),
        2,
        "{}",
        dc.logs()
    );

    // Expired, or for another user: refused with a clear error (the server's error challenge
    // is answered as XOAUTH2 requires, so this fails fast instead of hanging).
    for token in [
        dc.oauth2_token(USER, -600),
        dc.oauth2_token("someone@else.example", 3600),
    ] {
        let file = dc.dir().join("token");
        std::fs::write(&file, format!("{token}\n")).unwrap();
        cfg.auth = Auth::XOAuth2(SecretSource::Command(format!("cat {}", file.display())));
        let e = ImapSession::connect(&cfg).unwrap_err().to_string();
        assert!(
            e.contains("refused the login of user") && e.contains("OAuth2 access token"),
            "{e}"
        );
        assert!(e.contains("access tokens expire"), "{e}");
        assert!(!e.contains(&token), "the error shows the token: {e}");
    }
}

#[test]
fn imap_no_sent_folder_is_a_clear_error() {
    let options = Options {
        mark_sent: false,
        ..Options::default()
    };
    let Some(dc) = Dovecot::start_with("imap_no_sent_folder_is_a_clear_error", options) else {
        return;
    };
    let cfg = tls_config(&dc, "work", command_password(PASSWORD));
    let mut s = ImapSession::connect(&cfg).unwrap();
    let e = s.sent_folders().unwrap_err().to_string();
    assert!(
        e.contains(&format!(
            "no folder on localhost:{} is marked as the Sent folder (SPECIAL-USE \\Sent)",
            dc.imaps_port
        )),
        "{e}"
    );
    assert!(
        e.contains("folders = [\"Sent\"]") && e.contains("(`Sent` looks like it)"),
        "{e}"
    );
    assert!(
        e.contains("The folders are: `Archive`, `Drafts`, `INBOX`, `Sent`"),
        "{e}"
    );
    // Before giving up it asked the RFC 6154 way too.
    assert!(
        dc.client_commands()
            .contains(&"LIST (SPECIAL-USE) \"\" \"*\"".to_string()),
        "{:?}",
        dc.client_commands()
    );
}

#[test]
fn imap_uids_after_returns_only_new_messages() {
    let Some(dc) = Dovecot::start("imap_uids_after_returns_only_new_messages") else {
        return;
    };
    let n = dovecot::fixture_messages().len() as u32;
    let cfg = tls_config(&dc, "work", env_password("uids_after", PASSWORD));
    let mut s = ImapSession::connect(&cfg).unwrap();
    let status = s.examine("Sent").unwrap();
    // `UID SEARCH UID 9:*` matches UID 8 (the highest) on the server: it must not come back.
    assert_eq!(s.uids_after("Sent", n).unwrap(), Vec::<u32>::new());
    assert!(dc
        .client_commands()
        .contains(&format!("UID SEARCH UID {}:*", n + 1)));
    assert_eq!(s.uids_after("Sent", 5).unwrap(), [6, 7, 8]);
    assert_eq!(s.uids_after("Sent", u32::MAX).unwrap(), Vec::<u32>::new());

    let new = b"From: Northwind Bikes Support <support@northwind-bikes.example>\r\nTo: maria.jensen@example.org\r\nSubject: Your parcel is on its way\r\nMessage-ID: <new-1@northwind-bikes.example>\r\n\r\nHi Maria, your parcel left our warehouse today.\r\n";
    dc.append("Sent", new);
    assert_eq!(
        s.uids_after("Sent", n).unwrap(),
        [n + 1],
        "the open session sees the new message"
    );
    drop(s);

    let mut src = ImapSource::new(cfg, "Sent".into(), status.uidvalidity, n);
    let mails = read_all(&mut src);
    assert_eq!(mails.len(), 1);
    assert_eq!(uid_of(&mails[0]), n + 1);
    assert_eq!(mails[0].bytes, new);
    assert_eq!(src.last_uid(), n + 1);
}

#[test]
fn imap_uidvalidity_change_is_detected() {
    let Some(dc) = Dovecot::start("imap_uidvalidity_change_is_detected") else {
        return;
    };
    let cfg = tls_config(&dc, "work", command_password(PASSWORD));
    let old = ImapSession::connect(&cfg)
        .unwrap()
        .examine("Sent")
        .unwrap()
        .uidvalidity;
    let new = old.wrapping_add(1000);
    dc.set_uidvalidity("Sent", new);

    let mut s = ImapSession::connect(&cfg).unwrap();
    assert_eq!(s.examine("Sent").unwrap().uidvalidity, new);
    let e = s.fetch("Sent", old, &[1]).unwrap_err().to_string();
    assert!(
        e.contains("UIDVALIDITY") && e.contains(&old.to_string()) && e.contains(&new.to_string()),
        "{e}"
    );
    drop(s);

    let mut src = ImapSource::new(cfg, "Sent".into(), old, 3);
    let mut items = src.mails();
    let e = items.next().expect("one error").unwrap_err().to_string();
    assert!(
        e.starts_with("work: the UIDVALIDITY of folder `Sent` changed"),
        "{e}"
    );
    assert!(e.contains("read again from the start"), "{e}");
    assert!(items.next().is_none(), "the stream ends after the error");
    drop(items);
    assert_eq!(src.changed_uidvalidity(), Some(new));
    // Three sessions: the two above and the source's; no reconnection attempts for this.
    assert_eq!(dc.logins(3), 3, "{}", dc.logs());
}

#[test]
fn imap_reading_changes_no_flags_and_sends_only_read_only_commands() {
    let Some(dc) =
        Dovecot::start("imap_reading_changes_no_flags_and_sends_only_read_only_commands")
    else {
        return;
    };
    dc.add_flags("Sent", 2, "\\Answered");
    let before = dc.flags("Sent");
    assert_eq!(before.len(), dovecot::fixture_messages().len());
    assert!(
        before.values().all(|f| !f.contains(&"\\Seen".to_string())),
        "{before:?}"
    );
    assert_eq!(before[&2], ["\\Answered"]);

    let cfg = tls_config(&dc, "work", env_password("flags", PASSWORD));
    let mut s = ImapSession::connect(&cfg).unwrap();
    let folder = s.sent_folders().unwrap().remove(0);
    let status = s.examine(&folder).unwrap();
    let uids = s.uids_after(&folder, 0).unwrap();
    assert_eq!(
        s.fetch(&folder, status.uidvalidity, &uids).unwrap().len(),
        uids.len()
    );
    s.logout().unwrap();
    let mut src = ImapSource::new(cfg, folder, status.uidvalidity, 0);
    assert_same_as_fixtures(&read_all(&mut src));

    let after = dc.flags("Sent");
    assert_eq!(before, after, "flags changed by reading");
    assert!(
        after.values().all(|f| !f.contains(&"\\Seen".to_string())),
        "{after:?}"
    );

    let commands = dc.client_commands();
    assert!(
        commands.iter().any(|c| c.starts_with("EXAMINE ")),
        "{commands:?}"
    );
    assert!(
        commands.iter().any(|c| c.contains("BODY.PEEK[]")),
        "{commands:?}"
    );
    for c in &commands {
        let upper = c.to_ascii_uppercase();
        let allowed = [
            "CAPABILITY",
            "NOOP",
            "LIST ",
            "EXAMINE ",
            "UID SEARCH ",
            "UID FETCH ",
            "LOGOUT",
        ];
        assert!(
            allowed.iter().any(|a| upper.starts_with(a)),
            "unexpected command {c:?}"
        );
        let without_peek = upper.replace("BODY.PEEK[", "").replace("RFC822.SIZE", "");
        for marks_seen in ["BODY[", "RFC822", "BINARY["] {
            assert!(!without_peek.contains(marks_seen), "{c:?} would set \\Seen");
        }
    }
}

#[test]
fn imap_wrong_password_is_a_clear_error_without_the_password() {
    let Some(dc) = Dovecot::start("imap_wrong_password_is_a_clear_error_without_the_password")
    else {
        return;
    };
    let wrong = "Tr0ub4dor&3-not-it";
    let secret = env_password("wrong_password", wrong);
    let var = match &secret {
        SecretSource::Env(v) => v.clone(),
        _ => unreachable!(),
    };
    let cfg = tls_config(&dc, "work", secret);
    let e = ImapSession::connect(&cfg).unwrap_err().to_string();
    assert!(e.starts_with("work: "), "{e}");
    assert!(
        e.contains("refused the login of user") && e.contains(USER),
        "{e}"
    );
    assert!(e.contains(&var) && e.contains("Check `user`"), "{e}");
    assert!(
        !e.contains(wrong) && !e.contains(PASSWORD),
        "the error shows a password: {e}"
    );

    // The streaming source stops at once: retrying cannot fix credentials.
    assert_eq!(
        dc.log_count("(auth failed, 1 attempts", 1),
        1,
        "{}",
        dc.logs()
    );
    let mut src = ImapSource::new(cfg, "Sent".into(), 1, 0);
    let items: Vec<_> = src.mails().collect();
    assert_eq!(items.len(), 1);
    assert!(items[0]
        .as_ref()
        .unwrap_err()
        .to_string()
        .contains("refused the login"));
    assert_eq!(
        dc.log_count("(auth failed, 1 attempts", 2),
        2,
        "it tried again: {}",
        dc.logs()
    );

    // A password command that fails: named in the error, and nothing is sent to the server.

    let cfg = tls_config(&dc, "work", SecretSource::Command("exit 4".into()));
    let e = ImapSession::connect(&cfg).unwrap_err().to_string();
    assert!(e.contains("`exit 4` failed (exit status: 4)"), "{e}");
    assert!(e.contains("cannot get the password for user"), "{e}");
    let cfg = tls_config(
        &dc,
        "work",
        SecretSource::Env("RAPPORT_TEST_IMAP_UNSET_VARIABLE_91c2".into()),
    );
    let e = ImapSession::connect(&cfg).unwrap_err().to_string();
    assert!(
        e.contains("RAPPORT_TEST_IMAP_UNSET_VARIABLE_91c2 is not set"),
        "{e}"
    );
    // Only the two connections with the wrong password ever tried to log in.
    assert_eq!(dc.log_count("(auth failed", 2), 2, "{}", dc.logs());
    assert_eq!(dc.logins(0), 0, "{}", dc.logs());
}

#[test]
fn imap_untrusted_certificate_is_a_clear_error() {
    let Some(dc) = Dovecot::start("imap_untrusted_certificate_is_a_clear_error") else {
        return;
    };
    let secret = command_password(PASSWORD);

    // Signed by a CA other than the one in ca-file.
    let mut cfg = tls_config(&dc, "work", secret.clone());
    cfg.ca_file = Some(dc.other_ca_file.clone());
    let e = ImapSession::connect(&cfg).unwrap_err().to_string();
    assert!(
        e.contains(&format!(
            "the TLS certificate of localhost:{}",
            dc.imaps_port
        )),
        "{e}"
    );
    assert!(
        e.contains("is not signed by a CA that rapport trusts"),
        "{e}"
    );
    assert!(
        e.contains(&dc.other_ca_file.display().to_string()) && e.contains("`ca-file`"),
        "{e}"
    );

    // The system's roots do not know the throw-away CA either (same for STARTTLS).
    cfg.ca_file = None;
    let e = ImapSession::connect(&cfg).unwrap_err().to_string();
    assert!(
        e.contains("certificate") && e.contains("the system's root certificates"),
        "{e}"
    );
    assert!(e.contains("set `ca-file`"), "{e}");
    cfg.security = Security::StartTls;
    cfg.port = dc.imap_port;
    let e = ImapSession::connect(&cfg).unwrap_err().to_string();
    assert!(
        e.contains("is not signed by a CA that rapport trusts"),
        "{e}"
    );

    // Right CA, wrong name: the certificate is for `localhost`, not 127.0.0.1.
    let mut cfg = tls_config(&dc, "work", secret.clone());
    cfg.host = "127.0.0.1".into();
    let e = ImapSession::connect(&cfg).unwrap_err().to_string();
    assert!(
        e.contains("is not issued for the name `127.0.0.1`") && e.contains("Set `host`"),
        "{e}"
    );

    // ca-file problems.
    let mut cfg = tls_config(&dc, "work", secret);
    cfg.ca_file = Some(dc.dir().join("server.key"));
    let e = ImapSession::connect(&cfg).unwrap_err().to_string();
    assert!(e.contains("contains no PEM certificate"), "{e}");
    cfg.ca_file = Some(PathBuf::from("/nonexistent/ca.pem"));
    let e = ImapSession::connect(&cfg).unwrap_err().to_string();
    assert!(e.contains("cannot read ca-file /nonexistent/ca.pem"), "{e}");

    assert_eq!(
        dc.logins(0),
        0,
        "a password was sent over an untrusted connection"
    );
}

#[test]
fn imap_unreachable_server_is_a_clear_error() {
    // Needs no Dovecot: nothing listens on a port we just released.
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut cfg = ImapConfig::new(
        "work",
        "127.0.0.1",
        USER,
        Auth::Password(command_password(PASSWORD)),
    );
    cfg.port = port;
    let e = ImapSession::connect(&cfg).unwrap_err().to_string();
    assert!(
        e.contains(&format!(
            "cannot connect to 127.0.0.1:{port}: connection refused"
        )),
        "{e}"
    );
    assert!(e.contains("Check `host` and `port`"), "{e}");

    // The source retries with back-off, then gives up saying so.
    let started = Instant::now();
    let mut src = ImapSource::new(cfg.clone(), "Sent".into(), 1, 0).with_retry(Retry {
        attempts: 2,
        first_delay: Duration::from_millis(50),
        ..Retry::default()
    });
    let items: Vec<_> = src.mails().collect();
    assert_eq!(items.len(), 1);
    let e = items[0].as_ref().unwrap_err().to_string();
    assert!(
        e.contains("connection refused") && e.contains("gave up after 2 reconnection attempts"),
        "{e}"
    );
    assert!(
        started.elapsed() >= Duration::from_millis(150),
        "50 ms + 100 ms of back-off"
    );

    // A server that accepts but never answers: the timeout, not a hang.
    let silent = TcpListener::bind("127.0.0.1:0").unwrap();
    cfg.port = silent.local_addr().unwrap().port();
    cfg.timeout = Duration::from_secs(1);
    let started = Instant::now();
    let e = ImapSession::connect(&cfg).unwrap_err().to_string();
    assert!(
        e.contains("no answer from 127.0.0.1") && e.contains("TLS handshake"),
        "{e}"
    );
    assert!(started.elapsed() < Duration::from_secs(5));
}

#[test]
fn imap_missing_folder_lists_the_folders() {
    let Some(dc) = Dovecot::start("imap_missing_folder_lists_the_folders") else {
        return;
    };
    let mut cfg = tls_config(&dc, "work", command_password(PASSWORD));
    cfg.folders = vec!["Sent Items".into()];
    let mut s = ImapSession::connect(&cfg).unwrap();
    assert_eq!(s.sent_folders().unwrap(), ["Sent Items"]);
    let e = s.examine("Sent Items").unwrap_err().to_string();
    assert!(e.contains("cannot open folder `Sent Items`"), "{e}");
    for f in ["`Archive`", "`Drafts`", "`INBOX`", "`Sent`"] {
        assert!(e.contains(f), "{f} missing from: {e}");
    }
    assert!(e.contains("Fix `folders` in the config"), "{e}");
    let e = s.examine("sent").unwrap_err().to_string();
    assert!(e.contains("Did you mean `Sent`?"), "{e}");
    // The session is still usable after a missing folder.
    assert_eq!(
        s.examine("Sent").unwrap().exists,
        dovecot::fixture_messages().len() as u32
    );
    drop(s);

    let mut src = ImapSource::new(cfg, "Sent Items".into(), 1, 0);
    let items: Vec<_> = src.mails().collect();
    assert_eq!(items.len(), 1);
    assert!(items[0]
        .as_ref()
        .unwrap_err()
        .to_string()
        .contains("cannot open folder `Sent Items`"));
}

#[test]
fn imap_source_resumes_after_the_connection_is_cut() {
    let Some(dc) = Dovecot::start("imap_source_resumes_after_the_connection_is_cut") else {
        return;
    };
    let n = dovecot::fixture_messages().len();
    let mut cfg = tls_config(&dc, "work", env_password("resume", PASSWORD));
    cfg.batch_size = 3;
    let uidvalidity = ImapSession::connect(&cfg)
        .unwrap()
        .examine("Sent")
        .unwrap()
        .uidvalidity;

    let mut src = ImapSource::new(cfg, "Sent".into(), uidvalidity, 0);
    let mut mails = Vec::new();
    let mut kicked = 0;
    for item in src.mails() {
        mails.push(item.expect("every message arrives despite the cuts"));
        // Cut the connection in the middle of the first and of the second batch.
        if mails.len() == 1 || mails.len() == 5 {
            dc.kick();
            kicked += 1;
        }
    }
    assert_eq!(kicked, 2);
    assert_same_as_fixtures(&mails); // each UID exactly once, in order
    assert_eq!(src.last_uid(), n as u32);
    // The probe above, then the source: one login, and one more per cut.
    assert_eq!(dc.logins(4), 4, "{}", dc.logs());
}

#[test]
fn imap_source_gives_up_when_the_server_stays_down() {
    let Some(mut dc) = Dovecot::start("imap_source_gives_up_when_the_server_stays_down") else {
        return;
    };
    let mut cfg = tls_config(&dc, "work", command_password(PASSWORD));
    cfg.batch_size = 3;
    let uidvalidity = ImapSession::connect(&cfg)
        .unwrap()
        .examine("Sent")
        .unwrap()
        .uidvalidity;
    let mut src = ImapSource::new(cfg, "Sent".into(), uidvalidity, 0).with_retry(Retry {
        attempts: 2,
        first_delay: Duration::from_millis(50),
        ..Retry::default()
    });
    let mut items = src.mails();
    assert_eq!(uid_of(&items.next().unwrap().unwrap()), 1);
    dc.stop();
    // The rest of the batch was already read.
    assert_eq!(uid_of(&items.next().unwrap().unwrap()), 2);
    assert_eq!(uid_of(&items.next().unwrap().unwrap()), 3);
    let e = items.next().unwrap().unwrap_err().to_string();
    assert!(e.contains("gave up after 2 reconnection attempts"), "{e}");
    assert!(e.contains("the messages up to UID 3 were delivered"), "{e}");
    assert!(items.next().is_none());
    drop(items);
    assert_eq!(src.last_uid(), 3, "a later run resumes after UID 3");
}

#[test]
fn imap_plaintext_only_when_asked_for_by_name() {
    // The default is implicit TLS on 993; plaintext must be spelled out.
    let base = serde_json::json!({"host": "imap.example.com", "user": "me", "password-env": "X"});
    let cfg: ImapConfig = serde_json::from_value(base.clone()).unwrap();
    assert_eq!((cfg.security, cfg.port), (Security::Tls, 993));
    let mut plain = base.clone();
    plain["security"] = "plaintext".into();
    let cfg: ImapConfig = serde_json::from_value(plain).unwrap();
    assert_eq!((cfg.security, cfg.port), (Security::Plaintext, 143));
    for wrong in ["none", "off", "ssl", "TLS", ""] {
        let mut v = base.clone();
        v["security"] = wrong.into();
        assert!(
            serde_json::from_value::<ImapConfig>(v).is_err(),
            "security = {wrong:?} accepted"
        );
    }

    // A STARTTLS client facing a server (or a man in the middle) that does not offer STARTTLS
    // stops before sending anything secret.
    let fake = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = fake.local_addr().unwrap().port();
    let server = std::thread::spawn(move || {
        let (stream, _) = fake.accept().unwrap();
        let mut out = stream.try_clone().unwrap();
        out.write_all(b"* OK IMAP4rev1 ready\r\n").unwrap();
        let mut received = Vec::new();
        for line in BufReader::new(stream).lines() {
            let Ok(line) = line else { break };
            let tag = line.split(' ').next().unwrap_or("*").to_string();
            if line.to_ascii_uppercase().ends_with("CAPABILITY") {
                out.write_all(b"* CAPABILITY IMAP4rev1 AUTH=PLAIN LOGIN\r\n")
                    .unwrap();
            }
            out.write_all(format!("{tag} OK done\r\n").as_bytes())
                .unwrap();
            received.push(line);
        }
        received
    });
    let mut cfg = ImapConfig::new(
        "work",
        "127.0.0.1",
        USER,
        Auth::Password(command_password(PASSWORD)),
    );
    cfg.security = Security::StartTls;
    cfg.port = port;
    let e = ImapSession::connect(&cfg).unwrap_err().to_string();
    assert!(
        e.contains("does not offer STARTTLS") && e.contains("did not send the password"),
        "{e}"
    );
    let received = server.join().unwrap();
    assert_eq!(
        received,
        ["R0 CAPABILITY"],
        "only CAPABILITY may be sent before TLS"
    );

    let Some(dc) = Dovecot::start("imap_plaintext_only_when_asked_for_by_name") else {
        return;
    };
    // TLS expected, plaintext port: an error, never a fallback to plaintext.
    let mut cfg = tls_config(&dc, "work", command_password(PASSWORD));
    cfg.port = dc.imap_port;
    let e = ImapSession::connect(&cfg).unwrap_err().to_string();
    assert!(
        e.contains("does not seem to speak TLS on this port")
            && e.contains("security = \"starttls\""),
        "{e}"
    );
    assert_eq!(dc.logins(0), 0, "{}", dc.logs());

    // Asked for by name, plaintext works (and warns on stderr).
    cfg.security = Security::Plaintext;
    let mut s = ImapSession::connect(&cfg).unwrap();
    assert_eq!(
        s.examine("Sent").unwrap().exists,
        dovecot::fixture_messages().len() as u32
    );
    drop(s);
    assert_eq!(dc.logins(1), 1);
    let login = dc
        .logs()
        .lines()
        .find(|l| l.contains("Login: user="))
        .unwrap()
        .to_string();
    assert!(!login.contains("TLS"), "{login}");
}

#[test]
fn imap_config_rejects_ambiguous_or_unsafe_settings() {
    let ok = serde_json::json!({
        "host": "imap.example.com", "port": 1993, "security": "starttls", "ca-file": "/etc/ca.pem",
        "user": "me@example.com", "oauth2-token-command": "oauth2l fetch --json",
        "folders": ["Sent", "Sent/2024"], "batch-size": 10, "timeout-secs": 5,
    });
    let cfg: ImapConfig = serde_json::from_value(ok.clone()).unwrap();
    assert_eq!(cfg.port, 1993);
    assert_eq!(cfg.ca_file, Some(PathBuf::from("/etc/ca.pem")));
    assert_eq!(
        cfg.auth,
        Auth::XOAuth2(SecretSource::Command("oauth2l fetch --json".into()))
    );
    assert_eq!(cfg.folders, ["Sent", "Sent/2024"]);
    assert_eq!((cfg.batch_size, cfg.timeout), (10, Duration::from_secs(5)));

    let error = |edit: &dyn Fn(&mut serde_json::Value)| {
        let mut v = ok.clone();
        edit(&mut v);
        serde_json::from_value::<ImapConfig>(v)
            .unwrap_err()
            .to_string()
    };
    let e = error(&|v| v["password-env"] = "IMAP_PASSWORD".into());
    assert!(
        e.contains("set only one of") && e.contains("password-env and oauth2-token-command"),
        "{e}"
    );
    let e = error(&|v| {
        v.as_object_mut().unwrap().remove("oauth2-token-command");
    });
    assert!(e.contains("no credentials"), "{e}");
    let e = error(&|v| v["password"] = "hunter2".into());
    assert!(
        e.contains("`password` in the config file is not supported") && !e.contains("hunter2"),
        "{e}"
    );
    let e = error(&|v| v["pasword-env"] = "X".into());
    assert!(e.contains("unknown field `pasword-env`"), "{e}");
    let e = error(&|v| v["batch-size"] = 0.into());
    assert!(e.contains("`batch-size` must be at least 1"), "{e}");
}
