//! The rules for fetching x5u certificates and CRLs: which URLs and addresses may be
//! fetched, limits, and how long a response may be cached (`Cache-Control`). Pure.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::time::Duration;

use reqwest::Url;

/// How certificates and CRLs are fetched.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FetchPolicy {
    /// Allow `http` URLs (local tests only; production x5u must be `https`).
    pub allow_http: bool,
    /// Allow loopback addresses (127.0.0.0/8, ::1), by IP or by a name resolving there.
    pub allow_loopback: bool,
    /// Allow the private and other special-purpose ranges (RFC 6890) besides loopback.
    pub allow_private: bool,
    /// Largest response body accepted.
    pub max_bytes: usize,
    /// Whole-request timeout, connection included.
    pub timeout: Duration,
    /// Cache lifetime when the response has no `Cache-Control` directive.
    pub default_ttl: Duration,
    /// How long a failed fetch is remembered before the URL is tried again.
    pub failure_ttl: Duration,
    /// Most URLs cached at once; past it, expired entries are dropped first.
    pub max_entries: usize,
}

impl Default for FetchPolicy {
    fn default() -> Self {
        FetchPolicy {
            allow_http: false,
            allow_loopback: false,
            allow_private: false,
            max_bytes: 64 * 1024,
            timeout: Duration::from_secs(2),
            default_ttl: Duration::from_secs(24 * 3600),
            failure_ttl: Duration::from_secs(30),
            max_entries: 10_000,
        }
    }
}

/// Why a certificate or CRL could not be fetched (436 Bad Identity Info for x5u).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FetchError {
    #[error("{0:?} is not a valid absolute URL")]
    BadUrl(String),
    #[error("scheme {0:?} is not allowed (only https)")]
    Scheme(String),
    #[error("URL must not carry userinfo")]
    UserInfo,
    #[error("URL must not carry a query")]
    Query,
    #[error("URL must not carry a fragment")]
    Fragment,
    #[error("URL is longer than {0} characters")]
    TooLong(usize),
    #[error("address {0} is in a special-purpose range")]
    SpecialAddress(IpAddr),
    #[error("{0}")]
    Resolve(String),
    #[error("timed out after {0} ms")]
    Timeout(u128),
    #[error("HTTP status {0}")]
    Status(u16),
    #[error("response is larger than {0} bytes")]
    TooLarge(usize),
    #[error("HTTP request failed: {0}")]
    Http(String),
}

/// Checks a URL against the policy: http(s) only (http when allowed), no userinfo, no
/// query, no fragment, and an IP-literal host outside the refused ranges. Host names are
/// checked when they are resolved.
pub fn check_url(url: &str, policy: &FetchPolicy) -> Result<Url, FetchError> {
    check(url, policy, false)
}

/// Longest status-callback URL accepted (Twilio's limit for `StatusCallback`).
pub const MAX_CALLBACK_URL: usize = 4000;

/// Checks a status-callback URL against the same policy as [`check_url`], except that a
/// query is allowed (receivers put their own routing there), and at most
/// [`MAX_CALLBACK_URL`] characters long.
pub fn check_callback_url(url: &str, policy: &FetchPolicy) -> Result<Url, FetchError> {
    if url.len() > MAX_CALLBACK_URL {
        return Err(FetchError::TooLong(MAX_CALLBACK_URL));
    }
    check(url, policy, true)
}

fn check(url: &str, policy: &FetchPolicy, query_allowed: bool) -> Result<Url, FetchError> {
    let parsed = Url::parse(url).map_err(|_| FetchError::BadUrl(url.to_owned()))?;
    match parsed.scheme() {
        "https" => {}
        "http" if policy.allow_http => {}
        other => return Err(FetchError::Scheme(other.to_owned())),
    }
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err(FetchError::UserInfo);
    }
    if parsed.query().is_some() && !query_allowed {
        return Err(FetchError::Query);
    }
    if parsed.fragment().is_some() {
        return Err(FetchError::Fragment);
    }
    let host = parsed
        .host_str()
        .filter(|h| !h.is_empty())
        .ok_or_else(|| FetchError::BadUrl(url.to_owned()))?;
    let literal = host.trim_start_matches('[').trim_end_matches(']');
    if let Ok(ip) = literal.parse::<IpAddr>() {
        check_address(ip, policy)?;
    }
    Ok(parsed)
}

/// Refuses `ip` when it is in a special-purpose range the policy does not allow.
pub fn check_address(ip: IpAddr, policy: &FetchPolicy) -> Result<(), FetchError> {
    let ip = canonical(ip);
    if ip.is_loopback() {
        if policy.allow_loopback {
            return Ok(());
        }
        return Err(FetchError::SpecialAddress(ip));
    }
    if is_special_purpose(ip) && !policy.allow_private {
        return Err(FetchError::SpecialAddress(ip));
    }
    Ok(())
}

/// An IPv4-mapped IPv6 address is judged as the IPv4 address it carries.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

/// Whether `ip` is in an IANA special-purpose range (RFC 6890 and its updates), where no
/// public certificate repository lives: this-network, private, shared, loopback,
/// link-local, documentation, benchmarking, multicast, reserved, unique-local, and
/// the IPv6 transition prefixes.
pub fn is_special_purpose(ip: IpAddr) -> bool {
    match canonical(ip) {
        IpAddr::V4(v4) => special_v4(v4),
        IpAddr::V6(v6) => special_v6(v6),
    }
}

fn special_v4(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    a == 0
        || a == 10
        || a == 127
        || (a == 100 && (64..128).contains(&b))
        || (a == 169 && b == 254)
        || (a == 172 && (16..32).contains(&b))
        || (a == 192 && b == 0 && (c == 0 || c == 2))
        || (a == 192 && b == 88 && c == 99)
        || (a == 192 && b == 168)
        || (a == 198 && (b == 18 || b == 19))
        || (a == 198 && b == 51 && c == 100)
        || (a == 203 && b == 0 && c == 113)
        || a >= 224
}

fn special_v6(ip: Ipv6Addr) -> bool {
    let s = ip.segments();
    ip.is_unspecified()
        || ip.is_loopback()
        || (s[0] == 0x64 && s[1] == 0xff9b)
        || s[0] == 0x0100 && s[1..4] == [0, 0, 0]
        || (s[0] == 0x2001 && s[1] < 0x0200)
        || (s[0] == 0x2001 && s[1] == 0x0db8)
        || s[0] == 0x2002
        || (s[0] & 0xfe00) == 0xfc00
        || (s[0] & 0xffc0) == 0xfe80
        || (s[0] & 0xff00) == 0xff00
}

/// How long a response may be cached, from its `Cache-Control` value: `no-store` or
/// `no-cache` give zero, `max-age=N` gives N seconds, anything else (or no header) the
/// default. The caller also caps it at the certificate's notAfter.
pub fn cache_ttl(cache_control: Option<&str>, default: Duration) -> Duration {
    let Some(value) = cache_control else {
        return default;
    };
    let mut max_age = None;
    for directive in value.split(',') {
        let directive = directive.trim();
        let (name, arg) = match directive.split_once('=') {
            Some((n, a)) => (n.trim(), Some(a.trim().trim_matches('"'))),
            None => (directive, None),
        };
        if name.eq_ignore_ascii_case("no-store") || name.eq_ignore_ascii_case("no-cache") {
            return Duration::ZERO;
        }
        if name.eq_ignore_ascii_case("max-age")
            && let Some(secs) = arg.and_then(|a| a.parse::<u64>().ok())
        {
            max_age = Some(Duration::from_secs(secs));
        }
    }
    max_age.unwrap_or(default)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn testing() -> FetchPolicy {
        FetchPolicy {
            allow_http: true,
            allow_loopback: true,
            ..FetchPolicy::default()
        }
    }

    #[test]
    fn only_https_by_default() {
        let p = FetchPolicy::default();
        assert!(check_url("https://cert.example.org/sti.pem", &p).is_ok());
        assert_eq!(
            check_url("http://cert.example.org/sti.pem", &p),
            Err(FetchError::Scheme("http".into()))
        );
        assert_eq!(
            check_url("ftp://cert.example.org/sti.pem", &testing()),
            Err(FetchError::Scheme("ftp".into()))
        );
        assert!(check_url("http://cert.example.org/sti.pem", &testing()).is_ok());
    }

    #[test]
    fn userinfo_query_and_fragment_are_refused() {
        let p = FetchPolicy::default();
        for (url, err) in [
            ("https://u@cert.example.org/a", FetchError::UserInfo),
            ("https://u:p@cert.example.org/a", FetchError::UserInfo),
            ("https://cert.example.org/a?x=1", FetchError::Query),
            ("https://cert.example.org/a?", FetchError::Query),
            ("https://cert.example.org/a#f", FetchError::Fragment),
        ] {
            assert_eq!(check_url(url, &p), Err(err), "{url}");
        }
        assert!(matches!(
            check_url("not a url", &p),
            Err(FetchError::BadUrl(_))
        ));
        assert!(matches!(
            check_url("https://", &p),
            Err(FetchError::BadUrl(_))
        ));
    }

    #[test]
    fn special_purpose_literals_are_refused_unless_allowed() {
        let p = FetchPolicy::default();
        for url in [
            "https://127.0.0.1/a",
            "https://10.1.2.3/a",
            "https://172.16.0.1/a",
            "https://192.168.1.1/a",
            "https://169.254.169.254/latest/meta-data",
            "https://100.64.0.1/a",
            "https://0.0.0.0/a",
            "https://224.0.0.1/a",
            "https://[::1]/a",
            "https://[fc00::1]/a",
            "https://[fe80::1]/a",
            "https://[::ffff:10.0.0.1]/a",
            "https://[2001:db8::1]/a",
        ] {
            assert!(
                matches!(check_url(url, &p), Err(FetchError::SpecialAddress(_))),
                "{url}"
            );
        }
        assert!(check_url("https://8.8.8.8/a", &p).is_ok());
        assert!(check_url("https://[2606:4700::1111]/a", &p).is_ok());
        // Loopback for tests, but not the private ranges.
        assert!(check_url("http://127.0.0.1:8080/a", &testing()).is_ok());
        assert!(check_url("http://[::1]:8080/a", &testing()).is_ok());
        assert!(matches!(
            check_url("http://10.0.0.1/a", &testing()),
            Err(FetchError::SpecialAddress(_))
        ));
        let private = FetchPolicy {
            allow_private: true,
            ..FetchPolicy::default()
        };
        assert!(check_url("https://10.0.0.1/a", &private).is_ok());
        assert!(check_url("https://127.0.0.1/a", &private).is_err());
    }

    #[test]
    fn cache_control() {
        let day = Duration::from_secs(86_400);
        assert_eq!(cache_ttl(None, day), day);
        assert_eq!(cache_ttl(Some("public"), day), day);
        assert_eq!(
            cache_ttl(Some("max-age=300"), day),
            Duration::from_secs(300)
        );
        assert_eq!(
            cache_ttl(Some("public, MAX-AGE = \"60\""), day),
            Duration::from_secs(60)
        );
        assert_eq!(cache_ttl(Some("max-age=60, no-store"), day), Duration::ZERO);
        assert_eq!(cache_ttl(Some("no-cache"), day), Duration::ZERO);
        assert_eq!(cache_ttl(Some("max-age=abc"), day), day);
    }
}
