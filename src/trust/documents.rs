//! Supporting documents (`RD…`): the evidence a customer attaches to its bundles (the
//! business address a customer profile needs, an identity document), with Twilio's
//! review statuses, and the files uploaded with them.
//!
//! A document's metadata is a record like any other; its file is kept apart
//! ([`DocumentFile`]) so that the change log carries the record only, and checked here
//! ([`sniff`]): a file is accepted when its bytes are a PDF, PNG or JPEG, whatever the
//! uploader says it is.

use std::fmt;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::Sid;

/// A supporting document.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SupportingDocument {
    pub sid: Sid,
    pub account_sid: Sid,
    #[serde(default)]
    pub friendly_name: Option<String>,
    /// A type of the catalogue, e.g. `customer_profile_address`.
    #[serde(rename = "type")]
    pub document_type: String,
    /// A JSON object: the fields of its type.
    #[serde(default)]
    pub attributes: serde_json::Value,
    /// The review status as last written; [`SupportingDocument::status_at`] is the one
    /// shown, which is `EXPIRED` once `valid_until` has passed.
    #[serde(default)]
    pub status: DocumentStatus,
    /// Set by the operator: when the document stops being evidence.
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub valid_until: Option<OffsetDateTime>,
    /// The uploaded file's type as its bytes show it; `None` without a file.
    #[serde(default)]
    pub mime_type: Option<String>,
    /// The uploaded file's length in bytes.
    #[serde(default)]
    pub file_size: Option<u64>,
    /// The uploaded file's SHA-256, lowercase hex.
    #[serde(default)]
    pub file_sha256: Option<String>,
    #[serde(default)]
    pub date_created: Option<String>,
    #[serde(default)]
    pub date_updated: Option<String>,
    #[serde(default)]
    pub url: Option<String>,
}

impl SupportingDocument {
    /// The status at `now`: the stored one, or `EXPIRED` from `valid_until` on.
    pub fn status_at(&self, now: OffsetDateTime) -> DocumentStatus {
        match self.valid_until {
            Some(until) if now >= until => DocumentStatus::Expired,
            _ => self.status,
        }
    }
}

/// Twilio's review states of a supporting document.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum DocumentStatus {
    #[default]
    Draft,
    PendingReview,
    Rejected,
    Approved,
    Expired,
    ProvisionallyApproved,
}

impl DocumentStatus {
    pub const ALL: [DocumentStatus; 6] = [
        DocumentStatus::Draft,
        DocumentStatus::PendingReview,
        DocumentStatus::Rejected,
        DocumentStatus::Approved,
        DocumentStatus::Expired,
        DocumentStatus::ProvisionallyApproved,
    ];

    /// Twilio's name, e.g. `PENDING_REVIEW`.
    pub fn as_str(self) -> &'static str {
        match self {
            DocumentStatus::Draft => "DRAFT",
            DocumentStatus::PendingReview => "PENDING_REVIEW",
            DocumentStatus::Rejected => "REJECTED",
            DocumentStatus::Approved => "APPROVED",
            DocumentStatus::Expired => "EXPIRED",
            DocumentStatus::ProvisionallyApproved => "PROVISIONALLY_APPROVED",
        }
    }

    /// The status named `s` (Twilio's upper-case name, or the lower-case, hyphenated
    /// one of its regulatory API), if any.
    pub fn parse(s: &str) -> Option<DocumentStatus> {
        let upper = s.replace('-', "_").to_ascii_uppercase();
        DocumentStatus::ALL
            .into_iter()
            .find(|d| d.as_str() == upper)
    }
}

impl fmt::Display for DocumentStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A document's uploaded file. Exports carry the bytes in base64; the change log never
/// does (the other nodes read files from the shared store when asked for one).
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DocumentFile {
    /// The document's SID.
    pub sid: Sid,
    #[serde(with = "base64_bytes")]
    pub content: Vec<u8>,
}

impl fmt::Debug for DocumentFile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DocumentFile")
            .field("sid", &self.sid)
            .field("len", &self.content.len())
            .finish()
    }
}

mod base64_bytes {
    use base64::Engine;
    use base64::engine::general_purpose::STANDARD;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(bytes: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&STANDARD.encode(bytes))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        let text = String::deserialize(d)?;
        STANDARD.decode(text).map_err(serde::de::Error::custom)
    }
}

/// The file types a document may carry: Twilio takes images and PDFs.
pub const FILE_TYPES: &[&str] = &["application/pdf", "image/png", "image/jpeg"];

/// The type of `bytes` as their signature shows it, if it is one of [`FILE_TYPES`].
pub fn sniff(bytes: &[u8]) -> Option<&'static str> {
    if bytes.starts_with(b"%PDF-") {
        Some("application/pdf")
    } else if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some("image/png")
    } else if bytes.starts_with(&[0xff, 0xd8, 0xff]) {
        Some("image/jpeg")
    } else {
        None
    }
}

/// `bytes`' SHA-256 in lowercase hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    let digest = ring::digest::digest(&ring::digest::SHA256, bytes);
    digest.as_ref().iter().map(|b| format!("{b:02x}")).collect()
}

/// A supporting-document type of the catalogue (`/v1/SupportingDocumentTypes`): its
/// machine name, its name, and its fields (machine name, name, constraint).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DocumentType {
    pub machine_name: &'static str,
    pub friendly_name: &'static str,
    pub fields: &'static [(&'static str, &'static str, &'static str)],
}

/// The supporting-document types callsign takes, with Twilio's names.
pub const DOCUMENT_TYPES: &[DocumentType] = &[
    DocumentType {
        machine_name: "customer_profile_address",
        friendly_name: "Customer profile address",
        fields: &[("address_sids", "Address Sids", "List")],
    },
    DocumentType {
        machine_name: "government_issued_proof_of_authorized_representative",
        friendly_name: "Government Issued Identity certifying proof of being an authorized representative of a company",
        fields: &[
            ("first_name", "First Name", "String"),
            ("last_name", "Last Name", "String"),
            ("business_name", "Business Name", "String"),
        ],
    },
];

/// The namespace of document-type SIDs: each is `OY` and the UUID v5 of its machine
/// name in it, the same on every installation.
const DOCUMENT_TYPE_NAMESPACE: uuid::Uuid =
    uuid::Uuid::from_u128(0x7375_7070_6f72_7469_6e67_2d64_6f63_7479);

impl DocumentType {
    /// Its SID (`OY…`).
    pub fn sid(&self) -> Sid {
        let id = uuid::Uuid::new_v5(&DOCUMENT_TYPE_NAMESPACE, self.machine_name.as_bytes());
        Sid::from_parts(*b"OY", id.as_u128())
    }

    /// The type whose SID is `sid`.
    pub fn by_sid(sid: Sid) -> Option<&'static DocumentType> {
        DOCUMENT_TYPES.iter().find(|t| t.sid() == sid)
    }

    /// The type named `name`.
    pub fn by_name(name: &str) -> Option<&'static DocumentType> {
        DOCUMENT_TYPES.iter().find(|t| t.machine_name == name)
    }
}

/// Why a document's attributes are not evidence of its type; `None` when they are.
/// An address document names at least one address (`AD…`), as a list or a
/// comma-separated string; the other types need each of their fields, non-empty.
pub fn attribute_problem(document_type: &str, attributes: &serde_json::Value) -> Option<String> {
    let t = DocumentType::by_name(document_type)?;
    for (field, _, constraint) in t.fields {
        let value = attributes.get(*field);
        let problem = match (*constraint, value) {
            ("List", Some(v)) => address_sids(v).err(),
            (_, Some(serde_json::Value::String(s))) if !s.trim().is_empty() => None,
            _ => Some(format!("{field} is missing")),
        };
        if problem.is_some() {
            return problem;
        }
    }
    None
}

/// The SIDs of an `address_sids` value: a JSON list of strings or one comma-separated
/// string, each an address SID.
fn address_sids(value: &serde_json::Value) -> Result<Vec<Sid>, String> {
    let items: Vec<&str> = match value {
        serde_json::Value::String(s) => s.split(',').map(str::trim).collect(),
        serde_json::Value::Array(a) => a.iter().filter_map(|v| v.as_str()).collect(),
        _ => Vec::new(),
    };
    if items.is_empty() || items.iter().any(|s| s.is_empty()) {
        return Err("address_sids must name at least one address (AD…)".to_owned());
    }
    items
        .iter()
        .map(|s| {
            Sid::parse_any(s)
                .ok()
                .filter(|sid| sid.is("AD"))
                .ok_or_else(|| format!("address_sids holds {s:?}, not an address SID (AD…)"))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn files_are_typed_by_their_bytes() {
        assert_eq!(sniff(b"%PDF-1.7\n..."), Some("application/pdf"));
        assert_eq!(sniff(b"\x89PNG\r\n\x1a\nIHDR"), Some("image/png"));
        assert_eq!(sniff(&[0xff, 0xd8, 0xff, 0xe0, 0]), Some("image/jpeg"));
        for bad in [
            &b"<html><script>alert(1)</script>"[..],
            b"GIF89a",
            b"%PD",
            b"",
            b"PK\x03\x04",
        ] {
            assert_eq!(sniff(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn expiry_overrides_the_stored_status() {
        let until = OffsetDateTime::from_unix_timestamp(1_000).unwrap();
        let doc = SupportingDocument {
            sid: Sid::from_u128("RD", 1).unwrap(),
            account_sid: Sid::from_u128("AC", 1).unwrap(),
            friendly_name: None,
            document_type: "customer_profile_address".into(),
            attributes: json!({}),
            status: DocumentStatus::Approved,
            valid_until: Some(until),
            mime_type: None,
            file_size: None,
            file_sha256: None,
            date_created: None,
            date_updated: None,
            url: None,
        };
        let before = OffsetDateTime::from_unix_timestamp(999).unwrap();
        assert_eq!(doc.status_at(before), DocumentStatus::Approved);
        assert_eq!(doc.status_at(until), DocumentStatus::Expired);
    }

    #[test]
    fn statuses_parse_in_both_of_twilios_spellings() {
        for s in DocumentStatus::ALL {
            assert_eq!(DocumentStatus::parse(s.as_str()), Some(s));
        }
        assert_eq!(
            DocumentStatus::parse("provisionally-approved"),
            Some(DocumentStatus::ProvisionallyApproved)
        );
        assert_eq!(DocumentStatus::parse("approved!"), None);
        let json = serde_json::to_string(&DocumentStatus::PendingReview).unwrap();
        assert_eq!(json, "\"PENDING_REVIEW\"");
    }

    #[test]
    fn address_documents_name_addresses() {
        let ad = "AD0123456789abcdef0123456789abcdef";
        let t = "customer_profile_address";
        assert_eq!(attribute_problem(t, &json!({ "address_sids": ad })), None);
        assert_eq!(
            attribute_problem(t, &json!({ "address_sids": [ad, ad] })),
            None
        );
        assert_eq!(
            attribute_problem(t, &json!({ "address_sids": format!("{ad}, {ad}") })),
            None
        );
        for bad in [
            json!({}),
            json!({ "address_sids": "" }),
            json!({ "address_sids": [] }),
            json!({ "address_sids": "IT0123456789abcdef0123456789abcdef" }),
            json!({ "address_sids": 5 }),
            json!({ "address_sids": format!("{ad},") }),
        ] {
            assert!(attribute_problem(t, &bad).is_some(), "{bad}");
        }
        let id = "government_issued_proof_of_authorized_representative";
        let full = json!({"first_name": "A", "last_name": "B", "business_name": "C"});
        assert_eq!(attribute_problem(id, &full), None);
        assert!(attribute_problem(id, &json!({"first_name": "A", "last_name": "B"})).is_some());
    }

    #[test]
    fn type_sids_are_stable_and_distinct() {
        let sids: Vec<Sid> = DOCUMENT_TYPES.iter().map(DocumentType::sid).collect();
        assert_ne!(sids[0], sids[1]);
        assert_eq!(DocumentType::by_sid(sids[1]), Some(&DOCUMENT_TYPES[1]));
        assert!(sids.iter().all(|s| s.is("OY")));
    }

    #[test]
    fn a_file_is_exported_in_base64_and_never_printed() {
        let f = DocumentFile {
            sid: Sid::from_u128("RD", 1).unwrap(),
            content: b"%PDF-secret".to_vec(),
        };
        let json = serde_json::to_string(&f).unwrap();
        assert!(json.contains("JVBERi1zZWNyZXQ="), "{json}");
        assert_eq!(serde_json::from_str::<DocumentFile>(&json).unwrap(), f);
        assert!(!format!("{f:?}").contains("secret"));
    }
}
