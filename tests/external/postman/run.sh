#!/usr/bin/env bash
# `ponte export postman` run by Postman's own runner (npm newman) against a mock-mode ponte:
# every request must get the answer its fixture example shows (the collection's tests assert
# the status and the body; newman exits non-zero on any failed assertion).
source "$(dirname "$0")/../lib.sh"

tools="$(npm_tools postman 'newman@6')"
ponte_start
collection="$ARTEFACTS/ponte.postman_collection.json"
(cd "$ROOT" && "$PONTE_BIN" export postman -o "$collection")
"$tools/node_modules/.bin/newman" run "$collection" \
  --env-var "baseUrl=$PONTE_URL" \
  --reporters cli --color off
