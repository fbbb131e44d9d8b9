//! Findings accepted for an account (`rapport check --accept CODE`): from then on that code is a
//! note for that account, in `rapport check`, the editor and the audit report (the audit's
//! baseline).
//!
//! The table is additive: it is created when a writer opens the state, a state without it reads as
//! "nothing accepted", and a rapport that does not know it leaves it alone, so the schema version
//! does not change.
use std::collections::{BTreeMap, BTreeSet};

use rusqlite::params;

use super::{State, StateError};

/// Created on every writer's open (`CREATE ... IF NOT EXISTS`).
pub(super) const MIGRATION: &str = "
CREATE TABLE IF NOT EXISTS accepted (
    account TEXT NOT NULL, code TEXT NOT NULL, accepted_at INTEGER NOT NULL, draft TEXT,
    PRIMARY KEY (account, code));
";

/// Accepted codes by account (lower-cased account name).
pub type Accepted = BTreeMap<String, BTreeSet<String>>;

/// The key an account is stored under.
pub fn account_key(account: &str) -> String {
    account.trim().to_lowercase()
}

impl State {
    /// Record that `code` is accepted for `account` (`draft`: where it was accepted, for the
    /// record). Returns false when it already was.
    pub fn accept(&mut self, account: &str, code: &str, draft: Option<&str>) -> Result<bool, StateError> {
        let n = self
            .conn
            .execute(
                "INSERT INTO accepted(account, code, accepted_at, draft) VALUES (?1, ?2, ?3, ?4) ON CONFLICT(account, code) DO NOTHING",
                params![account_key(account), code, crate::time::now(), draft],
            )
            .map_err(|e| self.err(e))?;
        Ok(n > 0)
    }

    /// Every accepted code, by account; empty for a state that has no such table yet.
    pub fn accepted(&self) -> Result<Accepted, StateError> {
        let has: i64 = self
            .conn
            .query_row("SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'accepted'", [], |r| r.get(0))
            .map_err(|e| self.err(e))?;
        let mut out = Accepted::new();
        if has == 0 {
            return Ok(out);
        }
        let mut stmt = self.conn.prepare("SELECT account, code FROM accepted ORDER BY account, code").map_err(|e| self.err(e))?;
        let rows = stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))).map_err(|e| self.err(e))?;
        for row in rows {
            let (account, code) = row.map_err(|e| self.err(e))?;
            if crate::rules::explain(&code).is_none() {
                return Err(StateError::Corrupt {
                    path: self.path.clone(),
                    what: format!("the code accepted for {account}"),
                    message: format!("unknown finding code {code:?}"),
                });
            }
            out.entry(account).or_default().insert(code);
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepted_codes_round_trip_and_a_read_only_state_without_the_table_reads_empty() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.sqlite3");
        {
            let mut st = State::open(&path).unwrap();
            assert!(st.accepted().unwrap().is_empty());
            assert!(st.accept("Fabrikam.com", "R104", Some("draft.eml")).unwrap());
            assert!(!st.accept("fabrikam.com", "R104", None).unwrap(), "already accepted");
            st.accept("contoso.com", "M201", None).unwrap();
        }
        let ro = State::open_read_only(&path).unwrap();
        let acc = ro.accepted().unwrap();
        assert_eq!(acc["fabrikam.com"], BTreeSet::from(["R104".to_string()]));
        assert_eq!(acc.len(), 2);
        // A state written before the table existed: reading it finds nothing accepted.
        drop(ro);
        let conn = rusqlite::Connection::open(&path).unwrap();
        conn.execute_batch("DROP TABLE accepted").unwrap();
        drop(conn);
        assert!(State::open_read_only(&path).unwrap().accepted().unwrap().is_empty());
        // The next writer adds it back.
        let st = State::open(&path).unwrap();
        assert!(st.accepted().unwrap().is_empty());
    }
}
