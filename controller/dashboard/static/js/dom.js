// dom.js: building elements without innerHTML (every text from the API goes
// through textContent), and the number formats every view shares.

// h builds an element: h('a', {href: '#/x', class: 'y'}, 'text', child...).
// Attributes starting with "on" are event listeners; a null or false
// attribute is left out; children may be strings, nodes, arrays or null.
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  setAttrs(el, attrs);
  append(el, children);
  return el;
}

const SVG_NS = 'http://www.w3.org/2000/svg';

// s builds an SVG element the same way.
export function s(tag, attrs, ...children) {
  const el = document.createElementNS(SVG_NS, tag);
  setAttrs(el, attrs);
  append(el, children);
  return el;
}

function setAttrs(el, attrs) {
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k.startsWith('on') && typeof v === 'function') {
      el.addEventListener(k.slice(2), v);
    } else if (k === 'style') {
      el.style.cssText = String(v); // CSSOM: allowed by a CSP without 'unsafe-inline'
    } else {
      el.setAttribute(k, v === true ? '' : String(v));
    }
  }
}

function append(el, children) {
  for (const c of children.flat(Infinity)) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

// replace empties el and appends children (null and false left out).
export function replace(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

// int formats a count with thousands separators: 1234567 -> "1,234,567".
export function int(n) {
  if (n === null || n === undefined || Number.isNaN(Number(n))) return '–';
  const v = Math.round(Number(n));
  const neg = v < 0;
  let str = String(Math.abs(v));
  let out = '';
  while (str.length > 3) {
    out = ',' + str.slice(-3) + out;
    str = str.slice(0, -3);
  }
  return (neg ? '-' : '') + str + out;
}

// pct formats a share in [0,1] as a percentage with one decimal: 0.4567 -> "45.7%".
export function pct(x) {
  if (x === null || x === undefined || Number.isNaN(Number(x))) return '–';
  return (Number(x) * 100).toFixed(1) + '%';
}

// num formats a figure with at most two decimals.
export function num(x) {
  if (x === null || x === undefined || Number.isNaN(Number(x))) return '–';
  const v = Number(x);
  return Number.isInteger(v) ? int(v) : v.toFixed(2);
}

// when formats a time as "2026-11-29 18:50:03" in the browser's time zone;
// zero and empty times are "–".
export function when(t) {
  if (!t || t.startsWith('0001-')) return '–';
  const d = new Date(t);
  if (Number.isNaN(d.getTime())) return String(t);
  const p = (n) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ` +
    `${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

// ago says how long ago t was, coarsely ("5 s", "3 min", "2 h", "4 d").
export function ago(t, now = Date.now()) {
  if (!t || t.startsWith('0001-')) return '';
  const sec = Math.max(0, Math.round((now - new Date(t).getTime()) / 1000));
  if (sec < 120) return `${sec} s`;
  if (sec < 7200) return `${Math.round(sec / 60)} min`;
  if (sec < 172800) return `${Math.round(sec / 3600)} h`;
  return `${Math.round(sec / 86400)} d`;
}

// link is an anchor to a hash route.
export function link(route, text, attrs = {}) {
  return h('a', { href: '#' + route, ...attrs }, text);
}

// badge shows a state word with a class for its colour and a text that
// does not rely on colour.
export function badge(state) {
  const st = String(state || 'unknown');
  return h('span', { class: `badge state-${st.replace(/[^a-z0-9-]/gi, '')}` }, st);
}

// table builds a table from rows; columns are [{key, label, cell(row), num}].
// Each row gets data-key from rowKey when given.
export function table(columns, rows, { caption, rowKey, empty = 'None.' } = {}) {
  if (!rows || rows.length === 0) return h('p', { class: 'empty' }, empty);
  return h('div', { class: 'table-wrap' },
    h('table', {},
      caption ? h('caption', {}, caption) : null,
      h('thead', {}, h('tr', {}, columns.map((c) => h('th', { scope: 'col', class: c.num ? 'num' : null }, c.label)))),
      h('tbody', {}, rows.map((r) => h('tr', { 'data-key': rowKey ? rowKey(r) : null },
        columns.map((c) => h(c.head ? 'th' : 'td', {
          class: c.num ? 'num' : null,
          'data-field': c.key,
          scope: c.head ? 'row' : null,
        }, c.cell ? c.cell(r) : fmtValue(r[c.key]))))))));
}

// fmtValue renders a scalar of unknown meaning.
export function fmtValue(v) {
  if (v === null || v === undefined || v === '') return '–';
  if (typeof v === 'boolean') return v ? 'yes' : 'no';
  if (typeof v === 'number') return num(v);
  if (typeof v === 'string' && /^\d{4}-\d\d-\d\dT\d\d:\d\d/.test(v)) return when(v);
  if (typeof v === 'object') return JSON.stringify(v);
  return String(v);
}

// scalarColumns lists the columns of the scalar members of the first rows,
// preferred ones first, for objects whose shape the view does not fix.
export function scalarColumns(rows, preferred = [], skip = []) {
  const keys = [];
  const add = (k) => { if (!keys.includes(k) && !skip.includes(k)) keys.push(k); };
  const seen = new Set();
  for (const r of (rows || []).slice(0, 20)) {
    for (const [k, v] of Object.entries(r || {})) {
      if (v === null || typeof v !== 'object') seen.add(k);
    }
  }
  preferred.filter((k) => seen.has(k)).forEach(add);
  [...seen].forEach(add);
  return keys.map((k) => ({ key: k, label: k.replace(/_/g, ' ') }));
}

// items takes the list out of a paginated answer or a plain array.
export function items(answer) {
  if (Array.isArray(answer)) return answer;
  if (!answer) return [];
  for (const k of ['items', 'regions', 'villages', 'devices', 'gateways', 'sites', 'alerts', 'gaps', 'points', 'series', 'windows']) {
    if (Array.isArray(answer[k])) return answer[k];
  }
  return [];
}
