#!/usr/bin/env bash
# Remakes callsign-0.1.0.db, callsign-0.1.0.export.json and callsign-0.1.0.attest.txt
# with callsign 0.1.0 (commit 574f259): the release before the SQLite store's schema was
# versioned. See README.md beside this script.
#
#   git worktree add --detach /tmp/callsign-0.1.0 574f259
#   (cd /tmp/callsign-0.1.0 && CARGO_TARGET_DIR=/tmp/callsign-0.1.0-target \
#       cargo build --release --bin callsign)
#   tests/data/store/make-callsign-0.1.0.sh /tmp/callsign-0.1.0-target/release/callsign \
#       /tmp/callsign-0.1.0
#
# Needs bash, curl, jq and sqlite3.
set -euo pipefail

OLD=${1:?usage: $0 CALLSIGN-0.1.0-BINARY CHECKOUT-OF-574f259}
SRC=${2:?usage: $0 CALLSIGN-0.1.0-BINARY CHECKOUT-OF-574f259}
HERE=$(cd "$(dirname "$0")" && pwd)
"$OLD" --version | grep -qx 'callsign 0.1.0' || { echo "$OLD is not callsign 0.1.0" >&2; exit 1; }

WORK=$(mktemp -d)
trap 'kill "$PID" 2>/dev/null || true; rm -rf "$WORK"' EXIT
PID=

# The operator's setup: a dev PKI, the sample trust data of that release as the seed,
# and its sample trunks (which seeding copies into the store).
"$OLD" certs dev --out "$WORK/pki" >/dev/null
cp "$SRC/config/trust.json" "$WORK/trust.json"
cat >"$WORK/callsign.toml" <<TOML
[sip]
udp = "127.0.0.1:0"
tcp = "127.0.0.1:0"

[http]
listen = "127.0.0.1:0"

[signing]
certificate = "pki/chain.pem"
key = "pki/leaf.key"
x5u = "http://127.0.0.1/certs/chain.pem"
crls = ["pki/intermediate.crl", "pki/root.crl"]
identity_key_dir = "identity-keys"

[trust]
store = "callsign.db"
seed = "trust.json"

[api]
operator_sid = "AC0e0e0e0e0e0e0e0e0e0e0e0e0e0e0e0e"
operator_auth_token = "operator-token-for-tests"

[upstream]
address = "127.0.0.1:9"
transport = "udp"

[[trunk]]
name = "bluebird"
account_sid = "AC1a2b3c4d5e6f708192a3b4c5d6e7f801"
sources = ["127.0.0.1/32"]

[[trunk]]
name = "harbor-dental"
account_sid = "AC1a2b3c4d5e6f708192a3b4c5d6e7f803"
sources = ["127.0.0.3/32"]
TOML

RUST_LOG=info "$OLD" serve --config "$WORK/callsign.toml" 2>"$WORK/serve.log" &
PID=$!
i=0
until grep -q 'HTTP serving' "$WORK/serve.log"; do
    i=$((i + 1)); [ $i -lt 100 ] || { cat "$WORK/serve.log" >&2; exit 1; }
    sleep 0.1
done
ADDR=$(sed -n 's/.*http=Some(\([0-9.:]*\)).*/\1/p' "$WORK/serve.log" | head -n1)
H=http://$ADDR
OP=AC0e0e0e0e0e0e0e0e0e0e0e0e0e0e0e0e:operator-token-for-tests

# POST as $1 to $2 with the remaining curl arguments; fails unless 200 or 201.
post() {
    who=$1 path=$2; shift 2
    out=$(curl -sS -u "$who" -w '\n%{http_code}' "$H$path" "$@")
    code=$(printf '%s' "$out" | tail -n1)
    case $code in 200|201) printf '%s' "$out" | sed '$d' ;; *) echo "POST $path: $out" >&2; exit 1 ;; esac
}
sid() { jq -er .sid; }
# Merges any WAL into the database file and removes it: the fixture is one file.
checkpoint() {
    sqlite3 "$WORK/callsign.db" 'PRAGMA wal_checkpoint(TRUNCATE);' >/dev/null
    rm -f "$WORK/callsign.db-wal" "$WORK/callsign.db-shm"
}
PRIMARY=RN6433641899984f951173ef1738c3bdd0
SECONDARY=RNdfbf3fae0e1107f8aded0e7cead80bf5

# The walkthrough of that release's README: a vetted customer with an approved Primary
# profile (and the automatic SHAKEN/STIR trust product), a number on it and one not.
acme=$(post $OP /2010-04-01/Accounts.json -d 'FriendlyName=Acme Telecom (0.1.0)')
AC=$(printf '%s' "$acme" | sid)
C=$AC:$(printf '%s' "$acme" | jq -er .auth_token)
PN1=$(post $OP "/2010-04-01/Accounts/$AC/IncomingPhoneNumbers.json" \
    --data-urlencode PhoneNumber=+12155550100 -d 'FriendlyName=Acme main line' | sid)
PN2=$(post $OP "/2010-04-01/Accounts/$AC/IncomingPhoneNumbers.json" \
    --data-urlencode PhoneNumber=+12155550101 | sid)
BU=$(post $C /v1/CustomerProfiles -d FriendlyName=Acme -d Email=ops@acme.example \
    -d PolicySid=$PRIMARY | sid)
IT1=$(post $C /v1/EndUsers -d 'FriendlyName=Acme Inc' -d Type=customer_profile_business_information \
    --data-urlencode 'Attributes={"business_name":"Acme Inc","business_type":"Corporation"}' | sid)
IT2=$(post $C /v1/EndUsers -d 'FriendlyName=Ann Example' -d Type=authorized_representative_1 \
    --data-urlencode 'Attributes={"first_name":"Ann","last_name":"Example","email":"ann@acme.example"}' | sid)
post $C /v1/CustomerProfiles/$BU/EntityAssignments -d ObjectSid=$IT1 >/dev/null
post $C /v1/CustomerProfiles/$BU/EntityAssignments -d ObjectSid=$IT2 >/dev/null
post $C /v1/CustomerProfiles/$BU/ChannelEndpointAssignments \
    -d ChannelEndpointType=phone-number -d ChannelEndpointSid=$PN1 >/dev/null
post $C /v1/CustomerProfiles/$BU/Evaluations -d PolicySid=$PRIMARY >/dev/null
post $C /v1/CustomerProfiles/$BU -d Status=pending-review >/dev/null
post $OP /v1/CustomerProfiles/$BU -d Status=twilio-approved >/dev/null

# Its sub-account, whose Secondary profile the operator rejected with errors.
branch=$(post $C /2010-04-01/Accounts.json -d 'FriendlyName=Acme branch (0.1.0)')
SUB=$(printf '%s' "$branch" | sid)
S=$SUB:$(printf '%s' "$branch" | jq -er .auth_token)
post $OP "/2010-04-01/Accounts/$SUB/IncomingPhoneNumbers.json" --data-urlencode PhoneNumber=+12155550102 >/dev/null
BU2=$(post $S /v1/CustomerProfiles -d 'FriendlyName=Acme branch' -d Email=branch@acme.example \
    -d PolicySid=$SECONDARY | sid)
IT3=$(post $S /v1/EndUsers -d 'FriendlyName=Acme Branch LLC' -d Type=customer_profile_business_information \
    --data-urlencode 'Attributes={"business_name":"Acme Branch LLC"}' | sid)
IT4=$(post $S /v1/EndUsers -d 'FriendlyName=Bo Example' -d Type=authorized_representative_1 \
    --data-urlencode 'Attributes={"first_name":"Bo","last_name":"Example"}' | sid)
post $S /v1/CustomerProfiles/$BU2/EntityAssignments -d ObjectSid=$IT3 >/dev/null
post $S /v1/CustomerProfiles/$BU2/EntityAssignments -d ObjectSid=$IT4 >/dev/null
post $S /v1/CustomerProfiles/$BU2/EntityAssignments -d ObjectSid=$BU >/dev/null
post $S /v1/CustomerProfiles/$BU2/Evaluations -d PolicySid=$SECONDARY >/dev/null
post $S /v1/CustomerProfiles/$BU2 -d Status=pending-review >/dev/null
post $OP /v1/CustomerProfiles/$BU2 -d Status=twilio-rejected \
    --data-urlencode 'Errors=[{"code":"ADDRESS_MISMATCH","message":"the address does not match"}]' >/dev/null
# And a profile still in draft.
post $C /v1/CustomerProfiles -d 'FriendlyName=Acme draft' -d Email=draft@acme.example \
    -d PolicySid=$PRIMARY >/dev/null

# A trunk with an access list, a credential list and an origination URL.
TK=$(post $C /v1/Trunks -d 'FriendlyName=Acme PBX' -d DomainName=acme-pbx.example.com \
    -d CallsPerSecond=20 -d MinimumAttestation=B | sid)
AL=$(post $C "/2010-04-01/Accounts/$AC/SIP/IpAccessControlLists.json" -d FriendlyName=office | sid)
post $C "/2010-04-01/Accounts/$AC/SIP/IpAccessControlLists/$AL/IpAddresses.json" \
    -d FriendlyName=pbx -d IpAddress=127.0.0.20 >/dev/null
post $C /v1/Trunks/$TK/IpAccessControlLists -d IpAccessControlListSid=$AL >/dev/null
CL=$(post $C "/2010-04-01/Accounts/$AC/SIP/CredentialLists.json" -d FriendlyName=phones | sid)
post $C "/2010-04-01/Accounts/$AC/SIP/CredentialLists/$CL/Credentials.json" \
    -d Username=desk1 -d Password=Secret-Passw0rd >/dev/null
post $C /v1/Trunks/$TK/CredentialLists -d CredentialListSid=$CL >/dev/null

# SIGTERM: the orderly stop, which closes the store (and checkpoints its WAL).
kill -TERM "$PID"
wait "$PID"
PID=
checkpoint

# What the old binary reads back: the export, and the attestation of every number.
export RUST_LOG=error
"$OLD" trust export --config "$WORK/callsign.toml" --out "$WORK/export.json"
jq -r '.phone_numbers[] | "\(.account_sid) \(.phone_number)"' "$WORK/export.json" |
while read -r account number; do
    echo "\$ callsign attest --account $account --number $number"
    "$OLD" attest --config "$WORK/callsign.toml" --account "$account" --number "$number"
    echo
done >"$WORK/attest.txt"
checkpoint

cp "$WORK/callsign.db" "$HERE/callsign-0.1.0.db"
chmod 0644 "$HERE/callsign-0.1.0.db"
cp "$WORK/export.json" "$HERE/callsign-0.1.0.export.json"
cp "$WORK/attest.txt" "$HERE/callsign-0.1.0.attest.txt"
echo "wrote $HERE/callsign-0.1.0.{db,export.json,attest.txt}"
