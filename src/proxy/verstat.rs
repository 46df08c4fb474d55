//! The verifying role's edits: the `verstat` parameter on the calling party's URI (3GPP TS 24.229, ATIS-1000074), and
//! the `Reason` header of a call forwarded despite a failure. Pure.

use crate::sip::{Edits, HeaderName, Message, NameAddr, set_number_param, split_list};
use crate::verify::{Verdict, Verstat};

/// One name-addr value with `;verstat=<v>` on its telephone number, replacing any
/// `verstat` already there (a value from upstream is not ours to pass on); rewritten in
/// name-addr form. `None` when the value holds no telephone-number URI.
fn mark_value(value: &str, verstat: Verstat) -> Option<String> {
    let na = NameAddr::parse(value).ok()?;
    let uri = set_number_param(na.uri, "verstat", verstat.as_str())?;
    Some(NameAddr { uri: &uri, ..na }.to_string())
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
        edits.append(HeaderName::Reason, reason.to_string());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sip::Reason;

    #[test]
    fn verstat_replaces_one_from_upstream_and_skips_other_uris() {
        let marked = mark_value(
            "Bob <sip:+12155550121;verstat=TN-Validation-Passed@x>;tag=1",
            Verstat::Failed,
        );
        assert_eq!(
            marked.as_deref(),
            Some("Bob <sip:+12155550121;verstat=TN-Validation-Failed@x>;tag=1")
        );
        assert_eq!(mark_value("<sip:example.com>", Verstat::Passed), None);
        assert_eq!(mark_value("<mailto:a@b>", Verstat::Passed), None);
        assert_eq!(mark_value("not an address", Verstat::Passed), None);
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
            reason: Some(Reason::sip(438, "Invalid Identity Header")),
        };
        let out = edited(&text, &verdict);
        assert!(out.contains(
            "\r\nP-Asserted-Identity: <sip:+12155550121;verstat=TN-Validation-Failed@example.com>, <tel:+12155550121;verstat=TN-Validation-Failed>\r\n"
        ), "{out}");
        assert!(out.contains("\r\nFrom: \"Alice\" <sip:+12155550121@example.com>;tag=f1\r\n"));
        assert!(out.contains("\r\nReason: SIP;cause=438;text=\"Invalid Identity Header\"\r\n"));
    }
}
