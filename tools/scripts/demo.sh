#!/usr/bin/env bash
# npm run demo: the main job. npm start's path (the four services, supervised) plus the Autopilot simulator, on
# Kafka, PostgreSQL and Redis from with-infrastructure.ts (containers where Docker answers, else the local ones),
# with an export driven through export-cli. The code: apps/demo (Nx project `demo`, checked by its int-test).
set -euo pipefail
cd "$(dirname "$0")/../.."
export NX_DAEMON=false NX_NO_CLOUD=true
if [ -z "${INFRASTRUCTURE_READY:-}" ]; then
  SWC_NODE_PROJECT=tsconfig.base.json exec node -r @swc-node/register tools/scripts/with-infrastructure.ts bash "$PWD/tools/scripts/demo.sh" "$@"
fi
npx nx run-many -t build --projects=connection-management,segment-extraction,field-mapping,autopilot-delivery,autopilot-simulator,export-cli --output-style=static
SWC_NODE_PROJECT=tsconfig.base.json exec node -r @swc-node/register apps/demo/src/demo/main.ts "$@"
