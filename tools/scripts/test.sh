#!/usr/bin/env bash
# The project's test command (npm test): builds every app, then runs lint, type checks, unit tests,
# and the integration and end-to-end tests against a real Kafka broker, PostgreSQL and Redis.
# Ends with one line "N passed, N failed" and a non-zero exit on any failure.
set -uo pipefail
cd "$(dirname "$0")/../.."

export TEST_RESULTS_DIR="$PWD/tmp/test-results"
rm -rf "$TEST_RESULTS_DIR" && mkdir -p "$TEST_RESULTS_DIR"
export NX_DAEMON=false NX_NO_CLOUD=true

failed_steps=0
step() {
  local name=$1
  shift
  echo "==> $name"
  if ! "$@"; then
    echo "!! step failed: $name"
    failed_steps=$((failed_steps + 1))
  fi
}

step "services (PostgreSQL, Redis, Kafka)" bash tools/scripts/ensure-services.sh
step "build" npx nx run-many -t build --output-style=static
step "lint" npx nx run-many -t lint --output-style=static
step "typecheck" npx nx run-many -t typecheck --output-style=static
# Test targets are never cached (nx.json): every run executes and reports its own results.
step "unit tests" npx nx run-many -t test --output-style=static
step "integration and end-to-end tests" npx nx run-many -t int-test --output-style=static --parallel=1

node tools/jest/summarize.js "$TEST_RESULTS_DIR" "$failed_steps"
