//! Every field of both requests, every error object, and the responses as SBCs read
//! them.

use serde_json::{Value, json};

use super::*;

fn body(v: Value) -> Vec<u8> {
    serde_json::to_vec(&v).unwrap()
}

fn signing() -> Value {
    json!({ "signingRequest": {
        "attest": "A",
        "dest": { "tn": ["12155550131", "12155550132"] },
        "iat": 1_790_000_000,
        "orig": { "tn": "12155550121" },
        "origid": "de305d54-75b4-431b-adb2-eb6b9e546014",
        // Sent by Oracle SBCs; ignored.
        "ppt": "shaken",
    }})
}

fn verification() -> Value {
    json!({ "verificationRequest": {
        "from": { "tn": "12155550121" },
        "to": { "tn": ["12155550131"] },
        "time": 1_790_000_000,
        "identity": "a.b.c;info=<https://cert.example/c.pem>;alg=ES256;ppt=shaken",
    }})
}

/// `v` with `field` of its request object replaced (or removed, for `None`).
fn with(mut v: Value, field: &str, value: Option<Value>) -> Vec<u8> {
    let (_, inner) = v.as_object_mut().unwrap().iter_mut().next().unwrap();
    let inner = inner.as_object_mut().unwrap();
    match value {
        Some(x) => inner.insert(field.to_owned(), x),
        None => inner.remove(field),
    };
    body(v)
}

#[test]
fn a_signing_request_reads_every_field() {
    let r = signing_request(&body(signing())).unwrap();
    assert_eq!(
        r,
        SigningRequest {
            attest: Attest::A,
            dest: vec!["12155550131".into(), "12155550132".into()],
            iat: 1_790_000_000,
            orig: "12155550121".into(),
            origid: Some("de305d54-75b4-431b-adb2-eb6b9e546014".into()),
        }
    );
    let without = signing_request(&with(signing(), "origid", None)).unwrap();
    assert_eq!(without.origid, None, "origid is optional");
}

#[test]
fn a_verification_request_reads_every_field() {
    let r = verification_request(&body(verification())).unwrap();
    assert_eq!(r.from, "12155550121");
    assert_eq!(r.to, ["12155550131"]);
    assert_eq!(r.time, 1_790_000_000);
    assert!(r.identity.starts_with("a.b.c;info="));
}

#[test]
fn each_missing_field_is_svc4001_naming_it() {
    for field in ["attest", "dest", "iat", "orig"] {
        let e = signing_request(&with(signing(), field, None)).unwrap_err();
        assert_eq!(e, ApiError::MissingParameter(field));
        let null = signing_request(&with(signing(), field, Some(Value::Null))).unwrap_err();
        assert_eq!(null, ApiError::MissingParameter(field), "null is missing");
    }
    for field in ["from", "to", "time", "identity"] {
        let e = verification_request(&with(verification(), field, None)).unwrap_err();
        assert_eq!(e, ApiError::MissingParameter(field));
    }
    let e = signing_request(br#"{"verificationRequest": {}}"#).unwrap_err();
    assert_eq!(e, ApiError::MissingParameter("signingRequest"));
}

#[test]
fn each_mistyped_or_bad_field_is_svc4005_naming_it() {
    let cases = [
        ("attest", json!("D")),
        ("attest", json!("a")),
        ("attest", json!(1)),
        ("dest", json!("12155550131")),
        ("dest", json!({ "tn": [] })),
        ("dest", json!({ "tn": "12155550131" })),
        ("dest", json!({ "tn": [12155550131u64] })),
        ("dest", json!({ "tn": [""] })),
        ("iat", json!("1790000000")),
        ("iat", json!(-1)),
        ("iat", json!(1.5)),
        ("orig", json!({ "tn": ["12155550121"] })),
        ("orig", json!({ "uri": "sip:a@b" })),
        ("orig", json!({ "tn": "" })),
        ("origid", json!(7)),
        ("origid", json!("")),
    ];
    for (field, value) in cases {
        let e = signing_request(&with(signing(), field, Some(value.clone()))).unwrap_err();
        assert!(
            matches!(&e, ApiError::InvalidParameter(f, _) if *f == field),
            "{field} = {value}: {e:?}"
        );
        assert_eq!(e.status(), 400);
    }
    let cases = [
        ("from", json!({ "tn": 5 })),
        ("to", json!({ "tn": [] })),
        ("time", json!(true)),
        ("identity", json!(["a.b.c"])),
        ("identity", json!("  ")),
    ];
    for (field, value) in cases {
        let e = verification_request(&with(verification(), field, Some(value))).unwrap_err();
        assert!(
            matches!(&e, ApiError::InvalidParameter(f, _) if *f == field),
            "{e:?}"
        );
    }
}

#[test]
fn bodies_that_are_not_requests_are_svc4000_or_svc4006() {
    assert_eq!(signing_request(b"").unwrap_err(), ApiError::MissingBody);
    assert_eq!(
        signing_request(b" \r\n").unwrap_err(),
        ApiError::MissingBody
    );
    for bad in [
        &b"{"[..],
        b"not json",
        b"[1, 2]",
        b"\"signingRequest\"",
        b"\xff\xfe{}",
        b"{\"signingRequest\": {\"attest\": \"A\"}} trailing",
    ] {
        let e = signing_request(bad).unwrap_err();
        assert!(matches!(e, ApiError::Unparsable(_)), "{bad:?}: {e:?}");
        assert_eq!(e.message_id(), "SVC4006");
    }
    let e = signing_request(br#"{"signingRequest": "A"}"#).unwrap_err();
    assert_eq!(e.message_id(), "SVC4005");
    // Nesting past the parser's depth limit is refused, not a stack overflow.
    let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    let e = signing_request(deep.as_bytes()).unwrap_err();
    assert_eq!(e.message_id(), "SVC4006");
    // A time past i64 is a bad value, not a wrapped one.
    let huge = with(signing(), "iat", Some(json!(1e30)));
    assert_eq!(signing_request(&huge).unwrap_err().message_id(), "SVC4005");
    let huge = with(signing(), "iat", Some(json!(u64::MAX)));
    assert_eq!(signing_request(&huge).unwrap_err().message_id(), "SVC4005");
}

#[test]
fn every_error_object_has_its_id_status_and_exception_kind() {
    let table = [
        (
            ApiError::MissingBody,
            "SVC4000",
            400,
            "serviceException",
            json!([]),
        ),
        (
            ApiError::MissingParameter("identity"),
            "SVC4001",
            400,
            "serviceException",
            json!(["identity"]),
        ),
        (
            ApiError::NotAcceptable("text/html".into()),
            "SVC4002",
            406,
            "serviceException",
            json!(["text/html"]),
        ),
        (
            ApiError::NotFound,
            "SVC4003",
            404,
            "serviceException",
            json!([]),
        ),
        (
            ApiError::UnsupportedMediaType,
            "SVC4004",
            415,
            "serviceException",
            json!(["application/json"]),
        ),
        (
            invalid("attest", "must be 'A', 'B' or 'C'"),
            "SVC4005",
            400,
            "serviceException",
            json!(["attest", "must be 'A', 'B' or 'C'"]),
        ),
        (
            ApiError::Unparsable("invalid JSON".into()),
            "SVC4006",
            400,
            "serviceException",
            json!(["invalid JSON"]),
        ),
        (
            ApiError::MissingContentLength,
            "SVC4007",
            411,
            "serviceException",
            json!([]),
        ),
        (
            ApiError::MethodNotAllowed,
            "POL4050",
            405,
            "policyException",
            json!([]),
        ),
        (
            ApiError::Internal,
            "POL5000",
            500,
            "policyException",
            json!([]),
        ),
    ];
    for (e, id, status, kind, vars) in table {
        assert_eq!(e.message_id(), id);
        assert_eq!(e.status(), status, "{id}");
        let v = e.to_json();
        let inner = &v["requestError"][kind];
        assert_eq!(inner["messageId"], id, "{v}");
        assert_eq!(inner["text"], e.text(), "{v}");
        assert_eq!(inner["variables"], vars, "{v}");
        assert_eq!(v["requestError"].as_object().unwrap().len(), 1, "{v}");
    }
}

#[test]
fn an_error_displays_with_its_variables_in_place() {
    let e = invalid("iat", "must be a non-negative integer of seconds");
    assert_eq!(
        e.to_string(),
        "SVC4005: Invalid 'iat' parameter value: must be a non-negative integer of seconds"
    );
}

#[test]
fn responses_have_the_shape_sbcs_read() {
    assert_eq!(
        signing_response("a.b.c;info=<https://x/c.pem>;alg=ES256;ppt=shaken"),
        json!({ "signingResponse": { "identity": "a.b.c;info=<https://x/c.pem>;alg=ES256;ppt=shaken" } })
    );
    assert_eq!(
        verification_response(Verstat::Passed, None, ""),
        json!({ "verificationResponse": { "verstat": "TN-Validation-Passed" } })
    );
    let failed = verification_response(Verstat::Failed, Some(438), "Signature validation failed.");
    assert_eq!(
        failed,
        json!({ "verificationResponse": {
            "verstat": "TN-Validation-Failed",
            "reasoncode": 438,
            "reasontext": "Invalid Identity Header",
            "reasondesc": "Signature validation failed.",
        }})
    );
    // A number, not a string: Oracle SBCs ignore "438".
    assert!(failed["verificationResponse"]["reasoncode"].is_u64());
}

#[test]
fn a_request_round_trips_through_its_json() {
    let r = signing_request(&body(signing())).unwrap();
    let again = json!({ "signingRequest": {
        "attest": r.attest.as_str(),
        "dest": { "tn": r.dest },
        "iat": r.iat,
        "orig": { "tn": r.orig },
        "origid": r.origid,
    }});
    assert_eq!(signing_request(&body(again)).unwrap(), r);
}

#[test]
fn a_key_given_twice_anywhere_is_refused() {
    for body in [
        r#"{"signingRequest":{"attest":"A","attest":"C"}}"#,
        r#"{"signingRequest":{},"signingRequest":{}}"#,
        r#"{"signingRequest":{"orig":{"tn":"1","tn":"2"}}}"#,
        r#"{"signingRequest":{"dest":{"tn":[{"a":1,"a":2}]}}}"#,
        r#"{"signingRequest":{"att\u0065st":"A","attest":"C"}}"#,
    ] {
        match signing_request(body.as_bytes()) {
            Err(ApiError::Unparsable(why)) => assert!(why.contains("duplicate key"), "{why}"),
            other => panic!("{body}: {other:?}"),
        }
    }
}

#[test]
fn the_policy_errors_have_their_status_and_shape() {
    for (e, status, id, kind) in [
        (ApiError::Unauthorized, 401, "POL0001", "policyException"),
        (
            ApiError::Forbidden("no".into()),
            403,
            "POL0001",
            "policyException",
        ),
        (ApiError::TooLarge(16), 413, "SVC4006", "serviceException"),
    ] {
        assert_eq!((e.status(), e.message_id()), (status, id));
        let json = e.to_json();
        let inner = &json["requestError"][kind];
        assert_eq!(inner["messageId"], id);
        assert_eq!(inner["variables"].as_array().unwrap().len(), 1, "{json}");
    }
    assert_eq!(
        ApiError::TooLarge(16).to_string(),
        "SVC4006: Failed to parse received message body: the body is larger than 16 bytes"
    );
}
