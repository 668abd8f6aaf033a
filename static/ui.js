// Small DOM helpers shared by the views: element building, formatting, covers, highlights.

/** h('a', {href: '/x', class: 'y'}, 'text', child) builds an element; text is never parsed as HTML. */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith('on') && typeof value === 'function') el.addEventListener(key.slice(2), value);
    else if (key === 'dataset') Object.assign(el.dataset, value);
    else if (value === true) el.setAttribute(key, '');
    else el.setAttribute(key, String(value));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

/** 343719 ms → "5:43" */
export function duration(ms) {
  const total = Math.round((ms || 0) / 1000);
  const hours = Math.floor(total / 3600);
  const minutes = Math.floor((total % 3600) / 60);
  const seconds = String(total % 60).padStart(2, '0');
  return hours ? `${hours}:${String(minutes).padStart(2, '0')}:${seconds}` : `${minutes}:${seconds}`;
}

/** Seconds (a float) → "1:05" */
export function clock(seconds) {
  return duration((Number.isFinite(seconds) ? seconds : 0) * 1000);
}

/** "0.99" → "$0.99" */
export function price(decimal) {
  return `$${decimal}`;
}

/** Adds decimal strings exactly, in cents. */
export function sum(decimals) {
  const cents = decimals.reduce((total, d) => {
    const [whole, frac = ''] = String(d).split('.');
    return total + Number(whole) * 100 + Number(frac.padEnd(2, '0').slice(0, 2));
  }, 0);
  return `${Math.floor(cents / 100)}.${String(cents % 100).padStart(2, '0')}`;
}

const COVER_SIZES = [64, 128, 300, 600];

/**
 * An album cover sized for the screen: the browser picks from the cover endpoint's sizes.
 * No format named: browsers all name WebP in `Accept`, and the endpoint gives them its lossy
 * WebP, the smallest.
 */
export function cover(albumId, { sizes = '(max-width: 480px) 45vw, 200px', alt = '', eager = false, cls = 'cover' } = {}) {
  const url = (size) => `/api/v1/albums/${albumId}/cover?size=${size}`;
  return h('img', {
    class: cls,
    src: url(300),
    srcset: COVER_SIZES.map((s) => `${url(s)} ${s}w`).join(', '),
    sizes,
    alt,
    width: 300,
    height: 300,
    loading: eager ? 'eager' : 'lazy',
    decoding: 'async',
  });
}

/**
 * The name with the search's matches marked. The API's highlight is HTML with <b> around
 * exact matches (and may be cut short), so the marked words are taken from it and found
 * again in the full name, which is only ever inserted as text.
 */
export function highlighted(name, highlight) {
  if (!highlight) return document.createTextNode(name);
  const decoder = document.createElement('textarea');
  const words = [...highlight.matchAll(/<b>(.*?)<\/b>/g)]
    .map((m) => { decoder.innerHTML = m[1]; return decoder.value; })
    .filter((w) => w.trim());
  if (!words.length) return document.createTextNode(name);
  const escaped = [...new Set(words)].map((w) => w.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
  const pattern = new RegExp(`(${escaped.join('|')})`, 'gi');
  const span = h('span');
  let last = 0;
  for (const match of name.matchAll(pattern)) {
    span.append(name.slice(last, match.index), h('mark', {}, match[0]));
    last = match.index + match[0].length;
  }
  span.append(name.slice(last));
  return span;
}

/** A live region announcement and a visible toast for things the person should know. */
export function notify(message, { kind = 'info' } = {}) {
  const region = document.getElementById('toasts');
  const toast = h('div', { class: `toast toast-${kind}`, role: kind === 'error' ? 'alert' : 'status' }, message);
  region.append(toast);
  setTimeout(() => toast.remove(), kind === 'error' ? 8000 : 4000);
}

/** An error shown where the content would have been, in words. */
export function errorBox(error, retry) {
  return h('div', { class: 'error-box', role: 'alert' },
    h('p', {}, error && error.message ? error.message : 'Something went wrong.'),
    retry ? h('button', { class: 'btn', type: 'button', onclick: retry }, 'Try again') : null);
}

export function loading(label = 'Loading') {
  return h('p', { class: 'loading', role: 'status' }, `${label}…`);
}

/** Inline SVG icons from the sprite in the page. */
export function icon(name) {
  const svg = document.createElementNS('http://www.w3.org/2000/svg', 'svg');
  svg.setAttribute('class', 'icon');
  svg.setAttribute('aria-hidden', 'true');
  svg.setAttribute('focusable', 'false');
  const use = document.createElementNS('http://www.w3.org/2000/svg', 'use');
  use.setAttribute('href', `#i-${name}`);
  svg.append(use);
  return svg;
}
