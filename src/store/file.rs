//! The trust-data JSON file streamed to and from a store, for files of millions of
//! numbers: [`import_file`] reads it in passes and never holds its numbers or their
//! channel endpoint assignments, and [`export_to`] writes them as the store yields them.
//! Everything else in the file (accounts, bundles, end users, entity assignments,
//! documents, trunking) is small and held whole.
//!
//! The format is [`TrustData`]'s, byte for byte on export: what `export_to` writes is
//! what `serde_json::to_writer_pretty` writes for [`RecordStore::export`].

use std::cell::RefCell;
use std::fs::File;
use std::io::{BufReader, Write};
use std::path::Path;

use serde::de::{self, DeserializeOwned, DeserializeSeed, IgnoredAny, MapAccess, SeqAccess};
use serde::ser::{self, SerializeSeq, SerializeStruct};
use serde::{Serialize, Serializer};

use super::{BulkWriter, RecordStore, StoreError, prepare_assignment, prepare_import};
use crate::trust::{ChannelEndpointAssignment, Checker, PhoneNumber, TrustData, TrustError};

/// The JSON key of the numbers.
const NUMBERS: &str = "phone_numbers";
/// The JSON key of the numbers' channel endpoint assignments.
const ASSIGNMENTS: &str = "channel_endpoint_assignments";
/// Records per insert, and per progress report.
const BATCH: usize = 10_000;

/// How far an import or export has come: `done` of the `total` records of the list
/// `what` (`"numbers"`, then `"channel endpoint assignments"`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Progress {
    pub what: &'static str,
    pub done: u64,
    pub total: u64,
}

/// What an import wrote, or an export read.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    pub accounts: usize,
    pub numbers: u64,
    /// Customer profiles and trust products.
    pub bundles: usize,
    pub assignments: u64,
}

impl Counts {
    fn of(data: &TrustData, numbers: u64, assignments: u64) -> Counts {
        Counts {
            accounts: data.accounts.len(),
            numbers,
            bundles: data.customer_profiles.len() + data.trust_products.len(),
            assignments,
        }
    }
}

/// Imports the trust-data file at `path` into `store` in one transaction: the store
/// then holds exactly the file's data, or, on any error, what it held before. With
/// `replace` false the store must be empty. Records without dates are dated `now` and
/// accounts without a token get one, as [`prepare_import`] does.
///
/// The file is read in two or three passes: everything but the numbers and their
/// channel endpoint assignments (checked as [`Checker::new`] checks them), then the
/// numbers, then the assignments, each checked and written in batches as it is read.
/// `progress` hears after each batch.
pub fn import_file(
    store: &dyn RecordStore,
    path: &Path,
    replace: bool,
    now: &str,
    progress: &mut dyn FnMut(Progress),
) -> Result<Counts, StoreError> {
    let outline = pass(path, Outline::default())?;
    let mut rest = rest_of(outline.rest)?;
    prepare_import(&mut rest, now);
    let checker = Checker::new(&rest)?;
    let totals = (outline.numbers, outline.assignments);
    let mut counts = Counts::of(&rest, totals.0, totals.1);
    let fill = |writer: &mut dyn BulkWriter| {
        let mut bulk = Bulk {
            checker,
            writer,
            now,
            totals,
            progress,
            numbers: Vec::with_capacity(BATCH),
            assignments: Vec::with_capacity(BATCH),
            done: (0, 0),
            numbers_over: false,
            assignments_read: false,
            failed: None,
        };
        let run = |bulk: &mut Bulk<'_, '_>| {
            pass(path, BulkPass(bulk)).map_err(|e| bulk.failed.take().unwrap_or(e))
        };
        run(&mut bulk)?;
        // The assignments came before the numbers: a pass of their own.
        bulk.numbers_over = true;
        if outline.has_assignments && !bulk.assignments_read {
            run(&mut bulk)?;
        }
        bulk.flush()?;
        counts.numbers = bulk.done.0;
        counts.assignments = bulk.done.1;
        bulk.checker.finish(&rest.trunking)?;
        Ok(rest)
    };
    store.import(replace, Box::new(fill))?;
    Ok(counts)
}

/// Parses the file at `path` with `seed`, to its end.
fn pass<S, T>(path: &Path, seed: S) -> Result<T, StoreError>
where
    S: for<'de> DeserializeSeed<'de, Value = T>,
{
    let file = File::open(path).map_err(|e| StoreError::ReadFile {
        path: path.display().to_string(),
        reason: e.to_string(),
    })?;
    let mut json = serde_json::Deserializer::from_reader(BufReader::with_capacity(1 << 16, file));
    let value = seed
        .deserialize(&mut json)
        .and_then(|v| json.end().map(|()| v))
        .map_err(|e| file_error(path, &e))?;
    Ok(value)
}

/// A parse error as what it is: the file could not be read, or does not match.
fn file_error(path: &Path, e: &serde_json::Error) -> StoreError {
    match e.classify() {
        serde_json::error::Category::Io => StoreError::ReadFile {
            path: path.display().to_string(),
            reason: e.to_string(),
        },
        _ => StoreError::Trust(TrustError::Json(e.to_string())),
    }
}

/// The first pass: every key but the two bulk lists, kept as JSON, and the lengths of
/// those two.
#[derive(Default)]
struct Outline {
    rest: serde_json::Map<String, serde_json::Value>,
    numbers: u64,
    assignments: u64,
    /// Whether the file has the assignments' key (perhaps not holding a list).
    has_assignments: bool,
}

/// The small lists as [`TrustData`], through its own `Deserialize` (defaults, unknown
/// keys refused).
fn rest_of(rest: serde_json::Map<String, serde_json::Value>) -> Result<TrustData, StoreError> {
    let data: TrustData = serde_json::from_value(serde_json::Value::Object(rest))
        .map_err(|e| TrustError::Json(e.to_string()))?;
    Ok(data)
}

impl<'de> DeserializeSeed<'de> for Outline {
    type Value = Outline;

    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Outline, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> de::Visitor<'de> for Outline {
    type Value = Outline;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("the trust data: a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(mut self, mut map: A) -> Result<Outline, A::Error> {
        let mut seen = (false, false);
        while let Some(key) = map.next_key::<String>()? {
            let (counted, count) = match key.as_str() {
                NUMBERS => (&mut seen.0, &mut self.numbers),
                ASSIGNMENTS => (&mut seen.1, &mut self.assignments),
                _ => {
                    let value = map.next_value()?;
                    if self.rest.insert(key.clone(), value).is_some() {
                        return Err(de::Error::custom(format_args!("duplicate field `{key}`")));
                    }
                    continue;
                }
            };
            if std::mem::replace(counted, true) {
                return Err(de::Error::custom(format_args!("duplicate field `{key}`")));
            }
            *count = map.next_value_seed(Count)?;
        }
        self.has_assignments = seen.1;
        Ok(self)
    }
}

/// The length of a JSON array (or 0 for `null`, which the later pass refuses), its
/// elements parsed but not kept.
struct Count;

impl<'de> DeserializeSeed<'de> for Count {
    type Value = u64;

    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<u64, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> de::Visitor<'de> for Count {
    type Value = u64;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a sequence")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<u64, A::Error> {
        let mut n = 0;
        while seq.next_element::<IgnoredAny>()?.is_some() {
            n += 1;
        }
        Ok(n)
    }

    // Anything else is counted as empty here and refused with its position later, by
    // the pass that reads the list.
    fn visit_unit<E: de::Error>(self) -> Result<u64, E> {
        Ok(0)
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<u64, E> {
        Ok(0)
    }

    fn visit_i64<E: de::Error>(self, _: i64) -> Result<u64, E> {
        Ok(0)
    }

    fn visit_u64<E: de::Error>(self, _: u64) -> Result<u64, E> {
        Ok(0)
    }

    fn visit_f64<E: de::Error>(self, _: f64) -> Result<u64, E> {
        Ok(0)
    }

    fn visit_str<E: de::Error>(self, _: &str) -> Result<u64, E> {
        Ok(0)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<u64, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(0)
    }
}

/// The bulk lists on their way into the store: checked one record at a time, written
/// a batch at a time.
struct Bulk<'a, 'w> {
    checker: Checker,
    writer: &'w mut dyn BulkWriter,
    now: &'a str,
    /// Numbers and assignments in the file.
    totals: (u64, u64),
    progress: &'a mut dyn FnMut(Progress),
    numbers: Vec<PhoneNumber>,
    assignments: Vec<ChannelEndpointAssignment>,
    /// Numbers and assignments written.
    done: (u64, u64),
    /// Whether every number has been read (the assignments come after them).
    numbers_over: bool,
    /// Whether the assignments have been read.
    assignments_read: bool,
    /// Why a record was refused, when one was: the parse stopped there.
    failed: Option<StoreError>,
}

impl Bulk<'_, '_> {
    fn number(&mut self, mut number: PhoneNumber) -> Result<(), StoreError> {
        self.checker.number(&number)?;
        super::prepare_number(&mut number, self.now);
        self.numbers.push(number);
        if self.numbers.len() == BATCH {
            self.flush()?;
        }
        Ok(())
    }

    fn assignment(&mut self, mut a: ChannelEndpointAssignment) -> Result<(), StoreError> {
        self.checker.channel_endpoint_assignment(&a)?;
        prepare_assignment(&mut a, self.now);
        self.assignments.push(a);
        if self.assignments.len() == BATCH {
            self.flush()?;
        }
        Ok(())
    }

    /// Writes what is batched and reports progress.
    fn flush(&mut self) -> Result<(), StoreError> {
        self.write().map_err(|e| {
            // The database refuses a key or number that repeats one: say which.
            match self.checker.settle() {
                Err(why) => why.into(),
                Ok(()) => e,
            }
        })
    }

    fn write(&mut self) -> Result<(), StoreError> {
        if !self.numbers.is_empty() {
            self.writer.numbers(&self.numbers)?;
            self.done.0 += self.numbers.len() as u64;
            self.numbers.clear();
            (self.progress)(Progress {
                what: "numbers",
                done: self.done.0,
                total: self.totals.0,
            });
        }
        if !self.assignments.is_empty() {
            self.writer
                .channel_endpoint_assignments(&self.assignments)?;
            self.done.1 += self.assignments.len() as u64;
            self.assignments.clear();
            (self.progress)(Progress {
                what: "channel endpoint assignments",
                done: self.done.1,
                total: self.totals.1,
            });
        }
        Ok(())
    }
}

/// A pass over the file for the bulk lists: the numbers, and the assignments when they
/// come after the numbers (else in a pass of their own); every other key skipped.
struct BulkPass<'b, 'a, 'w>(&'b mut Bulk<'a, 'w>);

impl<'de> DeserializeSeed<'de> for BulkPass<'_, '_, '_> {
    type Value = ();

    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> de::Visitor<'de> for BulkPass<'_, '_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("the trust data: a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let bulk = self.0;
        while let Some(key) = map.next_key::<String>()? {
            match key.as_str() {
                NUMBERS if !bulk.numbers_over => {
                    map.next_value_seed(Each(&mut *bulk, Bulk::number))?;
                    bulk.numbers_over = true;
                    bulk.flush().map_err(|e| refuse(bulk, e))?;
                }
                ASSIGNMENTS if bulk.numbers_over && !bulk.assignments_read => {
                    map.next_value_seed(Each(&mut *bulk, Bulk::assignment))?;
                    bulk.assignments_read = true;
                    bulk.flush().map_err(|e| refuse(bulk, e))?;
                }
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(())
    }
}

/// Keeps `e` as the reason the parse stops, and stops it.
fn refuse<E: de::Error>(bulk: &mut Bulk<'_, '_>, e: StoreError) -> E {
    let message = e.to_string();
    bulk.failed = Some(e);
    E::custom(message)
}

/// A JSON array whose elements, each a `T`, go to `take` as they are parsed.
struct Each<'b, 'a, 'w, T>(
    &'b mut Bulk<'a, 'w>,
    fn(&mut Bulk<'a, 'w>, T) -> Result<(), StoreError>,
);

impl<'de, T: DeserializeOwned> DeserializeSeed<'de> for Each<'_, '_, '_, T> {
    type Value = ();

    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de, T: DeserializeOwned> de::Visitor<'de> for Each<'_, '_, '_, T> {
    type Value = ();

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a sequence")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let Each(bulk, take) = self;
        while let Some(item) = seq.next_element::<T>()? {
            take(bulk, item).map_err(|e| refuse(bulk, e))?;
        }
        Ok(())
    }
}

/// Writes everything `store` holds as a trust-data file to `out`: the small lists read
/// whole, the numbers and their channel endpoint assignments as the store yields them.
/// `progress` hears after each 10,000 records of each and at the end of each.
pub fn export_to(
    store: &dyn RecordStore,
    out: &mut dyn Write,
    progress: &mut dyn FnMut(Progress),
) -> Result<Counts, StoreError> {
    let mut rest = store.graph_data()?;
    rest.document_files = store.document_files()?;
    let (numbers, assignments) = store.bulk_counts()?;
    let doc = Document {
        rest: &rest,
        store,
        totals: (numbers, assignments),
        progress: RefCell::new(progress),
        done: RefCell::new((0, 0)),
        failed: RefCell::new(None),
    };
    let written = serde_json::to_writer_pretty(&mut *out, &doc);
    if let Some(e) = doc.failed.take() {
        return Err(e);
    }
    written.map_err(|e| StoreError::Write(e.to_string()))?;
    out.write_all(b"\n")
        .and_then(|()| out.flush())
        .map_err(|e| StoreError::Write(e.to_string()))?;
    let (numbers, assignments) = doc.done.take();
    Ok(Counts::of(&rest, numbers, assignments))
}

/// The file as it is written: `rest`'s lists, with the two bulk ones read from `store`
/// while they are serialized. Fields in [`TrustData`]'s order, skipped as it skips them.
struct Document<'a> {
    rest: &'a TrustData,
    store: &'a dyn RecordStore,
    totals: (u64, u64),
    progress: RefCell<&'a mut dyn FnMut(Progress)>,
    done: RefCell<(u64, u64)>,
    failed: RefCell<Option<StoreError>>,
}

impl Serialize for Document<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let d = self.rest;
        let mut out = s.serialize_struct("TrustData", 10)?;
        out.serialize_field("accounts", &d.accounts)?;
        out.serialize_field(NUMBERS, &Streamed(self, List::Numbers))?;
        out.serialize_field("customer_profiles", &d.customer_profiles)?;
        out.serialize_field("trust_products", &d.trust_products)?;
        out.serialize_field("end_users", &d.end_users)?;
        out.serialize_field("entity_assignments", &d.entity_assignments)?;
        out.serialize_field(ASSIGNMENTS, &Streamed(self, List::Assignments))?;
        if !d.supporting_documents.is_empty() {
            out.serialize_field("supporting_documents", &d.supporting_documents)?;
        }
        if !d.document_files.is_empty() {
            out.serialize_field("document_files", &d.document_files)?;
        }
        if !d.trunking.is_empty() {
            out.serialize_field("trunking", &d.trunking)?;
        }
        out.end()
    }
}

#[derive(Clone, Copy)]
enum List {
    Numbers,
    Assignments,
}

/// One bulk list of a [`Document`], serialized row by row from the store.
struct Streamed<'d, 'a>(&'d Document<'a>, List);

impl Serialize for Streamed<'_, '_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let Streamed(doc, list) = *self;
        let (what, total) = match list {
            List::Numbers => ("numbers", doc.totals.0),
            List::Assignments => ("channel endpoint assignments", doc.totals.1),
        };
        let mut rows = Rows {
            seq: s.serialize_seq(None)?,
            written: 0,
            failed: None,
            report: |done| (doc.progress.borrow_mut())(Progress { what, done, total }),
        };
        let read = match list {
            List::Numbers => doc.store.each_number(&mut |n| rows.put(&n)),
            List::Assignments => doc
                .store
                .each_channel_endpoint_assignment(&mut |a| rows.put(&a)),
        };
        if let Some(e) = rows.failed.take() {
            return Err(e);
        }
        if let Err(e) = read {
            let message = e.to_string();
            *doc.failed.borrow_mut() = Some(e);
            return Err(ser::Error::custom(message));
        }
        if !rows.written.is_multiple_of(BATCH as u64) || rows.written == 0 {
            (rows.report)(rows.written);
        }
        let mut done = doc.done.borrow_mut();
        match list {
            List::Numbers => done.0 = rows.written,
            List::Assignments => done.1 = rows.written,
        }
        rows.seq.end()
    }
}

/// A JSON array being written a row at a time.
struct Rows<Q: SerializeSeq, F: FnMut(u64)> {
    seq: Q,
    written: u64,
    /// Why writing stopped, when it did.
    failed: Option<Q::Error>,
    report: F,
}

impl<Q: SerializeSeq, F: FnMut(u64)> Rows<Q, F> {
    fn put<T: Serialize>(&mut self, row: &T) -> Result<(), StoreError> {
        if let Err(e) = self.seq.serialize_element(row) {
            let message = e.to_string();
            self.failed = Some(e);
            return Err(StoreError::Write(message));
        }
        self.written += 1;
        if self.written.is_multiple_of(BATCH as u64) {
            (self.report)(self.written);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests;
