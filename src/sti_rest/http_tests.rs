use super::*;

fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
    let mut h = HeaderMap::new();
    for (name, value) in pairs {
        h.append(
            axum::http::HeaderName::from_bytes(name.as_bytes()).unwrap(),
            HeaderValue::from_str(value).unwrap(),
        );
    }
    h
}

#[test]
fn the_request_headers_are_checked_as_the_standard_says() {
    let ok = [
        ("content-type", "application/json"),
        ("content-length", "10"),
    ];
    assert_eq!(check_headers(&headers(&ok), 100), Ok(()));
    for (pairs, want) in [
        (
            vec![("content-length", "10")],
            ApiError::UnsupportedMediaType,
        ),
        (
            vec![
                ("content-type", "application/jsonx"),
                ("content-length", "1"),
            ],
            ApiError::UnsupportedMediaType,
        ),
        (
            vec![("content-type", "text/json"), ("content-length", "1")],
            ApiError::UnsupportedMediaType,
        ),
        (
            vec![
                ("content-type", "application/json"),
                ("transfer-encoding", "chunked"),
            ],
            ApiError::MissingContentLength,
        ),
        (
            vec![
                ("content-type", "application/json"),
                ("content-length", "101"),
            ],
            ApiError::TooLarge(100),
        ),
        (
            vec![
                ("content-type", "application/json"),
                ("content-length", "-1"),
            ],
            ApiError::Unparsable("invalid Content-Length".into()),
        ),
        (
            vec![
                ("content-type", "application/json"),
                ("content-length", "1"),
                ("accept", "application/xml, text/html;q=0.9"),
            ],
            ApiError::NotAcceptable("application/xml, text/html;q=0.9".into()),
        ),
    ] {
        assert_eq!(check_headers(&headers(&pairs), 100), Err(want), "{pairs:?}");
    }
    // Parameters, case, wildcards and a second Accept line that takes JSON.
    for pairs in [
        vec![
            ("content-type", "Application/JSON; charset=utf-8"),
            ("content-length", "1"),
        ],
        vec![
            ("content-type", "application/json"),
            ("content-length", "1"),
            ("accept", "text/html, */*;q=0.1"),
        ],
        vec![
            ("content-type", "application/json"),
            ("content-length", "1"),
            ("accept", "application/*"),
        ],
        // No body at all: SVC4000 once read, not 411.
        vec![("content-type", "application/json")],
    ] {
        assert_eq!(check_headers(&headers(&pairs), 100), Ok(()), "{pairs:?}");
    }
}

#[test]
fn a_request_id_is_echoed_when_it_can_be_and_made_otherwise() {
    assert_eq!(
        request_id(&headers(&[("x-requestid", "abc-123")])),
        "abc-123"
    );
    for bad in [String::new(), "x".repeat(129), "has space".into()] {
        let made = request_id(&headers(&[("x-requestid", &bad)]));
        assert!(uuid::Uuid::try_parse(&made).is_ok(), "{bad:?} -> {made}");
    }
    let (a, b) = (request_id(&HeaderMap::new()), request_id(&HeaderMap::new()));
    assert_ne!(a, b, "each made id is new");
}

#[test]
fn answers_carry_the_id_and_the_headers_of_their_status() {
    let r = respond("id-1", Err(ApiError::Unauthorized));
    assert_eq!(r.status(), 401);
    assert_eq!(r.headers()["x-requestid"], "id-1");
    assert!(r.headers().contains_key(header::WWW_AUTHENTICATE));
    let r = respond("id-2", Err(ApiError::MethodNotAllowed));
    assert_eq!(r.status(), 405);
    assert_eq!(r.headers()[header::ALLOW], "POST");
    let r = respond("id-3", Ok(serde_json::json!({"ok": true})));
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()[header::CONTENT_TYPE], "application/json");
}
