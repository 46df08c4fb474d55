//! Supporting documents: the evidence attached to bundles, with an optional uploaded
//! file. A document follows the review of the bundles it is on (submitted with one, it
//! is pending review; approved with one; a draft again when the last bundle reviewing
//! or approving it rejects it), the operator may approve or reject it alone and set
//! when it expires, and its file is shown to its own account and the operator
//! only.

use serde_json::Value;
use time::OffsetDateTime;

use super::{Caller, Hub, HubError, Missing, Write, new_sid};
use crate::store::Page;
use crate::trust::documents::{self, DocumentFile};
use crate::trust::{BundleStatus, Change, DocumentStatus, Sid, SupportingDocument, rules};

/// A file as uploaded: its bytes and the type the uploader declared, if any.
#[derive(Clone, PartialEq, Eq)]
pub struct Upload {
    pub content: Vec<u8>,
    pub declared_type: Option<String>,
}

impl std::fmt::Debug for Upload {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Upload")
            .field("len", &self.content.len())
            .field("declared_type", &self.declared_type)
            .finish()
    }
}

/// What a new document is given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewDocument {
    pub friendly_name: String,
    pub document_type: String,
    /// A JSON object.
    pub attributes: Value,
    pub file: Option<Upload>,
}

/// The fields a document update may change; `status` and `valid_until` are the
/// operator's.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DocumentUpdate {
    pub friendly_name: Option<String>,
    pub attributes: Option<Value>,
    pub status: Option<DocumentStatus>,
    /// `Some(None)` removes the expiry.
    pub valid_until: Option<Option<OffsetDateTime>>,
}

/// Supporting documents one account may hold.
pub const MAX_DOCUMENTS: usize = 200;
/// The bytes of files one account's documents may hold together.
pub const MAX_FILE_BYTES: u64 = 256 << 20;

/// The statuses the operator sets by hand: review outcomes. `EXPIRED` comes from
/// `ValidUntil`, and the others from the bundles' review.
const OPERATOR_STATUSES: &[DocumentStatus] = &[
    DocumentStatus::Approved,
    DocumentStatus::Rejected,
    DocumentStatus::ProvisionallyApproved,
];

/// Checks an upload: not empty, a PDF, PNG or JPEG by its bytes, and declared (if at
/// all) as what it is. Returns the type to record.
fn check_upload(upload: &Upload) -> Result<&'static str, HubError> {
    if upload.content.is_empty() {
        return Err(HubError::File("the file is empty".to_owned()));
    }
    let found = documents::sniff(&upload.content).ok_or_else(|| {
        HubError::File(format!(
            "the file must be one of {}; its content is none of them",
            documents::FILE_TYPES.join(", ")
        ))
    })?;
    match upload.declared_type.as_deref() {
        None | Some("application/octet-stream") => Ok(found),
        Some(declared) if declared.eq_ignore_ascii_case(found) => Ok(found),
        Some(declared) => Err(HubError::File(format!(
            "the file is declared {declared:?} but its content is {found}"
        ))),
    }
}

/// The status a document takes when a bundle holding it moves to `to`, if it changes;
/// `others` are the statuses of the other bundles holding it. One status serves every
/// bundle: a document under review on another bundle stays under review when this one
/// is rejected, and an approval another bundle still holds stands when this one's is
/// revoked.
fn follow(
    to: BundleStatus,
    doc: DocumentStatus,
    others: &[BundleStatus],
) -> Option<DocumentStatus> {
    use BundleStatus as B;
    use DocumentStatus as D;
    let reviewing = others
        .iter()
        .any(|s| matches!(s, B::PendingReview | B::InReview));
    let approved = others.contains(&B::TwilioApproved);
    let next = match (to, doc) {
        (B::PendingReview, D::Draft | D::Rejected) => D::PendingReview,
        (B::TwilioApproved, D::Draft | D::PendingReview | D::ProvisionallyApproved) => D::Approved,
        // A bundle's rejection is no verdict on the document (the operator rejects a
        // document itself with its Status): it is a draft again, unless another bundle
        // still has it under review or approved.
        (B::TwilioRejected, D::PendingReview) if !reviewing && !approved => D::Draft,
        (B::TwilioRejected, D::PendingReview) if approved => D::Approved,
        // A revoked approval takes the document's with it, unless another bundle's
        // stands; a document still under review elsewhere stays so.
        (B::TwilioRejected, D::Approved) if !approved => match reviewing {
            true => D::PendingReview,
            false => D::Draft,
        },
        _ => return None,
    };
    Some(next)
}

impl Hub {
    /// The time now, for documents' expiry.
    pub fn now_time(&self) -> OffsetDateTime {
        OffsetDateTime::from_unix_timestamp(self.now_unix()).unwrap_or(OffsetDateTime::UNIX_EPOCH)
    }

    pub fn create_document(
        &self,
        caller: &Caller,
        new: NewDocument,
    ) -> Result<SupportingDocument, HubError> {
        let account = caller.account()?;
        rules::check_document_type(&new.document_type)?;
        let sid = new_sid(*b"RD");
        let now = self.now_text();
        let mut write = Write::default();
        let mut doc = SupportingDocument {
            sid,
            account_sid: account,
            friendly_name: Some(new.friendly_name),
            document_type: new.document_type,
            attributes: new.attributes,
            status: DocumentStatus::Draft,
            valid_until: None,
            mime_type: None,
            file_size: None,
            file_sha256: None,
            date_created: Some(now.clone()),
            date_updated: Some(now),
            url: None,
        };
        if let Some(upload) = new.file {
            let mime = check_upload(&upload)?;
            doc.mime_type = Some(mime.to_owned());
            doc.file_size = u64::try_from(upload.content.len()).ok();
            doc.file_sha256 = Some(documents::sha256_hex(&upload.content));
            write.files.push(DocumentFile {
                sid,
                content: upload.content,
            });
        }
        write
            .changes
            .push(Change::PutSupportingDocument(doc.clone()));
        let guard = self.lock()?;
        let held = self
            .store()
            .supporting_documents(Some(&[account]), Page::ALL)?;
        if held.len() >= MAX_DOCUMENTS {
            return Err(HubError::TooMany {
                what: "supporting documents per account",
                max: MAX_DOCUMENTS,
            });
        }
        let used: u64 = held.iter().filter_map(|d| d.file_size).sum();
        if used.saturating_add(doc.file_size.unwrap_or(0)) > MAX_FILE_BYTES {
            return Err(HubError::File(format!(
                "the account's files would pass {} MiB; delete the documents it no longer needs",
                MAX_FILE_BYTES >> 20
            )));
        }
        self.commit(&guard, write)?;
        Ok(doc)
    }

    /// The caller's documents (every account's for the operator).
    pub fn documents(
        &self,
        caller: &Caller,
        page: Page,
    ) -> Result<Vec<SupportingDocument>, HubError> {
        let scope = self.list_scope(caller);
        Ok(self.store().supporting_documents(scope.as_deref(), page)?)
    }

    /// Document `sid`, if the caller sees it.
    pub fn document(&self, caller: &Caller, sid: Sid) -> Result<SupportingDocument, HubError> {
        self.store()
            .supporting_document(sid)?
            .filter(|d| self.sees(caller, d.account_sid))
            .ok_or(HubError::NotFound(Missing::SupportingDocument(sid)))
    }

    /// Document `sid` with its file's bytes, if the caller sees it and it has a file.
    pub fn document_file(
        &self,
        caller: &Caller,
        sid: Sid,
    ) -> Result<(SupportingDocument, Vec<u8>), HubError> {
        let doc = self.document(caller, sid)?;
        let file = self
            .store()
            .document_file(doc.sid)?
            .ok_or(HubError::NotFound(Missing::SupportingDocument(sid)))?;
        Ok((doc, file.content))
    }

    pub fn update_document(
        &self,
        caller: &Caller,
        sid: Sid,
        update: DocumentUpdate,
    ) -> Result<SupportingDocument, HubError> {
        let guard = self.lock()?;
        // Not found before forbidden: another account's SID gets the 404 of no SID.
        let mut doc = self.document(caller, sid)?;
        if !caller.is_operator() {
            if update.status.is_some() {
                return Err(HubError::OperatorOnly("set a supporting document's Status"));
            }
            if update.valid_until.is_some() {
                return Err(HubError::OperatorOnly("set ValidUntil"));
            }
        }
        if let Some(status) = update.status
            && !OPERATOR_STATUSES.contains(&status)
        {
            return Err(HubError::Value(rules::ValueError::DocumentStatus(
                status.as_str().to_owned(),
            )));
        }
        if update.friendly_name.is_some() || update.attributes.is_some() {
            self.require_unlocked(doc.sid)?;
        }
        if let Some(name) = update.friendly_name {
            doc.friendly_name = Some(name);
        }
        if let Some(attributes) = update.attributes
            && attributes != doc.attributes
        {
            doc.attributes = attributes;
            // New content is new evidence, to be reviewed again, and the expiry the
            // operator set for the old one does not carry over.
            doc.status = DocumentStatus::Draft;
            doc.valid_until = None;
        }
        if let Some(status) = update.status {
            doc.status = status;
        }
        if let Some(valid_until) = update.valid_until {
            doc.valid_until = valid_until;
        }
        doc.date_updated = Some(self.now_text());
        self.commit(
            &guard,
            Write::of(Change::PutSupportingDocument(doc.clone())),
        )?;
        Ok(doc)
    }

    pub fn delete_document(&self, caller: &Caller, sid: Sid) -> Result<(), HubError> {
        let guard = self.lock()?;
        let doc = self.document(caller, sid)?;
        if let Some(bundle) = self.bundles_holding(doc.sid)?.first() {
            return Err(HubError::DocumentAssigned {
                document: doc.sid,
                bundle: *bundle,
            });
        }
        self.commit(&guard, Write::of(Change::DeleteSupportingDocument(doc)))
    }

    /// The documents on bundle `bundle` whose status follows the bundle's move to `to`,
    /// added to `write`.
    pub(crate) fn documents_follow(
        &self,
        bundle: Sid,
        to: BundleStatus,
        write: &mut Write,
    ) -> Result<(), HubError> {
        let now = self.now_text();
        for a in self
            .store()
            .entity_assignments(Some(bundle), None, Page::ALL)?
        {
            if !a.object_sid.is("RD") {
                continue;
            }
            let Some(mut doc) = self.store().supporting_document(a.object_sid)? else {
                continue;
            };
            let mut others = Vec::new();
            for held in self.bundles_holding(doc.sid)? {
                if held == bundle {
                    continue;
                }
                if let Some(b) = self.store().bundle(held)? {
                    others.push(b.status);
                }
            }
            if let Some(next) = follow(to, doc.status, &others) {
                doc.status = next;
                doc.date_updated = Some(now.clone());
                write.changes.push(Change::PutSupportingDocument(doc));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn upload(content: &[u8], declared: Option<&str>) -> Upload {
        Upload {
            content: content.to_vec(),
            declared_type: declared.map(str::to_owned),
        }
    }

    #[test]
    fn uploads_are_typed_by_content_and_must_agree_with_their_declaration() {
        let pdf = b"%PDF-1.4 body";
        assert_eq!(check_upload(&upload(pdf, None)), Ok("application/pdf"));
        assert_eq!(
            check_upload(&upload(pdf, Some("application/octet-stream"))),
            Ok("application/pdf")
        );
        assert_eq!(
            check_upload(&upload(pdf, Some("Application/PDF"))),
            Ok("application/pdf")
        );
        for (content, declared) in [
            (&pdf[..], Some("image/png")),
            (&pdf[..], Some("text/html")),
            (b"<svg onload=alert(1)>", Some("image/png")),
            (b"<svg onload=alert(1)>", None),
            (b"", Some("application/pdf")),
        ] {
            assert!(
                matches!(
                    check_upload(&upload(content, declared)),
                    Err(HubError::File(_))
                ),
                "{declared:?}"
            );
        }
    }

    #[test]
    fn documents_follow_their_bundles_review() {
        use BundleStatus as B;
        use DocumentStatus as D;
        let alone: &[B] = &[];
        assert_eq!(
            follow(B::PendingReview, D::Draft, alone),
            Some(D::PendingReview)
        );
        assert_eq!(
            follow(B::PendingReview, D::Rejected, alone),
            Some(D::PendingReview)
        );
        assert_eq!(follow(B::PendingReview, D::Approved, alone), None);
        assert_eq!(
            follow(B::TwilioApproved, D::PendingReview, alone),
            Some(D::Approved)
        );
        assert_eq!(
            follow(B::TwilioApproved, D::Draft, alone),
            Some(D::Approved)
        );
        assert_eq!(
            follow(B::TwilioRejected, D::PendingReview, alone),
            Some(D::Draft)
        );
        // The operator's own rejection of a document stands through any bundle's move
        // but a resubmission.
        assert_eq!(follow(B::TwilioApproved, D::Rejected, alone), None);
        assert_eq!(follow(B::TwilioRejected, D::Rejected, alone), None);
        assert_eq!(follow(B::InReview, D::PendingReview, alone), None);
        // A revoked approval takes the document's with it.
        assert_eq!(
            follow(B::TwilioRejected, D::Approved, alone),
            Some(D::Draft)
        );
    }

    #[test]
    fn a_document_on_several_bundles_keeps_what_the_others_hold() {
        use BundleStatus as B;
        use DocumentStatus as D;
        // Rejected on one bundle, still under review on another.
        for other in [B::PendingReview, B::InReview] {
            assert_eq!(follow(B::TwilioRejected, D::PendingReview, &[other]), None);
            assert_eq!(
                follow(B::TwilioRejected, D::Approved, &[other]),
                Some(D::PendingReview)
            );
        }
        // Approved on another: the approval stands.
        assert_eq!(
            follow(B::TwilioRejected, D::PendingReview, &[B::TwilioApproved]),
            Some(D::Approved)
        );
        assert_eq!(
            follow(B::TwilioRejected, D::Approved, &[B::TwilioApproved]),
            None
        );
        // Drafts elsewhere change nothing.
        assert_eq!(
            follow(B::TwilioRejected, D::PendingReview, &[B::Draft]),
            Some(D::Draft)
        );
    }
}
