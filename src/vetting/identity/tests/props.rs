//! Properties over arbitrary input: grading never panics and answers only what Twilio
//! allows, a record matches itself, folding is stable.

use proptest::prelude::*;

use crate::vetting::identity::address::Address;
use crate::vetting::identity::grade::{name_level, summary_score};
use crate::vetting::identity::normalize::{fold, national_id, postal_code};
use crate::vetting::identity::{Field, MatchLevel, Query, Record, best, grade};

/// Any text up to `max` characters: arbitrary Unicode (controls, marks, astral
/// characters), or name- and address-like text with diacritics and punctuation.
fn text(max: usize) -> BoxedStrategy<String> {
    prop_oneof![
        proptest::collection::vec(any::<char>(), 0..=max)
            .prop_map(|chars| chars.into_iter().collect::<String>()),
        proptest::string::string_regex(&format!("[A-Za-z0-9À-ž ,./#'’-]{{0,{max}}}"))
            .expect("regex"),
    ]
    .boxed()
}

fn fields() -> impl Strategy<Value = Vec<Option<String>>> {
    Field::ALL
        .into_iter()
        .map(|f| proptest::option::of(text(f.max_len())))
        .collect::<Vec<_>>()
}

fn query(values: Vec<Option<String>>) -> Query {
    let mut q = Query::default();
    for (field, value) in Field::ALL.into_iter().zip(values) {
        q.set(field, value);
    }
    q
}

fn record(values: Vec<Option<String>>) -> Record {
    let mut r = Record {
        phone_number: "+14155550100".to_owned(),
        ..Record::default()
    };
    for (field, value) in Field::ALL.into_iter().zip(values) {
        r.set(field, value);
    }
    r
}

const EXACT_OR_NOT: [MatchLevel; 3] = [
    MatchLevel::ExactMatch,
    MatchLevel::NoMatch,
    MatchLevel::NoDataAvailable,
];

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn grading_never_panics_and_answers_only_allowed_values(q in fields(), r in fields()) {
        let (q, r) = (query(q), record(r));
        let got = grade(&q, Some(&r));
        for level in [
            got.city_match,
            got.state_match,
            got.postal_code_match,
            got.address_country_match,
            got.national_id_match,
            got.date_of_birth_match,
        ] {
            prop_assert!(EXACT_OR_NOT.contains(&level), "{got:?}");
        }
        prop_assert!([0, 20, 40, 70, 80, 100].contains(&got.summary_score));
        prop_assert_eq!(
            got.summary_score,
            summary_score(got.first_name_match, got.last_name_match, got.address_lines_match)
        );
        prop_assert_eq!(best(&q, &[r.clone(), r.clone()]), got);
        prop_assert_eq!(grade(&q, None), grade(&Query::default(), Some(&r)));
    }

    #[test]
    fn a_query_built_from_a_record_matches_it_exactly(r in fields()) {
        let r = record(r);
        let got = grade(&r.to_query(), Some(&r));
        let has = |field: Field, normal: fn(&str) -> String| {
            r.get(field).is_some_and(|v| !normal(v).is_empty())
        };
        let lines = [r.get(Field::AddressLine1), r.get(Field::AddressLine2)]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(" ");
        let expected = [
            has(Field::FirstName, fold),
            has(Field::LastName, fold),
            !Address::parse(&lines).is_empty(),
            has(Field::City, fold),
            has(Field::State, fold),
            has(Field::PostalCode, postal_code),
            has(Field::AddressCountryCode, |c| c.trim().to_owned()),
            has(Field::NationalId, national_id),
            has(Field::DateOfBirth, |d| d.trim().to_owned()),
        ];
        for ((name, level), present) in got.levels().iter().zip(expected) {
            let want = if present { MatchLevel::ExactMatch } else { MatchLevel::NoDataAvailable };
            prop_assert_eq!(*level, want, "{} of {:?}", name, r);
        }
        if expected[..3].iter().all(|p| *p) {
            prop_assert_eq!(got.summary_score, 100);
        }
    }

    #[test]
    fn a_name_against_itself_is_exact_and_against_anything_else_no_better(
        a in text(128),
        b in text(128),
    ) {
        let (a, b) = (fold(&a), fold(&b));
        prop_assume!(!a.is_empty());
        prop_assert_eq!(name_level(&a, &a), MatchLevel::ExactMatch);
        let other = name_level(&a, &b);
        prop_assert!(other >= MatchLevel::ExactMatch);
        prop_assert_eq!(other == MatchLevel::ExactMatch, a == b);
    }

    #[test]
    fn folding_is_stable(s in text(256)) {
        let once = fold(&s);
        prop_assert_eq!(fold(&once), once.clone());
        prop_assert!(!once.starts_with(' ') && !once.ends_with(' ') && !once.contains("  "));
    }
}
