//! Mapping between rows and the trust model: reading rows by column name and writing one
//! [`Change`].

use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::super::{Page, StoreError};
use super::{Arg, Exec, SqlRow};
use crate::trust::{
    Account, AccountStatus, Bundle, BundleStatus, Change, ChannelEndpointAssignment, DocumentFile,
    EndUser, EntityAssignment, Evaluation, PhoneNumber, ReviewEntry, Sid, SupportingDocument,
};

fn corrupt(what: &'static str, message: impl ToString) -> StoreError {
    StoreError::Corrupt {
        what,
        message: message.to_string(),
    }
}

pub(super) fn parse_sid(s: &str) -> Result<Sid, StoreError> {
    Sid::parse_any(s).map_err(|e| corrupt("SID", e))
}

/// `LIMIT`/`OFFSET` values every backend accepts.
pub(super) fn sql_limit(page: Page) -> (i64, i64) {
    let clamp = |n: usize| i64::try_from(n).unwrap_or(i64::MAX);
    (clamp(page.limit), clamp(page.offset))
}

/// Reads a model value from a `SELECT *` row.
pub(super) trait FromRow: Sized {
    fn from_row(row: &dyn SqlRow) -> Result<Self, StoreError>;
}

fn text(row: &dyn SqlRow, column: &str) -> Result<Option<String>, StoreError> {
    row.text(column)
}

fn required(row: &dyn SqlRow, column: &'static str) -> Result<String, StoreError> {
    text(row, column)?.ok_or_else(|| corrupt(column, "missing"))
}

fn sid(row: &dyn SqlRow, column: &'static str) -> Result<Sid, StoreError> {
    parse_sid(&required(row, column)?)
}

fn opt_sid(row: &dyn SqlRow, column: &'static str) -> Result<Option<Sid>, StoreError> {
    text(row, column)?.as_deref().map(parse_sid).transpose()
}

fn json(row: &dyn SqlRow, column: &'static str) -> Result<Option<serde_json::Value>, StoreError> {
    text(row, column)?
        .map(|t| serde_json::from_str(&t).map_err(|e| corrupt(column, e)))
        .transpose()
}

/// A serde enum written as its JSON string, e.g. `"twilio-approved"`.
fn enum_from<T: serde::de::DeserializeOwned>(
    row: &dyn SqlRow,
    column: &'static str,
) -> Result<T, StoreError> {
    let s = required(row, column)?;
    serde_json::from_value(serde_json::Value::String(s)).map_err(|e| corrupt(column, e))
}

fn enum_text<T: serde::Serialize>(value: &T) -> String {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(s)) => s,
        _ => String::new(),
    }
}

impl FromRow for Account {
    fn from_row(row: &dyn SqlRow) -> Result<Self, StoreError> {
        Ok(Account {
            sid: sid(row, "sid")?,
            parent_sid: opt_sid(row, "parent_sid")?,
            friendly_name: text(row, "friendly_name")?,
            auth_token: text(row, "auth_token")?,
            status: enum_from::<AccountStatus>(row, "status")?,
            account_type: text(row, "type")?,
            date_created: text(row, "date_created")?,
            date_updated: text(row, "date_updated")?,
            uri: None,
            subresource_uris: None,
            suspension_cause: text(row, "suspension_cause")?
                .as_deref()
                .map(|c| {
                    crate::trust::SuspensionCause::parse(c)
                        .ok_or_else(|| corrupt("suspension_cause", c))
                })
                .transpose()?,
            secondary_auth_token: text(row, "secondary_auth_token")?,
        })
    }
}

impl FromRow for PhoneNumber {
    fn from_row(row: &dyn SqlRow) -> Result<Self, StoreError> {
        Ok(PhoneNumber {
            sid: sid(row, "sid")?,
            account_sid: sid(row, "account_sid")?,
            phone_number: required(row, "phone_number")?,
            friendly_name: text(row, "friendly_name")?,
            date_created: text(row, "date_created")?,
            date_updated: text(row, "date_updated")?,
            uri: None,
        })
    }
}

impl FromRow for Bundle {
    fn from_row(row: &dyn SqlRow) -> Result<Self, StoreError> {
        let valid_until = text(row, "valid_until")?
            .map(|t| OffsetDateTime::parse(&t, &Rfc3339).map_err(|e| corrupt("valid_until", e)))
            .transpose()?;
        Ok(Bundle {
            sid: sid(row, "sid")?,
            account_sid: sid(row, "account_sid")?,
            policy_sid: sid(row, "policy_sid")?,
            status: enum_from::<BundleStatus>(row, "status")?,
            valid_until,
            friendly_name: text(row, "friendly_name")?,
            email: text(row, "email")?,
            status_callback: text(row, "status_callback")?,
            errors: json(row, "errors")?,
            date_created: text(row, "date_created")?,
            date_updated: text(row, "date_updated")?,
            url: None,
            links: None,
        })
    }
}

/// A document is kept whole as JSON: only its SID and account are queried.
impl FromRow for ReviewEntry {
    fn from_row(row: &dyn SqlRow) -> Result<Self, StoreError> {
        serde_json::from_str(&required(row, "doc")?).map_err(|e| corrupt("doc", e))
    }
}

impl FromRow for SupportingDocument {
    fn from_row(row: &dyn SqlRow) -> Result<Self, StoreError> {
        serde_json::from_str(&required(row, "doc")?).map_err(|e| corrupt("doc", e))
    }
}

/// A file is kept as base64 text, like every other column a text column.
impl FromRow for DocumentFile {
    fn from_row(row: &dyn SqlRow) -> Result<Self, StoreError> {
        use base64::Engine;
        let content = base64::engine::general_purpose::STANDARD
            .decode(required(row, "content")?)
            .map_err(|e| corrupt("content", e))?;
        Ok(DocumentFile {
            sid: sid(row, "sid")?,
            content,
        })
    }
}

impl FromRow for EndUser {
    fn from_row(row: &dyn SqlRow) -> Result<Self, StoreError> {
        Ok(EndUser {
            sid: sid(row, "sid")?,
            account_sid: sid(row, "account_sid")?,
            friendly_name: text(row, "friendly_name")?,
            end_user_type: required(row, "type")?,
            attributes: json(row, "attributes")?.unwrap_or(serde_json::Value::Null),
            date_created: text(row, "date_created")?,
            date_updated: text(row, "date_updated")?,
            url: None,
        })
    }
}

impl FromRow for EntityAssignment {
    fn from_row(row: &dyn SqlRow) -> Result<Self, StoreError> {
        Ok(EntityAssignment {
            sid: sid(row, "sid")?,
            bundle_sid: sid(row, "bundle_sid")?,
            object_sid: sid(row, "object_sid")?,
            account_sid: opt_sid(row, "account_sid")?,
            date_created: text(row, "date_created")?,
            url: None,
        })
    }
}

impl FromRow for ChannelEndpointAssignment {
    fn from_row(row: &dyn SqlRow) -> Result<Self, StoreError> {
        Ok(ChannelEndpointAssignment {
            sid: sid(row, "sid")?,
            bundle_sid: sid(row, "bundle_sid")?,
            channel_endpoint_sid: sid(row, "channel_endpoint_sid")?,
            channel_endpoint_type: required(row, "channel_endpoint_type")?,
            account_sid: opt_sid(row, "account_sid")?,
            date_created: text(row, "date_created")?,
            url: None,
        })
    }
}

impl FromRow for Evaluation {
    fn from_row(row: &dyn SqlRow) -> Result<Self, StoreError> {
        Ok(Evaluation {
            sid: sid(row, "sid")?,
            account_sid: sid(row, "account_sid")?,
            policy_sid: sid(row, "policy_sid")?,
            bundle_sid: sid(row, "bundle_sid")?,
            status: required(row, "status")?,
            results: json(row, "results")?.unwrap_or(serde_json::Value::Null),
            date_created: required(row, "date_created")?,
        })
    }
}

fn s(sid: &Sid) -> Arg {
    Arg::Text(sid.to_string())
}

fn os(sid: &Option<Sid>) -> Arg {
    sid.as_ref().map_or(Arg::Null, s)
}

fn js(v: &Option<serde_json::Value>) -> Arg {
    v.as_ref().map(serde_json::Value::to_string).into()
}

/// A table the bulk import fills, with its columns (the key first).
pub(super) struct Table {
    pub name: &'static str,
    pub columns: &'static [&'static str],
}

pub(super) const ACCOUNTS: Table = Table {
    name: "accounts",
    columns: &[
        "sid",
        "parent_sid",
        "friendly_name",
        "auth_token",
        "status",
        "type",
        "date_created",
        "date_updated",
        "suspension_cause",
        "secondary_auth_token",
    ],
};

pub(super) const PHONE_NUMBERS: Table = Table {
    name: "phone_numbers",
    columns: &[
        "sid",
        "account_sid",
        "phone_number",
        "friendly_name",
        "date_created",
        "date_updated",
    ],
};

pub(super) const BUNDLES: Table = Table {
    name: "bundles",
    columns: &[
        "sid",
        "account_sid",
        "policy_sid",
        "status",
        "valid_until",
        "friendly_name",
        "email",
        "status_callback",
        "errors",
        "date_created",
        "date_updated",
    ],
};

pub(super) const END_USERS: Table = Table {
    name: "end_users",
    columns: &[
        "sid",
        "account_sid",
        "friendly_name",
        "type",
        "attributes",
        "date_created",
        "date_updated",
    ],
};

pub(super) const ENTITY_ASSIGNMENTS: Table = Table {
    name: "entity_assignments",
    columns: &[
        "sid",
        "bundle_sid",
        "object_sid",
        "account_sid",
        "date_created",
    ],
};

pub(super) const CHANNEL_ENDPOINT_ASSIGNMENTS: Table = Table {
    name: "channel_endpoint_assignments",
    columns: &[
        "sid",
        "bundle_sid",
        "channel_endpoint_sid",
        "channel_endpoint_type",
        "account_sid",
        "date_created",
    ],
};

pub(super) const SUPPORTING_DOCUMENTS: Table = Table {
    name: "supporting_documents",
    columns: &["sid", "account_sid", "doc"],
};

pub(super) const DOCUMENT_FILES: Table = Table {
    name: "document_files",
    columns: &["sid", "content"],
};

const EVALUATIONS: Table = Table {
    name: "evaluations",
    columns: &[
        "sid",
        "account_sid",
        "policy_sid",
        "bundle_sid",
        "status",
        "results",
        "date_created",
    ],
};

pub(super) fn account_row(a: &Account) -> Vec<Arg> {
    vec![
        s(&a.sid),
        os(&a.parent()),
        Arg::from(&a.friendly_name),
        Arg::from(&a.auth_token),
        Arg::Text(enum_text(&a.status)),
        Arg::from(&a.account_type),
        Arg::from(&a.date_created),
        Arg::from(&a.date_updated),
        Arg::from(a.suspension_cause.map(|c| c.as_str().to_owned())),
        Arg::from(&a.secondary_auth_token),
    ]
}

pub(super) fn number_row(n: &PhoneNumber) -> Vec<Arg> {
    vec![
        s(&n.sid),
        s(&n.account_sid),
        Arg::from(&n.phone_number),
        Arg::from(&n.friendly_name),
        Arg::from(&n.date_created),
        Arg::from(&n.date_updated),
    ]
}

pub(super) fn bundle_row(b: &Bundle) -> Vec<Arg> {
    let valid_until = b.valid_until.and_then(|t| t.format(&Rfc3339).ok());
    vec![
        s(&b.sid),
        s(&b.account_sid),
        s(&b.policy_sid),
        Arg::Text(enum_text(&b.status)),
        Arg::from(valid_until),
        Arg::from(&b.friendly_name),
        Arg::from(&b.email),
        Arg::from(&b.status_callback),
        js(&b.errors),
        Arg::from(&b.date_created),
        Arg::from(&b.date_updated),
    ]
}

pub(super) fn end_user_row(u: &EndUser) -> Vec<Arg> {
    vec![
        s(&u.sid),
        s(&u.account_sid),
        Arg::from(&u.friendly_name),
        Arg::from(&u.end_user_type),
        Arg::Text(u.attributes.to_string()),
        Arg::from(&u.date_created),
        Arg::from(&u.date_updated),
    ]
}

pub(super) fn entity_assignment_row(a: &EntityAssignment) -> Vec<Arg> {
    vec![
        s(&a.sid),
        s(&a.bundle_sid),
        s(&a.object_sid),
        os(&a.account_sid),
        Arg::from(&a.date_created),
    ]
}

pub(super) fn channel_endpoint_assignment_row(a: &ChannelEndpointAssignment) -> Vec<Arg> {
    vec![
        s(&a.sid),
        s(&a.bundle_sid),
        s(&a.channel_endpoint_sid),
        Arg::from(&a.channel_endpoint_type),
        os(&a.account_sid),
        Arg::from(&a.date_created),
    ]
}

pub(super) fn supporting_document_row(d: &SupportingDocument) -> Result<Vec<Arg>, StoreError> {
    let doc = serde_json::to_string(d).map_err(|e| corrupt("doc", e))?;
    Ok(vec![s(&d.sid), s(&d.account_sid), Arg::Text(doc)])
}

pub(super) fn document_file_row(f: &DocumentFile) -> Vec<Arg> {
    use base64::Engine;
    let content = base64::engine::general_purpose::STANDARD.encode(&f.content);
    vec![s(&f.sid), Arg::Text(content)]
}

/// Writes a document's file inside `tx`, replacing any it had.
pub(super) fn put_file(tx: &mut dyn Exec, file: &DocumentFile) -> Result<(), StoreError> {
    upsert(tx, &DOCUMENT_FILES, &document_file_row(file))
}

fn evaluation_row(e: &Evaluation) -> Vec<Arg> {
    vec![
        s(&e.sid),
        s(&e.account_sid),
        s(&e.policy_sid),
        s(&e.bundle_sid),
        Arg::from(&e.status),
        Arg::Text(e.results.to_string()),
        Arg::from(&e.date_created),
    ]
}

/// Upserts keep the rowid, so a row keeps its place in lists when it changes.
fn upsert(tx: &mut dyn Exec, table: &Table, values: &[Arg]) -> Result<(), StoreError> {
    let columns = table.columns;
    let marks = vec!["?"; columns.len()].join(",");
    let updates = columns
        .iter()
        .skip(1)
        .map(|c| format!("{c}=excluded.{c}"))
        .collect::<Vec<_>>()
        .join(",");
    let sql = format!(
        "INSERT INTO {} ({}) VALUES ({marks}) ON CONFLICT(sid) DO UPDATE SET {updates}",
        table.name,
        columns.join(",")
    );
    tx.execute(&sql, values)?;
    Ok(())
}

fn delete(tx: &mut dyn Exec, sql: &str, sid: &Sid) -> Result<(), StoreError> {
    tx.execute(sql, &[s(sid)])?;
    Ok(())
}

/// Writes one change inside `tx`.
pub(super) fn put(tx: &mut dyn Exec, change: &Change) -> Result<(), StoreError> {
    if change.is_trunking() {
        return super::trunking::put(tx, change);
    }
    match change {
        Change::PutAccount(a) => upsert(tx, &ACCOUNTS, &account_row(a)),
        Change::PutNumber(n) => upsert(tx, &PHONE_NUMBERS, &number_row(n)),
        Change::DeleteNumber(n) => delete(tx, "DELETE FROM phone_numbers WHERE sid = ?", &n.sid),
        Change::PutBundle(b) => upsert(tx, &BUNDLES, &bundle_row(b)),
        Change::DeleteBundle(b) => {
            let sid = &b.sid;
            for sql in [
                "DELETE FROM bundles WHERE sid = ?",
                "DELETE FROM evaluations WHERE bundle_sid = ?",
                "DELETE FROM entity_assignments WHERE bundle_sid = ?",
                "DELETE FROM channel_endpoint_assignments WHERE bundle_sid = ?",
            ] {
                delete(tx, sql, sid)?;
            }
            Ok(())
        }
        Change::PutEndUser(u) => upsert(tx, &END_USERS, &end_user_row(u)),
        Change::DeleteEndUser(u) => delete(tx, "DELETE FROM end_users WHERE sid = ?", &u.sid),
        Change::PutEntityAssignment(a) => {
            upsert(tx, &ENTITY_ASSIGNMENTS, &entity_assignment_row(a))
        }
        Change::DeleteEntityAssignment(a) => {
            delete(tx, "DELETE FROM entity_assignments WHERE sid = ?", &a.sid)
        }
        Change::PutChannelEndpointAssignment(a, _) => upsert(
            tx,
            &CHANNEL_ENDPOINT_ASSIGNMENTS,
            &channel_endpoint_assignment_row(a),
        ),
        Change::DeleteChannelEndpointAssignment(a, _) => delete(
            tx,
            "DELETE FROM channel_endpoint_assignments WHERE sid = ?",
            &a.sid,
        ),
        Change::PutEvaluation(e) => upsert(tx, &EVALUATIONS, &evaluation_row(e)),
        // A plain insert: an entry with a SID the log already holds is an error, never
        // an update.
        Change::AppendReview(e) => {
            let doc = serde_json::to_string(e).map_err(|e| corrupt("doc", e))?;
            tx.execute(
                "INSERT INTO review_log (sid, bundle_sid, account_sid, doc) VALUES (?, ?, ?, ?)",
                &[
                    s(&e.sid),
                    s(&e.bundle_sid),
                    s(&e.account_sid),
                    Arg::Text(doc),
                ],
            )?;
            Ok(())
        }
        Change::PutSupportingDocument(d) => {
            upsert(tx, &SUPPORTING_DOCUMENTS, &supporting_document_row(d)?)
        }
        Change::DeleteSupportingDocument(d) => {
            for sql in [
                "DELETE FROM supporting_documents WHERE sid = ?",
                "DELETE FROM document_files WHERE sid = ?",
            ] {
                delete(tx, sql, &d.sid)?;
            }
            Ok(())
        }
        // Written by `super::trunking::put` above.
        Change::PutTrunk(_)
        | Change::DeleteTrunk(_)
        | Change::PutIpAccessControlList(_)
        | Change::DeleteIpAccessControlList(_)
        | Change::PutIpAddress(_)
        | Change::DeleteIpAddress(_)
        | Change::PutTrunkAcl(_)
        | Change::DeleteTrunkAcl(_)
        | Change::PutCredentialList(_)
        | Change::DeleteCredentialList(_)
        | Change::PutCredential(_)
        | Change::DeleteCredential(_)
        | Change::PutTrunkCredentialList(_)
        | Change::DeleteTrunkCredentialList(_)
        | Change::PutOriginationUrl(_)
        | Change::DeleteOriginationUrl(_)
        | Change::PutTrunkPhoneNumber(_)
        | Change::DeleteTrunkPhoneNumber(_)
        | Change::PutSigningIdentity(_)
        | Change::DeleteSigningIdentity(_)
        | Change::PutSigningAssignment(_)
        | Change::DeleteSigningAssignment(_) => Ok(()),
    }
}
