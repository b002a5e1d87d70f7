#!/usr/bin/env bash
# The docs page in a real browser: Debian's chromium driven by playwright-core (npm; it downloads
# no browser), against a mock-mode facade. Opens `/`, fills calculator.add's try-it form, sends
# it and waits for the JSON reply; screenshots go to $ARTEFACTS.
source "$(dirname "$0")/../lib.sh"
HERE="$(cd "$(dirname "$0")" && pwd)"

need_apt chromium chromium chromium-driver
tools="$(npm_tools browser playwright-core@1.65.1)"
ponte_start
PONTE_URL="$PONTE_URL" ARTEFACTS="$ARTEFACTS" NODE_PATH="$tools/node_modules" \
  node "$HERE/docs-page.js"
echo "browser: the docs page works"
