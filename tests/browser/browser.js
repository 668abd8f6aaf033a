// What the browser tests share: one Chromium for the file's tests (launched before them and
// closed after), a fresh context per test whose page errors fail it, and customers made
// through the real API.

import { before, after } from 'node:test';
import assert from 'node:assert/strict';
import { chromium } from 'playwright-core';

export const BASE = process.env.CHINOOK_URL;
export const PASSWORD = 'correct horse battery';
export const PHONE = { width: 360, height: 760 };
export const DESKTOP = { width: 1280, height: 800 };

let browser;

/** Launches the browser before the calling file's tests and closes it after them. */
export function useBrowser() {
  before(async () => {
    assert.ok(BASE, 'CHINOOK_URL must name the server (scripts/test-browser sets it)');
    // Playwright gives the browser a fresh --user-data-dir of its own in a temporary folder
    // (it refuses one passed here) and removes it on close.
    browser = await chromium.launch({
      executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
      args: [
        '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
        '--disable-background-networking', '--disable-component-update', '--disable-sync',
      ],
    });
  });

  after(async () => {
    await browser?.close();
  });
}

/**
 * A fresh context and page; page errors fail the test. With `email`, the context is signed in
 * as the store front signs in: a session cookie (its own cookie jar, shared with the page).
 */
export async function open(t, { viewport = DESKTOP, email } = {}) {
  const context = await browser.newContext({ viewport, baseURL: BASE });
  if (email) {
    const response = await context.request.post('/api/v1/auth/login?session=cookie', { data: { email, password: PASSWORD } });
    assert.equal(response.status(), 200, await response.text());
  }
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  t.after(async () => {
    await context.close();
    assert.deepEqual(errors, [], 'the page threw no errors');
  });
  return page;
}

/** Signs in as a person does, through the account page's form. */
export async function signInThroughForm(page, email) {
  await goto(page, '/account');
  const signIn = page.getByRole('form', { name: 'Sign in' });
  await signIn.getByLabel('Email').fill(email);
  await signIn.getByLabel('Password').fill(PASSWORD);
  await signIn.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('link', { name: 'Test' }).waitFor();
}

export async function goto(page, path) {
  await page.goto(path);
  await page.waitForSelector('html[data-ready]');
}

/** A new customer account through the API; its bearer token. */
export async function newCustomer(label) {
  const email = `${label}-${Date.now()}-${Math.random().toString(36).slice(2, 8)}@example.com`;
  const response = await fetch(`${BASE}/api/v1/auth/register`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email, password: PASSWORD, first_name: 'Test', last_name: label }),
  });
  assert.equal(response.status, 201, await response.clone().text());
  const body = await response.json();
  return { email, token: body.session.token };
}

export async function apiAs(token, path) {
  const response = await fetch(`${BASE}/api/v1${path}`, { headers: { authorization: `Bearer ${token}` } });
  assert.equal(response.status, 200, `${path}: ${response.status}`);
  return response.json();
}

/** Text whose colour against its background is below WCAG AA (4.5:1, or 3:1 for large text). */
export function lowContrastText() {
  const parse = (c) => (c.match(/[\d.]+/g) || []).map(Number);
  const luminance = ([r, g, b]) => {
    const lin = (v) => { const s = v / 255; return s <= 0.03928 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4; };
    return 0.2126 * lin(r) + 0.7152 * lin(g) + 0.0722 * lin(b);
  };
  const background = (el) => {
    for (let e = el; e; e = e.parentElement) {
      const style = getComputedStyle(e);
      if (style.backgroundImage !== 'none') return null; // a gradient: judged by eye
      const [r, g, b, a = 1] = parse(style.backgroundColor);
      if (a > 0.5) return [r, g, b];
    }
    return [255, 255, 255];
  };
  const failures = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const el = node.parentElement;
    if (!node.textContent.trim() || !el || el.closest('[hidden], .visually-hidden, svg, .toasts')) continue;
    const rect = el.getBoundingClientRect();
    if (!rect.width || !rect.height) continue;
    const style = getComputedStyle(el);
    if (style.visibility === 'hidden' || Number(style.opacity) < 0.5) continue;
    const bg = background(el);
    if (!bg) continue;
    const fg = parse(style.color);
    const [hi, lo] = [luminance(fg), luminance(bg)].sort((a, b) => b - a);
    const ratio = (hi + 0.05) / (lo + 0.05);
    const size = parseFloat(style.fontSize);
    const large = size >= 24 || (size >= 18.66 && Number(style.fontWeight) >= 700);
    const disabled = el.closest('button:disabled, input:disabled');
    if (!disabled && ratio < (large ? 3 : 4.5)) failures.push(`${node.textContent.trim().slice(0, 30)}: ${ratio.toFixed(2)}`);
  }
  return failures;
}
