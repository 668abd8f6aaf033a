// The account page's music players section in a real browser: a customer makes an API key
// and an app password there, each shown once, and a Subsonic request with them works until
// the key is revoked or the password replaced or removed.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BASE, useBrowser, open, goto, newCustomer, lowContrastText } from './browser.js';

useBrowser();

/** A Subsonic `ping` with these credentials: its status and error code, if any. */
async function ping(credentials) {
  const query = new URLSearchParams({ v: '1.16.1', c: 'browser-suite', f: 'json', ...credentials });
  const response = await fetch(`${BASE}/rest/ping?${query}`);
  assert.equal(response.status, 200);
  const body = (await response.json())['subsonic-response'];
  return { status: body.status, code: body.error?.code };
}

test('the account page makes, lists and revokes API keys, each shown once', async (t) => {
  const { email } = await newCustomer('keys');
  const page = await open(t, { email });
  await goto(page, '/account');
  const section = page.getByRole('region', { name: 'Music players' });
  await section.getByText(email).waitFor();
  await section.getByText('No API keys yet.').waitFor();

  const form = section.getByRole('form', { name: 'New API key' });
  await form.getByLabel('Key name').fill('Phone player');
  await form.getByRole('button', { name: 'Create key' }).click();
  const shown = section.getByRole('status', { name: 'Your new API key “Phone player”' });
  const key = (await shown.locator('code').textContent()).trim();
  assert.ok(key.length >= 20, `a key is shown: ${key}`);
  assert.deepEqual(await ping({ apiKey: key }), { status: 'ok', code: undefined });

  const keys = section.getByRole('list', { name: 'Your API keys' });
  await keys.getByText('Phone player').waitFor();
  assert.equal(await keys.getByRole('listitem').count(), 1);
  assert.deepEqual(await page.evaluate(lowContrastText), [], 'the section passes WCAG AA contrast');

  // Shown once: the page, opened again, lists the key by name but no longer shows it.
  await goto(page, '/account');
  await keys.getByText('Phone player').waitFor();
  assert.equal(await page.getByText(key).count(), 0, 'the key is not shown again');

  await keys.getByRole('button', { name: 'Revoke the key “Phone player”' }).click();
  await section.getByText('No API keys yet.').waitFor();
  assert.deepEqual(await ping({ apiKey: key }), { status: 'failed', code: 44 });
});

test('the account page makes, replaces and removes the app password, shown once', async (t) => {
  const { email } = await newCustomer('apppw');
  const page = await open(t, { email });
  await goto(page, '/account');
  const section = page.getByRole('region', { name: 'Music players' });
  await section.getByText('You have no app password.').waitFor();
  // Until there is an app password, token auth is refused with code 41.
  assert.equal((await ping({ u: email, t: '0'.repeat(32), s: 'salt' })).code, 41);

  const made = async () => {
    const shown = section.getByRole('status', { name: 'Your new app password' });
    await shown.waitFor();
    const password = (await shown.locator('code').textContent()).trim();
    await section.getByText(/You have an app password, made/).waitFor();
    return password;
  };
  await section.getByRole('button', { name: 'Make an app password' }).click();
  const first = await made();
  assert.deepEqual(await ping({ u: email, p: first }), { status: 'ok', code: undefined });

  await section.getByRole('button', { name: 'Replace app password' }).click();
  await page.waitForFunction(
    (old) => { const c = document.querySelector('.secret code'); return c && c.textContent.trim() !== old; },
    first,
  );
  const second = await made();
  assert.notEqual(second, first);
  assert.deepEqual(await ping({ u: email, p: second }), { status: 'ok', code: undefined });
  assert.equal((await ping({ u: email, p: first })).code, 40, 'the replaced password stops working');

  await section.getByRole('button', { name: 'Remove app password' }).click();
  await section.getByText('You have no app password.').waitFor();
  assert.equal(await section.getByRole('button', { name: 'Remove app password' }).isVisible(), false);
  assert.equal((await ping({ u: email, p: second })).code, 40, 'the removed password stops working');
});
