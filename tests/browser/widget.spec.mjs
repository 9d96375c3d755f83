// Browser tests of the website chat widget against a running assistant.
//   WIDGET_URL=http://localhost:8080 node --test tests/browser/widget.spec.mjs
// Driven by tests/integration/test_widget_browser.py, which starts the assistant.
// Uses playwright-core from widget/node_modules with the system Chromium; it never
// downloads a browser.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { mkdirSync } from 'node:fs';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';

const require = createRequire(new URL('../../widget/package.json', import.meta.url));
const { chromium } = require('playwright-core');

const WIDGET_URL = (process.env.WIDGET_URL || 'http://localhost:8080').replace(/\/$/, '');
const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
const SHOTS = fileURLToPath(new URL('../../results/browser/', import.meta.url));
const REPLY_MS = 45_000;
const XSS = '<img src=x onerror="window.__xss=1"><script>window.__xss=2</script>';

mkdirSync(SHOTS, { recursive: true });

let browser;

before(async () => {
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
});

after(async () => {
  await browser?.close();
});

async function newPage(options = {}) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, ...options });
  const page = await context.newPage();
  page.errors = [];
  page.on('pageerror', (err) => page.errors.push(String(err)));
  return page;
}

const launcher = (page) => page.locator('.mc-launcher');
const input = (page) => page.getByRole('textbox', { name: 'Your message' });
const botBubbles = (page) => page.locator('.mc-from-bot .mc-bubble');
const userBubbles = (page) => page.locator('.mc-from-user .mc-bubble');

async function openChat(page) {
  await launcher(page).click();
  await page.locator('#mc-panel').waitFor({ state: 'visible' });
}

// Types a message, presses Enter and waits until at least one new bot message arrives.
async function ask(page, text) {
  const before = await botBubbles(page).count();
  await input(page).fill(text);
  await input(page).press('Enter');
  await page.waitForFunction(
    (n) => document.querySelectorAll('.mc-from-bot .mc-bubble').length > n, before, { timeout: REPLY_MS });
  await page.waitForTimeout(300); // the rest of a multi-message answer
  return (await botBubbles(page).allTextContents()).slice(before).join(' ');
}

async function shot(page, name) {
  await page.screenshot({ path: `${SHOTS}${name}.png` });
}

describe('widget conversation on the demo page', () => {
  let page;

  before(async () => {
    page = await newPage();
    await page.goto(WIDGET_URL);
  });

  after(async () => {
    assert.deepEqual(page.errors, [], 'no uncaught errors in the page');
    await page.context().close();
  });

  test('the launcher opens a labelled panel with the message box focused', async () => {
    assert.equal(await launcher(page).getAttribute('aria-expanded'), 'false');
    await openChat(page);
    assert.equal(await launcher(page).getAttribute('aria-expanded'), 'true');
    assert.equal(await page.locator('.mc-log').getAttribute('aria-live'), 'polite');
    assert.ok(await page.getByRole('dialog', { name: 'Milea Estate Vineyard' }).isVisible());
    assert.ok(await input(page).evaluate((node) => node === document.activeElement), 'input has focus');
  });

  test('asking for the hours gets an answer with the time', async () => {
    const answer = await ask(page, 'what are your hours');
    assert.match(answer, /PM/);
    assert.ok(await page.locator('.mc-typing').isHidden(), 'typing indicator gone after the answer');
  });

  test('a quick-reply button from the greeting sends its payload and shows its title', async () => {
    await ask(page, 'hi');
    const buttons = page.locator('.mc-quick-reply');
    await buttons.first().waitFor();
    assert.ok(await buttons.count() >= 2, 'greeting has buttons');
    await shot(page, 'desktop-greeting');
    const before = await botBubbles(page).count();
    await page.getByRole('button', { name: 'Opening hours' }).click();
    await page.waitForFunction(
      (n) => document.querySelectorAll('.mc-from-bot .mc-bubble').length > n, before, { timeout: REPLY_MS });
    const users = await userBubbles(page).allTextContents();
    assert.match(users.at(-1), /Opening hours$/);
    assert.ok(!users.some((t) => t.includes('/ask_hours')), 'the payload is not shown');
    assert.match((await botBubbles(page).allTextContents()).slice(before).join(' '), /PM/);
    assert.equal(await page.locator('.mc-quick-reply').count(), 0, 'used quick replies go away');
  });

  test('links in bot text are real links, http(s) only', async () => {
    const answer = await ask(page, 'how do I book a tasting?');
    assert.ok(answer.length > 0);
    const hrefs = await page.locator('.mc-bubble a').evaluateAll((links) => links.map((a) => a.href));
    for (const href of hrefs) assert.match(href, /^https?:\/\//);
  });

  test('thumbs up/down is recorded and reported to the onFeedback hook', async () => {
    await page.evaluate(() => {
      window.__votes = [];
      window.MileaChat.onFeedback = (record) => window.__votes.push(record);
    });
    const up = page.locator('.mc-from-bot').last().getByRole('button', { name: 'Helpful', exact: true });
    await up.click();
    assert.equal(await up.getAttribute('aria-pressed'), 'true');
    const votes = await page.evaluate(() => window.__votes);
    assert.equal(votes.length, 1);
    assert.equal(votes[0].vote, 'up');
    const stored = await page.evaluate(() => JSON.parse(localStorage.getItem('milea-chat:feedback')));
    assert.equal(stored.at(-1).vote, 'up');
  });

  test('after a reload the conversation is still there and continues', async () => {
    const sessionId = await page.evaluate(() => window.MileaChat.sessionId);
    const shown = await userBubbles(page).allTextContents();
    await page.reload();
    await page.locator('#mc-panel').waitFor({ state: 'visible' }); // it was open, so it reopens
    assert.equal(await page.evaluate(() => window.MileaChat.sessionId), sessionId);
    assert.deepEqual(await userBubbles(page).allTextContents(), shown);
    assert.match((await botBubbles(page).allTextContents()).join(' '), /PM/);
    assert.equal(
      await page.locator('.mc-from-bot').last().getByRole('button', { name: 'Helpful', exact: true })
        .getAttribute('aria-pressed'), 'true', 'the vote survives the reload');
    const answer = await ask(page, 'can i bring my dog?');
    assert.match(answer.toLowerCase(), /leash|dog/);
  });

  test('markup typed by the user is shown as text and never runs', async () => {
    await ask(page, XSS);
    const users = await userBubbles(page).allTextContents();
    assert.ok(users.at(-1).endsWith(XSS), `shown verbatim: ${users.at(-1)}`);
    assert.equal(await page.locator('.mc-root img, .mc-root script').count(), 0);
    await page.waitForTimeout(500);
    assert.equal(await page.evaluate(() => typeof window.__xss), 'undefined');
    await page.reload(); // and not when re-rendered from storage either
    await page.locator('#mc-panel').waitFor({ state: 'visible' });
    assert.ok((await userBubbles(page).allTextContents()).at(-1).endsWith(XSS));
    assert.equal(await page.evaluate(() => typeof window.__xss), 'undefined');
  });

  test('"Talk to a person" asks for a human', async () => {
    const before = await botBubbles(page).count();
    await page.getByRole('button', { name: 'Talk to a person' }).click();
    await page.waitForFunction(
      (n) => document.querySelectorAll('.mc-from-bot .mc-bubble').length > n, before, { timeout: REPLY_MS });
    assert.match((await userBubbles(page).allTextContents()).at(-1), /Talk to a person$/);
    await shot(page, 'desktop-conversation');
  });

  test('Esc closes the panel and gives focus back to the launcher', async () => {
    await input(page).focus();
    await page.keyboard.press('Escape');
    await page.locator('#mc-panel').waitFor({ state: 'hidden' });
    assert.ok(await launcher(page).evaluate((node) => node === document.activeElement));
    await page.keyboard.press('Enter'); // the focused launcher opens it again
    await page.locator('#mc-panel').waitFor({ state: 'visible' });
    await page.keyboard.press('Tab'); // the controls are buttons in the tab order
    const focused = await page.evaluate(() => document.activeElement?.className || '');
    assert.match(focused, /mc-/);
  });
});

test('bot text is never HTML and only http(s) links become links', async () => {
  // A stand-in socket.io client (window.io is used when present) replies with hostile bot text.
  const stub = `<!doctype html><html><head><title>stub</title><script>
    window.io = function () {
      var handlers = {};
      var socket = {
        on: function (name, fn) { handlers[name] = fn; return socket; },
        connect: function () {},
        emit: function (name, data) {
          if (name === 'session_request') setTimeout(function () { handlers.session_confirm(data.session_id); });
          if (name === 'user_uttered') setTimeout(function () { // slow, so the typing indicator shows
            window.__sent = data;
            handlers.bot_uttered({ text: 'Book at https://example.com/book. Not javascript:alert(1) nor ' +
              '[click](javascript:alert(1)) but [our site](https://example.org/a?b=1) ' +
              '<b>bold</b> <img src=x onerror="window.__xss=3">',
              quick_replies: [{ content_type: 'text', title: '<i>Hours</i>', payload: '/ask_hours' }] });
          }, 700);
        }
      };
      setTimeout(function () { handlers.connect && handlers.connect(); });
      return socket;
    };
  </script></head><body><script src="/milea-chat.js" data-server-url="http://stub.invalid" defer></script></body></html>`;
  const page = await newPage();
  await page.route('**/stub.html', (route) => route.fulfill({ status: 200, contentType: 'text/html', body: stub }));
  await page.goto(`${WIDGET_URL}/stub.html`);
  await openChat(page);
  await input(page).fill('hello');
  await input(page).press('Enter');
  await page.locator('.mc-typing').waitFor({ state: 'visible', timeout: 2_000 });
  await botBubbles(page).first().waitFor();
  assert.ok(await page.locator('.mc-typing').isHidden(), 'typing indicator hidden once the answer is in');
  const sent = await page.evaluate(() => window.__sent);
  assert.equal(sent.message, 'hello');
  assert.equal(sent.session_id, await page.evaluate(() => window.MileaChat.sessionId));
  const bubble = botBubbles(page).last();
  assert.match(await bubble.textContent(), /<b>bold<\/b> <img src=x onerror="window.__xss=3">$/);
  const links = await bubble.locator('a').evaluateAll((as) => as.map((a) => [a.textContent, a.href, a.target, a.rel]));
  assert.deepEqual(links.map((l) => l.slice(0, 2)), [
    ['https://example.com/book', 'https://example.com/book'],
    ['our site', 'https://example.org/a?b=1'],
  ]);
  assert.ok(links.every((l) => l[2] === '_blank' && l[3].includes('noopener')));
  assert.equal(await page.locator('.mc-root b, .mc-root i, .mc-root img').count(), 0);
  assert.equal(await page.getByRole('button', { name: '<i>Hours</i>' }).count(), 1);
  assert.equal(await page.evaluate(() => typeof window.__xss), 'undefined');
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test('an unreachable server shows a visible status line', async () => {
  const port = await new Promise((resolve) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
  const page = await newPage();
  const html = '<!doctype html><html><head><title>offline test</title></head><body><h1>Milea</h1>' +
    `<script src="/milea-chat.js" data-server-url="http://127.0.0.1:${port}" defer></script></body></html>`;
  await page.route('**/unreachable.html', (route) =>
    route.fulfill({ status: 200, contentType: 'text/html', body: html }));
  await page.goto(`${WIDGET_URL}/unreachable.html`);
  await openChat(page);
  const status = page.getByRole('status');
  await status.filter({ hasText: /Connecting|Reconnecting/ }).waitFor({ timeout: 10_000 });
  await status.filter({ hasText: "Can't reach the winery's assistant right now" }).waitFor({ timeout: 30_000 });
  await input(page).fill('are you open?');
  await input(page).press('Enter');
  assert.match((await userBubbles(page).allTextContents()).at(-1), /are you open\?$/);
  await shot(page, 'unreachable');
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test('on a 375px phone the open panel fits the screen', async () => {
  const page = await newPage({ viewport: { width: 375, height: 740 }, isMobile: true, hasTouch: true });
  await page.goto(WIDGET_URL);
  const box = await launcher(page).boundingBox();
  assert.ok(box.x >= 0 && box.x + box.width <= 375 && box.y + box.height <= 740, 'launcher on screen');
  await openChat(page);
  await ask(page, 'hi');
  await page.locator('.mc-quick-reply').first().waitFor();
  const panel = await page.locator('#mc-panel').boundingBox();
  assert.ok(panel.x >= 0 && panel.y >= 0, JSON.stringify(panel));
  assert.ok(panel.x + panel.width <= 375 && panel.y + panel.height <= 740, JSON.stringify(panel));
  assert.ok(panel.width >= 370, `full width under 480px: ${panel.width}`);
  const scrollWidth = await page.evaluate(() => document.documentElement.scrollWidth);
  assert.ok(scrollWidth <= 375, `no sideways scrolling: ${scrollWidth}`);
  for (const control of [input(page), page.getByRole('button', { name: 'Send message' }),
    page.getByRole('button', { name: 'Close chat' }), page.locator('.mc-quick-reply').last()]) {
    const b = await control.boundingBox();
    assert.ok(b && b.x >= 0 && b.x + b.width <= 375 && b.y >= 0 && b.y + b.height <= 740,
      `control inside the screen: ${JSON.stringify(b)}`);
  }
  await shot(page, 'phone-375');
  assert.deepEqual(page.errors, []);
  await page.context().close();
});
