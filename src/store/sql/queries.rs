//! [`SqlStore`]'s [`Queries`]: list filters and relations, each one `SELECT` in insertion
//! (rowid) order with `LIMIT`/`OFFSET` paging.

use super::trunking::Kind;
use super::{Arg, Backend, SqlStore};
use crate::store::{AccountQuery, BundleQuery, NumberQuery, Page, Queries, StoreError};
use crate::trust::{
    Account, Bundle, BundleKind, ChannelEndpointAssignment, EndUser, EntityAssignment, Evaluation,
    IpAccessControlList, IpAddress, PhoneNumber, Policy, ReviewEntry, Sid, SupportingDocument,
    Trunk, TrunkAcl,
};

/// `column IN (?, ?, …)` for a SID filter, or `TRUE` when there is none.
pub(super) fn in_list(column: &str, accounts: Option<&[Sid]>, args: &mut Vec<Arg>) -> String {
    match accounts {
        None => "TRUE".into(),
        Some(list) => {
            args.extend(list.iter().map(|s| Arg::Text(s.to_string())));
            let marks = vec!["?"; list.len()].join(",");
            format!("{column} IN ({marks})")
        }
    }
}

impl<B: Backend> Queries for SqlStore<B> {
    fn accounts(&self, q: &AccountQuery, page: Page) -> Result<Vec<Account>, StoreError> {
        let mut args = Vec::new();
        let mut sql = format!(
            "SELECT * FROM accounts WHERE {}",
            in_list("sid", q.accounts.as_deref(), &mut args)
        );
        if let Some(parent) = &q.parent {
            sql.push_str(" AND parent_sid = ?");
            args.push(parent.to_string().into());
        }
        if let Some(name) = &q.friendly_name {
            sql.push_str(" AND friendly_name = ?");
            args.push(name.into());
        }
        if let Some(status) = q.status {
            sql.push_str(" AND status = ?");
            args.push(status.as_str().into());
        }
        self.many(&sql, args, page)
    }

    fn numbers(&self, q: &NumberQuery, page: Page) -> Result<Vec<PhoneNumber>, StoreError> {
        let mut args = vec![Arg::Text(q.account.to_string())];
        let mut sql = "SELECT * FROM phone_numbers WHERE account_sid = ?".to_string();
        if let Some(pattern) = &q.pattern {
            let like: String = pattern
                .chars()
                .filter_map(|c| match c {
                    '0'..='9' => Some(c),
                    '*' => Some('_'),
                    _ => None,
                })
                .collect();
            sql.push_str(" AND phone_number LIKE ?");
            args.push(Arg::Text(format!("%{like}%")));
        }
        if let Some(name) = &q.friendly_name {
            sql.push_str(" AND friendly_name = ?");
            args.push(name.into());
        }
        self.many(&sql, args, page)
    }

    fn bundles(&self, q: &BundleQuery, page: Page) -> Result<Vec<Bundle>, StoreError> {
        let mut args = Vec::new();
        let shaken = Policy::ShakenStir.sid_str();
        let mut sql = format!(
            "SELECT * FROM bundles WHERE {} AND policy_sid {} '{shaken}'",
            in_list("account_sid", q.accounts.as_deref(), &mut args),
            match q.kind {
                BundleKind::CustomerProfile => "!=",
                BundleKind::TrustProduct => "=",
            },
        );
        for (column, value) in [
            ("status", q.status.map(|s| s.as_str().to_owned())),
            ("friendly_name", q.friendly_name.clone()),
            ("policy_sid", q.policy_sid.map(|s| s.to_string())),
        ] {
            if let Some(v) = value {
                sql.push_str(&format!(" AND {column} = ?"));
                args.push(Arg::Text(v));
            }
        }
        self.many(&sql, args, page)
    }

    fn end_users(&self, accounts: Option<&[Sid]>, page: Page) -> Result<Vec<EndUser>, StoreError> {
        let mut args = Vec::new();
        let sql = format!(
            "SELECT * FROM end_users WHERE {}",
            in_list("account_sid", accounts, &mut args)
        );
        self.many(&sql, args, page)
    }

    fn supporting_documents(
        &self,
        accounts: Option<&[Sid]>,
        page: Page,
    ) -> Result<Vec<SupportingDocument>, StoreError> {
        let mut args = Vec::new();
        let sql = format!(
            "SELECT * FROM supporting_documents WHERE {}",
            in_list("account_sid", accounts, &mut args)
        );
        self.many(&sql, args, page)
    }

    fn entity_assignments(
        &self,
        bundle: Option<Sid>,
        object: Option<Sid>,
        page: Page,
    ) -> Result<Vec<EntityAssignment>, StoreError> {
        let mut sql = "SELECT * FROM entity_assignments WHERE TRUE".to_string();
        let mut args = Vec::new();
        for (column, value) in [("bundle_sid", bundle), ("object_sid", object)] {
            if let Some(v) = value {
                sql.push_str(&format!(" AND {column} = ?"));
                args.push(Arg::Text(v.to_string()));
            }
        }
        self.many(&sql, args, page)
    }

    fn channel_endpoint_assignments(
        &self,
        bundle: Option<Sid>,
        endpoints: &[Sid],
        page: Page,
    ) -> Result<Vec<ChannelEndpointAssignment>, StoreError> {
        let mut sql = "SELECT * FROM channel_endpoint_assignments WHERE TRUE".to_string();
        let mut args = Vec::new();
        if let Some(b) = bundle {
            sql.push_str(" AND bundle_sid = ?");
            args.push(Arg::Text(b.to_string()));
        }
        if !endpoints.is_empty() {
            let clause = in_list("channel_endpoint_sid", Some(endpoints), &mut args);
            sql.push_str(&format!(" AND {clause}"));
        }
        self.many(&sql, args, page)
    }

    fn evaluations(&self, bundle: Sid, page: Page) -> Result<Vec<Evaluation>, StoreError> {
        self.many(
            "SELECT * FROM evaluations WHERE bundle_sid = ?",
            vec![Arg::Text(bundle.to_string())],
            page,
        )
    }

    fn review_log(&self, bundle: Option<Sid>, page: Page) -> Result<Vec<ReviewEntry>, StoreError> {
        match bundle {
            Some(b) => self.many(
                "SELECT * FROM review_log WHERE bundle_sid = ?",
                vec![Arg::Text(b.to_string())],
                page,
            ),
            None => self.many("SELECT * FROM review_log", Vec::new(), page),
        }
    }

    fn trunks(&self, accounts: Option<&[Sid]>, page: Page) -> Result<Vec<Trunk>, StoreError> {
        self.docs(Kind::Trunk, accounts, None, page)
    }

    fn ip_access_control_lists(
        &self,
        accounts: Option<&[Sid]>,
        page: Page,
    ) -> Result<Vec<IpAccessControlList>, StoreError> {
        self.docs(Kind::List, accounts, None, page)
    }

    fn ip_addresses(&self, list: Sid, page: Page) -> Result<Vec<IpAddress>, StoreError> {
        self.docs(Kind::Address, None, Some(list), page)
    }

    fn trunk_acls(&self, trunk: Sid, page: Page) -> Result<Vec<TrunkAcl>, StoreError> {
        self.docs(Kind::TrunkList, None, Some(trunk), page)
    }
}
