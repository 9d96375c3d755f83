// The community's standard Rasa widget, rasa-webchat 1.0.1 (npm), against the running assistant:
// a standard Rasa socket.io client must keep working with ids the server issues. It gets a
// session, a greeting for its init payload (/get_started) instead of a complaint, answers, and
// its history and conversation after a reload.
//   WIDGET_URL=... RASA_URL=... node --test tests/browser/rasa_webchat.spec.mjs
// Driven by tests/integration/test_widget_browser.py. The page is served by the test on the
// widget's origin (the one WIDGET_ORIGINS allows), with rasa-webchat's own bundle.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';

const require = createRequire(new URL('../../widget/package.json', import.meta.url));
const { chromium } = require('playwright-core');
const BUNDLE = readFileSync(require.resolve('rasa-webchat/lib/index.js'));

const WIDGET_URL = (process.env.WIDGET_URL || 'http://localhost:8080').replace(/\/$/, '');
const RASA_URL = (process.env.RASA_URL || 'http://localhost:5005').replace(/\/$/, '');
const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
const REPLY_MS = 45_000;

const PAGE = `<!doctype html><html lang="en"><head><title>rasa-webchat</title></head><body>
<div id="webchat"></div>
<script src="/rasa-webchat.js"></script>
<script>
  window.WebChat.default({
    selector: "#webchat", initPayload: "/get_started", socketUrl: ${JSON.stringify(RASA_URL)},
    socketPath: "/socket.io/", title: "Milea", customData: { language: "en" }, params: { storage: "local" },
  }, null);
</script></body></html>`;

let browser;

before(async () => {
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--disable-features=LocalNetworkAccessChecks'],
  });
});

after(async () => {
  await browser?.close();
});

const botTexts = (page) => page.locator('.rw-response').allTextContents();
const userTexts = (page) => page.locator('.rw-client').allTextContents();
const sessionId = (page) => page.evaluate(() => {
  const stored = JSON.parse(localStorage.getItem('chat_session') || 'null');
  return stored && stored.session_id;
});

async function waitForBot(page, expected) {
  await page.waitForFunction(([source, flags]) => [...document.querySelectorAll('.rw-response')]
    .some((node) => new RegExp(source, flags).test(node.textContent)), [expected.source, expected.flags],
  { timeout: REPLY_MS });
}

async function say(page, text) {
  const box = page.locator('.rw-new-message');
  await box.fill(text);
  await box.press('Enter');
}

test('rasa-webchat gets a session, a greeting, answers, and its history after a reload', async () => {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (err) => errors.push(String(err)));
  await page.route(`${WIDGET_URL}/rasa-webchat.html`,
    (route) => route.fulfill({ status: 200, contentType: 'text/html', body: PAGE }));
  await page.route(`${WIDGET_URL}/rasa-webchat.js`,
    (route) => route.fulfill({ status: 200, contentType: 'application/javascript', body: BUNDLE }));
  await page.goto(`${WIDGET_URL}/rasa-webchat.html`);
  await page.locator('.rw-launcher').click();

  await waitForBot(page, /virtual assistant/i); // its /get_started opener is greeted
  const issued = await sessionId(page);
  assert.match(issued || '', /^w[0-9a-f]{32}\.[0-9a-f]{32}$/, 'the server issued the session id');
  assert.ok(!(await botTexts(page)).join(' ').includes('was empty'));

  await say(page, 'can i bring my dog?');
  await waitForBot(page, /leash/i);

  await page.reload();
  await page.locator('.rw-launcher').waitFor();
  if (!(await page.locator('.rw-new-message').isVisible())) await page.locator('.rw-launcher').click();
  await page.locator('.rw-client').first().waitFor({ timeout: REPLY_MS });
  assert.ok((await userTexts(page)).join(' ').includes('can i bring my dog?'), 'the history is shown again');
  await page.waitForFunction(() => window.WebChat, null, { timeout: REPLY_MS });
  const answered = (await botTexts(page)).length;
  await say(page, 'what are your hours today?');
  await page.waitForFunction((n) => document.querySelectorAll('.rw-response').length > n, answered,
    { timeout: REPLY_MS });
  await waitForBot(page, /PM|p\.m\./);
  assert.equal(await sessionId(page), issued, 'the same conversation after the reload');
  assert.deepEqual(errors, []);
  await context.close();
});
