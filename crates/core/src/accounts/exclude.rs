//! Who is a customer. Every external address we wrote to or heard from is a customer contact
//! unless one of these says otherwise (in this order; the first that applies is its reason):
//!
//! 1. the mapping file excludes it (`-` as the account name), or maps it (then it is a customer,
//!    whatever follows);
//! 2. **our own** other address: the Reply-To of our mail; a free-mail address whose name part
//!    holds the first and last name of one of our senders (`harrysarora@yahoo.com` for
//!    harry.arora@…, `pallen70@hotmail.com` for phillip.allen@…), or whose mail to us carries the
//!    display name of one of our senders; an address that forwards our own mail back to us;
//! 3. **family**: a free-mail address whose name part holds the surname of one of our senders
//!    (not the first name), or that our mail greets as family ("Hey Mom and Dad,");
//! 4. **lists and automated** senders or recipients: an address whose name part says so
//!    (noreply, notifications, unsubscribe, mailer-daemon…), or whose every message is list or
//!    automated mail (`List-Id`, `List-Unsubscribe`, `Precedence: bulk/list/junk`,
//!    `Auto-Submitted`), or the list address such mail was sent to;
//! 5. **mass mail**: an address that only ever got messages with more than N external recipients;
//! 6. **bare forwards**: a free-mail address that only ever got (or sent) bare forwards, two or
//!    more, and no other mail.
//!
//! Accounts below the minimum of evidence (`--min-messages`) are excluded by [`super::build`].
use std::collections::{BTreeMap, BTreeSet, HashSet};

use once_cell::sync::Lazy;
use regex::Regex;

use super::domain::AccountKind;
use super::model::Exclusion;
use super::Message;

/// Our side, as the mail shows it.
#[derive(Debug, Clone, Default)]
pub struct Ours {
    /// The senders of our mail (lower-case).
    pub senders: BTreeSet<String>,
    /// (first name, last name, the sender it comes from), lower-case letters only.
    pub names: Vec<(String, String, String)>,
    /// Reply-To addresses of our mail (other than its sender) → the sender.
    pub reply_to: BTreeMap<String, String>,
    /// Message-IDs of our mail (without angle brackets).
    pub sent_ids: HashSet<String>,
}

/// A Message-ID without its angle brackets and spaces.
pub fn bare_id(id: &str) -> &str {
    id.trim().trim_matches(['<', '>'])
}

/// Letters only, lower-case: `Harry.S_Arora70` → `harrysarora`.
pub fn letters(s: &str) -> String {
    s.chars().filter(|c| c.is_alphabetic()).flat_map(char::to_lowercase).collect()
}

fn tokens(s: &str) -> Vec<String> {
    s.split(|c: char| !c.is_alphabetic()).filter(|t| t.chars().count() >= 2).map(|t| t.to_lowercase()).collect()
}

/// (first, last) from a display name: "Arora, Harry" or "Harry S. Arora".
pub fn name_of_display(display: &str) -> Option<(String, String)> {
    let display = display.trim().trim_matches(['"', '\'']);
    if let Some((last, first)) = display.split_once(',') {
        let (l, f) = (tokens(last), tokens(first));
        return Some((f.first()?.clone(), l.last()?.clone()));
    }
    let t = tokens(display);
    (t.len() >= 2).then(|| (t[0].clone(), t[t.len() - 1].clone()))
}

/// (first, last) from an address's name part: `harry.arora`, `harry_arora`, `harry-arora`.
pub fn name_of_local(address: &str) -> Option<(String, String)> {
    let local = address.split('@').next()?;
    let t = tokens(local);
    (t.len() >= 2).then(|| (t[0].clone(), t[t.len() - 1].clone()))
}

impl Ours {
    /// From the mail we sent (`sent` says which messages are ours).
    pub fn from_messages<'a>(msgs: impl IntoIterator<Item = &'a Message>, internal: impl Fn(&str) -> bool) -> Self {
        let mut o = Ours::default();
        let mut names: BTreeSet<(String, String, String)> = BTreeSet::new();
        for m in msgs {
            let Some(sender) = m.sender.as_deref().map(|s| s.trim().to_ascii_lowercase()) else { continue };
            if !(m.is_sent() || internal(&sender)) {
                continue;
            }
            if let Some(id) = &m.message_id {
                o.sent_ids.insert(bare_id(id).to_string());
            }
            for (f, l) in m.sender_name.as_deref().and_then(name_of_display).into_iter().chain(name_of_local(&sender)) {
                names.insert((f, l, sender.clone()));
            }
            for r in &m.reply_to {
                let r = r.trim().to_ascii_lowercase();
                if r != sender && r.contains('@') {
                    o.reply_to.entry(r).or_insert_with(|| sender.clone());
                }
            }
            o.senders.insert(sender);
        }
        o.names = names.into_iter().collect();
        o
    }

    /// Whether a name part (letters only) is one of our senders' (own) or holds one's surname
    /// (family): `Some((true, sender))` own, `Some((false, sender))` family.
    pub fn name_match(&self, local_letters: &str) -> Option<(bool, &str)> {
        let mut family = None;
        for (first, last, sender) in &self.names {
            if last.chars().count() < 3 || !local_letters.contains(last.as_str()) {
                continue;
            }
            let initial: String = first.chars().take(1).collect();
            let own = (first.chars().count() >= 3 && local_letters.contains(first.as_str()))
                || local_letters.starts_with(&format!("{initial}{last}"))
                || local_letters.starts_with(&format!("{last}{initial}"));
            if own {
                return Some((true, sender));
            }
            if last.chars().count() >= 4 && family.is_none() {
                family = Some((false, sender.as_str()));
            }
        }
        family
    }

    /// Whether a display name is one of our senders' names.
    pub fn display_match(&self, display: &str) -> Option<&str> {
        let (f, l) = name_of_display(display)?;
        self.names.iter().find(|(first, last, _)| *first == f && *last == l).map(|(_, _, s)| s.as_str())
    }
}

/// Name parts of automated addresses.
static AUTOMATED: Lazy<Regex> = Lazy::new(|| {
    Regex::new(
        r"(?ix)
        ^(?:no-?reply|do-?not-?reply|donotreply|notifications?|notify|alerts?|mailer-daemon|postmaster|bounces?|listserv|majordomo
           |newsletters?|news|unsubscribe|mailman|auto-?confirm|auto-?reply)$
        | ^(?:unsub|unsubscribe|remove|bounces?|bounced|noreply|no-reply|owner|return)[-_.+=]
        | unsubscribe
        | [-_.+](?:request|bounces?|owner|unsubscribe|noreply)$",
    )
    .unwrap()
});

/// Whether an address's name part says it is a machine (noreply, notifications, unsubscribe...).
pub fn automated_address(address: &str) -> bool {
    address.split('@').next().is_some_and(|local| AUTOMATED.is_match(local))
}

/// What the mail shows about one external address.
#[derive(Debug, Clone, Default)]
pub struct AddressFacts {
    pub key: String,
    pub kind: Option<AccountKind>,
    /// Messages that count (not mass mail, not automated), with it as a party.
    pub counted: usize,
    /// Of them: ours to it, and its to us.
    pub sent_to: usize,
    pub received_from: usize,
    /// Of them: bare forwards (either way).
    pub bare_forwards: usize,
    /// Mass mail it was in.
    pub mass: usize,
    /// List or automated mail from it or to it, with the first reason.
    pub automated: usize,
    pub list_reason: Option<String>,
    /// It is the list address of list mail we received.
    pub list_address: Option<String>,
    /// A message of ours to it greets family ("Hey Dad"), with that message's subject.
    pub family_greeting: Option<String>,
    /// Its mail to us carries one of our senders' display names: that sender.
    pub display_name_of: Option<String>,
    /// It forwarded our own mail back to us (a bare forward referencing our Message-ID).
    pub forwards_back: bool,
}

impl AddressFacts {
    /// Messages with it, counted or not.
    pub fn messages(&self) -> usize {
        self.counted + self.mass + self.automated
    }
}

/// Whether (and why) an address is not a customer. `mapped`: the mapping file maps it (a
/// customer, whatever the mail says).
pub fn classify(address: &str, f: &AddressFacts, ours: &Ours, mapped: bool, mass_limit: usize) -> Option<(Exclusion, String)> {
    if mapped {
        return None;
    }
    let person = f.kind == Some(AccountKind::Person);
    let local = letters(address.split('@').next().unwrap_or(""));
    if let Some(sender) = ours.reply_to.get(address) {
        return Some((Exclusion::OwnAddress, format!("the Reply-To of our mail from {sender}")));
    }
    let name = if person { ours.name_match(&local) } else { None };
    if let Some((true, sender)) = name {
        return Some((Exclusion::OwnAddress, format!("a free-mail address with the name of our sender {sender}")));
    }
    if let Some(sender) = f.display_name_of.as_deref().filter(|_| person) {
        return Some((Exclusion::OwnAddress, format!("its mail to us carries the name of our sender {sender}")));
    }
    if f.forwards_back {
        return Some((Exclusion::OwnAddress, "it forwards our own mail back to us".into()));
    }
    if let Some((false, sender)) = name {
        return Some((Exclusion::Family, format!("a free-mail address with the surname of our sender {sender}")));
    }
    if let Some(subject) = &f.family_greeting {
        return Some((Exclusion::Family, format!("our mail greets it as family ({subject})")));
    }
    if automated_address(address) {
        return Some((Exclusion::Automated, "an automated address (noreply, notifications, unsubscribe…)".into()));
    }
    if let Some(list) = &f.list_address {
        return Some((Exclusion::Automated, format!("the address list mail was sent to ({list})")));
    }
    if f.counted == 0 && f.automated > 0 {
        let why = f.list_reason.clone().unwrap_or_else(|| "list or automated mail".into());
        return Some((Exclusion::Automated, format!("only list or automated mail: {why}")));
    }
    if f.counted == 0 && f.mass > 0 {
        return Some((Exclusion::MassMail, format!("only in mass mail (to more than {mass_limit} external recipients)")));
    }
    if person && f.counted >= 2 && f.bare_forwards == f.counted {
        return Some((Exclusion::ForwardOnly, "every message with it is a bare forward of other mail".into()));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ours() -> Ours {
        let m = |sender: &str, name: Option<&str>, reply_to: &[&str]| Message {
            sender: Some(sender.into()),
            sender_name: name.map(str::to_string),
            reply_to: reply_to.iter().map(|s| s.to_string()).collect(),
            message_id: Some(format!("<{sender}-1>")),
            ..Default::default()
        };
        let msgs = [
            m("harry.arora@enron.com", None, &[]),
            m("phillip.allen@enron.com", None, &[]),
            m("barry.tycholiz@enron.com", None, &[]),
            m("dana@northwind-supply.com", Some("Dana Whitfield"), &["dana.whitfield@gmail.com"]),
        ];
        Ours::from_messages(&msgs, |_| false)
    }

    #[test]
    fn names_from_display_names_and_addresses() {
        assert_eq!(name_of_display("Arora, Harry"), Some(("harry".into(), "arora".into())));
        assert_eq!(name_of_display("Harry S. Arora"), Some(("harry".into(), "arora".into())));
        assert_eq!(name_of_display("Dana"), None);
        assert_eq!(name_of_local("harry.arora@enron.com"), Some(("harry".into(), "arora".into())));
        assert_eq!(name_of_local("dana@x.com"), None);
        assert_eq!(letters("Harry.S_Arora70"), "harrysarora");
    }

    #[test]
    fn own_addresses_and_family() {
        let o = ours();
        let facts = AddressFacts { kind: Some(AccountKind::Person), counted: 3, sent_to: 3, ..Default::default() };
        let why = |a: &str| classify(a, &facts, &o, false, 10).map(|(e, _)| e);
        assert_eq!(why("harrysarora@yahoo.com"), Some(Exclusion::OwnAddress), "first and last name");
        assert_eq!(why("pallen70@hotmail.com"), Some(Exclusion::OwnAddress), "initial and last name");
        assert_eq!(why("ktycholiz@houston.rr.com"), Some(Exclusion::Family), "the surname only");
        assert_eq!(why("dana.whitfield@gmail.com"), Some(Exclusion::OwnAddress), "our Reply-To");
        assert_eq!(why("sophie.laurent@gmail.com"), None);
        let company = AddressFacts { kind: Some(AccountKind::Domain), ..facts.clone() };
        assert_eq!(classify("harry.arora@acme.com", &company, &o, false, 10), None, "names count at free-mail providers only");
        assert_eq!(classify("harrysarora@yahoo.com", &facts, &o, true, 10), None, "the mapping file forces it in");
    }

    #[test]
    fn automated_mass_and_forwards() {
        let o = Ours::default();
        for a in ["noreply@x.com", "no-reply@x.com", "unsubscribe_from_entertainment@enews.buy.com", "remove-2apb5h3@adm.chtah.com", "unsub-11-7@mta04.optamail.com", "mailer-daemon@x.com", "devs-request@lists.x.org", "notifications@github.com"] {
            assert!(automated_address(a), "{a}");
        }
        for a in ["ken@harborlight.co.uk", "info@geoswan.com", "newsom@x.com", "removals@movers.com"] {
            assert!(!automated_address(a), "{a}");
        }
        let mass = AddressFacts { kind: Some(AccountKind::Domain), mass: 2, ..Default::default() };
        assert_eq!(classify("a@b.com", &mass, &o, false, 10).map(|x| x.0), Some(Exclusion::MassMail));
        let both = AddressFacts { counted: 1, ..mass };
        assert_eq!(classify("a@b.com", &both, &o, false, 10), None, "real mail too: a contact");
        let fwd = AddressFacts { kind: Some(AccountKind::Person), counted: 3, sent_to: 3, bare_forwards: 3, ..Default::default() };
        assert_eq!(classify("pump@home.com", &fwd, &o, false, 10).map(|x| x.0), Some(Exclusion::ForwardOnly));
        let lists = AddressFacts { kind: Some(AccountKind::Domain), automated: 4, list_reason: Some("mailing list (List-Id x)".into()), ..Default::default() };
        assert_eq!(classify("news@x.org", &lists, &o, false, 10).map(|x| x.0), Some(Exclusion::Automated));
    }
}
