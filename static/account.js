// The visitor's pages: sign in and register (and, signed in, the account with its music
// players section), the cart and checkout, the library (with downloads) and the invoices.

import { api, query } from './api.js';
import { state, signIn, register, signOut, checkout, removeFromCart } from './store.js';
import { playTracks } from './player.js';
import { playersSection } from './players.js';
import { trackTable, trackOf, link } from './views.js';
import { h, price, sum, notify, loading, icon } from './ui.js';

function field(label, attrs) {
  const id = `f-${attrs.name}-${Math.random().toString(36).slice(2, 7)}`;
  return h('div', { class: 'field' },
    h('label', { for: id }, label),
    h('input', { id, ...attrs }));
}

/** A form whose submit shows its error in words under it and keeps what was typed. */
function form(label, fields, submitLabel, onSubmit) {
  const message = h('p', { class: 'form-error', role: 'alert', hidden: true });
  const button = h('button', { type: 'submit', class: 'btn btn-primary' }, submitLabel);
  const el = h('form', { class: 'form', 'aria-label': label, novalidate: true }, fields, message, button);
  el.addEventListener('submit', async (event) => {
    event.preventDefault();
    message.hidden = true;
    button.disabled = true;
    try {
      await onSubmit(Object.fromEntries(new FormData(el)));
    } catch (e) {
      message.textContent = e.message;
      message.hidden = false;
    } finally {
      button.disabled = false;
    }
  });
  return el;
}

export async function account(main, navigate) {
  document.title = 'Your account — Chinook';
  if (state.me) {
    main.replaceChildren(
      h('h1', {}, 'Your account'),
      h('dl', { class: 'facts' },
        h('dt', {}, 'Name'), h('dd', {}, `${state.me.first_name ?? ''} ${state.me.last_name ?? ''}`.trim() || '—'),
        h('dt', {}, 'Email'), h('dd', {}, state.me.email),
        h('dt', {}, 'Tracks owned'), h('dd', {}, String(state.owned.size))),
      h('div', { class: 'actions' },
        link('/library', 'Your library'), link('/invoices', 'Your invoices'),
        h('button', {
          type: 'button',
          class: 'btn',
          onclick: async () => {
            try { await signOut(); } catch (e) { notify(e.message, { kind: 'error' }); }
            notify('You are signed out.');
            navigate('/');
          },
        }, 'Sign out')),
      playersSection(state.me.email),
    );
    return;
  }
  const next = new URLSearchParams(location.search).get('next') || '/';
  const done = (text) => { notify(text); navigate(next.startsWith('/') ? next : '/'); };
  main.replaceChildren(
    h('h1', {}, 'Sign in or create an account'),
    h('div', { class: 'two-col' },
      h('section', { 'aria-labelledby': 'h-signin' },
        h('h2', { id: 'h-signin' }, 'Sign in'),
        form('Sign in', [
          field('Email', { name: 'email', type: 'email', autocomplete: 'username', required: true }),
          field('Password', { name: 'password', type: 'password', autocomplete: 'current-password', required: true }),
        ], 'Sign in', async ({ email, password }) => {
          await signIn(email, password);
          done(`Welcome back, ${state.me.first_name || state.me.email}.`);
        })),
      h('section', { 'aria-labelledby': 'h-register' },
        h('h2', { id: 'h-register' }, 'Create an account'),
        form('Create an account', [
          field('First name', { name: 'first_name', autocomplete: 'given-name', required: true }),
          field('Last name', { name: 'last_name', autocomplete: 'family-name', required: true }),
          field('Email', { name: 'email', type: 'email', autocomplete: 'email', required: true }),
          field('Password (8 characters or more)', { name: 'password', type: 'password', autocomplete: 'new-password', minlength: 8, required: true }),
        ], 'Create account', async (details) => {
          await register(details);
          done(`Welcome to Chinook, ${state.me.first_name || state.me.email}.`);
        }))),
  );
}

export async function cart(main, navigate) {
  document.title = 'Your cart — Chinook';
  const items = state.cart.items;
  if (!items.length) {
    main.replaceChildren(h('h1', {}, 'Your cart'), h('p', {}, 'Your cart is empty. ', link('/', 'Find something to listen to.')));
    return;
  }
  const known = items.filter((i) => i.type === 'track').map((i) => i.price);
  const albumPrices = items.filter((i) => i.type === 'album').flatMap((i) => i.tracks || []);
  const estimate = sum([...known, ...albumPrices]);
  const status = h('p', { class: 'form-error', role: 'alert', hidden: true });
  const button = h('button', { type: 'button', class: 'btn btn-primary', id: 'checkout' }, 'Buy now');
  let busy = false;
  button.addEventListener('click', async () => {
    if (!state.me) { navigate('/account?next=/cart'); return; }
    // A second click while the first is on its way changes nothing; the idempotency key
    // covers retries and other tabs.
    if (busy) return;
    busy = true;
    button.disabled = true;
    button.setAttribute('aria-busy', 'true');
    status.hidden = true;
    try {
      const invoice = await checkout();
      notify(`Thank you! Invoice ${invoice.id} for ${price(invoice.total)}: your tracks are in your library.`);
      navigate('/library');
    } catch (e) {
      status.textContent = e.message;
      status.hidden = false;
    } finally {
      busy = false;
      button.disabled = false;
      button.removeAttribute('aria-busy');
    }
  });
  main.replaceChildren(
    h('h1', {}, 'Your cart'),
    h('ul', { class: 'cart', role: 'list' }, items.map((item) => h('li', { class: 'cart-item' },
      h('span', { class: 'cart-name' },
        h('span', {}, item.type === 'album' ? `Album: ${item.name}` : item.name),
        item.detail ? h('span', { class: 'muted' }, item.detail) : null),
      h('span', { class: 'cart-price' }, item.type === 'album' ? price(sum(item.tracks || [])) : price(item.price)),
      h('button', {
        type: 'button',
        class: 'icon-btn',
        'aria-label': `Remove ${item.name} from the cart`,
        onclick: () => { removeFromCart(item.type, item.id); cart(main, navigate); },
      }, icon('close'))))),
    h('p', { class: 'cart-total' }, 'Total ', h('strong', {}, price(estimate))),
    h('p', { class: 'muted' }, 'Tracks you own already are refused rather than charged twice.'),
    state.me ? null : h('p', {}, 'You need to ', link('/account?next=/cart', 'sign in'), ' to buy.'),
    status,
    button,
  );
}

function needsSignIn(main, what) {
  main.replaceChildren(h('h1', {}, what), h('p', {}, link(`/account?next=${encodeURIComponent(location.pathname)}`, 'Sign in'), ` to see ${what.toLowerCase()}.`));
}

// The download format the listener chose last: lossless FLAC unless they asked for MP3.
function downloadFormat() {
  return localStorage.getItem('chinook.download-format') === 'mp3' ? 'mp3' : 'flac';
}

async function download(track, button) {
  button.disabled = true;
  const format = downloadFormat();
  try {
    const response = await api(`/tracks/${track.id}/download?format=${format}`, { raw: true, headers: { accept: '*/*' } });
    const disposition = response.headers.get('content-disposition') || '';
    const encoded = /filename\*=UTF-8''([^;]+)/i.exec(disposition);
    const name = encoded ? decodeURIComponent(encoded[1]) : `${track.name}.${format}`;
    const url = URL.createObjectURL(await response.blob());
    const a = h('a', { href: url, download: name, hidden: true });
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10_000);
  } catch (e) {
    notify(`“${track.name}” could not be downloaded: ${e.message}`, { kind: 'error' });
  } finally {
    button.disabled = false;
  }
}

export async function library(main) {
  document.title = 'Your library — Chinook';
  if (!state.me) return needsSignIn(main, 'Your library');
  const params = new URLSearchParams(location.search);
  const q = params.get('q') || '';
  main.replaceChildren(loading());
  const page = await api(`/me/library${query({ q, limit: 100 })}`);
  const tracks = page.data.map(trackOf);
  const table = trackTable(tracks, { caption: 'Your tracks' });
  for (const row of table.querySelectorAll('tbody tr')) {
    const track = tracks.find((t) => String(t.id) === row.dataset.trackId);
    const cell = row.querySelector('.col-buy');
    const button = h('button', { type: 'button', class: 'icon-btn', 'aria-label': `Download “${track.name}”` }, icon('download'));
    button.addEventListener('click', () => download(track, button));
    cell.querySelector('.badge')?.replaceWith(button);
  }
  const filter = h('form', { class: 'inline-form', role: 'search', 'aria-label': 'Filter your library' },
    h('label', { for: 'library-q', class: 'visually-hidden' }, 'Filter your library'),
    h('input', { id: 'library-q', name: 'q', type: 'search', value: q, placeholder: 'Filter by track name' }),
    h('button', { type: 'submit', class: 'btn' }, 'Filter'));
  const format = h('select', { id: 'download-format' },
    h('option', { value: 'flac' }, 'FLAC (lossless)'),
    h('option', { value: 'mp3' }, 'MP3 (320 kbit/s)'));
  format.value = downloadFormat();
  format.addEventListener('change', () => localStorage.setItem('chinook.download-format', format.value));
  main.replaceChildren(
    h('h1', {}, 'Your library'),
    h('p', { class: 'muted' }, `${state.owned.size} tracks you own stream in full and download.`),
    filter,
    h('p', { class: 'inline-form' }, h('label', { for: 'download-format' }, 'Downloads as '), format),
    tracks.length ? h('div', { class: 'actions' }, h('button', { type: 'button', class: 'btn btn-primary', onclick: () => playTracks(tracks, 0) }, icon('play'), 'Play all')) : null,
    table,
    page.page.next_cursor ? h('p', { class: 'muted' }, 'Showing the first 100; filter to find others.') : null,
  );
}

export async function invoices(main) {
  document.title = 'Your invoices — Chinook';
  if (!state.me) return needsSignIn(main, 'Your invoices');
  main.replaceChildren(loading());
  const page = await api('/me/invoices?limit=100');
  main.replaceChildren(
    h('h1', {}, 'Your invoices'),
    page.data.length ? h('ul', { class: 'invoices', role: 'list' }, page.data.map((invoice) => {
      const body = h('div', { class: 'invoice-lines', hidden: true });
      const toggle = h('button', {
        type: 'button',
        class: 'invoice-head',
        'aria-expanded': 'false',
        onclick: async () => {
          const open = toggle.getAttribute('aria-expanded') === 'true';
          toggle.setAttribute('aria-expanded', String(!open));
          body.hidden = open;
          if (!open && !body.childElementCount) {
            body.append(loading());
            try {
              const full = await api(`/me/invoices/${invoice.id}`);
              body.replaceChildren(h('table', { class: 'tracks' },
                h('caption', { class: 'visually-hidden' }, `Lines of invoice ${invoice.id}`),
                h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Track'), h('th', { scope: 'col', class: 'col-time' }, 'Price'))),
                h('tbody', {}, full.lines.map((line) => h('tr', {},
                  h('td', {}, link(`/albums/${line.album_id}`, line.track_name)),
                  h('td', { class: 'col-time' }, price(line.amount)))))));
            } catch (e) {
              body.replaceChildren(h('p', { role: 'alert' }, e.message));
            }
          }
        },
      },
      h('span', {}, `Invoice ${invoice.id}`),
      h('span', { class: 'muted' }, new Date(invoice.invoice_date).toLocaleDateString(undefined, { dateStyle: 'medium' })),
      h('span', {}, `${invoice.line_count} track${invoice.line_count === 1 ? '' : 's'}`),
      h('strong', {}, price(invoice.total)));
      return h('li', { class: 'invoice', dataset: { invoiceId: invoice.id } }, toggle, body);
    })) : h('p', {}, 'No invoices yet.'),
  );
}

