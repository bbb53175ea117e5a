#!/usr/bin/env bash
# The project's tools, at pinned versions, so that CI and every developer lint and build
# with the same ones:
# - venv: the deploy-side tools from PyPI, in a git-ignored virtual environment at .venv:
#   cargo-lambda (arm64 cross builds) with the zig it links with, and cfn-lint;
# - cargo-deny (scripts/deny.sh): built from crates.io with `cargo install --locked` into
#   ~/.cache/wxauth/cargo-deny/<version> (WXAUTH_CACHE_DIR moves ~/.cache/wxauth), outside
#   the clone, so CI's fresh clones on one machine build it once (~7 min on two cores).
#
#   scripts/tools.sh                 # the PyPI tools (once; a no-op when the pinned versions are there)
#   scripts/tools.sh cargo-deny      # cargo-deny (likewise)
#   scripts/tools.sh venv cargo-deny # both
#   scripts/tools.sh cargo-deny-path # prints cargo-deny's path, installing it first if needed
#   . .venv/bin/activate             # or call .venv/bin/cargo-lambda, .venv/bin/cfn-lint directly
set -euo pipefail
cd "$(dirname "$0")/.."

CARGO_LAMBDA_VERSION=1.9.2
ZIGLANG_VERSION=0.13.0
CFN_LINT_VERSION=1.58.0
CARGO_DENY_VERSION=0.20.2

CACHE_DIR="${WXAUTH_CACHE_DIR:-$HOME/.cache/wxauth}"

install_venv() {
  local venv=.venv
  local stamp="$venv/.wxauth-tools-$CARGO_LAMBDA_VERSION-$ZIGLANG_VERSION-$CFN_LINT_VERSION"
  if [ -f "$stamp" ]; then
    return 0
  fi
  if [ ! -x "$venv/bin/python" ]; then
    python3 -m venv "$venv"
  fi
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check \
    "cargo-lambda==$CARGO_LAMBDA_VERSION" \
    "ziglang==$ZIGLANG_VERSION" \
    "cfn-lint==$CFN_LINT_VERSION"
  rm -f "$venv"/.wxauth-tools-*
  touch "$stamp"
  echo "tools in $venv: $("$venv/bin/cargo-lambda" lambda --version 2>/dev/null || "$venv/bin/cargo-lambda" --version), zig $("$venv/bin/python" -m ziglang version), cfn-lint $("$venv/bin/cfn-lint" --version | awk '{print $2}')" >&2
}

install_cargo_deny() {
  local root="$CACHE_DIR/cargo-deny/$CARGO_DENY_VERSION"
  # Written only after a complete install, so an interrupted build is redone.
  local stamp="$root/.installed"
  if [ -f "$stamp" ] && [ -x "$root/bin/cargo-deny" ]; then
    return 0
  fi
  echo "building cargo-deny $CARGO_DENY_VERSION into $root (once)" >&2
  local start tmp
  start=$(date +%s)
  mkdir -p "$(dirname "$root")"
  # Built beside its final place and moved there whole, so a second run at the same time
  # (another clone on this machine) never sees or removes a half-installed one.
  tmp=$(mktemp -d "$root.tmp.XXXXXX")
  chmod 755 "$tmp"
  # --locked: cargo-deny's own Cargo.lock, not whatever its dependencies published since.
  # Without CARGO_TARGET_DIR cargo builds in a temporary folder and removes it afterwards,
  # instead of leaving a release build of cargo-deny in the project's target folder.
  if ! env -u CARGO_TARGET_DIR cargo install --quiet --locked --root "$tmp" \
      cargo-deny --version "=$CARGO_DENY_VERSION"; then
    rm -rf "$tmp"
    echo "cargo install cargo-deny $CARGO_DENY_VERSION failed" >&2
    exit 1
  fi
  touch "$tmp/.installed"
  if [ ! -f "$stamp" ]; then
    rm -rf "$root"
    mv "$tmp" "$root"
  else
    rm -rf "$tmp"
  fi
  echo "cargo-deny: $("$root/bin/cargo-deny" --version) in $root, built in $(( $(date +%s) - start ))s" >&2
}

[ $# -gt 0 ] || set -- venv
for tool in "$@"; do
  case "$tool" in
    venv) install_venv ;;
    cargo-deny) install_cargo_deny ;;
    cargo-deny-path) install_cargo_deny; echo "$CACHE_DIR/cargo-deny/$CARGO_DENY_VERSION/bin/cargo-deny" ;;
    *) echo "usage: $0 [venv] [cargo-deny] | $0 cargo-deny-path" >&2; exit 2 ;;
  esac
done
