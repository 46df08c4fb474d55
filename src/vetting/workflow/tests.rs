use super::*;

fn err(text: &str) -> String {
    match Workflows::parse(text) {
        Ok(w) => panic!("accepted: {w:?}"),
        Err(e) => e.to_string(),
    }
}

const HEAD: &str =
    "version = \"v1\"\n[[workflow]]\npolicy = \"primary_customer_profile\"\napprove_at = 50\n";

#[test]
fn the_default_rules_parse_with_a_workflow_per_policy() {
    let w = Workflows::parse(DEFAULT).unwrap();
    assert_eq!(w, Workflows::embedded());
    assert_eq!(w.version, "2026-12-05.1");
    for policy in Policy::ALL {
        let flow = w.of(*policy).unwrap();
        assert!(!flow.steps.is_empty(), "{policy:?}");
    }
    let primary = w.of(Policy::PrimaryCustomerProfile).unwrap();
    assert!(
        primary
            .steps
            .iter()
            .any(|s| s.check.kind() == "identity_match")
    );
}

#[test]
fn checks_parse_with_their_parameters() {
    let w = Workflows::parse(&format!(
        "{HEAD}[[workflow.check]]\nname = \"id\"\ncheck = \"identity_match\"\non_fail = \"score\"\nweight = 3\nmin_score = 70\n\
         [[workflow.check]]\nname = \"dup\"\ncheck = \"duplicate_registration\"\non_fail = \"review\"\n"
    ))
    .unwrap();
    let flow = w.of(Policy::PrimaryCustomerProfile).unwrap();
    assert_eq!(flow.approve_at, 50);
    assert_eq!(
        flow.steps[0],
        Step {
            name: "id".into(),
            check: Check::IdentityMatch(IdentityMatch { min_score: 70 }),
            on_fail: OnFail::Score,
            weight: 3,
        }
    );
    assert_eq!(flow.steps[1].check, Check::DuplicateRegistration);
    assert_eq!(flow.steps[1].weight, 0);
    assert!(w.of(Policy::ShakenStir).is_none());
}

#[test]
fn policies_are_named_or_given_by_sid() {
    let w = Workflows::parse(
        "version = \"1\"\n[[workflow]]\npolicy = \"RN7a97559effdf62d00f4298208492a5ea\"\napprove_at = 0\n",
    )
    .unwrap();
    assert!(w.of(Policy::ShakenStir).is_some());
}

#[test]
fn bad_rules_are_refused_naming_the_workflow_and_the_check() {
    let check = |body: &str| err(&format!("{HEAD}[[workflow.check]]\n{body}"));
    for (body, expected) in [
        (
            "name = \"x\"\ncheck = \"telepathy\"\non_fail = \"reject\"",
            "workflow primary_customer_profile, check x: unknown variant `telepathy`",
        ),
        (
            "name = \"x\"\ncheck = \"website\"\non_fail = \"reject\"\nstrict = true",
            "check x: unknown field `strict`",
        ),
        (
            "name = \"x\"\ncheck = \"identity_match\"\non_fail = \"score\"\nweight = 1",
            "check x: missing field `min_score`",
        ),
        (
            "name = \"x\"\ncheck = \"identity_match\"\non_fail = \"score\"\nweight = 1\nmin_score = 101",
            "check x: min_score 101 is over 100",
        ),
        (
            "name = \"x\"\ncheck = \"website\"\non_fail = \"maybe\"",
            "check x: on_fail: unknown variant `maybe`",
        ),
        (
            "name = \"x\"\ncheck = \"website\"",
            "check x: missing key `on_fail`",
        ),
        (
            "check = \"website\"\non_fail = \"reject\"",
            "check #1: missing key `name`",
        ),
        (
            "name = \"has space\"\ncheck = \"website\"\non_fail = \"reject\"",
            "check has space: name must be",
        ),
        (
            "name = \"x\"\ncheck = \"website\"\non_fail = \"reject\"\nweight = -1",
            "check x: weight must be an integer from 0 to 1000",
        ),
        (
            "name = \"x\"\non_fail = \"reject\"",
            "check x: missing field `check`",
        ),
    ] {
        let got = check(body);
        assert!(got.contains(expected), "{body:?}: {got}");
    }
    let got = err(&format!(
        "{HEAD}[[workflow.check]]\nname = \"x\"\ncheck = \"website\"\non_fail = \"reject\"\nweight = 1\n\
         [[workflow.check]]\nname = \"x\"\ncheck = \"emails\"\non_fail = \"reject\"\n"
    ));
    assert!(
        got.contains("check x: a second check with the same name"),
        "{got}"
    );
}

#[test]
fn bad_files_are_refused() {
    for (text, expected) in [
        ("", "missing field `version`"),
        ("version = \"\"", "version must be"),
        ("version = \"a b\"", "version must be"),
        ("version = \"1\"\nextra = 1", "unknown field `extra`"),
        (
            "version = \"1\"\n[[workflow]]\npolicy = \"gold\"\napprove_at = 1",
            "workflow 1: unknown policy \"gold\"",
        ),
        (
            "version = \"1\"\n[[workflow]]\npolicy = \"shaken_stir_trust_product\"\napprove_at = 0\n\
             [[workflow]]\npolicy = \"RN7a97559effdf62d00f4298208492a5ea\"\napprove_at = 0",
            "workflow shaken_stir_trust_product: a second workflow",
        ),
        (
            "version = \"1\"\n[[workflow]]\npolicy = \"primary_customer_profile\"\napprove_at = 101",
            "approve_at 101 is over 100",
        ),
        (
            "version = \"1\"\n[[workflow]]\npolicy = \"primary_customer_profile\"\napprove_at = 300",
            "approve_at",
        ),
        (
            "version = \"1\"\n[[workflow]]\npolicy = \"primary_customer_profile\"\napprove_at = 10",
            "add up to 0",
        ),
        (
            "version = \"1\"\n[[workflow]]\napprove_at = 1",
            "missing field `policy`",
        ),
        ("\u{0}", "TOML parse error"),
    ] {
        let got = err(text);
        assert!(got.contains(expected), "{text:?}: {got}");
    }
}

fn flow(steps: &[(OnFail, u32)], approve_at: u8) -> Workflow {
    Workflow {
        policy: Policy::PrimaryCustomerProfile,
        approve_at,
        steps: (steps.iter().enumerate())
            .map(|(i, (on_fail, weight))| Step {
                name: format!("s{i}"),
                check: Check::Website,
                on_fail: *on_fail,
                weight: *weight,
            })
            .collect(),
    }
}

#[test]
fn decisions_follow_hard_failures_then_review_then_the_score() {
    use OnFail::*;
    let w = flow(&[(Reject, 0), (Review, 0), (Score, 60), (Score, 40)], 60);
    for (passed, expected) in [
        ([true, true, true, true], (Outcome::Approve, 100)),
        ([true, true, true, false], (Outcome::Approve, 60)),
        ([true, true, false, true], (Outcome::Review, 40)),
        ([true, false, true, true], (Outcome::Review, 100)),
        ([false, true, true, true], (Outcome::Reject, 100)),
        ([false, false, false, false], (Outcome::Reject, 0)),
    ] {
        assert_eq!(decide(&w, &passed), expected, "{passed:?}");
    }
    // With no weights at all, only the hard and review checks decide.
    assert_eq!(
        decide(&flow(&[(Review, 0)], 0), &[true]),
        (Outcome::Approve, 100)
    );
    assert_eq!(decide(&flow(&[], 0), &[]), (Outcome::Approve, 100));
}
