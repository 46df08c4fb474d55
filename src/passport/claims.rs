//! PASSporT claims and their canonical JSON form (RFC 8225 section 9, RFC 8588):
//! keys in lexicographic order, no whitespace, `iat` as an integer.

use std::fmt::Write as _;

use super::Attest;

/// The claims of one SHAKEN PASSporT, borrowed from the caller.
///
/// Telephone numbers are canonical digit strings (no `+`, no separators); this module
/// does not check them, it only encodes them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Claims<'a> {
    pub attest: Attest,
    pub dest: &'a [&'a str],
    pub iat: i64,
    pub orig: &'a str,
    pub origid: &'a str,
}

/// Appends the canonical JSON payload for `claims` to `out`.
///
/// `{"attest":"A","dest":{"tn":["12155550131"]},"iat":1443208345,"orig":{"tn":"12155550121"},"origid":"..."}`
pub fn payload_json(claims: &Claims<'_>, out: &mut String) {
    out.push_str("{\"attest\":\"");
    out.push_str(claims.attest.as_str());
    out.push_str("\",\"dest\":{\"tn\":[");
    for (i, tn) in claims.dest.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        push_json_string(out, tn);
    }
    out.push_str("]},\"iat\":");
    // Writing to a String cannot fail.
    let _ = write!(out, "{}", claims.iat);
    out.push_str(",\"orig\":{\"tn\":");
    push_json_string(out, claims.orig);
    out.push_str("},\"origid\":");
    push_json_string(out, claims.origid);
    out.push('}');
}

/// The canonical JSON protected header for a SHAKEN PASSporT signed with ES256.
///
/// `{"alg":"ES256","ppt":"shaken","typ":"passport","x5u":"..."}`
pub fn header_json(x5u: &str) -> String {
    let mut out = String::with_capacity(56 + x5u.len());
    out.push_str("{\"alg\":\"ES256\",\"ppt\":\"shaken\",\"typ\":\"passport\",\"x5u\":");
    push_json_string(&mut out, x5u);
    out.push('}');
    out
}

/// Appends `s` as a JSON string literal (RFC 8259 section 7), escaping the way
/// serde_json does: `"` and `\`, short forms for \b \f \n \r \t, `\u00XX` for the other
/// control characters. Everything else is copied as UTF-8.
fn push_json_string(out: &mut String, s: &str) {
    out.push('"');
    let mut start = 0;
    for (i, b) in s.bytes().enumerate() {
        let escape: &str = match b {
            b'"' => "\\\"",
            b'\\' => "\\\\",
            0x08 => "\\b",
            0x0c => "\\f",
            b'\n' => "\\n",
            b'\r' => "\\r",
            b'\t' => "\\t",
            0x00..=0x1f => "",
            _ => continue,
        };
        // `i` is at an ASCII byte, so both slices end on char boundaries.
        out.push_str(&s[start..i]);
        if escape.is_empty() {
            const HEX: &[u8; 16] = b"0123456789abcdef";
            out.push_str("\\u00");
            out.push(char::from(HEX[usize::from(b >> 4)]));
            out.push(char::from(HEX[usize::from(b & 0x0f)]));
        } else {
            out.push_str(escape);
        }
        start = i + 1;
    }
    out.push_str(&s[start..]);
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;

    // Source: RFC 8588 section 6 (https://www.rfc-editor.org/rfc/rfc8588#section-6), with
    // errata EID 6656 applied (iat is a NumericDate, i.e. a JSON number, not "1443208345").
    // The RFC prints the objects pretty and with "typ" before "ppt"; RFC 8225 section 9
    // requires the deterministic form: keys sorted, no whitespace. That form is below.
    const RFC8588_X5U: &str = "https://cert.example.org/passport.cer";
    const RFC8588_HEADER: &str = r#"{"alg":"ES256","ppt":"shaken","typ":"passport","x5u":"https://cert.example.org/passport.cer"}"#;
    const RFC8588_PAYLOAD: &str = r#"{"attest":"A","dest":{"tn":["12155550131"]},"iat":1443208345,"orig":{"tn":"12155550121"},"origid":"123e4567-e89b-12d3-a456-426655440000"}"#;

    fn rfc8588_claims() -> Claims<'static> {
        Claims {
            attest: Attest::A,
            dest: &["12155550131"],
            iat: 1_443_208_345,
            orig: "12155550121",
            origid: "123e4567-e89b-12d3-a456-426655440000",
        }
    }

    fn payload(claims: &Claims<'_>) -> String {
        let mut out = String::new();
        payload_json(claims, &mut out);
        out
    }

    #[test]
    fn rfc8588_example_header_is_byte_for_byte() {
        assert_eq!(header_json(RFC8588_X5U), RFC8588_HEADER);
    }

    #[test]
    fn rfc8588_example_payload_is_byte_for_byte() {
        assert_eq!(payload(&rfc8588_claims()), RFC8588_PAYLOAD);
    }

    #[test]
    fn payload_appends_without_clearing() {
        let mut out = String::from("prefix.");
        payload_json(&rfc8588_claims(), &mut out);
        assert_eq!(out, format!("prefix.{RFC8588_PAYLOAD}"));
    }

    #[test]
    fn several_destinations_and_every_level() {
        for (attest, letter) in [(Attest::A, "A"), (Attest::B, "B"), (Attest::C, "C")] {
            let claims = Claims {
                attest,
                dest: &["1", "22"],
                iat: -5,
                orig: "3",
                origid: "o",
            };
            assert_eq!(
                payload(&claims),
                format!(
                    r#"{{"attest":"{letter}","dest":{{"tn":["1","22"]}},"iat":-5,"orig":{{"tn":"3"}},"origid":"o"}}"#
                )
            );
        }
    }

    #[test]
    fn empty_destination_list_is_an_empty_array() {
        let claims = Claims {
            dest: &[],
            ..rfc8588_claims()
        };
        assert!(payload(&claims).contains(r#""dest":{"tn":[]}"#));
    }

    /// The hand-written encoder must agree with serde_json (sorted keys via its BTreeMap)
    /// on strings that need escaping.
    #[test]
    fn escaping_matches_serde_json() {
        let nasty = [
            "",
            "plain",
            "quote\" backslash\\ slash/",
            "\u{0}\u{1}\u{8}\u{9}\u{a}\u{b}\u{c}\u{d}\u{1f}\u{7f}",
            "unicode é 日本 \u{1F600}",
            "</script>",
        ];
        for s in nasty {
            let claims = Claims {
                attest: Attest::B,
                dest: &[s, "2"],
                iat: i64::MAX,
                orig: s,
                origid: s,
            };
            let expected = serde_json::json!({
                "origid": s,
                "orig": {"tn": s},
                "iat": i64::MAX,
                "dest": {"tn": [s, "2"]},
                "attest": "B",
            });
            let ours = payload(&claims);
            assert_eq!(ours, serde_json::to_string(&expected).unwrap());
            let reparsed: serde_json::Value = serde_json::from_str(&ours).unwrap();
            assert_eq!(reparsed, expected);

            let header: serde_json::Value = serde_json::from_str(&header_json(s)).unwrap();
            assert_eq!(header["x5u"], s);
        }
    }
}
