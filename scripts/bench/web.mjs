// The store front's first page load, measured in Chromium over loopback: bytes on the wire
// (from the DevTools protocol's loadingFinished events, headers included) by kind, and the
// times to first contentful paint, DOMContentLoaded, load and interactive (the page's
// data-ready mark: the shell ran and the home page is rendered with its data). Cold loads
// use a new browser context (empty cache); warm loads reload in the same one.
// Usage: CHINOOK_URL=http://127.0.0.1:PORT node scripts/bench/web.mjs [RUNS]

import { chromium } from '../../tests/browser/node_modules/playwright-core/index.mjs';

const BASE = process.env.CHINOOK_URL;
const RUNS = Number(process.argv[2] || 7);
if (!BASE) throw new Error('set CHINOOK_URL');

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});

async function load(page, cdp, reload) {
  const sizes = new Map();
  const kinds = new Map();
  const onResponse = (e) => kinds.set(e.requestId, e.type);
  const onFinished = (e) => sizes.set(e.requestId, e.encodedDataLength);
  cdp.on('Network.responseReceived', onResponse);
  cdp.on('Network.loadingFinished', onFinished);
  if (reload) await page.reload({ waitUntil: 'load' });
  else await page.goto(`${BASE}/`, { waitUntil: 'load' });
  await page.waitForSelector('html[data-ready]');
  await page.waitForFunction(() => [...document.images]
    .filter((img) => { const r = img.getBoundingClientRect(); return r.width > 0 && r.top < innerHeight; })
    .every((img) => img.complete));
  const timing = await page.evaluate(() => {
    const nav = performance.getEntriesByType('navigation')[0];
    const fcp = performance.getEntriesByName('first-contentful-paint')[0];
    const ready = performance.getEntriesByName('chinook:interactive')[0];
    return {
      fcp: fcp ? fcp.startTime : NaN,
      dcl: nav.domContentLoadedEventEnd,
      load: nav.loadEventEnd,
      tti: ready ? ready.startTime : NaN,
    };
  });
  cdp.off('Network.responseReceived', onResponse);
  cdp.off('Network.loadingFinished', onFinished);
  const byKind = {};
  let total = 0;
  let requests = 0;
  for (const [id, bytes] of sizes) {
    const kind = (kinds.get(id) || 'Other').toLowerCase();
    byKind[kind] = (byKind[kind] || 0) + bytes;
    total += bytes;
    requests += 1;
  }
  return { ...timing, total, requests, byKind };
}

const median = (xs) => { const s = [...xs].sort((a, b) => a - b); return s[Math.floor(s.length / 2)]; };
const kb = (n) => `${(n / 1024).toFixed(1)} KiB`;
const ms = (n) => `${n.toFixed(0)} ms`;

function report(label, runs) {
  const first = runs[0];
  console.log(`\n${label} (median of ${runs.length})`);
  console.log(`  transferred          ${kb(median(runs.map((r) => r.total)))} in ${median(runs.map((r) => r.requests))} requests`);
  for (const kind of Object.keys(first.byKind).sort()) {
    console.log(`    ${kind.padEnd(18)} ${kb(median(runs.map((r) => r.byKind[kind] || 0)))}`);
  }
  console.log(`  first contentful paint ${ms(median(runs.map((r) => r.fcp)))}`);
  console.log(`  DOMContentLoaded     ${ms(median(runs.map((r) => r.dcl)))}`);
  console.log(`  load                 ${ms(median(runs.map((r) => r.load)))}`);
  console.log(`  interactive (data-ready) ${ms(median(runs.map((r) => r.tti)))}`);
}

// One load first, so that covers drawn on first request are cached server-side and every
// measured run sees the same server.
{
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const page = await context.newPage();
  const cdp = await context.newCDPSession(page);
  await cdp.send('Network.enable');
  await load(page, cdp, false);
  await context.close();
}

const cold = [];
const warm = [];
for (let i = 0; i < RUNS; i += 1) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const page = await context.newPage();
  const cdp = await context.newCDPSession(page);
  await cdp.send('Network.enable');
  cold.push(await load(page, cdp, false));
  warm.push(await load(page, cdp, true));
  await context.close();
}
report('Cold first load of / (empty cache)', cold);
report('Warm reload of / (assets cached: immutable, page revalidated)', warm);
await browser.close();
