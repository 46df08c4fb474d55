//! SIP digest authentication (RFC 3261 section 22, with RFC 8760's SHA-256): the
//! `Digest` credentials of a `Proxy-Authorization` header, the response they must carry
//! (RFC 7616 section 3.4.1, `qop=auth` or none), and the challenge of a
//! `Proxy-Authenticate` header. Pure: nonces and their lifetime are the proxy's.

use std::fmt::Write as _;

use md5::Digest as _;

use thiserror::Error;

use super::grammar::quoted_end;

/// The hash a digest is computed with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Algorithm {
    Md5,
    Sha256,
}

impl Algorithm {
    /// The name in `algorithm=`.
    pub fn as_str(self) -> &'static str {
        match self {
            Algorithm::Md5 => "MD5",
            Algorithm::Sha256 => "SHA-256",
        }
    }

    fn parse(s: &str) -> Option<Algorithm> {
        if s.eq_ignore_ascii_case("MD5") {
            Some(Algorithm::Md5)
        } else if s.eq_ignore_ascii_case("SHA-256") {
            Some(Algorithm::Sha256)
        } else {
            None
        }
    }

    /// The lowercase hex digest of `data`.
    pub fn hex(self, data: &str) -> String {
        let bytes: Vec<u8> = match self {
            Algorithm::Md5 => md5::Md5::digest(data.as_bytes()).to_vec(),
            Algorithm::Sha256 => ring::digest::digest(&ring::digest::SHA256, data.as_bytes())
                .as_ref()
                .to_vec(),
        };
        let mut out = String::with_capacity(bytes.len() * 2);
        for b in bytes {
            let _ = write!(out, "{b:02x}");
        }
        out
    }
}

/// Why a `Proxy-Authorization` value is not usable digest credentials.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum DigestError {
    #[error("not Digest credentials")]
    NotDigest,
    #[error("malformed Digest credentials")]
    Malformed,
    #[error("Digest credentials without {0}")]
    Missing(&'static str),
    #[error("unsupported Digest algorithm {0}")]
    Algorithm(String),
    #[error("unsupported qop {0}")]
    Qop(String),
}

/// `Digest` credentials, borrowed from the header value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credentials<'a> {
    pub username: &'a str,
    pub realm: &'a str,
    pub nonce: &'a str,
    pub uri: &'a str,
    pub response: &'a str,
    pub algorithm: Algorithm,
    /// `auth`, or absent (RFC 2069 compatibility).
    pub qop: Option<&'a str>,
    /// Eight hex digits with `qop`.
    pub nc: Option<&'a str>,
    pub cnonce: Option<&'a str>,
}

impl<'a> Credentials<'a> {
    /// Parses `Digest username="…", realm="…", …`. Quoted values are taken as written
    /// (a backslash escape is refused rather than guessed at).
    pub fn parse(value: &'a str) -> Result<Credentials<'a>, DigestError> {
        let value = value.trim();
        let (scheme, rest) = value
            .split_once([' ', '\t'])
            .ok_or(DigestError::NotDigest)?;
        if !scheme.eq_ignore_ascii_case("Digest") {
            return Err(DigestError::NotDigest);
        }
        let mut fields: [Option<&'a str>; 9] = [None; 9];
        const NAMES: [&str; 9] = [
            "username",
            "realm",
            "nonce",
            "uri",
            "response",
            "algorithm",
            "qop",
            "nc",
            "cnonce",
        ];
        for (name, v) in params(rest)? {
            if let Some(i) = NAMES.iter().position(|n| n.eq_ignore_ascii_case(name))
                && fields[i].replace(v).is_some()
            {
                return Err(DigestError::Malformed);
            }
        }
        let required = |i: usize| fields[i].ok_or(DigestError::Missing(NAMES[i]));
        let algorithm = match fields[5] {
            None => Algorithm::Md5,
            Some(a) => Algorithm::parse(a).ok_or_else(|| DigestError::Algorithm(a.to_owned()))?,
        };
        let qop = fields[6];
        if let Some(q) = qop
            && !q.eq_ignore_ascii_case("auth")
        {
            return Err(DigestError::Qop(q.to_owned()));
        }
        let (nc, cnonce) = (fields[7], fields[8]);
        if qop.is_some() {
            let nc = nc.ok_or(DigestError::Missing("nc"))?;
            if nc.len() != 8 || !nc.bytes().all(|b| b.is_ascii_hexdigit()) {
                return Err(DigestError::Malformed);
            }
            cnonce.ok_or(DigestError::Missing("cnonce"))?;
        }
        Ok(Credentials {
            username: required(0)?,
            realm: required(1)?,
            nonce: required(2)?,
            uri: required(3)?,
            response: required(4)?,
            algorithm,
            qop,
            nc,
            cnonce,
        })
    }

    /// The nonce count, with `qop`.
    pub fn count(&self) -> Option<u32> {
        u32::from_str_radix(self.nc?, 16).ok()
    }

    /// Whether `response` is right for `method`, given `ha1` (the hex
    /// `H(username:realm:password)` of the credentials' algorithm).
    pub fn verify(&self, method: &str, ha1: &str) -> bool {
        let expected = response(self, method, ha1);
        // Constant time in the length: the response is public, the secret is not.
        expected.len() == self.response.len()
            && expected
                .bytes()
                .zip(self.response.bytes())
                .fold(0u8, |acc, (a, b)| acc | (a ^ b.to_ascii_lowercase()))
                == 0
    }
}

/// `name=value` pairs of a parameter list, values unquoted.
fn params(s: &str) -> Result<Vec<(&str, &str)>, DigestError> {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    loop {
        while b
            .get(i)
            .is_some_and(|c| matches!(c, b' ' | b'\t' | b',' | b'\r' | b'\n'))
        {
            i += 1;
        }
        if i >= b.len() {
            return Ok(out);
        }
        let eq = i + s[i..].find('=').ok_or(DigestError::Malformed)?;
        let name = s[i..eq].trim();
        let mut j = eq + 1;
        while b.get(j).is_some_and(|c| matches!(c, b' ' | b'\t')) {
            j += 1;
        }
        let value = if b.get(j) == Some(&b'"') {
            let end = quoted_end(b, j).ok_or(DigestError::Malformed)?;
            let inner = &s[j + 1..end];
            if inner.contains('\\') {
                return Err(DigestError::Malformed);
            }
            i = end + 1;
            inner
        } else {
            let end = j + s[j..].find(',').unwrap_or(s.len() - j);
            i = end;
            s[j..end].trim()
        };
        if name.is_empty() || !name.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'-') {
            return Err(DigestError::Malformed);
        }
        out.push((name, value));
    }
}

/// `H(username:realm:password)` in hex.
pub fn ha1(algorithm: Algorithm, username: &str, realm: &str, password: &str) -> String {
    algorithm.hex(&format!("{username}:{realm}:{password}"))
}

/// The response the credentials must carry for `method` (RFC 7616 3.4.1; RFC 2069's
/// form without `qop`).
pub fn response(c: &Credentials<'_>, method: &str, ha1: &str) -> String {
    let h = c.algorithm;
    let ha2 = h.hex(&format!("{method}:{}", c.uri));
    match (c.qop, c.nc, c.cnonce) {
        (Some(qop), Some(nc), Some(cnonce)) => {
            h.hex(&format!("{ha1}:{}:{nc}:{cnonce}:{qop}:{ha2}", c.nonce))
        }
        _ => h.hex(&format!("{ha1}:{}:{ha2}", c.nonce)),
    }
}

/// A `Proxy-Authenticate` value.
pub fn challenge(algorithm: Algorithm, realm: &str, nonce: &str, stale: bool) -> String {
    let stale = if stale { ", stale=true" } else { "" };
    format!(
        "Digest realm=\"{realm}\", nonce=\"{nonce}\", algorithm={}, qop=\"auth\"{stale}",
        algorithm.as_str()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn verify(header: &str, method: &str, password: &str) -> bool {
        let c = Credentials::parse(header).unwrap();
        c.verify(method, &ha1(c.algorithm, c.username, c.realm, password))
    }

    #[test]
    fn rfc_2617_and_rfc_7616_examples() {
        // RFC 2617 section 3.5.
        let rfc2617 = r#"Digest username="Mufasa", realm="testrealm@host.com",
            nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", uri="/dir/index.html", qop=auth,
            nc=00000001, cnonce="0a4f113b", response="6629fae49393a05397450978507c4ef1",
            opaque="5ccc069c403ebaf9f0171e9517f40e41""#;
        assert!(verify(rfc2617, "GET", "Circle Of Life"));
        assert!(!verify(rfc2617, "GET", "Circle of Life"));
        assert!(!verify(rfc2617, "POST", "Circle Of Life"));
        // RFC 7616 section 3.9.1, with MD5 and with SHA-256.
        let rfc7616 = |algorithm: &str, response: &str| {
            format!(
                r#"Digest username="Mufasa", realm="http-auth@example.org", uri="/dir/index.html",
                algorithm={algorithm}, nonce="7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v",
                nc=00000001, cnonce="f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ", qop=auth,
                response="{response}", opaque="FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS""#
            )
        };
        let md5 = rfc7616("MD5", "8ca523f5e9506fed4657c9700eebdbec");
        let sha = rfc7616(
            "SHA-256",
            "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1",
        );
        assert!(verify(&md5, "GET", "Circle of Life"));
        assert!(verify(&sha, "GET", "Circle of Life"));
        assert_eq!(Credentials::parse(&sha).unwrap().count(), Some(1));
    }

    #[test]
    fn what_is_not_clean_digest_credentials_is_refused() {
        let ok = r#"Digest username="a", realm="r", nonce="n", uri="sip:x", response="00""#;
        assert!(Credentials::parse(ok).is_ok());
        for (bad, error) in [
            (r#"Basic YWxhZGRpbjpvcGVuc2VzYW1l"#, DigestError::NotDigest),
            ("Digest", DigestError::NotDigest),
            (
                r#"Digest realm="r", nonce="n", uri="sip:x", response="00""#,
                DigestError::Missing("username"),
            ),
            (
                r#"Digest username="a", username="b", realm="r", nonce="n", uri="u", response="0""#,
                DigestError::Malformed,
            ),
            (
                r#"Digest username="a\"b", realm="r", nonce="n", uri="u", response="0""#,
                DigestError::Malformed,
            ),
            (
                r#"Digest username="a, realm="r", nonce="n", uri="u", response="0"#,
                DigestError::Malformed,
            ),
            (
                r#"Digest username="a", realm="r", nonce="n", uri="u", response="0", algorithm=SHA-512-256"#,
                DigestError::Algorithm("SHA-512-256".into()),
            ),
            (
                r#"Digest username="a", realm="r", nonce="n", uri="u", response="0", qop=auth-int, nc=00000001, cnonce="c""#,
                DigestError::Qop("auth-int".into()),
            ),
            (
                r#"Digest username="a", realm="r", nonce="n", uri="u", response="0", qop=auth, nc=1, cnonce="c""#,
                DigestError::Malformed,
            ),
            (
                r#"Digest username="a", realm="r", nonce="n", uri="u", response="0", qop=auth, nc=00000001"#,
                DigestError::Missing("cnonce"),
            ),
        ] {
            assert_eq!(Credentials::parse(bad), Err(error), "{bad}");
        }
    }

    #[test]
    fn the_challenge_names_its_algorithm_and_staleness() {
        assert_eq!(
            challenge(Algorithm::Sha256, "callsign", "abc", true),
            r#"Digest realm="callsign", nonce="abc", algorithm=SHA-256, qop="auth", stale=true"#
        );
    }
}
