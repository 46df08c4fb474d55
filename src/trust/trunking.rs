//! Elastic SIP Trunking, in Twilio's shapes: trunks (`TK…`), IP access control lists
//! (`AL…`) and their addresses (`IP…`), and which lists a trunk uses; and
//! [`TrunkTable`], where the proxy looks up the trunk a request's source address belongs
//! to.
//!
//! A trunk with a `domain_name` takes the requests addressed to that domain (the
//! Request-URI host) from the addresses its lists admit; a trunk without one takes the
//! requests from its addresses whatever they are addressed to. So one source address
//! reaches at most one trunk without a domain: [`TrunkTable::build`] refuses lists of two
//! such trunks that overlap, and a write that would make them overlap is refused before
//! it is committed. A domain picks its trunk, so a domain trunk's lists may overlap any
//! other's. A trunk with no access list takes no traffic.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Arc;

use ipnet::IpNet;
use serde::{Deserialize, Serialize};
use thiserror::Error;

use super::signing::{SigningAssignment, SigningIdentity};
use super::{Change, Sid, TrustError};

/// A trunk (`TK…`): the account whose calls arrive from its access lists' addresses.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Trunk {
    pub sid: Sid,
    pub account_sid: Sid,
    #[serde(default)]
    pub friendly_name: Option<String>,
    /// `{name}.pstn.twilio.com` at Twilio; any host name here.
    #[serde(default)]
    pub domain_name: Option<String>,
    /// callsign's own: the calls (initial INVITEs) a second the trunk may place, and
    /// how many more it may place at once after a quiet spell. Unlimited when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub call_limit: Option<CallLimit>,
    /// callsign's own: the lowest level its calls may be signed with.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub level_gate: Option<LevelGate>,
    /// callsign's own: what to do with an Identity header the trunk sends (`strip`,
    /// `keep` or `reject`); `[sip] identity_policy` when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identity_policy: Option<TrunkIdentityPolicy>,
    /// callsign's own: `sign` (the default) signs the trunk's calls; `verify` verifies
    /// them, as from another carrier.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<TrunkRole>,
    /// callsign's own: the `origid` of its calls; derived from the SID when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub origid: Option<uuid::Uuid>,
    /// callsign's own: what the `attest` of its SBC's signing requests (ATIS-1000082)
    /// counts for; `ceiling` when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requested_level: Option<RequestedLevel>,
    /// callsign's own, for `redirect` trunks: the 302's Contact also carries the
    /// Identity as a URI header (`?Identity=...`), for SBCs that take it from there.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contact_identity: Option<bool>,
    /// callsign's own: signed calls (forwarded, or redirected) carry
    /// `P-Attestation-Indicator` and `P-Origination-ID`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attestation_headers: Option<bool>,
    /// callsign's own: what a call gets when callsign cannot sign it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signing_failure: Option<SigningFailure>,
    /// callsign's own: which of its INVITEs are signed, and what an Identity it sends
    /// gets; `all` when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sign_policy: Option<SignPolicy>,
    /// callsign's own: the status an INVITE without Identity gets under the `required`
    /// policy; 403 when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unsigned_status: Option<u16>,
    #[serde(default)]
    pub date_created: Option<String>,
    #[serde(default)]
    pub date_updated: Option<String>,
}

impl Trunk {
    /// A trunk of `account_sid` with nothing else set.
    pub fn new(sid: Sid, account_sid: Sid) -> Trunk {
        Trunk {
            sid,
            account_sid,
            friendly_name: None,
            domain_name: None,
            call_limit: None,
            level_gate: None,
            identity_policy: None,
            role: None,
            origid: None,
            requested_level: None,
            contact_identity: None,
            attestation_headers: None,
            signing_failure: None,
            sign_policy: None,
            unsigned_status: None,
            date_created: None,
            date_updated: None,
        }
    }

    /// The `origid` its calls carry: its own, or a UUID derived from its SID, stable
    /// forever.
    pub fn origid(&self) -> uuid::Uuid {
        self.origid.unwrap_or_else(|| {
            uuid::Uuid::new_v5(&uuid::Uuid::NAMESPACE_OID, self.sid.to_string().as_bytes())
        })
    }

    pub fn role(&self) -> TrunkRole {
        self.role.unwrap_or(TrunkRole::Sign)
    }
}

/// What callsign does with a provisioned trunk's initial INVITEs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TrunkRole {
    Sign,
    Verify,
    /// Signs, and answers the INVITE with a 302 carrying the Identity instead of
    /// forwarding it: the SBC sends the call on itself.
    Redirect,
}

impl TrunkRole {
    pub fn as_str(self) -> &'static str {
        match self {
            TrunkRole::Sign => "sign",
            TrunkRole::Verify => "verify",
            TrunkRole::Redirect => "redirect",
        }
    }
}

/// What the level an SBC asks for in a signing request does when the SBC is bound to a
/// trunk: callsign always computes the level from the trust data.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RequestedLevel {
    /// The requested level may lower the computed one, never raise it.
    #[default]
    Ceiling,
    /// The computed level is signed whatever is asked.
    Ignore,
}

impl RequestedLevel {
    pub fn parse(s: &str) -> Option<RequestedLevel> {
        match s {
            "ceiling" => Some(RequestedLevel::Ceiling),
            "ignore" => Some(RequestedLevel::Ignore),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            RequestedLevel::Ceiling => "ceiling",
            RequestedLevel::Ignore => "ignore",
        }
    }
}

/// What a call gets when callsign cannot sign it (no valid certificate, a key that does
/// not answer): it goes on unsigned (for a redirect trunk, a 302 without Identity), or
/// is answered with this status (503 lets an SBC advance its route).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SigningFailure {
    Unsigned,
    Status(u16),
}

impl SigningFailure {
    /// `unsigned`, or a status from 400 to 699.
    pub fn parse(s: &str) -> Option<SigningFailure> {
        match s {
            "unsigned" => Some(SigningFailure::Unsigned),
            _ => match s.parse::<u16>() {
                Ok(code) if (400..700).contains(&code) => Some(SigningFailure::Status(code)),
                _ => None,
            },
        }
    }
}

impl std::fmt::Display for SigningFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SigningFailure::Unsigned => f.write_str("unsigned"),
            SigningFailure::Status(code) => code.fmt(f),
        }
    }
}

/// Which INVITEs of a signing or redirect trunk are signed, and what an Identity header
/// the trunk sends gets (the policies SBC operators set: 46 Labs' "Sign All", "Sign
/// Unsigned", "Block Unsigned", "No Treatment").
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SignPolicy {
    /// Every INVITE is signed; an Identity that arrives follows the identity policy
    /// (strip, keep or reject).
    #[default]
    All,
    /// An INVITE with an Identity is verified: it goes on with it when it passes and is
    /// refused with the failure's code when it fails. One without is signed.
    Unsigned,
    /// Nothing is signed; an Identity that arrives is verified as for `unsigned`.
    Never,
    /// As `never`, and an INVITE without an Identity is refused.
    Required,
}

impl SignPolicy {
    pub fn parse(s: &str) -> Option<SignPolicy> {
        match s {
            "all" => Some(SignPolicy::All),
            "unsigned" => Some(SignPolicy::Unsigned),
            "never" => Some(SignPolicy::Never),
            "required" => Some(SignPolicy::Required),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            SignPolicy::All => "all",
            SignPolicy::Unsigned => "unsigned",
            SignPolicy::Never => "never",
            SignPolicy::Required => "required",
        }
    }

    /// Whether an Identity the trunk sends is verified (and so needs `[verify]`).
    pub fn verifies(self) -> bool {
        self != SignPolicy::All
    }
}

/// A trunk's floor on attestation: a call that would be signed below `minimum` (B or C
/// under A) is refused with `status` (403 or 603) instead of being signed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LevelGate {
    pub minimum: crate::passport::Attest,
    pub status: u16,
}

/// What a trunk's own Identity headers get.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TrunkIdentityPolicy {
    Strip,
    Keep,
    Reject,
}

impl TrunkIdentityPolicy {
    pub fn parse(s: &str) -> Option<TrunkIdentityPolicy> {
        match s {
            "strip" => Some(TrunkIdentityPolicy::Strip),
            "keep" => Some(TrunkIdentityPolicy::Keep),
            "reject" => Some(TrunkIdentityPolicy::Reject),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            TrunkIdentityPolicy::Strip => "strip",
            TrunkIdentityPolicy::Keep => "keep",
            TrunkIdentityPolicy::Reject => "reject",
        }
    }
}

/// A trunk's call rate: `per_second` on average, `burst` at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CallLimit {
    pub per_second: u32,
    pub burst: u32,
}

/// An IP access control list (`AL…`) of an account.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IpAccessControlList {
    pub sid: Sid,
    pub account_sid: Sid,
    #[serde(default)]
    pub friendly_name: Option<String>,
    #[serde(default)]
    pub date_created: Option<String>,
    #[serde(default)]
    pub date_updated: Option<String>,
}

/// One address range (`IP…`) of an access list: `ip_address/cidr_prefix_length`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IpAddress {
    pub sid: Sid,
    pub account_sid: Sid,
    pub ip_access_control_list_sid: Sid,
    #[serde(default)]
    pub friendly_name: Option<String>,
    pub ip_address: String,
    pub cidr_prefix_length: u8,
    #[serde(default)]
    pub date_created: Option<String>,
    #[serde(default)]
    pub date_updated: Option<String>,
}

impl IpAddress {
    /// The range this entry admits.
    pub fn net(&self) -> Result<IpNet, RangeError> {
        range(&self.ip_address, self.cidr_prefix_length)
    }
}

/// That trunk `trunk_sid` admits the addresses of list `ip_access_control_list_sid`
/// (Twilio's trunk `IpAccessControlList` resource, whose SID is the list's).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrunkAcl {
    pub trunk_sid: Sid,
    pub ip_access_control_list_sid: Sid,
    pub account_sid: Sid,
    #[serde(default)]
    pub date_created: Option<String>,
}

/// A credential list (`CL…`) of an account.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CredentialList {
    pub sid: Sid,
    pub account_sid: Sid,
    #[serde(default)]
    pub friendly_name: Option<String>,
    #[serde(default)]
    pub date_created: Option<String>,
    #[serde(default)]
    pub date_updated: Option<String>,
}

/// A username and password (`CR…`) of a credential list. The password is kept only as
/// the digests `H(username:realm:password)` for MD5 and SHA-256 (RFC 8760), in `realm`.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Credential {
    pub sid: Sid,
    pub account_sid: Sid,
    pub credential_list_sid: Sid,
    pub username: String,
    pub realm: String,
    pub ha1_md5: String,
    pub ha1_sha256: String,
    #[serde(default)]
    pub date_created: Option<String>,
    #[serde(default)]
    pub date_updated: Option<String>,
}

impl std::fmt::Debug for Credential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credential")
            .field("sid", &self.sid)
            .field("credential_list_sid", &self.credential_list_sid)
            .field("username", &self.username)
            .finish_non_exhaustive()
    }
}

/// That trunk `trunk_sid` accepts the credentials of list `credential_list_sid`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrunkCredentialList {
    pub trunk_sid: Sid,
    pub credential_list_sid: Sid,
    pub account_sid: Sid,
    #[serde(default)]
    pub date_created: Option<String>,
}

/// That calls to number `phone_number_sid` (`PN…`, a number of the trunk's account) go
/// to trunk `trunk_sid`: the inbound side. A number is on one trunk at most, and only a
/// verifying trunk takes numbers: a call to the number that arrives on any verifying
/// trunk is delivered to this trunk's origination URLs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrunkPhoneNumber {
    pub trunk_sid: Sid,
    pub phone_number_sid: Sid,
    pub account_sid: Sid,
    #[serde(default)]
    pub date_created: Option<String>,
}

/// Where a trunk's calls go (`OU…`): a carrier's SIP URI, tried by `priority` (lowest
/// first), spread by `weight` among equal priorities; the next one is tried when one
/// answers 503 or not at all.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OriginationUrl {
    pub sid: Sid,
    pub account_sid: Sid,
    pub trunk_sid: Sid,
    #[serde(default)]
    pub friendly_name: Option<String>,
    pub sip_url: String,
    pub priority: u16,
    pub weight: u16,
    pub enabled: bool,
    #[serde(default)]
    pub date_created: Option<String>,
    #[serde(default)]
    pub date_updated: Option<String>,
}

/// An origination URL as the proxy uses it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OriginationTarget {
    pub addr: std::net::SocketAddr,
    pub tcp: bool,
    pub priority: u16,
    pub weight: u16,
}

/// Why a `SipUrl` cannot be called.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum SipUrlError {
    #[error("SipUrl: `{0}` is not a sip: URI with an IP address, an optional port and transport")]
    Syntax(String),
    #[error("SipUrl: `{0}` needs TLS, which callsign does not speak yet")]
    Tls(String),
    #[error(
        "SipUrl: `{0}` names a host; give the carrier's IP address (host names are not resolved for origination yet)"
    )]
    HostName(String),
}

/// The address, and whether TCP is asked for, of a `SipUrl`: `sip:` (never `sips:`),
/// an optional user part, an IPv4 or bracketed IPv6 address, an optional port (5060)
/// and an optional `;transport=udp|tcp`.
pub fn sip_url_target(url: &str) -> Result<(std::net::SocketAddr, bool), SipUrlError> {
    let bad = || SipUrlError::Syntax(url.to_owned());
    if url.len() > 255 || url.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(bad());
    }
    let (scheme, rest) = url.split_once(':').ok_or_else(bad)?;
    if scheme.eq_ignore_ascii_case("sips") {
        return Err(SipUrlError::Tls(url.to_owned()));
    }
    if !scheme.eq_ignore_ascii_case("sip") {
        return Err(bad());
    }
    let rest = rest.rsplit_once('@').map_or(rest, |(_, host)| host);
    let mut parts = rest.split(';');
    let hostport = parts.next().ok_or_else(bad)?;
    let mut tcp = false;
    for param in parts {
        let (name, value) = param.split_once('=').unwrap_or((param, ""));
        if name.eq_ignore_ascii_case("transport") {
            match value.to_ascii_lowercase().as_str() {
                "udp" => tcp = false,
                "tcp" => tcp = true,
                "tls" => return Err(SipUrlError::Tls(url.to_owned())),
                _ => return Err(bad()),
            }
        }
    }
    let (host, port) = match hostport.strip_prefix('[') {
        Some(v6) => {
            let (host, after) = v6.split_once(']').ok_or_else(bad)?;
            (host, after.strip_prefix(':'))
        }
        None => match hostport.split_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (hostport, None),
        },
    };
    let port = match port {
        Some(p) => p.parse::<u16>().ok().filter(|p| *p > 0).ok_or_else(bad)?,
        None => 5060,
    };
    let ip: IpAddr = match host.parse() {
        Ok(ip) => ip,
        Err(_)
            if !host.is_empty()
                && host
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.') =>
        {
            return Err(SipUrlError::HostName(url.to_owned()));
        }
        Err(_) => return Err(bad()),
    };
    Ok((std::net::SocketAddr::new(canonical(ip), port), tcp))
}

/// Why an address entry is not a range.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum RangeError {
    #[error("IpAddress: `{0}` is not an IPv4 or IPv6 address")]
    Address(String),
    #[error("CidrPrefixLength: {length} is not between {min} and {max} for {address}")]
    Prefix {
        address: String,
        length: u8,
        min: u8,
        max: u8,
    },
}

/// The shortest prefixes an entry may have: a list admits a carrier's network, not a
/// sizeable part of the Internet.
pub const MIN_PREFIX_V4: u8 = 8;
pub const MIN_PREFIX_V6: u8 = 32;

/// The range `address/length`, with the host bits of `address` cleared. IPv4-mapped
/// IPv6 addresses are taken as the IPv4 address they map.
pub fn range(address: &str, length: u8) -> Result<IpNet, RangeError> {
    let ip: IpAddr = address
        .trim()
        .parse()
        .map_err(|_| RangeError::Address(address.to_owned()))?;
    let ip = canonical(ip);
    let (min, max) = match ip {
        IpAddr::V4(_) => (MIN_PREFIX_V4, 32),
        IpAddr::V6(_) => (MIN_PREFIX_V6, 128),
    };
    if !(min..=max).contains(&length) {
        return Err(RangeError::Prefix {
            address: address.to_owned(),
            length,
            min,
            max,
        });
    }
    IpNet::new(ip, length)
        .map(|n| n.trunc())
        .map_err(|_| RangeError::Address(address.to_owned()))
}

/// An IPv4-mapped IPv6 address as the IPv4 address; others unchanged.
pub fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

/// Every trunking record, as the store and the trust-data file hold them.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Trunking {
    #[serde(default)]
    pub trunks: Vec<Trunk>,
    #[serde(default)]
    pub ip_access_control_lists: Vec<IpAccessControlList>,
    #[serde(default)]
    pub ip_addresses: Vec<IpAddress>,
    #[serde(default)]
    pub trunk_ip_access_control_lists: Vec<TrunkAcl>,
    #[serde(default)]
    pub credential_lists: Vec<CredentialList>,
    #[serde(default)]
    pub credentials: Vec<Credential>,
    #[serde(default)]
    pub trunk_credential_lists: Vec<TrunkCredentialList>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub origination_urls: Vec<OriginationUrl>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub trunk_phone_numbers: Vec<TrunkPhoneNumber>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub signing_identities: Vec<SigningIdentity>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub signing_assignments: Vec<SigningAssignment>,
}

impl Trunking {
    /// Applies one change to the records; changes to other records are ignored.
    pub fn apply(&mut self, change: &Change) {
        fn put<T: Clone>(list: &mut Vec<T>, item: &T, same: impl Fn(&T) -> bool) {
            match list.iter_mut().find(|x| same(x)) {
                Some(x) => *x = item.clone(),
                None => list.push(item.clone()),
            }
        }
        let link = |a: &TrunkAcl, b: &TrunkAcl| {
            a.trunk_sid == b.trunk_sid
                && a.ip_access_control_list_sid == b.ip_access_control_list_sid
        };
        match change {
            Change::PutTrunk(t) => put(&mut self.trunks, t, |x| x.sid == t.sid),
            Change::DeleteTrunk(t) => self.trunks.retain(|x| x.sid != t.sid),
            Change::PutIpAccessControlList(l) => {
                put(&mut self.ip_access_control_lists, l, |x| x.sid == l.sid)
            }
            Change::DeleteIpAccessControlList(l) => {
                self.ip_access_control_lists.retain(|x| x.sid != l.sid)
            }
            Change::PutIpAddress(a) => put(&mut self.ip_addresses, a, |x| x.sid == a.sid),
            Change::DeleteIpAddress(a) => self.ip_addresses.retain(|x| x.sid != a.sid),
            Change::PutTrunkAcl(a) => {
                put(&mut self.trunk_ip_access_control_lists, a, |x| link(x, a))
            }
            Change::DeleteTrunkAcl(a) => self.trunk_ip_access_control_lists.retain(|x| !link(x, a)),
            Change::PutCredentialList(l) => put(&mut self.credential_lists, l, |x| x.sid == l.sid),
            Change::DeleteCredentialList(l) => self.credential_lists.retain(|x| x.sid != l.sid),
            Change::PutCredential(c) => put(&mut self.credentials, c, |x| x.sid == c.sid),
            Change::DeleteCredential(c) => self.credentials.retain(|x| x.sid != c.sid),
            Change::PutTrunkCredentialList(a) => {
                let same = |x: &TrunkCredentialList| {
                    x.trunk_sid == a.trunk_sid && x.credential_list_sid == a.credential_list_sid
                };
                put(&mut self.trunk_credential_lists, a, same)
            }
            Change::DeleteTrunkCredentialList(a) => self.trunk_credential_lists.retain(|x| {
                x.trunk_sid != a.trunk_sid || x.credential_list_sid != a.credential_list_sid
            }),
            Change::PutOriginationUrl(u) => put(&mut self.origination_urls, u, |x| x.sid == u.sid),
            Change::DeleteOriginationUrl(u) => self.origination_urls.retain(|x| x.sid != u.sid),
            Change::PutTrunkPhoneNumber(n) => put(&mut self.trunk_phone_numbers, n, |x| {
                x.phone_number_sid == n.phone_number_sid
            }),
            Change::DeleteTrunkPhoneNumber(n) => self
                .trunk_phone_numbers
                .retain(|x| x.phone_number_sid != n.phone_number_sid),
            Change::PutSigningIdentity(i) => {
                put(&mut self.signing_identities, i, |x| x.sid == i.sid)
            }
            Change::DeleteSigningIdentity(i) => self.signing_identities.retain(|x| x.sid != i.sid),
            Change::PutSigningAssignment(a) => put(&mut self.signing_assignments, a, |x| {
                x.assigned_sid == a.assigned_sid
            }),
            Change::DeleteSigningAssignment(a) => self
                .signing_assignments
                .retain(|x| x.assigned_sid != a.assigned_sid),
            _ => {}
        }
    }

    /// Checks the records' SIDs and references: each record belongs to a known account
    /// (`account_known`), an address to a list of its account, and a trunk uses only
    /// lists of its own account.
    pub fn validate(&self, account_known: impl Fn(Sid) -> bool) -> Result<(), TrustError> {
        let mut seen = std::collections::HashSet::new();
        let mut lists = HashMap::new();
        let mut trunks = HashMap::new();
        let kind = |sid: Sid, field: &'static str, expected: &'static str| {
            if sid.is(expected) {
                Ok(())
            } else {
                Err(TrustError::WrongSidKind {
                    sid,
                    field,
                    expected,
                    found: sid,
                })
            }
        };
        let mut owned = |sid: Sid, prefix: &'static str, account: Sid| {
            kind(sid, "sid", prefix)?;
            if !seen.insert(sid) {
                return Err(TrustError::DuplicateSid(sid));
            }
            if !account_known(account) {
                return Err(TrustError::UnknownAccount {
                    sid,
                    field: "account_sid",
                    account,
                });
            }
            Ok(())
        };
        for t in &self.trunks {
            owned(t.sid, "TK", t.account_sid)?;
            trunks.insert(t.sid, t.account_sid);
        }
        for l in &self.ip_access_control_lists {
            owned(l.sid, "AL", l.account_sid)?;
            lists.insert(l.sid, l.account_sid);
        }
        let reference =
            |what, sid, field, target: Sid, expected, account, of: &HashMap<Sid, Sid>| {
                if of.get(&target) == Some(&account) {
                    Ok(())
                } else {
                    Err(TrustError::TrunkingReference {
                        what,
                        sid,
                        field,
                        target,
                        expected,
                        account,
                    })
                }
            };
        for a in &self.ip_addresses {
            owned(a.sid, "IP", a.account_sid)?;
            a.net()?;
            let (list, account) = (a.ip_access_control_list_sid, a.account_sid);
            reference(
                "address",
                a.sid,
                "ip_access_control_list_sid",
                list,
                "list",
                account,
                &lists,
            )?;
        }
        for l in &self.trunk_ip_access_control_lists {
            let (trunk, list, account) = (l.trunk_sid, l.ip_access_control_list_sid, l.account_sid);
            reference(
                "trunk list",
                list,
                "trunk_sid",
                trunk,
                "trunk",
                account,
                &trunks,
            )?;
            reference(
                "trunk",
                trunk,
                "ip_access_control_list_sid",
                list,
                "list",
                account,
                &lists,
            )?;
        }
        let mut credential_lists = HashMap::new();
        for l in &self.credential_lists {
            owned(l.sid, "CL", l.account_sid)?;
            credential_lists.insert(l.sid, l.account_sid);
        }
        let mut usernames = std::collections::HashSet::new();
        for c in &self.credentials {
            owned(c.sid, "CR", c.account_sid)?;
            let (list, account) = (c.credential_list_sid, c.account_sid);
            let lists = &credential_lists;
            let field = "credential_list_sid";
            reference(
                "credential",
                c.sid,
                field,
                list,
                "credential list",
                account,
                lists,
            )?;
            if !usernames.insert((list, c.username.as_str())) {
                return Err(TrustError::DuplicateUsername {
                    list,
                    username: c.username.clone(),
                });
            }
        }
        let verifying: std::collections::HashSet<Sid> = (self.trunks.iter())
            .filter(|t| t.role() == TrunkRole::Verify)
            .map(|t| t.sid)
            .collect();
        for l in &self.trunk_credential_lists {
            let (trunk, list, account) = (l.trunk_sid, l.credential_list_sid, l.account_sid);
            if verifying.contains(&trunk) {
                return Err(TrustError::VerifyingTrunkCredentials(trunk));
            }
            let lists = &credential_lists;
            let (t, c) = ("trunk", "credential list");
            reference(
                "trunk credential list",
                list,
                "trunk_sid",
                trunk,
                t,
                account,
                &trunks,
            )?;
            reference(
                "trunk",
                trunk,
                "credential_list_sid",
                list,
                c,
                account,
                lists,
            )?;
        }
        let mut transports: HashMap<Sid, bool> = HashMap::new();
        for u in &self.origination_urls {
            owned(u.sid, "OU", u.account_sid)?;
            let (trunk, account) = (u.trunk_sid, u.account_sid);
            reference(
                "origination URL",
                u.sid,
                "trunk_sid",
                trunk,
                "trunk",
                account,
                &trunks,
            )?;
            let (_, tcp) = sip_url_target(&u.sip_url)?;
            if *transports.entry(trunk).or_insert(tcp) != tcp {
                return Err(TrustError::MixedTransports(trunk));
            }
        }
        let mut numbers = std::collections::HashSet::new();
        for n in &self.trunk_phone_numbers {
            let (trunk, pn, account) = (n.trunk_sid, n.phone_number_sid, n.account_sid);
            kind(pn, "phone_number_sid", "PN")?;
            reference(
                "trunk phone number",
                pn,
                "trunk_sid",
                trunk,
                "trunk",
                account,
                &trunks,
            )?;
            if !verifying.contains(&trunk) {
                return Err(TrustError::NumberOnSigningTrunk { trunk, number: pn });
            }
            if !numbers.insert(pn) {
                return Err(TrustError::NumberOnTwoTrunks(pn));
            }
        }
        super::signing::validate(
            &self.signing_identities,
            &self.signing_assignments,
            |t| trunks.contains_key(&t),
            &account_known,
        )
    }

    /// Checks that each number on a trunk is a number of the trunk's account: `owner`
    /// gives a `PN…`'s account, `None` for an unknown number. (Numbers live with the
    /// Trust Hub records, so [`Trunking::validate`] cannot see them.)
    pub fn validate_numbers(&self, owner: impl Fn(Sid) -> Option<Sid>) -> Result<(), TrustError> {
        for n in &self.trunk_phone_numbers {
            if owner(n.phone_number_sid) != Some(n.account_sid) {
                return Err(TrustError::TrunkingReference {
                    what: "trunk",
                    sid: n.trunk_sid,
                    field: "phone_number_sid",
                    target: n.phone_number_sid,
                    expected: "phone number",
                    account: n.account_sid,
                });
            }
        }
        Ok(())
    }

    pub fn is_empty(&self) -> bool {
        self.trunks.is_empty()
            && self.ip_access_control_lists.is_empty()
            && self.ip_addresses.is_empty()
            && self.trunk_ip_access_control_lists.is_empty()
            && self.credential_lists.is_empty()
            && self.credentials.is_empty()
            && self.trunk_credential_lists.is_empty()
            && self.origination_urls.is_empty()
            && self.trunk_phone_numbers.is_empty()
            && self.signing_identities.is_empty()
            && self.signing_assignments.is_empty()
    }
}

/// What the proxy knows of a provisioned trunk a request came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrunkHit {
    pub sid: Sid,
    pub account: Sid,
    /// The friendly name, or the SID when it has none (for logs).
    pub name: Arc<str>,
    /// The `origid` of its calls: its own, or a UUID derived from the trunk's SID.
    pub origid: Arc<str>,
    pub call_limit: Option<CallLimit>,
    pub level_gate: Option<LevelGate>,
    pub identity_policy: Option<TrunkIdentityPolicy>,
    pub role: TrunkRole,
    /// What its SBC's requested level counts for (REST signing).
    pub requested_level: RequestedLevel,
    /// A redirect trunk's 302 embeds the Identity in its Contact too.
    pub contact_identity: bool,
    /// Signed calls carry `P-Attestation-Indicator` and `P-Origination-ID`.
    pub attestation_headers: bool,
    pub signing_failure: Option<SigningFailure>,
    pub sign_policy: SignPolicy,
    pub unsigned_status: u16,
    /// Its enabled origination URLs by priority, lowest first; empty: the default
    /// upstream.
    pub origination: Arc<[OriginationTarget]>,
}

/// Why access lists cannot be in force together.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum TableError {
    /// Two ranges of two trunks without a domain share addresses. The message names both
    /// sides; the Trust Hub names only what the caller may see.
    #[error(
        "{net} (in {list}, admitted by trunk {trunk}) overlaps {other_net} (in {other_list}, admitted by trunk {other_trunk}): one source address must belong to one trunk"
    )]
    Overlap {
        net: IpNet,
        list: Sid,
        trunk: Sid,
        other_net: IpNet,
        other_list: Sid,
        other_trunk: Sid,
    },
    #[error("{0}")]
    Range(#[from] RangeError),
}

/// The realm credentials are created in and challenges name.
pub const DIGEST_REALM: &str = "callsign";

/// A trunk with a domain: the ranges its lists admit, and the credentials its
/// credential lists hold, by username.
#[derive(Debug)]
pub struct DomainTrunk {
    pub hit: Arc<TrunkHit>,
    nets: Vec<IpNet>,
    credentials: HashMap<String, Arc<Credential>>,
}

impl DomainTrunk {
    /// The credential of `username`, if one of the trunk's lists holds it.
    pub fn credential(&self, username: &str) -> Option<&Credential> {
        self.credentials.get(username).map(|c| &**c)
    }

    fn admits(&self, ip: IpAddr) -> bool {
        self.nets.iter().any(|n| n.contains(&ip))
    }
}

/// Where a request goes, by its source and its Request-URI host.
#[derive(Debug, Clone)]
pub enum Found<'t> {
    Trunk(&'t Arc<TrunkHit>),
    /// Addressed to a trunk's domain from an address its lists do not admit: the trunk
    /// takes it only with the credentials of one of its credential lists.
    Authenticate(&'t Arc<DomainTrunk>),
    Nothing,
}

/// A credential of a trunk's credential list, with the trunk.
pub type TrunkCredential = (Arc<Credential>, Arc<TrunkHit>);

/// Source address to trunk, by longest prefix, with one hash map per prefix length in
/// use; and domain to trunk.
#[derive(Debug, Default)]
pub struct TrunkTable {
    /// Trunks without a domain: (prefix length, is IPv6, masked address -> trunk),
    /// longest prefixes first.
    by_length: Vec<(u8, bool, HashMap<u128, Arc<TrunkHit>>)>,
    /// Trunks with a domain (lowercase).
    by_domain: HashMap<String, Arc<DomainTrunk>>,
    /// A number (`PN…`) on a trunk with origination URLs, to that trunk.
    by_number: HashMap<Sid, Arc<TrunkHit>>,
    /// Every trunk's credentials (of its credential lists), by username: what an SBC
    /// authenticates with to the REST API, whether or not the trunk has a domain.
    by_username: HashMap<String, Vec<TrunkCredential>>,
    entries: usize,
}

impl TrunkTable {
    /// Builds the table, refusing access lists of two different trunks that overlap.
    pub fn build(data: &Trunking) -> Result<TrunkTable, TableError> {
        let mut targets: HashMap<Sid, Vec<OriginationTarget>> = HashMap::new();
        for u in data.origination_urls.iter().filter(|u| u.enabled) {
            if let Ok((addr, tcp)) = sip_url_target(&u.sip_url) {
                targets
                    .entry(u.trunk_sid)
                    .or_default()
                    .push(OriginationTarget {
                        addr,
                        tcp,
                        priority: u.priority,
                        weight: u.weight,
                    });
            }
        }
        let hits: HashMap<Sid, Arc<TrunkHit>> = data
            .trunks
            .iter()
            .map(|t| {
                let mut mine = targets.remove(&t.sid).unwrap_or_default();
                mine.sort_by_key(|o| o.priority);
                (t.sid, Arc::new(hit(t, mine.into())))
            })
            .collect();
        let mut lists: HashMap<Sid, Vec<Sid>> = HashMap::new();
        for link in &data.trunk_ip_access_control_lists {
            if hits.contains_key(&link.trunk_sid) {
                lists
                    .entry(link.ip_access_control_list_sid)
                    .or_default()
                    .push(link.trunk_sid);
            }
        }
        // Every (range, list, trunk) in force.
        let mut ranges: Vec<(IpNet, Sid, Sid)> = Vec::new();
        for entry in &data.ip_addresses {
            let Some(trunks) = lists.get(&entry.ip_access_control_list_sid) else {
                continue;
            };
            let net = entry.net()?;
            for trunk in trunks {
                ranges.push((net, entry.ip_access_control_list_sid, *trunk));
            }
        }
        let entries = ranges.len();
        let domains: HashMap<Sid, String> = data
            .trunks
            .iter()
            .filter_map(|t| Some((t.sid, t.domain_name.as_ref()?.to_ascii_lowercase())))
            .collect();
        let mut credentials: HashMap<Sid, Vec<Arc<Credential>>> = HashMap::new();
        for c in &data.credentials {
            credentials
                .entry(c.credential_list_sid)
                .or_default()
                .push(Arc::new(c.clone()));
        }
        let mut by_domain: HashMap<String, DomainTrunk> = domains
            .iter()
            .map(|(sid, d)| {
                let trunk = DomainTrunk {
                    hit: Arc::clone(&hits[sid]),
                    nets: Vec::new(),
                    credentials: HashMap::new(),
                };
                (d.clone(), trunk)
            })
            .collect();
        let mut by_username: HashMap<String, Vec<TrunkCredential>> = HashMap::new();
        for link in &data.trunk_credential_lists {
            let Some(hit) = hits.get(&link.trunk_sid) else {
                continue;
            };
            for c in (credentials.get(&link.credential_list_sid).into_iter()).flatten() {
                (by_username.entry(c.username.clone()).or_default())
                    .push((Arc::clone(c), Arc::clone(hit)));
            }
        }
        for link in &data.trunk_credential_lists {
            let Some(trunk) = domains
                .get(&link.trunk_sid)
                .and_then(|d| by_domain.get_mut(d))
            else {
                continue;
            };
            for c in credentials
                .get(&link.credential_list_sid)
                .into_iter()
                .flatten()
            {
                trunk.credentials.insert(c.username.clone(), Arc::clone(c));
            }
        }
        ranges.retain(|(net, _, trunk)| match domains.get(trunk) {
            Some(d) => {
                if let Some(t) = by_domain.get_mut(d) {
                    t.nets.push(*net);
                }
                false
            }
            None => true,
        });
        let by_domain = by_domain
            .into_iter()
            .map(|(d, t)| (d, Arc::new(t)))
            .collect();
        check_overlaps(&mut ranges)?;
        let mut maps: HashMap<(u8, bool), HashMap<u128, Arc<TrunkHit>>> = HashMap::new();
        for (net, _, trunk) in &ranges {
            let (key, v6) = key(net.network());
            maps.entry((net.prefix_len(), v6))
                .or_default()
                .insert(mask(key, net.prefix_len(), v6), Arc::clone(&hits[trunk]));
        }
        let mut by_length: Vec<_> = maps.into_iter().map(|((l, v6), m)| (l, v6, m)).collect();
        by_length.sort_by_key(|(l, _, _)| std::cmp::Reverse(*l));
        let by_number = (data.trunk_phone_numbers.iter())
            .filter_map(|n| {
                let hit = hits.get(&n.trunk_sid)?;
                (!hit.origination.is_empty()).then(|| (n.phone_number_sid, Arc::clone(hit)))
            })
            .collect();
        Ok(TrunkTable {
            by_length,
            by_domain,
            by_number,
            by_username,
            entries,
        })
    }

    /// The trunk a request from `ip` addressed to `host` belongs to: the trunk of that
    /// domain when there is one, if its lists admit `ip` (or, when they do not and it
    /// has credential lists, once the request authenticates); otherwise the trunk
    /// without a domain whose lists admit `ip`.
    pub fn lookup(&self, ip: IpAddr, host: Option<&str>) -> Found<'_> {
        let ip = canonical(ip);
        if let Some(host) = host
            && let Some(trunk) = self.domain(host)
        {
            return if trunk.admits(ip) {
                Found::Trunk(&trunk.hit)
            } else if trunk.credentials.is_empty() {
                Found::Nothing
            } else {
                Found::Authenticate(trunk)
            };
        }
        self.by_source(ip).map_or(Found::Nothing, Found::Trunk)
    }

    /// A trunk whose lists admit `ip`, with or without a domain (for what is not
    /// addressed to a domain: a TCP connection, a response).
    pub fn admitting(&self, ip: IpAddr) -> Option<&Arc<TrunkHit>> {
        let ip = canonical(ip);
        self.by_source(ip).or_else(|| {
            (self.by_domain.values())
                .find(|t| t.admits(ip))
                .map(|t| &t.hit)
        })
    }

    /// The trunk that calls to number `pn` are delivered to, when the number is on a
    /// trunk with enabled origination URLs.
    pub fn number_trunk(&self, pn: Sid) -> Option<&Arc<TrunkHit>> {
        self.by_number.get(&pn)
    }

    /// The trunks whose credential lists hold a credential for `username`, with it.
    pub fn credentials(&self, username: &str) -> &[TrunkCredential] {
        self.by_username.get(username).map_or(&[], Vec::as_slice)
    }

    /// The trunk whose domain is `name` (any case, no trailing dot).
    pub fn domain_trunk(&self, name: &str) -> Option<&Arc<TrunkHit>> {
        self.domain(name).map(|t| &t.hit)
    }

    /// Whether any number is on a trunk that delivers its calls.
    pub fn routes_numbers(&self) -> bool {
        !self.by_number.is_empty()
    }

    /// Whether a trunk with a domain has credentials, and so takes requests from any
    /// address that authenticates.
    pub fn takes_credentials(&self) -> bool {
        self.by_domain.values().any(|t| !t.credentials.is_empty())
    }

    /// Whether any trunk has a domain (when none does, requests need not be looked at).
    pub fn has_domains(&self) -> bool {
        !self.by_domain.is_empty()
    }

    fn domain(&self, host: &str) -> Option<&Arc<DomainTrunk>> {
        let host = host.trim_end_matches('.');
        if host.bytes().any(|b| b.is_ascii_uppercase()) {
            self.by_domain.get(&host.to_ascii_lowercase())
        } else {
            self.by_domain.get(host)
        }
    }

    fn by_source(&self, ip: IpAddr) -> Option<&Arc<TrunkHit>> {
        let (addr, v6) = key(ip);
        self.by_length
            .iter()
            .filter(|(_, is_v6, _)| *is_v6 == v6)
            .find_map(|(len, _, map)| map.get(&mask(addr, *len, v6)))
    }

    /// How many (range, trunk) entries are in force.
    pub fn len(&self) -> usize {
        self.entries
    }

    pub fn is_empty(&self) -> bool {
        self.entries == 0
    }
}

fn hit(t: &Trunk, origination: Arc<[OriginationTarget]>) -> TrunkHit {
    let origid = t.origid();
    TrunkHit {
        sid: t.sid,
        account: t.account_sid,
        name: t
            .friendly_name
            .clone()
            .filter(|n| !n.is_empty())
            .unwrap_or_else(|| t.sid.to_string())
            .into(),
        origid: origid.hyphenated().to_string().into(),
        call_limit: t.call_limit,
        level_gate: t.level_gate,
        identity_policy: t.identity_policy,
        role: t.role(),
        requested_level: t.requested_level.unwrap_or_default(),
        contact_identity: t.contact_identity.unwrap_or(false),
        attestation_headers: t.attestation_headers.unwrap_or(false),
        signing_failure: t.signing_failure,
        sign_policy: t.sign_policy.unwrap_or_default(),
        unsigned_status: t.unsigned_status.unwrap_or(403),
        origination,
    }
}

/// An address as a number, and whether it is IPv6.
fn key(ip: IpAddr) -> (u128, bool) {
    match ip {
        IpAddr::V4(v4) => (u128::from(u32::from(v4)), false),
        IpAddr::V6(v6) => (u128::from(v6), true),
    }
}

fn mask(addr: u128, len: u8, v6: bool) -> u128 {
    let bits = if v6 { 128 } else { 32 };
    let host = u32::from(bits - len);
    if host >= 128 {
        0
    } else {
        (addr >> host) << host
    }
}

/// Refuses two ranges of different trunks that share an address. Ranges sorted by start:
/// when one overlaps an earlier range of another trunk, the furthest-reaching earlier
/// range reaches it too, and if that one is of its own trunk, it overlaps the other one,
/// which was caught when the later of the two was reached.
fn check_overlaps(ranges: &mut [(IpNet, Sid, Sid)]) -> Result<(), TableError> {
    let bounds = |net: &IpNet| {
        let (start, v6) = key(net.network());
        let (end, _) = key(net.broadcast());
        (v6, start, end)
    };
    ranges.sort_by_key(|(net, _, _)| bounds(net));
    let mut reach: Option<(bool, u128, usize)> = None;
    for i in 0..ranges.len() {
        let (v6, start, end) = bounds(&ranges[i].0);
        if let Some((r_v6, r_end, j)) = reach
            && r_v6 == v6
            && start <= r_end
            && ranges[j].2 != ranges[i].2
        {
            let (net, list, trunk) = ranges[i];
            let (other_net, other_list, other_trunk) = ranges[j];
            return Err(TableError::Overlap {
                net,
                list,
                trunk,
                other_net,
                other_list,
                other_trunk,
            });
        }
        if reach.is_none_or(|(r_v6, r_end, _)| r_v6 != v6 || end > r_end) {
            reach = Some((v6, end, i));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sid(prefix: &str, n: u128) -> Sid {
        Sid::from_u128(prefix, n).unwrap()
    }

    /// Trunk `t` with one list holding `ranges` ("a.b.c.d/len").
    fn data(trunks: &[(u128, &[&str])]) -> Trunking {
        let mut d = Trunking::default();
        for (t, ranges) in trunks {
            let account = sid("AC", *t);
            d.trunks.push(Trunk {
                friendly_name: Some(format!("trunk {t}")),
                ..Trunk::new(sid("TK", *t), account)
            });
            d.ip_access_control_lists.push(IpAccessControlList {
                sid: sid("AL", *t),
                account_sid: account,
                friendly_name: None,
                date_created: None,
                date_updated: None,
            });
            d.trunk_ip_access_control_lists.push(TrunkAcl {
                trunk_sid: sid("TK", *t),
                ip_access_control_list_sid: sid("AL", *t),
                account_sid: account,
                date_created: None,
            });
            for (i, r) in ranges.iter().enumerate() {
                let (ip, len) = r.split_once('/').unwrap();
                d.ip_addresses.push(IpAddress {
                    sid: sid("IP", *t * 1000 + i as u128),
                    account_sid: account,
                    ip_access_control_list_sid: sid("AL", *t),
                    friendly_name: None,
                    ip_address: ip.into(),
                    cidr_prefix_length: len.parse().unwrap(),
                    date_created: None,
                    date_updated: None,
                });
            }
        }
        d
    }

    fn who(table: &TrunkTable, ip: &str) -> Option<Sid> {
        found(table.lookup(ip.parse().unwrap(), None))
    }

    fn found(f: Found<'_>) -> Option<Sid> {
        match f {
            Found::Trunk(h) => Some(h.sid),
            _ => None,
        }
    }

    #[test]
    fn the_longest_prefix_of_the_one_trunk_that_admits_an_address_wins() {
        let table = TrunkTable::build(&data(&[
            (1, &["192.0.2.0/24", "192.0.2.7/32"]),
            (2, &["198.51.100.0/25", "2001:db8::/48"]),
            (3, &["198.51.100.128/25"]),
        ]))
        .unwrap();
        assert_eq!(table.len(), 5);
        assert_eq!(who(&table, "192.0.2.7"), Some(sid("TK", 1)));
        assert_eq!(who(&table, "192.0.2.255"), Some(sid("TK", 1)));
        assert_eq!(who(&table, "::ffff:192.0.2.9"), Some(sid("TK", 1)));
        assert_eq!(who(&table, "198.51.100.127"), Some(sid("TK", 2)));
        assert_eq!(who(&table, "198.51.100.128"), Some(sid("TK", 3)));
        assert_eq!(who(&table, "2001:db8:0:ffff::1"), Some(sid("TK", 2)));
        assert_eq!(who(&table, "2001:db8:1::1"), None);
        assert_eq!(who(&table, "192.0.3.1"), None);
        let Found::Trunk(hit) = table.lookup("192.0.2.1".parse().unwrap(), None) else {
            panic!("no trunk");
        };
        assert_eq!((hit.account, &*hit.name), (sid("AC", 1), "trunk 1"));
        assert_eq!(hit.origid.len(), 36);
    }

    #[test]
    fn a_trunk_without_a_list_or_a_list_without_a_trunk_admits_nothing() {
        let mut d = data(&[(1, &["192.0.2.0/24"])]);
        d.trunk_ip_access_control_lists.clear();
        assert!(TrunkTable::build(&d).unwrap().is_empty());
        let mut d = data(&[(1, &["192.0.2.0/24"])]);
        d.trunks.clear();
        assert!(TrunkTable::build(&d).unwrap().is_empty());
    }

    #[test]
    fn lists_of_two_trunks_may_not_overlap_in_any_arrangement() {
        for (a, b) in [
            ("192.0.2.0/24", "192.0.2.128/25"),
            ("192.0.2.128/25", "192.0.2.0/24"),
            ("192.0.2.9/32", "192.0.2.9/32"),
            ("10.0.0.0/8", "10.200.3.4/32"),
            ("2001:db8::/32", "2001:db8:5::/48"),
        ] {
            let err = TrunkTable::build(&data(&[(1, &[a]), (2, &[b])])).unwrap_err();
            assert!(matches!(err, TableError::Overlap { .. }), "{a} {b}: {err}");
        }
        // Nested ranges of one trunk, and a later trunk beyond a long one of the first.
        let fine = data(&[
            (1, &["10.0.0.0/8", "10.1.0.0/16", "10.1.2.3/32"]),
            (2, &["11.0.0.0/8"]),
            (3, &["9.255.255.255/32"]),
        ]);
        assert_eq!(TrunkTable::build(&fine).unwrap().len(), 5);
        // The furthest-reaching earlier range is the trunk's own, the overlap is with
        // another trunk's range before it.
        let tricky = data(&[(1, &["10.0.0.0/16"]), (2, &["10.0.0.0/8", "10.0.128.0/24"])]);
        assert!(TrunkTable::build(&tricky).is_err());
        // IPv4 and IPv6 never overlap.
        let mixed = data(&[(1, &["0.0.0.0/8"]), (2, &["::/32"])]);
        assert!(TrunkTable::build(&mixed).is_ok());
    }

    #[test]
    fn a_domain_picks_its_trunk_whose_lists_may_overlap_others() {
        let mut d = data(&[
            (1, &["192.0.2.0/24"]),
            (2, &["192.0.2.0/24"]),
            (3, &["198.51.100.0/24"]),
        ]);
        // Two trunks without a domain on one range: refused. With a domain, one of them
        // is reached only through it.
        assert!(TrunkTable::build(&d).is_err());
        d.trunks[1].domain_name = Some("PBX.Example".into());
        let table = TrunkTable::build(&d).unwrap();
        let at = |ip: &str, host| found(table.lookup(ip.parse().unwrap(), host));
        assert_eq!(at("192.0.2.5", None), Some(sid("TK", 1)));
        assert_eq!(at("192.0.2.5", Some("carrier.example")), Some(sid("TK", 1)));
        assert_eq!(at("192.0.2.5", Some("pbx.example")), Some(sid("TK", 2)));
        assert_eq!(at("192.0.2.5", Some("PBX.EXAMPLE.")), Some(sid("TK", 2)));
        // The domain's trunk must admit the source; there is no falling back.
        assert_eq!(at("198.51.100.5", Some("pbx.example")), None);
        assert_eq!(at("198.51.100.5", None), Some(sid("TK", 3)));
        // A domain trunk's own address, not addressed to it, still belongs to a trunk.
        d.ip_addresses[1].ip_address = "203.0.113.0".into();
        let table = TrunkTable::build(&d).unwrap();
        let admitting = |ip: &str| table.admitting(ip.parse().unwrap()).map(|h| h.sid);
        assert_eq!(admitting("203.0.113.1"), Some(sid("TK", 2)));
        assert_eq!(
            found(table.lookup("203.0.113.1".parse().unwrap(), None)),
            None
        );
        assert!(table.has_domains());
    }

    #[test]
    fn ranges_are_addresses_with_sane_prefixes() {
        assert_eq!(
            range(" 192.0.2.77 ", 24).unwrap().to_string(),
            "192.0.2.0/24"
        );
        assert_eq!(
            range("::ffff:192.0.2.1", 32).unwrap().to_string(),
            "192.0.2.1/32"
        );
        for (address, length) in [
            ("192.0.2.300", 32),
            ("192.0.2.1/32", 32),
            ("example.com", 32),
            ("", 32),
            ("192.0.2.1", 33),
            ("192.0.2.1", 7),
            ("0.0.0.0", 0),
            ("2001:db8::", 16),
            ("2001:db8::", 129),
        ] {
            assert!(range(address, length).is_err(), "{address}/{length}");
        }
    }

    #[test]
    fn a_number_is_on_one_verifying_trunk_of_its_account_and_routes_only_with_urls() {
        let mut d = data(&[(1, &["192.0.2.0/24"]), (2, &[])]);
        let account = sid("AC", 1);
        d.trunks[1].account_sid = account;
        d.ip_access_control_lists[1].account_sid = account;
        d.trunk_ip_access_control_lists[1].account_sid = account;
        let pn = sid("PN", 7);
        let link = |trunk: u128| TrunkPhoneNumber {
            trunk_sid: sid("TK", trunk),
            phone_number_sid: pn,
            account_sid: account,
            date_created: None,
        };
        let known = |a: Sid| a == account || a == sid("AC", 2);
        d.trunk_phone_numbers.push(link(2));
        assert!(matches!(
            d.validate(known),
            Err(TrustError::NumberOnSigningTrunk { trunk, number }) if trunk == sid("TK", 2) && number == pn
        ));
        d.trunks[1].role = Some(TrunkRole::Verify);
        d.validate(known).unwrap();
        // Owned by the account: anything else is a reference to nothing.
        d.validate_numbers(|n| (n == pn).then_some(account))
            .unwrap();
        for owner in [None, Some(sid("AC", 2))] {
            assert!(matches!(
                d.validate_numbers(|_| owner),
                Err(TrustError::TrunkingReference {
                    field: "phone_number_sid",
                    ..
                })
            ));
        }
        // One trunk per number, even the same one twice.
        d.trunk_phone_numbers.push(link(2));
        assert_eq!(d.validate(known), Err(TrustError::NumberOnTwoTrunks(pn)));
        d.trunk_phone_numbers.pop();
        // Another account's trunk, or not a PN.
        let mut other = d.clone();
        other.trunk_phone_numbers[0].account_sid = sid("AC", 2);
        assert!(matches!(
            other.validate(known),
            Err(TrustError::TrunkingReference {
                field: "trunk_sid",
                ..
            })
        ));
        let mut wrong = d.clone();
        wrong.trunk_phone_numbers[0].phone_number_sid = sid("TK", 9);
        assert!(matches!(
            wrong.validate(known),
            Err(TrustError::WrongSidKind {
                field: "phone_number_sid",
                ..
            })
        ));

        // The table routes the number only while its trunk has an enabled URL.
        assert!(TrunkTable::build(&d).unwrap().number_trunk(pn).is_none());
        let url = OriginationUrl {
            sid: sid("OU", 1),
            account_sid: account,
            trunk_sid: sid("TK", 2),
            friendly_name: None,
            sip_url: "sip:203.0.113.5".into(),
            priority: 1,
            weight: 1,
            enabled: false,
            date_created: None,
            date_updated: None,
        };
        d.origination_urls.push(url);
        let table = TrunkTable::build(&d).unwrap();
        assert!(!table.routes_numbers());
        d.origination_urls[0].enabled = true;
        let table = TrunkTable::build(&d).unwrap();
        let hit = table.number_trunk(pn).expect("routed");
        assert_eq!(hit.sid, sid("TK", 2));
        assert_eq!(hit.origination[0].addr, "203.0.113.5:5060".parse().unwrap());
    }
}
