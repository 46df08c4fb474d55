//! The credential part of an estate: a credential list holding one credential (a username
//! marked with the account's tag and a password), used by the trunk with a domain; their
//! paths, every request on them, every GET of them, and what no answer to anyone may hold
//! (the password, and its digests, which are as good as the password to a SIP client).

use callsign::sip::digest::{Algorithm, ha1};
use callsign::trust::DIGEST_REALM;

use crate::common::api::*;
use crate::send;
use crate::trunking::PAGING;
use crate::world::{Endpoint, Estate, form, sid_of, with_query};

/// A valid password (Twilio's rules) no account has: what the matrix's writes offer.
pub const NEW_PASSWORD: &str = "Hijacked-Passw0rd9";

/// The SIDs, the username and the password of [`provision_credentials`]'s records.
pub struct CredentialRecords {
    pub credential_list: String,
    pub credential: String,
    pub username: String,
    pub password: String,
}

/// The password of the account tagged `tag`: its tag in capitals, so that a leak of it
/// is not a leak of the tag (and the owner, who may read its tag, may not read it).
fn password_of(tag: &str) -> String {
    format!("Secret-{}-Passw0rd1", tag.to_uppercase())
}

/// What no answer may hold once `username` has `password`: the password and its MD5 and
/// SHA-256 digests in callsign's realm.
pub fn hidden(username: &str, password: &str) -> Vec<String> {
    vec![
        password.to_owned(),
        ha1(Algorithm::Md5, username, DIGEST_REALM, password),
        ha1(Algorithm::Sha256, username, DIGEST_REALM, password),
    ]
}

/// Gives `creds`' account the list `{tag}-creds` holding the credential `{tag}-user`, and
/// puts it on `trunk` (the trunk with a domain). The answer to the create names the
/// username and not the password.
pub async fn provision_credentials(
    api: &Api,
    creds: &Creds,
    tag: &str,
    trunk: &str,
) -> CredentialRecords {
    let lists = credential_lists_path(&creds.sid);
    let name = format!("{tag}-creds");
    let list = sid_of(&api.ok(&lists, creds, &[("FriendlyName", &name)]).await);
    let (username, password) = (format!("{tag}-user"), password_of(tag));
    let form = [("Username", username.as_str()), ("Password", &password)];
    let path = credentials_path(&creds.sid, &list);
    let created = api.ok(&path, creds, &form).await;
    assert_eq!(created["username"], username.as_str(), "{created}");
    let echoed = leaks(&created, &hidden(&username, &password));
    assert!(echoed.is_empty(), "{echoed:?} in {created}");
    let use_list = [("CredentialListSid", list.as_str())];
    let path = trunk_credential_lists_path(trunk);
    let used = api.ok(&path, creds, &use_list).await;
    assert_eq!(used["trunk_sid"], trunk, "{used}");
    CredentialRecords {
        credential_list: list,
        credential: sid_of(&created),
        username,
        password,
    }
}

/// The credential lists trunk `trunk` uses.
pub fn trunk_credential_lists_path(trunk: &str) -> String {
    format!("/v1/Trunks/{trunk}/CredentialLists")
}

/// An account's credential lists.
pub fn credential_lists_path(account: &str) -> String {
    format!("/2010-04-01/Accounts/{account}/SIP/CredentialLists.json")
}

/// Credential list `list` of account `account`.
pub fn credential_list_path(account: &str, list: &str) -> String {
    format!("/2010-04-01/Accounts/{account}/SIP/CredentialLists/{list}.json")
}

/// The credentials of list `list` of account `account`.
pub fn credentials_path(account: &str, list: &str) -> String {
    format!("/2010-04-01/Accounts/{account}/SIP/CredentialLists/{list}/Credentials.json")
}

/// Credential `credential` of list `list` of account `account`.
pub fn credential_path(account: &str, list: &str, credential: &str) -> String {
    format!(
        "/2010-04-01/Accounts/{account}/SIP/CredentialLists/{list}/Credentials/{credential}.json"
    )
}

impl Estate {
    /// The credential lists the trunk with a domain uses.
    pub fn trunk_credential_lists_path(&self) -> String {
        trunk_credential_lists_path(&self.domain_trunk)
    }

    pub fn credential_lists_path(&self) -> String {
        credential_lists_path(&self.creds.sid)
    }

    pub fn credential_list_path(&self) -> String {
        credential_list_path(&self.creds.sid, &self.credential_list)
    }

    pub fn credentials_path(&self) -> String {
        credentials_path(&self.creds.sid, &self.credential_list)
    }

    pub fn credential_path(&self) -> String {
        credential_path(&self.creds.sid, &self.credential_list, &self.credential)
    }

    /// The password and its digests, which no answer to anyone holds.
    pub fn hidden(&self) -> Vec<String> {
        hidden(&self.username, &self.password)
    }

    /// The SIDs of the credential list and the credential.
    pub fn credential_records(&self) -> [String; 2] {
        [self.credential_list.clone(), self.credential.clone()]
    }

    /// The GET paths of the list as the trunk with a domain uses it, the list and the
    /// credential.
    pub fn credential_fetch_paths(&self) -> [String; 3] {
        let used = format!(
            "{}/{}",
            self.trunk_credential_lists_path(),
            self.credential_list
        );
        [used, self.credential_list_path(), self.credential_path()]
    }

    /// [`Estate::endpoints`] of the credential list and the credential: each trunk's
    /// credential lists, the list as the trunk with a domain uses it, and the 2010 paths.
    pub fn credential_endpoints(&self) -> Vec<Endpoint> {
        let list_sid = [("CredentialListSid", self.credential_list.as_str())];
        let mut out: Vec<Endpoint> = Vec::new();
        for trunk in self.trunks() {
            let uses = trunk_credential_lists_path(trunk);
            out.push(("GET", uses.clone(), vec![]));
            out.push(("POST", uses, form(&list_sid)));
        }
        let used = self.credential_fetch_paths()[0].clone();
        let (lists, list) = (self.credential_lists_path(), self.credential_list_path());
        let (held, one) = (self.credentials_path(), self.credential_path());
        let rename = form(&[("FriendlyName", "hijacked")]);
        out.extend([
            ("GET", used.clone(), vec![]),
            ("DELETE", used, vec![]),
            ("GET", lists.clone(), vec![]),
            ("POST", lists, rename.clone()),
            ("GET", list.clone(), vec![]),
            ("POST", list.clone(), rename),
            ("DELETE", list, vec![]),
            ("GET", held.clone(), vec![]),
            (
                "POST",
                held,
                form(&[("Username", "hijacked"), ("Password", NEW_PASSWORD)]),
            ),
            ("GET", one.clone(), vec![]),
            ("POST", one.clone(), form(&[("Password", NEW_PASSWORD)])),
            ("DELETE", one, vec![]),
        ]);
        out
    }

    /// The GETs of [`Estate::reads`] on the credential list and the credential: each
    /// collection with every paging parameter, and each record; `true` where the answer
    /// must list something (the trunk without a domain uses no credential list).
    pub fn credential_reads(&self) -> Vec<(String, bool)> {
        let mut collections: Vec<(String, bool)> = (self.trunks().into_iter())
            .map(|t| (trunk_credential_lists_path(t), t == self.domain_trunk))
            .collect();
        collections.push((self.credential_lists_path(), true));
        collections.push((self.credentials_path(), true));
        let mut out = Vec::new();
        for (path, listed) in collections {
            for q in PAGING {
                out.push((with_query(&path, q), listed && q.is_empty()));
            }
        }
        out.extend(self.credential_fetch_paths().map(|p| (p, false)));
        out
    }
}

/// `me` adds a credential with `target`'s username to its own list: usernames are per
/// list, so this is as fine as with a username nobody has, and the answer names nothing
/// of `target`'s beyond the username itself. The credential is deleted again.
pub async fn check_usernames_are_per_list(api: &Api, me: &Estate, target: &Estate) -> Vec<String> {
    let mut failures = Vec::new();
    let path = me.credentials_path();
    for username in [target.username.as_str(), "never-named-user"] {
        let request = form(&[("Username", username), ("Password", NEW_PASSWORD)]);
        let what = format!("{} POST {path} {request:?}", me.tag);
        let (status, body) = send(api, Some(&me.creds), "POST", &path, &request).await;
        if (status, body["username"].as_str()) != (201, Some(username)) {
            failures.push(format!("{what}: {status} {body}"));
            continue;
        }
        let others: Vec<String> = (target.secrets().into_iter())
            .filter(|s| !username.contains(s.as_str()))
            .chain(hidden(username, NEW_PASSWORD))
            .collect();
        for field in leaks(&body, &others) {
            failures.push(format!("{what}: {field} in {body}"));
        }
        let made = credential_path(&me.creds.sid, &me.credential_list, &sid_of(&body));
        let (s, body) = api.delete(&made, &me.creds).await;
        assert_eq!(s, 204, "DELETE {made}: {body}");
    }
    failures
}
