//! `registration_number`: every identifier kind, EIN prefixes, wrong types, huge input.

use super::*;

const ID: &str = "business_registration_identifier";
const NUM: &str = "business_registration_number";

/// The failed fields for a business with this identifier and number (`null`: absent).
fn check(identifier: Value, number: Value) -> Vec<String> {
    let mut attributes = Attributes::new();
    for (name, value) in [(ID, identifier), (NUM, number)] {
        if !value.is_null() {
            attributes.insert(name.to_owned(), value);
        }
    }
    let bundle = [(B, attributes)];
    let finding = registration_number(&parties(&bundle));
    fields(&finding).into_iter().map(str::to_owned).collect()
}

#[test]
fn numbers_of_each_identifier() {
    let cases: &[(&str, &str, &[&str])] = &[
        // EIN: NN-NNNNNNN or NNNNNNNNN.
        ("EIN", "12-3456789", &[]),
        ("EIN", "123456789", &[]),
        ("ein", " 12-3456789 ", &[]),
        ("EIN", "12-345678", &[NUM]),
        ("EIN", "1-23456789", &[NUM]),
        ("EIN", "123-456789", &[NUM]),
        ("EIN", "12 3456789", &[NUM]),
        ("EIN", "12-3456789a", &[NUM]),
        ("EIN", "12--3456789", &[NUM]),
        ("EIN", "١٢-٣٤٥٦٧٨٩", &[NUM]),
        // DUNS: NNNNNNNNN or NN-NNN-NNNN.
        ("DUNS", "123456789", &[]),
        ("DUNS", "12-345-6789", &[]),
        ("DUNS", "12-3456789", &[NUM]),
        ("DUNS", "12345678", &[NUM]),
        ("DUNS", "1234567890", &[NUM]),
        // CBN: 9 digits, Luhn, optional program account (python-stdnum's examples).
        ("CBN", "123026635", &[]),
        ("CBN", "12302 6635", &[]),
        ("CBN", "12302 6635 RC 0001", &[]),
        ("CBN", "123026635RT0001", &[]),
        ("CBN", "123026635-rt-0001", &[]),
        ("CBN", "123456783", &[NUM]),
        ("CBN", "12345678Z", &[NUM]),
        ("CBN", "123026635RT001", &[NUM]),
        ("CBN", "123026635R10001", &[NUM]),
        ("CBN", "123026635RT00011", &[NUM]),
        ("CBN", "12302663", &[NUM]),
        // VAT and VATRN: country prefix, 2 to 13 letters or digits.
        ("VAT", "GB123456789", &[]),
        ("VAT", "DE 123 456 789", &[]),
        ("VAT", "gb123456789", &[]),
        ("VAT", "CHE-123.456.789", &[]),
        ("VATRN", "RO1234567", &[]),
        ("VAT", "123456789", &[NUM]),
        ("VAT", "GB1", &[NUM]),
        ("VAT", "GB12345678901234", &[NUM]),
        ("VAT", "GB12_34", &[NUM]),
        ("VAT", "G1234567", &[NUM]),
        // CN, ACN, CIN, RN, Other: printable ASCII with a letter or digit.
        ("CN", "01234567", &[]),
        ("ACN", "000 000 019", &[]),
        ("CIN", "U72900KA2000PTC027425", &[]),
        ("RN", "1234567890", &[]),
        ("Other", "ABC/123", &[]),
        ("OTHER", "x", &[]),
        ("RN", "---", &[NUM]),
        ("Other", "né123", &[NUM]),
        ("Other", "a\u{7}b", &[NUM]),
        // Unknown identifiers fail on the identifier only.
        ("SSN", "123-45-6789", &[ID]),
        ("CCN", "123456789", &[ID]),
        ("E I N", "123456789", &[ID]),
    ];
    for (identifier, number, expected) in cases {
        assert_eq!(
            check(json!(identifier), json!(number)),
            *expected,
            "{identifier} {number:?}"
        );
    }
}

#[test]
fn ein_prefixes_are_the_ones_the_irs_assigns() {
    let unassigned = [
        0, 7, 8, 9, 17, 18, 19, 28, 29, 49, 69, 70, 78, 79, 89, 96, 97,
    ];
    let mut valid = 0;
    for prefix in 0..100 {
        let number = format!("{prefix:02}-1234567");
        let failures = check(json!("EIN"), json!(number));
        if unassigned.contains(&prefix) {
            assert_eq!(failures, [NUM], "{number}");
        } else {
            assert!(failures.is_empty(), "{number}");
            valid += 1;
        }
    }
    // The IRS list has 83 prefixes.
    assert_eq!(valid, 83);

    let bundle = [(B, attrs(json!({ID: "EIN", NUM: "070000001"})))];
    let finding = registration_number(&parties(&bundle));
    assert!(finding.failures[0].reason.contains("07"), "{finding:?}");
}

#[test]
fn missing_fields_and_wrong_types_name_the_field() {
    let cases: &[(Value, Value, &[&str])] = &[
        (Value::Null, Value::Null, &[ID, NUM]),
        (Value::Null, json!("12-3456789"), &[ID]),
        (json!("EIN"), Value::Null, &[NUM]),
        (json!("  "), json!("12-3456789"), &[ID]),
        (json!("EIN"), json!(""), &[NUM]),
        (json!("EIN"), json!(123456789), &[NUM]),
        (json!("EIN"), json!(["12-3456789"]), &[NUM]),
        (json!("EIN"), json!({"n": 1}), &[NUM]),
        (json!("EIN"), json!(true), &[NUM]),
        (json!(["EIN"]), json!("12-3456789"), &[ID]),
        (json!(1), json!(2), &[ID, NUM]),
        (json!("SSN"), json!(5), &[ID, NUM]),
    ];
    for (identifier, number, expected) in cases {
        assert_eq!(
            check(identifier.clone(), number.clone()),
            *expected,
            "{identifier} {number}"
        );
    }
    let bundle = [(B, attrs(json!({ID: "EIN", NUM: 123456789})))];
    let finding = registration_number(&parties(&bundle));
    assert_eq!(finding.failures[0].reason, "must be text, not a number");
}

#[test]
fn huge_and_control_character_numbers_fail() {
    let huge = "1".repeat(1 << 20);
    for identifier in ["EIN", "DUNS", "CBN", "VAT", "Other"] {
        assert_eq!(check(json!(identifier), json!(huge)), [NUM], "{identifier}");
        let control = check(json!(identifier), json!("12-345\u{0}6789"));
        assert_eq!(control, [NUM], "{identifier}");
    }
    // 64 characters is the limit of a free-form number.
    assert!(check(json!("Other"), json!("A".repeat(64))).is_empty());
    assert_eq!(check(json!("Other"), json!("A".repeat(65))), [NUM]);
    // Surrounding whitespace, newlines included, is trimmed.
    assert!(check(json!("EIN"), json!("12-3456789\n")).is_empty());
    assert_eq!(check(json!("EIN"), json!("12-34\n56789")), [NUM]);
}

#[test]
fn only_the_business_is_checked() {
    let bundle = [
        (R1, attrs(json!({ID: "nonsense", NUM: "x"}))),
        (B, attrs(json!({ID: "EIN", NUM: "12-3456789"}))),
    ];
    assert!(registration_number(&parties(&bundle)).passed());
    assert!(registration_number(&[]).passed());
}
