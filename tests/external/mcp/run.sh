#!/usr/bin/env bash
# The MCP endpoint against the official TypeScript SDK's client (npm @modelcontextprotocol/sdk,
# StreamableHTTPClientTransport): it lists the tools of a mock-mode ponte and calls
# calculator_add, whose result must equal the REST route's answer.
source "$(dirname "$0")/../lib.sh"

tools="$(npm_tools mcp '@modelcontextprotocol/sdk@1')"
ponte_start
# ES modules resolve packages from the importing file's folder: run the client from the tools'.
cp "$ROOT/tests/external/mcp/client.mjs" "$tools/client.mjs"
node "$tools/client.mjs" "$PONTE_URL" \
  | tee "$ARTEFACTS/mcp-client.txt"
