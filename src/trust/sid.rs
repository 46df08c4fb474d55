//! Twilio-style resource identifiers (`AC…`, `PN…`, `BU…`): a two-letter kind prefix and
//! 32 lowercase hex digits, stored in 18 bytes.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use thiserror::Error;

/// A resource SID such as `AC0123456789abcdef0123456789abcdef`. `Copy`, 18 bytes.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Sid {
    prefix: [u8; 2],
    value: [u8; 16],
}

/// Why a string is not a SID.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum SidError {
    #[error("`{0}` is not a SID: expected two capital letters and 32 lowercase hex digits")]
    Malformed(String),
    #[error("`{found}` is not a {expected}… SID")]
    WrongPrefix { found: String, expected: String },
}

impl Sid {
    /// Parses a SID of any kind.
    pub fn parse_any(s: &str) -> Result<Sid, SidError> {
        let malformed = || SidError::Malformed(s.to_owned());
        let bytes = s.as_bytes();
        if bytes.len() != 34 {
            return Err(malformed());
        }
        let (prefix, hex) = bytes.split_at(2);
        let prefix: [u8; 2] = prefix.try_into().map_err(|_| malformed())?;
        if !prefix.iter().all(u8::is_ascii_uppercase) {
            return Err(malformed());
        }
        let mut value = [0u8; 16];
        for (out, pair) in value.iter_mut().zip(hex.chunks_exact(2)) {
            let (hi, lo) = match pair {
                [hi, lo] => (nibble(*hi), nibble(*lo)),
                _ => (None, None),
            };
            *out = (hi.ok_or_else(malformed)? << 4) | lo.ok_or_else(malformed)?;
        }
        Ok(Sid { prefix, value })
    }

    /// Parses a SID and checks its kind, e.g. `Sid::parse(s, "AC")`.
    pub fn parse(s: &str, expected_prefix: &str) -> Result<Sid, SidError> {
        let sid = Sid::parse_any(s)?;
        if sid.prefix() != expected_prefix {
            return Err(SidError::WrongPrefix {
                found: s.to_owned(),
                expected: expected_prefix.to_owned(),
            });
        }
        Ok(sid)
    }

    /// Builds a SID from its kind and numeric value, e.g. `Sid::from_u128("PN", 7)`.
    pub fn from_u128(prefix: &str, value: u128) -> Result<Sid, SidError> {
        let malformed = || SidError::Malformed(format!("{prefix}{value:032x}"));
        let prefix: [u8; 2] = prefix.as_bytes().try_into().map_err(|_| malformed())?;
        if !prefix.iter().all(u8::is_ascii_uppercase) {
            return Err(malformed());
        }
        Ok(Sid {
            prefix,
            value: value.to_be_bytes(),
        })
    }

    /// A SID of kind `prefix` (two capital letters, e.g. `*b"AC"`) with `value`.
    pub const fn from_parts(prefix: [u8; 2], value: u128) -> Sid {
        assert!(prefix[0].is_ascii_uppercase() && prefix[1].is_ascii_uppercase());
        Sid {
            prefix,
            value: value.to_be_bytes(),
        }
    }

    /// The two-letter kind, e.g. `"AC"`.
    pub fn prefix(&self) -> &str {
        std::str::from_utf8(&self.prefix).unwrap_or("")
    }

    /// Whether this SID is of the given kind.
    pub fn is(&self, prefix: &str) -> bool {
        self.prefix == prefix.as_bytes()
    }
}

fn nibble(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        _ => None,
    }
}

impl fmt::Display for Sid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.prefix())?;
        for b in self.value {
            write!(f, "{b:02x}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for Sid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl Serialize for Sid {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Sid {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl serde::de::Visitor<'_> for Visitor {
            type Value = Sid;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a SID string")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Sid, E> {
                Sid::parse_any(v).map_err(E::custom)
            }
        }
        deserializer.deserialize_str(Visitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const AC: &str = "AC0123456789abcdef0123456789abcdef";

    #[test]
    fn parses_and_prints_round_trip() {
        let sid = Sid::parse(AC, "AC").unwrap();
        assert_eq!(sid.to_string(), AC);
        assert_eq!(format!("{sid:?}"), AC);
        assert_eq!(sid.prefix(), "AC");
        assert!(sid.is("AC") && !sid.is("PN"));
        assert_eq!(std::mem::size_of::<Sid>(), 18);
    }

    #[test]
    fn rejects_malformed() {
        for bad in [
            "",
            "AC",
            "AC0123456789abcdef0123456789abcde",
            "AC0123456789abcdef0123456789abcdef0",
            "AC0123456789ABCDEF0123456789abcdef",
            "ac0123456789abcdef0123456789abcdef",
            "A10123456789abcdef0123456789abcdef",
            "AC0123456789abcdef0123456789abcdeg",
            "AC0123456789abcdef0123456789abcdé",
        ] {
            assert!(
                matches!(Sid::parse_any(bad), Err(SidError::Malformed(_))),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn checks_the_expected_prefix() {
        assert_eq!(
            Sid::parse(AC, "PN"),
            Err(SidError::WrongPrefix {
                found: AC.into(),
                expected: "PN".into()
            })
        );
    }

    #[test]
    fn from_u128_matches_parse() {
        let sid = Sid::from_u128("PN", 0xff).unwrap();
        assert_eq!(sid.to_string(), "PN000000000000000000000000000000ff");
        assert!(Sid::from_u128("pn", 1).is_err());
        assert!(Sid::from_u128("PNX", 1).is_err());
    }

    #[test]
    fn serde_as_string() {
        let sid: Sid = serde_json::from_str(&format!("\"{AC}\"")).unwrap();
        assert_eq!(serde_json::to_string(&sid).unwrap(), format!("\"{AC}\""));
        let err = serde_json::from_str::<Sid>("\"ACxyz\"").unwrap_err();
        assert!(err.to_string().contains("ACxyz"), "{err}");
    }
}
