//! Why a SIP message was rejected: each variant reads as a reason phrase for the response.

/// A malformed message or header value. `Display` is a short reason phrase, so a proxy can
/// answer with `"{status} {error}"`; [`ParseError::status`] gives the status code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    #[error("Empty Message")]
    Empty,
    #[error("Not UTF-8")]
    NotUtf8,
    #[error("Malformed Request Line")]
    MalformedRequestLine,
    #[error("Bad Request-URI")]
    BadRequestUri,
    #[error("Malformed Status Line")]
    MalformedStatusLine,
    #[error("Version Not Supported")]
    UnsupportedVersion,
    #[error("Malformed Header")]
    MalformedHeader,
    #[error("Missing Blank Line")]
    MissingBlankLine,
    #[error("Missing Via")]
    MissingVia,
    #[error("Missing From")]
    MissingFrom,
    #[error("Missing To")]
    MissingTo,
    #[error("Missing Call-ID")]
    MissingCallId,
    #[error("Missing CSeq")]
    MissingCSeq,
    #[error("Malformed Via")]
    MalformedVia,
    #[error("Malformed From")]
    MalformedFrom,
    #[error("Malformed To")]
    MalformedTo,
    #[error("Malformed Address")]
    MalformedNameAddr,
    #[error("Malformed Contact")]
    MalformedContact,
    #[error("Malformed Route")]
    MalformedRoute,
    #[error("Malformed Reason")]
    MalformedReason,
    #[error("Bad Call-ID")]
    BadCallId,
    #[error("Bad CSeq")]
    BadCSeq,
    #[error("CSeq Method Mismatch")]
    CSeqMethodMismatch,
    #[error("Bad Max-Forwards")]
    BadMaxForwards,
    #[error("Bad Date")]
    BadDate,
    #[error("Bad Content-Length")]
    BadContentLength,
    #[error("Truncated Body")]
    TruncatedBody,
    /// A single-instance header repeated (RFC 3261 section 7.3.1); the phrase names it.
    #[error("{0}")]
    Duplicate(&'static str),
    #[error("Malformed P-Asserted-Identity")]
    MalformedAssertedIdentity,
    /// More than one sip/sips or more than one tel value (RFC 3325 section 9.1).
    #[error("Ambiguous P-Asserted-Identity")]
    AmbiguousAssertedIdentity,
}

impl ParseError {
    /// The reason phrase (the same text as `Display`, without allocating).
    pub fn reason_phrase(&self) -> &'static str {
        match self {
            ParseError::Empty => "Empty Message",
            ParseError::NotUtf8 => "Not UTF-8",
            ParseError::MalformedRequestLine => "Malformed Request Line",
            ParseError::BadRequestUri => "Bad Request-URI",
            ParseError::MalformedStatusLine => "Malformed Status Line",
            ParseError::UnsupportedVersion => "Version Not Supported",
            ParseError::MalformedHeader => "Malformed Header",
            ParseError::MissingBlankLine => "Missing Blank Line",
            ParseError::MissingVia => "Missing Via",
            ParseError::MissingFrom => "Missing From",
            ParseError::MissingTo => "Missing To",
            ParseError::MissingCallId => "Missing Call-ID",
            ParseError::MissingCSeq => "Missing CSeq",
            ParseError::MalformedVia => "Malformed Via",
            ParseError::MalformedFrom => "Malformed From",
            ParseError::MalformedTo => "Malformed To",
            ParseError::MalformedNameAddr => "Malformed Address",
            ParseError::MalformedContact => "Malformed Contact",
            ParseError::MalformedRoute => "Malformed Route",
            ParseError::MalformedReason => "Malformed Reason",
            ParseError::BadCallId => "Bad Call-ID",
            ParseError::BadCSeq => "Bad CSeq",
            ParseError::CSeqMethodMismatch => "CSeq Method Mismatch",
            ParseError::BadMaxForwards => "Bad Max-Forwards",
            ParseError::BadDate => "Bad Date",
            ParseError::BadContentLength => "Bad Content-Length",
            ParseError::TruncatedBody => "Truncated Body",
            ParseError::Duplicate(phrase) => phrase,
            ParseError::MalformedAssertedIdentity => "Malformed P-Asserted-Identity",
            ParseError::AmbiguousAssertedIdentity => "Ambiguous P-Asserted-Identity",
        }
    }

    /// The SIP status this error becomes when answering a request: 505 for an unsupported
    /// SIP version (RFC 3261 21.5.7), 400 for everything else.
    pub fn status(&self) -> u16 {
        match self {
            ParseError::UnsupportedVersion => 505,
            _ => 400,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::ParseError;

    #[test]
    fn display_equals_reason_phrase() {
        let all = [
            ParseError::Empty,
            ParseError::NotUtf8,
            ParseError::MalformedRequestLine,
            ParseError::BadRequestUri,
            ParseError::MalformedStatusLine,
            ParseError::UnsupportedVersion,
            ParseError::MalformedHeader,
            ParseError::MissingBlankLine,
            ParseError::MissingVia,
            ParseError::MissingFrom,
            ParseError::MissingTo,
            ParseError::MissingCallId,
            ParseError::MissingCSeq,
            ParseError::MalformedVia,
            ParseError::MalformedFrom,
            ParseError::MalformedTo,
            ParseError::MalformedNameAddr,
            ParseError::MalformedContact,
            ParseError::MalformedRoute,
            ParseError::MalformedReason,
            ParseError::BadCallId,
            ParseError::BadCSeq,
            ParseError::CSeqMethodMismatch,
            ParseError::BadMaxForwards,
            ParseError::BadDate,
            ParseError::BadContentLength,
            ParseError::TruncatedBody,
            ParseError::Duplicate("Duplicate From"),
            ParseError::MalformedAssertedIdentity,
            ParseError::AmbiguousAssertedIdentity,
        ];
        for e in all {
            assert_eq!(e.to_string(), e.reason_phrase());
            assert_eq!(
                e.status(),
                if e == ParseError::UnsupportedVersion {
                    505
                } else {
                    400
                }
            );
        }
        assert_eq!(ParseError::MissingCallId.to_string(), "Missing Call-ID");
    }
}
