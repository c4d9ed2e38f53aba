#!/usr/bin/env bash
# Installs the Debian packages the tests use, when missing (run as root). Idempotent.
#   python3-websockets: the Python agent example (tests/examples)
#   chromium: the inspector's end-to-end tests (tests/ui)
set -euo pipefail
missing=()
/usr/bin/python3 -c "import websockets" >/dev/null 2>&1 || missing+=(python3-websockets)
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
if [ "${#missing[@]}" -gt 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update >&2
  apt-get install -y "${missing[@]}" >&2
fi
