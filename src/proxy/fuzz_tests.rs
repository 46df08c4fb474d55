//! A bounded fuzz run of the parser and the per-message decision, in the test suite: valid
//! INVITEs from a trunk, mutated (bytes changed, lines inserted, duplicated, folded,
//! renamed to compact forms, cut short). Nothing may panic, every forwarded request must
//! parse again, and a signed one must name, in the bytes that leave, the calling number
//! it was signed for.

use std::sync::OnceLock;

use proptest::prelude::*;
use proptest::test_runner::RngSeed;

use super::Context;
use super::pipeline::{Action, Signing, decide};
use crate::proxy::testing::{self, TRUNK, context, udp, wall};
use crate::sip::{HeaderName, Identity, Message, NameAddr, split_list};
use crate::tn::{self, Numbering};
use crate::verify::calling_number;

/// Header lines a trunk (or an attacker behind one) might add.
const LINES: &[&str] = &[
    "P-Asserted-Identity: <sip:+12155550122@example.com>\r\n",
    "P-Asserted-Identity: <tel:+12155550122>\r\n",
    "P-Asserted-Identity: <tel:+12155550199>\r\n",
    "P-Asserted-Identity: <sip:+12155550122@a>, <tel:+1-215-555-0122>\r\n",
    "P-Asserted-Identity: <sip:+12155550122@a>,\r\n <tel:+12155550199>\r\n",
    "P-Asserted-Identity: \"A, B\" <sip:alice@example.com>\r\n",
    "p-asserted-identity:<sip:+12155550123@x>;tag=1\r\n",
    "f: <sip:+12155550199@127.0.0.1>;tag=z\r\n",
    "From: <sip:2155550121@127.0.0.1>;tag=a1\r\n",
    "t: <sip:2155550131@carrier.example>\r\n",
    "Identity: a.b.c;info=<https://x/c.pem>;alg=ES256;ppt=shaken\r\n",
    "Max-Forwards: 1\r\n",
    "Via: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK-x\r\n",
    "Route: <sip:127.0.0.1:5060;lr>\r\n",
    "Proxy-Require: foo\r\n",
    "Subject: one\r\n",
    "X-Folded: a\r\n\tb\r\n",
    "Date: Thu, 01 Jan 1970 00:00:00 GMT\r\n",
];

/// Bytes that matter to SIP's grammar.
const BYTES: &[u8] = b"\r\n \t:;,\"<>@%=+\x00\xff-0123456789aZ";

#[derive(Debug, Clone)]
enum Mutation {
    /// Insert a line from [`LINES`] before header line `at` (modulo their number).
    Insert { line: usize, at: usize },
    /// Replace the byte at `at` (modulo the length) by one of [`BYTES`].
    Byte { at: usize, byte: usize },
    /// Duplicate header line `at`.
    Duplicate { at: usize },
    /// Write header line `at`'s name in upper case.
    Upper { at: usize },
    /// Cut the message at `at` (modulo the length).
    Cut { at: usize },
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        4 => (0..LINES.len(), any::<usize>()).prop_map(|(line, at)| Mutation::Insert { line, at }),
        3 => (any::<usize>(), 0..BYTES.len()).prop_map(|(at, byte)| Mutation::Byte { at, byte }),
        2 => any::<usize>().prop_map(|at| Mutation::Duplicate { at }),
        1 => any::<usize>().prop_map(|at| Mutation::Upper { at }),
        1 => any::<usize>().prop_map(|at| Mutation::Cut { at }),
    ]
}

/// Byte offsets where header lines start (after the request line, before the blank line).
fn line_starts(msg: &[u8]) -> Vec<usize> {
    let end = msg
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map_or(msg.len(), |p| p + 2);
    let mut starts = Vec::new();
    let mut i = 0;
    while i < end {
        match msg[i..end].iter().position(|&b| b == b'\n') {
            Some(p) => {
                i += p + 1;
                if i < end {
                    starts.push(i);
                }
            }
            None => break,
        }
    }
    starts
}

fn apply(msg: &mut Vec<u8>, m: &Mutation) {
    let starts = line_starts(msg);
    let line_at = |at: usize| starts.get(at % starts.len().max(1)).copied();
    match *m {
        Mutation::Insert { line, at } => {
            if let Some(p) = line_at(at) {
                msg.splice(p..p, LINES[line].bytes());
            }
        }
        Mutation::Byte { at, byte } => {
            if !msg.is_empty() {
                let i = at % msg.len();
                msg[i] = BYTES[byte];
            }
        }
        Mutation::Duplicate { at } => {
            if let Some(p) = line_at(at) {
                let end = msg[p..]
                    .iter()
                    .position(|&b| b == b'\n')
                    .map_or(msg.len(), |e| p + e + 1);
                let line = msg[p..end].to_vec();
                msg.splice(p..p, line);
            }
        }
        Mutation::Upper { at } => {
            if let Some(p) = line_at(at) {
                let colon = msg[p..]
                    .iter()
                    .position(|&b| b == b':')
                    .map_or(p, |c| p + c);
                msg[p..colon].make_ascii_uppercase();
            }
        }
        Mutation::Cut { at } => {
            let keep = at % (msg.len() + 1);
            msg.truncate(keep);
        }
    }
}

/// Every From value (its number, if it has one) and every telephone number among the
/// P-Asserted-Identity values, over all lines and list elements, names matched in any
/// case and form.
fn caller_values(msg: &Message<'_>, numbering: &Numbering) -> (Vec<Option<String>>, Vec<String>) {
    let number = |element: &str| {
        NameAddr::parse(element)
            .ok()
            .and_then(|na| tn::from_uri(na.uri, numbering).ok())
            .map(|n| n.as_str().to_owned())
    };
    let mut froms = Vec::new();
    let mut asserted = Vec::new();
    for line in msg.headers() {
        let value = msg.value_of(line);
        match HeaderName::parse(msg.name_of(line)) {
            HeaderName::From => froms.extend(split_list(value).map(number)),
            HeaderName::PAssertedIdentity => asserted.extend(split_list(value).filter_map(number)),
            _ => {}
        }
    }
    (froms, asserted)
}

/// One context for every case: building the dev PKI is the slow part.
fn fixture() -> &'static (Context, Vec<u8>) {
    static FIXTURE: OnceLock<(Context, Vec<u8>)> = OnceLock::new();
    FIXTURE.get_or_init(context)
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 10_000,
        rng_seed: RngSeed::Fixed(0x5eed_ca11),
        failure_persistence: None,
        .. ProptestConfig::default()
    })]

    #[test]
    fn mutated_invites_never_panic_and_sign_the_number_they_carry(
        mutations in proptest::collection::vec(mutation(), 0..6)
    ) {
        let (ctx, key) = fixture();
        let mut bytes = testing::invite("").into_bytes();
        for m in &mutations {
            apply(&mut bytes, m);
        }
        let Ok(msg) = Message::parse(&bytes) else {
            return Ok(());
        };
        let Action::Forward(f) = decide(ctx, &msg, udp(TRUNK), 7, wall(), None) else {
            return Ok(());
        };
        let forwarded = Message::parse(&f.bytes);
        prop_assert!(forwarded.is_ok(), "the forwarded request does not parse: {:?}", String::from_utf8_lossy(&f.bytes));
        let forwarded = forwarded.unwrap();
        if let Some(Signing::Signed(_)) = f.signing {
            let identities: Vec<&str> = forwarded.header_values(HeaderName::Identity).collect();
            prop_assert_eq!(identities.len(), 1, "one Identity header leaves");
            let header = Identity::parse(identities[0]).expect("our Identity parses");
            let token = crate::verify::Token::from_jws(header.jws).expect("our JWS parses");
            prop_assert!(token.check_signature(key).is_ok());
            let claims = token.claims().expect("our claims decode");
            let carried = calling_number(&forwarded, &ctx.numbering);
            prop_assert_eq!(
                carried.ok().flatten().map(|n| n.as_str().to_owned()),
                Some(claims.orig.clone()),
                "signed {} but the request names another caller: {:?}",
                claims.orig,
                String::from_utf8_lossy(&f.bytes)
            );
            // Read independently of the parser's accessors: every line and every list
            // element that could show a caller. One From with one address; every asserted
            // number, or else the From number, is the signed one.
            let (froms, asserted) = caller_values(&forwarded, &ctx.numbering);
            prop_assert_eq!(froms.len(), 1, "From values: {:?}", froms);
            let shown: Vec<String> = if asserted.is_empty() {
                froms.into_iter().flatten().collect()
            } else {
                asserted
            };
            prop_assert!(
                !shown.is_empty() && shown.iter().all(|n| *n == claims.orig),
                "signed {} but a device could show {:?}: {:?}",
                claims.orig,
                shown,
                String::from_utf8_lossy(&f.bytes)
            );
        }
    }
}
