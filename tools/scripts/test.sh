#!/usr/bin/env bash
# The project's test command (npm test): builds every app, then runs lint, type checks, unit tests,
# and the integration and end-to-end tests against a real Kafka broker, PostgreSQL and Redis.
# Ends with one line "N passed, N failed" and a non-zero exit on any failure.
set -uo pipefail
cd "$(dirname "$0")/../.."

# Kafka, PostgreSQL and Redis, started once for every target below: containers (testcontainers) where a Docker
# engine answers and no variable names them, else the local ones (ensure-services.sh). See with-infrastructure.ts.
if [ -z "${INFRASTRUCTURE_READY:-}" ]; then
  SWC_NODE_PROJECT=tsconfig.base.json exec node -r @swc-node/register tools/scripts/with-infrastructure.ts bash "$PWD/tools/scripts/test.sh" "$@"
fi

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

# NX_BASE set (a branch's CI: the commit where it left main): only the projects a change affects are built
# and tested, as the project graph says (a contracts change reaches every service and e2e). Unset (main,
# a nightly, a developer): everything.
if [ -n "${NX_BASE:-}" ]; then
  selection=(affected --base="$NX_BASE" --head="${NX_HEAD:-HEAD}")
  echo "testing the projects affected since $NX_BASE"
else
  selection=(run-many)
fi
nx() { npx nx "${selection[@]}" --output-style=static "$@"; }

step "build" nx -t build
step "lint" nx -t lint
step "typecheck" nx -t typecheck
# Test targets are never cached (nx.json): every run executes and reports its own results.
step "unit tests" nx -t test
step "integration and end-to-end tests" nx -t int-test --parallel=1

node tools/jest/summarize.js "$TEST_RESULTS_DIR" "$failed_steps"
