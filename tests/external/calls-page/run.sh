#!/usr/bin/env bash
# The call-log page in a real browser (Debian's chromium driven by playwright-core): a mock-mode
# ponte answers one facade call; the page, given the admin token, lists that call and shows the
# SOAP envelope ponte built for it. Screenshot: $ARTEFACTS/calls-page.png.
source "$(dirname "$0")/../lib.sh"

need_apt chromium chromium chromium-driver
TOOLS="$(npm_tools calls-page playwright-core@1)"

TOKEN="calls-page-$RANDOM$RANDOM"
ponte_start --admin-token "$TOKEN"
answer="$(curl -fsS "$PONTE_URL/calculator/add?a=2&b=3")"
[ "$answer" = '{"result":5}' ] || { echo "unexpected facade answer: $answer" >&2; exit 1; }

PROFILE="$(mktemp -d)"
export NODE_PATH="$TOOLS/node_modules" PONTE_URL TOKEN PROFILE
export SHOT="$ARTEFACTS/calls-page.png"
node "$(dirname "$0")/check.js"
echo "ok: the call-log page shows the call and its envelope ($SHOT)"
