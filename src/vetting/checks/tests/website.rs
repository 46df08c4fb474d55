//! `website` and `email_domain`.

use super::*;

#[test]
fn website_urls_are_public_http_urls() {
    let long_path = format!("https://acme.com/{}", "a".repeat(2048));
    let cases: &[(Value, bool)] = &[
        (json!("https://acme.com"), true),
        (json!("http://www.acme.com/about?x=1#team"), true),
        (json!("HTTPS://ACME.COM"), true),
        (json!("https://acme.com."), true),
        (json!("https://shop.acme.co.uk:8443/"), true),
        (json!("https://bücher.de"), true),
        (json!("https://xn--bcher-kva.de/"), true),
        (json!("  https://acme.com  "), true),
        (Value::Null, true),
        (json!(""), true),
        (json!("acme.com"), false),
        (json!("www.acme.com"), false),
        (json!("acme.com:8080"), false),
        (json!("ftp://acme.com"), false),
        (json!("javascript:alert(1)"), false),
        (json!("https:acme.com"), false),
        (json!("https://user:secret@acme.com"), false),
        (json!("https://user@acme.com"), false),
        (json!("https://192.168.1.1"), false),
        (json!("https://[::1]/"), false),
        (json!("https://0x7f000001"), false),
        (json!("https://acme.123"), false),
        (json!("https://localhost/"), false),
        (json!("https://api.localhost"), false),
        (json!("https://printer.local"), false),
        (json!("https://corp.internal"), false),
        (json!("https://acme.invalid"), false),
        (json!("https://a.test"), false),
        (json!("https://www.example"), false),
        (json!("https://router.home.arpa"), false),
        (json!("https://intranet"), false),
        (json!("https://acme_corp.com"), false),
        (json!("https://-acme.com"), false),
        (json!("https://acme..com"), false),
        (json!("https://acme.com/a b"), false),
        (json!("https://acme.com/\u{0}"), false),
        (json!("https://ac\tme.com"), false),
        (json!(long_path), false),
        (json!(format!("https://{}.com", "a".repeat(1 << 20))), false),
        (json!(42), false),
        (json!(["https://acme.com"]), false),
    ];
    for (url, passes) in cases {
        let bundle = one(B, "website_url", url);
        let finding = website(&parties(&bundle));
        let expected: &[&str] = if *passes { &[] } else { &["website_url"] };
        assert_eq!(fields(&finding), expected, "{url}");
    }
}

#[test]
fn social_media_profile_urls_are_a_string_or_a_list() {
    const S: &str = "social_media_profile_urls";
    let many: Vec<String> = (0..21).map(|n| format!("https://x.com/{n}")).collect();
    let cases: &[(Value, usize)] = &[
        (json!("https://facebook.com/acme"), 0),
        (json!("https://facebook.com/acme, https://x.com/acme"), 0),
        (
            json!(["https://facebook.com/acme", "https://x.com/acme"]),
            0,
        ),
        (json!("https://facebook.com/acme,,"), 0),
        (json!(""), 0),
        (json!([]), 0),
        (json!(["", "  "]), 0),
        (Value::Null, 0),
        (json!("https://facebook.com/acme, localhost"), 1),
        (json!("x, y"), 2),
        (json!(["https://x.com/acme", 7, null]), 2),
        (json!(many.join(",")), 1),
        (json!(many), 1),
        (json!({"x": "https://x.com/acme"}), 1),
        (json!(true), 1),
        (json!(",".repeat(1 << 20)), 1),
        (json!("a,".repeat(1 << 19)), 1),
    ];
    for (urls, failures) in cases {
        let bundle = one(B, S, urls);
        let finding = website(&parties(&bundle));
        assert_eq!(finding.failures.len(), *failures, "{urls}: {finding:?}");
        assert!(fields(&finding).iter().all(|f| *f == S));
    }
    let bundle = one(B, S, &json!("https://x.com/acme, http://10.0.0.1"));
    let finding = website(&parties(&bundle));
    assert!(
        finding.failures[0].reason.starts_with("URL 2 "),
        "{finding:?}"
    );
}

/// The failed fields of `email_domain` for a business at `site` and representatives
/// with `emails`.
fn domain_check(
    site: Option<&str>,
    emails: &[&str],
    params: &EmailDomain,
) -> Vec<(&'static str, String)> {
    let business = match site {
        Some(site) => attrs(json!({"website_url": site})),
        None => Attributes::new(),
    };
    let mut bundle = vec![(B, business)];
    for (email, end_user_type) in emails.iter().zip([R1, R2]) {
        bundle.push((end_user_type, attrs(json!({"email": email}))));
    }
    let finding = email_domain(&parties(&bundle), params);
    (finding.failures.iter())
        .map(|f| {
            let end_user_type = if f.object_type == R1 { R1 } else { R2 };
            (end_user_type, f.field.clone())
        })
        .collect()
}

#[test]
fn email_domains_match_the_website() {
    let defaults = EmailDomain::default();
    let site = Some("https://www.acme.com/about");
    let cases: &[(Option<&str>, &str, bool)] = &[
        (site, "jane@acme.com", true),
        (site, "jane@mail.acme.com", true),
        (site, "jane@www.acme.com", true),
        (site, "JANE@ACME.COM", true),
        (Some("https://WWW.Acme.COM"), "jane@acme.com", true),
        (Some("https://shop.acme.com"), "jane@acme.com", true),
        (Some("https://acme.com"), "jane@eu.mail.acme.com", true),
        (Some("https://bücher.de"), "jane@xn--bcher-kva.de", true),
        (
            Some("https://xn--bcher-kva.de"),
            "jane@shop.xn--bcher-kva.de",
            true,
        ),
        (site, "jane@other.com", false),
        (site, "jane@notacme.com", false),
        (site, "jane@acme.com.evil.com", false),
        (site, "jane@acme.co", false),
        (Some("https://www.com"), "jane@acme.com", false),
        // Without a usable website or email this check has nothing to compare.
        (None, "jane@other.com", true),
        (Some("https://localhost"), "jane@other.com", true),
        (Some("acme.com"), "jane@other.com", true),
        (site, "not an email", true),
        // Free mail fails whatever the website.
        (site, "jane@gmail.com", false),
        (site, "jane@GMail.com", false),
        (None, "jane@yahoo.com", false),
        (Some("https://gmail.com"), "jane@gmail.com", false),
        (site, "jane@mail.protonmail.com", false),
    ];
    for (site, email, passes) in cases {
        let failures = domain_check(*site, &[email], &defaults);
        let expected = if *passes {
            vec![]
        } else {
            vec![(R1, "email".to_owned())]
        };
        assert_eq!(failures, expected, "{site:?} {email}");
    }
}

#[test]
fn email_domain_reasons_and_several_representatives() {
    let site = Some("https://acme.com");
    let failures = domain_check(
        site,
        &["jane@acme.com", "bob@other.com"],
        &EmailDomain::default(),
    );
    assert_eq!(failures, [(R2, "email".to_owned())]);

    let bundle = [
        (B, attrs(json!({"website_url": "https://acme.com"}))),
        (R1, attrs(json!({"email": "jane@gmail.com"}))),
        (R2, attrs(json!({"email": "bob@other.com"}))),
    ];
    let finding = email_domain(&parties(&bundle), &EmailDomain::default());
    assert!(finding.failures[0].reason.contains("free email provider"));
    assert!(finding.failures[1].reason.contains("other.com"));
    assert!(finding.failures[1].reason.contains("acme.com"));
}

#[test]
fn operators_choose_free_mail_and_allowed_domains() {
    let list = |domains: &[&str]| domains.iter().map(|d| (*d).to_owned()).collect::<Vec<_>>();
    let allow = |domains: &[&str]| EmailDomain {
        free_mail: None,
        allow_domains: list(domains),
    };
    let free = |domains: &[&str]| EmailDomain {
        free_mail: Some(list(domains)),
        allow_domains: Vec::new(),
    };
    let acme = Some("https://acme.com");
    let cases: &[(EmailDomain, Option<&str>, &str, bool)] = &[
        (allow(&["group.com"]), acme, "jane@group.com", true),
        (allow(&["Group.COM"]), acme, "jane@mail.group.com", true),
        (allow(&["group.com"]), acme, "jane@other.com", false),
        (
            allow(&["acme-mail.com=acme.com"]),
            acme,
            "jane@acme-mail.com",
            true,
        ),
        (
            allow(&["acme.com=acme-mail.com"]),
            acme,
            "jane@acme-mail.com",
            true,
        ),
        (
            allow(&["acme-mail.com=acme.com"]),
            Some("https://shop.acme.com"),
            "jane@acme-mail.com",
            true,
        ),
        (
            allow(&["acme-mail.com=acme.com"]),
            Some("https://other.com"),
            "jane@acme-mail.com",
            false,
        ),
        (
            allow(&["acme-mail.com=acme.com"]),
            acme,
            "jane@gmail.com",
            false,
        ),
        (free(&[]), acme, "jane@gmail.com", false),
        (free(&[]), None, "jane@gmail.com", true),
        (free(&["corp-mail.com"]), None, "jane@corp-mail.com", false),
        (free(&["corp-mail.com"]), acme, "jane@acme.com", true),
    ];
    for (params, site, email, passes) in cases {
        let failures = domain_check(*site, &[email], params);
        assert_eq!(failures.is_empty(), *passes, "{params:?} {site:?} {email}");
    }
}

#[test]
fn email_domain_parameters_are_validated() {
    let list = |domains: &[&str]| domains.iter().map(|d| (*d).to_owned()).collect::<Vec<_>>();
    let params = |free: Option<&[&str]>, allow: &[&str]| EmailDomain {
        free_mail: free.map(list),
        allow_domains: list(allow),
    };
    let good = [
        params(None, &[]),
        params(Some(&["gmail.com", "Corp-Mail.COM"]), &[]),
        params(None, &["group.com", "acme-mail.com=acme.com"]),
        params(Some(&[]), &["gmail.com"]),
    ];
    for p in good {
        assert_eq!(p.validate(), Ok(()), "{p:?}");
    }
    let bad = [
        params(Some(&[""]), &[]),
        params(Some(&["gmail com"]), &[]),
        params(Some(&["com"]), &[]),
        params(Some(&[" gmail.com"]), &[]),
        params(None, &["acme.com="]),
        params(None, &["a.com=b.com=c.com"]),
        params(None, &["*.acme.com"]),
        params(None, &["gmail.com"]),
        params(None, &["acme.com=mail.Yahoo.com"]),
        params(Some(&["corp-mail.com"]), &["corp-mail.com"]),
    ];
    for p in bad {
        assert!(p.validate().is_err(), "{p:?}");
    }
}
