//! [`SqlStore`]'s [`RecordStore`]: writes, bulk import and export, the rebuild scan and
//! records by SID.

use super::rows::{
    ACCOUNTS, BUNDLES, CHANNEL_ENDPOINT_ASSIGNMENTS, DOCUMENT_FILES, END_USERS, ENTITY_ASSIGNMENTS,
    FromRow, PHONE_NUMBERS, SUPPORTING_DOCUMENTS, Table, account_row, bundle_row,
    channel_endpoint_assignment_row, document_file_row, end_user_row, entity_assignment_row,
    number_row, parse_sid, put, put_file, sql_limit, supporting_document_row,
};
use super::trunking::{self, Kind};
use super::{Arg, Backend, Exec, SqlStore, TABLES, scalar};
use crate::store::{BulkWriter, Fill, NumberRow, Page, RecordStore, StoreError};
use crate::trust::{
    Account, Bundle, Change, ChannelEndpointAssignment, DocumentFile, EndUser, EntityAssignment,
    Evaluation, IpAccessControlList, IpAddress, PhoneNumber, Sid, SupportingDocument, Trunk,
    TrustData, TrustError,
};

/// A table's rows for a bulk insert.
type Rows<'a> = Box<dyn Iterator<Item = Vec<Arg>> + 'a>;

const COUNT: &str = "SELECT (SELECT count(*) FROM accounts) + (SELECT count(*) FROM phone_numbers)";

impl<B: Backend> SqlStore<B> {
    fn one<T: FromRow>(&self, sql: &str, key: &str) -> Result<Option<T>, StoreError> {
        self.first(sql, &[key.into()])
    }

    /// The first row of `sql` with `args`.
    pub(super) fn first<T: FromRow>(
        &self,
        sql: &str,
        args: &[Arg],
    ) -> Result<Option<T>, StoreError> {
        self.backend().read(|exec| {
            let mut out = None;
            exec.each(sql, args, &mut |row| {
                if out.is_none() {
                    out = Some(T::from_row(row)?);
                }
                Ok(())
            })?;
            Ok(out)
        })
    }

    /// The rows of `sql` (a `SELECT` with `?` for `args`), in insertion order, paged.
    pub(super) fn many<T: FromRow>(
        &self,
        sql: &str,
        mut args: Vec<Arg>,
        page: Page,
    ) -> Result<Vec<T>, StoreError> {
        let sql = format!("{sql} ORDER BY rowid LIMIT ? OFFSET ?");
        let (limit, offset) = sql_limit(page);
        args.extend([Arg::Int(limit), Arg::Int(offset)]);
        self.backend().read(|exec| {
            let mut out = Vec::new();
            exec.each(&sql, &args, &mut |row| {
                out.push(T::from_row(row)?);
                Ok(())
            })?;
            Ok(out)
        })
    }

    fn all<T: FromRow>(&self, table: &str) -> Result<Vec<T>, StoreError> {
        self.many(&format!("SELECT * FROM {table}"), Vec::new(), Page::ALL)
    }

    /// Visits every row of `table`, in insertion order, without holding them.
    fn each_of<T: FromRow>(
        &self,
        table: &str,
        visit: &mut dyn FnMut(T) -> Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        let sql = format!("SELECT * FROM {table} ORDER BY rowid");
        self.backend()
            .read(|exec| exec.each(&sql, &[], &mut |row| visit(T::from_row(row)?)))
    }

    /// Writes `data` into empty tables: each table's rows in one bulk insert.
    fn insert_all(tx: &mut dyn Exec, data: &TrustData) -> Result<(), StoreError> {
        let bundles = data.customer_profiles.iter().chain(&data.trust_products);
        let documents = (data.supporting_documents.iter())
            .map(supporting_document_row)
            .collect::<Result<Vec<_>, _>>()?;
        let cea = &data.channel_endpoint_assignments;
        let tables: [(&Table, Rows<'_>); 8] = [
            (&ACCOUNTS, Box::new(data.accounts.iter().map(account_row))),
            (
                &PHONE_NUMBERS,
                Box::new(data.phone_numbers.iter().map(number_row)),
            ),
            (&BUNDLES, Box::new(bundles.map(bundle_row))),
            (
                &END_USERS,
                Box::new(data.end_users.iter().map(end_user_row)),
            ),
            (
                &ENTITY_ASSIGNMENTS,
                Box::new(data.entity_assignments.iter().map(entity_assignment_row)),
            ),
            (
                &CHANNEL_ENDPOINT_ASSIGNMENTS,
                Box::new(cea.iter().map(channel_endpoint_assignment_row)),
            ),
            (&SUPPORTING_DOCUMENTS, Box::new(documents.into_iter())),
            (
                &DOCUMENT_FILES,
                Box::new(data.document_files.iter().map(document_file_row)),
            ),
        ];
        for (table, mut rows) in tables {
            tx.insert_rows(table.name, table.columns, &mut rows)?;
        }
        for change in trunking::changes(&data.trunking) {
            put(tx, &change)?;
        }
        Ok(())
    }
}

/// The bulk lists of an import, into the import's transaction.
struct Bulk<'t>(&'t mut dyn Exec);

impl BulkWriter for Bulk<'_> {
    fn numbers(&mut self, batch: &[PhoneNumber]) -> Result<(), StoreError> {
        let mut rows = batch.iter().map(number_row);
        (self.0).insert_rows(PHONE_NUMBERS.name, PHONE_NUMBERS.columns, &mut rows)
    }

    fn channel_endpoint_assignments(
        &mut self,
        batch: &[ChannelEndpointAssignment],
    ) -> Result<(), StoreError> {
        let table = &CHANNEL_ENDPOINT_ASSIGNMENTS;
        let mut rows = batch.iter().map(channel_endpoint_assignment_row);
        (self.0).insert_rows(table.name, table.columns, &mut rows)
    }
}

impl<B: Backend> RecordStore for SqlStore<B> {
    fn feed(&self) -> Option<&dyn crate::store::Feed> {
        self.backend().feed()
    }

    fn apply_with(&self, changes: &[Change], files: &[DocumentFile]) -> Result<(), StoreError> {
        self.backend().write(Some(changes), |tx| {
            for change in changes {
                put(tx, change)?;
            }
            for file in files {
                put_file(tx, file)?;
            }
            Ok(((), !changes.is_empty() || !files.is_empty()))
        })
    }

    fn record_activity(&self, entries: &[(Sid, i64)]) -> Result<(), StoreError> {
        if entries.is_empty() {
            return Ok(());
        }
        self.backend().write(Some(&[]), |tx| {
            for (sid, at) in entries {
                tx.execute(
                    "INSERT INTO account_activity (account_sid, last_call_at) VALUES (?, ?) \
                     ON CONFLICT(account_sid) DO UPDATE SET last_call_at = excluded.last_call_at \
                     WHERE excluded.last_call_at > account_activity.last_call_at",
                    &[Arg::Text(sid.to_string()), Arg::Int(*at)],
                )?;
            }
            Ok(((), false))
        })
    }

    fn last_activity(&self, account: Sid) -> Result<Option<i64>, StoreError> {
        self.backend().read(|exec| {
            scalar(
                exec,
                "SELECT last_call_at FROM account_activity WHERE account_sid = ?",
                &[Arg::Text(account.to_string())],
            )
        })
    }

    fn is_empty(&self) -> Result<bool, StoreError> {
        let n = self.backend().read(|exec| scalar(exec, COUNT, &[]))?;
        Ok(n.unwrap_or(0) == 0)
    }

    fn replace_all(&self, data: &TrustData) -> Result<(), StoreError> {
        self.backend().write(None, |tx| {
            for table in TABLES {
                tx.execute(&format!("DELETE FROM {table}"), &[])?;
            }
            Self::insert_all(tx, data)?;
            Ok(((), true))
        })
    }

    fn import(&self, replace: bool, fill: Box<Fill<'_>>) -> Result<(), StoreError> {
        self.backend().write(None, |tx| {
            if !replace && scalar(tx, COUNT, &[])?.unwrap_or(0) != 0 {
                return Err(StoreError::NotEmpty);
            }
            for table in TABLES {
                tx.execute(&format!("DELETE FROM {table}"), &[])?;
            }
            let data = fill(&mut Bulk(&mut *tx))?;
            Self::insert_all(tx, &data)?;
            Ok(((), true))
        })
    }

    fn seed(&self, data: &TrustData) -> Result<bool, StoreError> {
        self.backend().write(None, |tx| {
            if scalar(tx, COUNT, &[])?.unwrap_or(0) != 0 {
                return Ok((false, false));
            }
            Self::insert_all(tx, data)?;
            Ok((true, true))
        })
    }

    fn export(&self) -> Result<TrustData, StoreError> {
        let mut data = self.graph_data()?;
        data.phone_numbers = self.all("phone_numbers")?;
        data.channel_endpoint_assignments = self.all("channel_endpoint_assignments")?;
        data.document_files = self.document_files()?;
        Ok(data)
    }

    fn each_number(
        &self,
        visit: &mut dyn FnMut(PhoneNumber) -> Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        self.each_of("phone_numbers", visit)
    }

    fn each_channel_endpoint_assignment(
        &self,
        visit: &mut dyn FnMut(ChannelEndpointAssignment) -> Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        self.each_of("channel_endpoint_assignments", visit)
    }

    fn bulk_counts(&self) -> Result<(u64, u64), StoreError> {
        let count = |table: &str| -> Result<u64, StoreError> {
            let sql = format!("SELECT count(*) FROM {table}");
            let n = self.backend().read(|exec| scalar(exec, &sql, &[]))?;
            Ok(n.and_then(|n| u64::try_from(n).ok()).unwrap_or(0))
        };
        Ok((
            count("phone_numbers")?,
            count("channel_endpoint_assignments")?,
        ))
    }

    fn document_files(&self) -> Result<Vec<DocumentFile>, StoreError> {
        self.all("document_files")
    }

    fn graph_data(&self) -> Result<TrustData, StoreError> {
        let mut data = TrustData {
            accounts: self.all("accounts")?,
            end_users: self.all("end_users")?,
            entity_assignments: self.all("entity_assignments")?,
            supporting_documents: self.all("supporting_documents")?,
            ..TrustData::default()
        };
        // Parents before their sub-accounts, whatever order they were written in.
        data.accounts.sort_by_key(|a| a.parent().is_some());
        data.trunking = self.trunking()?;
        crate::store::split_bundles(self.all("bundles")?, &mut data);
        Ok(data)
    }

    fn scan_numbers(
        &self,
        visit: &mut dyn FnMut(NumberRow<'_>) -> Result<(), TrustError>,
    ) -> Result<usize, StoreError> {
        let joined = B::DIALECT.comma_join.replace("{}", "c.bundle_sid");
        let sql = if B::DIALECT.scan_grouped {
            format!(
                "SELECT n.sid, n.account_sid, n.phone_number, g.bundles
                 FROM phone_numbers n LEFT JOIN
                    (SELECT c.channel_endpoint_sid, {joined} AS bundles
                     FROM channel_endpoint_assignments c GROUP BY c.channel_endpoint_sid) g
                 ON g.channel_endpoint_sid = n.sid"
            )
        } else {
            format!(
                "SELECT n.sid, n.account_sid, n.phone_number,
                    (SELECT {joined} FROM channel_endpoint_assignments c
                     WHERE c.channel_endpoint_sid = n.sid)
                 FROM phone_numbers n"
            )
        };
        self.backend().read(|exec| {
            let mut bundles = Vec::with_capacity(2);
            let mut count = 0;
            exec.each(&sql, &[], &mut |row| {
                let sid = parse_sid(row.text_at(0)?.as_deref().unwrap_or(""))?;
                let account = parse_sid(row.text_at(1)?.as_deref().unwrap_or(""))?;
                let number = row.text_at(2)?.unwrap_or_default();
                bundles.clear();
                if let Some(list) = row.text_at(3)? {
                    for b in list.split(',') {
                        bundles.push(parse_sid(b)?);
                    }
                }
                visit(NumberRow {
                    sid,
                    account_sid: account,
                    phone_number: &number,
                    bundles: &bundles,
                })?;
                count += 1;
                Ok(())
            })?;
            Ok(count)
        })
    }

    fn account(&self, sid: Sid) -> Result<Option<Account>, StoreError> {
        self.one("SELECT * FROM accounts WHERE sid = ?", &sid.to_string())
    }

    fn number(&self, sid: Sid) -> Result<Option<PhoneNumber>, StoreError> {
        self.one(
            "SELECT * FROM phone_numbers WHERE sid = ?",
            &sid.to_string(),
        )
    }

    fn number_by_e164(&self, e164: &str) -> Result<Option<PhoneNumber>, StoreError> {
        self.one("SELECT * FROM phone_numbers WHERE phone_number = ?", e164)
    }

    fn bundle(&self, sid: Sid) -> Result<Option<Bundle>, StoreError> {
        self.one("SELECT * FROM bundles WHERE sid = ?", &sid.to_string())
    }

    fn end_user(&self, sid: Sid) -> Result<Option<EndUser>, StoreError> {
        self.one("SELECT * FROM end_users WHERE sid = ?", &sid.to_string())
    }

    fn entity_assignment(&self, sid: Sid) -> Result<Option<EntityAssignment>, StoreError> {
        self.one(
            "SELECT * FROM entity_assignments WHERE sid = ?",
            &sid.to_string(),
        )
    }

    fn channel_endpoint_assignment(
        &self,
        sid: Sid,
    ) -> Result<Option<ChannelEndpointAssignment>, StoreError> {
        self.one(
            "SELECT * FROM channel_endpoint_assignments WHERE sid = ?",
            &sid.to_string(),
        )
    }

    fn evaluation(&self, sid: Sid) -> Result<Option<Evaluation>, StoreError> {
        self.one("SELECT * FROM evaluations WHERE sid = ?", &sid.to_string())
    }

    fn supporting_document(&self, sid: Sid) -> Result<Option<SupportingDocument>, StoreError> {
        self.one(
            "SELECT * FROM supporting_documents WHERE sid = ?",
            &sid.to_string(),
        )
    }

    fn document_file(&self, sid: Sid) -> Result<Option<DocumentFile>, StoreError> {
        self.one(
            "SELECT * FROM document_files WHERE sid = ?",
            &sid.to_string(),
        )
    }

    fn trunk(&self, sid: Sid) -> Result<Option<Trunk>, StoreError> {
        self.doc(Kind::Trunk, &sid.to_string())
    }

    fn ip_access_control_list(&self, sid: Sid) -> Result<Option<IpAccessControlList>, StoreError> {
        self.doc(Kind::List, &sid.to_string())
    }

    fn ip_address(&self, sid: Sid) -> Result<Option<IpAddress>, StoreError> {
        self.doc(Kind::Address, &sid.to_string())
    }
}
