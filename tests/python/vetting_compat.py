"""Drives callsign's automated vetting with the official `twilio` helper library.

Run by tests/vetting_compat.rs in phases that share a JSON state file:

  accounts BASE STATE   the operator creates the customer's account and gives it the
                        representative's number (in the subscriber records) and a
                        calling number
  vet      BASE STATE   the customer builds a Primary profile that the default workflow
                        approves, reads its evaluation, and links a SHAKEN/STIR trust
                        product to it; another account's profile (a bad EIN) is
                        rejected, a third's (a name the records do not hold) is queued
                        and the operator approves it
  product  BASE STATE   the customer submits the trust product; the workflow approves it
  lookup   BASE STATE   Lookup v2 Identity Match against the subscriber records, and
                        Twilio's codes for malformed queries

BASE is callsign's HTTP address (http://127.0.0.1:PORT). The operator's credential
comes from the environment (OPERATOR_SID, OPERATOR_TOKEN). The subscriber records are
those of tests/vetting_compat.rs.
"""

import json
import os
import sys
import time

from twilio.base.exceptions import TwilioRestException
from twilio.rest import Client

PRIMARY = "RN6433641899984f951173ef1738c3bdd0"
SHAKEN = "RN7a97559effdf62d00f4298208492a5ea"
ADDRESS = "AD0123456789abcdef0123456789abcdef"
WORKFLOW_VERSION = "2026-12-05.1"

# The approved customer: its representative (in the subscriber records) and the number
# its calls come from.
REP_PHONE = "+12155550111"
CALLING = "+12155550121"
# The rejected customer's representative, and the queued one's (the records hold
# Morgan Reyes on it).
REJECTED_REP_PHONE = "+12155550112"
QUEUED_REP_PHONE = "+12155550113"
UK_PHONE = "+442071838750"


def client(base, sid, token):
    c = Client(sid, token)
    c.trusthub.base_url = base
    c.api.base_url = base
    c.lookups.base_url = base
    return c


def operator(base):
    return client(base, os.environ["OPERATOR_SID"], os.environ["OPERATOR_TOKEN"])


def customer(base, state, name):
    return client(base, state[f"{name}_sid"], state[f"{name}_token"])


def expect_error(code, call):
    try:
        call()
    except TwilioRestException as e:
        assert e.code == code, f"expected Twilio error {code}, got {e.code}: {e.msg}"
        return e
    raise AssertionError(f"expected Twilio error {code}, got success")


def decided(bundle):
    """Fetches `bundle` (a customer profile or trust product) until the workflow has
    decided, for at most 10 s; returns it."""
    for _ in range(200):
        fetched = bundle.fetch()
        if fetched.status != "pending-review":
            return fetched
        time.sleep(0.05)
    raise AssertionError(f"no decision on {fetched.sid} within 10 s")


def new_account(op, name, numbers):
    """An account the operator creates and gives `numbers`."""
    account = op.api.v2010.accounts.create(friendly_name=name)
    assert account.auth_token and account.status == "active", account
    for n in numbers:
        created = op.api.v2010.accounts(account.sid).incoming_phone_numbers.create(
            phone_number=n
        )
        assert created.phone_number == n, created
    return account


def business(name, ein, domain):
    return {
        "business_name": name,
        "business_type": "Limited Liability Corporation",
        "business_registration_identifier": "EIN",
        "business_registration_number": ein,
        "business_identity": "direct_customer",
        "business_industry": "TRANSPORTATION",
        "website_url": f"https://{domain}",
        "business_regions_of_operation": "USA_AND_CANADA",
    }


def representative(first, last, domain, phone, address_line1):
    return {
        "first_name": first,
        "last_name": last,
        "email": f"{first.lower()}@{domain}",
        "phone_number": phone,
        "business_title": "Owner",
        "job_position": "CEO",
        "address_line1": address_line1,
    }


def primary_profile(hub, name, domain, business_attributes, rep_attributes):
    """A Primary profile of the business at `domain`, with its business information,
    representative and address document linked."""
    profile = hub.customer_profiles.create(
        friendly_name=name, email=f"ops@{domain}", policy_sid=PRIMARY
    )
    assert profile.status == "draft", profile.status
    p = hub.customer_profiles(profile.sid)
    for kind, attributes in [
        ("customer_profile_business_information", business_attributes),
        ("authorized_representative_1", rep_attributes),
    ]:
        user = hub.end_users.create(friendly_name=kind, type=kind, attributes=attributes)
        assert user.attributes == attributes, user.attributes
        p.customer_profiles_entity_assignments.create(object_sid=user.sid)
    address = hub.supporting_documents.create(
        friendly_name="HQ",
        type="customer_profile_address",
        attributes={"address_sids": [ADDRESS]},
    )
    p.customer_profiles_entity_assignments.create(object_sid=address.sid)
    return profile


def results_by_check(evaluation):
    """The evaluation's results by check, and the decision (the last entry)."""
    results = evaluation.results
    assert results, evaluation
    decision = results[-1]
    assert decision["requirement_name"] == "vetting_decision", decision
    by_check = {r["check"]: r for r in results[:-1]}
    return by_check, decision


def only_evaluation(p):
    """The one evaluation of customer profile `p`: the workflow's."""
    evaluations = p.customer_profiles_evaluations.list()
    assert len(evaluations) == 1, [e.sid for e in evaluations]
    return evaluations[0]


def review_queue(op, base):
    """The SIDs of the bundles in the operator's review queue (not in Twilio's API, so
    through the client's raw request)."""
    answer = op.request("GET", f"{base}/v1/ReviewQueue")
    assert answer.status_code == 200, answer.text
    return [row["bundle_sid"] for row in json.loads(answer.text)["results"]]


def accounts(base, state):
    op = operator(base)
    account = new_account(op, "Whitfield Logistics", [REP_PHONE, CALLING])
    listed = op.api.v2010.accounts(account.sid).incoming_phone_numbers.list()
    assert sorted(n.phone_number for n in listed) == [REP_PHONE, CALLING], listed
    state.update(whitfield_sid=account.sid, whitfield_token=account.auth_token)


def vet(base, state):
    op = operator(base)
    a = customer(base, state, "whitfield")
    hub = a.trusthub.v1
    calling = a.incoming_phone_numbers.list(phone_number=CALLING)
    assert len(calling) == 1, calling

    # The approved customer: every check passes, the identity match included.
    domain = "whitfield-logistics.com"
    p = primary_profile(
        hub,
        "Whitfield Logistics primary",
        domain,
        business("Whitfield Logistics LLC", "27-1234567", domain),
        representative("Dana", "Whitfield", domain, REP_PHONE, "200 Commerce St"),
    )
    p.customer_profiles_channel_endpoint_assignment.create(
        channel_endpoint_type="phone-number", channel_endpoint_sid=calling[0].sid
    )
    # Its SHAKEN/STIR trust product, linked and holding the calling number before the
    # profile is submitted (a Primary approved with no trust product linked gets an
    # automatic one, which would hold the number instead), and not submitted yet.
    product = hub.trust_products.create(
        friendly_name="Whitfield Logistics SHAKEN/STIR", email=f"ops@{domain}",
        policy_sid=SHAKEN,
    )
    tp = hub.trust_products(product.sid)
    tp.trust_products_entity_assignments.create(object_sid=p.sid)
    tp.trust_products_channel_endpoint_assignment.create(
        channel_endpoint_type="phone-number", channel_endpoint_sid=calling[0].sid
    )

    submitted = p.update(status="pending-review")
    assert submitted.status == "pending-review", submitted.status
    profile = decided(p)
    assert profile.status == "twilio-approved", (profile.status, profile.errors)
    assert not profile.errors, profile.errors
    evaluation = only_evaluation(p)
    assert evaluation.status == "compliant", evaluation.results
    assert evaluation.customer_profile_sid == profile.sid, evaluation.customer_profile_sid
    checks, decision = results_by_check(evaluation)
    failed = [name for name, r in checks.items() if not r["passed"]]
    assert failed == [], f"failed checks: {failed}"
    identity = checks["identity_match"]
    assert identity["status"] == "passed", identity
    levels = identity["detail"]["authorized_representative_1"]
    assert levels["first_name_match"] == "exact_match", levels
    assert levels["last_name_match"] == "exact_match", levels
    assert levels["address_lines_match"] == "exact_match", levels
    assert levels["summary_score"] == 100, levels
    assert decision["outcome"] == "approve", decision
    assert decision["score"] == 100, decision
    assert decision["workflow_version"] == WORKFLOW_VERSION, decision
    # The operator's log: the customer's submission, then the workflow's decision.
    answer = op.request("GET", f"{base}/v1/ReviewLog", params={"BundleSid": profile.sid})
    assert answer.status_code == 200, answer.text
    log = json.loads(answer.text)["results"]
    deciders = [(e["decided_by"], e["to_status"]) for e in log]
    assert deciders == [
        ("customer", "pending-review"),
        ("workflow", "twilio-approved"),
    ], deciders
    assert log[1]["evaluation_sid"] == evaluation.sid, log[1]
    # The customer's own trust product is the only one: none was made automatically.
    products = [t.sid for t in hub.trust_products.list()]
    assert products == [product.sid], products
    assert tp.fetch().status == "draft", "the trust product changed without a submission"
    state.update(profile_sid=profile.sid, product_sid=product.sid)

    # A second customer, whose EIN has a prefix the IRS never assigns: rejected, the
    # field named with Twilio's code.
    bad = new_account(op, "Brightwater Plumbing", [REJECTED_REP_PHONE])
    b = client(base, bad.sid, bad.auth_token).trusthub.v1
    domain = "brightwater-plumbing.com"
    rp = primary_profile(
        b,
        "Brightwater Plumbing primary",
        domain,
        business("Brightwater Plumbing LLC", "07-1234567", domain),
        representative("Avery", "Stone", domain, REJECTED_REP_PHONE, "12 Pine Street"),
    )
    rp.update(status="pending-review")
    rejected = decided(rp)
    assert rejected.status == "twilio-rejected", rejected.status
    assert rejected.errors and rejected.errors[0]["code"] == 18602, rejected.errors
    assert rejected.errors[0]["field"] == "business_registration_number", rejected.errors
    checks, decision = results_by_check(only_evaluation(rp))
    assert checks["registration_number"]["passed"] is False, checks["registration_number"]
    assert decision["outcome"] == "reject", decision

    # A third, whose representative is not the person the records hold on that number:
    # only the identity match fails, and the profile waits for the operator.
    queued_account = new_account(op, "Reyes Freight", [QUEUED_REP_PHONE])
    q = client(base, queued_account.sid, queued_account.auth_token).trusthub.v1
    domain = "reyes-freight.com"
    qp = primary_profile(
        q,
        "Reyes Freight primary",
        domain,
        business("Reyes Freight LLC", "27-7654321", domain),
        representative("Robin", "Reyes", domain, QUEUED_REP_PHONE, "45 Harbor Road"),
    )
    qp.update(status="pending-review")
    queued = decided(qp)
    assert queued.status == "in-review", (queued.status, queued.errors)
    checks, decision = results_by_check(only_evaluation(qp))
    failed = [name for name, r in checks.items() if not r["passed"]]
    assert failed == ["identity_match"], f"failed checks: {failed}"
    levels = checks["identity_match"]["detail"]["authorized_representative_1"]
    assert levels["first_name_match"] == "no_match", levels
    assert levels["last_name_match"] == "exact_match", levels
    assert levels["summary_score"] == 20, levels
    assert decision["outcome"] == "review", decision
    assert queued.sid in review_queue(op, base), "the queued profile is not in the queue"
    # The customer cannot approve itself; the operator can.
    expect_error(20403, lambda: qp.update(status="twilio-approved"))
    approved = op.trusthub.v1.customer_profiles(queued.sid).update(status="twilio-approved")
    assert approved.status == "twilio-approved", approved.status
    assert qp.fetch().status == "twilio-approved"
    assert queued.sid not in review_queue(op, base), "the decided profile is still queued"


def product(base, state):
    a = customer(base, state, "whitfield")
    tp = a.trusthub.v1.trust_products(state["product_sid"])
    assert tp.fetch().status == "draft", "the trust product was submitted before its phase"
    submitted = tp.update(status="pending-review")
    assert submitted.status == "pending-review", submitted.status
    approved = decided(tp)
    assert approved.status == "twilio-approved", (approved.status, approved.errors)
    evaluations = tp.trust_products_evaluations.list()
    assert len(evaluations) == 1, [e.sid for e in evaluations]
    checks, decision = results_by_check(evaluations[0])
    linked = checks["linked_profile_approved"]
    assert linked["passed"] is True, linked
    assert decision["outcome"] == "approve", decision
    answer = a.request(
        "GET",
        f"{base}/v1/Attestation",
        params={"AccountSid": state["whitfield_sid"], "PhoneNumber": CALLING},
    )
    body = json.loads(answer.text)
    assert answer.status_code == 200 and body["attest"] == "A", answer.text
    assert body["trust_product_sid"] == state["product_sid"], body


def lookup(base, state):
    a = customer(base, state, "whitfield")
    numbers = a.lookups.v2.phone_numbers

    matched = numbers(REP_PHONE).fetch(
        fields="identity_match",
        first_name="dana",
        last_name="Whitfield",
        address_line1="200 Commerce St",
        postal_code="19103",
    )
    assert matched.valid is True and matched.phone_number == REP_PHONE, matched
    assert matched.country_code == "US", matched.country_code
    m = matched.identity_match
    assert m["summary_score"] == 100, m
    assert m["first_name_match"] == "exact_match", m
    assert m["last_name_match"] == "exact_match", m
    assert m["address_lines_match"] == "exact_match", m
    assert m["postal_code_match"] == "exact_match", m
    assert m["date_of_birth_match"] == "no_data_available", m
    assert m["error_code"] is None, m

    # Someone else on the number.
    stranger = numbers(REP_PHONE).fetch(
        fields="identity_match", first_name="Robin", last_name="Hood"
    )
    m = stranger.identity_match
    assert m["first_name_match"] == "no_match", m
    assert m["last_name_match"] == "no_match", m
    assert m["summary_score"] == 0, m

    # Malformed: a first name over Twilio's 128 characters; the UK without its
    # postal code.
    expect_error(
        60618,
        lambda: numbers(REP_PHONE).fetch(fields="identity_match", first_name="x" * 129),
    )
    expect_error(
        60617,
        lambda: numbers(UK_PHONE).fetch(
            fields="identity_match",
            first_name="Oliver",
            last_name="Bennett",
            address_line1="10 Downing St",
        ),
    )
    uk = numbers(UK_PHONE).fetch(
        fields="identity_match",
        first_name="Oliver",
        last_name="Bennett",
        address_line1="10 Downing Street",
        postal_code="SW1A 2AA",
    )
    assert uk.country_code == "GB", uk.country_code
    assert uk.identity_match["summary_score"] == 100, uk.identity_match


def main():
    phase, base, path = sys.argv[1:4]
    state = {}
    if os.path.exists(path):
        with open(path) as f:
            state = json.load(f)
    phases = {"accounts": accounts, "vet": vet, "product": product, "lookup": lookup}
    phases[phase](base, state)
    with open(path, "w") as f:
        json.dump(state, f)
    print(f"{phase}: ok")


if __name__ == "__main__":
    main()
