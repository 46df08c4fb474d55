//! Where the authoritative records come from: the [`Provider`] trait, and [`Records`],
//! the operator's own subscriber records held in memory and indexed by number.

use std::collections::HashMap;

use thiserror::Error;

use super::{Field, Record};

/// A source of subscriber records.
pub trait Provider: Send + Sync {
    /// Every record of the number `e164` (`+` and digits), in the provider's order;
    /// empty when it has none.
    fn records(&self, e164: &str) -> Result<Vec<Record>, ProviderError>;
}

/// Why a provider could not answer: the HTTP layer answers Twilio error 60608 (the
/// provider replied with an error).
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ProviderError {
    /// The source cannot be reached or failed.
    #[error("subscriber records unavailable: {0}")]
    Unavailable(String),
}

/// No next entry.
const END: u32 = u32::MAX;

/// The operator's subscriber records in memory, indexed by E.164 number.
///
/// Compact, for a million records and more: each record is one string holding its ten
/// fields back to back, with their end offsets, in one `Vec`; the index maps the number,
/// as an integer, to the first and last of its records, which are chained in the order
/// they were inserted. A lookup is one hash probe and a walk of the number's records.
#[derive(Debug, Default)]
pub struct Records {
    /// E.164 numbers, without the `+`, as integers (at most 15 digits, never a leading
    /// zero, so the integer is the number).
    index: HashMap<u64, Chain>,
    /// Numbers that are not E.164, kept under their exact text (only [`Records::insert`]
    /// can add one; the CSV loader refuses them).
    loose: HashMap<String, Chain>,
    entries: Vec<Entry>,
}

#[derive(Debug, Clone, Copy)]
struct Chain {
    first: u32,
    last: u32,
}

#[derive(Debug)]
struct Entry {
    /// The ten fields in [`Field::ALL`] order, back to back.
    text: Box<str>,
    /// Where each field ends in `text`; an empty field is absent.
    ends: [u32; 10],
    /// The number's next record, or [`END`].
    next: u32,
}

impl Records {
    /// No records.
    pub fn new() -> Records {
        Records::default()
    }

    /// How many records.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether there are no records.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// How many distinct numbers have records.
    pub fn numbers(&self) -> usize {
        self.index.len() + self.loose.len()
    }

    /// Adds a record after the number's others. A `phone_number` that is not E.164
    /// (see [`e164_key`]) is kept under its exact text and found only by it.
    ///
    /// Past `u32::MAX - 1` records, or a record of more than 4 GiB, the record is not
    /// kept (no real subscriber base comes near).
    pub fn insert(&mut self, r: Record) {
        let Ok(at) = u32::try_from(self.entries.len()) else {
            return;
        };
        if at == END {
            return;
        }
        let mut text = String::new();
        let mut ends = [0u32; 10];
        for (end, field) in ends.iter_mut().zip(Field::ALL) {
            text.push_str(r.get(field).unwrap_or(""));
            let Ok(offset) = u32::try_from(text.len()) else {
                return;
            };
            *end = offset;
        }
        self.entries.push(Entry {
            text: text.into_boxed_str(),
            ends,
            next: END,
        });
        let new = Chain {
            first: at,
            last: at,
        };
        let chain = match e164_key(&r.phone_number) {
            Some(key) => self.index.entry(key).or_insert(new),
            None => self.loose.entry(r.phone_number).or_insert(new),
        };
        link(&mut self.entries, chain, at);
    }

    /// The records of `e164`, decoded.
    pub fn get(&self, e164: &str) -> Vec<Record> {
        let chain = match e164_key(e164) {
            Some(key) => self.index.get(&key),
            None => self.loose.get(e164),
        };
        let mut out = Vec::new();
        let mut at = chain.map_or(END, |c| c.first);
        while let Some(entry) = self.entries.get(at as usize) {
            out.push(entry.decode(e164));
            at = entry.next;
        }
        out
    }
}

/// Appends entry `at` to `chain` (a new chain already starts and ends there).
fn link(entries: &mut [Entry], chain: &mut Chain, at: u32) {
    if chain.last == at {
        return;
    }
    if let Some(last) = entries.get_mut(chain.last as usize) {
        last.next = at;
    }
    chain.last = at;
}

impl Entry {
    fn decode(&self, phone_number: &str) -> Record {
        let mut record = Record {
            phone_number: phone_number.to_owned(),
            ..Record::default()
        };
        let mut start = 0usize;
        for (end, field) in self.ends.iter().zip(Field::ALL) {
            let end = *end as usize;
            let value = self.text.get(start..end).filter(|v| !v.is_empty());
            record.set(field, value.map(str::to_owned));
            start = end;
        }
        record
    }
}

impl Provider for Records {
    fn records(&self, e164: &str) -> Result<Vec<Record>, ProviderError> {
        Ok(self.get(e164))
    }
}

impl FromIterator<Record> for Records {
    fn from_iter<I: IntoIterator<Item = Record>>(iter: I) -> Records {
        let mut records = Records::new();
        for r in iter {
            records.insert(r);
        }
        records
    }
}

/// The index key of an E.164 number: `+`, then 2 to 15 digits, the first 1 to 9; the
/// digits as an integer. `None` for anything else.
pub fn e164_key(number: &str) -> Option<u64> {
    let digits = number.strip_prefix('+')?;
    let valid = (2..=15).contains(&digits.len())
        && digits.bytes().all(|b| b.is_ascii_digit())
        && !digits.starts_with('0');
    if !valid {
        return None;
    }
    digits.parse().ok()
}
