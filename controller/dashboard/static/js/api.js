// api.js: the controller's API under /api/v1, with the session cookie and
// the CSRF token of the session on every state-changing request, and the
// server-sent events stream.

const BASE = '/api/v1';

let csrf = '';
let unauthorized = () => {};

// ApiError is an answer other than 2xx: status and the API's message.
export class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

// onUnauthorized sets what happens on a 401 (the sign-in view).
export function onUnauthorized(fn) { unauthorized = fn; }

// setCSRF keeps the session's CSRF token for the state changes.
export function setCSRF(token) { csrf = token || ''; }

// call sends one request; body is sent as JSON. It returns the decoded
// answer (null for 204) or throws an ApiError.
export async function call(path, { method = 'GET', body, signal } = {}) {
  const headers = { Accept: 'application/json' };
  const opts = { method, headers, credentials: 'same-origin', signal };
  if (body !== undefined) {
    headers['Content-Type'] = 'application/json';
    opts.body = JSON.stringify(body);
  }
  if (method !== 'GET' && method !== 'HEAD') headers['X-CSRF-Token'] = csrf;
  const r = await fetch(BASE + path, opts);
  if (!r.ok) {
    let msg = r.statusText;
    try { msg = (await r.json()).error || msg; } catch { /* not JSON */ }
    if (r.status === 401 && !path.startsWith('/session')) unauthorized();
    throw new ApiError(r.status, msg);
  }
  if (r.status === 204) return null;
  const type = r.headers.get('Content-Type') || '';
  return type.includes('json') ? r.json() : r.text();
}

// get is call for GET with query parameters (empty ones left out).
export function get(path, params = {}, opts = {}) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v !== undefined && v !== null && v !== '') q.set(k, v);
  }
  const qs = q.toString();
  return call(qs ? `${path}?${qs}` : path, opts);
}

// enc encodes one path segment.
export const enc = encodeURIComponent;

// Session calls.
export const session = () => call('/session');
export const signIn = (token) => call('/session', { method: 'POST', body: { token } });
export const signOut = () => call('/session', { method: 'DELETE' });

// events opens the SSE stream and calls handlers[type](data) for the events
// alert, device, gateway and coverage; onState(open) follows the
// connection. It returns a function that closes the stream.
export function events(handlers, onState = () => {}) {
  const es = new EventSource(BASE + '/events', { withCredentials: true });
  for (const type of ['alert', 'device', 'gateway', 'coverage']) {
    es.addEventListener(type, (ev) => {
      let data;
      try { data = JSON.parse(ev.data); } catch { return; }
      if (handlers[type]) handlers[type](data);
    });
  }
  es.onopen = () => onState(true);
  es.onerror = () => onState(false);
  return () => es.close();
}
