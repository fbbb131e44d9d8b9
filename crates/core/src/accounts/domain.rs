//! Which customer account a recipient belongs to: a mapping file first (CRM export), then our own
//! domains (internal, not customers), then free-mail providers (one account per person), then the
//! registrable domain (public-suffix aware, from the list compiled into the `psl` crate: nothing is
//! downloaded at run time).
use std::collections::{BTreeMap, BTreeSet};

use super::mapping::Mapping;

/// The registrable domain of a host name: `a.b.co.uk` → `b.co.uk`, `mail.acme.com` → `acme.com`.
/// A name that is itself a public suffix, or has a single label, is returned as is (lower-cased,
/// without a trailing dot).
pub fn registrable_domain(host: &str) -> String {
    let host = host.trim().trim_end_matches('.').to_ascii_lowercase();
    match psl::domain_str(&host) {
        Some(d) => d.to_string(),
        None => host,
    }
}

/// The domain part of an address (after the last `@`), lower-cased.
pub fn domain_of(address: &str) -> Option<&str> {
    let (_, d) = address.rsplit_once('@')?;
    let d = d.trim().trim_end_matches(['>', '.']);
    (!d.is_empty() && d.contains(|c: char| c.is_ascii_alphanumeric())).then_some(d)
}

/// Free-mail and consumer ISP mailboxes: an address there is a person, not a company.
const FREE_MAIL: &[&str] = &[
    "gmail.com", "googlemail.com", "outlook.com", "hotmail.com", "live.com", "msn.com", "passport.com", "yahoo.com",
    "ymail.com", "rocketmail.com", "icloud.com", "me.com", "mac.com", "aol.com", "aim.com", "gmx.com", "gmx.net",
    "gmx.de", "gmx.at", "gmx.ch", "web.de", "freenet.de", "t-online.de", "proton.me", "pm.me", "protonmail.com",
    "protonmail.ch", "tutanota.com", "tuta.io", "fastmail.com", "fastmail.fm", "hushmail.com", "mail.com", "zoho.com",
    "yandex.com", "yandex.ru", "mail.ru", "qq.com", "163.com", "126.com", "naver.com", "hey.com", "orange.fr",
    "wanadoo.fr", "free.fr", "laposte.net", "libero.it", "btinternet.com", "sky.com", "virginmedia.com", "ntlworld.com",
    "comcast.net", "verizon.net", "att.net", "sbcglobal.net", "bellsouth.net", "cox.net", "charter.net", "earthlink.net",
    "juno.com", "netzero.net", "netzero.com", "prodigy.net", "mindspring.com", "rr.com", "alltel.net", "home.com",
    "excite.com", "lycos.com", "usa.net", "myairmail.com", "surffree.com", "flash.net", "centurytel.net",
    "attbi.com", "cs.com", "compuserve.com", "swbell.net", "pacbell.net", "ameritech.net", "snet.net", "ev1.net", "pdq.net",
    "netscape.net", "optonline.net", "frontiernet.net", "windstream.net", "bigpond.com", "shaw.ca", "rogers.com",
    "sympatico.ca",
];

/// Providers with a domain per country (`yahoo.co.uk`, `hotmail.fr`, `gmx.ch`...): free mail
/// whatever the suffix.
const FREE_MAIL_FAMILIES: &[&str] = &["gmail", "googlemail", "yahoo", "hotmail", "outlook", "live", "aol", "gmx", "yandex"];

/// Whether a registrable domain is a free-mail or consumer ISP domain.
pub fn is_free_mail(registrable: &str) -> bool {
    if FREE_MAIL.contains(&registrable) {
        return true;
    }
    let first = registrable.split('.').next().unwrap_or("");
    FREE_MAIL_FAMILIES.contains(&first) && psl::suffix_str(registrable).is_some_and(|s| s.len() + first.len() + 1 == registrable.len())
}

/// What kind of account an address was put in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AccountKind {
    /// Named by the mapping file.
    Mapped,
    /// A company: every address of one registrable domain.
    Domain,
    /// One person at a free-mail provider.
    Person,
}

/// Where an address goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Resolution {
    Internal,
    Account { key: String, kind: AccountKind },
    /// Not an address (no domain): left out and counted.
    Unaddressable,
}

/// Our own side: domains and addresses that are internal, not customers.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct Internal {
    /// Registrable domains.
    pub domains: BTreeSet<String>,
    /// Individual addresses (senders at free-mail providers, `--our-domain` given as an address).
    pub addresses: BTreeSet<String>,
    /// True when inferred from the senders rather than given with `--our-domain`.
    pub inferred: bool,
}

impl Internal {
    /// From `--our-domain` values: a domain (any host under it is ours) or a whole address.
    pub fn given(values: &[String]) -> Self {
        let mut me = Internal::default();
        for v in values {
            let v = v.trim().to_ascii_lowercase();
            if v.contains('@') {
                me.addresses.insert(v);
            } else if !v.is_empty() {
                me.domains.insert(registrable_domain(v.trim_start_matches("*.")));
            }
        }
        me
    }

    /// From the senders of the audited mail: their registrable domains, except free-mail
    /// domains, where only the sending address itself is ours.
    pub fn inferred<'a>(senders: impl IntoIterator<Item = &'a str>) -> Self {
        let mut me = Internal { inferred: true, ..Default::default() };
        for s in senders {
            let s = s.trim().to_ascii_lowercase();
            match domain_of(&s).map(registrable_domain) {
                Some(d) if is_free_mail(&d) => {
                    me.addresses.insert(s);
                }
                Some(d) => {
                    me.domains.insert(d);
                }
                None => {}
            }
        }
        me
    }

    pub fn contains(&self, address: &str, registrable: &str) -> bool {
        self.addresses.contains(address) || self.domains.contains(registrable)
    }
}

/// Resolves recipients to accounts. Precedence: the mapping file (addresses, then the longest
/// matching domain), then internal, then free mail (per address), then the registrable domain.
#[derive(Debug, Clone, Default)]
pub struct Resolver {
    pub mapping: Mapping,
    pub internal: Internal,
}

impl Resolver {
    pub fn resolve(&self, address: &str) -> Resolution {
        let address = address.trim().to_ascii_lowercase();
        let Some(domain) = domain_of(&address) else {
            return match self.mapping.addresses.get(&address) {
                Some(name) => Resolution::Account { key: name.clone(), kind: AccountKind::Mapped },
                None => Resolution::Unaddressable,
            };
        };
        if let Some(name) = self.mapping.account_for(&address, domain) {
            return Resolution::Account { key: name.to_string(), kind: AccountKind::Mapped };
        }
        let reg = registrable_domain(domain);
        if self.internal.contains(&address, &reg) {
            return Resolution::Internal;
        }
        if is_free_mail(&reg) {
            return Resolution::Account { key: address, kind: AccountKind::Person };
        }
        Resolution::Account { key: reg, kind: AccountKind::Domain }
    }

    /// Find an account by what a call log calls it: an address, a mapped name, or an account key
    /// (domain), case-insensitively.
    pub fn account_named<'a>(&self, name: &str, known: &'a BTreeMap<String, AccountKind>) -> Option<(&'a String, AccountKind)> {
        let n = name.trim();
        known
            .iter()
            .find(|(k, _)| k.as_str() == n)
            .or_else(|| known.iter().find(|(k, _)| k.eq_ignore_ascii_case(n)))
            .map(|(k, kind)| (k, *kind))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registrable_domains_are_public_suffix_aware() {
        assert_eq!(registrable_domain("a.b.co.uk"), "b.co.uk");
        assert_eq!(registrable_domain("harborlight.co.uk"), "harborlight.co.uk");
        assert_eq!(registrable_domain("Mail.ACME-robotics.com."), "acme-robotics.com");
        assert_eq!(registrable_domain("ees.enron.com"), "enron.com");
        assert_eq!(registrable_domain("austin.rr.com"), "rr.com");
        assert_eq!(registrable_domain("x.y.example.com.au"), "example.com.au");
        assert_eq!(registrable_domain("co.uk"), "co.uk", "a bare suffix stays as is");
        assert_eq!(registrable_domain("localhost"), "localhost");
    }

    #[test]
    fn free_mail_is_per_person_even_with_a_country_suffix() {
        for d in ["gmail.com", "googlemail.com", "yahoo.co.uk", "hotmail.fr", "gmx.ch", "web.de", "proton.me", "rr.com", "outlook.com.au"] {
            assert!(is_free_mail(d), "{d}");
        }
        for d in ["acme-robotics.com", "harborlight.co.uk", "liveperson.com", "yahoocorp.example", "gmx-consulting.de"] {
            assert!(!is_free_mail(d), "{d}");
        }
    }

    #[test]
    fn resolution_order() {
        let mapping = Mapping::parse_csv(
            "account,domain_or_address\nAcme Group,acme-robotics.com\nAcme Group,acme.de\nVIP Sophie,sophie@gmail.com\nUK Ops,uk.bigco.com\n",
            "map.csv",
        )
        .unwrap();
        let r = Resolver { mapping, internal: Internal::inferred(["dana@northwind-supply.com", "me@gmail.com"]) };
        let acc = |k: &str, kind| Resolution::Account { key: k.to_string(), kind };
        assert_eq!(r.resolve("Priya@Acme-Robotics.com"), acc("Acme Group", AccountKind::Mapped));
        assert_eq!(r.resolve("tom@eu.acme.de"), acc("Acme Group", AccountKind::Mapped), "a mapped domain covers its hosts");
        assert_eq!(r.resolve("sophie@gmail.com"), acc("VIP Sophie", AccountKind::Mapped));
        assert_eq!(r.resolve("ann@gmail.com"), acc("ann@gmail.com", AccountKind::Person));
        assert_eq!(r.resolve("me@gmail.com"), Resolution::Internal, "our free-mail sender is internal, gmail is not");
        assert_eq!(r.resolve("orders@mail.northwind-supply.com"), Resolution::Internal);
        assert_eq!(r.resolve("ken@harborlight.co.uk"), acc("harborlight.co.uk", AccountKind::Domain));
        assert_eq!(r.resolve("a@ops.uk.bigco.com"), acc("UK Ops", AccountKind::Mapped));
        assert_eq!(r.resolve("a@us.bigco.com"), acc("bigco.com", AccountKind::Domain), "only the mapped subdomain is UK Ops");
        assert_eq!(r.resolve("Tim Belden"), Resolution::Unaddressable);
    }

    #[test]
    fn given_internal_domains_and_addresses() {
        let i = Internal::given(&["mail.northwind-supply.com".into(), "Boss@Gmail.com".into()]);
        assert!(i.domains.contains("northwind-supply.com"));
        assert!(i.addresses.contains("boss@gmail.com"));
        assert!(!i.inferred);
    }
}
