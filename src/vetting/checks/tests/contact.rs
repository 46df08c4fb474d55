//! `phone_numbers`, `emails` and `representative_phone_on_account`.

use super::*;

#[test]
fn phone_numbers_are_strict_e164() {
    let cases: &[(Value, bool)] = &[
        (json!("+12155550121"), true),
        (json!("+442079460000"), true),
        (json!(" +12155550121 "), true),
        (json!("+12"), true),
        (json!("+123456789012345"), true),
        (Value::Null, true),
        (json!(""), true),
        (json!("+1"), false),
        (json!("+1234567890123456"), false),
        (json!("+02155550121"), false),
        (json!("12155550121"), false),
        (json!("+1 215 555 0121"), false),
        (json!("+1-215-555-0121"), false),
        (json!("tel:+12155550121"), false),
        (json!("+1215555012\u{7}"), false),
        (json!("+1215\u{0}5550121"), false),
        (json!("+١٢١٥٥٥٥٠١٢١"), false),
        (json!(12155550121_u64), false),
        (json!(["+12155550121"]), false),
        (json!(format!("+{}", "1".repeat(1 << 20))), false),
    ];
    for (phone, passes) in cases {
        for end_user_type in [R1, R2] {
            let bundle = one(end_user_type, "phone_number", phone);
            let finding = phone_numbers(&parties(&bundle));
            let expected: &[(&str, &str)] = if *passes {
                &[]
            } else {
                &[(end_user_type, "phone_number")]
            };
            assert_eq!(failed(&finding), expected, "{phone}");
        }
    }
}

#[test]
fn only_representatives_phone_numbers_are_checked() {
    let bundle = [
        (B, attrs(json!({"phone_number": "nonsense"}))),
        (R1, attrs(json!({"phone_number": "+12155550121"}))),
        (R2, attrs(json!({"phone_number": "2155550121"}))),
    ];
    assert_eq!(
        failed(&phone_numbers(&parties(&bundle))),
        [(R2, "phone_number")]
    );
}

#[test]
fn emails_are_well_formed() {
    let cases: &[(Value, bool)] = &[
        (json!("jane@acme.com"), true),
        (json!("Jane.Doe+vetting@mail.acme.co.uk"), true),
        (json!("  jane@acme.com\n"), true),
        (Value::Null, true),
        (json!("   "), true),
        (json!("jane"), false),
        (json!("jane@acme"), false),
        (json!("jane@@acme.com"), false),
        (json!("jane doe@acme.com"), false),
        (json!("jané@acme.com"), false),
        (json!("jane@acme.com\u{0}"), false),
        (json!("jane@ac\u{1b}me.com"), false),
        (json!(format!("{}@acme.com", "j".repeat(300))), false),
        (json!(format!("jane@{}.com", "a".repeat(1 << 20))), false),
        (json!(7), false),
        (json!(["jane@acme.com"]), false),
        (json!({"email": "jane@acme.com"}), false),
    ];
    for (email, passes) in cases {
        let bundle = one(R1, "email", email);
        let finding = emails(&parties(&bundle));
        let expected: &[&str] = if *passes { &[] } else { &["email"] };
        assert_eq!(fields(&finding), expected, "{email}");
    }
    let bundle = one(R1, "email", &json!(["jane@acme.com"]));
    let finding = emails(&parties(&bundle));
    assert_eq!(finding.failures[0].reason, "must be text, not a list");
}

#[test]
fn representative_phone_must_be_one_of_the_accounts_numbers() {
    let account = [
        "+12155550121".to_owned(),
        "12155550122".to_owned(),
        "junk".to_owned(),
    ];
    let cases: &[(Value, bool)] = &[
        (json!("+12155550121"), true),
        (json!("+1 (215) 555-0121"), true),
        (json!("+1.215.555.0121"), true),
        (json!("+12155550122"), true),
        (Value::Null, true),
        (json!("+12155550123"), false),
        (json!("2155550121"), false),
        (json!("12155550121"), false),
        (json!("+1215555012*"), false),
        (json!("junk"), false),
        (json!(12155550121_u64), false),
        (json!(format!("+{}", "1".repeat(1 << 20))), false),
    ];
    for (phone, passes) in cases {
        let bundle = one(R2, "phone_number", phone);
        let finding = representative_phone_on_account(&parties(&bundle), &account);
        let expected: &[(&str, &str)] = if *passes {
            &[]
        } else {
            &[(R2, "phone_number")]
        };
        assert_eq!(failed(&finding), expected, "{phone}");
    }
    // An account without numbers matches nobody.
    let bundle = one(R1, "phone_number", &json!("+12155550121"));
    let finding = representative_phone_on_account(&parties(&bundle), &[]);
    assert_eq!(fields(&finding), ["phone_number"]);
}
