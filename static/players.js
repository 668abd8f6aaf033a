// The account page's section for music players (the OpenSubsonic API): what to enter in a
// player, the customer's API keys (made, listed, revoked) and their app password (made,
// replaced, removed). A new key or password is shown once, here, and never again.

import { api } from './api.js';
import { h, notify, loading } from './ui.js';

const when = (at) => new Date(at).toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' });

/** A secret shown once, with a button that copies it. */
function shownOnce(label, secret) {
  const value = h('code', { class: 'secret-value' }, secret);
  const copy = h('button', { type: 'button', class: 'btn' }, 'Copy');
  copy.addEventListener('click', async () => {
    try {
      await navigator.clipboard.writeText(secret);
      notify('Copied.');
    } catch {
      // The clipboard is refused outside a secure context; the text can still be selected.
      getSelection()?.selectAllChildren(value);
    }
  });
  return h('div', { class: 'secret', role: 'status', 'aria-label': label },
    h('p', {}, h('strong', {}, label), ' — copy it now: it is not shown again.'),
    h('p', { class: 'secret-line' }, value, copy));
}

function errorLine() {
  return h('p', { class: 'form-error', role: 'alert', hidden: true });
}

function showError(line, e) {
  line.textContent = e.message;
  line.hidden = false;
}

async function keysBlock() {
  const list = h('ul', { class: 'player-keys', role: 'list', 'aria-label': 'Your API keys' });
  const fresh = h('div');
  const error = errorLine();

  const render = (keys) => {
    list.replaceChildren(...keys.map((key) => {
      const revoke = h('button', { type: 'button', class: 'btn', 'aria-label': `Revoke the key “${key.name}”` }, 'Revoke');
      revoke.addEventListener('click', async () => {
        revoke.disabled = true;
        error.hidden = true;
        try {
          await api(`/me/subsonic/api-keys/${key.id}`, { method: 'DELETE' });
          notify(`The key “${key.name}” is revoked.`);
          fresh.replaceChildren();
          await refresh();
        } catch (e) {
          showError(error, e);
          revoke.disabled = false;
        }
      });
      return h('li', { class: 'player-key', dataset: { keyId: key.id } },
        h('span', { class: 'player-key-name' }, key.name),
        h('span', { class: 'muted' }, `made ${when(key.created_at)}`),
        revoke);
    }));
    if (!keys.length) list.replaceChildren(h('li', { class: 'muted' }, 'No API keys yet.'));
  };
  const refresh = async () => render(await api('/me/subsonic/api-keys'));

  const nameId = 'f-key-name';
  const name = h('input', { id: nameId, name: 'name', maxlength: 80, required: true, placeholder: 'e.g. Symfonium on my phone' });
  const create = h('button', { type: 'submit', class: 'btn btn-primary' }, 'Create key');
  const form = h('form', { class: 'inline-form', 'aria-label': 'New API key', novalidate: true },
    h('label', { for: nameId }, 'Key name '), name, create);
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    error.hidden = true;
    create.disabled = true;
    try {
      const made = await api('/me/subsonic/api-keys', { method: 'POST', body: { name: name.value.trim() } });
      fresh.replaceChildren(shownOnce(`Your new API key “${made.name}”`, made.key));
      name.value = '';
      await refresh();
    } catch (e) {
      showError(error, e);
    } finally {
      create.disabled = false;
    }
  });

  await refresh();
  return h('section', { 'aria-labelledby': 'h-api-keys' },
    h('h3', { id: 'h-api-keys' }, 'API keys'),
    h('p', { class: 'muted' }, 'For players that support API keys (OpenSubsonic): enter the key instead of a username and password. Revoke a key to cut off the player using it.'),
    list, form, error, fresh);
}

async function appPasswordBlock() {
  const status = h('p', {});
  const fresh = h('div');
  const error = errorLine();
  const make = h('button', { type: 'button', class: 'btn btn-primary' }, 'Make an app password');
  const remove = h('button', { type: 'button', class: 'btn' }, 'Remove app password');

  const show = (made) => {
    status.textContent = made ? `You have an app password, made ${when(made.created_at)}.` : 'You have no app password.';
    make.textContent = made ? 'Replace app password' : 'Make an app password';
    remove.hidden = !made;
  };
  const refresh = async () => {
    try {
      show(await api('/me/subsonic/app-password'));
    } catch (e) {
      if (e.status !== 404) throw e;
      show(null);
    }
  };

  make.addEventListener('click', async () => {
    make.disabled = true;
    error.hidden = true;
    try {
      const made = await api('/me/subsonic/app-password', { method: 'POST' });
      fresh.replaceChildren(shownOnce('Your new app password', made.password));
      show(made);
    } catch (e) {
      showError(error, e);
    } finally {
      make.disabled = false;
    }
  });
  remove.addEventListener('click', async () => {
    remove.disabled = true;
    error.hidden = true;
    try {
      await api('/me/subsonic/app-password', { method: 'DELETE' });
      fresh.replaceChildren();
      notify('Your app password is removed.');
      show(null);
    } catch (e) {
      showError(error, e);
    } finally {
      remove.disabled = false;
    }
  });

  await refresh();
  return h('section', { 'aria-labelledby': 'h-app-password' },
    h('h3', { id: 'h-app-password' }, 'App password'),
    h('p', { class: 'muted' }, 'For players that sign in with a username and password: use your email and this password (never your account password). Making a new one replaces the old.'),
    status, h('div', { class: 'actions' }, make, remove), error, fresh);
}

/** The section, filled in once its lists have loaded. */
export function playersSection(email) {
  const body = h('div', {}, loading());
  const section = h('section', { class: 'players', 'aria-labelledby': 'h-players' },
    h('h2', { id: 'h-players' }, 'Music players'),
    h('p', {}, 'Listen in a Subsonic player (Symfonium, DSub, Feishin, Supersonic, Amperfy…). Server: ',
      h('code', {}, location.origin), ', username: ', h('code', {}, email), '.'),
    body);
  Promise.all([keysBlock(), appPasswordBlock()])
    .then((blocks) => body.replaceChildren(...blocks))
    .catch((e) => body.replaceChildren(h('p', { class: 'form-error', role: 'alert' }, e.message)));
  return section;
}
