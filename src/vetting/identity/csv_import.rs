//! Subscriber records from CSV ([`Records::from_csv`]): a header row naming the
//! columns, then one record per row. Every error names its line (the header is line 1)
//! and, for a cell, its column.

use std::io::Read;

use thiserror::Error;

use super::query::check_value;
use super::records::e164_key;
use super::{Field, QueryError, Record, Records};

/// The column every file must have.
const PHONE_NUMBER: &str = "phone_number";

/// Why a subscriber records CSV was refused. Nothing is loaded from a refused file.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum CsvError {
    /// No header row at all.
    #[error(
        "the CSV is empty: line 1 must be a header row naming phone_number and the other columns"
    )]
    Empty,
    /// The header row lacks a required column (`phone_number`).
    #[error("line 1: no {column} column")]
    MissingColumn { column: &'static str },
    /// The header row names a column that is not a record field.
    #[error(
        "line 1: unknown column {column:?} (the columns are phone_number, first_name, last_name, \
         address_line1, address_line2, city, state, postal_code, address_country_code, \
         national_id, date_of_birth)"
    )]
    UnknownColumn { column: String },
    /// The header row names a column twice.
    #[error("line 1: column {column:?} appears twice")]
    DuplicateColumn { column: String },
    /// A `phone_number` that is not E.164.
    #[error(
        "line {line}: phone_number {value:?} is not E.164 (+, then 2 to 15 digits, the first not 0)"
    )]
    PhoneNumber { line: u64, value: String },
    /// A cell longer than the limit of its column (Twilio's limit for the parameter).
    #[error("line {line}, column {column}: longer than {max} characters")]
    TooLong {
        line: u64,
        column: String,
        max: usize,
    },
    /// A cell in the wrong form: not UTF-8, a control character, a date of birth that is
    /// not a `YYYYMMDD` date, a country code that is not two letters.
    #[error("line {line}, column {column}: {reason}")]
    Invalid {
        line: u64,
        column: String,
        reason: String,
    },
    /// The file could not be read as CSV: a row with another number of cells than the
    /// header, an unterminated quote, an I/O error.
    #[error("line {line}: {reason}")]
    Read { line: u64, reason: String },
}

/// A column of the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Column {
    PhoneNumber,
    Field(Field),
}

impl Records {
    /// Reads subscriber records from CSV: a header row of the snake_case field names
    /// (`phone_number` required; `first_name`, `last_name`, `address_line1`,
    /// `address_line2`, `city`, `state`, `postal_code`, `address_country_code`,
    /// `national_id`, `date_of_birth` optional, in any order), then one record per row.
    ///
    /// Cells are trimmed; an empty cell is absent. `phone_number` must be E.164. Each
    /// other cell is checked as the query parameter of its name is
    /// ([`check_value`]): Twilio's length limit, no control characters, a real
    /// `YYYYMMDD` date of birth, a two-letter country code. A UTF-8 byte order mark
    /// before the header is skipped. A number may have several rows (several records).
    pub fn from_csv(reader: impl Read) -> Result<Records, CsvError> {
        let mut csv = csv::ReaderBuilder::new()
            .has_headers(true)
            .flexible(false)
            .from_reader(reader);
        let header = csv.byte_headers().map_err(|e| read_error(&e, 1))?.clone();
        let columns = columns(&header)?;
        let mut records = Records::new();
        let mut row = csv::ByteRecord::new();
        let mut line = 1;
        loop {
            match csv.read_byte_record(&mut row) {
                Ok(false) => break,
                Ok(true) => {}
                Err(e) => return Err(read_error(&e, line + 1)),
            }
            line = row.position().map_or(line + 1, |p| p.line());
            records.insert(record(&columns, &row, line)?);
        }
        Ok(records)
    }
}

/// The columns the header row names, in order.
fn columns(header: &csv::ByteRecord) -> Result<Vec<Column>, CsvError> {
    if header.is_empty() || (header.len() == 1 && header.get(0).is_some_and(<[u8]>::is_empty)) {
        return Err(CsvError::Empty);
    }
    let mut columns = Vec::with_capacity(header.len());
    for (i, cell) in header.iter().enumerate() {
        let cell = if i == 0 {
            cell.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(cell)
        } else {
            cell
        };
        let name = std::str::from_utf8(cell)
            .map_err(|_| CsvError::Invalid {
                line: 1,
                column: format!("#{}", i + 1),
                reason: "the column name is not UTF-8".to_owned(),
            })?
            .trim();
        let column = if name == PHONE_NUMBER {
            Column::PhoneNumber
        } else {
            match Field::ALL.into_iter().find(|f| f.column() == name) {
                Some(field) => Column::Field(field),
                None => {
                    return Err(CsvError::UnknownColumn {
                        column: name.to_owned(),
                    });
                }
            }
        };
        if columns.contains(&column) {
            return Err(CsvError::DuplicateColumn {
                column: name.to_owned(),
            });
        }
        columns.push(column);
    }
    if !columns.contains(&Column::PhoneNumber) {
        return Err(CsvError::MissingColumn {
            column: PHONE_NUMBER,
        });
    }
    Ok(columns)
}

/// The record of one row, checked.
fn record(columns: &[Column], row: &csv::ByteRecord, line: u64) -> Result<Record, CsvError> {
    let mut record = Record::default();
    for (column, cell) in columns.iter().zip(row.iter()) {
        let name = match column {
            Column::PhoneNumber => PHONE_NUMBER,
            Column::Field(field) => field.column(),
        };
        let value = std::str::from_utf8(cell)
            .map_err(|_| CsvError::Invalid {
                line,
                column: name.to_owned(),
                reason: "not UTF-8".to_owned(),
            })?
            .trim();
        match column {
            Column::PhoneNumber => {
                if e164_key(value).is_none() {
                    return Err(CsvError::PhoneNumber {
                        line,
                        value: value.to_owned(),
                    });
                }
                record.phone_number = value.to_owned();
            }
            Column::Field(_) if value.is_empty() => {}
            Column::Field(field) => {
                check_value(*field, value).map_err(|e| match e {
                    QueryError::TooLong { max, .. } => CsvError::TooLong {
                        line,
                        column: name.to_owned(),
                        max,
                    },
                    QueryError::Invalid { reason, .. } => CsvError::Invalid {
                        line,
                        column: name.to_owned(),
                        reason,
                    },
                    e @ QueryError::MissingRequired { .. } => CsvError::Invalid {
                        line,
                        column: name.to_owned(),
                        reason: e.to_string(),
                    },
                })?;
                record.set(*field, Some(value.to_owned()));
            }
        }
    }
    Ok(record)
}

/// A CSV error, at the line it names or else `line`.
fn read_error(e: &csv::Error, line: u64) -> CsvError {
    let line = e.position().map_or(line, csv::Position::line);
    let reason = match e.kind() {
        csv::ErrorKind::UnequalLengths {
            expected_len, len, ..
        } => format!("{len} cells where the header has {expected_len}"),
        _ => e.to_string(),
    };
    CsvError::Read { line, reason }
}
