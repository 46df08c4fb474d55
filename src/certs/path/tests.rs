use rcgen::{BasicConstraints, IsCa, KeyPair, KeyUsagePurpose, PKCS_ECDSA_P256_SHA256};

use super::*;
use crate::certs::dev::tests::{NOW, pki};
use crate::certs::{dev, load_chain_pem};

const LEAF: &str = "serialNumber=1234, CN=SHAKEN 1234, O=callsign dev, C=US";
const INTERMEDIATE: &str = "CN=callsign dev SHAKEN intermediate, O=callsign dev, C=US";
const ROOT: &str = "CN=callsign dev SHAKEN root, O=callsign dev, C=US";

fn anchors_of(pem: &str) -> TrustAnchors {
    TrustAnchors::from_pem(pem).unwrap()
}

/// A certificate issued for the tests' odd paths.
struct Issued {
    der: Vec<u8>,
    pem: String,
    key_pem: String,
}

/// Issues a certificate `CN=<cn>` signed by `issuer_pem` (with `issuer_key_pem`).
fn issue(
    issuer_pem: &str,
    issuer_key_pem: &str,
    cn: &str,
    is_ca: IsCa,
    key_usages: Vec<KeyUsagePurpose>,
) -> Issued {
    let issuer_key = KeyPair::from_pem(issuer_key_pem).unwrap();
    let issuer = rcgen::Issuer::from_ca_cert_pem(issuer_pem, issuer_key).unwrap();
    let key = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256).unwrap();
    let mut params = rcgen::CertificateParams::default();
    params.distinguished_name = rcgen::DistinguishedName::new();
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, cn);
    params.is_ca = is_ca;
    params.key_usages = key_usages;
    let cert = params.signed_by(&key, &issuer).unwrap();
    Issued {
        der: cert.der().to_vec(),
        pem: cert.pem(),
        key_pem: key.serialize_pem(),
    }
}

fn ca(issuer_pem: &str, issuer_key_pem: &str, cn: &str) -> Issued {
    let usages = vec![KeyUsagePurpose::KeyCertSign];
    let is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    issue(issuer_pem, issuer_key_pem, cn, is_ca, usages)
}

fn end_entity(issuer: &Issued, cn: &str) -> Issued {
    let usages = vec![KeyUsagePurpose::DigitalSignature];
    issue(&issuer.pem, &issuer.key_pem, cn, IsCa::ExplicitNoCa, usages)
}

#[test]
fn dev_chain_builds_to_the_dev_root() {
    let pki = pki();
    let chain = load_chain_pem(&pki.chain_pem()).unwrap();
    let path = build_path(&chain, &anchors_of(&pki.root_pem)).unwrap();
    assert_eq!(path.certs.len(), 2);
    assert_eq!(path.certs[0].subject, LEAF);
    assert_eq!(path.certs[0].issuer_der, pki.intermediate_der);
    assert_eq!(path.certs[1].issuer_der, pki.root_der);
    assert_eq!(
        path.certs[0].crl_points[0].url,
        "http://127.0.0.1:8080/certs/sti-pa.crl"
    );
    assert_eq!(path.anchor_subject, ROOT);
    assert_eq!(path.check_validity(NOW), Ok(()));
    assert_eq!(
        path.check_validity(NOW + 800 * 86_400),
        Err(CertError::PathCertExpired {
            subject: LEAF.into(),
            not_after: path.certs[0].not_after
        })
    );
    assert_eq!(
        path.check_validity(NOW - 7200),
        Err(CertError::PathCertNotYetValid {
            subject: LEAF.into(),
            not_before: path.certs[0].not_before
        })
    );
    assert_eq!(path.not_after(false), path.certs[0].not_after);
}

#[test]
fn intermediates_in_any_order_and_an_included_root() {
    let pki = pki();
    let chain = vec![
        pki.leaf_der.clone(),
        pki.root_der.clone(),
        pki.intermediate_der.clone(),
    ];
    let path = build_path(&chain, &anchors_of(&pki.root_pem)).unwrap();
    assert_eq!(path.certs.len(), 2);
    // The intermediate itself may be the anchor.
    let path = build_path(&chain, &anchors_of(&pki.intermediate_pem)).unwrap();
    assert_eq!(path.certs.len(), 1);
}

#[test]
fn another_root_is_untrusted() {
    let pki = pki();
    let other = dev::generate("5678", NOW).unwrap();
    let chain = load_chain_pem(&pki.chain_pem()).unwrap();
    // Both dev roots have the same name, so the name matches but the key does not.
    assert_eq!(
        build_path(&chain, &anchors_of(&other.root_pem)),
        Err(CertError::AnchorSignatureMismatch {
            subject: INTERMEDIATE.into()
        })
    );
    // An anchor with another name: no issuer at all.
    let no_issuer = Err(CertError::NoIssuer {
        subject: INTERMEDIATE.into(),
        issuer: ROOT.into(),
    });
    assert_eq!(build_path(&chain, &anchors_of(&other.leaf_pem)), no_issuer);
    assert_eq!(build_path(&chain, &TrustAnchors::default()), no_issuer);
    let mut with_root = chain.clone();
    with_root.push(pki.root_der.clone());
    assert_eq!(
        build_path(&with_root, &anchors_of(&other.root_pem)),
        Err(CertError::UntrustedRoot(ROOT.into()))
    );
    assert_eq!(
        build_path(&[], &anchors_of(&pki.root_pem)),
        Err(CertError::NoCertificates)
    );
}

#[test]
fn only_the_leafs_own_intermediate_issues_it() {
    let pki = pki();
    let other = dev::generate("1234", NOW).unwrap();
    // An intermediate with the same name but another key; the leaf itself, which is not
    // self-signed.
    for second in [&other.intermediate_der, &pki.leaf_der] {
        let chain = vec![pki.leaf_der.clone(), second.clone()];
        assert_eq!(
            build_path(&chain, &anchors_of(&pki.root_pem)),
            Err(CertError::NoIssuer {
                subject: LEAF.into(),
                issuer: INTERMEDIATE.into()
            })
        );
    }
}

#[test]
fn a_leaf_cannot_act_as_a_ca() {
    let pki = pki();
    let leaf = Issued {
        der: pki.leaf_der.clone(),
        pem: pki.leaf_pem.clone(),
        key_pem: pki.leaf_key_pem.clone(),
    };
    let below = end_entity(&leaf, "below the leaf");
    let chain = vec![below.der, leaf.der, pki.intermediate_der.clone()];
    assert_eq!(
        build_path(&chain, &anchors_of(&pki.root_pem)),
        Err(CertError::NotACa {
            subject: LEAF.into()
        })
    );
}

#[test]
fn the_intermediates_path_length_is_enforced() {
    let pki = pki();
    // The dev intermediate has pathLenConstraint 0: no CA may sit below it.
    let sub = ca(&pki.intermediate_pem, &pki.intermediate_key_pem, "sub");
    let leaf = end_entity(&sub, "leaf");
    let chain = vec![leaf.der, sub.der, pki.intermediate_der.clone()];
    assert_eq!(
        build_path(&chain, &anchors_of(&pki.root_pem)),
        Err(CertError::PathLenExceeded {
            subject: INTERMEDIATE.into(),
            limit: 0,
            below: 1
        })
    );
}

#[test]
fn a_ca_without_key_cert_sign_may_not_issue() {
    let pki = pki();
    let is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let usages = vec![KeyUsagePurpose::DigitalSignature];
    let signer = issue(&pki.root_pem, &pki.root_key_pem, "signer", is_ca, usages);
    let leaf = end_entity(&signer, "leaf");
    assert_eq!(
        build_path(&[leaf.der, signer.der], &anchors_of(&pki.root_pem)),
        Err(CertError::NoKeyCertSign {
            subject: "CN=signer".into()
        })
    );
}

#[test]
fn a_path_longer_than_the_limit_is_refused() {
    let pki = pki();
    let mut cas = vec![ca(&pki.root_pem, &pki.root_key_pem, "ca 1")];
    for n in 2..=5 {
        let parent = cas.last().unwrap();
        let next = ca(&parent.pem, &parent.key_pem, &format!("ca {n}"));
        cas.push(next);
    }
    let leaf = end_entity(cas.last().unwrap(), "leaf");
    let mut chain = vec![leaf.der];
    chain.extend(cas.iter().rev().map(|c| c.der.clone()));
    assert_eq!(
        build_path(&chain, &anchors_of(&pki.root_pem)),
        Err(CertError::PathTooLong { max: MAX_DEPTH })
    );
    // One CA fewer fits.
    let mut shorter = vec![end_entity(&cas[3], "leaf").der];
    shorter.extend(cas[..4].iter().rev().map(|c| c.der.clone()));
    let path = build_path(&shorter, &anchors_of(&pki.root_pem)).unwrap();
    assert_eq!(path.certs.len(), 5);
}

#[test]
fn revocation_by_the_indirect_crl() {
    let pki = pki();
    let chain = load_chain_pem(&pki.chain_pem()).unwrap();
    let path = build_path(&chain, &anchors_of(&pki.root_pem)).unwrap();
    let (leaf, intermediate) = (&path.certs[0], &path.certs[1]);
    let point = &leaf.crl_points().unwrap()[0];
    let empty = Crl::parse(pki.crl_pem.as_bytes()).unwrap();
    assert_eq!(leaf.check_revocation(point, &empty, NOW), Ok(()));
    assert_eq!(intermediate.check_revocation(point, &empty, NOW), Ok(()));
    // Out of date, and not yet issued.
    let not_current = Err(CertError::CrlNotCurrent {
        subject: LEAF.into(),
    });
    assert_eq!(
        leaf.check_revocation(point, &empty, NOW + 1000 * 86_400),
        not_current
    );
    assert_eq!(
        leaf.check_revocation(point, &empty, NOW - 7200),
        not_current
    );
    // The leaf revoked; the intermediate, whose issuer differs, is not.
    let revoking = Crl::parse(&pki.issue_crl(&[&pki.leaf_der], NOW).unwrap()).unwrap();
    assert_eq!(
        leaf.check_revocation(point, &revoking, NOW),
        Err(CertError::Revoked(LEAF.into()))
    );
    assert_eq!(intermediate.check_revocation(point, &revoking, NOW), Ok(()));
    // A revoked intermediate, named on the same CRL under the root.
    let revoking = Crl::parse(&pki.issue_crl(&[&pki.intermediate_der], NOW).unwrap()).unwrap();
    assert_eq!(
        intermediate.check_revocation(point, &revoking, NOW),
        Err(CertError::Revoked(INTERMEDIATE.into()))
    );
    assert_eq!(leaf.check_revocation(point, &revoking, NOW), Ok(()));
}

#[test]
fn a_point_with_a_crl_issuer_takes_only_an_indirect_crl_from_it() {
    let pki = pki();
    let chain = load_chain_pem(&pki.chain_pem()).unwrap();
    let path = build_path(&chain, &anchors_of(&pki.root_pem)).unwrap();
    let leaf = &path.certs[0];
    let point = leaf.crl_points().unwrap()[0].clone();
    // A CRL from the certificate's own issuer is not the one the point names.
    let direct = dev::issue_direct_crl(&pki.intermediate_pem, &pki.intermediate_key_pem, &[], NOW);
    let direct = Crl::parse(&direct.unwrap()).unwrap();
    assert_eq!(
        leaf.check_revocation(&point, &direct, NOW),
        Err(CertError::CrlNotFromIssuer {
            subject: LEAF.into()
        })
    );
    // A direct CRL under the signer's name (no indirectCRL flag) cannot revoke others'
    // certificates: RFC 5280 6.3.3 (b)(2)(iii).
    let not_indirect =
        dev::issue_direct_crl(&pki.crl_signer_pem, &pki.crl_signer_key_pem, &[], NOW);
    let not_indirect = Crl::parse(&not_indirect.unwrap()).unwrap();
    assert_eq!(
        leaf.check_revocation(&point, &not_indirect, NOW),
        Err(CertError::CrlNotIndirect {
            subject: LEAF.into()
        })
    );
    // Without a cRLIssuer, the certificate's issuer signs the CRL.
    let own = CrlPoint {
        url: point.url.clone(),
        crl_issuer: None,
    };
    assert_eq!(own.signer_name(leaf), leaf.issuer_name_der());
    assert_eq!(leaf.check_revocation(&own, &direct, NOW), Ok(()));
}

#[test]
fn every_distribution_point_is_kept_in_order() {
    let pki = pki();
    let chain = load_chain_pem(&pki.chain_pem()).unwrap();
    let path = build_path(&chain, &anchors_of(&pki.root_pem)).unwrap();
    assert_eq!(
        path.certs[1].crl_points().map(|p| p[0].url.clone()),
        Ok("http://127.0.0.1:8080/certs/sti-pa.crl".to_string())
    );
    let mut without = path.certs[0].clone();
    without.crl_points.clear();
    assert_eq!(
        without.crl_points(),
        Err(CertError::NoCrlDistributionPoint {
            subject: LEAF.into()
        })
    );
}

/// A self-signed certificate `CN=<cn>`: a CA or not.
fn self_signed(cn: &str, is_ca: IsCa) -> Vec<u8> {
    let key = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256).unwrap();
    let mut params = rcgen::CertificateParams::default();
    params.distinguished_name = rcgen::DistinguishedName::new();
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, cn);
    params.is_ca = is_ca;
    params.self_signed(&key).unwrap().der().to_vec()
}

#[test]
fn a_root_from_a_list_is_a_self_signed_ca_valid_now() {
    let pki = pki();
    assert_eq!(check_root(&pki.root_der, NOW), Ok(ROOT.to_owned()));
    let ca = IsCa::Ca(BasicConstraints::Unconstrained);
    assert_eq!(
        check_root(&self_signed("Other CA", ca), NOW).as_deref(),
        Ok("CN=Other CA")
    );

    // An intermediate: a CA, but issued by the root.
    assert_eq!(
        check_root(&pki.intermediate_der, NOW),
        Err(CertError::RootNotSelfSigned {
            subject: INTERMEDIATE.into(),
            issuer: ROOT.into()
        })
    );
    // Self-signed, but an end entity.
    assert_eq!(
        check_root(&self_signed("Not a CA", IsCa::ExplicitNoCa), NOW),
        Err(CertError::RootNotACa {
            subject: "CN=Not a CA".into()
        })
    );
    // Its names say self-signed, its signature does not verify.
    let mut forged = pki.root_der.clone();
    *forged.last_mut().unwrap() ^= 0x01;
    assert_eq!(
        check_root(&forged, NOW),
        Err(CertError::RootBadSignature {
            subject: ROOT.into()
        })
    );
    // Outside its validity, either way.
    let root = anchors_of(&pki.root_pem).anchors[0].clone();
    for at in [root.not_after + 1, root.not_before - 1] {
        assert_eq!(
            check_root(&pki.root_der, at),
            Err(CertError::RootNotValid {
                subject: ROOT.into(),
                not_before: root.not_before,
                not_after: root.not_after,
            }),
            "{at}"
        );
    }
    assert!(check_root(b"not DER", NOW).is_err());
}
