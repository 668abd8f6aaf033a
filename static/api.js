// The API client: JSON in and out, the session's CSRF proof, and problems turned into
// sentences. The one place that sends credentials.
//
// The session token lives in an HttpOnly cookie the browser sends by itself; no script here
// can read it. What scripts do see is the readable `chinook_csrf` cookie: every request
// other than GET and HEAD carries it back in `X-CSRF-Token`, which another site cannot do.

const CSRF_COOKIE = 'chinook_csrf';
const SAFE = new Set(['GET', 'HEAD', 'OPTIONS']);

function csrfToken() {
  const pair = document.cookie.split('; ').find((c) => c.startsWith(`${CSRF_COOKIE}=`));
  return pair ? pair.slice(CSRF_COOKIE.length + 1) : null;
}

export class ApiError extends Error {
  constructor(status, message, problem) {
    super(message);
    this.status = status;
    this.problem = problem;
  }
}

export const session = {
  /** Whether a session cookie was set (the server still decides whether it is valid). */
  get signedIn() { return csrfToken() !== null; },
  /** Forgets the session here; the server's logout clears and revokes it there. */
  forget() { document.cookie = `${CSRF_COOKIE}=; Path=/; Max-Age=0; SameSite=Strict`; },
};

/** Words a person can act on, for a status the problem's detail does not explain. */
function fallbackMessage(status) {
  if (status === 401) return 'Please sign in first.';
  if (status === 403) return 'You are not allowed to do that.';
  if (status === 404) return 'That could not be found.';
  if (status === 429) return 'Too many requests just now; please wait a moment and try again.';
  if (status >= 500) return 'The store is having trouble right now; please try again shortly.';
  return 'That request could not be completed.';
}

/**
 * Calls the API; resolves to the parsed JSON (or null), or with `raw` to the Response itself
 * (downloads); rejects with an ApiError in words.
 */
export async function api(path, { method = 'GET', body, headers = {}, auth = true, raw = false, signal } = {}) {
  const init = { method, headers: { accept: 'application/json', ...headers }, signal, credentials: 'same-origin' };
  const csrf = csrfToken();
  if (auth && csrf && !SAFE.has(method.toUpperCase())) init.headers['x-csrf-token'] = csrf;
  if (body !== undefined) {
    init.headers['content-type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  let response;
  try {
    response = await fetch(`/api/v1${path}`, init);
  } catch (e) {
    if (e.name === 'AbortError') throw e;
    throw new ApiError(0, 'The store cannot be reached. Check your connection and try again.');
  }
  if (raw && response.ok) return response;
  if (response.status === 204) return null;
  const type = response.headers.get('content-type') || '';
  const data = type.includes('json') ? await response.json().catch(() => null) : null;
  if (!response.ok) {
    if (response.status === 401 && auth && session.signedIn) {
      // The session expired or was revoked: the person is signed out.
      session.forget();
      window.dispatchEvent(new CustomEvent('chinook:signed-out'));
    }
    const detail = data && typeof data.detail === 'string' ? data.detail : '';
    const sentence = detail ? detail.charAt(0).toUpperCase() + detail.slice(1) : fallbackMessage(response.status);
    throw new ApiError(response.status, sentence.endsWith('.') ? sentence : `${sentence}.`, data);
  }
  return data;
}

/** Builds a query string from an object, leaving out empty values. */
export function query(params) {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value !== undefined && value !== null && value !== '') search.set(key, value);
  }
  const text = search.toString();
  return text ? `?${text}` : '';
}

/** A key for one checkout, random enough that two never collide. */
export function newIdempotencyKey() {
  if (crypto.randomUUID) return crypto.randomUUID();
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}
