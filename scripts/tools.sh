#!/usr/bin/env bash
# The deploy-side tools, from PyPI, in a git-ignored virtual environment at .venv:
# cargo-lambda (arm64 cross builds) with the zig it links with, and cfn-lint.
#
#   scripts/tools.sh            # install (once; a no-op when the pinned versions are there)
#   . .venv/bin/activate        # or call .venv/bin/cargo-lambda, .venv/bin/cfn-lint directly
#
# Versions are pinned so that CI and every developer lint and build with the same tools.
set -euo pipefail
cd "$(dirname "$0")/.."

CARGO_LAMBDA_VERSION=1.9.2
ZIGLANG_VERSION=0.13.0
CFN_LINT_VERSION=1.58.0

venv=.venv
stamp="$venv/.wxauth-tools-$CARGO_LAMBDA_VERSION-$ZIGLANG_VERSION-$CFN_LINT_VERSION"
if [ -f "$stamp" ]; then
  exit 0
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
