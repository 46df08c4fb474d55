//! The Trust Hub's rules, written once. The Trust Hub service checks every write against
//! them before it commits, and loading trust data (a JSON file, or a rebuild from the
//! store) checks the same invariants, so both accept exactly the same data.
//!
//! - Invariants of the data: what an entity assignment may link ([`check_link`]), whose
//!   numbers a bundle may hold ([`check_owner`]), and one customer profile and one trust
//!   product per number ([`check_slot`]).
//! - Preconditions of a write ([`review`]): which status changes who may make, what may
//!   change in which status, what a policy requires before submission, and the automatic
//!   trust product of an approved Primary profile.

pub mod review;

use thiserror::Error;

use super::Sid;
use super::model::Policy;

pub use review::{
    Attached, AttachedDocument, Requirement, RequirementKind, TransitionError,
    automatic_product_sid, check_transition, editable, evaluate, requirements,
};

/// A bundle as the rules see it: its account, that account's parent, and its policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BundleFacts {
    pub sid: Sid,
    pub account: Sid,
    /// The parent of `account`, when `account` is a sub-account.
    pub parent: Option<Sid>,
    pub policy: Policy,
}

/// What an entity assignment's `object_sid` names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkTarget {
    /// An end user (`IT…`) of this account.
    EndUser { sid: Sid, account: Sid },
    /// A customer profile or trust product.
    Bundle {
        sid: Sid,
        account: Sid,
        policy: Policy,
    },
    /// A supporting document (`RD…`) of this account.
    Document { sid: Sid, account: Sid },
    /// Anything else.
    Other(Sid),
}

/// Why an entity assignment may not exist.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum LinkError {
    #[error("{0} is neither an end user (IT…), a supporting document (RD…) nor a bundle (BU…)")]
    ObjectKind(Sid),
    #[error("end user {0} belongs to another account")]
    EndUserOfAnotherAccount(Sid),
    #[error("supporting document {0} belongs to another account")]
    DocumentOfAnotherAccount(Sid),
    #[error("a trust product links to a customer profile of its own account or its parent account")]
    ProductTarget,
    #[error(
        "a Secondary profile belongs to a sub-account and links to its parent account's Primary profile"
    )]
    SecondaryOfTopLevel,
    #[error("a Secondary profile links only to its parent account's Primary profile")]
    SecondaryTarget,
    #[error("a Primary profile links to end users, not to other bundles")]
    PrimaryTarget,
}

/// Whether `bundle` may be linked to `target`: a bundle to an end user or a supporting
/// document of its own account; a trust product to a customer profile of its account or its parent's; a
/// Secondary profile (of a sub-account) to its parent account's Primary profile.
pub fn check_link(bundle: &BundleFacts, target: &LinkTarget) -> Result<(), LinkError> {
    let (account, policy) = match *target {
        LinkTarget::EndUser { sid, account } if account != bundle.account => {
            return Err(LinkError::EndUserOfAnotherAccount(sid));
        }
        LinkTarget::EndUser { .. } => return Ok(()),
        LinkTarget::Document { sid, account } if account != bundle.account => {
            return Err(LinkError::DocumentOfAnotherAccount(sid));
        }
        LinkTarget::Document { .. } => return Ok(()),
        LinkTarget::Other(sid) => return Err(LinkError::ObjectKind(sid)),
        LinkTarget::Bundle {
            account, policy, ..
        } => (account, policy),
    };
    match bundle.policy {
        Policy::ShakenStir => {
            let own_or_parent = account == bundle.account || Some(account) == bundle.parent;
            if !policy.is_customer_profile() || !own_or_parent {
                return Err(LinkError::ProductTarget);
            }
        }
        Policy::SecondaryCustomerProfile => {
            let Some(parent) = bundle.parent else {
                return Err(LinkError::SecondaryOfTopLevel);
            };
            if policy != Policy::PrimaryCustomerProfile || account != parent {
                return Err(LinkError::SecondaryTarget);
            }
        }
        Policy::PrimaryCustomerProfile => return Err(LinkError::PrimaryTarget),
    }
    Ok(())
}

/// Why a phone number may not be assigned to a bundle.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum AssignError {
    #[error("{0} belongs to another account")]
    NumberOfAnotherAccount(Sid),
    #[error("{pn} is already assigned to {bundle}")]
    AlreadyAssigned { pn: Sid, bundle: Sid },
    #[error("assign {pn} to the customer profile linked to {product} first")]
    ProfileFirst { pn: Sid, product: Sid },
    #[error("ChannelEndpointType must be phone-number, got {0:?}")]
    ChannelType(String),
}

/// The only channel endpoint type callsign assigns.
pub const PHONE_NUMBER: &str = "phone-number";

/// A bundle holds the numbers of its own account and of its sub-accounts.
pub fn check_owner(
    bundle: &BundleFacts,
    pn: Sid,
    owner: Sid,
    owner_parent: Option<Sid>,
) -> Result<(), AssignError> {
    if owner == bundle.account || owner_parent == Some(bundle.account) {
        Ok(())
    } else {
        Err(AssignError::NumberOfAnotherAccount(pn))
    }
}

/// A number is on one customer profile and one trust product at most: `held` is the
/// bundle of the same kind it is already on, if any.
pub fn check_slot(pn: Sid, held: Option<Sid>) -> Result<(), AssignError> {
    match held {
        Some(bundle) => Err(AssignError::AlreadyAssigned { pn, bundle }),
        None => Ok(()),
    }
}

/// Only phone numbers are channel endpoints here.
pub fn check_channel_type(found: &str) -> Result<(), AssignError> {
    if found == PHONE_NUMBER {
        Ok(())
    } else {
        Err(AssignError::ChannelType(found.to_owned()))
    }
}

/// The end-user types a Trust Hub bundle can use: the business information and the
/// authorized representatives of Twilio's Primary and Secondary customer profiles.
pub const END_USER_TYPES: &[&str] = &[
    "customer_profile_business_information",
    "authorized_representative_1",
    "authorized_representative_2",
];

/// An end-user type of the catalogue (`/v1/EndUserTypes`): Twilio's machine name and
/// name for it, and the attributes an end user of it holds (machine name, name).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EndUserType {
    pub machine_name: &'static str,
    pub friendly_name: &'static str,
    pub fields: &'static [(&'static str, &'static str)],
}

const REPRESENTATIVE_FIELDS: &[(&str, &str)] = &[
    ("first_name", "First Name"),
    ("last_name", "Last Name"),
    ("email", "Email"),
    ("phone_number", "Phone Number"),
    ("business_title", "Business Title"),
    ("job_position", "Job Position"),
];

/// The end-user types of [`END_USER_TYPES`], in that order, as the catalogue shows them.
pub const END_USER_TYPE_CATALOGUE: &[EndUserType] = &[
    EndUserType {
        machine_name: "customer_profile_business_information",
        friendly_name: "Business Information for a Customer Profile",
        fields: &[
            ("business_name", "Business Name"),
            ("business_identity", "Business Identity"),
            ("business_type", "Business Type"),
            ("business_industry", "Business Industry"),
            (
                "business_registration_identifier",
                "Business Registration Identifier",
            ),
            (
                "business_registration_number",
                "Business Registration Number",
            ),
            (
                "business_regions_of_operation",
                "Business Regions of Operation",
            ),
            ("website_url", "Website URL"),
            ("social_media_profile_urls", "Social Media Profile URLs"),
        ],
    },
    EndUserType {
        machine_name: "authorized_representative_1",
        friendly_name: "Authorized Representative one",
        fields: REPRESENTATIVE_FIELDS,
    },
    EndUserType {
        machine_name: "authorized_representative_2",
        friendly_name: "Authorized Representative two",
        fields: REPRESENTATIVE_FIELDS,
    },
];

/// The namespace of end-user type SIDs: each is `OY` and the UUID v5 of its machine
/// name in it, the same on every installation.
const END_USER_TYPE_NAMESPACE: uuid::Uuid =
    uuid::Uuid::from_u128(0x6f79_2d65_6e64_2d75_7365_722d_7479_7065);

impl EndUserType {
    /// Its SID (`OY…`).
    pub fn sid(&self) -> Sid {
        let id = uuid::Uuid::new_v5(&END_USER_TYPE_NAMESPACE, self.machine_name.as_bytes());
        Sid::from_parts(*b"OY", id.as_u128())
    }

    /// The type whose SID is `sid`.
    pub fn by_sid(sid: Sid) -> Option<&'static EndUserType> {
        END_USER_TYPE_CATALOGUE.iter().find(|t| t.sid() == sid)
    }
}

/// Why a field value is not one Twilio would take.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ValueError {
    #[error("Type must be one of {types}, got {0:?}", types = END_USER_TYPES.join(", "))]
    EndUserType(String),
    #[error("Email {0:?} is not an email address")]
    Email(String),
    #[error("Type must be one of {types}, got {0:?}", types = document_type_names())]
    DocumentType(String),
    #[error(
        "Status must be APPROVED, REJECTED or PROVISIONALLY_APPROVED (set ValidUntil to expire a document), got {0:?}"
    )]
    DocumentStatus(String),
}

fn document_type_names() -> String {
    let names: Vec<&str> = (super::documents::DOCUMENT_TYPES.iter())
        .map(|t| t.machine_name)
        .collect();
    names.join(", ")
}

pub fn check_document_type(t: &str) -> Result<(), ValueError> {
    match super::documents::DocumentType::by_name(t) {
        Some(_) => Ok(()),
        None => Err(ValueError::DocumentType(t.to_owned())),
    }
}

pub fn check_end_user_type(t: &str) -> Result<(), ValueError> {
    if END_USER_TYPES.contains(&t) {
        Ok(())
    } else {
        Err(ValueError::EndUserType(t.to_owned()))
    }
}

/// An address of the form `local@domain`: one `@`, a non-empty local part, a domain of
/// dot-separated labels (letters, digits, hyphens) with at least one dot, no spaces, and
/// at most 254 characters (RFC 5321 section 4.5.3.1.3).
pub fn check_email(email: &str) -> Result<(), ValueError> {
    let bad = || ValueError::Email(email.to_owned());
    let (local, domain) = email.split_once('@').ok_or_else(bad)?;
    let local_ok = !local.is_empty()
        && local.len() <= 64
        && local.bytes().all(|b| {
            b.is_ascii_graphic()
                && !matches!(
                    b,
                    b'@' | b'"'
                        | b'('
                        | b')'
                        | b','
                        | b':'
                        | b';'
                        | b'<'
                        | b'>'
                        | b'['
                        | b'\\'
                        | b']'
                )
        });
    let label_ok = |l: &str| {
        !l.is_empty()
            && l.len() <= 63
            && !l.starts_with('-')
            && !l.ends_with('-')
            && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
    };
    let domain_ok = domain.contains('.') && domain.split('.').all(label_ok);
    if email.len() <= 254 && local_ok && domain_ok {
        Ok(())
    } else {
        Err(bad())
    }
}

#[cfg(test)]
mod tests;
