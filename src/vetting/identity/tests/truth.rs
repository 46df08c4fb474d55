//! The truth table (`truth.toml`): every case graded, every wrong level reported at once.

use serde::Deserialize;

use crate::vetting::identity::{MatchLevel, Query, Record, grade};

const TRUTH: &str = include_str!("../truth.toml");

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Truth {
    record: Vec<TruthRecord>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TruthRecord {
    id: String,
    phone_number: String,
    first_name: Option<String>,
    last_name: Option<String>,
    address_line1: Option<String>,
    address_line2: Option<String>,
    city: Option<String>,
    state: Option<String>,
    postal_code: Option<String>,
    address_country_code: Option<String>,
    national_id: Option<String>,
    date_of_birth: Option<String>,
    #[serde(default)]
    case: Vec<Case>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Case {
    name: String,
    query: QueryFields,
    expect: Expect,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct QueryFields {
    first_name: Option<String>,
    last_name: Option<String>,
    address_line1: Option<String>,
    address_line2: Option<String>,
    city: Option<String>,
    state: Option<String>,
    postal_code: Option<String>,
    address_country_code: Option<String>,
    national_id: Option<String>,
    date_of_birth: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Expect {
    first_name_match: Option<MatchLevel>,
    last_name_match: Option<MatchLevel>,
    address_lines_match: Option<MatchLevel>,
    city_match: Option<MatchLevel>,
    state_match: Option<MatchLevel>,
    postal_code_match: Option<MatchLevel>,
    address_country_match: Option<MatchLevel>,
    national_id_match: Option<MatchLevel>,
    date_of_birth_match: Option<MatchLevel>,
    summary_score: u8,
}

impl Expect {
    /// The nine levels in `MatchResult::levels` order, unlisted ones no data.
    fn levels(&self) -> [MatchLevel; 9] {
        [
            self.first_name_match,
            self.last_name_match,
            self.address_lines_match,
            self.city_match,
            self.state_match,
            self.postal_code_match,
            self.address_country_match,
            self.national_id_match,
            self.date_of_birth_match,
        ]
        .map(|l| l.unwrap_or(MatchLevel::NoDataAvailable))
    }
}

fn record(r: &TruthRecord) -> Record {
    let f = r;
    Record {
        phone_number: r.phone_number.clone(),
        first_name: f.first_name.clone(),
        last_name: f.last_name.clone(),
        address_line1: f.address_line1.clone(),
        address_line2: f.address_line2.clone(),
        city: f.city.clone(),
        state: f.state.clone(),
        postal_code: f.postal_code.clone(),
        address_country_code: f.address_country_code.clone(),
        national_id: f.national_id.clone(),
        date_of_birth: f.date_of_birth.clone(),
    }
}

fn query(q: &QueryFields) -> Query {
    Query {
        first_name: q.first_name.clone(),
        last_name: q.last_name.clone(),
        address_line1: q.address_line1.clone(),
        address_line2: q.address_line2.clone(),
        city: q.city.clone(),
        state: q.state.clone(),
        postal_code: q.postal_code.clone(),
        address_country_code: q.address_country_code.clone(),
        national_id: q.national_id.clone(),
        date_of_birth: q.date_of_birth.clone(),
    }
}

#[test]
fn every_case_of_the_truth_table_grades_as_listed() {
    let truth: Truth = toml::from_str(TRUTH).expect("truth.toml parses");
    let mut cases = 0;
    let mut wrong = Vec::new();
    for r in &truth.record {
        let rec = record(r);
        for case in &r.case {
            cases += 1;
            let got = grade(&query(&case.query), Some(&rec));
            let mut diffs = Vec::new();
            for ((name, level), want) in got.levels().iter().zip(case.expect.levels()) {
                if *level != want {
                    diffs.push(format!("{name}: want {want}, got {level}"));
                }
            }
            if got.summary_score != case.expect.summary_score {
                diffs.push(format!(
                    "summary_score: want {}, got {}",
                    case.expect.summary_score, got.summary_score
                ));
            }
            if !diffs.is_empty() {
                wrong.push(format!("{} / {}: {}", r.id, case.name, diffs.join("; ")));
            }
        }
    }
    assert!(cases >= 40, "only {cases} cases");
    assert!(
        wrong.is_empty(),
        "{} of {cases} cases wrong:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
}

/// The table covers every level of the fields that have five, and all six scores.
#[test]
fn the_truth_table_covers_every_level_and_score() {
    let truth: Truth = toml::from_str(TRUTH).expect("truth.toml parses");
    let cases: Vec<&Case> = truth.record.iter().flat_map(|r| &r.case).collect();
    for (i, name) in [(0, "first_name"), (1, "last_name"), (2, "address_lines")] {
        for level in MatchLevel::ALL {
            assert!(
                cases.iter().any(|c| c.expect.levels()[i] == level),
                "no case expects {name}_match {level}"
            );
        }
    }
    for score in [0, 20, 40, 70, 80, 100] {
        assert!(
            cases.iter().any(|c| c.expect.summary_score == score),
            "no case expects summary_score {score}"
        );
    }
    for country in ["+1", "+44", "+49", "+61", "+55", "+39", "+31"] {
        assert!(
            truth
                .record
                .iter()
                .any(|r| r.phone_number.starts_with(country)),
            "no record of {country}"
        );
    }
}
