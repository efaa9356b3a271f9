#!/usr/bin/env bash
# npm run demo: the whole stack with a demo export of a generated segment, progress shown.
set -euo pipefail
cd "$(dirname "$0")/../.."
export NX_DAEMON=false NX_NO_CLOUD=true
bash tools/scripts/ensure-services.sh
npx nx run-many -t build --projects='tag:type:app' --output-style=static
# The demo relies on the development defaults (secrets, settings): NODE_ENV=development, set explicitly.
NODE_ENV=development SWC_NODE_PROJECT=tsconfig.base.json exec node -r @swc-node/register tools/demo/demo.ts "$@"
