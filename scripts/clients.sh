#!/usr/bin/env bash
# Generate code from the API contract docs/api/openapi.yaml into OUT (default build/clients):
#   OUT/python      a typed Python client package, futurebank_client (openapi-python-client)
#   OUT/typescript  openapi.d.ts, TypeScript types for every path and schema (openapi-typescript),
#                   type-checked by tsc in strict mode
# Warnings fail the run. Generated code is build output: never commit it.
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${1:-build/clients}
scripts/bootstrap.sh python node
rm -rf "$OUT/python" "$OUT/typescript"
mkdir -p "$OUT/typescript"
OUT_ABS=$(cd "$OUT" && pwd)
PATH="$PWD/.venv/bin:$PATH" .venv/bin/openapi-python-client generate --path docs/api/openapi.yaml \
  --config tools/openapi-python-client.yaml --output-path "$OUT_ABS/python" --fail-on-warning
cd tools
npx --no-install openapi-typescript ../docs/api/openapi.yaml --output "$OUT_ABS/typescript/openapi.d.ts"
npx --no-install tsc --strict --noEmit "$OUT_ABS/typescript/openapi.d.ts"
echo "clients: wrote $OUT/python (Python package futurebank_client) and $OUT/typescript/openapi.d.ts"
