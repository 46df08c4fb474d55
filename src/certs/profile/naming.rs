//! The rules on a certificate's subject: the CN, O and C of ATIS-1000080 v005 section
//! 6.4.1, and the serialNumber attribute of the US SHAKEN Certificate Policy section 3.1.

use x509_parser::der_parser::Oid;
use x509_parser::oid_registry::{
    OID_X509_COMMON_NAME, OID_X509_COUNTRY_NAME, OID_X509_ORGANIZATION_NAME, OID_X509_SERIALNUMBER,
};
use x509_parser::x509::X509Name;

use super::extensions::{CP_1_3, CP_1_4};
use super::{CertRole, Violation, violation};

/// What the subject rules need to know besides the name.
pub(super) struct Subject<'s> {
    pub(super) role: CertRole,
    /// The leaf's single SPC, when its TNAuthList holds exactly that.
    pub(super) spc: Option<&'s str>,
    /// A delegate leaf (RFC 9060): its CN names no SPC.
    pub(super) delegated: bool,
    /// The certificate's single certificate policy OID, if it has one.
    pub(super) policy: Option<&'s str>,
}

/// `subject` and `subject-serial-number`.
///
/// ATIS-1000080 v005 6.4.1: "The DN shall contain a Common Name (CN=) attribute, an
/// Organization (O=) attribute, and a Country (C=) attribute. The Country (C=) attribute
/// shall contain an ISO 3166-1 alpha-2 country code. For root and intermediate
/// certificates, the Common Name attribute shall include the text string "SHAKEN". For
/// root certificates, the Common Name attribute shall include the text string `ROOT`
/// (case insensitive). The Common Name attribute of an end-entity certificate shall
/// contain the text string `SHAKEN`, followed by a single space, followed by the SPC
/// value identified in the TNAuthList". Each of CN, O and C must appear exactly once.
///
/// US SHAKEN CP 1.4 section 3.1: the C "shall be "US" for all certificates produced
/// under this policy"; the serialNumber attribute "may" be included. CP 1.3 section 3.1:
/// "The serialNumber attribute shall be included along with the CN", so a leaf issued
/// under CP 1.3 must have one.
pub(super) fn check_subject(name: &X509Name<'_>, subject: &Subject<'_>, v: &mut Vec<Violation>) {
    let values = |oid: &Oid<'_>| -> Vec<String> {
        name.iter_attributes()
            .filter(|a| a.attr_type() == oid)
            .map(|a| a.as_str().unwrap_or_default().to_owned())
            .collect()
    };
    let mut single = |oid: &Oid<'_>, label: &str| match values(oid).as_slice() {
        [value] if !value.is_empty() => Some(value.clone()),
        [_] => {
            v.push(violation("subject", format!("subject {label} is empty")));
            None
        }
        [] => {
            v.push(violation("subject", format!("subject has no {label}")));
            None
        }
        many => {
            v.push(violation(
                "subject",
                format!(
                    "subject has {} {label} attributes; exactly one is required",
                    many.len()
                ),
            ));
            None
        }
    };
    let country = single(&OID_X509_COUNTRY_NAME, "C");
    let _organization = single(&OID_X509_ORGANIZATION_NAME, "O");
    let common_name = single(&OID_X509_COMMON_NAME, "CN");

    if let Some(c) = country {
        if c.len() != 2 || !c.bytes().all(|b| b.is_ascii_uppercase()) {
            v.push(violation(
                "subject",
                format!("C is {c:?}; an ISO 3166-1 alpha-2 country code is required"),
            ));
        } else if subject.policy == Some(CP_1_4) && c != "US" {
            v.push(violation(
                "subject",
                format!("C is {c:?}; the US SHAKEN CP 1.4 requires \"US\""),
            ));
        }
    }
    if let Some(cn) = common_name {
        check_common_name(&cn, subject, v);
    }

    let serial_numbers = values(&OID_X509_SERIALNUMBER);
    let rule = "subject-serial-number";
    match serial_numbers.as_slice() {
        [] if subject.role == CertRole::Leaf && subject.policy == Some(CP_1_3) => {
            v.push(violation(
                rule,
                "the US SHAKEN CP 1.3 requires a serialNumber attribute beside the CN",
            ))
        }
        [] => {}
        [value] if value.is_empty() => v.push(violation(rule, "serialNumber is empty")),
        [_] => {}
        many => v.push(violation(
            rule,
            format!("subject has {} serialNumber attributes", many.len()),
        )),
    }
}

fn check_common_name(cn: &str, subject: &Subject<'_>, v: &mut Vec<Violation>) {
    let has_word = |word: &str, ignore_case: bool| {
        cn.split(|c: char| !c.is_ascii_alphanumeric())
            .any(|w| w == word || (ignore_case && w.eq_ignore_ascii_case(word)))
    };
    let leaf_spc = match (subject.role, subject.spc) {
        (CertRole::Leaf, Some(spc)) if !subject.delegated => Some(spc),
        _ => None,
    };
    let problem = if let Some(spc) = leaf_spc {
        (!contains_phrase(cn, &format!("SHAKEN {spc}"))).then(|| {
            format!("CN is {cn:?}; it must contain \"SHAKEN {spc}\" for the TNAuthList SPC")
        })
    } else if !has_word("SHAKEN", false) {
        Some(format!("CN is {cn:?}; it must include \"SHAKEN\""))
    } else if subject.role == CertRole::Root && !has_word("ROOT", true) {
        Some(format!("CN is {cn:?}; a root's CN must include \"ROOT\""))
    } else {
        None
    };
    if let Some(problem) = problem {
        v.push(violation("subject", problem));
    }
}

/// Whether `phrase` occurs in `text` between word boundaries (not inside a longer word
/// or code: `SHAKEN 1234` is not in `SHAKEN 12345`).
fn contains_phrase(text: &str, phrase: &str) -> bool {
    text.match_indices(phrase).any(|(at, _)| {
        let before = text.get(..at).and_then(|s| s.chars().next_back());
        let after = text.get(at + phrase.len()..).and_then(|s| s.chars().next());
        before.is_none_or(|c| !c.is_alphanumeric()) && after.is_none_or(|c| !c.is_alphanumeric())
    })
}
