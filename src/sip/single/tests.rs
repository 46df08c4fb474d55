use super::*;
use crate::sip::Message;

fn parse(headers: &str) -> Result<(), ParseError> {
    let text = format!(
        "OPTIONS sip:a@example.com SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\n{headers}Call-ID: c1\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n"
    );
    Message::parse(text.as_bytes()).map(|_| ())
}

const FROM_TO: &str = "From: <sip:+12155550121@h>;tag=1\r\nTo: <sip:+12155550131@h>\r\n";

#[test]
fn every_single_instance_header_refuses_a_second_line_in_either_form() {
    assert_eq!(parse(FROM_TO), Ok(()));
    for (full, compact, phrase) in SINGLE {
        let value = match *full {
            "From" | "To" => "<sip:+12155550199@h>",
            "Call-ID" => "c2",
            "CSeq" => "1 OPTIONS",
            "Content-Length" => "0",
            _ => "1",
        };
        let second = if compact.is_empty() {
            full.to_lowercase()
        } else {
            compact.to_string()
        };
        let repeat = format!("{FROM_TO}{full}: {value}\r\n{second}: {value}\r\n");
        assert_eq!(parse(&repeat), Err(ParseError::Duplicate(phrase)), "{full}");
        assert_eq!(ParseError::Duplicate(phrase).reason_phrase(), *phrase);
    }
}

#[test]
fn two_addresses_on_one_from_or_to_line_are_a_repeat() {
    let two_from =
        "From: <sip:+12155550121@h>;tag=1, <sip:+12155550199@h>\r\nTo: <sip:+12155550131@h>\r\n";
    assert_eq!(
        parse(two_from),
        Err(ParseError::Duplicate("Duplicate From"))
    );
    let two_to =
        "From: <sip:+12155550121@h>;tag=1\r\nTo: <sip:+12155550131@h>,<sip:+12155550199@h>\r\n";
    assert_eq!(parse(two_to), Err(ParseError::Duplicate("Duplicate To")));
    // A comma inside a quoted display name is not a list.
    let quoted = "From: \"Smith, J\" <sip:+12155550121@h>;tag=1\r\nTo: <sip:+12155550131@h>\r\n";
    assert_eq!(parse(quoted), Ok(()));
}

#[test]
fn list_headers_may_repeat() {
    let lists = format!(
        "{FROM_TO}Route: <sip:a@h;lr>\r\nRoute: <sip:b@h;lr>\r\nSupported: timer\r\nk: 100rel\r\nIdentity: x\r\nIdentity: y\r\n"
    );
    assert_eq!(parse(&lists), Ok(()));
}
