// Customer self-service (issue 23) in a real browser (system Chromium): a customer signed in on the
// website asks the widget where their wine is and sees their order with its tracking link; signed out,
// the same question shows nothing of the account. Then staff open that conversation in the console and
// see the customer's Commerce7 summary beside it, with a link to the customer in Commerce7.
// Driven by tests/integration/test_self_service.py (test_self_service_in_chromium), which sets the env.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const require = createRequire(new URL('../../widget/package.json', import.meta.url));
const { chromium } = require('playwright-core');

const env = process.env;
const WIDGET_URL = (env.WIDGET_URL || '').replace(/\/$/, '');
const CONSOLE_URL = (env.CONSOLE_URL || '').replace(/\/$/, '');
const CHROMIUM = env.CHROMIUM_PATH || '/usr/bin/chromium';
const SHOTS = fileURLToPath(new URL('../../results/browser/', import.meta.url));
const REPLY_MS = 45_000;

mkdirSync(SHOTS, { recursive: true });
let browser;
let conversationId = null;

before(async () => {
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
      // the widget page and the assistant are both on loopback (different ports): Chromium 14x's
      // local network access checks would block the page's socket.io connection to the other port
      '--disable-features=LocalNetworkAccessChecks,BlockInsecurePrivateNetworkRequests,PrivateNetworkAccessSendPreflights'],
  });
});

after(async () => { await browser?.close(); });

async function newPage() {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const page = await context.newPage();
  page.errors = [];
  page.wsFrames = [];
  page.consoleErrors = [];
  page.on('pageerror', (err) => page.errors.push(String(err)));
  page.on('console', (msg) => { if (msg.type() === 'error') page.consoleErrors.push(msg.text()); });
  page.on('requestfailed', (r) => page.consoleErrors.push(`failed ${r.url()} ${r.failure()?.errorText}`));
  page.on('websocket', (ws) => ws.on('framesent', (frame) => page.wsFrames.push(String(frame.payload))));
  return page;
}

const input = (page) => page.getByRole('textbox', { name: 'Your message' });
const botBubbles = (page) => page.locator('.mc-from-bot .mc-bubble');

async function ask(page, text, expected) {
  const before = await botBubbles(page).count();
  await input(page).fill(text);
  await input(page).press('Enter');
  await page.waitForFunction(([n, source, flags]) => {
    const replies = [...document.querySelectorAll('.mc-from-bot .mc-bubble')].slice(n).map((b) => b.textContent);
    return replies.length > 0 && new RegExp(source, flags).test(replies.join(' '));
  }, [before, expected.source, expected.flags], { timeout: REPLY_MS });
  await page.waitForTimeout(1500); // the rest of a multi-message answer
  return (await botBubbles(page).allTextContents()).slice(before).join(' ');
}

test('a signed-in customer sees their order and its tracking link in the widget; signed out, nothing', async () => {
  assert.ok(env.CUSTOMER_TOKEN, 'CUSTOMER_TOKEN is set by the Python test');
  const page = await newPage();
  const html = '<!doctype html><html lang="en"><head><title>Account</title></head><body><main><h1>My account</h1></main>' +
    `<script src="/milea-chat.js" data-customer-token="${env.CUSTOMER_TOKEN}" defer></script></body></html>`;
  await page.route('**/account.html', (route) => route.fulfill({ status: 200, contentType: 'text/html', body: html }));
  await page.goto(`${WIDGET_URL}/account.html`);
  await page.locator('.mc-launcher').click();
  await page.locator('#mc-panel').waitFor({ state: 'visible' });
  let owner;
  try {
    owner = await ask(page, 'did my wine ship yet?', /#2039/);
  } catch (err) {
    await page.screenshot({ path: `${SHOTS}self-service-no-reply.png` });
    const status = await page.locator('.mc-status').textContent().catch(() => '');
    throw new Error(`no reply (status: ${status}; console: ${page.consoleErrors.slice(-6).join(' | ')}; frames: ${page.wsFrames.slice(-4).join(' | ')}; ` +
      `bubbles: ${(await botBubbles(page).allTextContents()).join(' | ')}): ${err.message}`);
  }
  assert.match(owner, /1Z999AA10123456784/);
  const link = page.locator('.mc-from-bot a[href*="ups.com/track"]').last();
  assert.equal(await link.count(), 1, 'the tracking number is a link to the carrier');
  await page.screenshot({ path: `${SHOTS}self-service-orders.png` });
  // the conversation staff see is the session id's first part (the rest is the visitor's key)
  conversationId = (await page.evaluate(() => window.MileaChat.sessionId)).split('.')[0];
  await page.evaluate(() => window.MileaChat.identify(null)); // signed out
  const stranger = await ask(page, 'wheres my order', /\S/);
  assert.ok(!/#20\d\d|1Z999/.test(stranger), stranger);
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test('staff see the proven customer beside the conversation, with a link to Commerce7', async () => {
  const id = env.CONVERSATION_ID || conversationId;
  assert.ok(id, 'a conversation id');
  const page = await newPage();
  await page.goto(`${CONSOLE_URL}/`);
  await page.getByLabel('Email').fill(env.ADMIN_EMAIL);
  await page.getByLabel('Password').fill(env.ADMIN_PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { name: 'Conversations' }).waitFor();
  await page.goto(`${CONSOLE_URL}/conversations/${encodeURIComponent(id)}`);
  const aside = page.getByRole('complementary', { name: 'Proven customer' });
  await aside.waitFor({ timeout: REPLY_MS });
  const text = await aside.textContent();
  assert.match(text, /Jumper/);
  assert.match(text, /1,850/);
  assert.match(text, /#2052/);
  const link = aside.getByRole('link', { name: 'Open in Commerce7' });
  assert.match(await link.getAttribute('href'), /\/customer\/[0-9a-f-]{36}$/);
  await page.screenshot({ path: `${SHOTS}self-service-console.png`, fullPage: true });
  assert.deepEqual(page.errors, []);
  await page.context().close();
});
