//! Which account a draft goes to, and how harsh your past mail to it was.
//!
//! Accounts come from the accounts report ([`crate::accounts::build`]); a draft belongs to the
//! account of its first recipient that the report knows, by address (`contacts`), else by domain
//! (`domains`, matched on the recipient's host and each parent domain of it, so `eu.fabrikam.com`
//! finds `fabrikam.com`). Our own addresses are never a customer's.
use std::collections::HashMap;

use crate::accounts::{Account, Report};
use crate::state::StoredMessage;

/// Looks recipients up in a report's accounts.
pub struct AccountIndex<'r> {
    accounts: &'r [Account],
    by_address: HashMap<&'r str, usize>,
    by_domain: HashMap<&'r str, usize>,
}

/// The registrable domain of a host (`mail.eu.fabrikam.com` → `fabrikam.com`).
pub fn registrable(host: &str) -> String {
    psl::domain_str(host).unwrap_or(host).to_string()
}

/// The lower-cased host of an address.
pub fn host(address: &str) -> Option<String> {
    let (_, h) = address.rsplit_once('@')?;
    let h = h.trim().trim_end_matches(['>', '.']).to_ascii_lowercase();
    (!h.is_empty()).then_some(h)
}

impl<'r> AccountIndex<'r> {
    pub fn new(report: &'r Report) -> Self {
        let mut by_address = HashMap::new();
        let mut by_domain = HashMap::new();
        for (i, a) in report.accounts.iter().enumerate() {
            for c in &a.contacts {
                by_address.entry(c.as_str()).or_insert(i);
            }
            for d in &a.domains {
                by_domain.entry(d.as_str()).or_insert(i);
            }
        }
        AccountIndex { accounts: &report.accounts, by_address, by_domain }
    }

    /// The account of one address: by the address, else by its host or a parent domain of it.
    pub fn of_address(&self, address: &str) -> Option<&'r Account> {
        let address = address.trim().to_ascii_lowercase();
        if let Some(&i) = self.by_address.get(address.as_str()) {
            return Some(&self.accounts[i]);
        }
        let h = host(&address)?;
        let mut d = h.as_str();
        loop {
            if let Some(&i) = self.by_domain.get(d) {
                return Some(&self.accounts[i]);
            }
            d = d.split_once('.')?.1;
        }
    }

    /// The account of a message to `recipients` from `sender`: the first recipient's that is known
    /// (the sender's own address is skipped), by address first.
    pub fn of_recipients<'a>(&self, recipients: impl IntoIterator<Item = &'a str> + Clone, sender: Option<&str>) -> Option<&'r Account> {
        let not_sender = |r: &&str| sender.is_none_or(|s| !s.eq_ignore_ascii_case(r.trim()));
        let exact = recipients
            .clone()
            .into_iter()
            .filter(not_sender)
            .find_map(|r| self.by_address.get(r.trim().to_ascii_lowercase().as_str()).map(|&i| &self.accounts[i]));
        exact.or_else(|| recipients.into_iter().filter(not_sender).find_map(|r| self.of_address(r)))
    }
}

/// An account name for recipients the state does not know yet: the registrable domain of the
/// first recipient outside the sender's own domain (`--accept` needs a name to record).
pub fn fallback_name<'a>(recipients: impl IntoIterator<Item = &'a str>, sender: Option<&str>) -> Option<String> {
    let own = sender.and_then(host).map(|h| registrable(&h));
    let mut first = None;
    for r in recipients {
        let Some(h) = host(r) else { continue };
        let d = registrable(&h);
        if own.as_deref() != Some(d.as_str()) {
            return Some(d);
        }
        first.get_or_insert(d);
    }
    first
}

/// What your own audited mail to one account looked like.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Usual {
    /// Messages with a verdict.
    pub count: usize,
    /// The 95th percentile of their risk (nearest rank).
    pub p95: f32,
}

/// The risk of your sent mail to `account`, other than the draft itself (`draft_id`).
pub fn usual(messages: &[StoredMessage], index: &AccountIndex<'_>, account: &Account, draft_id: Option<&str>) -> Option<Usual> {
    let mut risks: Vec<f32> = messages
        .iter()
        .filter(|m| m.is_sent())
        .filter(|m| draft_id.is_none() || m.message_id.as_deref() != draft_id)
        .filter_map(|m| {
            let v = m.verdict.as_ref()?;
            let a = index.of_recipients(m.recipients.iter().map(String::as_str), m.sender.as_deref())?;
            (a.account == account.account).then_some(v.risk)
        })
        .collect();
    if risks.is_empty() {
        return None;
    }
    risks.sort_by(f32::total_cmp);
    let rank = ((0.95 * risks.len() as f64).ceil() as usize).clamp(1, risks.len());
    Some(Usual { count: risks.len(), p95: risks[rank - 1] })
}
