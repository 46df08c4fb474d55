#!/usr/bin/env bash
# Peak resident memory and wall time of `callsign trust import` and `callsign trust
# export` on a trust-data file of 1,000,000 numbers (examples/trust_file.rs: the benches'
# synthetic world, 1,000 accounts, every number on its account's profile and trust
# product), into and out of a fresh SQLite store. Both should stay under 200 MB.
#
#   benches/trust-memory.sh [NUMBERS] [CALLSIGN]
#
# CALLSIGN is the binary to measure (default target/release/callsign, built first); give
# another build's to compare, e.g. one built from an older commit. Needs GNU time
# (Debian package time).
set -euo pipefail
cd "$(dirname "$0")/.."
numbers=${1:-1000000}
bin=${2:-target/release/callsign}
[ -x /usr/bin/time ] || { echo "/usr/bin/time is missing: apt-get install time" >&2; exit 1; }
if [ $# -lt 2 ]; then
  cargo build --release --quiet --bin callsign --example trust_file
else
  cargo build --release --quiet --example trust_file
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

target/release/examples/trust_file "$work/trust.json" "$numbers" >/dev/null
# The sample config with absolute paths, an empty store of its own and no seed.
sed -e "s|\"\.\./|\"$PWD/|g" -e '/^seed = /d' \
    -e "s|^store = .*|store = \"$work/callsign.db\"|" \
    -e "s|^identity_key_dir = .*|identity_key_dir = \"$work/identity-keys\"|" \
    config/callsign.toml >"$work/callsign.toml"

# Runs "$@" under GNU time, its output in $work/NAME.out and .err; prints its peak RSS
# and wall time as one line named NAME ($1).
measure() {
  local name=$1
  shift
  if ! /usr/bin/time -v -o "$work/time.txt" "$@" >"$work/$name.out" 2>"$work/$name.err"; then
    cat "$work/$name.err" >&2
    exit 1
  fi
  local rss wall
  rss=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$work/time.txt")
  wall=$(awk -F': ' '/Elapsed \(wall clock\)/ {print $2}' "$work/time.txt")
  printf '%-7s peak RSS %4d MB  wall %s\n' "$name" $((rss / 1024)) "$wall"
}

size=$(du -m "$work/trust.json" | cut -f1)
echo "$bin, $numbers numbers ($size MB of JSON)"
measure import "$bin" trust import --config "$work/callsign.toml" "$work/trust.json"
measure export "$bin" trust export --config "$work/callsign.toml" --out "$work/export.json"
