#!/usr/bin/env bash
# Installs what the client kits' test (tests/it/client_kits.rs) runs, each verifier in
# clients/verify/ with its ecosystem's library:
#   Node.js + jose         npm ci into clients/verify/node/node_modules (git-ignored)
#   Python 3 + PyJWT       a venv in .cache/clients/venv, hash-pinned requirements
#   Go + golang-jwt v4     Debian's golang-go and golang-github-golang-jwt-jwt-dev
#   Java 17 + Jackson      Debian's JDK and libjackson2-databind-java (no JWT library for
#                          Java is packaged by Debian 12: the JDK's HMAC does the JWS part)
# Idempotent: a second run checks and returns in well under a second.
set -euo pipefail
cd "$(dirname "$0")/.."

cache=.cache/clients
mkdir -p "$cache"

# Debian packages, installed only when something is missing.
missing=()
command -v node >/dev/null && command -v npm >/dev/null || missing+=(nodejs npm)
command -v python3 >/dev/null || missing+=(python3 python3-venv)
command -v go >/dev/null || missing+=(golang-go)
[ -f /usr/share/gocode/src/github.com/golang-jwt/jwt/go.mod ] || missing+=(golang-github-golang-jwt-jwt-dev)
command -v javac >/dev/null || missing+=(openjdk-17-jdk-headless)
[ -f /usr/share/java/jackson-databind.jar ] || missing+=(libjackson2-databind-java)
if [ ${#missing[@]} -gt 0 ]; then
  echo "clients.sh: installing ${missing[*]} (apt)"
  sudo=()
  [ "$(id -u)" = 0 ] || sudo=(sudo)
  export DEBIAN_FRONTEND=noninteractive
  if ! "${sudo[@]}" apt-get install -y --no-install-recommends "${missing[@]}"; then
    "${sudo[@]}" apt-get update
    "${sudo[@]}" apt-get install -y --no-install-recommends "${missing[@]}"
  fi
fi

# jose, exactly as package-lock.json pins it. Reinstalled when the lock file changes.
node_dir=clients/verify/node
if ! cmp -s "$node_dir/package-lock.json" "$node_dir/node_modules/.package-lock.json.installed"; then
  echo "clients.sh: npm ci ($node_dir)"
  (cd "$node_dir" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error)
  cp "$node_dir/package-lock.json" "$node_dir/node_modules/.package-lock.json.installed"
fi

# PyJWT in a venv of its own. Reinstalled when requirements.txt changes.
venv=$cache/venv
requirements=clients/verify/python/requirements.txt
if ! cmp -s "$requirements" "$venv/requirements.installed"; then
  echo "clients.sh: PyJWT into $venv"
  [ -x "$venv/bin/python" ] || python3 -m venv "$venv"
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check \
    --require-hashes --only-binary :all: -r "$requirements"
  cp "$requirements" "$venv/requirements.installed"
fi

echo "clients.sh: node $(node --version), $("$venv/bin/python" -c 'import jwt, sys; print(f"python {sys.version.split()[0]}, PyJWT {jwt.__version__}")'), $(go version | cut -d' ' -f3), golang-jwt $(dpkg-query -W -f='${Version}' golang-github-golang-jwt-jwt-dev), $(javac -version 2>&1), jackson-databind $(dpkg-query -W -f='${Version}' libjackson2-databind-java)"
