"""Drives callsign's Trust Hub API with the official `twilio` helper library.

Run by tests/twilio_compat.rs in three phases that share a JSON state file:

  accounts BASE STATE   the operator creates an account; the account a sub-account
  vet      BASE STATE   numbers, a Primary profile with its end users, a SHAKEN/STIR
                        trust product, every assignment, evaluations, and submission
  approve  BASE STATE   the operator approves; the preview then says A

BASE is callsign's HTTP address (http://127.0.0.1:PORT). The operator's credential
comes from the environment (OPERATOR_SID, OPERATOR_TOKEN).
"""

import json
import os
import sys

from twilio.base.exceptions import TwilioRestException
from twilio.rest import Client

PRIMARY = "RN6433641899984f951173ef1738c3bdd0"
SHAKEN = "RN7a97559effdf62d00f4298208492a5ea"


def client(base, sid, token):
    c = Client(sid, token)
    c.trusthub.base_url = base
    c.api.base_url = base
    return c


def operator(base):
    return client(base, os.environ["OPERATOR_SID"], os.environ["OPERATOR_TOKEN"])


def expect_error(code, call):
    try:
        call()
    except TwilioRestException as e:
        assert e.code == code, f"expected Twilio error {code}, got {e.code}: {e.msg}"
        return e
    raise AssertionError(f"expected Twilio error {code}, got success")


def accounts(base, state):
    op = operator(base)
    account = op.api.v2010.accounts.create(friendly_name="Compat Co")
    assert account.auth_token and account.owner_account_sid == account.sid
    customer = client(base, account.sid, account.auth_token)
    sub = customer.api.v2010.accounts.create(friendly_name="Compat Co support")
    assert sub.owner_account_sid == account.sid
    listed = [a.sid for a in customer.api.v2010.accounts.list()]
    assert listed == [account.sid, sub.sid], listed
    fetched = customer.api.v2010.accounts(sub.sid).fetch()
    assert fetched.friendly_name == "Compat Co support"
    # An account the operator closes stays closed, with its number released.
    gone = op.api.v2010.accounts.create(friendly_name="Compat Co gone")
    op.api.v2010.accounts(gone.sid).incoming_phone_numbers.create(phone_number="+12155550141")
    assert op.api.v2010.accounts(gone.sid).update(status="closed").status == "closed"
    assert op.api.v2010.accounts(gone.sid).incoming_phone_numbers.list() == []
    expect_error(20001, lambda: op.api.v2010.accounts(gone.sid).update(status="active"))
    assert op.api.v2010.accounts(gone.sid).fetch().status == "closed"
    state.update(
        account_sid=account.sid,
        account_token=account.auth_token,
        sub_sid=sub.sid,
        sub_token=sub.auth_token,
    )


def vet(base, state):
    op = operator(base)
    a = client(base, state["account_sid"], state["account_token"])
    sub = client(base, state["sub_sid"], state["sub_token"])

    numbers = op.api.v2010.accounts(state["account_sid"]).incoming_phone_numbers
    main = numbers.create(phone_number="+12155550121", friendly_name="main")
    assert main.phone_number == "+12155550121"
    other = numbers.create(phone_number="+12155550122")
    op.api.v2010.accounts(state["sub_sid"]).incoming_phone_numbers.create(
        phone_number="+12155550131"
    )
    expect_error(21421, lambda: numbers.create(phone_number="215-555-0100"))
    expect_error(20403, lambda: a.incoming_phone_numbers.create(phone_number="+12155550199"))
    found = a.incoming_phone_numbers.list(phone_number="+12155550121")
    assert [n.sid for n in found] == [main.sid]
    paged = list(a.incoming_phone_numbers.stream(page_size=1))
    assert len(paged) == 2, paged
    assert sub.incoming_phone_numbers.list()[0].phone_number == "+12155550131"

    hub = a.trusthub.v1
    profile = hub.customer_profiles.create(
        friendly_name="Compat Co primary", email="ops@compat.example", policy_sid=PRIMARY
    )
    assert profile.status == "draft"
    evaluation = hub.customer_profiles(profile.sid).customer_profiles_evaluations.create(
        policy_sid=PRIMARY
    )
    assert evaluation.status == "noncompliant", evaluation.results
    for kind, attributes in [
        ("customer_profile_business_information", {"business_name": "Compat Co"}),
        ("authorized_representative_1", {"first_name": "Ada", "last_name": "Lovelace"}),
    ]:
        user = hub.end_users.create(friendly_name=kind, type=kind, attributes=attributes)
        assert user.attributes == attributes
        hub.customer_profiles(profile.sid).customer_profiles_entity_assignments.create(
            object_sid=user.sid
        )
    # The business address, as a supporting document; the types list what it holds.
    doc_types = {t.machine_name: t for t in hub.supporting_document_types.list(page_size=1)}
    address_type = doc_types["customer_profile_address"]
    assert [f["machine_name"] for f in address_type.fields] == ["address_sids"]
    assert hub.supporting_document_types(address_type.sid).fetch().sid == address_type.sid
    expect_error(
        20001,
        lambda: hub.supporting_documents.create(friendly_name="x", type="utility_bill"),
    )
    address = hub.supporting_documents.create(
        friendly_name="HQ",
        type="customer_profile_address",
        attributes={"address_sids": ["AD0123456789abcdef0123456789abcdef"]},
    )
    assert address.status == "DRAFT" and address.mime_type is None, address
    assert address.sid.startswith("RD") and address.account_sid == state["account_sid"]
    renamed = hub.supporting_documents(address.sid).update(friendly_name="Headquarters")
    assert renamed.friendly_name == "Headquarters"
    assert hub.supporting_documents(address.sid).fetch().attributes == {
        "address_sids": ["AD0123456789abcdef0123456789abcdef"]
    }
    spare = hub.supporting_documents.create(friendly_name="spare", type="customer_profile_address")
    docs = list(hub.supporting_documents.stream(page_size=1))
    assert [d.sid for d in docs] == [address.sid, spare.sid], docs
    assert hub.supporting_documents(spare.sid).delete()
    assert [d.sid for d in hub.supporting_documents.list()] == [address.sid]
    hub.customer_profiles(profile.sid).customer_profiles_entity_assignments.create(
        object_sid=address.sid
    )
    documents = hub.customer_profiles(profile.sid).customer_profiles_entity_assignments.list(
        object_type="supporting_document"
    )
    assert [d.object_sid for d in documents] == [address.sid]
    expect_error(20001, lambda: hub.supporting_documents(address.sid).delete())
    for n in (main, other):
        hub.customer_profiles(profile.sid).customer_profiles_channel_endpoint_assignment.create(
            channel_endpoint_type="phone-number", channel_endpoint_sid=n.sid
        )
    evaluation = hub.customer_profiles(profile.sid).customer_profiles_evaluations.create(
        policy_sid=PRIMARY
    )
    assert evaluation.status == "compliant", evaluation.results

    product = hub.trust_products.create(
        friendly_name="Compat Co SHAKEN/STIR", email="ops@compat.example", policy_sid=SHAKEN
    )
    tp = hub.trust_products(product.sid)
    expect_error(
        20001,
        lambda: tp.trust_products_channel_endpoint_assignment.create(
            channel_endpoint_type="phone-number", channel_endpoint_sid=main.sid
        ),
    )
    tp.trust_products_entity_assignments.create(object_sid=profile.sid)
    tp.trust_products_channel_endpoint_assignment.create(
        channel_endpoint_type="phone-number", channel_endpoint_sid=main.sid
    )
    assert [x.object_sid for x in tp.trust_products_entity_assignments.list()] == [profile.sid]
    assigned = tp.trust_products_channel_endpoint_assignment.list(channel_endpoint_sid=main.sid)
    assert [x.channel_endpoint_sid for x in assigned] == [main.sid]

    hub.customer_profiles(profile.sid).update(status="pending-review")
    assert hub.supporting_documents(address.sid).fetch().status == "PENDING_REVIEW"
    expect_error(
        60711, lambda: hub.supporting_documents(address.sid).update(attributes={"address_sids": []})
    )
    tp.update(status="pending-review")
    expect_error(60711, lambda: hub.customer_profiles(profile.sid).update(friendly_name="x"))
    expect_error(20403, lambda: tp.update(status="twilio-approved"))
    pending = hub.customer_profiles.list(status="pending-review")
    assert [p.sid for p in pending] == [profile.sid]
    assert [p.sid for p in hub.policies.list()][0] == PRIMARY
    types = {t.machine_name: t for t in hub.end_user_types.list(page_size=1)}
    assert "authorized_representative_1" in types, types
    fetched = hub.end_user_types(types["authorized_representative_1"].sid).fetch()
    assert "email" in [f["machine_name"] for f in fetched.fields], fetched.fields
    state.update(profile_sid=profile.sid, product_sid=product.sid, document_sid=address.sid)


def approve(base, state):
    op = operator(base)
    hub = op.trusthub.v1
    pending = hub.customer_profiles.list(status="pending-review")
    assert state["profile_sid"] in [p.sid for p in pending]
    hub.customer_profiles(state["profile_sid"]).update(status="in-review")
    approved = hub.customer_profiles(state["profile_sid"]).update(status="twilio-approved")
    assert approved.status == "twilio-approved"
    assert hub.supporting_documents(state["document_sid"]).fetch().status == "APPROVED"
    hub.trust_products(state["product_sid"]).update(status="twilio-approved")
    answer = op.request(
        "GET",
        f"{base}/v1/Attestation",
        params={"AccountSid": state["account_sid"], "PhoneNumber": "+12155550121"},
    )
    body = json.loads(answer.text)
    assert answer.status_code == 200 and body["attest"] == "A", answer.text
    assert body["trust_product_sid"] == state["product_sid"]


def main():
    phase, base, path = sys.argv[1:4]
    state = {}
    if os.path.exists(path):
        with open(path) as f:
            state = json.load(f)
    {"accounts": accounts, "vet": vet, "approve": approve}[phase](base, state)
    with open(path, "w") as f:
        json.dump(state, f)
    print(f"{phase}: ok")


if __name__ == "__main__":
    main()
