// Opens the call-log page, enters the token, picks the calculator.add call and checks both
// sides are shown: the facade request and the SOAP envelope sent for it.
const { chromium } = require("playwright-core");

(async () => {
  const context = await chromium.launchPersistentContext(process.env.PROFILE, {
    executablePath: "/usr/bin/chromium",
    headless: true,
    args: [
      "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
      "--disable-component-update", "--disable-sync", "--disable-quic", "--no-first-run",
    ],
    viewport: { width: 1400, height: 900 },
  });
  let failed = false;
  try {
    const page = await context.newPage();
    await page.goto(process.env.PONTE_URL + "/_ponte/calls/page");
    await page.fill("#token", process.env.TOKEN);
    await page.click("#login button[type=submit]");
    const item = page.locator("#calls li", { hasText: "calculator.add" }).first();
    await item.waitFor({ timeout: 10000 });
    await item.click();
    const detail = page.locator("#detail");
    await detail.locator("text=Backend request").waitFor({ timeout: 10000 });
    const text = await detail.innerText();
    for (const expected of ["GET /calculator/add", "a=2&b=3", "soap:Envelope", "intA>2</", "soapaction"]) {
      if (!text.includes(expected)) {
        throw new Error("the call's detail lacks `" + expected + "`:\n" + text);
      }
    }
    if (text.includes(process.env.TOKEN)) throw new Error("the page shows the admin token");
    await page.screenshot({ path: process.env.SHOT, fullPage: true });
  } catch (e) {
    console.error(e.message || e);
    failed = true;
  } finally {
    await context.close();
  }
  process.exit(failed ? 1 : 0);
})();
