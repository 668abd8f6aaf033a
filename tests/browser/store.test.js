// The store front in a real browser: Debian's Chromium driven through Playwright against the
// real server on the real Chinook dataset (scripts/test-browser starts it and sets
// CHINOOK_URL). Each test has a fresh browser context, so no state leaks between them.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join, dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  BASE, PHONE, DESKTOP, useBrowser, open, signInThroughForm, goto, newCustomer, apiAs,
  lowContrastText,
} from './browser.js';

// Into target/ unless asked (CHINOOK_SCREENSHOTS=docs/screenshots refreshes the README's), so
// a test run leaves the working tree clean.
const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const SCREENSHOTS = resolve(ROOT, process.env.CHINOOK_SCREENSHOTS || join('target', 'screenshots'));

useBrowser();

/** Waits until the player's audio has played past `seconds`. */
async function playedPast(page, seconds) {
  await page.waitForFunction(
    (s) => {
      const audio = document.getElementById('player-audio');
      return audio && !audio.paused && audio.currentTime > s;
    },
    seconds,
    { timeout: 20_000 },
  );
}

/** Every cover in view has loaded, so a screenshot shows them. */
async function coversLoaded(page) {
  await page.waitForFunction(() => [...document.images]
    .filter((img) => { const r = img.getBoundingClientRect(); return r.width > 0 && r.top < innerHeight && r.bottom > 0; })
    .every((img) => img.complete && img.naturalWidth > 0), null, { timeout: 30_000 });
}

test('search with a typo finds the track, and its preview plays through a 206', async (t) => {
  const page = await open(t);
  const previews = [];
  page.on('response', (r) => {
    if (/\/api\/v1\/tracks\/\d+\/preview/.test(r.url())) previews.push(r.status());
  });
  await goto(page, '/');
  await page.getByRole('combobox', { name: /search/i }).pressSequentially('bals to the wal', { delay: 40 });
  // Results arrive as the typing goes, without pressing Enter, and the URL follows.
  await page.waitForURL(/\/search\?q=bals\+to\+the\+wal$/);
  await page.getByRole('heading', { level: 1, name: /^Results for .?bals to the wal.?$/ }).waitFor();
  const row = page.locator('.search-results tr', { hasText: 'Balls to the Wall' }).first();
  await row.waitFor();
  await row.getByRole('button', { name: /Play “Balls to the Wall”/ }).click();
  await playedPast(page, 0.5);
  assert.ok(previews.includes(206), `a 206 answered the preview: ${previews}`);
  assert.equal(await page.locator('#player-mode').textContent(), 'Preview');
  assert.match(await page.locator('#player-now').textContent(), /Balls to the Wall/);
});

test('log in, buy a track, find it in the library, play it in full and seek mid-file', async (t) => {
  const { email } = await newCustomer('buyer');
  const page = await open(t);
  const streams = [];
  page.on('request', (r) => {
    if (/\/api\/v1\/tracks\/1\/stream\?/.test(r.url())) streams.push({ range: r.headers().range || '', request: r });
  });

  await signInThroughForm(page, email);

  await goto(page, '/albums/1');
  await page.getByRole('button', { name: /Add “For Those About To Rock \(We Salute You\)” to cart/ }).click();
  await page.getByRole('link', { name: /Cart, 1 item/ }).click();
  await page.getByRole('button', { name: 'Buy now' }).click();
  await page.waitForURL('**/library');
  const owned = page.locator('tr', { hasText: 'For Those About To Rock (We Salute You)' });
  await owned.waitFor();
  assert.equal(await owned.getByRole('button', { name: /Download/ }).count(), 1);

  // A slow line, as on a phone: the browser cannot read the whole file ahead, so the seek
  // below has to fetch from the middle of the file.
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Network.enable');
  await cdp.send('Network.emulateNetworkConditions', {
    offline: false, latency: 20, downloadThroughput: 24_000, uploadThroughput: 100_000,
  });
  await owned.getByRole('button', { name: /Play “For Those About To Rock/ }).click();
  await playedPast(page, 0.5);
  assert.equal(await page.locator('#player-mode').textContent(), 'Full track');
  assert.ok(streams.length >= 1, 'the full track streams from a signed URL');

  const before = streams.length;
  await page.locator('#player-seek').fill('90');
  await playedPast(page, 90);
  const later = streams.slice(before);
  const midFile = later.filter((s) => /^bytes=([1-9]\d*)-/.test(s.range));
  assert.ok(midFile.length >= 1, `a range request started mid-file: ${JSON.stringify(later.map((s) => s.range))}`);
  const start = Number(/^bytes=(\d+)-/.exec(midFile[0].range)[1]);
  // The stream is MP3 at 128 kbit/s, 16 kB a second: 90 s is about 1.44 MB into the file.
  assert.ok(start > 1_000_000, `the range starts near the new position: ${start}`);
  const response = await midFile[0].request.response();
  assert.equal(response?.status(), 206);
});

test('a double-clicked checkout creates one invoice', async (t) => {
  const { email, token } = await newCustomer('double');
  const page = await open(t, { email });
  const keys = [];
  page.on('request', (r) => {
    if (r.url().endsWith('/api/v1/purchases') && r.method() === 'POST') keys.push(r.headers()['idempotency-key']);
  });
  await goto(page, '/albums/2');
  await page.getByRole('button', { name: /Add “Balls to the Wall” to cart/ }).click();
  await goto(page, '/cart');
  await page.getByRole('button', { name: 'Buy now' }).dblclick();
  await page.waitForURL('**/library');
  await page.locator('tr', { hasText: 'Balls to the Wall' }).waitFor();

  const invoices = await apiAs(token, '/me/invoices');
  assert.equal(invoices.data.length, 1, 'one invoice');
  assert.equal(invoices.data[0].line_count, 1);
  assert.equal(invoices.data[0].total, '0.99');
  assert.ok(keys.length >= 1 && keys.every((k) => k && k === keys[0]), `every attempt sent one key: ${keys}`);
});

test('the genre tree filters the catalog, on the home page and as a search facet', async (t) => {
  const page = await open(t);
  await goto(page, '/');
  await page.getByRole('complementary', { name: 'Genres' }).getByRole('link', { name: /^Metal/ }).click();
  await page.waitForURL('**/genres/metal');
  await page.getByRole('heading', { level: 1, name: 'Metal' }).waitFor();
  const ids = await page.locator('tbody tr').evaluateAll((rows) => rows.map((r) => r.dataset.trackId));
  assert.ok(ids.length >= 10, `Metal lists tracks: ${ids.length}`);
  // Metal's subtree is Metal (3) and Heavy Metal (13).
  for (const id of ids.slice(0, 10)) {
    const track = await (await fetch(`${BASE}/api/v1/tracks/${id}`)).json();
    assert.ok([3, 13].includes(track.genre_id), `track ${id} is metal: genre ${track.genre_id}`);
  }

  await goto(page, '/search?q=love');
  const status = page.locator('.search-results [role="status"]');
  const total = Number((await status.textContent()).match(/^(\d+) tracks?/)[1]);
  const facet = page.getByRole('complementary', { name: 'Filter tracks' }).getByRole('link', { name: /^Rock\b/ }).first();
  const rockCount = Number(await facet.locator('.count').textContent());
  assert.ok(rockCount < total, `Rock (${rockCount}) narrows ${total}`);
  await facet.click();
  await page.waitForURL(/genre=rock/);
  await page.waitForFunction((n) => document.querySelector('.search-results [role="status"]')?.textContent.startsWith(`${n} track`), rockCount);
  // The filter is in the URL: Back returns to the unfiltered results.
  await page.goBack();
  await page.waitForFunction((n) => document.querySelector('.search-results [role="status"]')?.textContent.startsWith(`${n} track`), total);
});

test('keyboard alone searches, plays and pauses, with focus always visible', async (t) => {
  const page = await open(t);
  await goto(page, '/');
  const focused = () => page.evaluate(() => {
    const el = document.activeElement;
    const style = getComputedStyle(el);
    return { id: el.id, cls: el.className, label: el.getAttribute('aria-label') || el.textContent.trim().slice(0, 40), outline: style.outlineStyle, width: parseFloat(style.outlineWidth) };
  });
  const tabTo = async (predicate, limit = 300) => {
    for (let i = 0; i < limit; i += 1) {
      await page.keyboard.press('Tab');
      const f = await focused();
      assert.notEqual(f.outline, 'none', `focus is visible on ${f.id || f.cls || f.label}`);
      assert.ok(f.width >= 2, `the focus ring is at least 2px on ${f.id || f.label}`);
      if (predicate(f)) return f;
    }
    throw new Error('focus never got there');
  };

  const skip = await tabTo(() => true);
  assert.equal(skip.label, 'Skip to content');
  await tabTo((f) => f.id === 'search-q');
  await page.keyboard.type('restless', { delay: 30 });
  await page.locator('#search-suggestions [role="option"]').first().waitFor();
  await page.keyboard.press('ArrowDown');
  assert.equal(await page.locator('#search-q').getAttribute('aria-activedescendant'), 'suggestion-0');
  await page.keyboard.press('Enter');
  await page.waitForURL(/\/search\?q=/);
  await page.locator('.search-results tbody tr').first().waitFor();
  const play = await tabTo((f) => typeof f.cls === 'string' && f.cls.includes('play-track'));
  assert.match(play.label, /^Play/);
  await page.keyboard.press('Enter');
  await playedPast(page, 0.3);
  await tabTo((f) => f.id === 'player-play', 400);
  await page.keyboard.press('Enter');
  await page.waitForFunction(() => document.getElementById('player-audio').paused);
  // The button says what it will do next, once the pause event has been handled.
  await page.waitForFunction(() => document.getElementById('player-play').getAttribute('aria-label') === 'Play');
  await page.keyboard.press('Space');
  await page.waitForFunction(() => !document.getElementById('player-audio').paused);
});

const PAGES = [
  ['home', '/'],
  ['search', '/search?q=metalica'],
  ['album', '/albums/1'],
  ['artist', '/artists/50'],
  ['genre', '/genres/rock'],
  ['cart', '/cart'],
  ['account', '/account'],
];

test('the phone layout has no horizontal overflow, and screenshots of the main pages', async (t) => {
  mkdirSync(SCREENSHOTS, { recursive: true });
  for (const [label, viewport] of [['phone', PHONE], ['desktop', DESKTOP]]) {
    const page = await open(t, { viewport });
    await goto(page, '/albums/1');
    await page.getByRole('button', { name: /Add “Balls to the Wall”|Add “Put The Finger On You” to cart/ }).first().click();
    for (const [name, path] of PAGES) {
      await goto(page, path);
      await page.locator('main h1').first().waitFor();
      if (name === 'search') await page.locator('.search-results tbody tr').first().waitFor();
      if (name === 'album') {
        // The player bar as it looks with a track loaded: played a moment, then paused.
        await page.getByRole('button', { name: /Play “For Those About To Rock/ }).click();
        await playedPast(page, 1);
        await page.locator('#player-play').click();
        await page.waitForFunction(() => document.getElementById('player-audio').paused);
        await page.locator('#player-play').blur();
        await page.evaluate(() => window.scrollTo(0, 0));
      }
      const width = await page.evaluate(() => document.documentElement.scrollWidth);
      assert.ok(width <= viewport.width, `${label} ${path} is ${width}px wide, over ${viewport.width}`);
      await coversLoaded(page);
      await page.screenshot({ path: join(SCREENSHOTS, `${label}-${name}.png`) });
    }
  }
});

test('text passes WCAG AA contrast on the main pages', async (t) => {
  const page = await open(t);
  for (const [, path] of PAGES) {
    await goto(page, path);
    await page.locator('main h1').first().waitFor();
    const failures = await page.evaluate(lowContrastText);
    assert.deepEqual(failures, [], `${path}: low contrast text`);
  }
});

test('an error from the API is shown in words', async (t) => {
  const page = await open(t);
  await goto(page, '/albums/999999');
  const alert = page.getByRole('alert');
  await alert.waitFor();
  assert.match(await alert.textContent(), /There is no album with id 999999/);
  await goto(page, '/account');
  const signIn = page.getByRole('form', { name: 'Sign in' });
  await signIn.getByLabel('Email').fill('nobody@example.com');
  await signIn.getByLabel('Password').fill('wrong password');
  await signIn.getByRole('button', { name: 'Sign in' }).click();
  const message = signIn.locator('.form-error');
  await message.waitFor();
  const text = await message.textContent();
  assert.ok(!text.includes('{') && text.length > 10, `a sentence, not JSON: ${text}`);
});

test('the session is an HttpOnly cookie page scripts cannot read, and unsafe requests need the CSRF proof', async (t) => {
  const { email } = await newCustomer('cookie');
  const page = await open(t);
  await signInThroughForm(page, email);

  const cookies = await page.context().cookies();
  const session = cookies.find((c) => c.name === 'chinook_session');
  assert.ok(session, `a session cookie: ${cookies.map((c) => c.name)}`);
  assert.equal(session.httpOnly, true);
  assert.equal(session.sameSite, 'Strict');
  assert.equal(session.secure, false, 'plain HTTP here; Secure over TLS');
  const seen = await page.evaluate(() => ({
    cookie: document.cookie,
    stored: Object.keys(localStorage).map((k) => `${k}=${localStorage.getItem(k)}`).join('\n'),
  }));
  assert.ok(!seen.cookie.includes(session.value) && !seen.cookie.includes('chinook_session'), `document.cookie: ${seen.cookie}`);
  assert.ok(!seen.stored.includes(session.value) && !seen.stored.includes('chinook.token'), `localStorage: ${seen.stored}`);
  assert.match(seen.cookie, /chinook_csrf=[0-9a-f]{64}/, 'the CSRF token is readable');

  // A page script's own POST, with the cookie but without the proof, is refused...
  const post = (withProof) => page.evaluate(async (proof) => {
    const headers = { 'content-type': 'application/json' };
    if (proof) headers['x-csrf-token'] = document.cookie.split('; ').find((c) => c.startsWith('chinook_csrf=')).slice(13);
    const r = await fetch('/api/v1/me/playlists', { method: 'POST', headers, body: JSON.stringify({ name: 'From the page' }) });
    return { status: r.status, type: r.headers.get('content-type'), body: await r.json() };
  }, withProof);
  const refused = await post(false);
  assert.equal(refused.status, 403);
  assert.match(refused.type, /^application\/problem\+json/);
  assert.match(refused.body.detail, /X-CSRF-Token/);
  // ...and with it, it works.
  const made = await post(true);
  assert.equal(made.status, 201, JSON.stringify(made.body));
  assert.equal(made.body.name, 'From the page');

  // Signing out clears the cookie and revokes the session on the server.
  await goto(page, '/account');
  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.getByText('You are signed out.').waitFor();
  const left = (await page.context().cookies()).map((c) => c.name);
  assert.ok(!left.includes('chinook_session') && !left.includes('chinook_csrf'), `cookies left: ${left}`);
  const replayed = await fetch(`${BASE}/api/v1/me`, { headers: { cookie: `chinook_session=${session.value}` } });
  assert.equal(replayed.status, 401, 'the old cookie is revoked');
});
