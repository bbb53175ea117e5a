#!/usr/bin/env bash
# docs/openapi.yaml against the running gateway (docs/openapi.md):
#   1. the description is valid OpenAPI 3.1 (openapi-spec-validator);
#   2. schemathesis generates requests for every operation (examples, coverage, fuzzing) and
#      checks each answer: no 5xx, a documented status, media type, headers and body, 405
#      with Allow for the methods a route does not take;
#   3. scripts/openapi/flow.py walks whole logins through the simulated WeChat and checks
#      the answers generated requests cannot reach (callback redirects and form_post pages,
#      tokens, userinfo) against the same description.
# All against wxauth-local in demo mode on a free loopback port, with one extra OIDC client.
# schemathesis and its dependencies are pinned in scripts/openapi/requirements.txt and
# installed into .cache/openapi/venv (git-ignored). Without them (no python3, no registry):
# a failure when CI is set, else "skipped: …".
#
# Closing line: "openapi: N passed, M failed", one test per schemathesis operation (16), per
# flow step, and one for the validation of the description.
# OPENAPI_MAX_EXAMPLES (default 100) bounds the generated cases per operation and phase;
# OPENAPI_SEED fixes schemathesis's seed (it prints the one it used).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

spec="$root/docs/openapi.yaml"
here="$root/scripts/openapi"
cache="$root/.cache/openapi"
venv="$cache/venv"
max_examples="${OPENAPI_MAX_EXAMPLES:-100}"

skip() {
  if [ -n "${CI:-}" ]; then
    echo "openapi.sh: cannot run: $1" >&2
    exit 1
  fi
  echo "skipped: $1"
  exit 0
}

# --- schemathesis, pinned, reinstalled only when requirements.txt changed.
stamp="$venv/requirements.sha256"
want=$(sha256sum "$here/requirements.txt" | cut -d' ' -f1)
if [ ! -x "$venv/bin/schemathesis" ] || [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  command -v python3 >/dev/null || skip "python3 is not installed (scripts/openapi.sh needs it for schemathesis)"
  echo "openapi.sh: installing schemathesis into $venv"
  rm -rf "$venv"
  mkdir -p "$cache"
  if ! python3 -m venv "$venv" ||
     ! "$venv/bin/pip" install --quiet --disable-pip-version-check --no-deps -r "$here/requirements.txt"; then
    rm -rf "$venv"
    skip "schemathesis could not be installed (scripts/openapi.sh, from PyPI)"
  fi
  echo "$want" >"$stamp"
fi
echo "openapi.sh: $("$venv/bin/schemathesis" --version), openapi-spec-validator $("$venv/bin/pip" show openapi-spec-validator 2>/dev/null | sed -n 's/^Version: //p')"

passed=0
failed=0
status=0

# --- 1. the description itself.
echo "== openapi-spec-validator docs/openapi.yaml"
if "$venv/bin/openapi-spec-validator" "$spec"; then
  passed=$((passed + 1))
else
  failed=$((failed + 1))
  status=1
fi

# --- wxauth-local, demo mode, a free port.
if [ -n "${WXAUTH_LOCAL_BIN:-}" ]; then
  bin=$WXAUTH_LOCAL_BIN
else
  cargo build -p wxauth-local --bin wxauth-local --locked --quiet
  target_dir=$(cargo metadata --format-version 1 --no-deps --locked |
    "$venv/bin/python" -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')
  bin="$target_dir/debug/wxauth-local"
fi

run_dir=$(mktemp -d)
server_pid=
cleanup() {
  if [ -n "$server_pid" ]; then
    kill "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  rm -rf "$run_dir"
}
trap cleanup EXIT

# A confidential client for the token endpoint (the demo registers its own public one), a
# return origin and redirect URI that nothing is ever sent to (redirects are not followed),
# and the domain-verification file. The names match the examples in docs/openapi.yaml.
# Result tokens signed with ES256 (the demo makes their keys), so that every documented
# route, the result tokens' own JWKS included, is served and checked.
client_id=example-rp
client_secret=$("$venv/bin/python" -c 'import secrets; print(secrets.token_urlsafe(32))')
redirect_uri=https://rp.example.com/callback
return_url=https://app.example.com/me
clients=$(printf '[{"client_id":"%s","client_secret":"%s","redirect_uris":["%s"],"name":"schemathesis"}]' \
  "$client_id" "$client_secret" "$redirect_uri")
env -i PATH="$PATH" HOME="$HOME" PORT=0 RUST_LOG=warn \
  ALLOWED_RETURN_ORIGINS=https://app.example.com \
  MP_VERIFY_TOKEN=k3Xq9TzL2mWp8VbN \
  OIDC_CLIENTS="$clients" \
  TOKEN_SIGNING_ALG=ES256 \
  "$bin" >"$run_dir/banner" 2>"$run_dir/server.log" &
server_pid=$!
base_url=
for _ in $(seq 300); do
  base_url=$(sed -n 's|.*open \(http://127\.0\.0\.1:[0-9]*\)/.*|\1|p' "$run_dir/banner" | head -n1)
  [ -n "$base_url" ] && break
  kill -0 "$server_pid" 2>/dev/null || break
  sleep 0.1
done
if [ -z "$base_url" ]; then
  echo "openapi.sh: wxauth-local did not start" >&2
  cat "$run_dir/banner" "$run_dir/server.log" >&2
  exit 1
fi
echo "openapi.sh: wxauth-local at $base_url"

# schemathesis and hypothesis keep their state in the working directory: keep it in .cache.
cd "$cache"
export SCHEMATHESIS_HOOKS=hooks PYTHONPATH="$here" PYTHONDONTWRITEBYTECODE=1
export OPENAPI_CLIENT_ID="$client_id" OPENAPI_CLIENT_SECRET="$client_secret"

# --- 2. generated requests.
echo "== schemathesis run docs/openapi.yaml (at most $max_examples examples per operation and phase)"
seed=()
[ -z "${OPENAPI_SEED:-}" ] || seed=(--seed "$OPENAPI_SEED")
junit="$run_dir/junit.xml"
st_log="$run_dir/schemathesis.log"
run_schemathesis() {
  rm -f "$junit"
  set +e
  "$venv/bin/schemathesis" --config-file "$here/schemathesis.toml" run "$spec" \
    --url "$base_url" \
    --checks not_a_server_error,status_code_conformance,content_type_conformance,response_headers_conformance,response_schema_conformance,unsupported_method,allow_header_conformance \
    --max-examples "$max_examples" \
    --max-redirects 0 \
    --request-timeout 15 \
    --workers 1 \
    --no-color \
    "${seed[@]}" \
    --report junit --report-junit-path "$junit" 2>&1 | tee "$st_log"
  status=${PIPESTATUS[0]}
  set -e
}
started=$SECONDS
run_schemathesis
# CPython 3.11's compiler sometimes raises this SystemError while Hypothesis inspects a
# strategy's source: an interpreter fault inside the generator, not a finding about wxauth.
# With two workers (threads) on a loaded machine it came up in 4 runs of 4; with one worker
# (above) in none of the runs since, at a cost of about 20 s. Only that exact fault earns one
# more run; any failed check still fails.
if [ "$status" -ne 0 ] && grep -q 'SystemError: AST constructor recursion depth mismatch' "$st_log"; then
  echo "openapi.sh: schemathesis hit CPython's 'AST constructor recursion depth mismatch' fault; running it once more"
  run_schemathesis
fi
echo "schemathesis took $((SECONDS - started)) s"
if [ -f "$junit" ]; then
  read -r tests bad < <("$venv/bin/python" - "$junit" <<'EOF'
import sys
import xml.etree.ElementTree as ET
cases = ET.parse(sys.argv[1]).getroot().iter("testcase")
results = [any(child.tag in ("failure", "error") for child in case) for case in cases]
print(len(results), sum(results))
EOF
  )
  passed=$((passed + tests - bad))
  failed=$((failed + bad))
  # A run that failed without naming an operation (it could not start, say) still fails.
  if [ "$status" -ne 0 ] && [ "$bad" -eq 0 ]; then failed=$((failed + 1)); fi
else
  failed=$((failed + 1))
  status=1
fi

# --- 3. whole logins.
echo "== scripts/openapi/flow.py"
flow_log="$run_dir/flow.log"
"$venv/bin/python" "$here/flow.py" "$spec" "$base_url" "$client_id" "$client_secret" \
  "$redirect_uri" "$return_url" 2>&1 | tee "$flow_log" || status=$?
flow_passed=$(sed -n 's/^flow: \([0-9]*\) passed, \([0-9]*\) failed$/\1/p' "$flow_log")
flow_failed=$(sed -n 's/^flow: \([0-9]*\) passed, \([0-9]*\) failed$/\2/p' "$flow_log")
passed=$((passed + ${flow_passed:-0}))
failed=$((failed + ${flow_failed:-1}))

if ! kill -0 "$server_pid" 2>/dev/null; then
  echo "openapi.sh: wxauth-local exited during the run" >&2
  cat "$run_dir/server.log" >&2
  failed=$((failed + 1))
  status=1
fi
# A panic is a defect even where the answer looked right.
if grep -q 'panicked' "$run_dir/server.log"; then
  echo "openapi.sh: wxauth-local panicked:" >&2
  grep -A3 'panicked' "$run_dir/server.log" >&2
  failed=$((failed + 1))
  status=1
fi

echo "openapi: $passed passed, $failed failed"
[ "$failed" -eq 0 ] || status=1
exit "$status"
