// Talking to the server: the session cookie authenticates (the API key is never in the page); every
// state-changing request carries the session's CSRF token.

let csrfToken = null;
let onSignedOut = () => {};

export class ApiError extends Error {
  constructor(status, body) {
    super(body && typeof body.detail === 'string' ? body.detail : `Request failed (${status})`);
    this.status = status;
    this.body = body;
  }
}

export function setSession(session) {
  csrfToken = session ? session.csrf_token : null;
}

export function whenSignedOut(handler) {
  onSignedOut = handler;
}

export async function request(method, url, body, { signal } = {}) {
  const headers = { Accept: 'application/json' };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (method !== 'GET' && method !== 'HEAD' && csrfToken) headers['X-CSRF-Token'] = csrfToken;
  const response = await fetch(url, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
    credentials: 'same-origin',
    signal,
  });
  const text = await response.text();
  let parsed = null;
  if (text) {
    try { parsed = JSON.parse(text); } catch { parsed = { detail: text }; }
  }
  if (response.status === 401 && !url.startsWith('/console/session')) {
    onSignedOut();
  }
  if (!response.ok) throw new ApiError(response.status, parsed);
  return parsed;
}

export const get = (url, options) => request('GET', url, undefined, options);
export const post = (url, body, options) => request('POST', url, body ?? {}, options);
export const del = (url, options) => request('DELETE', url, undefined, options);

/** Follows a page's `next` link, which the server gives as a full URL: only its path and query are used. */
export function relative(url) {
  if (!url) return null;
  const parsed = new URL(url, window.location.origin);
  return parsed.pathname + parsed.search;
}

/** Every page of a list (for pickers: datasets, projects, slices), up to a limit. */
export async function all(url, limit = 2000) {
  const results = [];
  let next = url;
  while (next && results.length < limit) {
    const page = await get(next);
    results.push(...(page.results ?? []));
    next = relative(page.next);
  }
  return results;
}
