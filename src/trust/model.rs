//! The Trust Hub records: accounts, phone numbers, bundles (customer profiles and trust
//! products), end users, assignments and evaluations, with Twilio's field names, and
//! [`TrustData`], the trust-data file's shape.

use std::fmt;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::Sid;
use super::documents::{DocumentFile, SupportingDocument};
use super::trunking::Trunking;

/// Everything the trust index is built from. Each list may be omitted.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrustData {
    #[serde(default)]
    pub accounts: Vec<Account>,
    #[serde(default)]
    pub phone_numbers: Vec<PhoneNumber>,
    #[serde(default)]
    pub customer_profiles: Vec<CustomerProfile>,
    #[serde(default)]
    pub trust_products: Vec<TrustProduct>,
    #[serde(default)]
    pub end_users: Vec<EndUser>,
    #[serde(default)]
    pub entity_assignments: Vec<EntityAssignment>,
    #[serde(default)]
    pub channel_endpoint_assignments: Vec<ChannelEndpointAssignment>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub supporting_documents: Vec<SupportingDocument>,
    /// The documents' uploaded files.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub document_files: Vec<DocumentFile>,
    /// Trunks and their access lists.
    #[serde(default, skip_serializing_if = "Trunking::is_empty")]
    pub trunking: Trunking,
}

/// An account (`AC…`). A sub-account names its parent; Twilio calls that field
/// `owner_account_sid` and sets it to the account's own SID on a top-level account.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Account {
    pub sid: Sid,
    #[serde(default, alias = "owner_account_sid")]
    pub parent_sid: Option<Sid>,
    #[serde(default)]
    pub friendly_name: Option<String>,
    #[serde(default)]
    pub auth_token: Option<String>,
    #[serde(default)]
    pub status: AccountStatus,
    #[serde(default, rename = "type")]
    pub account_type: Option<String>,
    #[serde(default)]
    pub date_created: Option<String>,
    #[serde(default)]
    pub date_updated: Option<String>,
    #[serde(default)]
    pub uri: Option<String>,
    #[serde(default)]
    pub subresource_uris: Option<serde_json::Value>,
    /// Why the operator suspended it (callsign's own field).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub suspension_cause: Option<SuspensionCause>,
    /// A second auth token, accepted beside the first until it is promoted or deleted
    /// (Twilio's Accounts v1 `AuthTokens/Secondary`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secondary_auth_token: Option<String>,
}

/// Why an account was suspended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SuspensionCause {
    AccountTakeover,
    ExposedCredentials,
    Fraud,
    Other,
}

impl SuspensionCause {
    pub const ALL: [SuspensionCause; 4] = [
        SuspensionCause::AccountTakeover,
        SuspensionCause::ExposedCredentials,
        SuspensionCause::Fraud,
        SuspensionCause::Other,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            SuspensionCause::AccountTakeover => "account_takeover",
            SuspensionCause::ExposedCredentials => "exposed_credentials",
            SuspensionCause::Fraud => "fraud",
            SuspensionCause::Other => "other",
        }
    }

    pub fn parse(s: &str) -> Option<SuspensionCause> {
        SuspensionCause::ALL.into_iter().find(|c| c.as_str() == s)
    }
}

impl Account {
    /// The parent account, if this is a sub-account (a self-reference means top-level).
    pub fn parent(&self) -> Option<Sid> {
        self.parent_sid.filter(|p| *p != self.sid)
    }
}

impl fmt::Debug for Account {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Account")
            .field("sid", &self.sid)
            .field("parent_sid", &self.parent_sid)
            .field("friendly_name", &self.friendly_name)
            .field(
                "auth_token",
                &self.auth_token.as_ref().map(|_| "<redacted>"),
            )
            .field("status", &self.status)
            .field("suspension_cause", &self.suspension_cause)
            .field(
                "secondary_auth_token",
                &self.secondary_auth_token.as_ref().map(|_| "<redacted>"),
            )
            .finish_non_exhaustive()
    }
}

/// Twilio's account states. A call of an account that is not active, or of a sub-account
/// of one, is attested C (`c_account_suspended`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AccountStatus {
    #[default]
    Active,
    Suspended,
    Closed,
}

impl AccountStatus {
    pub const ALL: [AccountStatus; 3] = [
        AccountStatus::Active,
        AccountStatus::Suspended,
        AccountStatus::Closed,
    ];

    /// Twilio's name: `active`, `suspended`, `closed`.
    pub fn as_str(self) -> &'static str {
        match self {
            AccountStatus::Active => "active",
            AccountStatus::Suspended => "suspended",
            AccountStatus::Closed => "closed",
        }
    }

    /// The status named `s`, if any.
    pub fn parse(s: &str) -> Option<AccountStatus> {
        AccountStatus::ALL.into_iter().find(|a| a.as_str() == s)
    }
}

/// One of the operator's own numbers (`PN…`), owned by an account.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PhoneNumber {
    pub sid: Sid,
    pub account_sid: Sid,
    /// E.164 with a leading `+`.
    pub phone_number: String,
    #[serde(default)]
    pub friendly_name: Option<String>,
    #[serde(default)]
    pub date_created: Option<String>,
    #[serde(default)]
    pub date_updated: Option<String>,
    #[serde(default)]
    pub uri: Option<String>,
}

/// A Trust Hub bundle (`BU…`): a customer profile or a trust product, told apart by policy.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Bundle {
    pub sid: Sid,
    pub account_sid: Sid,
    pub policy_sid: Sid,
    pub status: BundleStatus,
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub valid_until: Option<OffsetDateTime>,
    #[serde(default)]
    pub friendly_name: Option<String>,
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    pub status_callback: Option<String>,
    #[serde(default)]
    pub errors: Option<serde_json::Value>,
    #[serde(default)]
    pub date_created: Option<String>,
    #[serde(default)]
    pub date_updated: Option<String>,
    #[serde(default)]
    pub url: Option<String>,
    #[serde(default)]
    pub links: Option<serde_json::Value>,
}

/// A customer profile: Primary or Secondary policy.
pub type CustomerProfile = Bundle;
/// A trust product: SHAKEN/STIR policy.
pub type TrustProduct = Bundle;

/// Review state of a bundle.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum BundleStatus {
    Draft,
    PendingReview,
    InReview,
    TwilioApproved,
    TwilioRejected,
}

impl BundleStatus {
    pub const ALL: [BundleStatus; 5] = [
        BundleStatus::Draft,
        BundleStatus::PendingReview,
        BundleStatus::InReview,
        BundleStatus::TwilioApproved,
        BundleStatus::TwilioRejected,
    ];

    /// Twilio's name, e.g. `twilio-approved`.
    pub fn as_str(self) -> &'static str {
        match self {
            BundleStatus::Draft => "draft",
            BundleStatus::PendingReview => "pending-review",
            BundleStatus::InReview => "in-review",
            BundleStatus::TwilioApproved => "twilio-approved",
            BundleStatus::TwilioRejected => "twilio-rejected",
        }
    }

    /// The status named `s`, if any.
    pub fn parse(s: &str) -> Option<BundleStatus> {
        BundleStatus::ALL.into_iter().find(|b| b.as_str() == s)
    }
}

impl fmt::Display for BundleStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The two kinds of bundle: customer profiles (Primary and Secondary policies) and trust
/// products (the SHAKEN/STIR policy). They share everything but their paths and names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BundleKind {
    CustomerProfile,
    TrustProduct,
}

impl BundleKind {
    /// What a bundle of this kind is called in messages.
    pub fn name(self) -> &'static str {
        match self {
            BundleKind::CustomerProfile => "customer profile",
            BundleKind::TrustProduct => "trust product",
        }
    }

    /// Whether a bundle with `policy` is of this kind.
    pub fn holds(self, policy: Policy) -> bool {
        policy.kind() == self
    }
}

/// The Trust Hub policies callsign knows, by Twilio's policy SIDs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Policy {
    PrimaryCustomerProfile,
    SecondaryCustomerProfile,
    ShakenStir,
}

impl Policy {
    pub const ALL: &'static [Policy] = &[
        Policy::PrimaryCustomerProfile,
        Policy::SecondaryCustomerProfile,
        Policy::ShakenStir,
    ];

    /// Twilio's SID for this policy.
    pub fn sid_str(self) -> &'static str {
        match self {
            Policy::PrimaryCustomerProfile => "RN6433641899984f951173ef1738c3bdd0",
            Policy::SecondaryCustomerProfile => "RNdfbf3fae0e1107f8aded0e7cead80bf5",
            Policy::ShakenStir => "RN7a97559effdf62d00f4298208492a5ea",
        }
    }

    /// Twilio's SID for this policy, as a [`Sid`].
    pub fn sid(self) -> Sid {
        let value = match self {
            Policy::PrimaryCustomerProfile => 0x6433641899984f951173ef1738c3bdd0,
            Policy::SecondaryCustomerProfile => 0xdfbf3fae0e1107f8aded0e7cead80bf5,
            Policy::ShakenStir => 0x7a97559effdf62d00f4298208492a5ea,
        };
        Sid::from_parts(*b"RN", value)
    }

    /// The policy with this SID, if callsign knows it.
    pub fn from_sid(sid: Sid) -> Option<Policy> {
        Policy::ALL.iter().copied().find(|p| p.sid() == sid)
    }

    /// Whether bundles with this policy are customer profiles (not trust products).
    pub fn is_customer_profile(self) -> bool {
        self.kind() == BundleKind::CustomerProfile
    }

    /// The kind of bundle this policy makes.
    pub fn kind(self) -> BundleKind {
        match self {
            Policy::PrimaryCustomerProfile | Policy::SecondaryCustomerProfile => {
                BundleKind::CustomerProfile
            }
            Policy::ShakenStir => BundleKind::TrustProduct,
        }
    }
}

impl fmt::Display for Policy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Policy::PrimaryCustomerProfile => "Primary Customer Profile",
            Policy::SecondaryCustomerProfile => "Secondary Customer Profile",
            Policy::ShakenStir => "SHAKEN/STIR Trust Product",
        })
    }
}

/// A business or person (`IT…`) attached to bundles.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EndUser {
    pub sid: Sid,
    pub account_sid: Sid,
    #[serde(default)]
    pub friendly_name: Option<String>,
    /// e.g. `customer_profile_business_information`, `authorized_representative_1`.
    #[serde(rename = "type")]
    pub end_user_type: String,
    #[serde(default)]
    pub attributes: serde_json::Value,
    #[serde(default)]
    pub date_created: Option<String>,
    #[serde(default)]
    pub date_updated: Option<String>,
    #[serde(default)]
    pub url: Option<String>,
}

/// Links a bundle (`bundle_sid`) to an object: trust product to customer profile,
/// secondary to primary profile, or bundle to end user / supporting document.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EntityAssignment {
    pub sid: Sid,
    #[serde(alias = "customer_profile_sid", alias = "trust_product_sid")]
    pub bundle_sid: Sid,
    pub object_sid: Sid,
    #[serde(default)]
    pub account_sid: Option<Sid>,
    #[serde(default)]
    pub date_created: Option<String>,
    #[serde(default)]
    pub url: Option<String>,
}

/// Puts a phone number (`channel_endpoint_sid`, a `PN…`) on a bundle.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChannelEndpointAssignment {
    pub sid: Sid,
    #[serde(alias = "customer_profile_sid", alias = "trust_product_sid")]
    pub bundle_sid: Sid,
    pub channel_endpoint_sid: Sid,
    /// Only `phone-number` is supported.
    pub channel_endpoint_type: String,
    #[serde(default)]
    pub account_sid: Option<Sid>,
    #[serde(default)]
    pub date_created: Option<String>,
    #[serde(default)]
    pub url: Option<String>,
}

/// A stored evaluation (`EL…`) of a bundle against its policy.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Evaluation {
    pub sid: Sid,
    pub account_sid: Sid,
    pub policy_sid: Sid,
    pub bundle_sid: Sid,
    /// `compliant` or `noncompliant`.
    pub status: String,
    pub results: serde_json::Value,
    pub date_created: String,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::trust::TrustError;

    const AC: &str = "AC00000000000000000000000000000001";

    #[test]
    fn twilio_owner_account_sid_is_the_parent_and_self_means_top_level() {
        let json = format!(r#"{{"sid":"{AC}","owner_account_sid":"{AC}","type":"Full"}}"#);
        let account: Account = serde_json::from_str(&json).unwrap();
        assert_eq!(account.parent_sid.map(|s| s.to_string()), Some(AC.into()));
        assert_eq!(account.parent(), None);
        assert_eq!(account.status, AccountStatus::Active);
    }

    #[test]
    fn auth_token_is_not_printed() {
        let json = format!(r#"{{"sid":"{AC}","auth_token":"s3cret"}}"#);
        let account: Account = serde_json::from_str(&json).unwrap();
        assert!(!format!("{account:?}").contains("s3cret"));
    }

    #[test]
    fn bundle_status_and_valid_until_parse() {
        let json = r#"{"sid":"BU00000000000000000000000000000001","account_sid":"AC00000000000000000000000000000001",
            "policy_sid":"RN6433641899984f951173ef1738c3bdd0","status":"pending-review",
            "valid_until":"2030-01-01T00:00:00Z","links":{"entity_assignments":"x"}}"#;
        let bundle: Bundle = serde_json::from_str(json).unwrap();
        assert_eq!(bundle.status, BundleStatus::PendingReview);
        assert_eq!(
            bundle.valid_until.map(OffsetDateTime::unix_timestamp),
            Some(1_893_456_000)
        );
        assert_eq!(
            Policy::from_sid(bundle.policy_sid),
            Some(Policy::PrimaryCustomerProfile)
        );
    }

    #[test]
    fn policies_round_trip_through_their_sids() {
        for p in Policy::ALL {
            let sid = Sid::parse_any(p.sid_str()).unwrap();
            assert_eq!(sid, p.sid());
            assert_eq!(Policy::from_sid(sid), Some(*p));
        }
        assert!(Policy::PrimaryCustomerProfile.is_customer_profile());
        assert!(!Policy::ShakenStir.is_customer_profile());
    }

    #[test]
    fn assignment_aliases_name_the_bundle() {
        let json = r#"{"sid":"RA00000000000000000000000000000001",
            "trust_product_sid":"BU00000000000000000000000000000002",
            "channel_endpoint_sid":"PN00000000000000000000000000000003",
            "channel_endpoint_type":"phone-number"}"#;
        let a: ChannelEndpointAssignment = serde_json::from_str(json).unwrap();
        assert_eq!(
            a.bundle_sid.to_string(),
            "BU00000000000000000000000000000002"
        );
    }

    #[test]
    fn unknown_fields_are_rejected() {
        let json = format!(r#"{{"sid":"{AC}","colour":"blue"}}"#);
        assert!(serde_json::from_str::<Account>(&json).is_err());
        assert!(matches!(
            TrustData::from_json(r#"{"numbers":[]}"#),
            Err(TrustError::Json(m)) if m.contains("numbers")
        ));
    }
}
