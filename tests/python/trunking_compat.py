"""Drives callsign's trunking API with the official `twilio` helper library.

Run by tests/twilio_compat.rs in two phases that share a JSON state file:

  provision BASE STATE   the operator creates two accounts. The neighbour takes
                         127.0.0.9 on a trunk of its own, and has a credential list.
                         Trunk Co drives every call of the trunk, origination URL,
                         trunk phone number, IP access control list, IP address,
                         credential list, credential and trunk credential list
                         lifecycle, and the refusals. It leaves its
                         "PBX" trunk admitting 127.0.0.5 through its "office" list, and
                         its "Backup" trunk (domain DOMAIN) taking the "staff"
                         credential list, where alice's password is NEW_PASSWORD.
  teardown  BASE STATE   Trunk Co takes the lists off the trunks and deletes the
                         address, the credentials, the lists and the PBX trunk; each is
                         gone afterwards.

Between the phases the driver places a SIPp call from 127.0.0.5, and a call addressed to
DOMAIN that authenticates as alice; after teardown it checks that the next call of each
kind is refused.

BASE is callsign's HTTP address (http://127.0.0.1:PORT), a server that verifies too (a
[verify] table), so that a trunk may take callsign's own Role=verify, and numbers with it.
The operator's credential comes from the environment (OPERATOR_SID, OPERATOR_TOKEN).

Every create, fetch and update also checks the raw response: each field the client's
instance reads must be in it, because the client reads a missing field as None. No
response, whether a record, a list page or an error, carries a password or its digest.
"""

import hashlib
import json
import os
import sys
from datetime import datetime
from urllib.parse import parse_qs, urlparse

from twilio.base import deserialize
from twilio.base.exceptions import TwilioException, TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client

PBX_IP = "127.0.0.5"
NEIGHBOUR_IP = "127.0.0.9"
DOMAIN = "backup.trunkco.example"
# The realm callsign keeps a password's digests in.
REALM = "callsign"
PASSWORDS = {"alice": "Alice-Passw0rd", "bob": "Bob-Passw0rd-1", "carol": "Carol-Passw0rd"}
NEW_PASSWORD = "Alice-Passw0rd-2"
# A list SID nobody has.
NO_LIST = "CL" + "0" * 32
# Trunk Co's numbers for its verifying trunk, the neighbour's, and a number SID nobody has.
INBOUND_NUMBERS = ["+12155550161", "+12155550162", "+12155550163"]
NEIGHBOUR_NUMBER = "+12155550169"
NO_NUMBER = "PN" + "0" * 32


class Recorder(TwilioHttpClient):
    """The client's own HTTP client, remembering each request's method, URL and query
    parameters, the last response, and every response body."""

    def __init__(self):
        super().__init__()
        self.requests = []
        self.bodies = []
        self.last_response = None

    def request(self, method, url, *args, **kwargs):
        self.requests.append((method, url, kwargs.get("params") or {}))
        self.last_response = super().request(method, url, *args, **kwargs)
        self.bodies.append(self.last_response.text or "")
        return self.last_response


def client(base, sid, token):
    c = Client(sid, token, http_client=Recorder())
    c.api.base_url = base
    c.trunking.base_url = base
    return c


def operator(base):
    return client(base, os.environ["OPERATOR_SID"], os.environ["OPERATOR_TOKEN"])


def expect_error(status, code, call, what=""):
    """Asserts that `call` is refused with HTTP `status` and Twilio error `code`. The
    client raises TwilioRestException for a refused create, fetch, update or delete,
    but a bare TwilioException carrying the response for a refused list page. Returns
    the server's message."""
    try:
        call()
    except TwilioRestException as e:
        got, text = (e.status, e.code), e.msg
    except TwilioException as e:
        response = e.args[1]
        body = json.loads(response.text)
        got, text = (response.status_code, body.get("code")), body.get("message")
    else:
        raise AssertionError(f"{what}: expected {status}/{code}, got success")
    assert got == (status, code), f"{what}: expected {status}/{code}, got {got}: {text}"
    return text


def raw(c):
    """The JSON body of the last response `c` received."""
    return json.loads(c.http_client.last_response.text)


def digests(username, password):
    """The MD5 and SHA-256 digests (HA1) callsign keeps of a password."""
    secret = f"{username}:{REALM}:{password}".encode()
    return [hashlib.md5(secret).hexdigest(), hashlib.sha256(secret).hexdigest()]


def never_shown(c, secrets):
    """Asserts that no response `c` has received carries any of `secrets`."""
    for body in c.http_client.bodies:
        shown = [s for s in secrets if s in body]
        assert not shown, f"{shown} in a response: {body}"


def complete(c, instance):
    """Asserts that the last response carries every field `instance` reads."""
    body = raw(c)
    fields = {k for k in vars(instance) if not k.startswith("_")}
    missing = sorted(fields - body.keys())
    kind = type(instance).__name__
    assert not missing, f"{kind}: the client reads {missing}, absent from {sorted(body)}"
    return instance


def paged(c, stream, key):
    """Every record of `stream()` read one per page, asserting that the client asked
    for each page after the first by the link the server gave, and that the list
    body has the rows under `key`."""
    before = len(c.http_client.requests)
    records = list(stream())
    gets = [(url, q) for method, url, q in c.http_client.requests[before:] if method == "GET"]
    assert len(gets) == len(records), (len(records), gets)
    assert gets[0][1].get("PageSize") == 1, gets
    gets = [url for url, _ in gets]
    for n, url in enumerate(gets[1:], start=1):
        query = parse_qs(urlparse(url).query)
        assert query.get("Page") == [str(n)] and query.get("PageSize") == ["1"], gets
    assert key in raw(c), f"no {key!r} in {sorted(raw(c))}"
    return records


def dated(instance):
    assert isinstance(instance.date_created, datetime), instance.date_created
    assert isinstance(instance.date_updated, datetime), instance.date_updated
    assert instance.date_updated >= instance.date_created
    assert instance.date_created.utcoffset().total_seconds() == 0


def is_sid(sid, prefix):
    return isinstance(sid, str) and len(sid) == 34 and sid.startswith(prefix)


def check_trunk(base, account_sid, trunk, name, domain, auth):
    """`auth` is how the trunk admits calls: [], ["IP_ACL"], ["IP_ACL", "CREDENTIAL_LIST"]."""
    assert is_sid(trunk.sid, "TK"), trunk.sid
    assert trunk.account_sid == account_sid
    assert (trunk.friendly_name, trunk.domain_name) == (name, domain)
    assert (trunk.auth_type, trunk.auth_type_set) == (",".join(auth), auth)
    # Settings callsign does not act on answer with Twilio's defaults.
    assert trunk.secure is False
    assert trunk.cnam_lookup_enabled is False
    assert trunk.symmetric_rtp_enabled is False
    assert trunk.recording == {"mode": "do-not-record", "trim": "do-not-trim"}
    assert trunk.transfer_mode == "disable-all"
    assert trunk.transfer_caller_id == "from-transferee"
    assert trunk.disaster_recovery_url is None
    assert trunk.disaster_recovery_method is None
    dated(trunk)
    url = f"{base}/v1/Trunks/{trunk.sid}"
    assert trunk.url == url
    assert trunk.links == {
        "origination_urls": f"{url}/OriginationUrls",
        "credential_lists": f"{url}/CredentialLists",
        "ip_access_control_lists": f"{url}/IpAccessControlLists",
        "phone_numbers": f"{url}/PhoneNumbers",
    }, trunk.links


def origination_urls(c, account_sid):
    """A trunk's origination URLs through their lifecycle, on a trunk of their own (its
    calls would go to these carriers)."""
    v1 = c.trunking.v1
    trunk = v1.trunks.create(friendly_name="Carrier routes")
    urls = v1.trunks(trunk.sid).origination_urls
    first = complete(
        c,
        urls.create(
            weight=10,
            priority=10,
            enabled=True,
            friendly_name="primary",
            sip_url="sip:93.184.216.34:5060",
        ),
    )
    assert is_sid(first.sid, "OU"), first.sid
    assert (first.trunk_sid, first.account_sid) == (trunk.sid, account_sid)
    assert (first.weight, first.priority, first.enabled) == (10, 10, True)
    assert first.sip_url == "sip:93.184.216.34:5060"
    dated(first)
    second = complete(
        c,
        urls.create(
            weight=5,
            priority=20,
            enabled=False,
            friendly_name="backup",
            sip_url="sip:93.184.216.35",
        ),
    )
    listed = paged(c, lambda: urls.stream(page_size=1), "origination_urls")
    assert [u.sid for u in listed] == [first.sid, second.sid], listed
    updated = complete(c, urls(second.sid).update(enabled=True, priority=15))
    assert (updated.enabled, updated.priority, updated.weight) == (True, 15, 5)
    assert complete(c, urls(first.sid).fetch()).friendly_name == "primary"
    # An internal address is no carrier.
    expect_error(
        400,
        20001,
        lambda: urls.create(
            weight=1, priority=1, enabled=True, friendly_name="x", sip_url="sip:10.0.0.1"
        ),
    )
    assert urls(second.sid).delete() is True
    expect_error(404, 20404, lambda: urls(second.sid).fetch())
    assert v1.trunks(trunk.sid).delete() is True


def set_role(base, c, trunk_sid, role):
    """Sets callsign's own `Role` of a trunk, which the client neither sends nor reads,
    by a raw request through the client's own HTTP client; returns the status and the
    JSON answer."""
    response = c.request("POST", f"{base}/v1/Trunks/{trunk_sid}", data={"Role": role})
    return response.status_code, json.loads(response.text)


def verifying_trunk(base, c, account_sid, name):
    """A trunk made by the client, then given Role=verify: it takes numbers."""
    trunk = complete(c, c.trunking.v1.trunks.create(friendly_name=name))
    check_trunk(base, account_sid, trunk, name, None, auth=[])
    assert raw(c)["role"] == "sign", raw(c)
    status, body = set_role(base, c, trunk.sid, "verify")
    assert (status, body["role"], body["sid"]) == (200, "verify", trunk.sid), body
    fetched = complete(c, c.trunking.v1.trunks(trunk.sid).fetch())
    check_trunk(base, account_sid, fetched, name, None, auth=[])
    assert raw(c)["role"] == "verify", raw(c)
    return fetched


def same_as(instance, row):
    """Asserts that every field `instance` reads is the one in `row`, its JSON."""
    for field in (k for k in vars(instance) if not k.startswith("_")):
        want = row[field]
        if field.startswith("date_"):
            want = deserialize.iso8601_datetime(want)
        assert getattr(instance, field) == want, (field, getattr(instance, field), row)


def check_trunk_number(base, c, account_sid, trunk_sid, n, number, row):
    """`n`, the number `number` (an IncomingPhoneNumber) as trunk `trunk_sid` has it,
    read from `row`, its JSON."""
    same_as(n, row)
    assert (n.sid, n.trunk_sid, n.account_sid) == (number.sid, trunk_sid, account_sid)
    assert (n.phone_number, n.friendly_name) == (number.phone_number, number.friendly_name)
    dated(n)
    assert (n.address_requirements, n.api_version, n.beta) == ("none", "2010-04-01", False)
    assert n.capabilities == {"voice": True, "sms": False, "mms": False, "fax": False}
    # callsign keeps no applications or webhooks of a number: the trunk takes its calls.
    assert (n.voice_url, n.voice_fallback_url, n.voice_application_sid) == (None, None, None)
    assert (n.voice_method, n.voice_fallback_method) == ("POST", "POST")
    assert n.voice_caller_id_lookup is False
    assert (n.sms_url, n.sms_fallback_url, n.sms_application_sid) == (None, None, None)
    assert (n.sms_method, n.sms_fallback_method) == ("POST", "POST")
    assert (n.status_callback, n.status_callback_method) == (None, "POST")
    assert n.url == f"{base}/v1/Trunks/{trunk_sid}/PhoneNumbers/{number.sid}"
    # Twilio's link to the number ends in .json, as every 2010 path does; it leads to it.
    link = f"{base}/2010-04-01/Accounts/{account_sid}/IncomingPhoneNumbers/{number.sid}.json"
    assert n.links == {"phone_number": link}, n.links
    response = c.request("GET", n.links["phone_number"])
    assert response.status_code == 200, (n.links, response.status_code, response.text)
    linked = json.loads(response.text)
    assert (linked["sid"], linked["trunk_sid"]) == (number.sid, trunk_sid), linked


def trunk_phone_numbers(base, c, op, account_sid, neighbour_sid, neighbour_trunk):
    """A verifying trunk's phone numbers through their lifecycle, on trunks of their own
    (a verified call to a number on a trunk goes to that trunk's origination URLs): the
    operator gives Trunk Co the numbers, Trunk Co puts them on the trunk, pages, fetches
    and takes them off again, and the 2010 API names the trunk a number is on. Another
    account's number or trunk, a number already on a trunk and a signing trunk are
    refused. The trunks and the numbers are gone again afterwards."""
    v1 = c.trunking.v1
    given = op.api.v2010.accounts(account_sid).incoming_phone_numbers
    numbers = [given.create(phone_number=INBOUND_NUMBERS[0], friendly_name="Main line")]
    numbers += [given.create(phone_number=e164) for e164 in INBOUND_NUMBERS[1:]]
    assert [n.friendly_name for n in numbers] == ["Main line"] + INBOUND_NUMBERS[1:]
    theirs = op.api.v2010.accounts(neighbour_sid).incoming_phone_numbers.create(
        phone_number=NEIGHBOUR_NUMBER
    ).sid
    mine = c.incoming_phone_numbers
    assert [mine(n.sid).fetch().trunk_sid for n in numbers] == [None] * 3

    # A trunk that signs takes no numbers (its origination URLs lead to carriers).
    signing = complete(c, v1.trunks.create(friendly_name="Outbound"))
    assert raw(c)["role"] == "sign", raw(c)
    said = expect_error(
        400,
        20001,
        lambda: v1.trunks(signing.sid).phone_numbers.create(phone_number_sid=numbers[0].sid),
        "a signing trunk",
    )
    assert "signs" in said, said
    assert v1.trunks(signing.sid).phone_numbers.list() == []
    assert mine(numbers[0].sid).fetch().trunk_sid is None

    inbound = verifying_trunk(base, c, account_sid, "Inbound")
    on = v1.trunks(inbound.sid).phone_numbers
    assert on.list() == []
    added = []
    for number in numbers:
        n = complete(c, on.create(phone_number_sid=number.sid))
        check_trunk_number(base, c, account_sid, inbound.sid, n, number, raw(c))
        added.append(n)
    listed = paged(c, lambda: on.stream(page_size=1), "phone_numbers")
    assert [n.sid for n in listed] == [n.sid for n in numbers], listed
    page = raw(c)
    assert page["meta"]["key"] == "phone_numbers", page["meta"]
    check_trunk_number(
        base, c, account_sid, inbound.sid, listed[2], numbers[2], page["phone_numbers"][0]
    )
    fetched = complete(c, on(numbers[1].sid).fetch())
    check_trunk_number(base, c, account_sid, inbound.sid, fetched, numbers[1], raw(c))
    assert fetched.date_created == added[1].date_created
    # The 2010 API names the trunk, through the account's path and the shortcut alike.
    assert [mine(n.sid).fetch().trunk_sid for n in numbers] == [inbound.sid] * 3
    assert [n.trunk_sid for n in mine.list()] == [inbound.sid] * 3
    assert given(numbers[0].sid).fetch().trunk_sid == inbound.sid

    # Refused, each a 400 with code 20001 that changes nothing: another account's
    # number (worded as one nobody has), a number already on a trunk (this one or
    # another), and a trunk with numbers that would sign.
    said = expect_error(400, 20001, lambda: on.create(phone_number_sid=theirs), "theirs")
    nobodys = expect_error(400, 20001, lambda: on.create(phone_number_sid=NO_NUMBER))
    assert "PhoneNumberSid" in said, said
    assert said.replace(theirs, NO_NUMBER) == nobodys, (said, nobodys)
    expect_error(400, 20001, lambda: on.create(phone_number_sid=inbound.sid), "a TK SID")
    said = expect_error(400, 20001, lambda: on.create(phone_number_sid=numbers[0].sid), "twice")
    assert "already on trunk" in said, said
    second = verifying_trunk(base, c, account_sid, "Inbound 2")
    said = expect_error(
        400,
        20001,
        lambda: v1.trunks(second.sid).phone_numbers.create(phone_number_sid=numbers[0].sid),
        "on another trunk",
    )
    assert "already on trunk" in said, said
    status, body = set_role(base, c, inbound.sid, "sign")
    assert (status, body["code"]) == (400, 20001) and "signs" in body["message"], body
    v1.trunks(inbound.sid).fetch()
    assert raw(c)["role"] == "verify", raw(c)
    assert [n.sid for n in on.list()] == [n.sid for n in numbers]
    assert v1.trunks(second.sid).phone_numbers.list() == []

    # Another account's trunk, and a number not on this one, are not there at all.
    their_trunk = v1.trunks(neighbour_trunk).phone_numbers
    expect_error(404, 20404, lambda: their_trunk.list())
    expect_error(404, 20404, lambda: their_trunk.create(phone_number_sid=numbers[0].sid))
    expect_error(404, 20404, lambda: their_trunk(numbers[0].sid).fetch())
    expect_error(404, 20404, lambda: their_trunk(numbers[0].sid).delete())
    for sid in (theirs, NO_NUMBER):
        expect_error(404, 20404, lambda: on(sid).fetch(), sid)
        expect_error(404, 20404, lambda: on(sid).delete(), sid)
    expect_error(404, 20404, lambda: v1.trunks(second.sid).phone_numbers(numbers[0].sid).fetch())

    # Off the trunk: the number stays Trunk Co's, on no trunk, and may go on another.
    assert on(numbers[1].sid).delete() is True
    expect_error(404, 20404, lambda: on(numbers[1].sid).fetch())
    expect_error(404, 20404, lambda: on(numbers[1].sid).delete())
    assert [n.sid for n in on.list()] == [numbers[0].sid, numbers[2].sid]
    assert mine(numbers[1].sid).fetch().trunk_sid is None
    # Through the instance, too.
    assert added[2].delete() is True
    assert mine(numbers[2].sid).fetch().trunk_sid is None
    assert [n.sid for n in on.list()] == [numbers[0].sid]
    moved = complete(c, v1.trunks(second.sid).phone_numbers.create(phone_number_sid=numbers[1].sid))
    check_trunk_number(base, c, account_sid, second.sid, moved, numbers[1], raw(c))
    assert mine(numbers[1].sid).fetch().trunk_sid == second.sid
    # The 2010 API's update names a number and puts it on a trunk, or takes it off.
    renamed = mine(numbers[2].sid).update(friendly_name="Support line", trunk_sid=second.sid)
    assert (renamed.friendly_name, renamed.trunk_sid) == ("Support line", second.sid)
    on_second = v1.trunks(second.sid).phone_numbers.list()
    assert [n.sid for n in on_second] == [numbers[1].sid, numbers[2].sid], on_second
    for trunk_sid, why in ((signing.sid, "signs"), (neighbour_trunk, "TrunkSid")):
        said = expect_error(400, 20001, lambda: mine(numbers[2].sid).update(trunk_sid=trunk_sid))
        assert why in said, said
    expect_error(400, 20001, lambda: mine(numbers[2].sid).update(voice_url="https://x.test/v"))
    expect_error(404, 20404, lambda: mine(theirs).update(friendly_name="Mine now"))
    off = mine(numbers[2].sid).update(trunk_sid="")
    assert (off.friendly_name, off.trunk_sid) == ("Support line", None), off
    # Releasing a number takes it off its trunk; deleting a trunk leaves its numbers.
    assert given(numbers[1].sid).delete() is True
    assert v1.trunks(second.sid).phone_numbers.list() == []
    assert v1.trunks(inbound.sid).delete() is True
    expect_error(404, 20404, lambda: on.list())
    assert mine(numbers[0].sid).fetch().trunk_sid is None
    for trunk in (second, signing):
        assert v1.trunks(trunk.sid).delete() is True
    for number in (numbers[0], numbers[2]):
        assert given(number.sid).delete() is True
    assert mine.list() == []


def check_list(account_sid, acl, name):
    assert is_sid(acl.sid, "AL"), acl.sid
    assert (acl.account_sid, acl.friendly_name) == (account_sid, name)
    dated(acl)
    uri = f"/2010-04-01/Accounts/{account_sid}/SIP/IpAccessControlLists/{acl.sid}"
    assert acl.uri == f"{uri}.json"
    assert acl.subresource_uris == {"ip_addresses": f"{uri}/IpAddresses.json"}


def check_address(account_sid, list_sid, a, name, ip, prefix):
    assert is_sid(a.sid, "IP"), a.sid
    assert (a.account_sid, a.ip_access_control_list_sid) == (account_sid, list_sid)
    assert (a.friendly_name, a.ip_address, a.cidr_prefix_length) == (name, ip, prefix)
    dated(a)
    assert a.uri == (
        f"/2010-04-01/Accounts/{account_sid}/SIP/IpAccessControlLists/{list_sid}"
        f"/IpAddresses/{a.sid}.json"
    )


def check_trunk_list(base, account_sid, trunk_sid, used, acl, kind="IpAccessControlLists"):
    """A list as trunk `trunk_sid` uses it; `kind` is the trunk's path for such lists."""
    assert (used.sid, used.trunk_sid) == (acl.sid, trunk_sid)
    assert (used.account_sid, used.friendly_name) == (account_sid, acl.friendly_name)
    dated(used)
    assert used.url == f"{base}/v1/Trunks/{trunk_sid}/{kind}/{acl.sid}"


def check_credential_list(account_sid, cl, name):
    assert is_sid(cl.sid, "CL"), cl.sid
    assert (cl.account_sid, cl.friendly_name) == (account_sid, name)
    dated(cl)
    uri = f"/2010-04-01/Accounts/{account_sid}/SIP/CredentialLists/{cl.sid}"
    assert cl.uri == f"{uri}.json"
    assert cl.subresource_uris == {"credentials": f"{uri}/Credentials.json"}


def check_credential(c, account_sid, list_sid, cr, username):
    """A credential, and the response it came in: no field of it names a password."""
    assert is_sid(cr.sid, "CR"), cr.sid
    assert (cr.account_sid, cr.credential_list_sid) == (account_sid, list_sid)
    assert cr.username == username
    dated(cr)
    assert cr.uri == (
        f"/2010-04-01/Accounts/{account_sid}/SIP/CredentialLists/{list_sid}"
        f"/Credentials/{cr.sid}.json"
    )
    body = raw(c)
    rows = body.get("credentials", [body])
    keys = {k for row in rows for k in row}
    leaks = sorted(k for k in keys if any(w in k.lower() for w in ("pass", "ha1", "digest")))
    assert not leaks, f"{leaks} in {body}"


def neighbour(base, op):
    """An account whose trunk admits NEIGHBOUR_IP, with a credential list of its own:
    (account, trunk, list, credential list) SIDs."""
    account = op.api.v2010.accounts.create(friendly_name="Neighbour Co")
    c = client(base, account.sid, account.auth_token)
    trunk = c.trunking.v1.trunks.create(friendly_name="Neighbour PBX")
    acl = c.sip.ip_access_control_lists.create(friendly_name="neighbour")
    c.sip.ip_access_control_lists(acl.sid).ip_addresses.create(
        friendly_name="pbx", ip_address=NEIGHBOUR_IP
    )
    c.trunking.v1.trunks(trunk.sid).ip_access_control_lists.create(
        ip_access_control_list_sid=acl.sid
    )
    cl = c.sip.credential_lists.create(friendly_name="neighbour phones")
    c.sip.credential_lists(cl.sid).credentials.create(username="alice", password="Their-Passw0rd")
    return account.sid, trunk.sid, acl.sid, cl.sid


def trunks(base, c, account_sid):
    """Trunk Co's trunks through their whole lifecycle; returns the "PBX" trunk and the
    "Backup" trunk, whose domain is DOMAIN."""
    v1 = c.trunking.v1
    # The PBX trunk has no domain, so it takes its addresses' calls whatever they are
    # addressed to (a trunk with a DomainName takes only those addressed to it).
    pbx = complete(c, v1.trunks.create(friendly_name="PBX"))
    check_trunk(base, account_sid, pbx, "PBX", None, auth=[])
    # callsign's own call limit, which the client neither sends nor reads: none.
    assert (raw(c)["calls_per_second"], raw(c)["calls_burst"]) == (None, None), raw(c)
    spares = [
        complete(c, v1.trunks.create(friendly_name="Spare 1", domain_name="spare.trunkco.example")),
        complete(c, v1.trunks.create(friendly_name="Spare 2")),
    ]
    check_trunk(base, account_sid, spares[0], "Spare 1", "spare.trunkco.example", auth=[])
    check_trunk(base, account_sid, spares[1], "Spare 2", None, auth=[])

    listed = paged(c, lambda: v1.trunks.stream(page_size=1), "trunks")
    assert [t.sid for t in listed] == [pbx.sid] + [s.sid for s in spares], listed
    assert [t.sid for t in v1.trunks.list(limit=2)] == [pbx.sid, spares[0].sid]

    fetched = complete(c, v1.trunks(pbx.sid).fetch())
    check_trunk(base, account_sid, fetched, "PBX", None, auth=[])
    renamed = complete(
        c,
        v1.trunks(spares[0].sid).update(friendly_name="Backup", domain_name=DOMAIN),
    )
    check_trunk(base, account_sid, renamed, "Backup", DOMAIN, auth=[])
    assert renamed.date_created == spares[0].date_created
    assert v1.trunks(spares[0].sid).fetch().domain_name == DOMAIN
    # Through the instance, too: the client's own fetch and update of what it holds.
    assert spares[1].update(friendly_name="Spare").friendly_name == "Spare"
    assert spares[1].fetch().friendly_name == "Spare"

    # A domain another trunk has, and a setting callsign does not act on.
    expect_error(
        400,
        20001,
        lambda: v1.trunks.create(friendly_name="x", domain_name=DOMAIN.upper()),
    )
    expect_error(400, 20001, lambda: v1.trunks(spares[1].sid).update(domain_name=DOMAIN))
    expect_error(400, 20001, lambda: v1.trunks.create(friendly_name="x", secure=True))
    expect_error(400, 20001, lambda: v1.trunks(pbx.sid).update(transfer_mode="enable-all"))

    assert v1.trunks(spares[1].sid).delete() is True
    expect_error(404, 20404, lambda: v1.trunks(spares[1].sid).fetch())
    expect_error(404, 20404, lambda: v1.trunks(spares[1].sid).delete())
    assert [t.sid for t in v1.trunks.list()] == [pbx.sid, spares[0].sid]
    return pbx, renamed


def lists(c, account_sid):
    """Trunk Co's lists: "office", "branch" and "spare", renamed and fetched."""
    sip = c.sip.ip_access_control_lists
    made = []
    for name in ("office", "branch", "spare room"):
        acl = complete(c, sip.create(friendly_name=name))
        check_list(account_sid, acl, name)
        made.append(acl)
    listed = paged(c, lambda: sip.stream(page_size=1), "ip_access_control_lists")
    assert [x.sid for x in listed] == [x.sid for x in made]
    # The same list, reached through the account's path rather than the shortcut.
    other_path = c.api.v2010.accounts(account_sid).sip.ip_access_control_lists
    assert [x.sid for x in other_path.list()] == [x.sid for x in made]

    fetched = complete(c, sip(made[2].sid).fetch())
    check_list(account_sid, fetched, "spare room")
    renamed = complete(c, sip(made[2].sid).update(friendly_name="spare"))
    check_list(account_sid, renamed, "spare")
    assert sip(made[2].sid).fetch().friendly_name == "spare"
    return {x.friendly_name: x for x in (made[0], made[1], renamed)}


def addresses(c, account_sid, office, neighbour_list):
    """The addresses of the office list, which the PBX trunk uses, with every refusal;
    PBX_IP stays in it."""
    ips = c.sip.ip_access_control_lists(office.sid).ip_addresses
    pbx = complete(c, ips.create(friendly_name="pbx", ip_address=PBX_IP))
    check_address(account_sid, office.sid, pbx, "pbx", PBX_IP, 32)
    lab = complete(c, ips.create(friendly_name="lab", ip_address="10.1.0.0", cidr_prefix_length=24))
    check_address(account_sid, office.sid, lab, "lab", "10.1.0.0", 24)
    spare = complete(c, ips.create(friendly_name="spare", ip_address="10.2.0.1"))
    check_address(account_sid, office.sid, spare, "spare", "10.2.0.1", 32)

    listed = paged(c, lambda: ips.stream(page_size=1), "ip_addresses")
    assert [a.sid for a in listed] == [pbx.sid, lab.sid, spare.sid]
    check_address(account_sid, office.sid, listed[1], "lab", "10.1.0.0", 24)

    fetched = complete(c, ips(lab.sid).fetch())
    check_address(account_sid, office.sid, fetched, "lab", "10.1.0.0", 24)
    moved = complete(
        c,
        ips(spare.sid).update(
            friendly_name="spare /30", ip_address="10.3.0.0", cidr_prefix_length=30
        ),
    )
    check_address(account_sid, office.sid, moved, "spare /30", "10.3.0.0", 30)
    widened = complete(c, ips(spare.sid).update(cidr_prefix_length=29))
    check_address(account_sid, office.sid, widened, "spare /30", "10.3.0.0", 29)

    # Refused, each a 400 with code 20001 that changes nothing.
    for ip, prefix in [
        ("127.0.0.300", None),  # not an address
        ("not-an-ip", None),
        ("10.9.0.0", 4),  # wider than /8
        (NEIGHBOUR_IP, None),  # the neighbour's trunk's address
        ("127.0.0.0", 24),  # a range holding it
        (PBX_IP, None),  # already in the list
    ]:
        kw = {} if prefix is None else {"cidr_prefix_length": prefix}
        expect_error(
            400, 20001, lambda: ips.create(friendly_name="x", ip_address=ip, **kw), f"{ip}/{prefix}"
        )
    expect_error(
        400, 20001, lambda: ips(lab.sid).update(ip_address="127.0.0.8", cidr_prefix_length=29)
    )
    expect_error(400, 20001, lambda: ips(lab.sid).update(ip_address="999.1.1.1"))
    assert [a.sid for a in ips.list()] == [pbx.sid, lab.sid, spare.sid]
    assert ips(lab.sid).fetch().ip_address == "10.1.0.0"

    assert ips(spare.sid).delete() is True
    expect_error(404, 20404, lambda: ips(spare.sid).fetch())
    assert [a.sid for a in ips.list()] == [pbx.sid, lab.sid]
    # The neighbour's list is not Trunk Co's, whichever list path names it.
    their_list = c.sip.ip_access_control_lists(neighbour_list)
    expect_error(404, 20404, lambda: their_list.ip_addresses.list())
    expect_error(404, 20404, lambda: their_list.fetch())
    return pbx


def office_on_trunk(base, c, account_sid, pbx, office):
    """The office list, still empty, on the PBX trunk: from now on its addresses are
    the trunk's, and as it has no domain, no other such trunk's may overlap them."""
    uses = c.trunking.v1.trunks(pbx.sid).ip_access_control_lists
    assert uses.list() == []
    used = complete(c, uses.create(ip_access_control_list_sid=office.sid))
    check_trunk_list(base, account_sid, pbx.sid, used, office)
    trunk = complete(c, c.trunking.v1.trunks(pbx.sid).fetch())
    check_trunk(base, account_sid, trunk, "PBX", None, auth=["IP_ACL"])


def trunk_lists(base, c, account_sid, pbx, acls, neighbour_list):
    """The PBX trunk's other lists: "spare" only once it no longer overlaps the
    neighbour's trunk; all three paged; "spare" taken off and deleted again."""
    uses = c.trunking.v1.trunks(pbx.sid).ip_access_control_lists
    # A list no trunk uses may hold any address; putting it on a trunk is what would
    # let two trunks share the neighbour's address, and is refused.
    spare_ips = c.sip.ip_access_control_lists(acls["spare"].sid).ip_addresses
    theirs = complete(c, spare_ips.create(friendly_name="theirs", ip_address=NEIGHBOUR_IP))
    check_address(account_sid, acls["spare"].sid, theirs, "theirs", NEIGHBOUR_IP, 32)
    expect_error(
        400, 20001, lambda: uses.create(ip_access_control_list_sid=acls["spare"].sid), "overlap"
    )
    assert spare_ips(theirs.sid).delete() is True

    for name in ("branch", "spare"):
        used = complete(c, uses.create(ip_access_control_list_sid=acls[name].sid))
        check_trunk_list(base, account_sid, pbx.sid, used, acls[name])
    listed = paged(c, lambda: uses.stream(page_size=1), "ip_access_control_lists")
    assert [u.sid for u in listed] == [acls[n].sid for n in ("office", "branch", "spare")]
    fetched = complete(c, uses(acls["branch"].sid).fetch())
    check_trunk_list(base, account_sid, pbx.sid, fetched, acls["branch"])
    # The spare list is on the trunk now, so the neighbour's address may not join it.
    expect_error(
        400,
        20001,
        lambda: spare_ips.create(friendly_name="theirs", ip_address=NEIGHBOUR_IP),
        "overlap on a used list",
    )

    # Refused: the neighbour's list, and a list the trunk already uses.
    expect_error(400, 20001, lambda: uses.create(ip_access_control_list_sid=neighbour_list))
    expect_error(400, 20001, lambda: uses.create(ip_access_control_list_sid=acls["office"].sid))

    listed = c.trunking.v1.trunks.list()
    assert [t.auth_type_set for t in listed] == [["IP_ACL"], []], listed
    assert [t.auth_type for t in listed] == ["IP_ACL", ""], listed

    assert uses(acls["spare"].sid).delete() is True
    expect_error(404, 20404, lambda: uses(acls["spare"].sid).fetch())
    assert c.sip.ip_access_control_lists(acls["spare"].sid).delete() is True
    expect_error(404, 20404, lambda: c.sip.ip_access_control_lists(acls["spare"].sid).fetch())
    assert [u.sid for u in uses.list()] == [acls["office"].sid, acls["branch"].sid]


def credential_lists(c, account_sid, neighbour_cl):
    """Trunk Co's credential lists "staff", "contractors" and "old staff", the last
    renamed "alumni"; the neighbour's list is as unknown as one never made."""
    sip = c.sip.credential_lists
    made = []
    for name in ("staff", "contractors", "old staff"):
        cl = complete(c, sip.create(friendly_name=name))
        check_credential_list(account_sid, cl, name)
        made.append(cl)
    listed = paged(c, lambda: sip.stream(page_size=1), "credential_lists")
    assert [x.sid for x in listed] == [x.sid for x in made]
    check_credential_list(account_sid, listed[1], "contractors")
    # The same lists, reached through the account's path rather than the shortcut.
    other_path = c.api.v2010.accounts(account_sid).sip.credential_lists
    assert [x.sid for x in other_path.list()] == [x.sid for x in made]

    fetched = complete(c, sip(made[2].sid).fetch())
    check_credential_list(account_sid, fetched, "old staff")
    renamed = complete(c, sip(made[2].sid).update(friendly_name="alumni"))
    check_credential_list(account_sid, renamed, "alumni")
    assert renamed.date_created == made[2].date_created
    assert sip(made[2].sid).fetch().friendly_name == "alumni"
    expect_error(400, 20001, lambda: sip.create(friendly_name="x" * 65), "a 65-character name")

    for sid in (neighbour_cl, NO_LIST):
        theirs = sip(sid)
        expect_error(404, 20404, lambda: theirs.fetch(), sid)
        expect_error(404, 20404, lambda: theirs.update(friendly_name="mine"), sid)
        expect_error(404, 20404, lambda: theirs.delete(), sid)
        expect_error(404, 20404, lambda: theirs.credentials.list(), sid)
        expect_error(
            404,
            20404,
            lambda: theirs.credentials.create(username="mallory", password="Mall0ry-Passw0rd"),
            sid,
        )
    assert [x.friendly_name for x in sip.list()] == ["staff", "contractors", "alumni"]
    return {x.friendly_name: x for x in (made[0], made[1], renamed)}


def credentials(c, account_sid, cls):
    """The credentials of the staff list, with every refusal: alice's password ends as
    NEW_PASSWORD, bob's is changed through the instance, carol's credential is deleted.
    Returns the secrets the server was given."""
    creds = c.sip.credential_lists(cls["staff"].sid).credentials
    made = []
    for username, password in PASSWORDS.items():
        cr = complete(c, creds.create(username=username, password=password))
        check_credential(c, account_sid, cls["staff"].sid, cr, username)
        made.append(cr)
    alice, bob, carol = made
    listed = paged(c, lambda: creds.stream(page_size=1), "credentials")
    assert [x.sid for x in listed] == [x.sid for x in made]
    check_credential(c, account_sid, cls["staff"].sid, listed[2], "carol")

    fetched = complete(c, creds(alice.sid).fetch())
    check_credential(c, account_sid, cls["staff"].sid, fetched, "alice")
    updated = complete(c, creds(alice.sid).update(password=NEW_PASSWORD))
    check_credential(c, account_sid, cls["staff"].sid, updated, "alice")
    assert updated.date_created == alice.date_created
    assert updated.date_updated >= alice.date_updated
    # Through the instance, too.
    assert complete(c, bob.update(password="Bob-Passw0rd-2")).username == "bob"

    # Refused, each a 400 with code 20001 that changes nothing.
    good = "Dave-Passw0rd"
    refused = [
        ("dave", "short", "a short password"),
        ("dave", "Elev3n-Char", "11 characters"),
        ("dave", "no-digits-Here", "no digit"),
        ("dave", "n0-upper-case", "no uppercase letter"),
        ("dave", "N0-LOWER-CASE", "no lowercase letter"),
        ('da"ve', good, "a double quote"),
        ("da:ve", good, "a colon"),
        ("da\\ve", good, "a backslash"),
        ("da ve", good, "a space"),
        ("d" * 33, good, "33 characters"),
        ("alice", good, "a username the list has"),
    ]
    for username, password, what in refused:
        expect_error(
            400, 20001, lambda: creds.create(username=username, password=password), what
        )
    expect_error(400, 20001, lambda: creds(alice.sid).update(password="short"), "a weak update")
    assert creds(alice.sid).fetch().date_updated == updated.date_updated
    assert [x.username for x in creds.list()] == ["alice", "bob", "carol"]

    # A username is unique in its list only.
    alumni = c.sip.credential_lists(cls["alumni"].sid).credentials
    again = complete(c, alumni.create(username="alice", password="Alumni-Passw0rd"))
    check_credential(c, account_sid, cls["alumni"].sid, again, "alice")
    # Another list's credential is not this list's.
    expect_error(404, 20404, lambda: creds(again.sid).fetch())
    expect_error(404, 20404, lambda: alumni(alice.sid).update(password="Other-Passw0rd"))

    assert creds(carol.sid).delete() is True
    expect_error(404, 20404, lambda: creds(carol.sid).fetch())
    expect_error(404, 20404, lambda: creds(carol.sid).delete())
    assert [x.sid for x in creds.list()] == [alice.sid, bob.sid]

    passwords = list(PASSWORDS.values()) + [NEW_PASSWORD, "Bob-Passw0rd-2", "Alumni-Passw0rd"]
    passwords += [p for _, p, _ in refused] + ["Mall0ry-Passw0rd", "Other-Passw0rd"]
    passwords.append("Their-Passw0rd")  # the neighbour's alice's
    secrets = set(passwords)
    for username in ("alice", "bob", "carol", "dave", "mallory"):
        for password in passwords:
            secrets.update(digests(username, password))
    return again, secrets


def trunk_credentials(base, c, account_sid, backup, cls, branch, neighbour_cl, alumnus):
    """The Backup trunk, which has a domain, takes the branch IP access list and the
    three credential lists; "contractors" is taken off again and "alumni" deleted, which
    takes it off too."""
    trunk = c.trunking.v1.trunks(backup.sid)
    check_trunk(base, account_sid, trunk.fetch(), "Backup", DOMAIN, auth=[])
    trunk.ip_access_control_lists.create(ip_access_control_list_sid=branch.sid)
    check_trunk(base, account_sid, trunk.fetch(), "Backup", DOMAIN, auth=["IP_ACL"])

    uses = trunk.credentials_lists
    assert uses.list() == []
    for name in ("staff", "contractors", "alumni"):
        used = complete(c, uses.create(credential_list_sid=cls[name].sid))
        check_trunk_list(base, account_sid, backup.sid, used, cls[name], "CredentialLists")
    both = ["IP_ACL", "CREDENTIAL_LIST"]
    check_trunk(base, account_sid, complete(c, trunk.fetch()), "Backup", DOMAIN, auth=both)
    listed = paged(c, lambda: uses.stream(page_size=1), "credential_lists")
    assert [u.sid for u in listed] == [cls[n].sid for n in ("staff", "contractors", "alumni")]
    fetched = complete(c, uses(cls["contractors"].sid).fetch())
    check_trunk_list(base, account_sid, backup.sid, fetched, cls["contractors"], "CredentialLists")
    listed = c.trunking.v1.trunks.list()
    assert [t.auth_type_set for t in listed] == [["IP_ACL"], both], listed
    assert [t.auth_type for t in listed] == ["IP_ACL", "IP_ACL,CREDENTIAL_LIST"], listed

    # Refused: a list the trunk already uses, an IP access list's SID, and another
    # account's list. The trunk is the caller's, so the unknown list is a bad form
    # value (400/20001), worded as for a list nobody has, rather than a 404 of the
    # path.
    expect_error(400, 20001, lambda: uses.create(credential_list_sid=cls["staff"].sid), "twice")
    expect_error(400, 20001, lambda: uses.create(credential_list_sid=branch.sid), "an AL SID")
    theirs = expect_error(400, 20001, lambda: uses.create(credential_list_sid=neighbour_cl))
    nobodys = expect_error(400, 20001, lambda: uses.create(credential_list_sid=NO_LIST))
    assert theirs.replace(neighbour_cl, NO_LIST) == nobodys, (theirs, nobodys)
    expect_error(404, 20404, lambda: uses(neighbour_cl).fetch())
    assert [u.sid for u in uses.list()] == [cls[n].sid for n in ("staff", "contractors", "alumni")]

    assert uses(cls["contractors"].sid).delete() is True
    expect_error(404, 20404, lambda: uses(cls["contractors"].sid).fetch())
    expect_error(404, 20404, lambda: uses(cls["contractors"].sid).delete())
    # Taken off the trunk only: the list and its name are still there.
    assert c.sip.credential_lists(cls["contractors"].sid).fetch().friendly_name == "contractors"

    # Deleting a list takes its credentials, and the trunk's use of it, with it.
    alumni = c.sip.credential_lists(cls["alumni"].sid)
    assert alumni.delete() is True
    expect_error(404, 20404, lambda: alumni.fetch())
    expect_error(404, 20404, lambda: alumni.credentials.list())
    expect_error(404, 20404, lambda: alumni.credentials(alumnus.sid).fetch())
    expect_error(404, 20404, lambda: uses(cls["alumni"].sid).fetch())
    assert [u.sid for u in uses.list()] == [cls["staff"].sid]
    assert [x.friendly_name for x in c.sip.credential_lists.list()] == ["staff", "contractors"]
    check_trunk(base, account_sid, trunk.fetch(), "Backup", DOMAIN, auth=both)


def others(c, neighbour_sid, neighbour_trunk, neighbour_cl):
    """Another account's trunk, and its lists, are as unknown as ones never made."""
    theirs = c.trunking.v1.trunks(neighbour_trunk)
    expect_error(404, 20404, lambda: theirs.fetch())
    expect_error(404, 20404, lambda: theirs.update(friendly_name="mine"))
    expect_error(404, 20404, lambda: theirs.delete())
    expect_error(404, 20404, lambda: theirs.ip_access_control_lists.list())
    expect_error(404, 20404, lambda: theirs.credentials_lists.list())
    expect_error(
        404, 20404, lambda: theirs.credentials_lists.create(credential_list_sid=neighbour_cl)
    )
    assert neighbour_trunk not in [t.sid for t in c.trunking.v1.trunks.list()]
    their_lists = c.api.v2010.accounts(neighbour_sid).sip.ip_access_control_lists
    expect_error(404, 20404, lambda: their_lists.list())
    expect_error(404, 20404, lambda: their_lists.create(friendly_name="mine"))
    their_cls = c.api.v2010.accounts(neighbour_sid).sip.credential_lists
    expect_error(404, 20404, lambda: their_cls.list())
    expect_error(404, 20404, lambda: their_cls.create(friendly_name="mine"))
    expect_error(404, 20404, lambda: their_cls(neighbour_cl).fetch())
    expect_error(404, 20404, lambda: their_cls(neighbour_cl).credentials.list())


def provision(base, state):
    op = operator(base)
    neighbour_sid, neighbour_trunk, neighbour_list, neighbour_cl = neighbour(base, op)
    account = op.api.v2010.accounts.create(friendly_name="Trunk Co")
    c = client(base, account.sid, account.auth_token)

    pbx, backup = trunks(base, c, account.sid)
    origination_urls(c, account.sid)
    trunk_phone_numbers(base, c, op, account.sid, neighbour_sid, neighbour_trunk)
    acls = lists(c, account.sid)
    office_on_trunk(base, c, account.sid, pbx, acls["office"])
    address = addresses(c, account.sid, acls["office"], neighbour_list)
    trunk_lists(base, c, account.sid, pbx, acls, neighbour_list)
    cls = credential_lists(c, account.sid, neighbour_cl)
    alumnus, secrets = credentials(c, account.sid, cls)
    trunk_credentials(
        base, c, account.sid, backup, cls, acls["branch"], neighbour_cl, alumnus
    )
    others(c, neighbour_sid, neighbour_trunk, neighbour_cl)
    never_shown(c, secrets)

    # The operator sees both accounts' trunks.
    every = [t.sid for t in op.trunking.v1.trunks.list()]
    assert pbx.sid in every and neighbour_trunk in every, every
    state.update(
        account_sid=account.sid,
        account_token=account.auth_token,
        trunk_sid=pbx.sid,
        office_sid=acls["office"].sid,
        branch_sid=acls["branch"].sid,
        address_sid=address.sid,
        backup_sid=backup.sid,
        staff_sid=cls["staff"].sid,
        contractors_sid=cls["contractors"].sid,
        # What the driver's call to DOMAIN authenticates with, and what it must not.
        domain=DOMAIN,
        username="alice",
        password=NEW_PASSWORD,
        old_password=PASSWORDS["alice"],
    )


def teardown(base, state):
    c = client(base, state["account_sid"], state["account_token"])
    trunk = c.trunking.v1.trunks(state["trunk_sid"])
    office = c.sip.ip_access_control_lists(state["office_sid"])

    # The Backup trunk's credential list comes off, and it admits by address alone.
    backup = c.trunking.v1.trunks(state["backup_sid"])
    assert backup.credentials_lists(state["staff_sid"]).delete() is True
    assert backup.credentials_lists.list() == []
    fetched = backup.fetch()
    assert (fetched.auth_type, fetched.auth_type_set) == ("IP_ACL", ["IP_ACL"]), fetched
    staff = c.sip.credential_lists(state["staff_sid"])
    creds = staff.credentials.list()
    assert [x.username for x in creds] == ["alice", "bob"], creds
    assert staff.credentials(creds[0].sid).delete() is True
    assert [x.username for x in staff.credentials.list()] == ["bob"]
    # Deleting a list deletes the credentials it still holds.
    assert staff.delete() is True
    expect_error(404, 20404, lambda: staff.credentials(creds[1].sid).fetch())
    assert c.sip.credential_lists(state["contractors_sid"]).delete() is True
    assert c.sip.credential_lists.list() == []

    assert trunk.ip_access_control_lists(state["office_sid"]).delete() is True
    assert [u.sid for u in trunk.ip_access_control_lists.list()] == [state["branch_sid"]]
    assert office.ip_addresses(state["address_sid"]).delete() is True
    expect_error(404, 20404, lambda: office.ip_addresses(state["address_sid"]).fetch())
    assert office.delete() is True
    expect_error(404, 20404, lambda: office.fetch())
    # Deleting a list trunks use takes it off each of them.
    assert c.sip.ip_access_control_lists(state["branch_sid"]).delete() is True
    assert trunk.ip_access_control_lists.list() == []
    assert backup.ip_access_control_lists.list() == []
    assert backup.fetch().auth_type_set == []
    fetched = trunk.fetch()
    assert (fetched.auth_type, fetched.auth_type_set) == ("", []), fetched.auth_type_set
    assert trunk.delete() is True
    expect_error(404, 20404, lambda: trunk.fetch())
    expect_error(404, 20404, lambda: trunk.ip_access_control_lists.list())
    remaining = [t.friendly_name for t in c.trunking.v1.trunks.list()]
    assert remaining == ["Backup"], remaining
    assert c.sip.ip_access_control_lists.list() == []
    secrets = [state["password"], state["old_password"]]
    secrets += digests(state["username"], state["password"])
    never_shown(c, secrets)


def main():
    phase, base, path = sys.argv[1:4]
    state = {}
    if os.path.exists(path):
        with open(path) as f:
            state = json.load(f)
    {"provision": provision, "teardown": teardown}[phase](base, state)
    with open(path, "w") as f:
        json.dump(state, f)
    print(f"{phase}: ok")


if __name__ == "__main__":
    main()
