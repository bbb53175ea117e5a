#!/usr/bin/env bash
# AWS's DynamoDB Local for the tests: fetched from the npm package that ships it
# (amplify-dynamodb-simulator, folder emulator/), run in memory on a free loopback port.
#
#   scripts/dynamodb-local.sh fetch          # download into the cache (once)
#   scripts/dynamodb-local.sh start DIR [PORT]  # start (on a free port unless given);
#                                               # writes DIR/port, DIR/pid, DIR/log
#   scripts/dynamodb-local.sh stop DIR       # stop what `start DIR` started
set -euo pipefail

PACKAGE="amplify-dynamodb-simulator@2.9.30"
# What was checked when the version was pinned (DynamoDB Local 1.25.1 inside); a new
# PACKAGE needs new values. The tarball's hash is the one npm's registry lists (its
# sha512 `integrity` matched too); the other two are checked before every start, since a
# cached folder can be altered after it was fetched. The lib digest is the SHA-256 of
# `sha256sum` over every file of DynamoDBLocal_lib (sorted paths, see lib_digest).
TARBALL_SHA256=3503ffac19f183407909fecdacf4db51ab1fdad1da7b2f177016670b2d80e4b9
JAR_SHA256=454305e9bc3e6ebcca5b62569869e31563b8d7e346474e94557b2600702146c7
LIB_SHA256=6c83dda54d77ed52c90b470c889c090b77a5b5c368ff8c75ce126360062b056c
CACHE_DIR="${WXAUTH_CACHE_DIR:-$HOME/.cache/wxauth}"
EMULATOR_DIR="$CACHE_DIR/dynamodb-local/${PACKAGE#*@}"

sha256_of() {
  sha256sum "$1" | cut -d' ' -f1
}

lib_digest() {
  (cd "$1" && find DynamoDBLocal_lib -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum \
    | sha256sum | cut -d' ' -f1)
}

# The jar and the libraries it loads are exactly the pinned ones, or the run stops here.
verify_emulator() {
  local dir=$1 jar lib
  [ -f "$dir/DynamoDBLocal.jar" ] || { echo "$dir has no DynamoDBLocal.jar" >&2; exit 1; }
  jar=$(sha256_of "$dir/DynamoDBLocal.jar")
  lib=$(lib_digest "$dir")
  if [ "$jar" != "$JAR_SHA256" ] || [ "$lib" != "$LIB_SHA256" ]; then
    {
      echo "DynamoDB Local in $dir is not the pinned one ($PACKAGE):"
      echo "  DynamoDBLocal.jar  sha256 $jar (expected $JAR_SHA256)"
      echo "  DynamoDBLocal_lib  digest $lib (expected $LIB_SHA256)"
      echo "Refusing to run it. If you did not change it yourself, find out what did; then"
      echo "remove $dir and run again to fetch a fresh copy."
    } >&2
    exit 1
  fi
}

fetch() {
  if [ -f "$EMULATOR_DIR/DynamoDBLocal.jar" ]; then
    verify_emulator "$EMULATOR_DIR"
    return 0
  fi
  command -v npm >/dev/null || { echo "npm is required to fetch DynamoDB Local" >&2; exit 1; }
  local tmp tarball sum
  tmp=$(mktemp -d)
  echo "fetching DynamoDB Local ($PACKAGE) into $EMULATOR_DIR" >&2
  (cd "$tmp" && npm pack --silent "$PACKAGE" >/dev/null)
  tarball=$(echo "$tmp"/*.tgz)
  sum=$(sha256_of "$tarball")
  if [ "$sum" != "$TARBALL_SHA256" ]; then
    echo "npm pack $PACKAGE: SHA-256 $sum, expected $TARBALL_SHA256; refusing to use it" >&2
    rm -rf "$tmp"
    exit 1
  fi
  tar -xzf "$tarball" -C "$tmp" package/emulator
  verify_emulator "$tmp/package/emulator"
  mkdir -p "$(dirname "$EMULATOR_DIR")"
  rm -rf "$EMULATOR_DIR"
  mv "$tmp/package/emulator" "$EMULATOR_DIR"
  rm -rf "$tmp"
}

ensure_java() {
  if command -v java >/dev/null; then
    return 0
  fi
  echo "installing a Java runtime for DynamoDB Local" >&2
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    apt-get update -qq && apt-get install -y -qq openjdk-17-jre-headless >/dev/null
  else
    echo "DynamoDB Local needs Java 17+; install it and retry" >&2
    exit 1
  fi
}

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

start() {
  local dir=$1
  fetch
  ensure_java
  mkdir -p "$dir"
  local port=${2:-}
  [ -n "$port" ] || port=$(free_port)
  # -inMemory: nothing survives a run; each test creates its own table anyway.
  # -disableTelemetry: DynamoDB Local (since 1.24.0) otherwise sends usage data to AWS.
  (cd "$EMULATOR_DIR" && exec java -Xmx512m -Djava.library.path=./DynamoDBLocal_lib \
      -jar DynamoDBLocal.jar -inMemory -disableTelemetry -port "$port") >"$dir/log" 2>&1 &
  echo $! >"$dir/pid"
  echo "$port" >"$dir/port"
  for _ in $(seq 1 240); do
    if curl -s -o /dev/null -X POST "http://127.0.0.1:$port" \
        -H 'X-Amz-Target: DynamoDB_20120810.ListTables' \
        -H 'Content-Type: application/x-amz-json-1.0' \
        -H 'Authorization: AWS4-HMAC-SHA256 Credential=local/20200101/us-east-1/dynamodb/aws4_request, SignedHeaders=host, Signature=local' \
        -d '{}'; then
      echo "DynamoDB Local listening on 127.0.0.1:$port" >&2
      return 0
    fi
    if ! kill -0 "$(cat "$dir/pid")" 2>/dev/null; then
      echo "DynamoDB Local exited:" >&2
      cat "$dir/log" >&2
      exit 1
    fi
    sleep 0.25
  done
  echo "DynamoDB Local did not start within 60 s:" >&2
  cat "$dir/log" >&2
  stop "$dir"
  exit 1
}

stop() {
  local dir=$1
  if [ -f "$dir/pid" ]; then
    local pid
    pid=$(cat "$dir/pid")
    kill "$pid" 2>/dev/null || true
    # Wait until it is gone, so the port is free for a restart.
    for _ in $(seq 1 100); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
    kill -9 "$pid" 2>/dev/null || true
    rm -f "$dir/pid"
  fi
}

case "${1:-}" in
  fetch) fetch ;;
  start) start "${2:?usage: $0 start DIR [PORT]}" "${3:-}" ;;
  stop) stop "${2:?usage: $0 stop DIR}" ;;
  *) echo "usage: $0 fetch | start DIR [PORT] | stop DIR" >&2; exit 2 ;;
esac
