// The store front's shell: the router (paths in the address bar, so pages can be shared and
// the back button works), the search box with suggestions, the header's account and cart.

import { api, query } from './api.js';
import { state, onChange, refreshAccount } from './store.js';
import { mountPlayer } from './player.js';
import * as views from './views.js';
import * as account from './account.js';
import { h, errorBox, notify } from './ui.js';

const main = document.getElementById('main');

const routes = [
  [/^\/$/, () => views.home(main)],
  [/^\/search$/, () => views.search(main, new URLSearchParams(location.search))],
  [/^\/albums\/(\d+)$/, (id) => views.album(main, id)],
  [/^\/artists\/(\d+)$/, (id) => views.artist(main, id)],
  [/^\/genres\/([a-z0-9-]+)$/, (slug) => views.genre(main, slug)],
  [/^\/cart$/, () => account.cart(main, navigate)],
  [/^\/account$/, () => account.account(main, navigate)],
  [/^\/library$/, () => account.library(main)],
  [/^\/invoices$/, () => account.invoices(main)],
];

let lastPath = null;

async function render({ focus = true } = {}) {
  const path = location.pathname;
  const samePage = path === lastPath;
  const hadFocus = document.activeElement && document.activeElement !== document.body;
  lastPath = path;
  for (const link of document.querySelectorAll('.site-nav a')) {
    link.toggleAttribute('aria-current', link.getAttribute('href') === path);
    if (link.hasAttribute('aria-current')) link.setAttribute('aria-current', 'page');
  }
  const route = routes.find(([pattern]) => pattern.test(path));
  try {
    if (!route) {
      document.title = 'Not found — Chinook';
      main.replaceChildren(h('h1', {}, 'Page not found'), h('p', {}, 'There is nothing here. ', views.link('/', 'Go to the home page.')));
    } else {
      await route[1](...path.match(route[0]).slice(1));
    }
  } catch (e) {
    if (e.name === 'AbortError') return;
    main.replaceChildren(errorBox(e, () => render()));
  }
  // A new page moves focus to its content, as a page load would, so keyboard and screen
  // reader users start there; updating results while typing leaves the focus in the box.
  if (focus && !samePage) {
    main.focus({ preventScroll: true });
    window.scrollTo(0, 0);
  } else if (hadFocus && (document.activeElement === document.body || !document.activeElement)) {
    // The control that had the focus (a facet, say) was re-rendered: keep the keyboard in
    // the content rather than sending it back to the top of the page.
    main.focus({ preventScroll: true });
  }
  main.dispatchEvent(new CustomEvent('chinook:rendered', { bubbles: true }));
}

export function navigate(href, { replace = false, focus = true } = {}) {
  if (replace) history.replaceState(null, '', href);
  else history.pushState(null, '', href);
  render({ focus });
}

document.addEventListener('click', (event) => {
  const a = event.target.closest('a[data-link]');
  if (!a || event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
  event.preventDefault();
  navigate(a.getAttribute('href'));
});
window.addEventListener('popstate', () => render());

// ---- Search box: results as you type, suggestions in a listbox (ARIA combobox) ----

const input = document.getElementById('search-q');
const listbox = document.getElementById('search-suggestions');
const form = document.getElementById('search-form');
let suggestTimer = null;
let typeTimer = null;
let suggestions = [];
let active = -1;

function closeSuggestions() {
  listbox.hidden = true;
  input.setAttribute('aria-expanded', 'false');
  input.removeAttribute('aria-activedescendant');
  active = -1;
}

function showSuggestions() {
  listbox.replaceChildren(...suggestions.map((s, i) => h('li', {
    id: `suggestion-${i}`,
    role: 'option',
    class: i === active ? 'active' : '',
    'aria-selected': String(i === active),
    onmousedown: (event) => { event.preventDefault(); choose(i); },
  }, h('span', {}, s.name), h('span', { class: 'muted' }, s.type))));
  listbox.hidden = !suggestions.length;
  input.setAttribute('aria-expanded', String(suggestions.length > 0));
  if (active >= 0) input.setAttribute('aria-activedescendant', `suggestion-${active}`);
  else input.removeAttribute('aria-activedescendant');
}

function choose(i) {
  input.value = suggestions[i].name;
  closeSuggestions();
  searchFor(input.value, { replace: false, focus: true });
}

/** Shows results for `q`, keeping the current filters only while refining the same search. */
function searchFor(q, { replace, focus }) {
  if (!q.trim()) return;
  navigate(views.searchUrl({ q }), { replace, focus });
}

input.addEventListener('input', () => {
  const q = input.value;
  clearTimeout(suggestTimer);
  clearTimeout(typeTimer);
  if (!q.trim()) { closeSuggestions(); return; }
  suggestTimer = setTimeout(async () => {
    try {
      const result = await api(`/search/suggest${query({ q, limit: 8 })}`);
      if (input.value !== q) return;
      suggestions = result.data;
      active = -1;
      showSuggestions();
    } catch (e) {
      suggestions = [];
      closeSuggestions();
      if (e.status !== 400) notify(e.message, { kind: 'error' });
    }
  }, 120);
  // Results follow the typing; the first keystroke of a search is a new history entry,
  // later ones replace it, so Back returns to where the search started.
  typeTimer = setTimeout(() => {
    const onSearch = location.pathname === '/search';
    searchFor(q, { replace: onSearch, focus: false });
  }, 250);
});

input.addEventListener('keydown', (event) => {
  if (event.key === 'ArrowDown' && suggestions.length) {
    event.preventDefault();
    active = (active + 1) % suggestions.length;
    showSuggestions();
  } else if (event.key === 'ArrowUp' && suggestions.length) {
    event.preventDefault();
    active = active <= 0 ? suggestions.length - 1 : active - 1;
    showSuggestions();
  } else if (event.key === 'Escape') {
    closeSuggestions();
  } else if (event.key === 'Enter' && active >= 0 && !listbox.hidden) {
    event.preventDefault();
    choose(active);
  }
});
input.addEventListener('blur', () => setTimeout(closeSuggestions, 100));

form.addEventListener('submit', (event) => {
  event.preventDefault();
  clearTimeout(typeTimer);
  clearTimeout(suggestTimer);
  closeSuggestions();
  const q = input.value;
  if (!q.trim()) return;
  const here = new URLSearchParams(location.search).get('q');
  navigate(views.searchUrl({ q }), { replace: location.pathname === '/search' && here === q, focus: false });
  // Enter takes the keyboard to the results.
  main.addEventListener('chinook:rendered', () => {
    const first = main.querySelector('.search-results h1');
    if (first) { first.setAttribute('tabindex', '-1'); first.focus(); }
  }, { once: true });
});

// ---- Header: account and cart ----

function renderHeader() {
  const count = state.cart.items.length;
  const cartLink = document.getElementById('nav-cart');
  cartLink.querySelector('.cart-count').textContent = count;
  cartLink.setAttribute('aria-label', `Cart, ${count} item${count === 1 ? '' : 's'}`);
  const accountLink = document.getElementById('nav-account');
  accountLink.textContent = state.me ? (state.me.first_name || 'Account') : 'Sign in';
  for (const id of ['nav-library', 'nav-invoices']) document.getElementById(id).hidden = !state.me;
}

onChange(renderHeader);
window.addEventListener('chinook:signed-out', () => notify('Your session ended; please sign in again.'));

mountPlayer();
if (location.pathname === '/search') input.value = new URLSearchParams(location.search).get('q') || '';
window.addEventListener('popstate', () => {
  if (location.pathname === '/search') input.value = new URLSearchParams(location.search).get('q') || '';
});
renderHeader();
refreshAccount()
  .catch((e) => notify(e.message, { kind: 'error' }))
  .finally(async () => {
    await render({ focus: false });
    performance.mark('chinook:interactive');
    document.documentElement.dataset.ready = 'true';
  });
