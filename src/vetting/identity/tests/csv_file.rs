//! `Records::from_csv`: a good file, and each way a file is refused, by line and column.

use crate::vetting::identity::{CsvError, Provider, Record, Records};

fn load(text: &str) -> Result<Records, CsvError> {
    Records::from_csv(text.as_bytes())
}

const GOOD: &str = "\
phone_number,first_name,last_name,address_line1,address_line2,city,state,postal_code,address_country_code,national_id,date_of_birth
+14155550100,Robert,Smith,14 Main St,Apt 2,San Francisco,CA,94105,US,123-45-6789,19901214
+14155550100,Bob,Smith,,,,,,,,
+4915112345678,Jürgen,Müller,\"Immermannstraße 26\",,Düsseldorf,,40210,DE,,
";

#[test]
fn a_good_file_loads_every_row() {
    let records = load(GOOD).expect("loads");
    assert_eq!((records.len(), records.numbers()), (3, 2));
    let robert = records.records("+14155550100").expect("records");
    assert_eq!(
        robert.first(),
        Some(&Record {
            phone_number: "+14155550100".into(),
            first_name: Some("Robert".into()),
            last_name: Some("Smith".into()),
            address_line1: Some("14 Main St".into()),
            address_line2: Some("Apt 2".into()),
            city: Some("San Francisco".into()),
            state: Some("CA".into()),
            postal_code: Some("94105".into()),
            address_country_code: Some("US".into()),
            national_id: Some("123-45-6789".into()),
            date_of_birth: Some("19901214".into()),
        })
    );
    // Empty cells are absent.
    assert_eq!(
        robert
            .get(1)
            .map(|r| (r.first_name.as_deref(), r.city.as_deref())),
        Some((Some("Bob"), None))
    );
    let de = records.records("+4915112345678").expect("records");
    assert_eq!(de[0].address_line1.as_deref(), Some("Immermannstraße 26"));
}

#[test]
fn columns_may_come_in_any_order_and_be_left_out() {
    let records = load("last_name, phone_number\nSmith, +14155550100\n").expect("loads");
    let r = records.records("+14155550100").expect("records");
    assert_eq!(r[0].last_name.as_deref(), Some("Smith"));
    assert_eq!(r[0].first_name, None);
}

#[test]
fn a_byte_order_mark_is_skipped() {
    let records = load("\u{feff}phone_number,first_name\n+14155550100,Robert\n").expect("loads");
    assert_eq!(records.len(), 1);
}

#[test]
fn the_header_is_checked() {
    assert_eq!(load("").err(), Some(CsvError::Empty));
    assert_eq!(load("\n").err(), Some(CsvError::Empty));
    assert_eq!(
        load("phone_number,first_name,nickname\n").err(),
        Some(CsvError::UnknownColumn {
            column: "nickname".into()
        })
    );
    assert_eq!(
        load("phone_number,city,city\n").err(),
        Some(CsvError::DuplicateColumn {
            column: "city".into()
        })
    );
    assert_eq!(
        load("first_name,last_name\nRobert,Smith\n").err(),
        Some(CsvError::MissingColumn {
            column: "phone_number"
        })
    );
    // A header alone is an empty set of records.
    assert!(load("phone_number,first_name\n").expect("loads").is_empty());
}

#[test]
fn a_bad_phone_number_names_its_line() {
    for bad in [
        "14155550100",
        "+0415555",
        "+1",
        "+1415555010012345",
        "+1 415 555 0100",
        "",
    ] {
        let text = format!("phone_number,first_name\n+14155550100,Robert\n{bad},Smith\n");
        assert_eq!(
            load(&text).err(),
            Some(CsvError::PhoneNumber {
                line: 3,
                value: bad.into()
            }),
            "{bad:?}"
        );
    }
}

#[test]
fn an_oversize_cell_names_its_line_and_column() {
    let text = format!(
        "phone_number,postal_code,first_name\n+14155550100,94105,{}\n+14155550101,941051234567,Bob\n",
        "é".repeat(128)
    );
    assert_eq!(
        load(&text).err(),
        Some(CsvError::TooLong {
            line: 3,
            column: "postal_code".into(),
            max: 10
        })
    );
    let text = format!(
        "phone_number,first_name\n+14155550100,{}\n",
        "a".repeat(129)
    );
    assert_eq!(
        load(&text).err(),
        Some(CsvError::TooLong {
            line: 2,
            column: "first_name".into(),
            max: 128
        })
    );
}

#[test]
fn a_cell_in_the_wrong_form_names_its_line_and_column() {
    let got = load("phone_number,date_of_birth\n+14155550100,19901340\n").err();
    assert!(
        matches!(&got, Some(CsvError::Invalid { line: 2, column, .. }) if column == "date_of_birth"),
        "{got:?}"
    );
    let got = load("phone_number,address_country_code\n+14155550100,USA\n").err();
    assert!(
        matches!(&got, Some(CsvError::TooLong { line: 2, column, .. }) if column == "address_country_code"),
        "{got:?}"
    );
}

#[test]
fn invalid_utf8_is_an_error_not_a_panic() {
    let mut bytes = b"phone_number,first_name\n+14155550100,Robert\n+14155550101,".to_vec();
    bytes.extend_from_slice(b"Ren\xe9\n"); // Latin-1 "René"
    let got = Records::from_csv(bytes.as_slice()).err();
    assert_eq!(
        got,
        Some(CsvError::Invalid {
            line: 3,
            column: "first_name".into(),
            reason: "not UTF-8".into()
        })
    );
    let got = Records::from_csv(&b"phone_number,f\xffirst\n"[..]).err();
    assert!(
        matches!(got, Some(CsvError::Invalid { line: 1, .. })),
        "{got:?}"
    );
}

#[test]
fn a_row_of_another_width_names_its_line() {
    let got = load("phone_number,first_name\n+14155550100,Robert\n+14155550101,Bob,Smith\n").err();
    assert!(
        matches!(&got, Some(CsvError::Read { line: 3, reason }) if reason.contains("3 cells")),
        "{got:?}"
    );
    // An unterminated quote runs to the end of the file, as the csv crate reads it.
    let got = load("phone_number,first_name\n+14155550100,\"Robert\n").expect("loads");
    let r = got.records("+14155550100").expect("records");
    assert_eq!(r[0].first_name.as_deref(), Some("Robert"));
}

#[test]
fn errors_name_the_line_and_column_in_their_text() {
    assert_eq!(
        CsvError::TooLong {
            line: 7,
            column: "city".into(),
            max: 128
        }
        .to_string(),
        "line 7, column city: longer than 128 characters"
    );
}
