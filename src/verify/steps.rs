//! The steps that need no fetching, recorded into a [`Report`]: before the certificate
//! (1, 2, 7 to 10) and with it (5, 6, 11). Pure.

use std::borrow::Cow;

use super::token::check_attest;
use super::{
    Credential, Expected, Failure, ReceivedClaims, Report, Step, Token, check_date,
    check_freshness, check_numbers,
};
use crate::sip::Identity;

/// What the steps before fetching yield when they all pass.
pub(crate) struct Prechecked<'a> {
    pub token: Token<'a>,
    pub x5u: String,
    pub claims: ReceivedClaims,
}

/// Steps 1, 2 and 7 to 10. Returns the token when none failed, so that the certificate
/// may be fetched; otherwise the failures are in `report` and fetching is pointless.
pub(crate) fn precheck<'a>(
    report: &mut Report,
    identity_value: &'a str,
    expected: &Expected,
    now: i64,
    freshness: i64,
) -> Option<Prechecked<'a>> {
    // The ppt parameter, even when the JWS turns out to be broken.
    report.ppt = Identity::parse(identity_value)
        .ok()
        .and_then(|h| h.ppt)
        .map(str::to_owned);
    let token = match Token::parse(identity_value) {
        Ok(token) => token,
        Err(e) => {
            report.fail(Step::Parse, e.failure(), e.to_string());
            return None;
        }
    };
    report.ppt = token.ppt().map(str::to_owned);
    report.pass(Step::Parse, "full-form Identity header with a compact JWS");
    let x5u = match token.check_header() {
        Ok(x5u) => x5u.to_owned(),
        Err(e) => {
            report.fail(Step::Header, e.failure(), e.to_string());
            return None;
        }
    };
    report.pass(
        Step::Header,
        "alg ES256, ppt shaken, typ passport, info equals x5u",
    );
    report.x5u = Some(x5u.clone());

    let claims = match token.claims() {
        Ok(claims) => claims,
        Err(e) => {
            report.fail(Step::Claims, e.failure(), e.to_string());
            return None;
        }
    };
    report.pass(
        Step::Claims,
        "attest, dest, iat, orig and origid present and well-typed",
    );
    match check_attest(&claims.attest) {
        Ok(()) => report.pass(Step::Attest, attest_detail(&claims.attest)),
        Err(e) => report.fail(Step::Attest, e.failure(), e.to_string()),
    }
    let fresh = (expected.date)
        .map_or(Ok(()), |date| check_date(date, now, freshness))
        .and_then(|()| check_freshness(claims.iat, now, freshness));
    match fresh {
        Ok(()) if expected.date.is_some() => report.pass(
            Step::Freshness,
            format!("Date and iat within {freshness} s of now"),
        ),
        Ok(()) => report.pass(Step::Freshness, format!("iat within {freshness} s of now")),
        Err(e) => report.fail(Step::Freshness, e.failure(), e.to_string()),
    }
    match check_numbers(&claims, expected) {
        Ok(true) => report.pass(Step::Numbers, "orig and dest match the request"),
        Ok(false) => report.skip(Step::Numbers, "no expected numbers given"),
        Err(e) => report.fail(Step::Numbers, e.failure(), e.to_string()),
    }
    report.claims = Some(claims.clone());
    if report.any_failed() {
        return None;
    }
    Some(Prechecked { token, x5u, claims })
}

fn attest_detail(attest: &str) -> &'static str {
    match attest {
        "A" => "A (full attestation)",
        "B" => "B (partial attestation)",
        _ => "C (gateway attestation)",
    }
}

/// Steps 5, 6 and 11 with the fetched credential.
pub(crate) fn with_credential(
    report: &mut Report,
    checked: &Prechecked<'_>,
    credential: &Credential,
) {
    match credential.check_tn_auth_list(&checked.claims.orig) {
        Ok(note) => report.pass(Step::TnAuthList, note),
        Err(e) => report.fail(Step::TnAuthList, Failure::Credential, e.to_string()),
    }
    match credential.check_valid_at(checked.claims.iat) {
        Ok(()) => report.pass(Step::CertValidAtIat, "leaf valid at iat"),
        Err(e) => report.fail(Step::CertValidAtIat, Failure::Credential, e.to_string()),
    }
    let result = match &credential.leaf {
        Ok(leaf) => (checked.token.check_signature(&leaf.public_key))
            .map_err(|e| (e.failure(), Cow::Owned(e.to_string()))),
        // No key to check with: the credential is what failed.
        Err(e) => Err((Failure::Credential, Cow::Owned(format!("no leaf key: {e}")))),
    };
    match result {
        Ok(()) => report.pass(
            Step::Signature,
            "ES256 signature verifies with the leaf key",
        ),
        Err((failure, detail)) => report.fail(Step::Signature, failure, detail),
    }
}
