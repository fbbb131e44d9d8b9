use super::*;
use crate::source::{Checkpoint, Direction};
use crate::verdict::Tone;

fn row(key: &str, hash: &str) -> MessageRow {
    MessageRow {
        message_key: key.into(),
        message_id: Some(key.into()),
        content_hash: hash.into(),
        clean_hash: hash.into(),
        origin: format!("file:{key}"),
        direction: Direction::Sent,
        sender: Some("me@us.com".into()),
        sender_name: Some("Me".into()),
        recipients: vec!["you@them.com".into()],
        to_count: 1,
        reply_to: vec![],
        list: Default::default(),
        assessed: true,
        date: Some(1_700_000_000),
        subject: Some("s".into()),
        in_reply_to: vec![],
        references: vec![],
        calendar: vec![],
        sentences: vec![0..3, 4..8],
        cleaned: "Hi. Bye.".into(),
    }
}

fn score() -> ScoreRow {
    ScoreRow { risk: 0.2, flagged: false, tone: Tone::default(), findings: vec![], sentence_risk: vec![0.1, 0.2] }
}

#[test]
fn batch_roundtrip_and_dedupe() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.sqlite3");
    let mut st = State::open(&path).unwrap();
    let batch = Batch {
        messages: vec![(row("a", "h1"), Some(score())), (row("a", "h1"), Some(score()))],
        errors: vec![("file:bad".into(), "not mail".into())],
        checkpoints: vec![Checkpoint { key: "Sent".into(), epoch: 7, mark: 42 }],
    };
    st.commit_batch(&batch, "m1").unwrap();
    assert_eq!(st.message_count().unwrap(), 1);
    assert!(st.seen_keys().unwrap().contains("file:bad"));
    assert_eq!(st.checkpoint("Sent").unwrap(), Some((7, 42)));
    assert!(st.has_verdict("h1", "m1").unwrap());
    assert!(!st.has_verdict("h1", "m2").unwrap(), "a new model id re-scores");
    let msgs = st.messages("m1").unwrap();
    assert_eq!(msgs.len(), 1);
    assert_eq!(msgs[0].verdict.as_ref().unwrap().sentence_risk, vec![0.1, 0.2]);
    assert_eq!(msgs[0].sentence(1), "Bye.");
    assert_eq!(st.stale_texts("m2").unwrap().len(), 1);
}

#[test]
fn a_second_open_of_the_same_state_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.sqlite3");
    let _first = State::open(&path).unwrap();
    let err = State::open(&path).err().expect("second open must fail");
    assert!(matches!(err, StateError::Busy { .. }), "{err}");
    assert!(err.to_string().contains("another `rapport audit`"));
}

#[test]
fn files_are_private() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("new/sub/s.sqlite3");
    drop(State::open(&path).unwrap());
    assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
    assert_eq!(std::fs::metadata(path.parent().unwrap()).unwrap().permissions().mode() & 0o777, 0o700);
}

#[test]
fn a_foreign_database_is_refused_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("other.db");
    {
        let c = rusqlite::Connection::open(&path).unwrap();
        c.execute_batch("CREATE TABLE invoices(id INTEGER PRIMARY KEY, total REAL); INSERT INTO invoices VALUES (1, 9.5);").unwrap();
    }
    let before = std::fs::read(&path).unwrap();
    let err = State::open(&path).err().expect("a foreign database must be refused");
    assert!(matches!(err, StateError::Foreign { .. }), "{err}");
    assert!(err.to_string().contains("invoices"), "{err}");
    assert_eq!(std::fs::read(&path).unwrap(), before, "the file is left exactly as it was");
    let text = dir.path().join("notes.txt");
    std::fs::write(&text, "just some text, not a database at all, long enough to have a header").unwrap();
    let err = State::open(&text).err().expect("a text file must be refused");
    assert!(matches!(err, StateError::Foreign { .. }), "{err}");
    assert_eq!(std::fs::read_to_string(&text).unwrap(), "just some text, not a database at all, long enough to have a header");
}

#[test]
fn a_newer_state_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.sqlite3");
    drop(State::open(&path).unwrap());
    {
        let c = rusqlite::Connection::open(&path).unwrap();
        c.execute("UPDATE meta SET value = '99' WHERE key = 'schema_version'", []).unwrap();
    }
    let err = State::open(&path).err().expect("newer");
    assert!(matches!(err, StateError::Newer { found: 99, .. }), "{err}");
    let err = State::open_read_only(&path).err().expect("newer");
    assert!(matches!(err, StateError::Newer { .. }), "{err}");
}

#[test]
fn a_schema_1_state_is_migrated() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("v1.sqlite3");
    {
        // The schema the first release wrote, with one message.
        let c = rusqlite::Connection::open(&path).unwrap();
        c.execute_batch(
            r#"CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
            CREATE TABLE folders (folder TEXT PRIMARY KEY, uidvalidity INTEGER NOT NULL, last_uid INTEGER NOT NULL, updated_at INTEGER NOT NULL);
            CREATE TABLE seen (source_key TEXT PRIMARY KEY, message_key TEXT, seen_at INTEGER NOT NULL, error TEXT);
            CREATE TABLE messages (message_key TEXT PRIMARY KEY, message_id TEXT, content_hash TEXT NOT NULL, clean_hash TEXT NOT NULL,
                origin TEXT NOT NULL, sender TEXT, recipients TEXT NOT NULL, date INTEGER, subject TEXT, in_reply_to TEXT, refs TEXT,
                calendar TEXT, sentences TEXT NOT NULL, cleaned TEXT NOT NULL, first_seen INTEGER NOT NULL);
            CREATE TABLE scores (clean_hash TEXT NOT NULL, model_id TEXT NOT NULL, risk REAL NOT NULL, flagged INTEGER NOT NULL,
                tone_negative REAL NOT NULL, tone_neutral REAL NOT NULL, tone_positive REAL NOT NULL, findings TEXT NOT NULL,
                sentence_risk TEXT NOT NULL, scored_at INTEGER NOT NULL, PRIMARY KEY (clean_hash, model_id));
            INSERT INTO meta VALUES ('schema_version', '1');
            INSERT INTO messages VALUES ('mid:a', 'a', 'c', 'h', 'file:a', 'me@us.com', '["x@y.com","z@y.com"]', 1700000000, 's', '', '', '[]', '[[0,3]]', 'Hi.', 1);
            INSERT INTO folders VALUES ('work/Sent', 5, 10, 1);"#,
        )
        .unwrap();
    }
    let st = State::open(&path).unwrap();
    let msgs = st.messages("m").unwrap();
    assert_eq!(msgs.len(), 1);
    assert_eq!(msgs[0].direction, Some(Direction::Sent));
    assert_eq!(msgs[0].to_count, 2);
    assert_eq!(st.checkpoint("work/Sent").unwrap(), Some((5, 10)));
    assert_eq!(st.stale_texts("m").unwrap().len(), 1, "the migrated message is re-assessed under the new model");
    drop(st);
    let c = rusqlite::Connection::open(&path).unwrap();
    let v: String = c.query_row("SELECT value FROM meta WHERE key = 'schema_version'", [], |r| r.get(0)).unwrap();
    assert_eq!(v, SCHEMA_VERSION.to_string());
    let app: i32 = c.pragma_query_value(None, "application_id", |r| r.get(0)).unwrap();
    assert_eq!(app, APPLICATION_ID);
}

#[test]
fn a_damaged_column_is_an_error_not_a_default() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.sqlite3");
    let mut st = State::open(&path).unwrap();
    st.commit_batch(&Batch { messages: vec![(row("a", "h1"), Some(score()))], ..Default::default() }, "m1").unwrap();
    st.conn.execute("UPDATE scores SET findings = 'not json'", []).unwrap();
    let err = st.messages("m1").unwrap_err();
    assert!(matches!(err, StateError::Corrupt { .. }), "{err}");
}
