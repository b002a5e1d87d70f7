// Drives the docs page in chromium: find a route, try it, see the answer. Run by run.sh.
'use strict';
const fs = require('fs');
const os = require('os');
const path = require('path');
const { chromium } = require('playwright-core');

const base = process.env.PONTE_URL;
const artefacts = process.env.ARTEFACTS;

function check(condition, message) {
  if (!condition) throw new Error(message);
}

async function docsPage(page) {
  const response = await page.goto(base + '/');
  check(response.status() === 200, `/ answered ${response.status()}`);
  const route = page.locator('article[data-route="calculator.add"]');
  await route.scrollIntoViewIfNeeded();
  check(await route.locator('h3').innerText().then((t) => t.includes('/calculator/add')),
    'calculator.add is not listed');
  const form = route.locator('form.try');
  await form.locator('input[name="a"]').fill('2');
  await form.locator('input[name="b"]').fill('3');
  await form.locator('button[type="submit"]').click();
  const reply = form.locator('.reply');
  await reply.waitFor({ state: 'visible', timeout: 10000 });
  const text = await reply.innerText();
  check(JSON.parse(text).result === 5, `the reply is ${text}`);
  const status = await form.locator('.status').innerText();
  check(status.startsWith('200'), `the status line is ${status}`);
  await page.screenshot({ path: path.join(artefacts, 'docs-page.png') });
  console.log(`docs page: calculator.add answered ${text.replace(/\s+/g, ' ')}`);
}

// Engineer observe: the call-log page's part of this flow goes here (open it, find the call
// just made with its backend request, screenshot to $ARTEFACTS/calls-page.png).
async function callLogPage(_page) {}

(async () => {
  const userData = fs.mkdtempSync(path.join(os.tmpdir(), 'ponte-chromium-'));
  const browser = await chromium.launchPersistentContext(userData, {
    executablePath: '/usr/bin/chromium',
    headless: true,
    viewport: { width: 1200, height: 900 },
    args: [
      '--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--disable-quic', '--no-first-run',
    ],
  });
  const errors = [];
  try {
    const page = browser.pages()[0] || (await browser.newPage());
    page.on('pageerror', (e) => errors.push(String(e)));
    page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
    await docsPage(page);
    await callLogPage(page);
    check(errors.length === 0, `the page reported errors: ${errors.join('; ')}`);
  } finally {
    await browser.close();
    fs.rmSync(userData, { recursive: true, force: true });
  }
})().catch((e) => {
  console.error(`browser check failed: ${e.message}`);
  process.exit(1);
});
