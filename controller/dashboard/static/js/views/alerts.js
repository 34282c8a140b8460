// views/alerts.js: the live alerts (#/alerts): the open ones, kept up to
// date from the event stream without reloading, with acknowledge for an
// admin, and the recent ones below.
import { get, call, enc } from '../api.js';
import { h, when, ago, link, badge, items, replace } from '../dom.js';

// open holds the open alerts by ID, filled at sign-in and kept by update.
const open = new Map();
let listeners = [];

const SEVERITY = { critical: 0, major: 1, minor: 2, warning: 3, info: 4 };

// isOpen reports whether an alert counts as open.
const isOpen = (a) => a.state !== 'resolved';

// load fetches the open alerts (every page).
export async function load() {
  open.clear();
  let cursor;
  do {
    const page = await get('/alerts', { state: 'open', limit: 1000, cursor });
    for (const a of items(page)) open.set(a.id, a);
    cursor = page.next_cursor;
  } while (cursor);
  changed(null);
}

// update applies an alert from the event stream.
export function update(a) {
  if (!a || !a.id) return;
  if (isOpen(a)) open.set(a.id, a); else open.delete(a.id);
  changed(a);
}

// onChange calls fn(alert|null) after every change; it returns a function
// that stops the calls.
export function onChange(fn) {
  listeners.push(fn);
  return () => { listeners = listeners.filter((f) => f !== fn); };
}

function changed(a) { for (const fn of listeners) fn(a); }

// openCount counts the open alerts not yet acknowledged.
export function openCount() {
  let n = 0;
  for (const a of open.values()) if (!a.ack) n++;
  return n;
}

function sorted() {
  return [...open.values()].sort((a, b) =>
    (SEVERITY[a.severity] ?? 9) - (SEVERITY[b.severity] ?? 9) || String(b.started).localeCompare(String(a.started)));
}

function subjectCell(a) {
  const s = a.subject || {};
  const what = s.type === 'device' ? link(`/devices/${s.id}`, s.id) : s.type === 'site' ? link(`/site/${s.id}`, s.id) : s.id;
  return [`${s.type} `, what, s.site && s.type !== 'site' ? [' at ', link(`/site/${s.site}`, s.site)] : null];
}

function ackCell(a, admin) {
  if (a.ack) {
    return h('span', { class: 'acked' }, `✔ ${a.ack.by} ${when(a.ack.at)}`, a.ack.note ? ` — ${a.ack.note}` : '');
  }
  if (!admin || !isOpen(a)) return '–';
  const note = h('input', { type: 'text', 'aria-label': `Note for ${a.id}`, placeholder: 'note', 'data-ack-note': a.id, maxlength: 1000 });
  const status = h('span', { class: 'ack-status', role: 'status' });
  const btn = h('button', {
    type: 'button', 'data-ack': a.id,
    onclick: async () => {
      btn.disabled = true;
      try {
        update(await call(`/alerts/${enc(a.id)}/ack`, { method: 'POST', body: { note: note.value } }));
      } catch (e) {
        btn.disabled = false;
        status.textContent = e.message;
      }
    },
  }, 'Acknowledge');
  return h('span', { class: 'ack-form' }, note, btn, status);
}

function rows(list, admin) {
  return list.map((a) => h('tr', { 'data-alert': a.id, class: `sev-${a.severity}` },
    h('td', {}, badge(a.severity)),
    h('td', {}, badge(a.state), a.flapping ? ' flapping' : ''),
    h('td', {}, a.kind),
    h('td', {}, subjectCell(a), a.key ? ` (${a.key})` : ''),
    h('td', {}, a.summary || '', a.reason ? h('div', { class: 'reason' }, a.reason) : null),
    h('td', {}, when(a.started), h('span', { class: 'ago' }, ` (${ago(a.started)})`)),
    h('td', { 'data-field': 'ack' }, ackCell(a, admin))));
}

function alertTable(list, admin, empty) {
  if (list.length === 0) return h('p', { class: 'empty' }, empty);
  return h('div', { class: 'table-wrap' }, h('table', {},
    h('thead', {}, h('tr', {}, ['Severity', 'State', 'Kind', 'Subject', 'Summary', 'Started', 'Acknowledged']
      .map((l) => h('th', { scope: 'col' }, l)))),
    h('tbody', {}, rows(list, admin))));
}

// render fills main with the alerts and keeps the open ones live until
// the view changes (the returned function stops it).
export async function render(main, ctx) {
  const admin = ctx.session.role === 'admin';
  const openBox = h('div', { id: 'open-alerts', 'aria-live': 'polite' });
  const recentBox = h('div', { id: 'recent-alerts' });
  const draw = () => replace(openBox, alertTable(sorted(), admin, 'No open alerts.'));
  const recent = await get('/alerts', { state: 'recent', limit: 100 });
  draw();
  replace(recentBox, alertTable(items(recent), false, 'No recent alerts.'));
  replace(main,
    h('h1', {}, 'Alerts'),
    admin ? null : h('p', { class: 'note' }, 'Signed in read-only: acknowledging needs an admin token.'),
    h('section', { 'aria-label': 'Open alerts' }, h('h2', {}, 'Open'), openBox),
    h('section', { 'aria-label': 'Recent alerts' }, h('h2', {}, 'Recent'), recentBox),
  );
  return onChange(draw);
}
