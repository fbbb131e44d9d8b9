//! The mapping file (`--map FILE`): which domains and addresses make up an account, so that a
//! CRM export can name the accounts. Two formats:
//!
//! CSV, one `account,domain_or_address` row per line (a header row starting with `account` is
//! skipped; `#` starts a comment line):
//!
//! ```csv
//! account,domain_or_address
//! Acme Group,acme-robotics.com
//! Acme Group,acme.de
//! Sophie's Bakery,sophie.laurent@gmail.com
//! ```
//!
//! TOML:
//!
//! ```toml
//! [[account]]
//! name = "Acme Group"
//! domains = ["acme-robotics.com", "acme.de"]
//! addresses = ["buyer@gmail.com"]
//! ```
//!
//! A domain covers its subdomains (`acme.de` maps `eu.acme.de`); the most specific entry wins,
//! and an address entry beats any domain entry. The same domain or address given to two accounts
//! is an error.
//!
//! The file also forces addresses in or out of the customers: a mapped address is a customer
//! whatever the mail says (even one that looks like our own or an automated one), and the
//! account name `-` (CSV) or an `[[exclude]]` table (TOML, with `domains` and `addresses`)
//! excludes them (`excluded[].reason: "mapped"`).
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use super::AccountsError;

#[derive(Debug, Clone, Default)]
pub struct Mapping {
    /// Lower-cased address → account name.
    pub addresses: BTreeMap<String, String>,
    /// Lower-cased domain → account name.
    pub domains: BTreeMap<String, String>,
    /// Every account name the file defines.
    pub names: BTreeSet<String>,
}

/// The account name that excludes what it maps.
pub const EXCLUDE: &str = "-";

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct TomlFile {
    #[serde(default)]
    account: Vec<TomlAccount>,
    #[serde(default)]
    exclude: Vec<TomlExclude>,
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct TomlExclude {
    #[serde(default)]
    domains: Vec<String>,
    #[serde(default)]
    addresses: Vec<String>,
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct TomlAccount {
    name: String,
    #[serde(default)]
    domains: Vec<String>,
    #[serde(default)]
    addresses: Vec<String>,
}

impl Mapping {
    /// Read a mapping file: TOML when it ends in `.toml` (or starts with `[[account]]`), CSV otherwise.
    pub fn load(path: &Path) -> Result<Self, AccountsError> {
        let text = std::fs::read_to_string(path).map_err(|source| AccountsError::Read {
            what: "the mapping file",
            path: path.to_path_buf(),
            source,
        })?;
        let label = path.display().to_string();
        let is_toml = path.extension().is_some_and(|e| e.eq_ignore_ascii_case("toml"))
            || text.lines().map(str::trim).find(|l| !l.is_empty() && !l.starts_with('#')).is_some_and(|l| l.starts_with("[[account]]"));
        if is_toml {
            Self::parse_toml(&text, &label)
        } else {
            Self::parse_csv(&text, &label)
        }
    }

    pub fn parse_csv(text: &str, label: &str) -> Result<Self, AccountsError> {
        let records = super::csv::parse(text).map_err(|(line, message)| AccountsError::Input {
            path: label.to_string(),
            line,
            message,
        })?;
        let mut m = Mapping::default();
        for (i, r) in records.iter().enumerate() {
            if i == 0 && r.fields.first().is_some_and(|f| f.eq_ignore_ascii_case("account")) {
                continue;
            }
            let bad = |message: String| AccountsError::Input { path: label.to_string(), line: r.line, message };
            if r.fields.len() != 2 {
                return Err(bad(format!(
                    "expected 2 fields (account,domain_or_address), found {}. Quote account names that contain a comma",
                    r.fields.len()
                )));
            }
            m.add(&r.fields[0], &r.fields[1]).map_err(bad)?;
        }
        Ok(m)
    }

    pub fn parse_toml(text: &str, label: &str) -> Result<Self, AccountsError> {
        let file: TomlFile = toml::from_str(text).map_err(|e| AccountsError::File {
            path: label.to_string(),
            message: format!(
                "not a valid mapping file: {}. Expected [[account]] tables with name, domains and addresses (and [[exclude]] tables with domains and addresses)",
                e.message()
            ),
        })?;
        let mut m = Mapping::default();
        let excluded = file.exclude.iter().map(|e| TomlAccount { name: EXCLUDE.into(), domains: e.domains.clone(), addresses: e.addresses.clone() });
        let accounts: Vec<TomlAccount> = file.account.into_iter().chain(excluded).collect();
        for a in &accounts {
            let bad = |message: String| AccountsError::File {
                path: label.to_string(),
                message: if a.name == EXCLUDE { format!("[[exclude]]: {message}") } else { format!("account {:?}: {message}", a.name) },
            };
            if a.domains.is_empty() && a.addresses.is_empty() {
                return Err(bad("it has neither domains nor addresses".into()));
            }
            for d in &a.domains {
                if d.contains('@') && !d.starts_with('@') {
                    return Err(bad(format!("{d:?} is an address: put it under addresses")));
                }
                m.add(&a.name, d).map_err(bad)?;
            }
            for addr in &a.addresses {
                if !addr.contains('@') {
                    return Err(bad(format!("{addr:?} is not an address: put domains under domains")));
                }
                m.add(&a.name, addr).map_err(bad)?;
            }
        }
        Ok(m)
    }

    fn add(&mut self, account: &str, target: &str) -> Result<(), String> {
        let name = account.trim();
        if name.is_empty() {
            return Err("the account name is empty".into());
        }
        let t = target.trim().to_ascii_lowercase();
        let (map, key) = if let Some(d) = t.strip_prefix('@').or_else(|| t.strip_prefix("*.")) {
            (&mut self.domains, d.to_string())
        } else if t.contains('@') {
            (&mut self.addresses, t)
        } else {
            (&mut self.domains, t.trim_end_matches('.').to_string())
        };
        if key.is_empty() || key.contains(char::is_whitespace) {
            return Err(format!("{target:?} is neither a domain nor an address"));
        }
        match map.get(&key) {
            Some(other) if other != name => {
                return Err(format!("{key} is mapped to both {other:?} and {name:?}; keep one"));
            }
            _ => {
                map.insert(key, name.to_string());
            }
        }
        if name != EXCLUDE {
            self.names.insert(name.to_string());
        }
        Ok(())
    }

    /// Whether the file excludes this address (the account name `-`, or `[[exclude]]`).
    pub fn excludes(&self, address: &str, domain: &str) -> bool {
        self.lookup(address, domain) == Some(EXCLUDE)
    }

    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }

    /// The account of an address: its own entry, else the most specific domain entry covering
    /// its domain.
    pub fn account_for(&self, address: &str, domain: &str) -> Option<&str> {
        self.lookup(address, domain).filter(|n| *n != EXCLUDE)
    }

    fn lookup(&self, address: &str, domain: &str) -> Option<&str> {
        if let Some(n) = self.addresses.get(address) {
            return Some(n);
        }
        let mut d = domain;
        loop {
            if let Some(n) = self.domains.get(d) {
                return Some(n);
            }
            d = d.split_once('.')?.1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_and_toml_give_the_same_mapping() {
        let csv = Mapping::parse_csv("account,domain_or_address\nAcme,acme.com\nAcme,@acme.de\n\"Bakery, Ltd\",Sophie@Gmail.com\n", "m.csv").unwrap();
        let toml = Mapping::parse_toml(
            "[[account]]\nname = \"Acme\"\ndomains = [\"acme.com\", \"*.acme.de\"]\n[[account]]\nname = \"Bakery, Ltd\"\naddresses = [\"sophie@gmail.com\"]\n",
            "m.toml",
        )
        .unwrap();
        for m in [&csv, &toml] {
            assert_eq!(m.account_for("x@sales.acme.de", "sales.acme.de"), Some("Acme"));
            assert_eq!(m.account_for("sophie@gmail.com", "gmail.com"), Some("Bakery, Ltd"));
            assert_eq!(m.account_for("other@gmail.com", "gmail.com"), None);
        }
        assert_eq!(csv.domains, toml.domains);
        assert_eq!(csv.addresses, toml.addresses);
    }

    #[test]
    fn forcing_out() {
        let csv = Mapping::parse_csv("account,domain_or_address\nAcme,acme.com\n-,noreply@acme.com\n-,family.example\n", "m.csv").unwrap();
        let toml = Mapping::parse_toml(
            "[[account]]\nname = \"Acme\"\ndomains = [\"acme.com\"]\n[[exclude]]\naddresses = [\"noreply@acme.com\"]\ndomains = [\"family.example\"]\n",
            "m.toml",
        )
        .unwrap();
        for m in [&csv, &toml] {
            assert!(m.excludes("noreply@acme.com", "acme.com"));
            assert_eq!(m.account_for("noreply@acme.com", "acme.com"), None);
            assert_eq!(m.account_for("ann@acme.com", "acme.com"), Some("Acme"));
            assert!(m.excludes("mum@family.example", "family.example"));
            assert_eq!(m.names.iter().collect::<Vec<_>>(), ["Acme"]);
        }
    }

    #[test]
    fn errors_name_the_file_and_line() {
        let e = Mapping::parse_csv("Acme,acme.com\nOther,ACME.com\n", "crm.csv").unwrap_err().to_string();
        assert!(e.starts_with("crm.csv:2:") && e.contains("mapped to both"), "{e}");
        let e = Mapping::parse_csv("Acme\n", "crm.csv").unwrap_err().to_string();
        assert!(e.contains("crm.csv:1:") && e.contains("expected 2 fields"), "{e}");
        let e = Mapping::parse_toml("[[account]]\nname = \"A\"\ndomain = [\"a.com\"]\n", "m.toml").unwrap_err().to_string();
        assert!(e.contains("m.toml") && e.contains("not a valid mapping file"), "{e}");
        let e = Mapping::parse_toml("[[account]]\nname = \"A\"\ndomains = [\"x@a.com\"]\n", "m.toml").unwrap_err().to_string();
        assert!(e.contains("put it under addresses"), "{e}");
    }
}
