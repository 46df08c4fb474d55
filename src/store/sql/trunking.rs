//! The trunking records: one table, each record a JSON document keyed by its SID (a
//! trunk's use of a list by both SIDs), with its kind, account and parent (an address's
//! list, a list use's trunk) as columns for the lists to filter on.

use serde::Serialize;
use serde::de::DeserializeOwned;

use super::{Arg, Backend, Exec, SqlRow, SqlStore};
use crate::store::{Page, StoreError};
use crate::trust::{Change, Sid, SigningAssignment, TrunkAcl, Trunking};

/// The kinds of trunking record, as the `kind` column holds them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Kind {
    Trunk,
    List,
    Address,
    TrunkList,
    CredentialList,
    Credential,
    TrunkCredentialList,
    OriginationUrl,
    TrunkPhoneNumber,
    SigningIdentity,
    SigningAssignment,
}

impl Kind {
    fn as_str(self) -> &'static str {
        match self {
            Kind::Trunk => "trunk",
            Kind::List => "ip_access_control_list",
            Kind::Address => "ip_address",
            Kind::TrunkList => "trunk_ip_access_control_list",
            Kind::CredentialList => "credential_list",
            Kind::Credential => "credential",
            Kind::TrunkCredentialList => "trunk_credential_list",
            Kind::OriginationUrl => "origination_url",
            Kind::TrunkPhoneNumber => "trunk_phone_number",
            Kind::SigningIdentity => "signing_identity",
            Kind::SigningAssignment => "signing_assignment",
        }
    }
}

fn assignment_key(a: &SigningAssignment) -> String {
    format!("signs/{}", a.assigned_sid)
}

fn link_key(a: &TrunkAcl) -> String {
    format!("{}/{}", a.trunk_sid, a.ip_access_control_list_sid)
}

/// The changes that write `data`, for a bulk import.
pub(super) fn changes(data: &Trunking) -> Vec<Change> {
    let t = data.trunks.iter().cloned().map(Change::PutTrunk);
    let l = (data.ip_access_control_lists.iter().cloned()).map(Change::PutIpAccessControlList);
    let a = data.ip_addresses.iter().cloned().map(Change::PutIpAddress);
    let u = (data.trunk_ip_access_control_lists.iter().cloned()).map(Change::PutTrunkAcl);
    let cl = (data.credential_lists.iter().cloned()).map(Change::PutCredentialList);
    let c = data.credentials.iter().cloned().map(Change::PutCredential);
    let cu = (data.trunk_credential_lists.iter().cloned()).map(Change::PutTrunkCredentialList);
    let ou = (data.origination_urls.iter().cloned()).map(Change::PutOriginationUrl);
    let pn = (data.trunk_phone_numbers.iter().cloned()).map(Change::PutTrunkPhoneNumber);
    let si = (data.signing_identities.iter().cloned()).map(Change::PutSigningIdentity);
    let sa = (data.signing_assignments.iter().cloned()).map(Change::PutSigningAssignment);
    t.chain(l)
        .chain(a)
        .chain(u)
        .chain(cl)
        .chain(c)
        .chain(cu)
        .chain(ou)
        .chain(pn)
        .chain(si)
        .chain(sa)
        .collect()
}

/// Writes one trunking change inside `tx`.
pub(super) fn put(tx: &mut dyn Exec, change: &Change) -> Result<(), StoreError> {
    match change {
        Change::PutTrunk(t) => upsert(
            tx,
            Kind::Trunk,
            &t.sid.to_string(),
            Some(t.account_sid),
            None,
            t,
        ),
        Change::PutIpAccessControlList(l) => upsert(
            tx,
            Kind::List,
            &l.sid.to_string(),
            Some(l.account_sid),
            None,
            l,
        ),
        Change::PutIpAddress(a) => {
            let list = Some(a.ip_access_control_list_sid);
            upsert(
                tx,
                Kind::Address,
                &a.sid.to_string(),
                Some(a.account_sid),
                list,
                a,
            )
        }
        Change::PutTrunkAcl(a) => upsert(
            tx,
            Kind::TrunkList,
            &link_key(a),
            Some(a.account_sid),
            Some(a.trunk_sid),
            a,
        ),
        Change::PutCredentialList(l) => upsert(
            tx,
            Kind::CredentialList,
            &l.sid.to_string(),
            Some(l.account_sid),
            None,
            l,
        ),
        Change::PutCredential(c) => {
            let list = Some(c.credential_list_sid);
            upsert(
                tx,
                Kind::Credential,
                &c.sid.to_string(),
                Some(c.account_sid),
                list,
                c,
            )
        }
        Change::PutTrunkCredentialList(a) => {
            let key = format!("{}/{}", a.trunk_sid, a.credential_list_sid);
            upsert(
                tx,
                Kind::TrunkCredentialList,
                &key,
                Some(a.account_sid),
                Some(a.trunk_sid),
                a,
            )
        }
        Change::DeleteCredentialList(l) => delete(tx, &l.sid.to_string()),
        Change::DeleteCredential(c) => delete(tx, &c.sid.to_string()),
        Change::DeleteTrunkCredentialList(a) => {
            delete(tx, &format!("{}/{}", a.trunk_sid, a.credential_list_sid))
        }
        Change::DeleteTrunk(t) => delete(tx, &t.sid.to_string()),
        Change::DeleteIpAccessControlList(l) => delete(tx, &l.sid.to_string()),
        Change::DeleteIpAddress(a) => delete(tx, &a.sid.to_string()),
        Change::DeleteTrunkAcl(a) => delete(tx, &link_key(a)),
        Change::PutOriginationUrl(u) => upsert(
            tx,
            Kind::OriginationUrl,
            &u.sid.to_string(),
            Some(u.account_sid),
            Some(u.trunk_sid),
            u,
        ),
        Change::DeleteOriginationUrl(u) => delete(tx, &u.sid.to_string()),
        // Keyed by the number: it is on one trunk at most.
        Change::PutTrunkPhoneNumber(n) => upsert(
            tx,
            Kind::TrunkPhoneNumber,
            &format!("trunk_number/{}", n.phone_number_sid),
            Some(n.account_sid),
            Some(n.trunk_sid),
            n,
        ),
        Change::DeleteTrunkPhoneNumber(n) => {
            delete(tx, &format!("trunk_number/{}", n.phone_number_sid))
        }
        // Operator records: no account of their own.
        Change::PutSigningIdentity(i) => {
            upsert(tx, Kind::SigningIdentity, &i.sid.to_string(), None, None, i)
        }
        Change::DeleteSigningIdentity(i) => delete(tx, &i.sid.to_string()),
        Change::PutSigningAssignment(a) => upsert(
            tx,
            Kind::SigningAssignment,
            &assignment_key(a),
            None,
            Some(a.signing_identity_sid),
            a,
        ),
        Change::DeleteSigningAssignment(a) => delete(tx, &assignment_key(a)),
        _ => Ok(()),
    }
}

fn upsert<T: Serialize>(
    tx: &mut dyn Exec,
    kind: Kind,
    key: &str,
    account: Option<Sid>,
    parent: Option<Sid>,
    record: &T,
) -> Result<(), StoreError> {
    let doc = serde_json::to_string(record).map_err(|e| StoreError::Backend(e.to_string()))?;
    let parent = parent.map(|p| p.to_string());
    let account = account.map_or_else(String::new, |a| a.to_string());
    tx.execute(
        "INSERT INTO trunking (key, kind, account_sid, parent_sid, doc) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT(key) DO UPDATE SET account_sid = excluded.account_sid,
            parent_sid = excluded.parent_sid, doc = excluded.doc",
        &[
            key.into(),
            kind.as_str().into(),
            account.into(),
            parent.into(),
            doc.into(),
        ],
    )?;
    Ok(())
}

fn delete(tx: &mut dyn Exec, key: &str) -> Result<(), StoreError> {
    tx.execute("DELETE FROM trunking WHERE key = ?", &[key.into()])?;
    Ok(())
}

/// A trunking row's document, as read.
struct Doc(String);

impl super::rows::FromRow for Doc {
    fn from_row(row: &dyn SqlRow) -> Result<Doc, StoreError> {
        Ok(Doc(row.text("doc")?.unwrap_or_default()))
    }
}

fn parse<T: DeserializeOwned>(doc: &str) -> Result<T, StoreError> {
    serde_json::from_str(doc).map_err(|e| StoreError::Corrupt {
        what: "trunking record",
        message: e.to_string(),
    })
}

impl<B: Backend> SqlStore<B> {
    /// One record of `kind` by key.
    pub(super) fn doc<T: DeserializeOwned>(
        &self,
        kind: Kind,
        key: &str,
    ) -> Result<Option<T>, StoreError> {
        let sql = "SELECT doc FROM trunking WHERE kind = ? AND key = ?";
        let doc: Option<Doc> = self.first(sql, &[kind.as_str().into(), key.into()])?;
        doc.map(|d| parse(&d.0)).transpose()
    }

    /// Records of `kind`, optionally of some accounts and of one parent, in write order.
    pub(super) fn docs<T: DeserializeOwned>(
        &self,
        kind: Kind,
        accounts: Option<&[Sid]>,
        parent: Option<Sid>,
        page: Page,
    ) -> Result<Vec<T>, StoreError> {
        let mut args = vec![Arg::from(kind.as_str())];
        let mut sql = format!(
            "SELECT doc FROM trunking WHERE kind = ? AND {}",
            super::queries::in_list("account_sid", accounts, &mut args)
        );
        if let Some(parent) = parent {
            sql.push_str(" AND parent_sid = ?");
            args.push(parent.to_string().into());
        }
        let docs: Vec<Doc> = self.many(&sql, args, page)?;
        docs.iter().map(|d| parse(&d.0)).collect()
    }

    /// Every trunking record.
    pub(super) fn trunking(&self) -> Result<Trunking, StoreError> {
        Ok(Trunking {
            trunks: self.docs(Kind::Trunk, None, None, Page::ALL)?,
            ip_access_control_lists: self.docs(Kind::List, None, None, Page::ALL)?,
            ip_addresses: self.docs(Kind::Address, None, None, Page::ALL)?,
            trunk_ip_access_control_lists: self.docs(Kind::TrunkList, None, None, Page::ALL)?,
            credential_lists: self.docs(Kind::CredentialList, None, None, Page::ALL)?,
            credentials: self.docs(Kind::Credential, None, None, Page::ALL)?,
            trunk_credential_lists: self.docs(Kind::TrunkCredentialList, None, None, Page::ALL)?,
            origination_urls: self.docs(Kind::OriginationUrl, None, None, Page::ALL)?,
            trunk_phone_numbers: self.docs(Kind::TrunkPhoneNumber, None, None, Page::ALL)?,
            signing_identities: self.docs(Kind::SigningIdentity, None, None, Page::ALL)?,
            signing_assignments: self.docs(Kind::SigningAssignment, None, None, Page::ALL)?,
        })
    }
}
