// passkey.js drives headless Chromium (playwright-core) for the approval pages
// test (approvals_test.go) with a CDP virtual authenticator (ctap2, internal,
// user verification): it enrolls a passkey from an invite link, then signs a
// sign-off on the release page the Go test names, then reads the page with
// JavaScript off. The Go test passes a JSON config as the only argument:
//
//   {playwright, chromium, invite, artifacts, label}
//
// and talks to the script by lines: the script prints {"step": ...} JSON
// lines on stdout; after "enrolled" it reads one JSON line from stdin,
// {link, slot, comment}. Failures print "FAIL: ..." and exit 1, with a
// screenshot named failure.png. Every request off loopback is aborted.
'use strict';

const fs = require('fs');
const os = require('os');
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

    // Enroll: the one-time link registers a passkey and shows its YAML.
    await page.goto(cfg.invite);
    await page.getByLabel('Name of this device').fill(cfg.label);
    await page.getByRole('button', { name: 'Create passkey' }).click();
    await page.locator('#snippet').waitFor({ state: 'visible' });
    const yaml = await page.locator('#snippet').innerText();
    const { credentials } = await cdp.send('WebAuthn.getCredentials', { authenticatorId });
    await page.screenshot({ path: path.join(cfg.artifacts, 'enrolled-390x844.png') });
    say({ step: 'enrolled', yaml, credentials: credentials.length });

    // The directory change is the Go test's; it answers with the release link.
    const next = JSON.parse((await lines.next()).value);
    const t0 = Date.now();
    await page.goto(next.link);
    const planMs = Date.now() - t0;
    await page.getByRole('heading', { name: 'Sign-offs' }).waitFor();
    await page.screenshot({ path: path.join(cfg.artifacts, 'plan-390x844.png') });
    await page.screenshot({ path: path.join(cfg.artifacts, 'plan-full-390.png'), fullPage: true });
    const form = page.locator(`form[aria-labelledby="slot-${next.slot}"]`);
    await form.getByLabel('Comment (required to reject)').fill(next.comment);
    // Keyboard alone: focus the approve button and press Enter.
    await form.getByRole('button', { name: 'Approve with passkey' }).focus();
    const t1 = Date.now();
    await page.keyboard.press('Enter');
    await page.waitForURL(/\/done\//, { timeout: 60000 });
    const clickMs = Date.now() - t1;
    const done = await page.locator('main').innerText();
    await page.screenshot({ path: path.join(cfg.artifacts, 'confirmation-390x844.png'), fullPage: true });
    say({ step: 'approved', url: page.url(), text: done, plan_ms: planMs, click_to_accepted_ms: clickMs });

    // Reading with JavaScript off.
    const off = await browser.newContext({ viewport: phone, javaScriptEnabled: false });
    await guard(off);
    const p2 = await off.newPage();
    await p2.goto(next.link);
    const text = await p2.locator('main').innerText();
    await p2.screenshot({ path: path.join(cfg.artifacts, 'plan-nojs-390x844.png'), fullPage: true });
    // A form sent without JavaScript says that nothing was signed.
    let nojs = '';
    const buttons = p2.getByRole('button', { name: 'Approve with passkey' });
    if (await buttons.count() > 0) {
      await buttons.first().click();
      nojs = await p2.locator('main').innerText();
    }
    say({ step: 'nojs', text, submitted: nojs });
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
