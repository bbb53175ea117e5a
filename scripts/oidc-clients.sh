#!/usr/bin/env bash
# What the relying-party tests (tests/oidc-clients/, docs/oidc-clients.md) need, installed
# once and checked in well under a second afterwards:
#   - Node's openid-client (and its jose, oauth4webapi) at the versions
#     tests/oidc-clients/package-lock.json pins, into .cache/oidc-clients/ with `npm ci`;
#   - Python's Authlib (with joserfc, requests, pytest) hash-pinned by
#     tests/oidc-clients/requirements.txt, into the venv .cache/oidc-clients/venv.
# Each is reinstalled only when its lock file changed since it was installed.
set -euo pipefail
cd "$(dirname "$0")/.."

command -v node >/dev/null && command -v npm >/dev/null ||
  { echo "oidc-clients.sh: node and npm are needed (scripts/clients.sh installs them)" >&2; exit 1; }
command -v python3 >/dev/null ||
  { echo "oidc-clients.sh: python3 is needed (scripts/clients.sh installs it)" >&2; exit 1; }

src=tests/oidc-clients
dir=.cache/oidc-clients
mkdir -p "$dir"

# openid-client: reinstalled when the lock file changed.
if [ ! -f "$dir/node_modules/openid-client/package.json" ] ||
   ! cmp -s "$src/package-lock.json" "$dir/package-lock.installed"; then
  echo "oidc-clients.sh: npm ci (openid-client) into $dir"
  cp "$src/package.json" "$src/package-lock.json" "$dir/"
  (cd "$dir" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error)
  cp "$src/package-lock.json" "$dir/package-lock.installed"
fi

# Authlib: a venv of its own, reinstalled when requirements.txt changed.
venv=$dir/venv
if [ ! -x "$venv/bin/python" ] || ! cmp -s "$src/requirements.txt" "$venv/requirements.installed"; then
  echo "oidc-clients.sh: Authlib into $venv"
  [ -x "$venv/bin/python" ] || python3 -m venv "$venv"
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check \
    --require-hashes --only-binary :all: -r "$src/requirements.txt"
  cp "$src/requirements.txt" "$venv/requirements.installed"
fi

node_version=$(node -p "require('./$dir/node_modules/openid-client/package.json').version")
python_versions=$("$venv/bin/python" -c \
  'import sys, authlib, joserfc; print(f"python {sys.version.split()[0]}, Authlib {authlib.__version__}, joserfc {joserfc.__version__}")')
echo "oidc-clients.sh: node $(node --version), openid-client $node_version, $python_versions"
