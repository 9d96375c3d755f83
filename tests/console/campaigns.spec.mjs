// Campaigns and SMS consent in a real browser (system Chromium): compose with the live segment count,
// preview the audience and cost, send; a sent campaign's results; the consent page and its CSV.
// Driven by tests/console/test_campaigns_browser.py (a console, the jobs process, the fake Twilio API).
// Screenshots: results/console/, or docs/console/ when CONSOLE_SHOTS points there (the README's).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { mkdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const require = createRequire(new URL('../../widget/package.json', import.meta.url));
const { chromium } = require('playwright-core');

const env = process.env;
const CONSOLE_URL = env.CONSOLE_URL;
const CHROMIUM = env.CHROMIUM_PATH || '/usr/bin/chromium';
const SHOTS = env.CONSOLE_SHOTS || fileURLToPath(new URL('../../results/console/', import.meta.url));

mkdirSync(SHOTS, { recursive: true });
let browser;

before(async () => {
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync'],
  });
});

after(async () => { await browser?.close(); });

async function signedIn(email, password) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, acceptDownloads: true });
  const page = await context.newPage();
  page.errors = [];
  page.on('pageerror', (err) => page.errors.push(String(err)));
  await page.goto(`${CONSOLE_URL}/`);
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { name: 'Conversations' }).waitFor();
  return page;
}

const shot = (page, name) => page.screenshot({ path: `${SHOTS}${name}.png`, fullPage: true });

test('an admin composes, previews and sends a campaign', async () => {
  const page = await signedIn(env.ADMIN_EMAIL, env.ADMIN_PASSWORD);
  await page.getByRole('link', { name: 'Campaigns' }).click();
  await page.getByRole('heading', { name: 'Compose' }).waitFor();
  assert.equal(await page.getByText('Texting is off').count(), 0);
  await page.getByLabel('Name (staff only)').fill('Club party reminder');
  const message = page.getByLabel('Message');
  await message.fill('The Grand Prix club party is Saturday at 6 PM in the barrel room. Bring a friend!');
  const count = page.locator('#campaign-count');
  await assert.doesNotReject(count.getByText(/GSM-7, 1 segment per text/).waitFor());
  await message.fill('The Grand Prix club party is Saturday at 6 PM in the barrel room. Bring a friend! 🍷');
  await count.getByText(/UCS-2, 2 segments per text/).waitFor();
  await message.fill('The Grand Prix club party is Saturday at 6 PM in the barrel room. Bring a friend!');
  await page.getByLabel('A club tier').check();
  await page.getByLabel('Tier or tag').fill('Grand Prix');
  await shot(page, 'campaigns-compose-desktop');
  await page.getByRole('button', { name: 'Preview' }).click();
  await page.getByRole('heading', { name: 'Preview' }).waitFor();
  const body = await page.locator('main').innerText();
  assert.match(body, /1 segment per text/);
  assert.match(body, /1 opted-in recipients now/);
  assert.match(body, /Reply STOP to opt out\./);
  await shot(page, 'campaigns-preview-desktop');
  await page.getByRole('button', { name: 'Send now' }).click();
  await page.getByText('Scheduled: the jobs process sends it').waitFor();
  assert.deepEqual(page.errors, []);
});

test('a sent campaign shows sent, skipped by reason and opted out since', async () => {
  const page = await signedIn(env.ADMIN_EMAIL, env.ADMIN_PASSWORD);
  await page.goto(`${CONSOLE_URL}/admin/campaigns`);
  await page.getByRole('link', { name: 'Storm closure' }).click();
  await page.getByRole('heading', { name: 'Results' }).waitFor();
  const results = await page.locator('main').innerText();
  assert.match(results, new RegExp(`Sent\\s+${env.EXPECT_SENT}`));
  assert.match(results, /Opted out since\s+1/);
  assert.match(results, /not opted in: \d+/);
  await shot(page, 'campaigns-results-desktop');
  await page.setViewportSize({ width: 390, height: 844 });
  await shot(page, 'campaigns-results-phone');
});

test('the consent page lists every change and exports the audit trail', async () => {
  const page = await signedIn(env.ADMIN_EMAIL, env.ADMIN_PASSWORD);
  await page.getByRole('link', { name: 'SMS consent' }).click();
  await page.getByRole('heading', { name: 'Latest changes' }).waitFor();
  await page.getByText('tasting room sign-up sheet').first().waitFor();
  await shot(page, 'consent-desktop');
  const [download] = await Promise.all([
    page.waitForEvent('download'),
    page.getByRole('link', { name: 'Download the audit trail (CSV)' }).click(),
  ]);
  const csv = readFileSync(await download.path(), 'utf8');
  assert.match(csv.split('\n')[0], /^time_utc,phone,status,channel,words,source,by,consented_at_utc/);
  assert.match(csv, /,out,sms,STOP,/);
});

test('staff who are not admins see neither page', async () => {
  const page = await signedIn(env.STAFF_EMAIL, env.STAFF_PASSWORD);
  assert.equal(await page.getByRole('link', { name: 'Campaigns' }).count(), 0);
  const response = await page.goto(`${CONSOLE_URL}/admin/campaigns`);
  assert.equal(response.status(), 403);
});
