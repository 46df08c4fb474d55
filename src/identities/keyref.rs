//! Where a signing identity's private key is: a PEM file, or a key in an HSM named by an
//! RFC 7512 `pkcs11:` URI.

use std::borrow::Cow;
use std::path::PathBuf;

use percent_encoding::percent_decode_str;

use super::IdentityError;

/// A parsed `private_key` reference.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyRef {
    /// A PEM file (SEC1 or PKCS#8), relative to `[signing] identity_key_dir` or inside it.
    File(PathBuf),
    Pkcs11(Pkcs11Uri),
}

/// The parts of a `pkcs11:` URI callsign uses to find a private key.
#[derive(Clone, PartialEq, Eq)]
pub struct Pkcs11Uri {
    /// The token label (`token=`).
    pub token: Option<String>,
    /// The token serial number (`serial=`).
    pub serial: Option<String>,
    /// The key's label (`object=`).
    pub object: Option<String>,
    /// The key's CKA_ID (`id=`, percent-encoded bytes).
    pub id: Option<Vec<u8>>,
    /// The PKCS#11 library (`module-path=`): one of `[signing] pkcs11_modules`.
    pub module_path: Option<PathBuf>,
    pub pin: Option<Pin>,
}

/// The user PIN: in the URI (`pin-value=`), or in a file (`pin-source=`).
#[derive(Clone, PartialEq, Eq)]
pub enum Pin {
    Value(String),
    Source(PathBuf),
}

impl std::fmt::Debug for Pkcs11Uri {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pkcs11Uri")
            .field("token", &self.token)
            .field("object", &self.object)
            .field("id", &self.id)
            .field("module_path", &self.module_path)
            .finish_non_exhaustive()
    }
}

/// Longest `private_key` accepted.
const MAX_LEN: usize = 2048;

impl KeyRef {
    pub fn parse(text: &str) -> Result<KeyRef, IdentityError> {
        let bad = |why: &str| IdentityError::KeyRef(why.to_owned());
        if text.is_empty() {
            return Err(bad("is empty"));
        }
        if text.len() > MAX_LEN {
            return Err(bad("is longer than 2048 characters"));
        }
        if text.chars().any(char::is_control) {
            return Err(bad("holds control characters"));
        }
        match text.strip_prefix("pkcs11:") {
            Some(rest) => Pkcs11Uri::parse(rest).map(KeyRef::Pkcs11),
            None if text.contains("://") || text.starts_with("file:") => Err(bad(
                "must be a file path or a pkcs11: URI (RFC 7512), not another URL",
            )),
            None => Ok(KeyRef::File(PathBuf::from(text))),
        }
    }
}

impl Pkcs11Uri {
    /// Parses what follows `pkcs11:`: `attr=value` pairs split by `;`, then optionally
    /// `?` and query pairs split by `&` (RFC 7512 section 2.3).
    fn parse(rest: &str) -> Result<Pkcs11Uri, IdentityError> {
        let bad = |why: String| IdentityError::KeyRef(why);
        let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
        let mut uri = Pkcs11Uri {
            token: None,
            serial: None,
            object: None,
            id: None,
            module_path: None,
            pin: None,
        };
        let pairs =
            |s: &'static str, text: &str| -> Result<Vec<(String, Vec<u8>)>, IdentityError> {
                let mut out: Vec<(String, Vec<u8>)> = Vec::new();
                for part in text.split(s).filter(|p| !p.is_empty()) {
                    let (name, value) = part.split_once('=').ok_or_else(|| {
                        bad(format!("pkcs11 URI attribute `{part}` has no value"))
                    })?;
                    if out.iter().any(|(n, _)| n == name) {
                        return Err(bad(format!("pkcs11 URI names `{name}` twice")));
                    }
                    out.push((name.to_owned(), percent_decode_str(value).collect()));
                }
                Ok(out)
            };
        let text = |name: &str, value: Vec<u8>| {
            String::from_utf8(value).map_err(|_| bad(format!("pkcs11 URI `{name}` is not UTF-8")))
        };
        for (name, value) in pairs(";", path)? {
            match name.as_str() {
                "token" => uri.token = Some(text(&name, value)?),
                "serial" => uri.serial = Some(text(&name, value)?),
                "object" => uri.object = Some(text(&name, value)?),
                "id" => uri.id = Some(value),
                "type" if value == b"private" => {}
                "type" => return Err(bad("pkcs11 URI `type` must be `private`".into())),
                "manufacturer"
                | "model"
                | "library-manufacturer"
                | "library-description"
                | "library-version" => {}
                other => {
                    return Err(bad(format!(
                        "pkcs11 URI attribute `{other}` is not one callsign understands"
                    )));
                }
            }
        }
        for (name, value) in pairs("&", query)? {
            match name.as_str() {
                "module-path" => uri.module_path = Some(PathBuf::from(text(&name, value)?)),
                "pin-value" => uri.pin = Some(Pin::Value(text(&name, value)?)),
                "pin-source" => {
                    let source = text(&name, value)?;
                    let path = source.strip_prefix("file:").unwrap_or(&source);
                    uri.pin = Some(Pin::Source(PathBuf::from(path)));
                }
                other => {
                    return Err(bad(format!(
                        "pkcs11 URI query attribute `{other}` is not one callsign understands"
                    )));
                }
            }
        }
        if uri.object.is_none() && uri.id.is_none() {
            return Err(bad(
                "pkcs11 URI must name the key by `object` or `id`".into()
            ));
        }
        Ok(uri)
    }
}

/// `private_key` as the API shows it: a `pkcs11:` URI loses its `pin-value`.
pub fn redacted(private_key: &str) -> Cow<'_, str> {
    let Some((head, query)) = private_key
        .strip_prefix("pkcs11:")
        .and_then(|r| r.split_once('?'))
    else {
        return Cow::Borrowed(private_key);
    };
    if !query.split('&').any(|p| p.starts_with("pin-value=")) {
        return Cow::Borrowed(private_key);
    }
    let kept: Vec<&str> = query
        .split('&')
        .filter(|p| !p.starts_with("pin-value="))
        .collect();
    if kept.is_empty() {
        Cow::Owned(format!("pkcs11:{head}"))
    } else {
        Cow::Owned(format!("pkcs11:{head}?{}", kept.join("&")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_and_uris() {
        assert_eq!(
            KeyRef::parse("acme/key.pem"),
            Ok(KeyRef::File("acme/key.pem".into()))
        );
        let KeyRef::Pkcs11(uri) = KeyRef::parse(
            "pkcs11:token=callsign%20test;object=acme;id=%01%02;type=private?module-path=/usr/lib/softhsm/libsofthsm2.so&pin-value=1234",
        )
        .unwrap() else {
            panic!()
        };
        assert_eq!(uri.token.as_deref(), Some("callsign test"));
        assert_eq!(uri.object.as_deref(), Some("acme"));
        assert_eq!(uri.id.as_deref(), Some(&[1u8, 2][..]));
        assert_eq!(
            uri.module_path.as_deref(),
            Some(std::path::Path::new("/usr/lib/softhsm/libsofthsm2.so"))
        );
        assert!(uri.pin == Some(Pin::Value("1234".into())));
        assert!(!format!("{uri:?}").contains("1234"));
    }

    #[test]
    fn bad_references_say_why() {
        for (text, why) in [
            ("", "empty"),
            ("https://example.com/key.pem", "not another URL"),
            ("file:///etc/key.pem", "not another URL"),
            ("pkcs11:token=a", "`object` or `id`"),
            ("pkcs11:object=a;object=b", "twice"),
            ("pkcs11:object=a;slot-id=1", "slot-id"),
            ("pkcs11:object=a;type=public", "private"),
            ("pkcs11:object=a?foo=1", "foo"),
            ("pkcs11:object", "no value"),
            ("pkcs11:object=%ff%fe", "UTF-8"),
            ("a\nb", "control"),
        ] {
            let err = KeyRef::parse(text).unwrap_err().to_string();
            assert!(err.contains(why), "{text}: {err}");
        }
        assert!(KeyRef::parse(&"a".repeat(3000)).is_err());
    }

    #[test]
    fn pins_are_redacted() {
        assert_eq!(
            redacted("pkcs11:object=a?module-path=/m.so&pin-value=1234"),
            "pkcs11:object=a?module-path=/m.so"
        );
        assert_eq!(
            redacted("pkcs11:object=a?pin-value=1234"),
            "pkcs11:object=a"
        );
        assert_eq!(redacted("keys/a.pem"), "keys/a.pem");
    }
}
