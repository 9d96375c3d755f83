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
const CUSTOMER_TOKEN = process.env.CUSTOMER_TOKEN || '';
// The online store the Buy buttons lead to (STORE_PRODUCT_URL's default); answered by a stand-in page.
const SHOP = process.env.STORE_PRODUCT_URL || 'https://mileaestatevineyard.com/product/';
const AXE = require.resolve('axe-core/axe.min.js');

mkdirSync(SHOTS, { recursive: true });

let browser;

before(async () => {
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    // Pages the tests fulfil themselves (page.route) count as public pages for Chromium's
    // Local Network Access checks, which would stop them reaching the assistant on loopback.
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
      '--disable-features=LocalNetworkAccessChecks'],
  });
});

after(async () => {
  await browser?.close();
});

// Every page records uncaught errors, console errors (a failed WebSocket upgrade shows there)
// and the socket.io frames it sends over WebSocket.
async function newPage(options = {}) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, ...options });
  await context.route(`${SHOP}**`, (route) => route.fulfill({
    status: 200, contentType: 'text/html', body: '<!doctype html><title>Milea shop</title><h1>Product page</h1>',
  }));
  const page = await context.newPage();
  page.errors = [];
  page.consoleErrors = [];
  page.wsFrames = [];
  page.on('pageerror', (err) => page.errors.push(String(err)));
  page.on('console', (msg) => { if (msg.type() === 'error') page.consoleErrors.push(msg.text()); });
  page.on('websocket', (ws) => {
    ws.on('framesent', (frame) => page.wsFrames.push(String(frame.payload)));
  });
  return page;
}

const wsErrors = (page) => page.consoleErrors.filter((t) => /WebSocket|Invalid frame header/i.test(t));

// Waits for the greeting the assistant sends when the chat first opens.
async function waitForGreeting(page) {
  try {
    await page.locator('.mc-from-bot .mc-bubble').first().waitFor({ timeout: REPLY_MS });
    await page.locator('.mc-quick-reply').first().waitFor({ timeout: REPLY_MS });
  } catch (err) {
    await shot(page, 'no-greeting');
    const status = await page.locator('.mc-status').textContent();
    throw new Error(`no greeting (status: ${status}; console: ${page.consoleErrors.join(' | ')}; ` +
      `frames sent: ${page.wsFrames.slice(-5).join(' | ')}): ${err.message}`);
  }
}

async function axeScan(page) {
  await page.addScriptTag({ path: AXE });
  const result = await page.evaluate(async () => window.axe.run(document.querySelector('.mc-root'), {
    resultTypes: ['violations'],
  }));
  return result.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.id} (${v.impact}): ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
}

const launcher = (page) => page.locator('.mc-launcher');
const input = (page) => page.getByRole('textbox', { name: 'Your message' });
const botBubbles = (page) => page.locator('.mc-from-bot .mc-bubble');
const userBubbles = (page) => page.locator('.mc-from-user .mc-bubble');

async function openChat(page) {
  await launcher(page).click();
  await page.locator('#mc-panel').waitFor({ state: 'visible' });
}

// Types a message, presses Enter and waits until the bot messages that arrive after it match
// `expected` (by default: any reply; pass what the test looks for in a multi-message answer).
async function ask(page, text, expected = /\S/) {
  const before = await botBubbles(page).count();
  await input(page).fill(text);
  await input(page).press('Enter');
  await page.waitForFunction(([n, source, flags]) => {
    const replies = [...document.querySelectorAll('.mc-from-bot .mc-bubble')].slice(n).map((b) => b.textContent);
    return replies.length > 0 && new RegExp(source, flags).test(replies.join(' '));
  }, [before, expected.source, expected.flags], { timeout: REPLY_MS });
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
    assert.deepEqual(wsErrors(page), [], 'no WebSocket errors in the console');
    await page.context().close();
  });

  test('the launcher opens a labelled panel with the message box focused, and the assistant greets', async () => {
    assert.equal(await launcher(page).getAttribute('aria-expanded'), 'false');
    await openChat(page);
    assert.equal(await launcher(page).getAttribute('aria-expanded'), 'true');
    assert.equal(await page.locator('.mc-log').getAttribute('aria-live'), 'polite');
    assert.ok(await page.getByRole('dialog', { name: 'Milea Estate Vineyard' }).isVisible());
    assert.ok(await input(page).evaluate((node) => node === document.activeElement), 'input has focus');
    await waitForGreeting(page);
    assert.match(await botBubbles(page).first().textContent(), /virtual assistant/i);
    assert.equal(await userBubbles(page).count(), 0, 'the greeting request shows no message of the visitor');
    const time = page.locator('.mc-from-bot .mc-time').first();
    assert.match(await time.getAttribute('datetime'), /^\d{4}-\d\d-\d\dT/);
    assert.match(await time.textContent(), /\d/);
  });

  test('asking for the hours gets an answer with the time, over WebSocket', async () => {
    const answer = await ask(page, 'what are your hours', /PM/);
    assert.match(answer, /PM/);
    assert.ok(await page.locator('.mc-typing').isHidden(), 'typing indicator gone after the answer');
    assert.equal(await page.evaluate(() => window.MileaChat.transport), 'websocket');
    assert.ok(page.wsFrames.some((f) => f.includes('"user_uttered"') && f.includes('what are your hours')),
      `the message went out as a WebSocket frame: ${page.wsFrames.slice(-5)}`);
    assert.deepEqual(wsErrors(page), [], 'no failed WebSocket upgrade or bad frame in the console');
  });

  test('a price question shows a wine card with image, price and a Buy link to the product page', async () => {
    await ask(page, 'how much is the reserve cab franc?');
    const card = page.locator('.mc-card').last();
    await card.waitFor({ timeout: REPLY_MS });
    assert.match(await card.locator('.mc-card-title').textContent(), /2022 Reserve Cabernet Franc/);
    assert.equal(await card.locator('.mc-card-price').textContent(), '$45');
    assert.match(await card.locator('.mc-card-stock').textContent(), /In stock/);
    const image = card.locator('img.mc-card-image');
    await page.waitForFunction((img) => img.complete && img.naturalWidth > 0, await image.elementHandle(),
      { timeout: 10_000 });
    assert.match(await image.getAttribute('alt'), /Reserve Cabernet Franc/);
    const buy = card.getByRole('link', { name: /Buy 2022 Reserve Cabernet Franc/ });
    assert.equal(await buy.getAttribute('href'), `${SHOP}reserve-cabernet-franc-2022`);
    const [shop] = await Promise.all([page.context().waitForEvent('page'), buy.click()]);
    await shop.waitForLoadState();
    assert.equal(shop.url(), `${SHOP}reserve-cabernet-franc-2022`);
    assert.equal(await shop.locator('h1').textContent(), 'Product page');
    await shop.close();
    await shot(page, 'desktop-wine-card');
  });

  test('a name that fits several wines shows a carousel and keeps the buttons', async () => {
    await ask(page, 'what does the chardonnay taste like');
    const carousel = page.locator('.mc-carousel').last();
    await carousel.waitFor({ timeout: REPLY_MS });
    const titles = await carousel.locator('.mc-card-title').allTextContents();
    assert.deepEqual(titles.map((t) => t.replace(/^\d{4} /, '')).sort(), ['Farmhouse Chardonnay', 'Reserve Chardonnay']);
    assert.equal(await carousel.locator('img.mc-card-image').count(), 2);
    assert.ok(await page.getByRole('button', { name: 'Reserve Chardonnay' }).isVisible(), 'the choice buttons stay');
    assert.deepEqual(await axeScan(page), [], 'no serious or critical accessibility violation');
    await shot(page, 'desktop-carousel');
  });

  test('a quick-reply button from the greeting sends its payload and shows its title', async () => {
    await ask(page, 'hi');
    const buttons = page.locator('.mc-quick-reply');
    await buttons.first().waitFor();
    assert.ok(await buttons.count() >= 2, 'greeting has buttons');
    await shot(page, 'desktop-greeting');
    const before = await botBubbles(page).count();
    await page.getByRole('button', { name: 'Opening hours' }).last().click();
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

  test('thumbs up/down is stored by the assistant and reported to the onFeedback hook', async () => {
    await ask(page, 'what are your hours on saturday');
    await page.evaluate(() => {
      window.__votes = [];
      window.MileaChat.onFeedback = (record) => window.__votes.push(record);
    });
    const up = page.locator('.mc-from-bot').last().getByRole('button', { name: 'Helpful', exact: true });
    const [posted] = await Promise.all([
      page.waitForResponse((r) => r.url().endsWith('/webhooks/socketio/feedback') && r.request().method() === 'POST'),
      up.click(),
    ]);
    assert.equal(posted.status(), 204, 'the Rasa server stored the vote');
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
    const answer = await ask(page, 'can i bring my dog?', /leash|dog/i);
    assert.match(answer.toLowerCase(), /leash|dog/);
    assert.ok(await page.locator('.mc-card').count() >= 1, 'the wine cards are still there');
  });

  test('replies that arrive while the chat is closed show an unread badge', async () => {
    await page.getByRole('button', { name: 'Close chat', exact: true }).click();
    await page.locator('#mc-panel').waitFor({ state: 'hidden' });
    const before = await botBubbles(page).count();
    await page.evaluate(() => window.MileaChat.send('are you open on monday?'));
    await page.waitForFunction(
      (n) => document.querySelectorAll('.mc-from-bot .mc-bubble').length > n, before, { timeout: REPLY_MS });
    const badge = page.locator('.mc-badge');
    await badge.waitFor({ state: 'visible' });
    assert.match(await badge.textContent(), /^[1-9]/);
    assert.match(await launcher(page).getAttribute('aria-label'), /unread message/);
    await shot(page, 'desktop-unread-badge');
    await openChat(page);
    assert.ok(await badge.isHidden(), 'opening the chat clears the badge');
  });

  test('markup typed by the user is shown as text and never runs', async () => {
    await ask(page, XSS);
    const users = await userBubbles(page).allTextContents();
    assert.ok(users.at(-1).endsWith(XSS), `shown verbatim: ${users.at(-1)}`);
    assert.equal(await page.locator('.mc-bubble img, .mc-root script').count(), 0);
    // A control: the same markup put into the page as HTML runs its handler. Once the control's has
    // run, the widget's copy, shown earlier, would have run too if the widget had made it HTML.
    await page.evaluate((markup) => {
      const control = document.createElement('div');
      control.hidden = true;
      control.innerHTML = markup.replace('window.__xss=1', 'window.__control=1');
      document.body.append(control);
    }, XSS);
    await page.waitForFunction(() => window.__control === 1, null, { timeout: 10_000 });
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

  test('"Start over" begins a new conversation with a new greeting', async () => {
    const old = await page.evaluate(() => window.MileaChat.sessionId);
    await page.getByRole('button', { name: 'Start a new conversation' }).click();
    assert.equal(await userBubbles(page).count(), 0);
    await waitForGreeting(page);
    assert.notEqual(await page.evaluate(() => window.MileaChat.sessionId), old);
    assert.match(await botBubbles(page).first().textContent(), /virtual assistant/i);
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
          if (name === 'session_request') setTimeout(function () { // a server issues the id
            handlers.session_confirm(data.session_id || 'w' + '0'.repeat(32) + '.' + '1'.repeat(32));
          });
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
  assert.equal(sent.session_id, 'w' + '0'.repeat(32) + '.' + '1'.repeat(32), 'the id the server issued');
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
  assert.deepEqual(await axeScan(page), [], 'no serious or critical accessibility violation at phone width');
  await ask(page, 'how much is the farmhouse chardonnay');
  await page.locator('.mc-card').last().waitFor({ timeout: REPLY_MS });
  for (const control of [input(page), page.getByRole('button', { name: 'Send message' }),
    page.getByRole('button', { name: 'Close chat' }), page.locator('.mc-card-buy').last()]) {
    const b = await control.boundingBox();
    assert.ok(b && b.x >= 0 && b.x + b.width <= 375 && b.y >= 0 && b.y + b.height <= 740,
      `control inside the screen: ${JSON.stringify(b)}`);
  }
  await shot(page, 'phone-375');
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test('a signed-in customer (token from the host page) sees their points; without it they are not shown', async () => {
  assert.ok(CUSTOMER_TOKEN, 'CUSTOMER_TOKEN is set by tests/integration/test_widget_browser.py');
  const page = await newPage();
  const html = '<!doctype html><html lang="en"><head><title>Account</title></head><body><main><h1>My account</h1></main>' +
    `<script src="/milea-chat.js" data-customer-token="${CUSTOMER_TOKEN}" defer></script></body></html>`;
  await page.route('**/account.html', (route) => route.fulfill({ status: 200, contentType: 'text/html', body: html }));
  await page.goto(`${WIDGET_URL}/account.html`);
  await openChat(page);
  await waitForGreeting(page);
  assert.match(await ask(page, 'how many points do i have', /12,400/), /12,400/);
  const sent = page.wsFrames.find((f) => f.includes('how many points do i have'));
  assert.ok(sent && sent.includes('"customer_token"'), 'the token travels in the message metadata');
  await page.evaluate(() => window.MileaChat.identify(null)); // signed out
  const answer = await ask(page, 'what is my points balance', /email|phone|mobile/i); // asks for proof instead
  assert.ok(!answer.includes('12,400'), answer);
  await page.evaluate((token) => window.MileaChat.identify(token), CUSTOMER_TOKEN);
  assert.match(await ask(page, 'how many milea miles do i have', /12,400/), /12,400/);
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test('a stored session id the server did not issue starts a conversation of its own', async () => {
  // What a page could plant in a visitor's storage, or an id copied from elsewhere: the server
  // gives a new id and the widget drops the transcript that went with the old one.
  const page = await newPage();
  const planted = 'w' + 'a'.repeat(32) + '.' + '0'.repeat(32);
  await page.addInitScript((id) => {
    if (sessionStorage.getItem('planted')) return;
    sessionStorage.setItem('planted', '1');
    localStorage.setItem('milea-chat:conversation', JSON.stringify({ sessionId: id, updatedAt: Date.now(),
      messages: [{ id: 'm1', from: 'user', text: 'a planted question', at: Date.now() }] }));
  }, planted);
  await page.goto(WIDGET_URL);
  await openChat(page);
  await page.waitForFunction((id) => window.MileaChat.sessionId && window.MileaChat.sessionId !== id, planted,
    { timeout: REPLY_MS });
  assert.match(await page.evaluate(() => window.MileaChat.sessionId), /^w[0-9a-f]{32}\.[0-9a-f]{32}$/);
  assert.ok(!(await userBubbles(page).allTextContents()).join(' ').includes('a planted question'));
  await waitForGreeting(page);
  assert.match(await ask(page, 'can i bring my dog?', /leash|dog/i), /leash|dog/i);
  const issued = await page.evaluate(() => window.MileaChat.sessionId);
  await page.reload();
  await page.locator('#mc-panel').waitFor({ state: 'visible' }); // it was open, so it reopens
  await page.waitForFunction(() => window.MileaChat.sessionId, null, { timeout: REPLY_MS });
  assert.equal(await page.evaluate(() => window.MileaChat.sessionId), issued, 'a reload keeps the issued id');
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test('data-lang="es" shows the widget in Spanish', async () => {
  const page = await newPage();
  const html = '<!doctype html><html lang="es"><head><title>Milea</title></head><body><main><h1>Milea</h1></main>' +
    '<script src="/milea-chat.js" data-lang="es" defer></script></body></html>';
  await page.route('**/es.html', (route) => route.fulfill({ status: 200, contentType: 'text/html', body: html }));
  await page.goto(`${WIDGET_URL}/es.html`);
  assert.match(await launcher(page).textContent(), /Chatee con nosotros/);
  await launcher(page).click();
  assert.ok(await page.getByRole('textbox', { name: 'Su mensaje' }).isVisible());
  assert.ok(await page.getByRole('button', { name: 'Hablar con una persona' }).isVisible());
  await page.context().close();
});

test('where WebSocket cannot connect the chat falls back to long-polling', async () => {
  const page = await newPage();
  await page.addInitScript(() => { // a network that refuses every WebSocket, as some proxies do
    window.WebSocket = function BlockedWebSocket() {
      const ws = this;
      ws.readyState = 0;
      ws.send = () => {};
      ws.close = () => {};
      setTimeout(() => {
        ws.readyState = 3;
        if (ws.onerror) ws.onerror(new Event('error'));
        if (ws.onclose) ws.onclose({ code: 1006, reason: '', wasClean: false });
      });
    };
  });
  await page.goto(WIDGET_URL);
  await openChat(page);
  await waitForGreeting(page);
  assert.match(await ask(page, 'what are your hours', /PM/), /PM/);
  assert.equal(await page.evaluate(() => window.MileaChat.transport), 'polling');
  assert.deepEqual(page.errors, []);
  await page.context().close();
});
