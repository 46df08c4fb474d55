//! `check_query`: Twilio's limits at max and max + 1, the forms, each country's
//! required parameters.

use crate::vetting::identity::query::{check_value, is_date, required};
use crate::vetting::identity::{Field, Query, QueryError, check_query};

fn full() -> Query {
    Query {
        first_name: Some("Robert".into()),
        last_name: Some("Smith".into()),
        address_line1: Some("14 Main St".into()),
        address_line2: Some("Apt 2".into()),
        city: Some("San Francisco".into()),
        state: Some("CA".into()),
        postal_code: Some("94105".into()),
        address_country_code: Some("US".into()),
        national_id: Some("123456789".into()),
        date_of_birth: Some("19901214".into()),
    }
}

/// A value of `len` characters that is valid for `field` (multi-byte where free text,
/// so that characters, not bytes, are counted).
fn value_of(field: Field, len: usize) -> String {
    match field {
        Field::DateOfBirth => "19901214".chars().cycle().take(len).collect(),
        Field::AddressCountryCode => "US".chars().cycle().take(len).collect(),
        Field::PostalCode => "9".repeat(len),
        _ => "é".repeat(len),
    }
}

#[test]
fn every_limit_holds_at_max_and_refuses_max_plus_one() {
    let limits = [
        (Field::FirstName, "FirstName", 128),
        (Field::LastName, "LastName", 128),
        (Field::AddressLine1, "AddressLine1", 256),
        (Field::AddressLine2, "AddressLine2", 256),
        (Field::City, "City", 128),
        (Field::State, "State", 128),
        (Field::PostalCode, "PostalCode", 10),
        (Field::AddressCountryCode, "AddressCountryCode", 2),
        (Field::NationalId, "NationalId", 128),
        (Field::DateOfBirth, "DateOfBirth", 8),
    ];
    for (field, param, max) in limits {
        assert_eq!((field.param(), field.max_len()), (param, max));
        let mut q = full();
        q.set(field, Some(value_of(field, max)));
        assert_eq!(check_query(&q, "US"), Ok(()), "{param} at {max}");
        q.set(field, Some(value_of(field, max + 1)));
        assert_eq!(
            check_query(&q, "US"),
            Err(QueryError::TooLong { param, max }),
            "{param} at {}",
            max + 1
        );
    }
}

#[test]
fn a_date_of_birth_must_be_a_real_yyyymmdd_date() {
    for good in ["19901214", "20000229", "19880229", "00010101", "99991231"] {
        assert!(is_date(good), "{good}");
    }
    for bad in [
        "19901340",
        "19901301",
        "19900001",
        "19900100",
        "19900230",
        "19000229",
        "19890229",
        "00000101",
        "1990121",
        "1990-12-",
        "199012a4",
        "１９９０１２１４",
    ] {
        assert!(!is_date(bad), "{bad}");
        let q = Query {
            first_name: Some("Robert".into()),
            date_of_birth: Some(bad.into()),
            ..Query::default()
        };
        assert!(
            matches!(
                check_query(&q, "US"),
                Err(QueryError::Invalid {
                    param: "DateOfBirth",
                    ..
                }) | Err(QueryError::TooLong {
                    param: "DateOfBirth",
                    ..
                })
            ),
            "{bad}: {:?}",
            check_query(&q, "US")
        );
    }
}

#[test]
fn a_country_code_must_be_two_ascii_letters() {
    for bad in ["U1", "Ü", "ÜS", "1", "U", "  "] {
        let q = Query {
            first_name: Some("Robert".into()),
            address_country_code: Some(bad.into()),
            ..Query::default()
        };
        let got = check_query(&q, "US");
        if bad.trim().is_empty() {
            assert_eq!(got, Ok(()), "blank is absent");
        } else {
            assert!(
                matches!(
                    got,
                    Err(QueryError::Invalid {
                        param: "AddressCountryCode",
                        ..
                    })
                ),
                "{bad:?}: {got:?}"
            );
        }
    }
    assert_eq!(check_value(Field::AddressCountryCode, "gb"), Ok(()));
}

#[test]
fn control_characters_are_refused_in_every_parameter() {
    for field in Field::ALL {
        let mut q = full();
        q.set(field, Some("a\u{0}b".into()));
        let got = check_query(&q, "US");
        assert!(
            matches!(got, Err(QueryError::Invalid { param, .. }) if param == field.param()),
            "{field:?}: {got:?}"
        );
    }
    assert!(check_value(Field::City, "New\nYork").is_err());
}

#[test]
fn a_postal_code_is_letters_digits_spaces_and_hyphens() {
    for good in ["SW1A 1AA", "94105-1234", "3521AL"] {
        assert_eq!(check_value(Field::PostalCode, good), Ok(()), "{good}");
    }
    assert!(matches!(
        check_value(Field::PostalCode, "94105;1"),
        Err(QueryError::Invalid {
            param: "PostalCode",
            ..
        })
    ));
}

#[test]
fn each_country_requires_its_parameters() {
    let cases: [(&str, &[&str]); 6] = [
        ("BR", &["FirstName", "LastName", "AddressLine1"]),
        (
            "DE",
            &[
                "FirstName",
                "LastName",
                "AddressLine1",
                "City",
                "PostalCode",
            ],
        ),
        (
            "GB",
            &["FirstName", "LastName", "AddressLine1", "PostalCode"],
        ),
        ("IT", &["FirstName", "LastName", "AddressLine1"]),
        ("US", &[]),
        ("AU", &[]),
    ];
    for (country, params) in cases {
        let names: Vec<&str> = required(country).iter().map(|f| f.param()).collect();
        assert_eq!(names, params, "{country}");
        assert_eq!(check_query(&full(), country), Ok(()), "{country}: full");
        for param in params {
            let mut q = full();
            q.set(Field::from_param(param).expect("param"), None);
            assert_eq!(
                check_query(&q, country),
                Err(QueryError::MissingRequired {
                    param,
                    country: country.to_owned()
                }),
                "{country} without {param}"
            );
            // Blank is missing too.
            q.set(Field::from_param(param).expect("param"), Some("  ".into()));
            assert!(check_query(&q, country).is_err(), "{country} blank {param}");
        }
    }
    // Lowercase, and UK for GB.
    let mut q = full();
    q.postal_code = None;
    assert_eq!(
        check_query(&q, "uk"),
        Err(QueryError::MissingRequired {
            param: "PostalCode",
            country: "GB".into()
        })
    );
    assert!(check_query(&q, "de").is_err());
    assert_eq!(check_query(&q, "NL"), Ok(()));
}

#[test]
fn a_query_needs_at_least_one_parameter() {
    let none = Query::default();
    let want = Err(QueryError::MissingRequired {
        param: "FirstName",
        country: "US".into(),
    });
    assert_eq!(check_query(&none, "US"), want);
    let blank = Query {
        city: Some(" ".into()),
        ..Query::default()
    };
    assert_eq!(check_query(&blank, "US"), want);
    let one = Query {
        date_of_birth: Some("19901214".into()),
        ..Query::default()
    };
    assert_eq!(check_query(&one, "US"), Ok(()));
}

#[test]
fn errors_read_as_twilio_parameters() {
    assert_eq!(
        QueryError::TooLong {
            param: "FirstName",
            max: 128
        }
        .to_string(),
        "FirstName is longer than 128 characters"
    );
    assert_eq!(
        QueryError::MissingRequired {
            param: "PostalCode",
            country: "DE".into()
        }
        .to_string(),
        "PostalCode is required for numbers of DE"
    );
}
