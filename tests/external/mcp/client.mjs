// An MCP client from the official TypeScript SDK against ponte's /_ponte/mcp. Exits non-zero
// (an uncaught error) when a tool is missing or a tool call differs from the REST route.
// Usage: node client.mjs http://127.0.0.1:PORT  (run from a folder whose node_modules has the SDK)
import assert from 'node:assert/strict';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';

const base = process.argv[2];
assert.ok(base, 'usage: node client.mjs BASE_URL');

const client = new Client({ name: 'ponte-external-check', version: '1.0.0' });
await client.connect(new StreamableHTTPClientTransport(new URL('/_ponte/mcp', base)));

const { tools } = await client.listTools();
const names = tools.map((t) => t.name);
console.log(`tools (${tools.length}): ${names.join(', ')}`);
const add = tools.find((t) => t.name === 'calculator_add');
assert.ok(add, 'calculator_add is listed');
assert.equal(add.inputSchema.type, 'object');
assert.deepEqual(Object.keys(add.inputSchema.properties).sort(), ['a', 'b']);

const result = await client.callTool({ name: 'calculator_add', arguments: { a: 2, b: 3 } });
console.log(`calculator_add {a:2,b:3} -> ${JSON.stringify(result)}`);
const rest = await (await fetch(new URL('/calculator/add?a=2&b=3', base))).json();
console.log(`GET /calculator/add?a=2&b=3 -> ${JSON.stringify(rest)}`);
assert.notEqual(result.isError, true, 'the tool call succeeds');
assert.deepEqual(result.structuredContent, rest, 'structured content is the REST answer');
assert.deepEqual(JSON.parse(result.content[0].text), rest, 'text content is the REST answer');

const bad = await client.callTool({ name: 'calculator_add', arguments: { a: 'two', b: 3 } });
assert.equal(bad.isError, true, 'a bad argument is an error result');
assert.equal(bad.structuredContent.code, 'bad_input');

await client.close();
console.log('ok: the MCP tool answers as the REST route');
