//! Tests of the vetting checks: tables of passing and failing attributes per check, and
//! a property test that no check panics on arbitrary attributes.

mod contact;
mod duplicate;
mod registration;
mod required;
mod website;

use proptest::prelude::*;
use serde_json::{Value, json};

use super::*;

const B: &str = BUSINESS;
const R1: &str = "authorized_representative_1";
const R2: &str = "authorized_representative_2";

/// An end user's attributes from a JSON object literal.
fn attrs(value: Value) -> Attributes {
    match value {
        Value::Object(map) => map,
        other => panic!("attributes must be an object, got {other}"),
    }
}

/// The parties of a bundle: end user types and their attributes.
fn parties<'a>(bundle: &'a [(&'static str, Attributes)]) -> Vec<Party<'a>> {
    (bundle.iter())
        .map(|(end_user_type, attributes)| Party {
            end_user_type,
            attributes,
        })
        .collect()
}

/// The failed fields, as `(end user type, attribute)`.
fn failed(finding: &Finding) -> Vec<(&str, &str)> {
    (finding.failures.iter())
        .map(|f| (f.object_type.as_str(), f.field.as_str()))
        .collect()
}

/// The failed attributes of a finding about a single end user.
fn fields(finding: &Finding) -> Vec<&str> {
    finding.failures.iter().map(|f| f.field.as_str()).collect()
}

/// A single end user of type `end_user_type` with one attribute; `Value::Null` means
/// the attribute is absent.
fn one(end_user_type: &'static str, name: &str, value: &Value) -> Vec<(&'static str, Attributes)> {
    let mut attributes = Attributes::new();
    if !value.is_null() {
        attributes.insert(name.to_owned(), value.clone());
    }
    vec![(end_user_type, attributes)]
}

fn sid(prefix: &str, n: u128) -> Sid {
    Sid::from_u128(prefix, n).expect("test SID")
}

#[test]
fn finding_passes_only_without_failures() {
    assert!(Finding::default().passed());
    let failed: Finding = [Failure::new(B, "website_url", "must be a URL")]
        .into_iter()
        .collect();
    assert!(!failed.passed());
    assert_eq!(failed.failures[0].object_type, B);
}

#[test]
fn the_workflow_file_shape_deserializes_through_a_tagged_enum() {
    // The workflow engine reads checks as an enum tagged by `check`: the parameters
    // structs must accept exactly the rest, and refuse unknown keys.
    #[derive(Debug, serde::Deserialize)]
    #[serde(tag = "check", rename_all = "snake_case")]
    enum Check {
        RequiredAttributes(RequiredAttributes),
        EmailDomain(EmailDomain),
    }
    #[derive(Debug, serde::Deserialize)]
    struct File {
        check: Vec<Check>,
    }
    let file: File = toml::from_str(
        r#"
        [[check]]
        check = "required_attributes"
        [check.always]
        customer_profile_business_information = ["business_name", "website_url"]
        [check.region.EUROPE]
        customer_profile_business_information = ["business_registration_number"]

        [[check]]
        check = "email_domain"
        free_mail = ["gmail.com"]
        allow_domains = ["acme-mail.com=acme.com"]
        "#,
    )
    .expect("workflow file");
    let [
        Check::RequiredAttributes(required),
        Check::EmailDomain(domain),
    ] = &file.check[..]
    else {
        panic!("unexpected checks {:?}", file.check);
    };
    assert_eq!(required.always[B], ["business_name", "website_url"]);
    assert_eq!(
        required.region["EUROPE"][B],
        ["business_registration_number"]
    );
    assert_eq!(required.validate(), Ok(()));
    assert_eq!(
        domain.free_mail.as_deref(),
        Some(&["gmail.com".to_owned()][..])
    );
    assert_eq!(domain.validate(), Ok(()));

    for unknown in [
        "check = \"required_attributes\"\nsometimes = {}",
        "check = \"email_domain\"\nfree_mail_domains = []",
    ] {
        let text = format!("[[check]]\n{unknown}\n");
        assert!(toml::from_str::<File>(&text).is_err(), "{unknown}");
    }
}

/// A JSON value as attributes hold them, with strings that look like what the checks
/// read (URLs, numbers, emails) as well as arbitrary text.
fn json_value() -> impl Strategy<Value = Value> {
    let text = prop_oneof![
        any::<String>(),
        "[-+0-9 ()]{0,20}",
        "(https?://)?[a-zA-Z0-9.:@/_\\[\\]-]{0,40}",
        "[a-zA-Z0-9.+_-]{0,12}@[a-zA-Z0-9.-]{0,20}",
        "(EIN|DUNS|CBN|VAT|VATRN|CN|Other|ein)",
        "[A-Za-z0-9 ,-]{0,30}",
    ];
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_map(Value::from),
        text.prop_map(Value::String),
    ];
    leaf.prop_recursive(2, 16, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map("[a-z_]{0,8}", inner, 0..3)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

const NAMES: &[&str] = &[
    "business_name",
    "business_type",
    "business_registration_identifier",
    "business_registration_number",
    "business_regions_of_operation",
    "website_url",
    "social_media_profile_urls",
    "email",
    "phone_number",
    "first_name",
];

fn party_strategy() -> impl Strategy<Value = (&'static str, Attributes)> {
    let end_user_type = prop::sample::select(vec![B, B, R1, R2, "other"]);
    let attributes = prop::collection::vec((prop::sample::select(NAMES), json_value()), 0..10)
        .prop_map(|pairs| {
            (pairs.into_iter())
                .map(|(name, value)| (name.to_owned(), value))
                .collect::<Attributes>()
        });
    (end_user_type, attributes)
}

proptest! {
    #[test]
    fn no_check_panics_on_arbitrary_attributes(
        bundle in prop::collection::vec(party_strategy(), 0..4),
        other in prop::collection::vec(party_strategy(), 0..3),
        account_numbers in prop::collection::vec("[+]?[0-9 -]{0,16}", 0..3),
    ) {
        let parties = parties(&bundle);
        let rules = RequiredAttributes {
            always: [(B.to_owned(), vec!["business_name".to_owned()])].into(),
            when_attached: [(R2.to_owned(), vec!["email".to_owned()])].into(),
            business_type: [("Corporation".to_owned(), [(R1.to_owned(), vec!["email".to_owned()])].into())].into(),
            region: [("EUROPE".to_owned(), [(B.to_owned(), vec!["website_url".to_owned()])].into())].into(),
        };
        let domains = EmailDomain {
            free_mail: None,
            allow_domains: vec!["group.com".to_owned(), "a.com=b.com".to_owned()],
        };
        // Approved profiles built from the other arbitrary parties' text.
        let text = |p: &(&str, Attributes), name: &str| p.1.get(name).and_then(Value::as_str).map(str::to_owned);
        let approved: Vec<ApprovedProfile> = other.iter().enumerate().map(|(n, p)| ApprovedProfile {
            account: sid("AC", n as u128 % 2),
            bundle: sid("BU", n as u128),
            registration: text(p, "business_registration_identifier")
                .zip(text(p, "business_registration_number")),
            representatives: vec![(text(p, "email"), text(p, "phone_number"))],
        }).collect();
        let account = sid("AC", 0);
        let findings = [
            required_attributes(&parties, &rules),
            registration_number(&parties),
            phone_numbers(&parties),
            emails(&parties),
            website(&parties),
            email_domain(&parties, &domains),
            representative_phone_on_account(&parties, &account_numbers),
            duplicate_registration(&parties, account, &approved),
            duplicate_representative(&parties, account, &approved),
        ];
        for failure in findings.iter().flat_map(|f| &f.failures) {
            prop_assert!(!failure.field.is_empty() && !failure.reason.is_empty());
            prop_assert!([B, R1, R2].contains(&failure.object_type.as_str()), "{failure:?}");
        }
    }
}
