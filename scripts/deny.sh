#!/usr/bin/env bash
# cargo-deny over the dependency tree with the rules in deny.toml: licences, banned and
# duplicate crates, sources (crates.io only), and known vulnerabilities when the RustSec
# advisory database is on this machine. Fails on any violation.
#
#   scripts/deny.sh
#
# The advisory database is a git repository on GitHub, which this project's machines and
# CI cannot reach. cargo-deny keeps its copy under $CARGO_HOME/advisory-dbs (~/.cargo by
# default); where GitHub is reachable, `cargo deny fetch` fills it (or copy that folder from
# such a machine). When a copy is there, advisories (and yanked crates, which cargo-deny
# checks in the same step) are checked against it without fetching (a copy older than 90
# days fails the check); when not, they are skipped and this says so, before and after
# cargo-deny's report (scripts/test repeats it at the end of the run).
# WXAUTH_REQUIRE_ADVISORIES=1 turns that skip into a failure.
set -euo pipefail
cd "$(dirname "$0")/.."

deny="$(scripts/tools.sh cargo-deny-path)"

db_root="${CARGO_HOME:-$HOME/.cargo}/advisory-dbs"
# The folder cargo-deny clones https://github.com/RustSec/advisory-db into (the name ends in
# a hash of that URL); it needs the git metadata too, to tell how old the copy is.
db="$db_root/advisory-db-3157b0e258782691"
if [ ! -d "$db/crates" ] || [ ! -e "$db/.git" ]; then
  db=""
fi

"$deny" --version
if [ -n "$db" ]; then
  echo "advisories: checked against $db (last commit $(git -C "$db" log -1 --format=%cs 2>/dev/null || echo unknown))"
  # --offline: use the copy as it is, never try GitHub.
  "$deny" --offline --locked check --show-stats
else
  message="advisories: NOT checked (nor yanked crates, which cargo-deny checks with them): no RustSec advisory database in $db_root; it comes from GitHub, which this machine cannot reach (see scripts/deny.sh)"
  echo "$message" >&2
  if [ "${WXAUTH_REQUIRE_ADVISORIES:-}" = 1 ]; then
    echo "WXAUTH_REQUIRE_ADVISORIES=1: failing" >&2
    exit 1
  fi
  status=0
  "$deny" --locked check --show-stats licenses bans sources || status=$?
  # Again after cargo-deny's report, so the skip is the last thing read.
  echo "$message" >&2
  exit "$status"
fi
