// What the visitor has: their account, the tracks they own, and the cart (kept in
// localStorage with the idempotency key of its checkout, so a retry never buys twice).

import { api, session, newIdempotencyKey } from './api.js';

const CART_KEY = 'chinook.cart';
const listeners = new Set();

export const state = {
  me: null,
  owned: new Set(),
  cart: load(),
};

function load() {
  try {
    const saved = JSON.parse(localStorage.getItem(CART_KEY));
    if (saved && Array.isArray(saved.items)) return saved;
  } catch { /* a damaged cart is an empty one */ }
  return { items: [], key: null };
}

function save() {
  localStorage.setItem(CART_KEY, JSON.stringify(state.cart));
  changed();
}

export function onChange(fn) { listeners.add(fn); }
function changed() { for (const fn of listeners) fn(state); }

export function inCart(type, id) {
  return state.cart.items.some((item) => item.type === type && item.id === id);
}

/** Adds a track or an album; a changed cart is a new order, so it gets a new key. */
export function addToCart(item) {
  if (inCart(item.type, item.id)) return false;
  state.cart.items.push(item);
  state.cart.key = null;
  save();
  return true;
}

export function removeFromCart(type, id) {
  state.cart.items = state.cart.items.filter((item) => !(item.type === type && item.id === id));
  state.cart.key = null;
  save();
}

/** The key of this cart's checkout: the same for every attempt until the cart changes. */
export function checkoutKey() {
  if (!state.cart.key) {
    state.cart.key = newIdempotencyKey();
    localStorage.setItem(CART_KEY, JSON.stringify(state.cart));
  }
  return state.cart.key;
}

export function clearCart() {
  state.cart = { items: [], key: null };
  save();
}

/** Reads who is signed in and what they own; signed out when the token is gone. */
export async function refreshAccount() {
  if (!session.signedIn) {
    state.me = null;
    state.owned = new Set();
    changed();
    return;
  }
  try {
    state.me = await api('/me');
    state.owned = state.me.role === 'customer' ? await ownedTracks() : new Set();
  } catch (e) {
    if (e.status === 401) state.me = null;
    else throw e;
  } finally {
    changed();
  }
}

async function ownedTracks() {
  const owned = new Set();
  let cursor = null;
  // A library is read whole (ids only matter here), a hundred at a time.
  for (let pages = 0; pages < 50; pages += 1) {
    const params = new URLSearchParams({ limit: '100' });
    if (cursor) params.set('cursor', cursor);
    const page = await api(`/me/library?${params}`);
    for (const entry of page.data) owned.add(entry.track_id);
    cursor = page.page.next_cursor;
    if (!cursor) break;
  }
  return owned;
}

/** Staff and admins may stream everything; customers what they bought. */
export function canStream(trackId) {
  if (!state.me) return false;
  return state.me.role !== 'customer' || state.owned.has(trackId);
}

export async function signIn(email, password) {
  // The session comes back as cookies: an HttpOnly one with the token, and the CSRF token.
  await api('/auth/login?session=cookie', { method: 'POST', body: { email, password }, auth: false });
  await refreshAccount();
}

export async function register(details) {
  await api('/auth/register?session=cookie', { method: 'POST', body: details, auth: false });
  await refreshAccount();
}

export async function signOut() {
  try {
    await api('/auth/logout', { method: 'POST' });
  } finally {
    session.forget();
    await refreshAccount();
  }
}

/** Buys the cart with its key; a double click or a retry replays the same purchase. */
export async function checkout() {
  const order = {
    track_ids: state.cart.items.filter((i) => i.type === 'track').map((i) => i.id),
    album_ids: state.cart.items.filter((i) => i.type === 'album').map((i) => i.id),
  };
  const invoice = await api('/purchases', {
    method: 'POST',
    body: order,
    headers: { 'idempotency-key': checkoutKey() },
  });
  clearCart();
  state.owned = await ownedTracks();
  changed();
  return invoice;
}

window.addEventListener('chinook:signed-out', () => {
  state.me = null;
  state.owned = new Set();
  changed();
});
