#!/usr/bin/env bash
# The six Lambda functions as AWS runs them: `cargo lambda build --release --arm64`
# (cross-compiled for provided.al2023 on Graviton, linked by zig), one bootstrap per
# function under target/lambda/<function>/bootstrap, and the size of each.
#
#   scripts/lambda-build.sh
#
# The release build has its own target directory (WXAUTH_LAMBDA_TARGET_DIR, default
# ~/.cache/wxauth/target-lambda) so it never evicts the debug build the tests use.
set -euo pipefail
cd "$(dirname "$0")/.."

# Every function crate (functions/<name>/src/main.rs; wxauth_lambda::functions lists the
# same six, and the template drift test holds template.yaml to that table).
mapfile -t FUNCTIONS < <(for main in functions/*/src/main.rs; do basename "$(dirname "$(dirname "$main")")"; done)
# Each function's upload budget (docs/performance.md: 6 MB); today's zips are ~2.7 MiB.
ZIP_BUDGET_BYTES=${WXAUTH_ZIP_BUDGET_BYTES:-6000000}

scripts/tools.sh
rustup target list --installed | grep -qx aarch64-unknown-linux-gnu \
  || rustup target add aarch64-unknown-linux-gnu

target_dir="${WXAUTH_LAMBDA_TARGET_DIR:-$HOME/.cache/wxauth/target-lambda}"
lambda_dir="$target_dir/lambda"
packages=()
for f in "${FUNCTIONS[@]}"; do packages+=(--package "$f"); done

# With no `zig` on PATH, cargo-lambda runs `python3 -m ziglang`: the venv's python3 has it.
export PATH="$PWD/.venv/bin:$PATH"
start=$(date +%s)
# (CARGO_TARGET_DIR rather than --target-dir: cargo-lambda passes the latter to
# `cargo metadata`, which refuses it.)
CARGO_TARGET_DIR="$target_dir" cargo lambda build --release --arm64 --locked \
  --lambda-dir "$lambda_dir" "${packages[@]}"
elapsed=$(( $(date +%s) - start ))

echo "== arm64 bootstraps (built in ${elapsed}s, in $lambda_dir)"
for f in "${FUNCTIONS[@]}"; do
  bin="$lambda_dir/$f/bootstrap"
  [ -f "$bin" ] || { echo "missing $bin" >&2; exit 1; }
  # The binary must really be an arm64 ELF, or Lambda refuses it at the first invoke.
  file_type=$(od -An -tx1 -j18 -N2 "$bin" | tr -d ' ')
  [ "$file_type" = "b700" ] || { echo "$bin is not an aarch64 ELF (e_machine $file_type)" >&2; exit 1; }
  # Zipped as SAM uploads it; over the budget of docs/performance.md the build fails, so a
  # dependency or profile change that bloats the functions is caught here.
  read -r bin_bytes zip_bytes < <(python3 - "$bin" <<'PY'
import io, os, sys, zipfile
buf = io.BytesIO()
with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
    z.write(sys.argv[1], "bootstrap")
print(os.path.getsize(sys.argv[1]), len(buf.getvalue()))
PY
)
  awk -v f="$f" -v b="$bin_bytes" -v z="$zip_bytes" \
    'BEGIN { printf "%-20s bootstrap %6.2f MiB   zip %6.2f MiB\n", f, b / 1048576, z / 1048576 }'
  if [ "$zip_bytes" -gt "$ZIP_BUDGET_BYTES" ]; then
    echo "$f: the zip is $zip_bytes bytes, over the budget of $ZIP_BUDGET_BYTES" >&2
    exit 1
  fi
done
