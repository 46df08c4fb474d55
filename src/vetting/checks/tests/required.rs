//! `required_attributes` and the validation of its rule.

use super::*;

/// Failed fields, as `(end user type, attribute)`.
type Fields = &'static [(&'static str, &'static str)];

fn names(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| (*s).to_owned()).collect()
}

fn rules() -> RequiredAttributes {
    RequiredAttributes {
        always: [
            (
                B.to_owned(),
                names(&["business_name", "business_type", "website_url"]),
            ),
            (R1.to_owned(), names(&["first_name", "email"])),
        ]
        .into(),
        when_attached: [(R2.to_owned(), names(&["first_name"]))].into(),
        business_type: [(
            "Non-profit Corporation".to_owned(),
            [(B.to_owned(), names(&["social_media_profile_urls"]))].into(),
        )]
        .into(),
        region: [(
            "EUROPE".to_owned(),
            [(
                B.to_owned(),
                names(&["business_registration_number", "website_url"]),
            )]
            .into(),
        )]
        .into(),
    }
}

/// A complete business of type Corporation in the USA, and a complete first representative.
fn complete() -> Vec<(&'static str, Attributes)> {
    vec![
        (
            B,
            attrs(json!({
                "business_name": "Acme",
                "business_type": "Corporation",
                "website_url": "https://acme.com",
                "business_regions_of_operation": "USA_AND_CANADA",
            })),
        ),
        (
            R1,
            attrs(json!({"first_name": "Jane", "email": "jane@acme.com"})),
        ),
    ]
}

/// The failed fields of `complete()` with `change` applied to the attributes of the
/// end user of `end_user_type`.
fn with(end_user_type: &str, change: Value) -> Vec<(String, String)> {
    let mut bundle = complete();
    for (t, attributes) in &mut bundle {
        if *t == end_user_type {
            attributes.extend(attrs(change.clone()));
        }
    }
    let finding = required_attributes(&parties(&bundle), &rules());
    (finding.failures.into_iter())
        .map(|f| (f.object_type, f.field))
        .collect()
}

fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
    (list.iter())
        .map(|(t, f)| ((*t).to_owned(), (*f).to_owned()))
        .collect()
}

#[test]
fn present_means_non_empty() {
    let cases: &[(&str, Value, Fields)] = &[
        (B, json!({}), &[]),
        (B, json!({"business_name": null}), &[(B, "business_name")]),
        (B, json!({"business_name": "  \n"}), &[(B, "business_name")]),
        (B, json!({"website_url": []}), &[(B, "website_url")]),
        (B, json!({"website_url": {}}), &[(B, "website_url")]),
        (B, json!({"business_name": 0}), &[]),
        (B, json!({"business_name": false}), &[]),
        (B, json!({"business_name": [""]}), &[]),
        (
            B,
            json!({"business_name": "", "website_url": null}),
            &[(B, "business_name"), (B, "website_url")],
        ),
        (R1, json!({"email": ""}), &[(R1, "email")]),
        // Attributes no rule names are never required.
        (R1, json!({"phone_number": null}), &[]),
    ];
    for (end_user_type, change, expected) in cases {
        assert_eq!(
            with(end_user_type, change.clone()),
            pairs(expected),
            "{change}"
        );
    }
}

#[test]
fn business_type_and_region_add_attributes() {
    const SOCIAL: (&str, &str) = (B, "social_media_profile_urls");
    const REGISTRATION: (&str, &str) = (B, "business_registration_number");
    let cases: &[(Value, Fields)] = &[
        (
            json!({"business_type": "Non-profit Corporation"}),
            &[SOCIAL],
        ),
        (
            json!({"business_type": " non-PROFIT corporation "}),
            &[SOCIAL],
        ),
        (
            json!({"business_type": "Non-profit Corporation", "social_media_profile_urls": "https://x.com/a"}),
            &[],
        ),
        (json!({"business_type": "Non-profit"}), &[]),
        (json!({"business_type": ["Non-profit Corporation"]}), &[]),
        (
            json!({"business_regions_of_operation": "USA_AND_CANADA, europe"}),
            &[REGISTRATION],
        ),
        (
            json!({"business_regions_of_operation": ["ASIA", " EUROPE "]}),
            &[REGISTRATION],
        ),
        (
            json!({"business_regions_of_operation": ["ASIA,EUROPE"]}),
            &[REGISTRATION],
        ),
        (json!({"business_regions_of_operation": ["ASIA", 7]}), &[]),
        (json!({"business_regions_of_operation": "EUROPEAN"}), &[]),
        (
            json!({"business_regions_of_operation": "EUROPE", "business_registration_number": "x"}),
            &[],
        ),
        (
            json!({"business_regions_of_operation": "EUROPE,EUROPE", "website_url": ""}),
            &[(B, "website_url"), REGISTRATION],
        ),
    ];
    for (change, expected) in cases {
        assert_eq!(with(B, change.clone()), pairs(expected), "{change}");
    }
    // The reason says which rule asked.
    let mut bundle = complete();
    bundle[0]
        .1
        .insert("business_regions_of_operation".into(), json!("EUROPE"));
    bundle[0]
        .1
        .insert("business_type".into(), json!("Non-profit Corporation"));
    let finding = required_attributes(&parties(&bundle), &rules());
    let reasons: Vec<&str> = finding.failures.iter().map(|f| f.reason.as_str()).collect();
    assert_eq!(
        reasons,
        [
            "is required for a business of type Non-profit Corporation",
            "is required for a business operating in EUROPE",
        ]
    );
    // Huge region lists are read once.
    bundle[0].1.insert(
        "business_regions_of_operation".into(),
        json!("ASIA,".repeat(1 << 18)),
    );
    assert_eq!(
        required_attributes(&parties(&bundle), &rules())
            .failures
            .len(),
        1
    );
}

#[test]
fn end_users_that_are_not_attached() {
    // A required end user that is missing fails each of its attributes.
    let mut bundle = complete();
    bundle.retain(|(t, _)| *t != R1);
    let finding = required_attributes(&parties(&bundle), &rules());
    assert_eq!(failed(&finding), [(R1, "first_name"), (R1, "email")]);
    assert!(
        finding.failures[0]
            .reason
            .contains("no authorized_representative_1 end user is attached")
    );

    // An optional one is checked only when attached.
    let mut bundle = complete();
    bundle.push((R2, attrs(json!({"email": "bob@acme.com"}))));
    let finding = required_attributes(&parties(&bundle), &rules());
    assert_eq!(failed(&finding), [(R2, "first_name")]);

    // Every attached end user of a type is checked.
    let mut bundle = complete();
    bundle.push((R1, attrs(json!({"first_name": "Bob"}))));
    let finding = required_attributes(&parties(&bundle), &rules());
    assert_eq!(failed(&finding), [(R1, "email")]);

    let empty = RequiredAttributes::default();
    assert!(required_attributes(&[], &empty).passed());
    assert_eq!(required_attributes(&[], &rules()).failures.len(), 5);
}

#[test]
fn rules_are_validated() {
    assert_eq!(RequiredAttributes::default().validate(), Ok(()));
    assert_eq!(rules().validate(), Ok(()));
    let bad = [
        (
            "[always]\nauthorized_representative_3 = ['email']",
            "authorized_representative_3",
        ),
        ("[always]\nauthorized_representative_1 = ['']", "empty"),
        (
            "[always]\nauthorized_representative_1 = ['e-mail']",
            "e-mail",
        ),
        (
            "[always]\ncustomer_profile_business_information = [' business_name']",
            "business_name",
        ),
        ("[when_attached]\ncustomer = []", "when_attached"),
        ("[business_type.' ']", "business_type"),
        (
            "[region.ASIA]\nauthorized_representative_2 = ['website_url']",
            "region.\"ASIA\".authorized_representative_2",
        ),
    ];
    for (text, mention) in bad {
        let rule: RequiredAttributes = toml::from_str(text).expect(text);
        let err = rule.validate().expect_err(text);
        assert!(err.contains(mention), "{err}");
    }
}
