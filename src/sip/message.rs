//! The zero-copy message view: [`Message::parse`] checks the start line, splits the header
//! lines, validates the headers every transaction needs and frames the body; everything
//! else is read lazily from the borrowed bytes.

use std::io::Write as _;
use std::ops::Range;

use super::Method;
use super::error::ParseError;
use super::grammar::{parse_digits, split_list};
use super::header::{AssertedIdentity, CSeq, HeaderName, MaxForwards, NameAddr, Via, Vias};
use super::lines::{LexError, Lexed, find_byte, is_lws, is_token, lex};
use super::single;

/// One header line: its classified name and byte offsets into [`Message::buf`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HeaderLine {
    pub name: HeaderName,
    start: usize,
    name_end: usize,
    value_start: usize,
    value_end: usize,
    end: usize,
}

impl HeaderLine {
    /// The whole line, from the name through the final CRLF (or LF), continuation lines
    /// included.
    pub fn line_range(&self) -> Range<usize> {
        self.start..self.end
    }

    /// The trimmed value; a folded value keeps its inner CRLF and whitespace.
    pub fn value_range(&self) -> Range<usize> {
        self.value_start..self.value_end
    }

    /// The name as written (`v`, `VIA`, `Via`...). `buf` is the message's [`Message::buf`].
    pub fn name_str<'a>(&self, buf: &'a [u8]) -> &'a str {
        str_at(buf, self.start..self.name_end)
    }

    /// The trimmed value. `buf` is the message's [`Message::buf`].
    pub fn value<'a>(&self, buf: &'a [u8]) -> &'a str {
        str_at(buf, self.value_range())
    }
}

fn str_at(buf: &[u8], range: Range<usize>) -> &str {
    buf.get(range)
        .and_then(|b| std::str::from_utf8(b).ok())
        .unwrap_or_default()
}

#[derive(Debug, Clone, Copy)]
enum StartLine {
    Request {
        method: Method,
        method_end: usize,
        uri: (usize, usize),
    },
    Response {
        status: u16,
        reason: (usize, usize),
    },
}

/// A parsed SIP message borrowing the received bytes.
#[derive(Debug, Clone)]
pub struct Message<'a> {
    /// From the start line through the end of the body.
    buf: &'a [u8],
    /// `buf` up to the body: start line, headers and the blank line, checked as UTF-8.
    head: &'a str,
    start: StartLine,
    headers_start: usize,
    blank_line: usize,
    headers: Vec<HeaderLine>,
    call_id: (usize, usize),
    cseq: CSeq<'a>,
    cseq_method: Method,
    // The values the proxy reads several times per message, parsed once by `parse`.
    from: Result<NameAddr<'a>, ParseError>,
    to: Result<NameAddr<'a>, ParseError>,
    top_via: Result<Via<'a>, ParseError>,
    asserted: Result<Option<AssertedIdentity<'a>>, ParseError>,
}

impl<'a> Message<'a> {
    /// Parses one message. Leading CRLFs are skipped, so offsets (header lines, [`buf`])
    /// start at the start line. A body longer than Content-Length is cut to it (RFC 3261
    /// 18.3), a shorter one is an error, and without Content-Length the body is the rest of
    /// `buf`. Stream transports must [`frame`](super::frame) first.
    ///
    /// [`buf`]: Message::buf
    pub fn parse(buf: &'a [u8]) -> Result<Message<'a>, ParseError> {
        let skip = buf
            .iter()
            .position(|&b| b != b'\r' && b != b'\n')
            .ok_or(ParseError::Empty)?;
        let buf = buf.get(skip..).unwrap_or_default();

        let lf = find_byte(buf, b'\n').ok_or(ParseError::MissingBlankLine)?;
        let line_end = if lf > 0 && buf.get(lf - 1) == Some(&b'\r') {
            lf - 1
        } else {
            lf
        };
        let line = std::str::from_utf8(buf.get(..line_end).unwrap_or_default())
            .map_err(|_| ParseError::NotUtf8)?;
        let start = parse_start_line(line)?;
        let headers_start = lf + 1;

        let mut headers = Vec::with_capacity(24);
        let mut pos = headers_start;
        let body_start = loop {
            match lex(buf, pos) {
                Ok(Lexed::Header(l)) => {
                    let name =
                        HeaderName::from_bytes(buf.get(l.start..l.name_end).unwrap_or_default());
                    headers.push(HeaderLine {
                        name,
                        start: l.start,
                        name_end: l.name_end,
                        value_start: l.value_start,
                        value_end: l.value_end,
                        end: l.end,
                    });
                    pos = l.end;
                }
                Ok(Lexed::Blank { end }) => break end,
                Err(LexError::Unterminated) => return Err(ParseError::MissingBlankLine),
                Err(LexError::Malformed { .. }) => return Err(ParseError::MalformedHeader),
            }
        };
        let blank_line = pos;
        // The start line was checked above; this re-checks its few bytes to get one `&str`.
        let head = std::str::from_utf8(buf.get(..body_start).unwrap_or_default())
            .map_err(|_| ParseError::NotUtf8)?;

        let mut msg = Message {
            buf,
            head,
            start,
            headers_start,
            blank_line,
            headers,
            call_id: (0, 0),
            cseq: CSeq { seq: 0, method: "" },
            cseq_method: Method::Other,
            from: Err(ParseError::MissingFrom),
            to: Err(ParseError::MissingTo),
            top_via: Err(ParseError::MissingVia),
            asserted: Ok(None),
        };
        msg.validate()?;
        let body_end = match msg.content_length()? {
            Some(len) => body_start
                .checked_add(len)
                .filter(|&end| end <= buf.len())
                .ok_or(ParseError::TruncatedBody)?,
            None => buf.len(),
        };
        msg.buf = buf.get(..body_end).unwrap_or_default();
        Ok(msg)
    }

    /// Checks the mandatory headers, and caches Call-ID, CSeq, From, To, the top Via and
    /// P-Asserted-Identity.
    fn validate(&mut self) -> Result<(), ParseError> {
        let line = |name, missing| self.first_line(name).copied().ok_or(missing);
        let via = line(HeaderName::Via, ParseError::MissingVia)?;
        let address = |name, missing, malformed| {
            let line = self.first_line(name).ok_or(missing)?;
            NameAddr::parse(self.value_of(line)).map_err(|_| malformed)
        };
        let from = address(
            HeaderName::From,
            ParseError::MissingFrom,
            ParseError::MalformedFrom,
        );
        let to = address(
            HeaderName::To,
            ParseError::MissingTo,
            ParseError::MalformedTo,
        );
        let top_via = split_list(self.value_of(&via))
            .next()
            .ok_or(ParseError::MalformedVia)
            .and_then(Via::parse);
        let asserted =
            AssertedIdentity::parse_lines(self.header_values(HeaderName::PAssertedIdentity));
        let call_id = line(HeaderName::CallId, ParseError::MissingCallId);
        let cseq = line(HeaderName::CSeq, ParseError::MissingCSeq);
        (self.from, self.to, self.top_via, self.asserted) = (from, to, top_via, asserted);
        if self.is_request() {
            if let Err(e @ ParseError::MissingFrom) = from {
                return Err(e);
            }
            if let Err(e @ ParseError::MissingTo) = to {
                return Err(e);
            }
            // What callsign reads must be the only value anyone downstream can read.
            single::check(
                self.headers
                    .iter()
                    .map(|h| (h.name, self.slice((h.start, h.name_end)), self.value_of(h))),
            )?;
            asserted?;
            // A proxy must not pass on a broken header it has to understand (RFC 4475
            // `badinv01`, `quotbal`, `baddn`): the addresses, every Via, every Contact.
            from?;
            to?;
            top_via?;
            let mut vias = self.header_values(HeaderName::Via).flat_map(split_list);
            vias.next();
            for via in vias {
                Via::parse(via)?;
            }
            for value in self.header_values(HeaderName::Contact) {
                let star = value.trim() == "*";
                if !star
                    && (split_list(value).next().is_none()
                        || split_list(value).any(|c| NameAddr::parse(c).is_err()))
                {
                    return Err(ParseError::MalformedContact);
                }
            }
        }
        let (call_id, cseq) = (call_id?, cseq?);

        let id = self.value_of(&call_id);
        if id.is_empty() || id.bytes().any(is_lws) {
            return Err(ParseError::BadCallId);
        }
        self.call_id = (call_id.value_start, call_id.value_end);

        self.cseq = CSeq::parse(self.value_of(&cseq))?;
        self.cseq_method = self.cseq.method_kind();
        if let Some(request_method) = self.method_str()
            && request_method != self.cseq.method
        {
            return Err(ParseError::CSeqMethodMismatch);
        }
        Ok(())
    }

    /// The declared Content-Length; several lines must agree.
    fn content_length(&self) -> Result<Option<usize>, ParseError> {
        let mut length = None;
        for value in self.header_values(HeaderName::ContentLength) {
            let parsed = parse_digits(value).ok_or(ParseError::BadContentLength)?;
            if length.is_some_and(|l| l != parsed) {
                return Err(ParseError::BadContentLength);
            }
            length = Some(parsed);
        }
        Ok(length.map(|l| l as usize))
    }

    fn slice(&self, (start, end): (usize, usize)) -> &'a str {
        self.head.get(start..end).unwrap_or_default()
    }

    fn first_line(&self, name: HeaderName) -> Option<&HeaderLine> {
        self.headers.iter().find(|h| h.name == name)
    }

    /// The whole message, from the start line through the end of the body.
    pub fn buf(&self) -> &'a [u8] {
        self.buf
    }

    /// The start line without its line ending.
    pub fn start_line(&self) -> &'a str {
        let line = self.slice((0, self.headers_start));
        line.trim_end_matches(['\r', '\n'])
    }

    pub fn is_request(&self) -> bool {
        matches!(self.start, StartLine::Request { .. })
    }

    /// The request method; `None` for responses.
    pub fn method(&self) -> Option<Method> {
        match self.start {
            StartLine::Request { method, .. } => Some(method),
            StartLine::Response { .. } => None,
        }
    }

    pub fn method_str(&self) -> Option<&'a str> {
        match self.start {
            StartLine::Request { method_end, .. } => Some(self.slice((0, method_end))),
            StartLine::Response { .. } => None,
        }
    }

    pub fn request_uri(&self) -> Option<&'a str> {
        match self.start {
            StartLine::Request { uri, .. } => Some(self.slice(uri)),
            StartLine::Response { .. } => None,
        }
    }

    /// The status code; `None` for requests.
    pub fn status(&self) -> Option<u16> {
        match self.start {
            StartLine::Response { status, .. } => Some(status),
            StartLine::Request { .. } => None,
        }
    }

    pub fn reason(&self) -> Option<&'a str> {
        match self.start {
            StartLine::Response { reason, .. } => Some(self.slice(reason)),
            StartLine::Request { .. } => None,
        }
    }

    /// Every header line, in message order.
    pub fn headers(&self) -> &[HeaderLine] {
        &self.headers
    }

    /// The trimmed value of a line of this message.
    pub fn value_of(&self, line: &HeaderLine) -> &'a str {
        self.slice((line.value_start, line.value_end))
    }

    /// The name of a line of this message, as written.
    pub fn name_of(&self, line: &HeaderLine) -> &'a str {
        self.slice((line.start, line.name_end))
    }

    /// The value of the first line with this name.
    pub fn header(&self, name: HeaderName) -> Option<&'a str> {
        self.first_line(name).map(|h| self.value_of(h))
    }

    /// The value of each line with this name, in order (comma lists are not split).
    pub fn header_values(&self, name: HeaderName) -> impl Iterator<Item = &'a str> {
        self.headers
            .iter()
            .filter(move |h| h.name == name)
            .map(|h| self.value_of(h))
    }

    /// Indices into [`headers`](Message::headers) of the lines with this name.
    pub fn find_lines(&self, name: HeaderName) -> impl Iterator<Item = usize> {
        self.headers
            .iter()
            .enumerate()
            .filter(move |(_, h)| h.name == name)
            .map(|(i, _)| i)
    }

    /// Every Via value, top first, splitting comma-joined values across all Via lines.
    pub fn vias(&self) -> Vias<'a, impl Iterator<Item = &'a str>> {
        Vias::new(self.header_values(HeaderName::Via))
    }

    /// The first Via value (the first element of the first Via line).
    pub fn top_via(&self) -> Result<Via<'a>, ParseError> {
        self.top_via
    }

    pub fn call_id(&self) -> &'a str {
        self.slice(self.call_id)
    }

    /// The CSeq number and method, validated by [`parse`](Message::parse).
    pub fn cseq(&self) -> (u32, Method) {
        (self.cseq.seq, self.cseq_method)
    }

    pub fn cseq_method_str(&self) -> &'a str {
        self.cseq.method
    }

    /// Max-Forwards, if present.
    pub fn max_forwards(&self) -> Result<Option<MaxForwards>, ParseError> {
        self.header(HeaderName::MaxForwards)
            .map(MaxForwards::parse)
            .transpose()
    }

    /// The From address (always `Ok` for a request [`Message::parse`] accepted).
    pub fn from(&self) -> Result<NameAddr<'a>, ParseError> {
        self.from
    }

    /// The To address (always `Ok` for a request [`Message::parse`] accepted).
    pub fn to(&self) -> Result<NameAddr<'a>, ParseError> {
        self.to
    }

    /// The P-Asserted-Identity values (RFC 3325), over all its lines; `None` without one.
    /// A request that [`Message::parse`] accepted always gives `Ok`.
    pub fn asserted_identity(&self) -> Result<Option<AssertedIdentity<'a>>, ParseError> {
        self.asserted
    }

    /// The To tag, if the To header parses and carries one.
    pub fn to_tag(&self) -> Option<&'a str> {
        self.to().ok()?.tag()
    }

    pub fn body(&self) -> &'a [u8] {
        self.buf.get(self.head.len()..).unwrap_or_default()
    }

    /// Offset of the first header line (just past the start line).
    pub(crate) fn headers_start(&self) -> usize {
        self.headers_start
    }

    /// Offset of the blank line that ends the header section.
    pub(crate) fn blank_line(&self) -> usize {
        self.blank_line
    }
}

/// Appends the status line `SIP/2.0 <status> <reason>\r\n`.
pub(crate) fn write_status_line(out: &mut Vec<u8>, status: u16, reason: &str) {
    // Writing to a Vec cannot fail.
    let _ = write!(out, "SIP/2.0 {status} {reason}\r\n");
}

fn parse_start_line(line: &str) -> Result<StartLine, ParseError> {
    let is_sip_version = |v: &str| v.eq_ignore_ascii_case("SIP/2.0");
    let looks_like_version = |v: &str| v.get(..4).is_some_and(|p| p.eq_ignore_ascii_case("SIP/"));

    if looks_like_version(line) {
        let bad = ParseError::MalformedStatusLine;
        let (version, rest) = line.split_once(' ').ok_or(bad)?;
        if !is_sip_version(version) {
            return Err(ParseError::UnsupportedVersion);
        }
        let (code, _) = rest.split_once(' ').unwrap_or((rest, ""));
        if code.len() != 3 {
            return Err(bad);
        }
        let status = parse_digits(code)
            .filter(|s| (100..=699).contains(s))
            .ok_or(bad)?;
        let reason_start = (version.len() + 1 + code.len() + 1).min(line.len());
        return Ok(StartLine::Response {
            status: status as u16,
            reason: (reason_start, line.len()),
        });
    }

    let bad = ParseError::MalformedRequestLine;
    let mut parts = line.split(' ');
    let (Some(method), Some(uri), Some(version), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(bad);
    };
    if method.is_empty() || !method.bytes().all(is_token) {
        return Err(bad);
    }
    let uri_ok = uri
        .split_once(':')
        .is_some_and(|(scheme, rest)| !scheme.is_empty() && !rest.is_empty());
    if !uri_ok
        || uri
            .bytes()
            .any(|b| b.is_ascii_whitespace() || b.is_ascii_control())
    {
        return Err(bad);
    }
    // RFC 3261 25.1: scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ). A URI in angle
    // brackets (RFC 4475 `ltgtruri`) fails here. Headers (`?Route=...`, `escruri`) have
    // no meaning in a Request-URI and must not travel on; a `?` in the user part of a
    // sip URI is legal (`intmeth`), and schemes other than sip, sips and tel get 416.
    let (scheme, rest) = uri.split_once(':').unwrap_or_default();
    let scheme_ok = scheme
        .bytes()
        .next()
        .is_some_and(|b| b.is_ascii_alphabetic())
        && scheme
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-' | b'.'));
    let after_user = if scheme.eq_ignore_ascii_case("sip") || scheme.eq_ignore_ascii_case("sips") {
        rest.split_once('@').map_or(rest, |(_, host)| host)
    } else if scheme.eq_ignore_ascii_case("tel") {
        rest
    } else {
        ""
    };
    if !scheme_ok || uri.contains(['<', '>']) || after_user.contains('?') {
        return Err(ParseError::BadRequestUri);
    }
    if !is_sip_version(version) {
        return Err(if looks_like_version(version) {
            ParseError::UnsupportedVersion
        } else {
            bad
        });
    }
    let uri_start = method.len() + 1;
    Ok(StartLine::Request {
        method: Method::parse(method),
        method_end: method.len(),
        uri: (uri_start, uri_start + uri.len()),
    })
}

#[cfg(test)]
mod tests;
