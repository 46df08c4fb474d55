//! The verifying role's edits: the `verstat` parameter on the calling party's URI (3GPP TS
//! 24.229, ATIS-1000074), with any `verstat` that arrived from upstream stripped from every
//! calling-party header. (The `Reason` of a call forwarded despite a failure is
//! [`super::feedback`]'s.) Pure.

use tracing::debug;

use crate::sip::{
    Edits, HeaderName, Message, NameAddr, remove_number_param, set_number_param, split_list,
};
use crate::verify::{Verdict, Verstat};

/// One name-addr value with `;verstat=<v>` on its telephone number, replacing any
/// `verstat` already there (a value from upstream is not ours to pass on); rewritten in
/// name-addr form. `None` when the value holds no telephone-number URI.
fn mark_value(value: &str, verstat: Verstat) -> Option<String> {
    let na = NameAddr::parse(value).ok()?;
    let uri = remove_number_param(na.uri, "verstat");
    let uri = set_number_param(
        uri.as_deref().unwrap_or(na.uri),
        "verstat",
        verstat.as_str(),
    )?;
    Some(NameAddr { uri: &uri, ..na }.to_string())
}

/// One name-addr value without any `verstat` parameter on its URI; `None` when it had
/// none (the value is then left as received).
fn strip_value(value: &str) -> Option<String> {
    let na = NameAddr::parse(value).ok()?;
    let uri = remove_number_param(na.uri, "verstat")?;
    Some(NameAddr { uri: &uri, ..na }.to_string())
}

/// The calling identity of `msg` marked with `verstat`, as a P-Asserted-Identity value
/// for a verifying redirect's 302: the telephone-number entries of the first
/// P-Asserted-Identity header, else the From's name and URI (without its tag). `None`
/// when neither holds a telephone number.
pub fn marked_identity(msg: &Message<'_>, verstat: Verstat) -> Option<String> {
    if let Some(asserted) = msg.header(HeaderName::PAssertedIdentity) {
        let marked: Vec<String> = split_list(asserted)
            .filter_map(|e| mark_value(e, verstat))
            .collect();
        if !marked.is_empty() {
            return Some(marked.join(", "));
        }
    }
    let from = NameAddr::parse(msg.header(HeaderName::From)?).ok()?;
    mark_value(&NameAddr { params: "", ..from }.to_string(), verstat)
}

/// Marks the calling party with the verdict: every telephone-number entry of the first
/// P-Asserted-Identity header, else the From URI. A `verstat` that arrived on any other
/// calling-party header (From, every P-Asserted-Identity header and entry) is removed:
/// only callsign's own verdict reaches the UAS.
pub fn apply(msg: &Message<'_>, verdict: &Verdict, edits: &mut Edits) {
    let asserted: Vec<usize> = msg.find_lines(HeaderName::PAssertedIdentity).collect();
    let from: Vec<usize> = msg.find_lines(HeaderName::From).collect();
    let marked = asserted.first().or(from.first()).copied();
    for line in asserted.iter().chain(&from).copied() {
        let Some(header) = msg.headers().get(line) else {
            continue;
        };
        let value = header.value(msg.buf());
        let mut changed = false;
        let rewritten: Vec<String> = split_list(value)
            .map(|element| {
                let edited = if Some(line) == marked {
                    mark_value(element, verdict.verstat)
                } else {
                    strip_value(element)
                };
                match edited {
                    Some(e) => {
                        changed = true;
                        e
                    }
                    None => element.to_string(),
                }
            })
            .collect();
        if changed {
            if Some(line) != marked {
                debug!(
                    call_id = msg.call_id(),
                    value, "verstat from upstream removed"
                );
            }
            edits.replace_value(line, rewritten.join(", "));
        }
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
    fn p_asserted_identity_entries_are_marked() {
        let text = INVITE.replace(
            "To:",
            "P-Asserted-Identity: <sip:+12155550121@example.com>, <tel:+12155550121>\r\nTo:",
        );
        let verdict = Verdict {
            verstat: Verstat::Failed,
            code: Some(438),
            reason: Some(Reason::sip(438, "Invalid Identity Header")),
            per_header: vec![Some(438)],
        };
        let out = edited(&text, &verdict);
        assert!(out.contains(
            "\r\nP-Asserted-Identity: <sip:+12155550121;verstat=TN-Validation-Failed@example.com>, <tel:+12155550121;verstat=TN-Validation-Failed>\r\n"
        ), "{out}");
        assert!(out.contains("\r\nFrom: \"Alice\" <sip:+12155550121@example.com>;tag=f1\r\n"));
        // The Reason is the feedback's to add, where the config puts it.
        assert!(!out.contains("Reason:"), "{out}");
    }

    #[test]
    fn an_arriving_verstat_is_stripped_from_from_when_p_asserted_identity_is_marked() {
        let text = INVITE
            .replace(
                "<sip:+12155550121@example.com>;tag=f1",
                "<sip:+12155550121;verstat=TN-Validation-Passed@example.com>;tag=f1",
            )
            .replace(
                "To:",
                "P-Asserted-Identity: <sip:+12155550121@example.com>\r\nTo:",
            );
        let out = edited(&text, &Verdict::from_reports(&[]));
        assert!(
            out.contains("\r\nFrom: \"Alice\" <sip:+12155550121@example.com>;tag=f1\r\n"),
            "{out}"
        );
        assert!(out.contains(
            "\r\nP-Asserted-Identity: <sip:+12155550121;verstat=No-TN-Validation@example.com>\r\n"
        ));
        assert_eq!(out.matches("verstat=").count(), 1, "{out}");
    }

    #[test]
    fn every_p_asserted_identity_header_loses_an_arriving_verstat() {
        // RFC 3325 allows one sip and one tel identity, here on two header lines: the
        // first is ours to mark, the second must not carry upstream's verdict on.
        let text = INVITE.replace(
            "To:",
            "P-Asserted-Identity: <sip:+12155550121;verstat=TN-Validation-Passed@example.com>\r\n\
             P-Asserted-Identity: \"Bob\" <tel:+12155550121;verstat=TN-Validation-Passed;cpc=ordinary>\r\n\
             To:",
        );
        let out = edited(&text, &failed());
        assert!(out.contains(
            "\r\nP-Asserted-Identity: <sip:+12155550121;verstat=TN-Validation-Failed@example.com>\r\n"
        ), "{out}");
        // Its other parameters stay.
        assert!(
            out.contains("\r\nP-Asserted-Identity: \"Bob\" <tel:+12155550121;cpc=ordinary>\r\n"),
            "{out}"
        );
        assert!(!out.contains("TN-Validation-Passed"), "{out}");
        assert_eq!(out.matches("verstat=").count(), 1, "{out}");
    }

    #[test]
    fn a_verstat_among_sip_uri_parameters_is_stripped_too() {
        let text = INVITE
            .replace(
                "<sip:+12155550121@example.com>;tag=f1",
                "<sip:+12155550121@example.com;verstat=TN-Validation-Passed>;tag=f1",
            )
            .replace(
                "To:",
                "P-Asserted-Identity: <tel:+12155550121>\r\n\
                 P-Asserted-Identity: <sip:+12155550121@example.com;user=phone;verstat=TN-Validation-Passed>\r\n\
                 To:",
            );
        let out = edited(&text, &failed());
        assert!(
            out.contains(
                "\r\nP-Asserted-Identity: <tel:+12155550121;verstat=TN-Validation-Failed>\r\n"
            ),
            "{out}"
        );
        assert!(
            out.contains("\r\nP-Asserted-Identity: <sip:+12155550121@example.com;user=phone>\r\n"),
            "{out}"
        );
        assert!(
            out.contains("\r\nFrom: \"Alice\" <sip:+12155550121@example.com>;tag=f1\r\n"),
            "{out}"
        );
        assert_eq!(out.matches("verstat=").count(), 1, "{out}");
    }

    #[test]
    fn a_verstat_among_the_marked_uris_parameters_is_replaced_not_doubled() {
        let text = INVITE.replace(
            "<sip:+12155550121@example.com>;tag=f1",
            "<sip:+12155550121@example.com;verstat=TN-Validation-Passed>;tag=f1",
        );
        let out = edited(&text, &failed());
        assert!(out.contains(
            "\r\nFrom: \"Alice\" <sip:+12155550121;verstat=TN-Validation-Failed@example.com>;tag=f1\r\n"
        ), "{out}");
        assert_eq!(out.matches("verstat=").count(), 1, "{out}");
    }

    #[test]
    fn values_without_verstat_are_left_byte_for_byte() {
        let text = INVITE.replace(
            "To:",
            "P-Asserted-Identity: <tel:+12155550121>\r\nP-Asserted-Identity:   <sip:+12155550121@example.com>\r\nTo:",
        );
        let out = edited(&text, &failed());
        assert!(out.contains("\r\nP-Asserted-Identity:   <sip:+12155550121@example.com>\r\n"));
        assert!(out.contains("\r\nFrom: \"Alice\" <sip:+12155550121@example.com>;tag=f1\r\n"));
    }

    fn failed() -> Verdict {
        Verdict {
            verstat: Verstat::Failed,
            code: Some(438),
            reason: Some(Reason::sip(438, "Invalid Identity Header")),
            per_header: vec![Some(438)],
        }
    }
}
