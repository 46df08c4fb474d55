//! Lookup Identity Match: compares the details a person submits (a [`Query`], the
//! Lookup v2 query parameters) with the authoritative subscriber records of a phone
//! number (a [`Record`]), field by field, and answers in the shape of Twilio's
//! `identity_match` object ([`MatchResult`]).
//!
//! Pure core: no sockets, no files (CSV arrives as any [`std::io::Read`]), no clock.
//!
//! - [`normalize`]: the folding every text goes through before it is compared
//!   (NFKD, diacritics off, lowercase, punctuation to spaces).
//! - [`address`]: address lines parsed into unit, house number and street, with the
//!   USPS, UK, Australian and German abbreviations made one.
//! - [`mod@grade`]: the per-field grading, its thresholds, and the summary score.
//! - [`query`]: [`check_query`], Twilio's length limits and each country's required
//!   parameters.
//! - [`records`]: the [`Provider`] of records, and [`Records`], the operator's own
//!   subscriber records held in memory.
//! - `csv_import`: [`Records::from_csv`] and its [`CsvError`].
//! - `regions`: the US, Canadian and Australian subdivision codes and names.
//!
//! # Levels
//!
//! Every text is first folded ([`normalize::fold`]). Then, for first and last names:
//!
//! | Level | Rule | Example (query / record) |
//! |---|---|---|
//! | `exact_match` | folded strings equal | `José` / `JOSE` |
//! | `high_partial_match` | a typo: edit distance (transposition = 1) at most the [`grade::typo_budget`] of the longer string (0 under 5 characters, 1 from 5, 2 from 10); or the same words reordered, or differing only in spacing | `Robere` / `Robert` |
//! | `partial_match` | a prefix or initial (either way, word by word), a subset of the words, a nickname of [`grade::NICKNAMES`], or Jaro-Winkler at least [`grade::NAME_PARTIAL_JW`] (0.88) | `R`, `Rob`, `Bob` / `Robert` |
//! | `no_match` | none of the above | `John` / `Robert` |
//! | `no_data_available` | either side missing, or nothing left after folding | |
//!
//! For address lines (`AddressLine1` and `AddressLine2` together, see [`address`]):
//!
//! | Level | Rule | Example (query / record) |
//! |---|---|---|
//! | `exact_match` | same unit, house number, floor, building and street words | `2/14 Smith St` / `Unit 2, 14 Smith Street` |
//! | `high_partial_match` | all of those equal but the street, which has a typo within the [`grade::typo_budget`] (street-type and direction words must still be equal), or differs only in word order or spacing | `14 Smyth St` / `14 Smith St` |
//! | `partial_match` | house numbers agree or one is missing, and the street is close (typo, or the name words of one side are found in the other, or Jaro-Winkler at least [`grade::STREET_PARTIAL_JW`] (0.92)), but something else differs: a unit, floor or building missing or different, a number missing or with another letter (`14` / `14A`), a street type different, or a street shortened | `14 Smith St` / `Unit 2 14 Smith St` |
//! | `no_match` | different house numbers, or streets with no name word in common | `15 Smith St` / `14 Smith St` |
//!
//! City, state, postal code and country are `exact_match` or `no_match` (Twilio allows
//! no partial levels for them); date of birth and national ID too. The summary score is
//! Twilio's table ([`grade::summary_score`]).

pub mod address;
mod csv_import;
pub mod grade;
pub mod normalize;
pub mod query;
pub mod records;
mod regions;

#[cfg(test)]
mod tests;

use serde::{Deserialize, Serialize};

pub use csv_import::CsvError;
pub use grade::{best, grade};
pub use query::{Field, QueryError, check_query};
pub use records::{Provider, ProviderError, Records};

/// How well one field of a query matches a record, as Twilio names it.
///
/// The order is best first: `ExactMatch < HighPartialMatch < ... < NoDataAvailable`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MatchLevel {
    /// The folded values are equal.
    ExactMatch,
    /// Almost equal: a typo, or the same words in another order.
    HighPartialMatch,
    /// A moderate match: an initial, a prefix, a nickname, a shortened address.
    PartialMatch,
    /// Both sides have the field and it does not match.
    NoMatch,
    /// The query or the record lacks the field.
    NoDataAvailable,
}

impl MatchLevel {
    /// Every level, best first.
    pub const ALL: [MatchLevel; 5] = [
        MatchLevel::ExactMatch,
        MatchLevel::HighPartialMatch,
        MatchLevel::PartialMatch,
        MatchLevel::NoMatch,
        MatchLevel::NoDataAvailable,
    ];

    /// Twilio's name, e.g. `"high_partial_match"`.
    pub fn as_str(self) -> &'static str {
        match self {
            MatchLevel::ExactMatch => "exact_match",
            MatchLevel::HighPartialMatch => "high_partial_match",
            MatchLevel::PartialMatch => "partial_match",
            MatchLevel::NoMatch => "no_match",
            MatchLevel::NoDataAvailable => "no_data_available",
        }
    }

    /// Whether the summary score counts this level as a match ("P" in Twilio's table):
    /// exact, high partial or partial.
    pub fn is_positive(self) -> bool {
        matches!(
            self,
            MatchLevel::ExactMatch | MatchLevel::HighPartialMatch | MatchLevel::PartialMatch
        )
    }
}

impl std::fmt::Display for MatchLevel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// `get` and `set` by [`Field`] for a struct with the ten Identity Match fields
/// ([`Query`] and [`Record`]).
macro_rules! impl_fields {
    ($t:ty) => {
        impl $t {
            /// The value of `field`, `None` when absent or blank.
            pub fn get(&self, field: Field) -> Option<&str> {
                let value = match field {
                    Field::FirstName => &self.first_name,
                    Field::LastName => &self.last_name,
                    Field::AddressLine1 => &self.address_line1,
                    Field::AddressLine2 => &self.address_line2,
                    Field::City => &self.city,
                    Field::State => &self.state,
                    Field::PostalCode => &self.postal_code,
                    Field::AddressCountryCode => &self.address_country_code,
                    Field::NationalId => &self.national_id,
                    Field::DateOfBirth => &self.date_of_birth,
                };
                value.as_deref().filter(|v| !v.trim().is_empty())
            }

            /// Sets `field`, e.g. from the query parameter [`Field::param`] names.
            pub fn set(&mut self, field: Field, value: Option<String>) {
                let slot = match field {
                    Field::FirstName => &mut self.first_name,
                    Field::LastName => &mut self.last_name,
                    Field::AddressLine1 => &mut self.address_line1,
                    Field::AddressLine2 => &mut self.address_line2,
                    Field::City => &mut self.city,
                    Field::State => &mut self.state,
                    Field::PostalCode => &mut self.postal_code,
                    Field::AddressCountryCode => &mut self.address_country_code,
                    Field::NationalId => &mut self.national_id,
                    Field::DateOfBirth => &mut self.date_of_birth,
                };
                *slot = value;
            }
        }
    };
}

/// A person's submitted details: the Lookup Identity Match query parameters, all
/// optional. A blank value (only whitespace) counts as absent everywhere.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Query {
    /// `FirstName`.
    pub first_name: Option<String>,
    /// `LastName`.
    pub last_name: Option<String>,
    /// `AddressLine1`.
    pub address_line1: Option<String>,
    /// `AddressLine2`.
    pub address_line2: Option<String>,
    /// `City`.
    pub city: Option<String>,
    /// `State`: state, province or other subdivision.
    pub state: Option<String>,
    /// `PostalCode`.
    pub postal_code: Option<String>,
    /// `AddressCountryCode`: ISO 3166-1 alpha-2.
    pub address_country_code: Option<String>,
    /// `NationalId`: SSN, CPF, passport number...
    pub national_id: Option<String>,
    /// `DateOfBirth`: `YYYYMMDD`.
    pub date_of_birth: Option<String>,
}

impl_fields!(Query);

impl Query {
    /// Whether any parameter is present (Twilio error 60617 when none is).
    pub fn is_empty(&self) -> bool {
        Field::ALL.iter().all(|&f| self.get(f).is_none())
    }
}

/// One authoritative subscriber record of a phone number: the same fields as a
/// [`Query`], plus the number. An empty value counts as absent.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct Record {
    /// E.164 with the `+`, e.g. `+14155550100`.
    pub phone_number: String,
    /// The subscriber's first name (the CSV column `first_name`).
    pub first_name: Option<String>,
    /// Last name, all words after the first name.
    pub last_name: Option<String>,
    pub address_line1: Option<String>,
    pub address_line2: Option<String>,
    pub city: Option<String>,
    /// State, province or other subdivision, as a code or a name.
    pub state: Option<String>,
    pub postal_code: Option<String>,
    /// ISO 3166-1 alpha-2.
    pub address_country_code: Option<String>,
    pub national_id: Option<String>,
    /// `YYYYMMDD`.
    pub date_of_birth: Option<String>,
}

impl_fields!(Record);

impl Record {
    /// The query that asks exactly what this record holds.
    pub fn to_query(&self) -> Query {
        let mut query = Query::default();
        for field in Field::ALL {
            query.set(field, self.get(field).map(str::to_owned));
        }
        query
    }
}

/// The answer for one query and one record, in Twilio's `identity_match` object shape
/// (without `error_code` and `error_message`, which the HTTP layer adds).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MatchResult {
    pub first_name_match: MatchLevel,
    pub last_name_match: MatchLevel,
    pub address_lines_match: MatchLevel,
    pub city_match: MatchLevel,
    pub state_match: MatchLevel,
    pub postal_code_match: MatchLevel,
    pub address_country_match: MatchLevel,
    pub national_id_match: MatchLevel,
    pub date_of_birth_match: MatchLevel,
    /// 0, 20, 40, 70, 80 or 100 ([`grade::summary_score`]).
    pub summary_score: u8,
}

impl MatchResult {
    /// Every field `no_data_available`, score 0: the answer when the number has no
    /// record.
    pub fn no_data() -> MatchResult {
        let n = MatchLevel::NoDataAvailable;
        MatchResult {
            first_name_match: n,
            last_name_match: n,
            address_lines_match: n,
            city_match: n,
            state_match: n,
            postal_code_match: n,
            address_country_match: n,
            national_id_match: n,
            date_of_birth_match: n,
            summary_score: 0,
        }
    }

    /// The nine levels with their JSON names, in Twilio's order.
    pub fn levels(&self) -> [(&'static str, MatchLevel); 9] {
        [
            ("first_name_match", self.first_name_match),
            ("last_name_match", self.last_name_match),
            ("address_lines_match", self.address_lines_match),
            ("city_match", self.city_match),
            ("state_match", self.state_match),
            ("postal_code_match", self.postal_code_match),
            ("address_country_match", self.address_country_match),
            ("national_id_match", self.national_id_match),
            ("date_of_birth_match", self.date_of_birth_match),
        ]
    }
}
