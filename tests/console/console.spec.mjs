// The staff console in a real browser (system Chromium) against the running assistant:
// a customer in the widget (or by SMS) asks for a person, staff sign in, take the conversation
// over, reply, see the customer's answer arrive live, give it back, and the assistant answers again.
// Driven by tests/console/test_console_stack.py, which starts the assistant with the console.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { createRequire } from 'node:module';
import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const require = createRequire(new URL('../../widget/package.json', import.meta.url));
const { chromium } = require('playwright-core');

const env = process.env;
const WIDGET_URL = env.WIDGET_URL;
const CONSOLE_URL = env.CONSOLE_URL;
const CHROMIUM = env.CHROMIUM_PATH || '/usr/bin/chromium';
const SHOTS = env.CONSOLE_SHOTS || fileURLToPath(new URL('../../results/console/', import.meta.url));
const WAIT = 45_000;

mkdirSync(SHOTS, { recursive: true });
let browser;

before(async () => {
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
});

after(async () => { await browser?.close(); });

async function newPage(viewport = { width: 1280, height: 800 }) {
  const context = await browser.newContext({ viewport });
  const page = await context.newPage();
  page.errors = [];
  page.on('pageerror', (err) => page.errors.push(String(err)));
  return page;
}

async function shot(page, name) {
  await page.screenshot({ path: `${SHOTS}${name}.png`, fullPage: true });
}

async function signIn(page, email = env.ADMIN_EMAIL, password = env.ADMIN_PASSWORD) {
  await page.goto(`${CONSOLE_URL}/`);
  assert.match(page.url(), /\/login/, 'anonymous visitors land on the sign-in page');
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { name: 'Conversations' }).waitFor();
}

const transcript = (page) => page.locator('#transcript');

async function waitForTurn(page, text) {
  await transcript(page).getByText(text, { exact: false }).first().waitFor({ timeout: WAIT });
}

// ---- the widget customer
const botBubbles = (page) => page.locator('.mc-from-bot .mc-bubble');

// Waits until the bot messages after the question match `expected` (by default: any reply).
async function ask(page, text, expected = /\S/) {
  const before = await botBubbles(page).count();
  const box = page.getByRole('textbox', { name: 'Your message' });
  await box.fill(text);
  await box.press('Enter');
  await page.waitForFunction(([n, source, flags]) => {
    const replies = [...document.querySelectorAll('.mc-from-bot .mc-bubble')].slice(n).map((b) => b.textContent);
    return replies.length > 0 && new RegExp(source, flags).test(replies.join(' '));
  }, [before, expected.source, expected.flags], { timeout: WAIT });
  return (await botBubbles(page).allTextContents()).slice(before).join(' ');
}

async function staffTakesOver(staff) {
  await staff.getByRole('button', { name: 'Take over' }).click();
  await staff.getByText('You have taken over').waitFor({ timeout: WAIT });
  await waitForTurn(staff, 'Assistant paused');
}

async function staffReplies(staff, text) {
  await staff.getByLabel(/Reply to the customer/).fill(text);
  await staff.getByRole('button', { name: 'Send' }).click();
  await staff.locator('.turn.staff').getByText(text).waitFor({ timeout: WAIT });
}

async function staffGivesBack(staff) {
  await staff.getByRole('button', { name: 'Give back to the assistant' }).click();
  await staff.getByText('The assistant is answering.').waitFor({ timeout: WAIT });
  await waitForTurn(staff, 'Assistant resumed');
}

describe('web chat: take over, reply, give back', () => {
  let customer;
  let staff;

  before(async () => {
    customer = await newPage();
    staff = await newPage();
  });

  after(async () => {
    assert.deepEqual(customer.errors, [], 'no uncaught errors in the widget');
    assert.deepEqual(staff.errors, [], 'no uncaught errors in the console');
  });

  test('the whole take-over', async () => {
    await customer.goto(WIDGET_URL);
    await customer.locator('.mc-launcher').click();
    await customer.locator('#mc-panel').waitFor({ state: 'visible' });
    const answer = await ask(customer, 'i want to talk to a person');
    assert.ok(answer.length > 0, 'the assistant answered the hand-off request');
    // staff see the conversation: the session id's first part (the rest is the visitor's key)
    const sessionId = (await customer.evaluate(() => window.MileaChat.sessionId)).split('.')[0];

    await signIn(staff);
    // newest first, and in the hand-off queue: the conversation just held
    const row = staff.locator('#rows a.conv', { hasText: sessionId });
    await row.waitFor({ timeout: WAIT });
    await staff.locator('#queue').getByText(/waiting/).first().waitFor({ timeout: WAIT });
    await shot(staff, 'inbox-desktop');
    await row.click();
    await waitForTurn(staff, 'i want to talk to a person');
    assert.match(await transcript(staff).textContent(), /intent human_handoff/);
    assert.match(await transcript(staff).textContent(), /action action_handoff/);

    await staffTakesOver(staff);
    const before = await botBubbles(customer).count();
    await staffReplies(staff, 'Hi, this is Anna from the tasting room. How can I help?');
    await customer.waitForFunction((n) => document.querySelectorAll('.mc-from-bot .mc-bubble').length > n, before,
      { timeout: WAIT });
    assert.match((await botBubbles(customer).allTextContents()).at(-1), /this is Anna from the tasting room/);

    // the customer's answer reaches staff live, and the paused assistant stays quiet
    const box = customer.getByRole('textbox', { name: 'Your message' });
    const quiet = await botBubbles(customer).count();
    await box.fill('Thanks Anna! Can I bring a group of 12 on Saturday?');
    await box.press('Enter');
    await waitForTurn(staff, 'Can I bring a group of 12 on Saturday?');
    assert.equal(await botBubbles(customer).count(), quiet, 'the assistant does not answer while paused');
    await shot(staff, 'conversation-desktop');

    await staffGivesBack(staff);
    const hours = await ask(customer, 'what are your hours?', /PM/);
    assert.match(hours, /PM/, 'the assistant answers again after give back');
    await waitForTurn(staff, 'what are your hours?');
  });

  test('phone width pages', async () => {
    const phone = await newPage({ width: 390, height: 844 });
    await signIn(phone);
    await shot(phone, 'inbox-phone');
    await phone.locator('#rows a.conv').first().click();
    await phone.locator('#transcript li').first().waitFor({ timeout: WAIT });
    await shot(phone, 'conversation-phone');
    await phone.goto(`${CONSOLE_URL}/admin/users`);
    await shot(phone, 'users-phone');
    await phone.goto(`${CONSOLE_URL}/attention`);
    await shot(phone, 'attention-phone');
    await phone.goto(`${CONSOLE_URL}/improve`);
    await shot(phone, 'improve-phone');
    await phone.goto(`${CONSOLE_URL}/knowledge/edit?page=visiting/policies.md`);
    await shot(phone, 'knowledge-editor-phone');
    await phone.goto(`${CONSOLE_URL}/overview`);
    await phone.locator('#charts[data-ready="1"]').waitFor({ timeout: WAIT });
    await shot(phone, 'overview-phone');
    await phone.context().close();
    const desk = await newPage();
    await desk.goto(`${CONSOLE_URL}/login`);
    await shot(desk, 'login-desktop');
    await signIn(desk);
    await desk.goto(`${CONSOLE_URL}/admin/users`);
    await shot(desk, 'users-desktop');
    await desk.goto(`${CONSOLE_URL}/attention`);
    await shot(desk, 'attention-desktop');
    await desk.goto(`${CONSOLE_URL}/improve`);
    await desk.getByRole('heading', { name: 'Knowledge gaps' }).waitFor();
    await shot(desk, 'improve-desktop');
    await desk.goto(`${CONSOLE_URL}/knowledge`);
    await shot(desk, 'knowledge-desktop');
    await desk.goto(`${CONSOLE_URL}/knowledge/edit?page=visiting/policies.md`);
    await desk.getByRole('button', { name: 'Preview' }).click();
    await desk.locator('#preview h2').first().waitFor();
    await shot(desk, 'knowledge-editor-desktop');
    await desk.goto(`${CONSOLE_URL}/overview`);
    await desk.locator('#charts[data-ready="1"]').waitFor({ timeout: WAIT });
    assert.ok(Number(await desk.locator('#kpi-conversations').textContent()) >= 1);
    await shot(desk, 'overview-desktop');
    assert.deepEqual(desk.errors, [], 'no errors on the overview (chart.js loaded from the console)');
    await desk.context().close();
  });
});

// ---- the SMS customer: signed webhooks in, the fake Twilio API out
function signature(url, params) {
  const data = url + Object.keys(params).sort().map((k) => k + params[k]).join('');
  return createHmac('sha1', env.TWILIO_TOKEN).update(Buffer.from(data, 'utf-8')).digest('base64');
}

async function textIn(phone, body) {
  const url = `${env.RASA_URL}/webhooks/twilio/webhook`;
  const sid = `SM${Math.random().toString(16).slice(2)}${Date.now()}`;
  const params = { MessageSid: sid, SmsMessageSid: sid, AccountSid: env.TWILIO_SID, From: phone,
    To: env.TWILIO_NUMBER, Body: body, NumMedia: '0' };
  const response = await fetch(url, { method: 'POST', body: new URLSearchParams(params),
    headers: { 'X-Twilio-Signature': signature(url, params) } });
  assert.equal(response.status, 200);
}

async function textsTo(phone, count) {
  const auth = Buffer.from(`${env.TWILIO_SID}:${env.TWILIO_TOKEN}`).toString('base64');
  const deadline = Date.now() + WAIT;
  for (;;) {
    const response = await fetch(`${env.TWILIO_API}/2010-04-01/Accounts/${env.TWILIO_SID}/Messages.json`,
      { headers: { Authorization: `Basic ${auth}` } });
    assert.equal(response.status, 200);
    const found = (await response.json()).messages.filter((m) => m.to === phone).map((m) => m.body);
    if (found.length >= count || Date.now() > deadline) return found;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

describe('SMS: take over, reply, give back', () => {
  test('the whole take-over by text', async () => {
    const phone = `+1555${String(Math.floor(Math.random() * 1e7)).padStart(7, '0')}`;
    await textIn(phone, 'can i speak to a human');
    assert.equal((await textsTo(phone, 1)).length, 1, 'the assistant answered the hand-off request');
    // the staff SMS notice links to the conversation in the console
    const notices = (await textsTo(env.STAFF_PHONE, 1)).filter((b) => b.includes(encodeURIComponent(phone)));
    assert.ok(notices.length >= 1, 'a hand-off notice with the conversation link');
    const link = notices.at(-1).match(/https?:\/\/\S+/)[0];
    assert.equal(link, `${CONSOLE_URL}/conversations/${encodeURIComponent(phone)}`);

    const staff = await newPage();
    await staff.goto(link);
    assert.match(staff.url(), /\/login\?next=/);
    await staff.getByLabel('Email').fill(env.ADMIN_EMAIL);
    await staff.getByLabel('Password').fill(env.ADMIN_PASSWORD);
    await staff.getByRole('button', { name: 'Sign in' }).click();
    await waitForTurn(staff, 'can i speak to a human');
    assert.match(await staff.locator('h1').textContent(), /SMS conversation/);

    await staffTakesOver(staff);
    await staffReplies(staff, 'Hello from Milea! Which order number is it?');
    const sent = await textsTo(phone, 2);
    assert.equal(sent.at(-1), 'Hello from Milea! Which order number is it?');

    await textIn(phone, 'It is order 1042, thanks');
    await waitForTurn(staff, 'It is order 1042, thanks');
    assert.equal((await textsTo(phone, 2)).length, 2, 'no assistant SMS while paused');

    await staffGivesBack(staff);
    await textIn(phone, 'what are your hours?');
    const replies = await textsTo(phone, 3);
    assert.match(replies.at(-1), /PM/, 'the assistant answers SMS again');
    assert.deepEqual(staff.errors, []);
    await staff.context().close();
  });
});
