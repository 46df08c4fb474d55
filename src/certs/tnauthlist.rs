//! The TNAuthList certificate extension (RFC 8226 section 9, OID 1.3.6.1.5.5.7.1.26):
//! which service provider codes and telephone numbers a certificate may sign for.
//!
//! ```text
//! TNAuthorizationList ::= SEQUENCE SIZE (1..MAX) OF TNEntry
//! TNEntry ::= CHOICE {
//!   spc   [0] ServiceProviderCode,      -- IA5String
//!   range [1] TelephoneNumberRange,     -- SEQUENCE { start TelephoneNumber, count INTEGER (2..MAX) }
//!   one   [2] TelephoneNumber }         -- IA5String (SIZE (1..15)) (FROM ("0123456789#*"))
//! ```
//!
//! The RFC 8226 module uses EXPLICIT tags, as SHAKEN certificates do: SPC `1234` is
//! `30 08 a0 06 16 04 31 32 33 34`. Decoding also accepts IMPLICIT tagging, which some
//! issuers produced from a misreading of the module; [`has_implicit_tags`] tells it apart
//! for the profile check. [`scope`] says which numbers a list covers.

use std::fmt;

use x509_parser::asn1_rs::{Any, Class, FromDer as _, Ia5String, Integer, Sequence, Tag};

pub mod scope;

/// Why a TNAuthList extension does not decode. Wrapped as [`super::CertError::TnAuthList`];
/// in the verifier it fails step 5 (437 Unsupported Credential).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TnAuthListError {
    #[error("not a DER SEQUENCE")]
    NotASequence,
    #[error("trailing bytes after the SEQUENCE")]
    TrailingBytes,
    #[error("truncated or malformed entry")]
    MalformedEntry,
    #[error("empty list")]
    Empty,
    #[error("extension appears twice")]
    Duplicate,
    #[error("entry is not a context-specific [0], [1] or [2]")]
    NotContextSpecific,
    #[error("unknown entry tag [{0}] (expected [0], [1] or [2])")]
    UnknownTag(u32),
    #[error("empty service provider code")]
    EmptySpc,
    #[error("malformed telephone number range")]
    MalformedRange,
    #[error("trailing bytes in telephone number range")]
    RangeTrailingBytes,
    #[error("range count is negative or too large")]
    RangeCountOutOfRange,
    #[error("range count must be at least 2")]
    RangeCountBelowTwo,
    #[error("expected an IA5String")]
    ExpectedIa5String,
    #[error("trailing bytes after IA5String")]
    Ia5StringTrailingBytes,
    #[error("IA5String holds non-ASCII bytes")]
    NonAscii,
    #[error("telephone number must be 1 to 15 of 0-9, # and *")]
    BadTelephoneNumber,
}

/// The extension OID, as components.
pub const OID: &[u64] = &[1, 3, 6, 1, 5, 5, 7, 1, 26];
/// The extension OID, dotted.
pub const OID_STR: &str = "1.3.6.1.5.5.7.1.26";

/// One entry of a TNAuthList. As JSON: `{"spc":"1234"}`, `{"tn":"12155550100"}` or
/// `{"range":{"start":"12155550100","count":100}}`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TnAuthEntry {
    /// Service provider code (the SHAKEN OCN-like identifier).
    Spc(String),
    /// `count` consecutive numbers starting at `start`.
    Range { start: String, count: u64 },
    /// A single telephone number.
    Tn(String),
}

impl fmt::Display for TnAuthEntry {
    /// `SPC 1234`, `TN 12155550121` or `range 12155550100 (+100)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TnAuthEntry::Spc(spc) => write!(f, "SPC {spc}"),
            TnAuthEntry::Tn(tn) => write!(f, "TN {tn}"),
            TnAuthEntry::Range { start, count } => write!(f, "range {start} (+{count})"),
        }
    }
}

/// DER of a TNAuthList holding exactly one SPC entry, with EXPLICIT tagging.
///
/// The caller checks the code is ASCII (IA5String); the bytes are written as given.
pub fn encode_spc(spc: &str) -> Vec<u8> {
    encode(&[TnAuthEntry::Spc(spc.to_owned())])
}

/// DER of a TNAuthList holding `entries`, in order, with EXPLICIT tagging: an SPC is
/// `[0] { IA5String }`, a range `[1] { SEQUENCE { IA5String, INTEGER } }` and a number
/// `[2] { IA5String }`.
///
/// Strings are written as given and a range's count whatever its value, so that tests
/// can write lists a relying party must refuse; the caller checks what it issues.
pub fn encode(entries: &[TnAuthEntry]) -> Vec<u8> {
    let mut list = Vec::new();
    for entry in entries {
        let (tag, inner) = match entry {
            TnAuthEntry::Spc(spc) => (0xa0, tlv(0x16, spc.as_bytes())),
            TnAuthEntry::Range { start, count } => {
                let fields = [tlv(0x16, start.as_bytes()), tlv(0x02, &der_uint(*count))].concat();
                (0xa1, tlv(0x30, &fields))
            }
            TnAuthEntry::Tn(tn) => (0xa2, tlv(0x16, tn.as_bytes())),
        };
        list.extend_from_slice(&tlv(tag, &inner));
    }
    tlv(0x30, &list)
}

/// Tag, DER length and contents.
fn tlv(tag: u8, contents: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(contents.len() + 4);
    out.push(tag);
    push_der_len(&mut out, contents.len());
    out.extend_from_slice(contents);
    out
}

/// The contents of a DER INTEGER holding `n`: minimal, with a leading zero when the top
/// bit would read as a sign.
fn der_uint(n: u64) -> Vec<u8> {
    let bytes = n.to_be_bytes();
    let skip = bytes.iter().take_while(|b| **b == 0).count().min(7);
    let mut out = Vec::with_capacity(9);
    if bytes.get(skip).is_some_and(|b| b & 0x80 != 0) {
        out.push(0);
    }
    out.extend_from_slice(bytes.get(skip..).unwrap_or_default());
    out
}

fn push_der_len(out: &mut Vec<u8>, len: usize) {
    if len < 0x80 {
        // Fits in the short form.
        out.push(len as u8);
        return;
    }
    let bytes = len.to_be_bytes();
    let skip = bytes.iter().take_while(|b| **b == 0).count();
    let significant = bytes.get(skip..).unwrap_or_default();
    out.push(0x80 | significant.len() as u8);
    out.extend_from_slice(significant);
}

/// Decodes the DER value of a TNAuthList extension.
pub fn decode(der: &[u8]) -> Result<Vec<TnAuthEntry>, TnAuthListError> {
    let (rest, list) = Sequence::from_der(der).map_err(|_| TnAuthListError::NotASequence)?;
    if !rest.is_empty() {
        return Err(TnAuthListError::TrailingBytes);
    }
    let mut entries = Vec::new();
    for item in list.der_iter::<Any, x509_parser::asn1_rs::Error>() {
        let item = item.map_err(|_| TnAuthListError::MalformedEntry)?;
        entries.push(decode_entry(&item)?);
    }
    if entries.is_empty() {
        return Err(TnAuthListError::Empty);
    }
    Ok(entries)
}

fn decode_entry(item: &Any<'_>) -> Result<TnAuthEntry, TnAuthListError> {
    if item.class() != Class::ContextSpecific {
        return Err(TnAuthListError::NotContextSpecific);
    }
    let explicit = item.header.is_constructed();
    match item.tag().0 {
        0 => {
            let spc = if explicit {
                exactly_one_ia5(item.data)?
            } else {
                ia5_content(item.data)?
            };
            if spc.is_empty() {
                return Err(TnAuthListError::EmptySpc);
            }
            Ok(TnAuthEntry::Spc(spc))
        }
        1 => {
            // EXPLICIT wraps a SEQUENCE; IMPLICIT replaces its tag with [1].
            let fields = if item.data.first() == Some(&0x30) {
                let (rest, seq) =
                    Any::from_der(item.data).map_err(|_| TnAuthListError::MalformedRange)?;
                if !rest.is_empty() || seq.tag() != Tag::Sequence {
                    return Err(TnAuthListError::MalformedRange);
                }
                seq.data
            } else {
                item.data
            };
            decode_range(fields)
        }
        2 => {
            let tn = if explicit {
                exactly_one_ia5(item.data)?
            } else {
                ia5_content(item.data)?
            };
            check_tn(&tn)?;
            Ok(TnAuthEntry::Tn(tn))
        }
        tag => Err(TnAuthListError::UnknownTag(tag)),
    }
}

/// Whether any entry of a TNAuthList (the extension's DER value) uses IMPLICIT tagging,
/// which [`decode`] accepts but RFC 8226's EXPLICIT-tagged module does not: an SPC or
/// a number `[0]`/`[2]` that is primitive, or a range `[1]` that does not wrap a
/// SEQUENCE. A list that does not decode is not judged here.
pub fn has_implicit_tags(der: &[u8]) -> bool {
    let Ok((_, list)) = Sequence::from_der(der) else {
        return false;
    };
    list.der_iter::<Any, x509_parser::asn1_rs::Error>()
        .flatten()
        .any(|item| {
            item.class() == Class::ContextSpecific
                && match item.tag().0 {
                    0 | 2 => !item.header.is_constructed(),
                    1 => item.data.first() != Some(&0x30),
                    _ => false,
                }
        })
}

/// `start TelephoneNumber, count INTEGER` (the contents of the range SEQUENCE).
fn decode_range(fields: &[u8]) -> Result<TnAuthEntry, TnAuthListError> {
    let malformed = |_| TnAuthListError::MalformedRange;
    let (rest, start) = Ia5String::from_der(fields).map_err(malformed)?;
    let (rest, count) = Integer::from_der(rest).map_err(malformed)?;
    if !rest.is_empty() {
        return Err(TnAuthListError::RangeTrailingBytes);
    }
    let start = start.string();
    check_tn(&start)?;
    let count = count
        .as_u64()
        .map_err(|_| TnAuthListError::RangeCountOutOfRange)?;
    if count < 2 {
        return Err(TnAuthListError::RangeCountBelowTwo);
    }
    Ok(TnAuthEntry::Range { start, count })
}

/// Contents of an EXPLICIT tag that must be exactly one IA5String.
fn exactly_one_ia5(data: &[u8]) -> Result<String, TnAuthListError> {
    let (rest, s) = Ia5String::from_der(data).map_err(|_| TnAuthListError::ExpectedIa5String)?;
    if !rest.is_empty() {
        return Err(TnAuthListError::Ia5StringTrailingBytes);
    }
    Ok(s.string())
}

/// Contents of an IMPLICIT IA5String.
fn ia5_content(data: &[u8]) -> Result<String, TnAuthListError> {
    if !data.is_ascii() {
        return Err(TnAuthListError::NonAscii);
    }
    String::from_utf8(data.to_vec()).map_err(|_| TnAuthListError::NonAscii)
}

fn check_tn(tn: &str) -> Result<(), TnAuthListError> {
    let ok = (1..=15).contains(&tn.len())
        && tn
            .bytes()
            .all(|b| b.is_ascii_digit() || b == b'#' || b == b'*');
    if ok {
        Ok(())
    } else {
        Err(TnAuthListError::BadTelephoneNumber)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spc_1234_matches_the_brief_bytes() {
        assert_eq!(
            encode_spc("1234"),
            [0x30, 0x08, 0xa0, 0x06, 0x16, 0x04, 0x31, 0x32, 0x33, 0x34]
        );
    }

    #[test]
    fn spc_round_trips() {
        for spc in ["1234", "A", "709J", &"9".repeat(200)] {
            assert_eq!(
                decode(&encode_spc(spc)),
                Ok(vec![TnAuthEntry::Spc(spc.to_string())]),
                "{spc}"
            );
        }
    }

    #[test]
    fn long_spc_uses_long_form_length() {
        let der = encode_spc(&"1".repeat(200));
        // 200-byte string: 16 81 c8; wrapped: a0 81 cb; outer: 30 81 ce.
        assert_eq!(der.get(..3), Some(&[0x30, 0x81, 0xce][..]));
        assert_eq!(der.len(), 3 + 3 + 3 + 200);
    }

    #[test]
    fn numbers_and_ranges_round_trip_with_explicit_tags() {
        let entries = vec![
            TnAuthEntry::Tn("12155550121".into()),
            TnAuthEntry::Range {
                start: "12155550100".into(),
                count: 100,
            },
            TnAuthEntry::Spc("1234".into()),
            // 0x80 needs a leading zero; u64::MAX takes nine octets.
            TnAuthEntry::Range {
                start: "1".into(),
                count: 128,
            },
            TnAuthEntry::Range {
                start: "1".into(),
                count: u64::MAX,
            },
        ];
        let der = encode(&entries);
        assert_eq!(decode(&der), Ok(entries));
        assert!(!has_implicit_tags(&der));
        // [2] { "7" } and [1] { SEQUENCE { "55", 2 } }, byte for byte.
        assert_eq!(
            encode(&[TnAuthEntry::Tn("7".into())]),
            [0x30, 0x05, 0xa2, 0x03, 0x16, 0x01, b'7']
        );
        assert_eq!(
            encode(&[TnAuthEntry::Range {
                start: "55".into(),
                count: 2
            }]),
            [
                0x30, 0x0b, 0xa1, 0x09, 0x30, 0x07, 0x16, 0x02, b'5', b'5', 0x02, 0x01, 0x02
            ]
        );
        assert_eq!(der_uint(0), [0]);
        assert_eq!(der_uint(127), [127]);
        assert_eq!(der_uint(128), [0, 128]);
        assert_eq!(der_uint(256), [1, 0]);
    }

    #[test]
    fn entries_display_as_certs_check_prints_them() {
        let shown: Vec<String> = [
            TnAuthEntry::Spc("709J".into()),
            TnAuthEntry::Tn("12155550121".into()),
            TnAuthEntry::Range {
                start: "12155550100".into(),
                count: 100,
            },
        ]
        .iter()
        .map(ToString::to_string)
        .collect();
        assert_eq!(
            shown,
            ["SPC 709J", "TN 12155550121", "range 12155550100 (+100)"]
        );
    }

    #[test]
    fn decodes_range_and_single_numbers() {
        // SEQUENCE { [1] SEQUENCE { "12155550100", 100 }, [2] "12155550199" }
        let der = [
            0x30, 0x1f, //
            0xa1, 0x10, 0x30, 0x0e, 0x16, 0x09, b'1', b'2', b'1', b'5', b'5', b'5', b'0', b'1',
            b'0', 0x02, 0x01, 0x64, //
            0xa2, 0x0b, 0x16, 0x09, b'1', b'2', b'1', b'5', b'5', b'5', b'0', b'1', b'9',
        ];
        assert_eq!(
            decode(&der),
            Ok(vec![
                TnAuthEntry::Range {
                    start: "121555010".into(),
                    count: 100
                },
                TnAuthEntry::Tn("121555019".into()),
            ])
        );
    }

    #[test]
    fn accepts_implicit_tagging() {
        // SEQUENCE { [0] IMPLICIT "1234", [1] IMPLICIT { "55", 2 }, [2] IMPLICIT "7" }
        let der = [
            0x30, 0x12, //
            0x80, 0x04, b'1', b'2', b'3', b'4', //
            0xa1, 0x07, 0x16, 0x02, b'5', b'5', 0x02, 0x01, 0x02, //
            0x82, 0x01, b'7',
        ];
        assert_eq!(
            decode(&der),
            Ok(vec![
                TnAuthEntry::Spc("1234".into()),
                TnAuthEntry::Range {
                    start: "55".into(),
                    count: 2
                },
                TnAuthEntry::Tn("7".into()),
            ])
        );
    }

    #[test]
    fn implicit_tags_are_told_apart_from_explicit() {
        assert!(!has_implicit_tags(&encode_spc("1234")));
        // SEQUENCE { [1] { SEQUENCE { "55", 2 } }, [2] { "7" } }: EXPLICIT.
        let explicit = [
            0x30, 0x10, 0xa1, 0x09, 0x30, 0x07, 0x16, 0x02, b'5', b'5', 0x02, 0x01, 0x02, //
            0xa2, 0x03, 0x16, 0x01, b'7',
        ];
        assert!(!has_implicit_tags(&explicit));
        for implicit in [
            &[0x30, 0x06, 0x80, 0x04, b'1', b'2', b'3', b'4'][..],
            &[
                0x30, 0x09, 0xa1, 0x07, 0x16, 0x02, b'5', b'5', 0x02, 0x01, 0x02,
            ][..],
            &[0x30, 0x03, 0x82, 0x01, b'7'][..],
        ] {
            assert!(decode(implicit).is_ok(), "{implicit:02x?}");
            assert!(has_implicit_tags(implicit), "{implicit:02x?}");
        }
        assert!(!has_implicit_tags(b"junk"));
    }

    #[test]
    fn truncated_inputs_are_errors_never_panics() {
        let good = encode_spc("1234");
        for end in 0..good.len() {
            assert!(decode(&good[..end]).is_err(), "prefix of {end} bytes");
        }
        let mut long = encode_spc("1234");
        long.push(0);
        assert_eq!(decode(&long), Err(TnAuthListError::TrailingBytes));
    }

    #[test]
    fn malformed_entries_are_reported() {
        let cases: &[(&[u8], TnAuthListError)] = &[
            (&[0x30, 0x00], TnAuthListError::Empty),
            (&[0x04, 0x00], TnAuthListError::NotASequence),
            (
                &[0x30, 0x02, 0x16, 0x00],
                TnAuthListError::NotContextSpecific,
            ),
            (&[0x30, 0x02, 0xa3, 0x00], TnAuthListError::UnknownTag(3)),
            (
                &[0x30, 0x04, 0xa0, 0x02, 0x16, 0x00],
                TnAuthListError::EmptySpc,
            ),
            (
                &[0x30, 0x04, 0xa0, 0x02, 0x04, 0x00],
                TnAuthListError::ExpectedIa5String,
            ),
            (
                &[0x30, 0x05, 0xa2, 0x03, 0x16, 0x01, b'x'],
                TnAuthListError::BadTelephoneNumber,
            ),
            (
                &[
                    0x30, 0x09, 0xa1, 0x07, 0x30, 0x05, 0x16, 0x00, 0x02, 0x01, 0x05,
                ],
                TnAuthListError::BadTelephoneNumber,
            ),
            (
                &[
                    0x30, 0x0a, 0xa1, 0x08, 0x30, 0x06, 0x16, 0x01, b'1', 0x02, 0x01, 0x01,
                ],
                TnAuthListError::RangeCountBelowTwo,
            ),
            (
                &[
                    0x30, 0x0a, 0xa1, 0x08, 0x30, 0x06, 0x16, 0x01, b'1', 0x02, 0x01, 0xff,
                ],
                TnAuthListError::RangeCountOutOfRange,
            ),
            (
                &[0x30, 0x04, 0x80, 0x02, 0xc3, 0xa9],
                TnAuthListError::NonAscii,
            ),
        ];
        for (der, reason) in cases {
            assert_eq!(decode(der), Err(*reason), "{der:02x?}");
        }
    }
}
