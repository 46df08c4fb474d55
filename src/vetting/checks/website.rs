//! The business's web presence: its website and social media profiles are public http(s)
//! URLs, and its representatives' email addresses are at its website's domain.

use serde::Deserialize;
use serde_json::Value;
use url::{Host, Url};

use super::contact::MAX_EMAIL;
use super::{Finding, Party, Text, businesses, json_kind, not_text, plain, representatives};
use crate::trust::rules::check_email;

/// Longest URL accepted.
const MAX_URL: usize = 2048;
/// Most social media profile URLs accepted.
const MAX_PROFILES: usize = 20;

/// Names that never reach a public host: RFC 2606 (`test`, `example`, `invalid`,
/// `localhost`), RFC 6761 (subdomains of `localhost`), RFC 6762 (`local`), RFC 7686
/// (`onion`), RFC 8375 (`home.arpa`) and ICANN's 2024 reservation of `internal`. Each
/// is rejected as a host and as the end of one.
const PRIVATE_SUFFIXES: &[&str] = &[
    "localhost",
    "local",
    "internal",
    "invalid",
    "test",
    "example",
    "onion",
    "home.arpa",
];

/// The free email providers [`EmailDomain::free_mail`] holds unless the operator says
/// otherwise.
pub const DEFAULT_FREE_MAIL: &[&str] = &[
    "gmail.com",
    "googlemail.com",
    "yahoo.com",
    "ymail.com",
    "outlook.com",
    "hotmail.com",
    "live.com",
    "msn.com",
    "aol.com",
    "icloud.com",
    "me.com",
    "mac.com",
    "proton.me",
    "pm.me",
    "protonmail.com",
    "gmx.com",
    "gmx.net",
    "mail.com",
    "yandex.com",
    "zoho.com",
];

/// The business's `website_url` is an http(s) URL of a public host name: no user name or
/// password, no IP address, a dot in the host, no private name (`localhost`, `.local`,
/// `.internal`, `.invalid`, `.test`, `.example`, …), at most 2048 characters. The same
/// holds for each of its `social_media_profile_urls` when present: a string
/// (comma-separated) or a list of strings, at most 20 URLs.
pub fn website(parties: &[Party<'_>]) -> Finding {
    let mut finding = Finding::default();
    for party in businesses(parties) {
        let reason = match party.text("website_url") {
            Text::Missing => None,
            Text::Wrong(kind) => Some(not_text(kind)),
            Text::Some(raw) => public_host(raw).err(),
        };
        if let Some(reason) = reason {
            finding.failures.push(party.failure("website_url", reason));
        }
        for reason in profile_urls(party.attributes.get("social_media_profile_urls")) {
            (finding.failures).push(party.failure("social_media_profile_urls", reason));
        }
    }
    finding
}

/// Why the social media profile URLs fail: one reason per bad URL.
fn profile_urls(value: Option<&Value>) -> Vec<String> {
    let too_many = || vec![format!("lists more than {MAX_PROFILES} URLs")];
    let urls: Vec<Result<&str, &'static str>> = match value {
        None | Some(Value::Null) => return Vec::new(),
        Some(Value::String(s)) if s.len() > MAX_PROFILES * (4 * MAX_URL + 1) => {
            return vec![format!("is longer than {MAX_PROFILES} URLs can be")];
        }
        Some(Value::String(s)) => (s.split(','))
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .take(MAX_PROFILES + 1)
            .map(Ok)
            .collect(),
        Some(Value::Array(items)) if items.len() > MAX_PROFILES => return too_many(),
        Some(Value::Array(items)) => (items.iter())
            .filter(|item| !item.as_str().is_some_and(|s| s.trim().is_empty()))
            .map(|item| item.as_str().map(str::trim).ok_or(json_kind(item)))
            .collect(),
        Some(other) => {
            return vec![format!(
                "must be text or a list of URLs, not {}",
                json_kind(other)
            )];
        }
    };
    if urls.len() > MAX_PROFILES {
        return too_many();
    }
    let total = urls.len();
    let mut reasons = Vec::new();
    for (n, url) in urls.into_iter().enumerate() {
        let reason = match url {
            Ok(url) => match public_host(url) {
                Ok(_) => continue,
                Err(reason) => reason,
            },
            Err(kind) => not_text(kind),
        };
        reasons.push(match total {
            1 => reason,
            _ => format!("URL {} {reason}", n + 1),
        });
    }
    reasons
}

/// The host of a public http(s) URL, in lower case and ASCII (an IDN host as `xn--`
/// labels), without a trailing dot; why `raw` is not such a URL, for a person.
pub(super) fn public_host(raw: &str) -> Result<String, String> {
    let raw = plain(raw.trim(), MAX_URL)?;
    if raw.contains(char::is_whitespace) {
        return Err("must not contain spaces".to_owned());
    }
    let scheme = |s: &str| {
        raw.get(..s.len())
            .is_some_and(|p| p.eq_ignore_ascii_case(s))
    };
    if !scheme("https://") && !scheme("http://") {
        return Err("must be a web address starting with https:// or http://".to_owned());
    }
    let url = Url::parse(raw).map_err(|e| format!("is not a valid URL: {e}"))?;
    if !url.username().is_empty() || url.password().is_some() {
        return Err("must not contain a user name or password".to_owned());
    }
    let host = match url.host() {
        Some(Host::Domain(host)) => host,
        Some(Host::Ipv4(_) | Host::Ipv6(_)) => {
            return Err("must name a host, not an IP address".to_owned());
        }
        None => return Err("has no host".to_owned()),
    };
    let host = host.strip_suffix('.').unwrap_or(host).to_ascii_lowercase();
    if !is_host_name(&host) {
        return Err("has a host name that is not valid".to_owned());
    }
    if !host.contains('.') {
        return Err("must name a public host, such as www.example.com".to_owned());
    }
    if let Some(suffix) = PRIVATE_SUFFIXES.iter().find(|s| same_or_under(&host, s)) {
        return Err(format!(
            "names a host under {suffix}, which is not on the public internet"
        ));
    }
    Ok(host)
}

/// Letters, digits and hyphens in dot-separated labels of 1 to 63 characters, no label
/// starting or ending with a hyphen, at most 253 characters, and a last label that is
/// not all digits.
fn is_host_name(host: &str) -> bool {
    let label_ok = |l: &str| {
        (1..=63).contains(&l.len())
            && !l.starts_with('-')
            && !l.ends_with('-')
            && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
    };
    let top_ok = host
        .rsplit('.')
        .next()
        .is_some_and(|top| !top.bytes().all(|b| b.is_ascii_digit()));
    host.len() <= 253 && host.split('.').all(label_ok) && top_ok
}

/// Whether `domain` is `parent` or a subdomain of it.
fn same_or_under(domain: &str, parent: &str) -> bool {
    match domain.strip_suffix(parent) {
        Some("") => true,
        Some(rest) => rest.ends_with('.'),
        None => false,
    }
}

/// Whether one domain is the other or a subdomain of it.
fn related(a: &str, b: &str) -> bool {
    same_or_under(a, b) || same_or_under(b, a)
}

/// `domain` without a leading `www.`, unless that leaves a single label (`www.com`).
fn without_www(domain: &str) -> &str {
    match domain.strip_prefix("www.") {
        Some(rest) if rest.contains('.') => rest,
        _ => domain,
    }
}

/// Parameters of the `email_domain` check.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EmailDomain {
    /// Free email providers: an address at one of these domains, or a subdomain of one,
    /// always fails. `None` is [`DEFAULT_FREE_MAIL`]; an empty list turns the rule off.
    #[serde(default)]
    pub free_mail: Option<Vec<String>>,
    /// Domains the operator accepts. `"group.example.com"` accepts representatives at
    /// that domain (or a subdomain) whatever the website; `"acme-mail.com=acme.com"`
    /// makes two domains equivalent, either one the email's and the other the website's.
    #[serde(default)]
    pub allow_domains: Vec<String>,
}

impl EmailDomain {
    /// Checks the parameters: every domain is a host name with a dot (letters, digits,
    /// hyphens and dots, no spaces; any case), each `allow_domains` entry is a domain or
    /// two joined by `=`, and no allowed domain is free mail.
    pub fn validate(&self) -> Result<(), String> {
        for domain in self.free_mail.iter().flatten() {
            check_domain("free_mail", domain)?;
        }
        let free = self.free_domains();
        for entry in &self.allow_domains {
            let sides = match entry.split_once('=') {
                Some((a, b)) => vec![a, b],
                None => vec![entry.as_str()],
            };
            for side in sides {
                check_domain("allow_domains", side)?;
                if let Some(f) = free
                    .iter()
                    .find(|f| same_or_under(&side.to_ascii_lowercase(), f))
                {
                    return Err(format!(
                        "allow_domains: {entry:?} allows {side}, which is free mail ({f})"
                    ));
                }
            }
        }
        Ok(())
    }

    /// The free mail domains in lower case.
    fn free_domains(&self) -> Vec<String> {
        match &self.free_mail {
            Some(list) => list.iter().map(|d| d.to_ascii_lowercase()).collect(),
            None => DEFAULT_FREE_MAIL.iter().map(|d| (*d).to_owned()).collect(),
        }
    }

    /// Whether the operator accepts an address at `email` for a business whose website
    /// is at one of `hosts` (all lower case, without `www.`).
    fn allows(&self, email: &str, hosts: &[String]) -> bool {
        self.allow_domains.iter().any(|entry| {
            let entry = entry.to_ascii_lowercase();
            match entry.split_once('=') {
                None => same_or_under(email, without_www(&entry)),
                Some((a, b)) => {
                    let (a, b) = (without_www(a), without_www(b));
                    let site = |d: &str| hosts.iter().any(|h| related(h, d));
                    (same_or_under(email, a) && site(b)) || (same_or_under(email, b) && site(a))
                }
            }
        })
    }
}

fn check_domain(at: &str, domain: &str) -> Result<(), String> {
    if is_host_name(&domain.to_ascii_lowercase()) && domain.contains('.') {
        Ok(())
    } else {
        Err(format!(
            "{at}: {domain:?} is not a domain name (letters, digits, hyphens, at least one dot)"
        ))
    }
}

/// Each representative's email domain is the website's host or a subdomain of it, or the
/// website's host is a subdomain of the email domain, ignoring a leading `www.` and case:
/// `jane@acme.com` and `jane@mail.acme.com` pass for `https://www.acme.com/about`.
///
/// An address at a free mail provider ([`EmailDomain::free_mail`]) fails even without a
/// website; [`EmailDomain::allow_domains`] accepts more. A missing or malformed website
/// or email is no failure here: [`website`], [`super::emails`] and the required check
/// report those. Without a public suffix list, a website on a shared host
/// (`acme.github.io`) also accepts addresses at that host's domain.
pub fn email_domain(parties: &[Party<'_>], params: &EmailDomain) -> Finding {
    let free = params.free_domains();
    let hosts: Vec<String> = businesses(parties)
        .filter_map(|p| match p.text("website_url") {
            Text::Some(raw) => public_host(raw).ok(),
            Text::Missing | Text::Wrong(_) => None,
        })
        .map(|host| without_www(&host).to_owned())
        .collect();
    let mut finding = Finding::default();
    for party in representatives(parties) {
        let Text::Some(email) = party.text("email") else {
            continue;
        };
        if plain(email, MAX_EMAIL).is_err() || check_email(email).is_err() {
            continue;
        }
        let Some((_, domain)) = email.rsplit_once('@') else {
            continue;
        };
        let domain = domain.to_ascii_lowercase();
        let domain = without_www(&domain);
        let reason = if let Some(f) = free.iter().find(|f| same_or_under(domain, f)) {
            format!("is at {f}, a free email provider: use an address at the business's own domain")
        } else if hosts.is_empty()
            || hosts.iter().any(|h| related(domain, h))
            || params.allows(domain, &hosts)
        {
            continue;
        } else {
            let host = hosts.first().map(String::as_str).unwrap_or_default();
            format!("is at {domain}, which is not the domain of the business's website ({host})")
        };
        finding.failures.push(party.failure("email", reason));
    }
    finding
}
