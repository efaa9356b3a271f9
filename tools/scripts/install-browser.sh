#!/usr/bin/env bash
# Installs the browser the console's end-to-end tests drive (Debian's Chromium at /usr/bin/chromium) when it is
# missing. playwright-core never downloads a browser of its own; it launches this one (CHROMIUM_PATH overrides).
set -euo pipefail
browser="${CHROMIUM_PATH:-/usr/bin/chromium}"
if [ -x "$browser" ]; then
  echo "browser: $browser ($("$browser" --version 2>/dev/null || echo 'version unknown'))"
  exit 0
fi
sudo=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then sudo="sudo"; else
    echo "install-browser: $browser is missing and this user cannot install packages (not root, no sudo)" >&2
    exit 1
  fi
fi
echo "install-browser: installing Debian's chromium"
$sudo env DEBIAN_FRONTEND=noninteractive apt-get update -q
$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends chromium fonts-dejavu-core
"$browser" --version
