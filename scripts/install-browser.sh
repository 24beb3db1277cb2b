#!/usr/bin/env bash
# Installs Debian's Chromium (/usr/bin/chromium), the headless browser the evidence report's
# test and benchmark load report.html in. Idempotent: does nothing when it is already there.
# Needs root (apt-get); `make browser` runs it.
set -euo pipefail

if [ -x /usr/bin/chromium ]; then
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "install-browser: /usr/bin/chromium is missing and installing it needs root: run 'sudo make browser'" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
# `apt-get update` only when the package lists do not know chromium yet.
if ! apt-cache show chromium >/dev/null 2>&1; then
  apt-get update
fi
apt-get install -y --no-install-recommends chromium
echo "install-browser: $(/usr/bin/chromium --version)"
