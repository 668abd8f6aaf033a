// The API client: JSON in and out, the bearer token, and problems turned into sentences.

const TOKEN_KEY = 'chinook.token';

export class ApiError extends Error {
  constructor(status, message, problem) {
    super(message);
    this.status = status;
    this.problem = problem;
  }
}

export const session = {
  get token() { return localStorage.getItem(TOKEN_KEY); },
  set token(value) {
    if (value) localStorage.setItem(TOKEN_KEY, value);
    else localStorage.removeItem(TOKEN_KEY);
  },
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

/** Calls the API; resolves to the parsed JSON (or null), rejects with an ApiError in words. */
export async function api(path, { method = 'GET', body, headers = {}, auth = true, signal } = {}) {
  const init = { method, headers: { accept: 'application/json', ...headers }, signal };
  if (auth && session.token) init.headers.authorization = `Bearer ${session.token}`;
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
  if (response.status === 204) return null;
  const type = response.headers.get('content-type') || '';
  const data = type.includes('json') ? await response.json().catch(() => null) : null;
  if (!response.ok) {
    if (response.status === 401 && auth && session.token) {
      // The token expired or was revoked: the person is signed out.
      session.token = null;
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
