#!/usr/bin/env bash
# What the browser tests (tests/browser/, docs/browser.md) need, installed once and checked
# in a second afterwards:
#   - Debian's Chromium (/usr/bin/chromium) and a CJK font (fonts-noto-cjk), through apt;
#   - the Node driver, playwright-core at the version tests/browser/package-lock.json pins,
#     into .cache/browser/ (git-ignored), with `npm ci`.
# Playwright's own browser download is never used: the tests drive Debian's Chromium.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(chromium fonts-noto-cjk)
missing=()
for package in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q 'install ok installed' ||
    missing+=("$package")
done
if [ "${#missing[@]}" -gt 0 ]; then
  echo "browser.sh: installing ${missing[*]} with apt"
  sudo=()
  [ "$(id -u)" -eq 0 ] || sudo=(sudo)
  export DEBIAN_FRONTEND=noninteractive
  "${sudo[@]}" apt-get update -qq
  "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
command -v chromium >/dev/null || { echo "browser.sh: chromium is still missing" >&2; exit 1; }

# The driver: reinstalled only when the lock file changed since the last install.
driver_dir=.cache/browser
stamp="$driver_dir/lock.sha256"
want=$(sha256sum tests/browser/package-lock.json | cut -d' ' -f1)
if [ ! -f "$driver_dir/node_modules/playwright-core/package.json" ] ||
   [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  echo "browser.sh: installing playwright-core into $driver_dir"
  mkdir -p "$driver_dir"
  cp tests/browser/package.json tests/browser/package-lock.json "$driver_dir/"
  # --ignore-scripts: playwright-core has no install script; nothing may download a browser.
  (cd "$driver_dir" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error)
  echo "$want" >"$stamp"
fi
echo "browser.sh: $(chromium --version 2>/dev/null), playwright-core" \
  "$(node -p "require('./$driver_dir/node_modules/playwright-core/package.json').version")"
