//! The verifying role's edits: the verdict over a request's Identity headers, the
//! `verstat` parameter on the calling party's URI (3GPP TS 24.229, ATIS-1000074), and
//! the `Reason` header of a call forwarded despite a failure. Pure.

use crate::sip::{Edits, HeaderName, Message, NameAddr, split_list};
use crate::verify::{Report, Verstat};

/// What verification concluded for one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    pub verstat: Verstat,
    /// The failure's SIP status (436, 437, 438, 403), when there is one.
    pub code: Option<u16>,
    /// `Reason` header value for a forwarded failure (RFC 3326).
    pub reason: Option<String>,
}

impl Verdict {
    /// No Identity header, or verification did not finish in time.
    pub fn no_validation() -> Verdict {
        Verdict {
            verstat: Verstat::NoValidation,
            code: None,
            reason: None,
        }
    }

    /// Combines the reports of every Identity header of a request: one that passes is
    /// enough (RFC 8224 section 6.2); otherwise the first failure speaks for the call.
    pub fn from_reports(reports: &[Report]) -> Verdict {
        if reports.iter().any(Report::passed) {
            return Verdict {
                verstat: Verstat::Passed,
                code: None,
                reason: None,
            };
        }
        match reports.first() {
            None => Verdict::no_validation(),
            Some(r) => Verdict {
                verstat: r.verstat,
                code: r.code,
                reason: r.sip_reason(),
            },
        }
    }

    pub fn failed(&self) -> bool {
        self.code.is_some()
    }
}

/// Adds `;verstat=<v>` to a telephone-number URI, replacing any `verstat` already there
/// (a value from upstream is not ours to pass on). In a `sip:`/`sips:` URI it is a
/// user-part parameter (`sip:+12155550121;verstat=...@host`); in a `tel:` URI, a URI
/// parameter. Other URIs, or a sip URI with no user part, give None.
pub fn mark_uri(uri: &str, verstat: Verstat) -> Option<String> {
    let lower = uri.get(..4)?.to_ascii_lowercase();
    if lower == "tel:" {
        let kept = strip_verstat(uri);
        return Some(format!("{kept};verstat={}", verstat.as_str()));
    }
    let scheme_end = uri.find(':')?;
    if !matches!(
        uri.get(..scheme_end)?.to_ascii_lowercase().as_str(),
        "sip" | "sips"
    ) {
        return None;
    }
    let at = uri.find('@')?;
    let (user, rest) = uri.split_at(at);
    Some(format!(
        "{};verstat={}{rest}",
        strip_verstat(user),
        verstat.as_str()
    ))
}

/// `s` without its `;verstat=...` parameters.
fn strip_verstat(s: &str) -> String {
    let mut parts = s.split(';');
    let mut out = parts.next().unwrap_or("").to_string();
    for p in parts {
        let name = p.split('=').next().unwrap_or("").trim();
        if !name.eq_ignore_ascii_case("verstat") {
            out.push(';');
            out.push_str(p);
        }
    }
    out
}

/// One name-addr value with its URI marked, rewritten in name-addr form.
fn mark_value(value: &str, verstat: Verstat) -> Option<String> {
    let na = NameAddr::parse(value).ok()?;
    let uri = mark_uri(na.uri, verstat)?;
    let display = na
        .display
        .map(|d| {
            if value.trim_start().starts_with('"') {
                format!("\"{d}\" ")
            } else {
                format!("{d} ")
            }
        })
        .unwrap_or_default();
    Some(format!("{display}<{uri}>{}", na.params))
}

/// Marks the calling party with the verdict: every telephone-number entry of the first
/// P-Asserted-Identity header, else the From URI. Adds the `Reason` header when the call
/// goes on despite a failure.
pub fn apply(msg: &Message<'_>, verdict: &Verdict, edits: &mut Edits) {
    let line = msg
        .find_lines(HeaderName::PAssertedIdentity)
        .next()
        .or_else(|| msg.find_lines(HeaderName::From).next());
    if let Some((line, header)) = line.and_then(|l| msg.headers().get(l).map(|h| (l, h))) {
        let value = header.value(msg.buf());
        let mut changed = false;
        let marked: Vec<String> = split_list(value)
            .map(|element| match mark_value(element, verdict.verstat) {
                Some(m) => {
                    changed = true;
                    m
                }
                None => element.to_string(),
            })
            .collect();
        if changed {
            edits.replace_value(line, marked.join(", "));
        }
    }
    if let Some(reason) = &verdict.reason {
        edits.append("Reason", reason.clone());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verstat_goes_into_the_user_part_or_the_tel_uri() {
        let passed = Verstat::Passed;
        assert_eq!(
            mark_uri("sip:+12155550121@example.com;user=phone", passed).as_deref(),
            Some("sip:+12155550121;verstat=TN-Validation-Passed@example.com;user=phone")
        );
        assert_eq!(
            mark_uri("tel:+12155550121", Verstat::Failed).as_deref(),
            Some("tel:+12155550121;verstat=TN-Validation-Failed")
        );
        // A forged value from upstream is replaced, not kept beside ours.
        assert_eq!(
            mark_uri(
                "sip:+12155550121;verstat=TN-Validation-Passed@x",
                Verstat::Failed
            )
            .as_deref(),
            Some("sip:+12155550121;verstat=TN-Validation-Failed@x")
        );
        assert_eq!(mark_uri("sip:example.com", passed), None);
        assert_eq!(mark_uri("mailto:a@b", passed), None);
    }

    fn edited(text: &str, verdict: &Verdict) -> String {
        let msg = Message::parse(text.as_bytes()).unwrap();
        let mut edits = Edits::new();
        apply(&msg, verdict, &mut edits);
        let mut out = Vec::new();
        edits.apply(&msg, &mut out);
        String::from_utf8(out).unwrap()
    }

    const INVITE: &str = "INVITE sip:+12155550131@example.com SIP/2.0\r\n\
        Via: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK-1\r\n\
        From: \"Alice\" <sip:+12155550121@example.com>;tag=f1\r\n\
        To: <sip:+12155550131@example.com>\r\n\
        Call-ID: v1\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n";

    #[test]
    fn from_is_marked_when_there_is_no_p_asserted_identity() {
        let out = edited(INVITE, &Verdict::from_reports(&[]));
        assert!(out.contains(
            "\r\nFrom: \"Alice\" <sip:+12155550121;verstat=No-TN-Validation@example.com>;tag=f1\r\n"
        ));
        assert!(!out.contains("Reason:"));
    }

    #[test]
    fn p_asserted_identity_entries_are_marked_and_failures_get_a_reason() {
        let text = INVITE.replace(
            "To:",
            "P-Asserted-Identity: <sip:+12155550121@example.com>, <tel:+12155550121>\r\nTo:",
        );
        let verdict = Verdict {
            verstat: Verstat::Failed,
            code: Some(438),
            reason: Some("SIP;cause=438;text=\"Invalid Identity Header\"".into()),
        };
        let out = edited(&text, &verdict);
        assert!(out.contains(
            "\r\nP-Asserted-Identity: <sip:+12155550121;verstat=TN-Validation-Failed@example.com>, <tel:+12155550121;verstat=TN-Validation-Failed>\r\n"
        ), "{out}");
        assert!(out.contains("\r\nFrom: \"Alice\" <sip:+12155550121@example.com>;tag=f1\r\n"));
        assert!(out.contains("\r\nReason: SIP;cause=438;text=\"Invalid Identity Header\"\r\n"));
    }
}
