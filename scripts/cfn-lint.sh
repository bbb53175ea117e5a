#!/usr/bin/env bash
# cfn-lint on template.yaml (SAM transform included, so it also checks what `sam validate`
# checks), failing on any error, warning or informational finding.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/tools.sh
.venv/bin/cfn-lint --version
.venv/bin/cfn-lint template.yaml --include-checks I
echo "cfn-lint: template.yaml clean"
