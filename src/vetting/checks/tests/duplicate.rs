//! `duplicate_registration` and `duplicate_representative`.

use super::*;

const OURS: u128 = 1;
const THEIRS: u128 = 2;

fn profile(
    account: u128,
    bundle: u128,
    registration: Option<(&str, &str)>,
    representatives: &[(Option<&str>, Option<&str>)],
) -> ApprovedProfile {
    ApprovedProfile {
        account: sid("AC", account),
        bundle: sid("BU", bundle),
        registration: registration.map(|(i, n)| (i.to_owned(), n.to_owned())),
        representatives: (representatives.iter())
            .map(|(e, p)| (e.map(str::to_owned), p.map(str::to_owned)))
            .collect(),
    }
}

fn approved() -> Vec<ApprovedProfile> {
    vec![
        profile(
            THEIRS,
            10,
            Some(("EIN", "12-3456789")),
            &[(Some("Jane@Acme.com"), Some("+12155550121")), (None, None)],
        ),
        profile(
            OURS,
            11,
            Some(("EIN", "98-7654321")),
            &[(Some("bob@acme.com"), Some("12155550199"))],
        ),
        profile(THEIRS, 12, Some(("CBN", "123026635 RC 0002")), &[]),
        profile(THEIRS, 13, None, &[(Some("  "), Some("not a number"))]),
    ]
}

#[test]
fn registrations_on_other_accounts_are_duplicates() {
    let cases: &[(Value, Value, bool)] = &[
        (json!("EIN"), json!("12-3456789"), false),
        (json!("EIN"), json!("123456789"), false),
        (json!("ein"), json!(" 12 345 6789 "), false),
        (json!("CBN"), json!("123026635RT0001"), false),
        (json!("CBN"), json!("123026635"), false),
        // The submitting account's own profile is no duplicate.
        (json!("EIN"), json!("98-7654321"), true),
        (json!("DUNS"), json!("123456789"), true),
        (json!("EIN"), json!("12-3456780"), true),
        (Value::Null, json!("12-3456789"), true),
        (json!("EIN"), Value::Null, true),
        (json!("EIN"), json!(123456789), true),
        (json!("EIN"), json!("1".repeat(1 << 20)), true),
    ];
    for (identifier, number, passes) in cases {
        let mut attributes = Attributes::new();
        for (name, value) in [
            ("business_registration_identifier", identifier),
            ("business_registration_number", number),
        ] {
            if !value.is_null() {
                attributes.insert(name.to_owned(), value.clone());
            }
        }
        let bundle = [(B, attributes)];
        let finding = duplicate_registration(&parties(&bundle), sid("AC", OURS), &approved());
        let expected: &[&str] = if *passes {
            &[]
        } else {
            &["business_registration_number"]
        };
        assert_eq!(fields(&finding), expected, "{identifier} {number}");
    }
}

#[test]
fn duplicate_registration_reasons_name_the_other_bundles() {
    let bundle = [(
        B,
        attrs(json!({
            "business_registration_identifier": "EIN",
            "business_registration_number": "12-3456789",
        })),
    )];
    let parties = parties(&bundle);
    let finding = duplicate_registration(&parties, sid("AC", OURS), &approved());
    let reason = &finding.failures[0].reason;
    assert!(reason.contains(&sid("BU", 10).to_string()), "{reason}");
    assert!(!reason.contains(&sid("AC", THEIRS).to_string()), "{reason}");

    let many: Vec<ApprovedProfile> = (20..25)
        .map(|n| profile(THEIRS, n, Some(("EIN", "123456789")), &[]))
        .collect();
    let finding = duplicate_registration(&parties, sid("AC", OURS), &many);
    assert_eq!(finding.failures.len(), 1);
    let reason = &finding.failures[0].reason;
    assert!(reason.contains(&sid("BU", 22).to_string()), "{reason}");
    assert!(!reason.contains(&sid("BU", 23).to_string()), "{reason}");
    assert!(reason.contains("and 2 more"), "{reason}");

    // Seen from the other account, the first profile is ours: no duplicate.
    let finding = duplicate_registration(&parties, sid("AC", THEIRS), &approved());
    assert!(finding.passed(), "{finding:?}");
}

#[test]
fn representatives_on_other_accounts_are_duplicates() {
    let cases: &[(Value, &[&str])] = &[
        (json!({"email": "jane@acme.com"}), &["email"]),
        (json!({"email": " JANE@ACME.COM "}), &["email"]),
        (json!({"phone_number": "+12155550121"}), &["phone_number"]),
        (
            json!({"phone_number": "+1 (215) 555-0121"}),
            &["phone_number"],
        ),
        (
            json!({"email": "jane@acme.com", "phone_number": "+12155550121"}),
            &["email", "phone_number"],
        ),
        // The submitting account's own representatives are no duplicates.
        (
            json!({"email": "bob@acme.com", "phone_number": "+12155550199"}),
            &[],
        ),
        (
            json!({"email": "jane@acme.co", "phone_number": "+12155550122"}),
            &[],
        ),
        (json!({"phone_number": "12155550121"}), &[]),
        (
            json!({"email": ["jane@acme.com"], "phone_number": 12155550121_u64}),
            &[],
        ),
        (json!({"email": "", "phone_number": "not a number"}), &[]),
        (json!({}), &[]),
    ];
    for (attributes, expected) in cases {
        for end_user_type in [R1, R2] {
            let bundle = [(end_user_type, attrs(attributes.clone()))];
            let finding = duplicate_representative(&parties(&bundle), sid("AC", OURS), &approved());
            assert_eq!(fields(&finding), *expected, "{attributes}");
            assert!(
                finding
                    .failures
                    .iter()
                    .all(|f| f.object_type == end_user_type)
            );
        }
    }
    // The business's own contact details are not a representative's.
    let bundle = [(B, attrs(json!({"email": "jane@acme.com"})))];
    let finding = duplicate_representative(&parties(&bundle), sid("AC", OURS), &approved());
    assert!(finding.passed());

    let bundle = [(R1, attrs(json!({"email": "jane@acme.com"})))];
    let finding = duplicate_representative(&parties(&bundle), sid("AC", OURS), &approved());
    let reason = &finding.failures[0].reason;
    assert!(reason.contains(&sid("BU", 10).to_string()), "{reason}");
}
