//! The label values callsign's metrics can carry, one enum per label, each with one
//! `as_str`. Counting goes through these types only, so the metrics section of
//! docs/observability.md can be checked against [`ALL`](Rejected::ALL) lists that the
//! compiler keeps complete.

/// Declares a label enum: its variants, each variant's label text, and `ALL`.
macro_rules! label {
    ($(#[$doc:meta])* $name:ident { $($(#[$vdoc:meta])* $variant:ident => $text:literal,)+ }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum $name {
            $($(#[$vdoc])* $variant,)+
        }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant,)+];

            /// The label text.
            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text,)+
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

label! {
    /// Why a request was answered with an error instead of being forwarded
    /// (`callsign_requests_rejected_total{cause}`).
    Rejected {
        /// Not a well-formed SIP request (400).
        Malformed => "malformed",
        /// An initial request from the upstream carrier, which only answers (403).
        UpstreamInitialRequest => "upstream_initial_request",
        /// A request from an address no trunk or upstream has (403).
        ForbiddenSource => "forbidden_source",
        /// A TCP connection from such an address, closed unanswered.
        ForbiddenSourceTcp => "forbidden_source_tcp",
        /// Max-Forwards reached zero (483).
        TooManyHops => "too_many_hops",
        /// Proxy-Require names an extension callsign lacks (420).
        BadExtension => "bad_extension",
        /// The request came back with the same loop hash (482).
        LoopDetected => "loop_detected",
        /// An in-dialog request whose Route does not name this proxy (403).
        NoRouteToUs => "no_route_to_us",
        /// The next hop needs TLS and callsign has no `[sip.tls]` (503).
        TlsUnsupported => "tls_unsupported",
        /// A request over UDP or TCP from a trunk that requires TLS (403).
        TlsRequired => "tls_required",
        /// The next hop's URI scheme cannot be routed (416).
        Unroutable => "unroutable",
        /// No listener for the next hop's transport (503).
        NoTransport => "no_transport",
        /// P-Asserted-Identity's sip and tel values name different numbers (400).
        ConflictingIdentity => "conflicting_identity",
        /// A trunk sent an Identity header and its policy refuses them (403).
        UntrustedIdentity => "untrusted_identity",
        /// Verification failed on a trunk whose policy rejects failures (436 to 438, 403).
        VerificationFailed => "verification_failed",
        /// The signer failed (500).
        SigningFailed => "signing_failed",
        /// The transaction table is full (503).
        Overloaded => "overloaded",
        /// A new request while the server drains before stopping (503 with Retry-After).
        Draining => "draining",
        /// The TCP connection limit is reached: the connection is closed, or a message
        /// that needs a new connection is dropped.
        TcpConnectionLimit => "tcp_connection_limit",
        /// A request to a trunk's domain from an address it does not admit, without
        /// usable credentials: challenged (407).
        AuthenticationRequired => "authentication_required",
        /// A redirect trunk's request that is not an initial INVITE or OPTIONS: 405, or
        /// 481 within a dialog (a redirect trunk has none through callsign).
        NotRedirected => "not_redirected",
        /// An INVITE without Identity from a trunk whose sign policy is `required`
        /// (its `unsigned_status`, 403 by default).
        IdentityRequired => "identity_required",
        /// Credentials that do not match, or a replayed nonce count (403).
        AuthenticationFailed => "authentication_failed",
        /// A trunk over its calls a second (503 with Retry-After).
        RateLimited => "rate_limited",
        /// A call that would be signed below its trunk's minimum level (403 or 603).
        BelowMinimumLevel => "below_minimum_level",
        /// A call of a suspended account, with `[signing] suspended_status` set.
        AccountSuspended => "account_suspended",
        /// A signing trunk's INVITE whose Date is outside the freshness window, with
        /// `[signing] stale_date = "refuse"` (403 Stale Date).
        StaleDate => "stale_date",
        /// The certificate that would sign the call is not valid now, with `[signing]
        /// invalid_certificate = "refuse"` (503).
        CertificateNotValid => "certificate_not_valid",
    }
}

label! {
    /// Why a SIP TLS connection ended at its handshake
    /// (`callsign_tls_handshake_failures_total{cause}`).
    TlsFailure {
        /// The handshake did not finish within `[sip.tls] handshake_timeout_ms`.
        Timeout => "timeout",
        /// Not TLS as it should be: bytes that are not TLS, an oversized record, no
        /// common version or cipher suite, the peer closing mid-handshake.
        Protocol => "protocol",
        /// A certificate was refused: the peer's, or ours by the peer.
        Certificate => "certificate",
        /// A trunk's connection whose client certificate names none of its
        /// `tls_client_names`, or that presented none.
        ClientName => "client_name",
    }
}

label! {
    /// Why an initial INVITE from a signing trunk went on without a signature
    /// (`callsign_calls_unsigned_total{cause}`).
    Unsigned {
        /// The calling number cannot be canonicalized.
        OrigNotANumber => "orig_not_a_number",
        /// The called number cannot be canonicalized.
        DestNotANumber => "dest_not_a_number",
        /// The trunk has no account.
        NoAccount => "no_account",
        /// The request's Date is outside the freshness window (RFC 8224 section 4.1),
        /// with `[signing] stale_date = "unsigned"`.
        StaleDate => "stale_date",
        /// The certificate that would sign the call is not valid now (expired while
        /// callsign ran), with `[signing] invalid_certificate = "unsigned"` or the
        /// trunk's `signing_failure = "unsigned"` (or on a redirect trunk by default).
        CertificateNotValid => "certificate_not_valid",
        /// The signer failed (a key that does not answer), with the trunk's
        /// `signing_failure = "unsigned"`, or on a redirect trunk by default.
        SigningFailed => "signing_failed",
        /// The trunk's sign policy is `never`, and the INVITE came without Identity.
        SignPolicy => "sign_policy",
    }
}

label! {
    /// Why a received message was discarded: it could not be parsed or matched
    /// (`callsign_parse_errors_total{cause}`).
    Discarded {
        /// Larger than `max_message_size`.
        Oversized => "oversized",
        /// A request that does not parse.
        Request => "request",
        /// A response that does not parse.
        Response => "response",
        /// A response whose top Via is not one of ours.
        ResponseNotOurs => "response_not_ours",
        /// A response with our branch prefix that fails the keyed hash.
        ResponseForged => "response_forged",
        /// A response for a transaction that no longer exists.
        ResponseNoTransaction => "response_no_transaction",
        /// Broken Content-Length framing on a TCP stream (the connection is closed).
        Framing => "framing",
    }
}

label! {
    /// Which timer fired (`callsign_timeouts_total{cause}`).
    Timeout {
        /// INVITE client transaction: no response (RFC 3261 Timer B).
        TimerB => "timer_b",
        /// INVITE: no final response after a provisional (RFC 3261 16.8 Timer C).
        TimerC => "timer_c",
        /// Non-INVITE client transaction: no response (Timer F).
        TimerF => "timer_f",
        /// Verification did not finish within `[verify] max_wait_ms`: forwarded as
        /// No-TN-Validation.
        VerifyWait => "verify_wait",
    }
}

label! {
    /// The result of a reload (`callsign_trust_reloads_total{cause}`,
    /// `callsign_signing_reloads_total{cause}`, `callsign_trust_list_updates_total{cause}`).
    Reload {
        Ok => "ok",
        /// The new data was refused; the current data stays.
        Error => "error",
    }
}

label! {
    /// Where a panic was caught (`callsign_internal_panics_total{stage}`); the message
    /// or request is dropped and the proxy goes on serving.
    Panic {
        /// Handling one received message.
        Message => "message",
        /// Completing a request after its verification.
        VerifiedRequest => "verified_request",
        /// Verifying a request's Identity headers (the call goes on unverified).
        Verification => "verification",
    }
}
