#!/usr/bin/env bash
# The whole test suite: installs the external test peers when they are missing
# (SIPp from Debian's sip-tester, secsipidx, Kamailio, SoftHSM2, PostgreSQL, Node.js, curl, jq, lintian,
# Chromium and chromedriver,
# promtool from Debian's prometheus package, cargo-deb, and the
# official `twilio` Python package in a virtualenv at target/twilio-venv and npm package
# in target/twilio-node), starts a throwaway
# PostgreSQL cluster, then runs every test, including the ones plain `cargo test` leaves
# out because they need those peers.
set -euo pipefail
cd "$(dirname "$0")/.."

missing=()
command -v sipp >/dev/null 2>&1 || missing+=(sip-tester)
command -v secsipidx >/dev/null 2>&1 || missing+=(secsipidx)
# Kamailio, as the SBC of the redirect example (tests/kamailio_redirect.rs).
command -v kamailio >/dev/null 2>&1 || missing+=(kamailio)
# SoftHSM2's PKCS#11 library, for the HSM signing-identity test (tests/softhsm.rs).
[ -e /usr/lib/softhsm/libsofthsm2.so ] || missing+=(softhsm2)
# PostgreSQL's server, for the shared store (tests/postgres.rs, src/store/tests.rs) and
# TLS to it (tests/postgres_tls.rs, whose clusters have their own certificates).
pg_bin() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1; }
[ -n "$(pg_bin)" ] || missing+=(postgresql)
# lintian, for the Debian package (tests/package.rs).
command -v lintian >/dev/null 2>&1 || missing+=(lintian)
# curl and jq, which the docs' commands use (tests/docs.rs runs them as printed).
command -v curl >/dev/null 2>&1 || missing+=(curl)
command -v jq >/dev/null 2>&1 || missing+=(jq)
# Node.js and npm, for Twilio's Node.js helper library (tests/twilio_compat.rs).
command -v node >/dev/null 2>&1 || missing+=(nodejs)
command -v npm >/dev/null 2>&1 || missing+=(npm)
# Headless Chromium and its chromedriver, for the operator console (tests/console_browser.rs).
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
command -v chromedriver >/dev/null 2>&1 || missing+=(chromium-driver)
if [ ${#missing[@]} -gt 0 ]; then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  echo "installing test peers: ${missing[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}"
fi

# promtool, for the alerting rules in deploy/prometheus (src/metrics/tests.rs): taken
# out of Debian's prometheus package into target/promtool rather than installing the
# package, which would start a Prometheus server and a node exporter on fixed ports.
if command -v promtool >/dev/null 2>&1; then
  export CALLSIGN_PROMTOOL="$(command -v promtool)"
else
  promtool=target/promtool/usr/bin/promtool
  if [ ! -x "$promtool" ]; then
    echo "extracting promtool from Debian's prometheus package into target/promtool"
    sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    $sudo apt-get update -qq
    mkdir -p target/promtool
    (cd target/promtool && apt-get download -qq prometheus 2>/dev/null \
      && dpkg-deb -x prometheus_*.deb . && rm -f prometheus_*.deb usr/bin/prometheus)
  fi
  export CALLSIGN_PROMTOOL="$PWD/$promtool"
fi

# Twilio's Python helper library, for the wire-compatibility test (tests/twilio_compat.rs).
venv=target/twilio-venv
if ! "$venv/bin/python" -c 'import twilio' >/dev/null 2>&1; then
  echo "installing the twilio Python package into $venv"
  mkdir -p target
  if ! python3 -m venv "$venv" >/dev/null 2>&1; then
    sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq python3-venv
    python3 -m venv --clear "$venv"
  fi
  "$venv/bin/pip" install -q twilio
fi

# Twilio's Node.js helper library, for the same test, in target/twilio-node.
node_dir=target/twilio-node
if ! NODE_PATH="$node_dir/node_modules" node -e 'require("twilio")' >/dev/null 2>&1; then
  echo "installing the twilio npm package into $node_dir"
  mkdir -p "$node_dir"
  npm install --prefix "$node_dir" --no-audit --no-fund --silent twilio
fi

# A throwaway PostgreSQL cluster: initdb into a temp dir as an unprivileged user (initdb
# refuses root), started on a free port on 127.0.0.1, stopped and removed on exit.
pg="$(pg_bin)"
pg_dir="$(mktemp -d)"
as_pg=()
if [ "$(id -u)" -eq 0 ]; then
  chown postgres "$pg_dir"
  as_pg=(runuser -u postgres --)
fi
pg_port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
"${as_pg[@]}" "$pg/initdb" -D "$pg_dir/data" -A trust -U callsign >/dev/null
"${as_pg[@]}" "$pg/pg_ctl" -D "$pg_dir/data" -l "$pg_dir/server.log" -w \
  -o "-p $pg_port -k $pg_dir -c listen_addresses=127.0.0.1" start >/dev/null
stop_pg() {
  "${as_pg[@]}" "$pg/pg_ctl" -D "$pg_dir/data" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$pg_dir"
}
trap stop_pg EXIT
export CALLSIGN_TEST_POSTGRES="postgres://callsign@127.0.0.1:$pg_port/postgres"

# A clean CI clone builds once: incremental state would only take disk.
if [ -n "${CI:-}" ]; then
  export CARGO_INCREMENTAL=0
fi
cargo test --all-targets --no-run --quiet
# The Debian package (cargo-deb, installed when missing), for tests/package.rs.
CALLSIGN_DEB="$(./scripts/package.sh)"
export CALLSIGN_DEB
cargo test -- --include-ignored
# Benchmarks must keep compiling; running them is a separate, manual step.
cargo bench --no-run --quiet
# The crate map in src/lib.rs and every module's docs must link to what exists.
RUSTDOCFLAGS="-D warnings" cargo doc --no-deps --quiet
