"""Drives callsign's trunking API with the official `twilio` helper library.

Run by tests/twilio_compat.rs in two phases that share a JSON state file:

  provision BASE STATE   the operator creates two accounts. The neighbour takes
                         127.0.0.9 on a trunk of its own. Trunk Co drives every call of
                         the trunk, IP access control list and IP address lifecycle,
                         and the refusals, and leaves its "PBX" trunk admitting
                         127.0.0.5 through its "office" list.
  teardown  BASE STATE   Trunk Co takes the list off the trunk and deletes the address,
                         the lists and the trunk; each is gone afterwards.

Between the phases the driver places a SIPp call from 127.0.0.5, and after teardown
it checks that the next call from there is refused.

BASE is callsign's HTTP address (http://127.0.0.1:PORT). The operator's credential
comes from the environment (OPERATOR_SID, OPERATOR_TOKEN).

Every create, fetch and update also checks the raw response: each field the client's
instance reads must be in it, because the client reads a missing field as None.
"""

import json
import os
import sys
from datetime import datetime
from urllib.parse import parse_qs, urlparse

from twilio.base.exceptions import TwilioException, TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client

PBX_IP = "127.0.0.5"
NEIGHBOUR_IP = "127.0.0.9"


class Recorder(TwilioHttpClient):
    """The client's own HTTP client, remembering each request's method, URL and query
    parameters, and the last response."""

    def __init__(self):
        super().__init__()
        self.requests = []
        self.last_response = None

    def request(self, method, url, *args, **kwargs):
        self.requests.append((method, url, kwargs.get("params") or {}))
        self.last_response = super().request(method, url, *args, **kwargs)
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
    but a bare TwilioException carrying the response for a refused list page."""
    try:
        call()
    except TwilioRestException as e:
        got, text = (e.status, e.code), e.msg
    except TwilioException as e:
        response = e.args[1]
        got = (response.status_code, json.loads(response.text).get("code"))
        text = response.text
    else:
        raise AssertionError(f"{what}: expected {status}/{code}, got success")
    assert got == (status, code), f"{what}: expected {status}/{code}, got {got}: {text}"


def raw(c):
    """The JSON body of the last response `c` received."""
    return json.loads(c.http_client.last_response.text)


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


def check_trunk(base, account_sid, trunk, name, domain, lists):
    assert is_sid(trunk.sid, "TK"), trunk.sid
    assert trunk.account_sid == account_sid
    assert (trunk.friendly_name, trunk.domain_name) == (name, domain)
    auth = ["IP_ACL"] if lists else []
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


def check_trunk_list(base, account_sid, trunk_sid, used, acl):
    assert (used.sid, used.trunk_sid) == (acl.sid, trunk_sid)
    assert (used.account_sid, used.friendly_name) == (account_sid, acl.friendly_name)
    dated(used)
    assert used.url == f"{base}/v1/Trunks/{trunk_sid}/IpAccessControlLists/{acl.sid}"


def neighbour(base, op):
    """An account whose trunk admits NEIGHBOUR_IP: (account, trunk, list) SIDs."""
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
    return account.sid, trunk.sid, acl.sid


def trunks(base, c, account_sid):
    """Trunk Co's trunks through their whole lifecycle; returns the "PBX" trunk."""
    v1 = c.trunking.v1
    # The PBX trunk has no domain, so it takes its addresses' calls whatever they are
    # addressed to (a trunk with a DomainName takes only those addressed to it).
    pbx = complete(c, v1.trunks.create(friendly_name="PBX"))
    check_trunk(base, account_sid, pbx, "PBX", None, lists=False)
    spares = [
        complete(c, v1.trunks.create(friendly_name="Spare 1", domain_name="spare.trunkco.example")),
        complete(c, v1.trunks.create(friendly_name="Spare 2")),
    ]
    check_trunk(base, account_sid, spares[0], "Spare 1", "spare.trunkco.example", lists=False)
    check_trunk(base, account_sid, spares[1], "Spare 2", None, lists=False)

    listed = paged(c, lambda: v1.trunks.stream(page_size=1), "trunks")
    assert [t.sid for t in listed] == [pbx.sid] + [s.sid for s in spares], listed
    assert [t.sid for t in v1.trunks.list(limit=2)] == [pbx.sid, spares[0].sid]

    fetched = complete(c, v1.trunks(pbx.sid).fetch())
    check_trunk(base, account_sid, fetched, "PBX", None, lists=False)
    renamed = complete(
        c,
        v1.trunks(spares[0].sid).update(
            friendly_name="Backup", domain_name="backup.trunkco.example"
        ),
    )
    check_trunk(base, account_sid, renamed, "Backup", "backup.trunkco.example", lists=False)
    assert renamed.date_created == spares[0].date_created
    assert v1.trunks(spares[0].sid).fetch().domain_name == "backup.trunkco.example"
    # Through the instance, too: the client's own fetch and update of what it holds.
    assert spares[1].update(friendly_name="Spare").friendly_name == "Spare"
    assert spares[1].fetch().friendly_name == "Spare"

    # A domain another trunk has, and a setting callsign does not act on.
    expect_error(
        400,
        20001,
        lambda: v1.trunks.create(friendly_name="x", domain_name="BACKUP.trunkco.example"),
    )
    expect_error(
        400, 20001, lambda: v1.trunks(spares[1].sid).update(domain_name="backup.trunkco.example")
    )
    expect_error(400, 20001, lambda: v1.trunks.create(friendly_name="x", secure=True))
    expect_error(400, 20001, lambda: v1.trunks(pbx.sid).update(transfer_mode="enable-all"))

    assert v1.trunks(spares[1].sid).delete() is True
    expect_error(404, 20404, lambda: v1.trunks(spares[1].sid).fetch())
    expect_error(404, 20404, lambda: v1.trunks(spares[1].sid).delete())
    assert [t.sid for t in v1.trunks.list()] == [pbx.sid, spares[0].sid]
    return pbx


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
    check_trunk(base, account_sid, trunk, "PBX", None, lists=True)


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


def others(c, neighbour_sid, neighbour_trunk):
    """Another account's trunk, and its lists, are as unknown as ones never made."""
    theirs = c.trunking.v1.trunks(neighbour_trunk)
    expect_error(404, 20404, lambda: theirs.fetch())
    expect_error(404, 20404, lambda: theirs.update(friendly_name="mine"))
    expect_error(404, 20404, lambda: theirs.delete())
    expect_error(404, 20404, lambda: theirs.ip_access_control_lists.list())
    assert neighbour_trunk not in [t.sid for t in c.trunking.v1.trunks.list()]
    their_lists = c.api.v2010.accounts(neighbour_sid).sip.ip_access_control_lists
    expect_error(404, 20404, lambda: their_lists.list())
    expect_error(404, 20404, lambda: their_lists.create(friendly_name="mine"))


def provision(base, state):
    op = operator(base)
    neighbour_sid, neighbour_trunk, neighbour_list = neighbour(base, op)
    account = op.api.v2010.accounts.create(friendly_name="Trunk Co")
    c = client(base, account.sid, account.auth_token)

    pbx = trunks(base, c, account.sid)
    acls = lists(c, account.sid)
    office_on_trunk(base, c, account.sid, pbx, acls["office"])
    address = addresses(c, account.sid, acls["office"], neighbour_list)
    trunk_lists(base, c, account.sid, pbx, acls, neighbour_list)
    others(c, neighbour_sid, neighbour_trunk)

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
    )


def teardown(base, state):
    c = client(base, state["account_sid"], state["account_token"])
    trunk = c.trunking.v1.trunks(state["trunk_sid"])
    office = c.sip.ip_access_control_lists(state["office_sid"])

    assert trunk.ip_access_control_lists(state["office_sid"]).delete() is True
    assert [u.sid for u in trunk.ip_access_control_lists.list()] == [state["branch_sid"]]
    assert office.ip_addresses(state["address_sid"]).delete() is True
    expect_error(404, 20404, lambda: office.ip_addresses(state["address_sid"]).fetch())
    assert office.delete() is True
    expect_error(404, 20404, lambda: office.fetch())
    # Deleting a list a trunk uses takes it off the trunk.
    assert c.sip.ip_access_control_lists(state["branch_sid"]).delete() is True
    assert trunk.ip_access_control_lists.list() == []
    fetched = trunk.fetch()
    assert (fetched.auth_type, fetched.auth_type_set) == ("", []), fetched.auth_type_set
    assert trunk.delete() is True
    expect_error(404, 20404, lambda: trunk.fetch())
    expect_error(404, 20404, lambda: trunk.ip_access_control_lists.list())
    remaining = [t.friendly_name for t in c.trunking.v1.trunks.list()]
    assert remaining == ["Backup"], remaining
    assert c.sip.ip_access_control_lists.list() == []


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
