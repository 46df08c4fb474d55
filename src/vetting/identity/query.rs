//! The Lookup Identity Match parameters ([`Field`]) and the check of a query before it
//! is graded ([`check_query`]): Twilio's length limits, the forms of `DateOfBirth` and
//! `AddressCountryCode`, and the parameters each country requires.

use thiserror::Error;

use super::Query;

/// One Identity Match parameter, named as Twilio names it ([`Field::param`]); the
/// record field and CSV column of the same meaning is [`Field::column`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Field {
    FirstName,
    LastName,
    AddressLine1,
    AddressLine2,
    City,
    State,
    PostalCode,
    AddressCountryCode,
    NationalId,
    DateOfBirth,
}

impl Field {
    /// Every parameter, in Twilio's order.
    pub const ALL: [Field; 10] = [
        Field::FirstName,
        Field::LastName,
        Field::AddressLine1,
        Field::AddressLine2,
        Field::City,
        Field::State,
        Field::PostalCode,
        Field::AddressCountryCode,
        Field::NationalId,
        Field::DateOfBirth,
    ];

    /// Twilio's query parameter name, e.g. `"FirstName"`.
    pub fn param(self) -> &'static str {
        match self {
            Field::FirstName => "FirstName",
            Field::LastName => "LastName",
            Field::AddressLine1 => "AddressLine1",
            Field::AddressLine2 => "AddressLine2",
            Field::City => "City",
            Field::State => "State",
            Field::PostalCode => "PostalCode",
            Field::AddressCountryCode => "AddressCountryCode",
            Field::NationalId => "NationalId",
            Field::DateOfBirth => "DateOfBirth",
        }
    }

    /// The snake_case name: the CSV column, and the batch API's property.
    pub fn column(self) -> &'static str {
        match self {
            Field::FirstName => "first_name",
            Field::LastName => "last_name",
            Field::AddressLine1 => "address_line1",
            Field::AddressLine2 => "address_line2",
            Field::City => "city",
            Field::State => "state",
            Field::PostalCode => "postal_code",
            Field::AddressCountryCode => "address_country_code",
            Field::NationalId => "national_id",
            Field::DateOfBirth => "date_of_birth",
        }
    }

    /// The parameter named `param` (Twilio's name, exact case).
    pub fn from_param(param: &str) -> Option<Field> {
        Field::ALL.into_iter().find(|f| f.param() == param)
    }

    /// Twilio's maximum length, in characters.
    pub fn max_len(self) -> usize {
        match self {
            Field::AddressLine1 | Field::AddressLine2 => 256,
            Field::PostalCode => 10,
            Field::AddressCountryCode => 2,
            Field::DateOfBirth => 8,
            _ => 128,
        }
    }
}

/// Why a Lookup query is refused. `TooLong` and `Invalid` are Twilio error 60618
/// (malformed request parameter), `MissingRequired` 60617 (not enough request
/// parameters); the HTTP layer maps them.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum QueryError {
    /// A parameter longer than Twilio's limit; `param` is Twilio's name, e.g.
    /// `"FirstName"`.
    #[error("{param} is longer than {max} characters")]
    TooLong { param: &'static str, max: usize },
    /// A parameter in the wrong form: `DateOfBirth` not a real `YYYYMMDD` date,
    /// `AddressCountryCode` not two ASCII letters, a `PostalCode` with other than
    /// letters, digits, spaces and hyphens, or a control character in any parameter.
    #[error("{param} is invalid: {reason}")]
    Invalid { param: &'static str, reason: String },
    /// A parameter the number's country requires is missing (Twilio error 60617). A
    /// query with no parameter at all is this error for `FirstName`, whatever the
    /// country (Twilio: "ensure at least one optional field, such as FirstName, is
    /// included").
    #[error("{param} is required for numbers of {country}")]
    MissingRequired {
        param: &'static str,
        country: String,
    },
}

/// Parameters each country requires (Twilio's "Country-specific requirements"). Other
/// countries require none.
const REQUIRED: &[(&str, &[Field])] = &[
    (
        "BR",
        &[Field::FirstName, Field::LastName, Field::AddressLine1],
    ),
    (
        "DE",
        &[
            Field::FirstName,
            Field::LastName,
            Field::AddressLine1,
            Field::City,
            Field::PostalCode,
        ],
    ),
    (
        "GB",
        &[
            Field::FirstName,
            Field::LastName,
            Field::AddressLine1,
            Field::PostalCode,
        ],
    ),
    (
        "IT",
        &[Field::FirstName, Field::LastName, Field::AddressLine1],
    ),
];

/// The parameters numbers of `country` (ISO 3166-1 alpha-2, any case; `UK` is `GB`)
/// must carry.
pub fn required(country: &str) -> &'static [Field] {
    let country = super::normalize::country_code(country);
    REQUIRED
        .iter()
        .find(|(c, _)| *c == country)
        .map_or(&[], |(_, fields)| fields)
}

/// Checks a query for the number's `country` (ISO 3166-1 alpha-2 of the phone number,
/// e.g. `"US"`, `"GB"`, `"DE"`): each present parameter against its limit and form
/// ([`check_value`]), in Twilio's order, then the parameters the country requires
/// (Brazil, Germany, the UK, Italy), then that there is at least one. Blank values count
/// as absent. Parameters Twilio asks some countries to leave out (Brazil's `City`,
/// Australia's `AddressLine2`...) are accepted and graded: address lines are graded
/// together, so a unit in line 2 does no harm.
pub fn check_query(query: &Query, country: &str) -> Result<(), QueryError> {
    for field in Field::ALL {
        if let Some(value) = query.get(field) {
            check_value(field, value)?;
        }
    }
    let country_code = super::normalize::country_code(country);
    if let Some(field) = required(country).iter().find(|f| query.get(**f).is_none()) {
        return Err(QueryError::MissingRequired {
            param: field.param(),
            country: country_code,
        });
    }
    if query.is_empty() {
        return Err(QueryError::MissingRequired {
            param: Field::FirstName.param(),
            country: country_code,
        });
    }
    Ok(())
}

/// Checks one value of `field`: no control characters, at most [`Field::max_len`]
/// characters, and the field's form. The same check applies to the cells of a
/// subscriber records CSV.
pub fn check_value(field: Field, value: &str) -> Result<(), QueryError> {
    let param = field.param();
    let invalid = |reason: &str| QueryError::Invalid {
        param,
        reason: reason.to_owned(),
    };
    if value.chars().any(char::is_control) {
        return Err(invalid("contains a control character"));
    }
    let max = field.max_len();
    if value.chars().count() > max {
        return Err(QueryError::TooLong { param, max });
    }
    let value = value.trim();
    match field {
        Field::DateOfBirth if !is_date(value) => Err(invalid("not a date in YYYYMMDD form")),
        Field::AddressCountryCode
            if value.len() != 2 || !value.bytes().all(|b| b.is_ascii_alphabetic()) =>
        {
            Err(invalid("not a two-letter ISO 3166-1 country code"))
        }
        Field::PostalCode
            if !value
                .chars()
                .all(|c| c.is_alphanumeric() || c == ' ' || c == '-') =>
        {
            Err(invalid("only letters, digits, spaces and hyphens"))
        }
        _ => Ok(()),
    }
}

/// Whether `s` is `YYYYMMDD` and a real date of the Gregorian calendar (year 1 on).
pub fn is_date(s: &str) -> bool {
    if s.len() != 8 || !s.bytes().all(|b| b.is_ascii_digit()) {
        return false;
    }
    let number = |range: std::ops::Range<usize>| {
        s.get(range)
            .and_then(|d| d.parse::<u32>().ok())
            .unwrap_or(0)
    };
    let (year, month, day) = (number(0..4), number(4..6), number(6..8));
    let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
    let days = match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => 0,
    };
    year >= 1 && (1..=days).contains(&day)
}
