//! The pure SIP layer: a zero-copy message view, header access (compact forms, comma lists,
//! folding), typed header values, byte-level editing, TCP framing and the messages a proxy
//! writes or relays.
//!
//! A forwarded message is the received bytes with header lines inserted, replaced or removed
//! ([`Edits`]); nothing here re-serializes a parse tree. Headers are read and written under
//! the same typed names ([`HeaderName`]). Map of the files:
//!
//! - `message`: [`Message::parse`] and the view over the bytes.
//! - `lines`: the header-section line lexer shared by parsing, Via iteration, framing and
//!   [`bare_response`].
//! - `grammar`: comma lists ([`split_list`]), `;name=value` parameter lists, quoted strings.
//! - `header/`: [`HeaderName`], and one file per typed value that parses and prints:
//!   [`Via`], [`CSeq`], [`MaxForwards`], [`Route`], [`NameAddr`], [`Identity`], [`Reason`],
//!   [`Date`].
//! - `edit`: [`Edits`]; `framing`: [`frame`] and [`Framing`] for streams.
//! - `relay`: the byte work of relaying: [`stamp_top_via`] (RFC 3261 18.2.1, RFC 3581) and
//!   [`pop_via`] (16.7).
//! - `build`: responses (stateless, and [`bare_response`] to unparseable requests), ACK,
//!   CANCEL.
//! - `error`: [`ParseError`], each variant a SIP reason phrase.
//! - [`digest`]: digest authentication's credentials, responses and challenges.

mod build;
pub mod digest;
mod edit;
mod error;
mod framing;
mod grammar;
mod header;
mod lines;
mod message;
mod relay;
mod single;

pub use build::{bare_response, build_ack, build_cancel, build_response, build_response_lines};
pub use edit::Edits;
pub use error::ParseError;
pub use framing::{Frame, Framing, FramingError, frame};
pub use grammar::{ListElements, split_list};
pub use header::{
    AssertedIdentity, CSeq, Date, HeaderName, Identity, IdentityError, MaxForwards, NameAddr,
    Reason, Route, RouteEntries, Rport, Via, Vias, remove_number_param, set_number_param,
    stir_value,
};
pub use message::{HeaderLine, Message};
pub use relay::{pop_via, stamp_top_via};

/// A request method. Methods are case-sensitive (RFC 3261 7.1): `invite` is [`Method::Other`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Method {
    Invite,
    Ack,
    Bye,
    Cancel,
    Options,
    Register,
    Prack,
    Update,
    Info,
    Subscribe,
    Notify,
    Refer,
    Message,
    Publish,
    Other,
}

impl Method {
    /// Maps a method token to its variant; unknown tokens are [`Method::Other`].
    pub fn parse(s: &str) -> Method {
        match s {
            "INVITE" => Method::Invite,
            "ACK" => Method::Ack,
            "BYE" => Method::Bye,
            "CANCEL" => Method::Cancel,
            "OPTIONS" => Method::Options,
            "REGISTER" => Method::Register,
            "PRACK" => Method::Prack,
            "UPDATE" => Method::Update,
            "INFO" => Method::Info,
            "SUBSCRIBE" => Method::Subscribe,
            "NOTIFY" => Method::Notify,
            "REFER" => Method::Refer,
            "MESSAGE" => Method::Message,
            "PUBLISH" => Method::Publish,
            _ => Method::Other,
        }
    }

    /// The method token, or `None` for [`Method::Other`] (use the message's own string).
    pub fn as_str(self) -> Option<&'static str> {
        Some(match self {
            Method::Invite => "INVITE",
            Method::Ack => "ACK",
            Method::Bye => "BYE",
            Method::Cancel => "CANCEL",
            Method::Options => "OPTIONS",
            Method::Register => "REGISTER",
            Method::Prack => "PRACK",
            Method::Update => "UPDATE",
            Method::Info => "INFO",
            Method::Subscribe => "SUBSCRIBE",
            Method::Notify => "NOTIFY",
            Method::Refer => "REFER",
            Method::Message => "MESSAGE",
            Method::Publish => "PUBLISH",
            Method::Other => return None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn methods_are_case_sensitive() {
        assert_eq!(Method::parse("INVITE"), Method::Invite);
        assert_eq!(Method::parse("invite"), Method::Other);
        assert_eq!(Method::parse("PUBLISH"), Method::Publish);
        assert_eq!(Method::parse("FOO"), Method::Other);
        assert_eq!(Method::Cancel.as_str(), Some("CANCEL"));
        assert_eq!(Method::Other.as_str(), None);
    }
}
