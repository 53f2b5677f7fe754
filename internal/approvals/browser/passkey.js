// passkey.js drives headless Chromium (playwright-core) on the approval pages
// for the Go package browser (the approvals test and `golive demo`), with one
// CDP virtual authenticator (ctap2, internal,
// user verification) that holds every passkey it enrolls. Go passes
// a JSON config as the only argument, {playwright, chromium, artifacts}, then
// sends one JSON command per line on stdin; the script answers each with one
// {"step": ...} JSON line on stdout:
//
//   {cmd: "enroll", invite, label}          -> {step: "enrolled", yaml, credentials}
//   {cmd: "approve", link, slot, comment}   -> {step: "approved", text, plan_ms, click_to_accepted_ms}
//   {cmd: "nojs", link}                     -> {step: "nojs", text, submitted}
//   {cmd: "quit"}
//
// Every page is 390x844 (a phone); the approve button is pressed with the
// keyboard. Failures print "FAIL: ..." and exit 1, with a screenshot named
// failure.png. Every request off loopback is aborted.
'use strict';

const fs = require('fs');
const path = require('path');
const readline = require('readline');

const cfg = JSON.parse(process.argv[2]);
const { chromium } = require(cfg.playwright);
const rl = readline.createInterface({ input: process.stdin });
const lines = rl[Symbol.asyncIterator]();
const say = (o) => process.stdout.write(JSON.stringify(o) + '\n');
const phone = { width: 390, height: 844 };

async function guard(ctx) {
  await ctx.route('**/*', (route) => {
    const u = new URL(route.request().url());
    if (['127.0.0.1', 'localhost'].includes(u.hostname)) return route.continue();
    console.error('blocked ' + u.href);
    return route.abort();
  });
}

async function enroll(page, cdp, authenticatorId, c) {
  await page.goto(c.invite);
  await page.getByLabel('Name of this device').fill(c.label);
  await page.getByRole('button', { name: 'Create passkey' }).click();
  await page.locator('#snippet').waitFor({ state: 'visible' });
  const yaml = await page.locator('#snippet').innerText();
  const { credentials } = await cdp.send('WebAuthn.getCredentials', { authenticatorId });
  await page.screenshot({ path: path.join(cfg.artifacts, `enrolled-${c.label.replace(/\W+/g, '-')}-390x844.png`) });
  say({ step: 'enrolled', yaml, credentials: credentials.length });
}

async function approve(page, c) {
  const t0 = Date.now();
  await page.goto(c.link);
  const planMs = Date.now() - t0;
  await page.getByRole('heading', { name: 'Sign-offs' }).waitFor();
  await page.screenshot({ path: path.join(cfg.artifacts, `plan-${c.slot}-390x844.png`) });
  await page.screenshot({ path: path.join(cfg.artifacts, `plan-${c.slot}-full-390.png`), fullPage: true });
  const form = page.locator(`form[aria-labelledby="slot-${c.slot}"]`);
  await form.getByLabel('Comment (required to reject)').fill(c.comment);
  // Keyboard alone: focus the approve button and press Enter.
  await form.getByRole('button', { name: 'Approve with passkey' }).focus();
  const t1 = Date.now();
  await page.keyboard.press('Enter');
  await page.waitForURL(/\/done\//, { timeout: 60000 });
  const clickMs = Date.now() - t1;
  const text = await page.locator('main').innerText();
  await page.screenshot({ path: path.join(cfg.artifacts, `confirmation-${c.slot}-390x844.png`), fullPage: true });
  say({ step: 'approved', url: page.url(), text, plan_ms: planMs, click_to_accepted_ms: clickMs });
}

// nojs reads the page with JavaScript off; a form sent that way says nothing was signed.
async function nojs(browser, c) {
  const off = await browser.newContext({ viewport: phone, javaScriptEnabled: false });
  await guard(off);
  const p2 = await off.newPage();
  await p2.goto(c.link);
  const text = await p2.locator('main').innerText();
  await p2.screenshot({ path: path.join(cfg.artifacts, 'plan-nojs-390x844.png'), fullPage: true });
  let submitted = '';
  const buttons = p2.getByRole('button', { name: /with passkey/ });
  if (await buttons.count() > 0) {
    await buttons.first().click();
    submitted = await p2.locator('main').innerText();
  }
  await off.close();
  say({ step: 'nojs', text, submitted });
}

async function main() {
  fs.mkdirSync(cfg.artifacts, { recursive: true });
  const browser = await chromium.launch({
    executablePath: cfg.chromium, headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  let page;
  try {
    const ctx = await browser.newContext({ viewport: phone, isMobile: true, hasTouch: true, timezoneId: 'America/New_York' });
    await guard(ctx);
    page = await ctx.newPage();
    page.setDefaultTimeout(30000);
    const cdp = await ctx.newCDPSession(page);
    await cdp.send('WebAuthn.enable');
    const { authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', {
      options: { protocol: 'ctap2', transport: 'internal', hasResidentKey: true, hasUserVerification: true, isUserVerified: true, automaticPresenceSimulation: true },
    });
    for (;;) {
      const next = await lines.next();
      if (next.done) break;
      const c = JSON.parse(next.value);
      if (c.cmd === 'quit') break;
      if (c.cmd === 'enroll') await enroll(page, cdp, authenticatorId, c);
      else if (c.cmd === 'approve') await approve(page, c);
      else if (c.cmd === 'nojs') await nojs(browser, c);
      else throw new Error('unknown command ' + next.value);
    }
  } catch (e) {
    console.log('FAIL: ' + (e && e.stack || e));
    if (page) await page.screenshot({ path: path.join(cfg.artifacts, 'failure.png'), fullPage: true }).catch(() => {});
    await browser.close();
    process.exit(1);
  }
  await browser.close();
  process.exit(0);
}

main();
