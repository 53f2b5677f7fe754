// browser.js drives headless Chromium (playwright-core) for the golive UI test
// (ui_test.go). One run = one phase; the Go test passes a JSON config as the
// only argument:
//
//   {phase, playwright, chromium, ui, namespace, workflowId, runId, query,
//    artifacts, html, pdf, version, expect: {...}}
//
// Every assertion that fails throws; the script then prints "FAIL: <reason>"
// (with what the page showed), saves a screenshot named <phase>-failure.png and
// exits 1. On success it prints one JSON line: {"screenshots": [...], "blocked": [...]}.
// No request leaves the machine: everything but loopback and file: is aborted.
'use strict';

const fs = require('fs');
const os = require('os');
const path = require('path');

const cfg = JSON.parse(process.argv[2]);
const { chromium } = require(cfg.playwright);

const TIMEOUT = 30000;
const shots = [];
const blocked = [];
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// workflowURL is the UI page of the release run, tab is timeline, history, user-metadata...
function workflowURL(tab) {
  return `${cfg.ui}/namespaces/${cfg.namespace}/workflows/${encodeURIComponent(cfg.workflowId)}/${cfg.runId}/${tab}`;
}

// textOf reads what a locator shows, or '' while it is not there.
async function textOf(loc) {
  try {
    return await loc.innerText({ timeout: 2000 });
  } catch (e) {
    return '';
  }
}

// expectText waits until loc's text contains every needle (ignoring case: the UI upper-cases some labels with CSS).
async function expectText(loc, needles, what, timeout = TIMEOUT) {
  const deadline = Date.now() + timeout;
  let seen = '';
  for (;;) {
    seen = await textOf(loc);
    const lower = seen.toLowerCase();
    const missing = needles.filter((n) => !lower.includes(n.toLowerCase()));
    if (missing.length === 0) {
      console.error(`ok: ${what}: ${needles.map((n) => JSON.stringify(n)).join(', ')}`);
      return seen;
    }
    if (Date.now() > deadline) {
      throw new Error(`${what}: missing ${missing.map((n) => JSON.stringify(n)).join(', ')}; the page shows:\n${seen.slice(0, 3000)}`);
    }
    await sleep(300);
  }
}

// expectNoText fails when loc's text contains needle.
async function expectNoText(loc, needle, what) {
  const seen = await textOf(loc);
  if (seen.includes(needle)) {
    throw new Error(`${what}: ${JSON.stringify(needle)} should not be there; the page shows:\n${seen.slice(0, 3000)}`);
  }
  console.error(`ok: ${what}: no ${JSON.stringify(needle)}`);
}

async function expectVisible(loc, what, timeout = TIMEOUT) {
  try {
    await loc.first().waitFor({ state: 'visible', timeout });
  } catch (e) {
    throw new Error(`${what}: not visible (${e.message.split('\n')[0]})`);
  }
  console.error(`ok: ${what} is visible`);
}

async function shot(page, name, opts = {}) {
  const file = path.join(cfg.artifacts, name);
  await page.mouse.move(60, 900); // park the pointer on the empty sidebar: no hover tooltips in the picture
  await sleep(200);
  await page.screenshot({ path: file, ...opts });
  shots.push(file);
  console.error(`screenshot: ${file}`);
}

// frameText is the rendered Markdown of one of the UI's user-metadata frames.
function frame(page, id) {
  return page.frameLocator(`#${id}`).locator('body');
}

// openUserMetadata opens the release's User Metadata tab (summary, details, current details).
async function openUserMetadata(page) {
  await page.goto(workflowURL('user-metadata'));
  await expectVisible(page.locator('#user-metadata-current-details'), 'Current Details frame');
}

// openCompactHistory opens the Event History tab in its compact view (one row per activity/timer with its summary).
async function openCompactHistory(page) {
  await page.goto(workflowURL('history'));
  const compact = page.getByRole('button', { name: 'Compact' }).or(page.getByRole('link', { name: 'Compact' }));
  await expectVisible(compact, 'Compact history toggle');
  await compact.first().click();
}

const phases = {
  // readiness: the release waits for attestations; its current details show the checklist.
  async readiness(page) {
    await openUserMetadata(page);
    await expectText(frame(page, 'user-metadata-summary'), [`Release ${cfg.expect.service}`, cfg.version], 'Summary');
    await expectText(frame(page, 'user-metadata-details'), ['Production release checklist', 'Pre-Deployment Checklist', 'Sign-offs: Deployment Approved By'], 'Details');
    const cd = frame(page, 'user-metadata-current-details');
    await expectText(cd, ['stage readiness', ...cfg.expect.sections, ...cfg.expect.passed, ...cfg.expect.waiting], 'Current Details (checklist)');
    await shot(page, '01-current-details-readiness.png');
  },

  // approvals: two of four sign-offs done; list, history and pending sign-offs in the UI.
  async approvals(page) {
    await page.goto(`${cfg.ui}/namespaces/${cfg.namespace}/workflows?query=${encodeURIComponent(cfg.query)}`);
    const row = page.getByRole('link', { name: cfg.workflowId, exact: true });
    await expectVisible(row, `release row ${cfg.workflowId} in the list filtered by ${cfg.query}`);
    await expectText(page.locator('body'), [cfg.query.replace('=', ' = '), 'Running', cfg.runId], 'filtered workflow list');
    await shot(page, '02-list-filtered.png');

    await row.first().click();
    await page.waitForURL((u) => u.pathname.includes(encodeURIComponent(cfg.workflowId)), { timeout: TIMEOUT });
    await expectText(page.locator('body'), ['Timeline', 'Readiness: ', 'Waiting for approvals sign-offs'], 'release timeline');
    await shot(page, '03-timeline-approvals.png');

    await openCompactHistory(page);
    await expectText(page.locator('body'), [...cfg.expect.history], 'compact event history (activity and timer summaries)');
    await centre(page.getByText(cfg.expect.history[0]).first());
    await shot(page, '04-history-approvals.png');

    await openUserMetadata(page);
    const cd = frame(page, 'user-metadata-current-details');
    await expectText(cd, ['stage approvals', 'Pending sign-offs:', ...cfg.expect.pending], 'Current Details (pending sign-offs)');
    const pendingLine = (await textOf(cd)).split('\n').find((l) => l.includes('Pending sign-offs:')) || '';
    for (const done of cfg.expect.signed) {
      if (pendingLine.includes(done)) {
        throw new Error(`Current Details: ${done} signed off but still listed as pending: ${pendingLine}`);
      }
    }
    console.error(`ok: signed slots not pending: ${pendingLine}`);
    await shot(page, '05-current-details-approvals.png');
  },

  // deploy: T-4h and T-0 timers, deploy and verification activities; post-deploy checklist waiting for the engineer.
  async deploy(page) {
    await openCompactHistory(page);
    await expectText(page.locator('body'), [...cfg.expect.history], 'compact event history after the deploy');
    await centre(page.getByText('T-0: wait for the deployment window').first());
    await shot(page, '06-history-deploy.png');

    await page.goto(workflowURL('timeline'));
    // The timeline zooms to recent events on a long history: the T-4h and T-0 timers are asserted in the history above.
    await expectText(page.locator('body'), ['Timeline', `Deploy application code: ${cfg.version}`, `Verify version ${cfg.version} is live`], 'release timeline after the deploy');
    await centre(page.getByText(`Deploy application code: ${cfg.version}`).first());
    await shot(page, '07-timeline-deploy.png');

    await openUserMetadata(page);
    const cd = frame(page, 'user-metadata-current-details');
    await expectText(cd, ['stage post_deploy', 'Pending sign-offs:', ...cfg.expect.pending, ...cfg.expect.passed], 'Current Details (post-deploy checklist)');
    await shot(page, '08-current-details-post-deploy.png');
  },

  // evidence: the report's HTML page rendered, asserted and printed to PDF.
  async evidence(page) {
    await page.goto('file://' + cfg.html);
    const body = page.locator('body');
    await expectText(body, cfg.expect.text, 'evidence page');
    for (const t of cfg.expect.absent || []) {
      await expectNoText(body, t, 'evidence page');
    }
    const tables = await page.locator('table').count();
    const rows = await page.locator('table.items tbody tr').count();
    if (rows < cfg.expect.minItems || tables > rows) {
      throw new Error(`evidence page: ${rows} checklist rows in ${tables} tables; want at least ${cfg.expect.minItems} rows and fewer tables than rows`);
    }
    console.error(`ok: ${rows} checklist rows in ${tables} tables`);
    const ticks = await page.locator('table.items tr.s-passed .box').count();
    if (ticks < cfg.expect.minTicks) {
      throw new Error(`evidence page: ${ticks} ticked items, want at least ${cfg.expect.minTicks}`);
    }
    const charts = await page.locator('figure svg.chart').count();
    if (charts < cfg.expect.charts) {
      throw new Error(`evidence page: ${charts} metric charts, want ${cfg.expect.charts}`);
    }
    // Threshold labels: "critical 1%", or "↑ critical 1%" when the line is above the chart's scale.
    const thresholds = (await page.locator('figure svg .threshold-label').allTextContents()).map((t) => t.replace(/^↑ /, ''));
    for (const kind of ['target', 'critical', 'rollback']) {
      if (!thresholds.some((t) => t.startsWith(kind + ' '))) {
        throw new Error(`evidence page: no ${kind} threshold line on the charts (labels: ${thresholds.join(', ')})`);
      }
    }
    console.error(`ok: ${ticks} ticks, ${charts} charts, threshold lines ${thresholds.join(', ')}`);
    const external = await page.evaluate(() => [...document.querySelectorAll('[src],link[href],script')].map((e) => e.outerHTML.slice(0, 120)));
    if (external.length > 0) {
      throw new Error(`evidence page is not self-contained: ${external.join(' ')}`);
    }
    const prefix = cfg.expect.prefix;
    await shot(page, `${prefix}-top.png`);
    await shotOf(page, '#signoffs', `${prefix}-signoffs.png`);
    await shotOf(page, '#metrics', `${prefix}-metrics.png`);
    if (cfg.expect.rollback) {
      await shotOf(page, '#stage-rollback', `${prefix}-rollback-steps.png`);
      await shotOf(page, '#rollback', `${prefix}-rollback-record.png`);
    }
    await shot(page, `${prefix}-full.png`, { fullPage: true });
    await page.emulateMedia({ media: 'print' });
    await page.pdf({ path: cfg.pdf, format: 'A4', printBackground: true });
    const pdf = fs.readFileSync(cfg.pdf);
    const pages = (pdf.toString('latin1').match(/\/Type\s*\/Page[^s]/g) || []).length;
    if (!pdf.subarray(0, 5).equals(Buffer.from('%PDF-')) || pages < 2) {
      throw new Error(`evidence PDF ${cfg.pdf}: ${pdf.length} bytes, ${pages} page(s)`);
    }
    console.error(`ok: printed to PDF: ${cfg.pdf} (${pages} A4 pages, ${pdf.length} bytes)`);
    shots.push(cfg.pdf);
  },

  // final: both releases in the filtered list, the good one Completed and the
  // rolled-back one Failed; then the list filtered by its GoliveOutcome.
  async final(page) {
    await page.goto(`${cfg.ui}/namespaces/${cfg.namespace}/workflows?query=${encodeURIComponent(cfg.query)}`);
    await expectText(page.locator('body'), ['Completed', 'Failed', cfg.query.replace('=', ' = '), ...cfg.expect.runIds], 'filtered workflow list after both releases');
    await shot(page, '11-list-final.png');
    await page.goto(`${cfg.ui}/namespaces/${cfg.namespace}/workflows?query=${encodeURIComponent(cfg.expect.outcomeQuery)}`);
    await expectVisible(page.getByText(cfg.expect.rolledBackRun).first(), `rolled-back run ${cfg.expect.rolledBackRun} in the list filtered by ${cfg.expect.outcomeQuery}`);
    await expectText(page.locator('body'), ['Failed', cfg.expect.outcomeQuery.replace('=', ' = '), cfg.expect.rolledBackRun], 'workflow list filtered by GoliveOutcome');
    if (await page.getByText(cfg.expect.completedRun).count() > 0) {
      throw new Error(`the list filtered by ${cfg.expect.outcomeQuery} shows the completed run ${cfg.expect.completedRun}`);
    }
    await shot(page, '12-list-rolled-back.png');
  },
};

// shotOf screenshots the element matching sel.
async function shotOf(page, sel, name) {
  const loc = page.locator(sel);
  await expectVisible(loc, sel);
  const file = path.join(cfg.artifacts, name);
  await loc.first().screenshot({ path: file });
  shots.push(file);
  console.error(`screenshot: ${file}`);
}

// centre scrolls loc to the middle of its scrolling container.
async function centre(loc) {
  await loc.waitFor({ state: 'attached', timeout: TIMEOUT });
  await loc.evaluate((e) => e.scrollIntoView({ block: 'center' }));
  await sleep(300);
}

async function main() {
  const phase = phases[cfg.phase];
  if (!phase) {
    throw new Error(`unknown phase ${cfg.phase}`);
  }
  fs.mkdirSync(cfg.artifacts, { recursive: true });
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'golive-chromium-'));
  const ctx = await chromium.launchPersistentContext(profile, {
    executablePath: cfg.chromium,
    headless: true,
    viewport: cfg.phase === 'evidence' ? { width: 1100, height: 1400 } : { width: 1600, height: 1500 },
    timezoneId: 'UTC',
    args: [
      '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
    ],
  });
  let page;
  try {
    await ctx.route('**/*', (route) => {
      const u = new URL(route.request().url());
      if (u.protocol === 'file:' || u.protocol === 'data:' || u.protocol === 'blob:' || ['127.0.0.1', 'localhost', '[::1]'].includes(u.hostname)) {
        return route.continue();
      }
      blocked.push(u.href);
      return route.abort();
    });
    page = await ctx.newPage();
    page.setDefaultTimeout(TIMEOUT);
    await phase(page);
  } catch (e) {
    if (page) {
      await page.screenshot({ path: path.join(cfg.artifacts, `${cfg.phase}-failure.png`) }).catch(() => {});
    }
    throw e;
  } finally {
    await ctx.close();
    fs.rmSync(profile, { recursive: true, force: true });
  }
  console.log(JSON.stringify({ screenshots: shots, blocked }));
}

main().catch((e) => {
  console.log(`FAIL: ${e.message}`);
  process.exit(1);
});
