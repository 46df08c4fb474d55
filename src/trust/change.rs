//! [`Change`]: one mutation of the trust data, as a write commits it. The store persists
//! it and [`super::Index::apply`] derives the index update from it, so a write cannot
//! reach the store without reaching the index.
//!
//! Deletions carry the record being deleted, and number assignments carry the number
//! they assign, so that the index can find what to update without a reverse lookup.

use super::Sid;
use super::documents::SupportingDocument;
use super::model::{
    Account, Bundle, ChannelEndpointAssignment, EndUser, EntityAssignment, Evaluation, PhoneNumber,
};
use super::review_log::ReviewEntry;
use super::signing::{SigningAssignment, SigningIdentity};
use super::trunking::{
    Credential, CredentialList, IpAccessControlList, IpAddress, OriginationUrl, Trunk, TrunkAcl,
    TrunkCredentialList, TrunkPhoneNumber,
};
use crate::tn::Tn;

/// One mutation in a write. `Put*` inserts or replaces by SID. Serialized (as
/// `{"PutAccount": {…}}`) in a shared store's change log, for the other nodes to apply.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub enum Change {
    PutAccount(Account),
    PutNumber(PhoneNumber),
    DeleteNumber(PhoneNumber),
    PutBundle(Bundle),
    DeleteBundle(Bundle),
    PutEndUser(EndUser),
    DeleteEndUser(EndUser),
    PutEntityAssignment(EntityAssignment),
    DeleteEntityAssignment(EntityAssignment),
    /// An assignment of the number `tn` (the assignment's `channel_endpoint_sid`).
    PutChannelEndpointAssignment(ChannelEndpointAssignment, Tn),
    DeleteChannelEndpointAssignment(ChannelEndpointAssignment, Tn),
    PutEvaluation(Evaluation),
    /// A document's record; its file, if any, is written with it and never logged.
    PutSupportingDocument(SupportingDocument),
    /// Deletes the document and its file.
    DeleteSupportingDocument(SupportingDocument),
    PutTrunk(Trunk),
    DeleteTrunk(Trunk),
    PutIpAccessControlList(IpAccessControlList),
    DeleteIpAccessControlList(IpAccessControlList),
    PutIpAddress(IpAddress),
    DeleteIpAddress(IpAddress),
    PutTrunkAcl(TrunkAcl),
    DeleteTrunkAcl(TrunkAcl),
    PutCredentialList(CredentialList),
    DeleteCredentialList(CredentialList),
    PutCredential(Credential),
    DeleteCredential(Credential),
    PutTrunkCredentialList(TrunkCredentialList),
    DeleteTrunkCredentialList(TrunkCredentialList),
    PutOriginationUrl(OriginationUrl),
    DeleteOriginationUrl(OriginationUrl),
    PutTrunkPhoneNumber(TrunkPhoneNumber),
    DeleteTrunkPhoneNumber(TrunkPhoneNumber),
    PutSigningIdentity(SigningIdentity),
    DeleteSigningIdentity(SigningIdentity),
    PutSigningAssignment(SigningAssignment),
    DeleteSigningAssignment(SigningAssignment),
    /// Appends an entry to the review log; nothing ever replaces or deletes one.
    AppendReview(ReviewEntry),
}

impl Change {
    /// The SID of the record this change writes or deletes.
    pub fn sid(&self) -> Sid {
        match self {
            Change::PutAccount(a) => a.sid,
            Change::PutNumber(n) | Change::DeleteNumber(n) => n.sid,
            Change::PutBundle(b) | Change::DeleteBundle(b) => b.sid,
            Change::PutEndUser(u) | Change::DeleteEndUser(u) => u.sid,
            Change::PutEntityAssignment(a) | Change::DeleteEntityAssignment(a) => a.sid,
            Change::PutChannelEndpointAssignment(a, _)
            | Change::DeleteChannelEndpointAssignment(a, _) => a.sid,
            Change::PutEvaluation(e) => e.sid,
            Change::PutSupportingDocument(d) | Change::DeleteSupportingDocument(d) => d.sid,
            Change::PutTrunk(t) | Change::DeleteTrunk(t) => t.sid,
            Change::PutIpAccessControlList(l) | Change::DeleteIpAccessControlList(l) => l.sid,
            Change::PutIpAddress(a) | Change::DeleteIpAddress(a) => a.sid,
            // Twilio names a trunk's list by the list's SID.
            Change::PutTrunkAcl(a) | Change::DeleteTrunkAcl(a) => a.ip_access_control_list_sid,
            Change::PutCredentialList(l) | Change::DeleteCredentialList(l) => l.sid,
            Change::PutCredential(c) | Change::DeleteCredential(c) => c.sid,
            Change::PutTrunkCredentialList(a) | Change::DeleteTrunkCredentialList(a) => {
                a.credential_list_sid
            }
            Change::PutOriginationUrl(u) | Change::DeleteOriginationUrl(u) => u.sid,
            Change::PutTrunkPhoneNumber(n) | Change::DeleteTrunkPhoneNumber(n) => {
                n.phone_number_sid
            }
            Change::PutSigningIdentity(i) | Change::DeleteSigningIdentity(i) => i.sid,
            // An assignment is named by what it assigns to.
            Change::PutSigningAssignment(a) | Change::DeleteSigningAssignment(a) => a.assigned_sid,
            Change::AppendReview(e) => e.sid,
        }
    }

    /// Whether this change writes trunking records (trunks, access lists, addresses,
    /// credentials, signing identities and their assignments).
    pub fn is_trunking(&self) -> bool {
        matches!(
            self,
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
                | Change::DeleteSigningAssignment(_)
        )
    }
}
