//! The parts of the grading: folding, address parsing, states, postal codes, the
//! summary score table, `best`, and the in-memory records.

use crate::vetting::identity::address::Address;
use crate::vetting::identity::grade::{name_level, summary_score, typo_budget};
use crate::vetting::identity::normalize::{fold, same_postal_code};
use crate::vetting::identity::{
    MatchLevel, MatchResult, Provider, Query, Record, Records, best, grade,
};

use MatchLevel::{ExactMatch, HighPartialMatch, NoDataAvailable, NoMatch, PartialMatch};

#[test]
fn folding_drops_case_diacritics_and_punctuation() {
    for (input, want) in [
        ("Müller", "muller"),
        ("José", "jose"),
        ("ÅSA-LISA", "asa lisa"),
        ("Nguyễn", "nguyen"),
        ("Straße", "strasse"),
        ("Łódź", "lodz"),
        ("Søren Ærø", "soren aero"),
        ("O’Neil", "oneil"),
        ("  Mary   Ann\t", "mary ann"),
        ("Ｒｏｂｅｒｔ", "robert"),
        ("ﬁnn", "finn"),
        ("!!!", ""),
        ("", ""),
    ] {
        assert_eq!(fold(input), want, "{input:?}");
    }
    // Marks of other scripts are letters, and stay.
    assert_eq!(fold("किशोर"), "किशोर");
    assert_ne!(fold("कि"), fold("का"));
}

#[test]
fn every_unit_form_parses_the_same() {
    let want = Address {
        unit: Some("2".into()),
        number: Some("14".into()),
        street: vec!["smith".into(), "street".into()],
        ..Address::default()
    };
    for form in [
        "2/14 Smith St",
        "2 / 14 Smith St.",
        "Unit 2 14 Smith St",
        "U 2 14 Smith St",
        "U2 14 Smith St",
        "Flat 2 14 Smith Street",
        "F 2 14 Smith St",
        "Apt 2 14 Smith St",
        "APT 2, 14 SMITH ST",
        "Apartment 2, 14 Smith Street",
        "14 Smith St Apt 2",
        "14 Smith St # 2",
        "14 Smith St Apt #2",
        "Suite 2 14 Smith Street",
        "Ste 2 14 Smith St",
    ] {
        assert_eq!(Address::parse(form), want, "{form}");
    }
}

#[test]
fn abbreviations_and_other_parts_parse() {
    let parse = |s: &str| Address::parse(s);
    assert_eq!(parse("100 N Main Blvd"), parse("100 North Main Boulevard"));
    assert_eq!(parse("5 SE Oak Pkwy"), parse("5 Southeast Oak Parkway"));
    assert_eq!(parse("Level 3, 8 Elm Ter"), parse("8 Elm Terrace Fl 3"));
    assert_eq!(parse("Level 3, 8 Elm Ter").floor.as_deref(), Some("3"));
    assert_eq!(parse("Bldg 4 9 Hwy 1").building.as_deref(), Some("4"));
    assert_eq!(parse("P.O. Box 77"), parse("PO Box 77"));
    assert_eq!(parse("Hauptstr. 5"), parse("Hauptstraße 5"));
    assert_eq!(parse("Haupt Strasse 5"), parse("Hauptstraße 5"));
    assert_eq!(parse("via Roma 1"), parse("1 Via Roma"));
    let br = parse("RUA COSTA ESMERALDA 50 BL 14 APT 22 CENTR");
    assert_eq!(
        (
            br.number.as_deref(),
            br.building.as_deref(),
            br.unit.as_deref()
        ),
        (Some("50"), Some("14"), Some("22"))
    );
    assert!(parse(" , . ").is_empty());
    // A state in the line is not a floor: FL takes only a number.
    assert_eq!(parse("1 Ocean Dr Miami FL").floor, None);
}

#[test]
fn address_levels_step_down() {
    let level = |q: &str, r: &str| {
        grade(
            &Query {
                address_line1: Some(q.into()),
                ..Query::default()
            },
            Some(&Record {
                address_line1: Some(r.into()),
                ..Record::default()
            }),
        )
        .address_lines_match
    };
    let r = "Unit 2 14 Smith Street";
    assert_eq!(level("2/14 Smith St", r), ExactMatch);
    assert_eq!(level("2/14 Smith St", "2/14 Smith St"), ExactMatch);
    assert_eq!(level("2/14 Smiht St", r), HighPartialMatch);
    assert_eq!(level("2/14 St Smith", r), HighPartialMatch);
    assert_eq!(level("14 Smith St", r), PartialMatch);
    assert_eq!(level("2/14A Smith St", r), PartialMatch);
    assert_eq!(level("Smith St", r), PartialMatch);
    assert_eq!(level("2/14 Smith Ave", r), PartialMatch);
    assert_eq!(level("2/14 E Smith St", "2/14 W Smith St"), PartialMatch);
    assert_eq!(level("2/15 Smith St", r), NoMatch);
    assert_eq!(level("2/14 Jones St", r), NoMatch);
    assert_eq!(level("14", r), NoMatch);
    assert_eq!(level("---", r), NoDataAvailable);
}

#[test]
fn name_levels_step_down() {
    let level = |q: &str, r: &str| name_level(&fold(q), &fold(r));
    assert_eq!(level("ROBERT", "Robert"), ExactMatch);
    assert_eq!(level("Robere", "Robert"), HighPartialMatch);
    assert_eq!(level("Rboert", "Robert"), HighPartialMatch);
    assert_eq!(level("Christopher", "Christofer"), HighPartialMatch);
    assert_eq!(level("Alixandrea", "Alexandria"), HighPartialMatch);
    assert_ne!(level("Christophre", "Kristopher"), HighPartialMatch);
    for partial in ["Rob", "R", "R.", "Bob", "Bobby", "Robert Lee"] {
        assert_eq!(level(partial, "Robert"), PartialMatch, "{partial}");
    }
    assert_eq!(level("Robert", "R"), PartialMatch);
    assert_eq!(level("Roberta Jane", "Robert"), PartialMatch);
    assert_eq!(level("Stephen", "Steven"), PartialMatch);
    assert_eq!(level("Bob", "Rob"), PartialMatch);
    for other in ["John", "Albert", "Bert Smith", "Tom"] {
        assert_eq!(level(other, "Robert"), NoMatch, "{other}");
    }
    assert_eq!(level("John", "Joan"), NoMatch);
    assert_eq!(level("", "Robert"), NoDataAvailable);
}

#[test]
fn typo_budget_grows_with_length() {
    assert_eq!([1, 4, 5, 9, 10, 40].map(typo_budget), [0, 0, 1, 1, 2, 2]);
}

#[test]
fn states_postal_codes_and_countries() {
    let g = |q: Query, r: Record| grade(&q, Some(&r));
    let state = |q: &str, r: &str| {
        g(
            Query {
                state: Some(q.into()),
                ..Query::default()
            },
            Record {
                state: Some(r.into()),
                ..Record::default()
            },
        )
        .state_match
    };
    assert_eq!(state("NY", "New York"), ExactMatch);
    assert_eq!(state("n.y.", "NEW YORK"), ExactMatch);
    assert_eq!(state("DC", "District of Columbia"), ExactMatch);
    assert_eq!(state("PR", "Puerto Rico"), ExactMatch);
    assert_eq!(state("QC", "Québec"), ExactMatch);
    assert_eq!(state("QLD", "Queensland"), ExactMatch);
    assert_eq!(state("WA", "Washington"), ExactMatch);
    assert_eq!(state("WA", "Western Australia"), ExactMatch);
    assert_eq!(state("Washington", "Western Australia"), NoMatch);
    assert_eq!(state("NY", "NJ"), NoMatch);

    let city = |q: &str, r: &str| {
        g(
            Query {
                city: Some(q.into()),
                ..Query::default()
            },
            Record {
                city: Some(r.into()),
                ..Record::default()
            },
        )
        .city_match
    };
    assert_eq!(city("St. Louis", "Saint Louis"), ExactMatch);
    assert_eq!(city("Ft Worth", "FORT WORTH"), ExactMatch);
    assert_eq!(city("São Paulo", "Sao Paulo"), ExactMatch);
    assert_eq!(city("San Francisco", "San Franciso"), NoMatch);

    assert!(same_postal_code("94105", "94105-1234"));
    assert!(same_postal_code("941051234", "94105"));
    assert!(same_postal_code("sw1a 1aa", "SW1A1AA"));
    assert!(!same_postal_code("94105-1234", "94105-4321"));
    assert!(!same_postal_code("94105", "94106-1234"));
    assert!(!same_postal_code("9410", "94105"));

    let country = |q: &str, r: &str| {
        g(
            Query {
                address_country_code: Some(q.into()),
                ..Query::default()
            },
            Record {
                address_country_code: Some(r.into()),
                ..Record::default()
            },
        )
        .address_country_match
    };
    assert_eq!(country("us", "US"), ExactMatch);
    assert_eq!(country("UK", "gb"), ExactMatch);
    assert_eq!(country("CA", "US"), NoMatch);
}

#[test]
fn the_summary_score_is_twilios_table_for_all_125_combinations() {
    for first in MatchLevel::ALL {
        for last in MatchLevel::ALL {
            for address in MatchLevel::ALL {
                let (f, l, a) = (
                    first.is_positive(),
                    last.is_positive(),
                    address.is_positive(),
                );
                let want = match (f, l, a) {
                    (true, true, true) => 100,
                    (true, false, true) => 80,
                    (true, false, false) if address == NoDataAvailable => 70,
                    (true, false, false) => 0,
                    (true, true, false) => 40,
                    (false, true, true) => 20,
                    (false, true, false) => 20,
                    (false, false, _) => 0,
                };
                assert_eq!(
                    summary_score(first, last, address),
                    want,
                    "{first} {last} {address}"
                );
            }
        }
    }
}

#[test]
fn no_record_is_no_data_everywhere() {
    let q = Query {
        first_name: Some("Robert".into()),
        ..Query::default()
    };
    assert_eq!(grade(&q, None), MatchResult::no_data());
    assert_eq!(best(&q, &[]), MatchResult::no_data());
    let json = serde_json::to_value(MatchResult::no_data()).expect("json");
    assert_eq!(json["address_lines_match"], "no_data_available");
    assert_eq!(json["summary_score"], 0);
    assert_eq!(
        MatchLevel::ALL.map(MatchLevel::as_str)[1],
        "high_partial_match"
    );
    assert_eq!(
        MatchLevel::ALL.map(MatchLevel::is_positive),
        [true, true, true, false, false]
    );
}

#[test]
fn best_takes_the_highest_score_then_the_most_exact_fields() {
    let person = |first: &str, last: &str, city: &str| Record {
        phone_number: "+14155550100".into(),
        first_name: Some(first.into()),
        last_name: Some(last.into()),
        city: Some(city.into()),
        ..Record::default()
    };
    let q = Query {
        first_name: Some("Robert".into()),
        last_name: Some("Smith".into()),
        city: Some("Oakland".into()),
        ..Query::default()
    };
    let records = [
        person("Robert", "Jones", "Oakland"), // P N N: 70
        person("Robert", "Smith", "Fresno"),  // P P N: 40
        person("Rob", "Smith", "Oakland"),    // P P N: 40, more exact fields
        person("Robert", "Smyth", "Oakland"), // 40 with as many exact fields
    ];
    assert_eq!(best(&q, &records).summary_score, 70);
    let got = best(&q, &records[1..]);
    assert_eq!(got, grade(&q, Some(&records[2])));
    assert_eq!(got.city_match, ExactMatch);
}

#[test]
fn records_keep_every_record_of_a_number_in_order() {
    let mut records = Records::new();
    assert!(records.is_empty());
    let a = Record {
        phone_number: "+14155550100".into(),
        first_name: Some("Robert".into()),
        address_line2: Some("Apt 2".into()),
        ..Record::default()
    };
    let b = Record {
        phone_number: "+14155550100".into(),
        last_name: Some("Smith".into()),
        date_of_birth: Some("19901214".into()),
        ..Record::default()
    };
    let c = Record {
        phone_number: "+442071234567".into(),
        city: Some("London".into()),
        ..Record::default()
    };
    let loose = Record {
        phone_number: "0800 123".into(),
        city: Some("Leeds".into()),
        ..Record::default()
    };
    for r in [a.clone(), b.clone(), c.clone(), loose.clone()] {
        records.insert(r);
    }
    assert_eq!((records.len(), records.numbers()), (4, 3));
    assert_eq!(records.records("+14155550100"), Ok(vec![a, b]));
    assert_eq!(records.records("+442071234567"), Ok(vec![c]));
    assert_eq!(records.records("0800 123"), Ok(vec![loose]));
    assert_eq!(records.records("+14155550101"), Ok(vec![]));
    assert_eq!(records.records("14155550100"), Ok(vec![]));
    // Through the trait object, as the HTTP layer holds it.
    let provider: &dyn Provider = &records;
    assert_eq!(provider.records("+442071234567").map(|r| r.len()), Ok(1));
}
