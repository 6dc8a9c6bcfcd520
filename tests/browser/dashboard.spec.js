#!/usr/bin/env node
// The dashboard in a real headless browser: Debian's chromium driven by playwright-core.
//
// Run by tests/integration/test_dashboard.py, which starts the gateway, its objects and the
// traffic, and passes what to expect as JSON in argv[2]:
//   { url, server, pipeline, member, paths: [top-N paths], backends: [urls], screenshot,
//     late: name of a server the test creates then deletes on cue }
// The script talks to the test over stdin/stdout, one JSON object a line:
//   it prints {"step": NAME} and waits for a line "go" from the test, which has done NAME
//   (create-late, delete-late, api-down, api-up); at the end it prints
//   {"result": {...figures...}} and exits 0, or {"error": "..."} and exits 1.
'use strict';

const readline = require('readline');
const { chromium } = require('playwright-core');

const cfg = JSON.parse(process.argv[2]);
const lines = readline.createInterface({ input: process.stdin });
const waiting = [];
lines.on('line', (l) => { const w = waiting.shift(); if (w) w(l.trim()); });
lines.on('close', () => { for (const w of waiting.splice(0)) w('(stdin closed)'); });

function say(obj) { process.stdout.write(JSON.stringify(obj) + '\n'); }

// Announces a step and waits for the test to have done it.
async function step(name) {
  say({ step: name });
  const answer = await new Promise((resolve) => waiting.push(resolve));
  if (answer !== 'go') throw new Error('step ' + name + ': the test answered ' + JSON.stringify(answer));
}

function check(cond, what) { if (!cond) throw new Error(what); }

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function css(s) { return JSON.stringify(s); }   // a quoted attribute value for a selector

const errors = [];     // from the page: uncaught errors, console errors, failed requests

async function main() {
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  let apiDown = false;   // while the test has the API down, refused fetches are expected
  try {
    // bypassCSP: playwright-core evaluates its waitForFunction predicates as strings, which
    // the page's own policy (no eval) would refuse; the policy header is checked by
    // test_dashboard.py.
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 }, bypassCSP: true });
    page.on('pageerror', (e) => errors.push('page error: ' + e.message));
    page.on('console', (msg) => {
      if (msg.type() !== 'error') return;
      if (apiDown && /ERR_CONNECTION_REFUSED|ERR_EMPTY_RESPONSE|ERR_CONNECTION_RESET/.test(msg.text())) return;
      errors.push('console error: ' + msg.text());
    });
    page.on('requestfailed', (r) => {
      if (!apiDown) errors.push('request failed: ' + r.url() + ' ' + (r.failure() || {}).errorText);
    });

    const resp = await page.goto(cfg.url, { waitUntil: 'load' });
    check(resp && resp.status() === 200, 'GET ' + cfg.url + ': ' + (resp && resp.status()));
    await page.waitForSelector('#api-status[data-state="ok"]', { timeout: 10000 });

    // objects, both kinds, and a spec on click
    const server = '[data-kind="HTTPServer"][data-name=' + css(cfg.server) + ']';
    const pipeline = '[data-kind="Pipeline"][data-name=' + css(cfg.pipeline) + ']';
    await page.waitForSelector('#objects tr[data-object=' + css(cfg.server) + '][data-kind="HTTPServer"]');
    await page.waitForSelector('#objects tr[data-object=' + css(cfg.pipeline) + '][data-kind="Pipeline"]');
    await page.click('#objects tr[data-object=' + css(cfg.server) + '] button');
    await page.waitForFunction((name) => {
      const t = document.getElementById('object-spec').textContent;
      return t.includes('kind: HTTPServer') && t.includes('name: ' + name);
    }, cfg.server, { timeout: 5000 });
    await page.click('#spec-json');
    await page.waitForSelector('#spec-view[data-format="json"]');
    const specJson = JSON.parse(await page.textContent('#object-spec'));
    check(specJson.name === cfg.server && specJson.kind === 'HTTPServer', 'JSON spec: ' + JSON.stringify(specJson));

    // node status
    const member = '#members tr[data-member=' + css(cfg.member) + ']';
    await page.waitForSelector(member);
    const node = await page.$eval(member, (tr) => {
      const f = (k) => tr.querySelector('[data-field="' + k + '"]').textContent;
      return { role: f('role'), version: f('version'), health: f('health'), heartbeat: f('heartbeat'),
        uptime: f('uptime'), workers: f('workers') };
    });
    check(node.health === 'healthy', 'member health: ' + node.health);
    check(/Easegress/.test(node.version), 'member version: ' + node.version);
    check(node.role === 'primary', 'member role: ' + node.role);
    check(/^\d{4}-\d\d-\d\dT.* ago\)$/.test(node.heartbeat), 'member heartbeat: ' + node.heartbeat);
    check(/^\d+[smhd]/.test(node.uptime), 'member uptime: ' + node.uptime);

    // charts move while traffic flows: two samples a few seconds apart
    const rpsChart = server + ' svg[data-chart="rps"]';
    await page.waitForFunction((sel) => {
      const c = document.querySelector(sel);
      return c && Number(c.dataset.points) >= 2;
    }, rpsChart, { timeout: 15000 });
    const sample = () => page.$eval(server, (card) => ({
      points: Number(card.querySelector('svg[data-chart="rps"]').dataset.points),
      lastRps: Number(card.querySelector('svg[data-chart="rps"]').dataset.last),
      latencyPoints: Number(card.querySelector('svg[data-chart="latency"]').dataset.points),
      codePoints: Number(card.querySelector('svg[data-chart="codes"]').dataset.points),
      paths: card.querySelectorAll('svg[data-chart="rps"] path.line').length,
      count: Number(card.querySelector('dd[data-field="count"]').dataset.value),
      rps: Number(card.querySelector('dd[data-field="rps"]').dataset.value),
      rpsText: card.querySelector('dd[data-field="rps"]').textContent,
    }));
    const first = await sample();
    await sleep(4500);
    const second = await sample();
    check(second.points > first.points, 'rps chart points did not grow: ' + first.points + ' -> ' + second.points);
    check(second.latencyPoints > first.latencyPoints, 'latency chart did not grow');
    check(second.codePoints > first.codePoints, 'status code chart did not grow');
    check(second.count > first.count, 'request count did not grow: ' + first.count + ' -> ' + second.count);
    check(second.lastRps > 0 && second.rps > 0, 'requests/s not above 0: ' + second.rpsText);
    check(second.paths >= 1, 'no line drawn in the rps chart');

    // the pipeline's card, its chart and its backends
    await page.waitForFunction((sel) => {
      const c = document.querySelector(sel + ' svg[data-chart="rps"]');
      return c && Number(c.dataset.points) >= 2 && Number(c.dataset.last) > 0;
    }, pipeline, { timeout: 10000 });
    const backends = await page.$$eval(pipeline + ' table[data-table="backends"] tr[data-backend]', (rows) =>
      rows.map((r) => ({ url: r.dataset.backend, count: Number(r.querySelector('[data-field="count"]').textContent),
        p99: r.querySelector('[data-field="p99"]').textContent })));
    for (const url of cfg.backends) {
      const b = backends.find((x) => x.url === url);
      check(b && b.count > 0 && b.p99 !== '–', 'backend ' + url + ' in the pipeline card: ' + JSON.stringify(backends));
    }

    // the top-N table lists the paths the API reports
    const topPaths = await page.$$eval(server + ' table[data-table="topn"] tbody tr[data-path]', (rows) =>
      rows.map((r) => ({ path: r.dataset.path, count: Number(r.querySelector('[data-field="count"]').textContent) })));
    for (const p of cfg.paths)
      check(topPaths.some((x) => x.path === p && x.count > 0), 'top-N path ' + p + ': ' + JSON.stringify(topPaths));

    await page.screenshot({ path: cfg.screenshot, fullPage: true });

    // an object appearing (with no traffic), then disappearing
    const late = '[data-kind="HTTPServer"][data-name=' + css(cfg.late) + ']';
    await step('create-late');
    await page.waitForSelector(late + '[data-idle="true"] svg[data-chart="rps"]', { timeout: 10000 });
    check(await page.isVisible(late + ' .idle'), 'no "No requests yet." on an idle server');
    await step('delete-late');
    await page.waitForSelector(late, { state: 'detached', timeout: 10000 });
    await page.waitForSelector('#objects tr[data-object=' + css(cfg.late) + ']', { state: 'detached' });

    // the API going away and coming back
    apiDown = true;
    await step('api-down');
    await page.waitForSelector('#api-status[data-state="down"]', { timeout: 10000 });
    const downText = await page.textContent('#api-status');
    await step('api-up');
    await page.waitForSelector('#api-status[data-state="ok"]', { timeout: 20000 });
    apiDown = false;
    const afterPoints = await page.$eval(rpsChart, (c) => Number(c.dataset.points));
    await page.waitForFunction(([sel, n]) => Number(document.querySelector(sel).dataset.points) > n,
      [rpsChart, afterPoints], { timeout: 10000 });

    check(errors.length === 0, 'browser errors: ' + errors.join('; '));
    say({ result: { first, second, node, backends, topPaths, downText, screenshot: cfg.screenshot } });
  } finally {
    await browser.close();
  }
}

main().then(() => process.exit(0), (err) => {
  say({ error: String(err && err.stack || err) + (errors.length ? '\nbrowser errors: ' + errors.join('; ') : '') });
  process.exit(1);
});
