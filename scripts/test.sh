#!/usr/bin/env bash
# The whole test suite: installs the external test peers when they are missing
# (SIPp from Debian's sip-tester, secsipidx, SoftHSM2, and the official `twilio` Python
# package in a virtualenv at target/twilio-venv), then runs every test, including the ones plain
# `cargo test` leaves out because they need those peers.
set -euo pipefail
cd "$(dirname "$0")/.."

missing=()
command -v sipp >/dev/null 2>&1 || missing+=(sip-tester)
command -v secsipidx >/dev/null 2>&1 || missing+=(secsipidx)
# SoftHSM2's PKCS#11 library, for the HSM signing-identity test (tests/softhsm.rs).
[ -e /usr/lib/softhsm/libsofthsm2.so ] || missing+=(softhsm2)
if [ ${#missing[@]} -gt 0 ]; then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  echo "installing test peers: ${missing[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}"
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

cargo test --all-targets --no-run --quiet
cargo test -- --include-ignored
# Benchmarks must keep compiling; running them is a separate, manual step.
cargo bench --no-run --quiet
# The crate map in src/lib.rs and every module's docs must link to what exists.
RUSTDOCFLAGS="-D warnings" cargo doc --no-deps --quiet
