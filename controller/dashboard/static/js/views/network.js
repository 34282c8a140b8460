// views/network.js: the device and gateway tables (#/devices, filtered by
// state), one device (#/devices/ID), and a site (#/site/ID) with its
// devices, gateways, doors, passages and tags present. Device and gateway
// states follow the live events.
import { get, enc, ApiError } from '../api.js';
import { h, int, num, when, ago, link, table, badge, items, replace } from '../dom.js';
import { breadcrumb, paged } from './common.js';

const deviceCols = [
  { key: 'id', label: 'Device', head: true, cell: (d) => link(`/devices/${d.id}`, d.id) },
  { key: 'site', label: 'Site', cell: (d) => link(`/site/${d.site}`, d.site) },
  { key: 'class', label: 'Class', cell: (d) => d.class || '–' },
  { key: 'state', label: 'State', cell: (d) => badge(d.state) },
  { key: 'since', label: 'Since', cell: (d) => sinceCell(d.since) },
  { key: 'last_poll', label: 'Last poll', cell: (d) => when(d.last_poll) },
  { key: 'last_error', label: 'Last error', cell: (d) => d.last_error || '' },
];

const gatewayCols = [
  { key: 'name', label: 'Gateway', head: true },
  { key: 'site', label: 'Site', cell: (g) => link(`/site/${g.site}`, g.site) },
  { key: 'state', label: 'State', cell: (g) => badge(g.state) },
  { key: 'since', label: 'Since', cell: (g) => sinceCell(g.since) },
  { key: 'last_seen', label: 'Last seen', cell: (g) => when(g.last_seen) },
  { key: 'version', label: 'Version', cell: (g) => g.version || '–' },
  { key: 'readers', label: 'Readers', num: true, cell: (g) => int((g.readers || []).length) },
  { key: 'tags_present', label: 'Tags present', num: true, cell: (g) => int(g.tags_present) },
  { key: 'missing', label: 'Missing', num: true, cell: (g) => int(g.missing) },
];

function sinceCell(t) {
  const rel = ago(t);
  return h('span', { 'data-since': t || '' }, when(t), rel ? h('span', { class: 'ago' }, ` (${rel})`) : null);
}

// render fills main with the device and gateway tables; state filters the
// devices.
export async function render(main, state) {
  const filter = h('label', {}, 'Devices in state ',
    h('select', {
      onchange: (ev) => { location.hash = ev.target.value ? `#/devices?state=${ev.target.value}` : '#/devices'; },
    }, ['', 'up', 'down', 'auth-failed', 'unknown'].map((s) => h('option', { value: s, selected: s === (state || '') }, s || 'any'))));
  const [devs, gws] = await Promise.all([
    paged((cursor) => get('/devices', { state, limit: 200, cursor }),
      (rows) => table(deviceCols, rows, { rowKey: (d) => `device:${d.id}`, empty: 'No devices.' })),
    paged((cursor) => get('/gateways', { limit: 200, cursor }),
      (rows) => table(gatewayCols, rows, { rowKey: (g) => `gateway:${g.name}`, empty: 'No gateways.' })),
  ]);
  replace(main,
    h('h1', {}, 'Devices and gateways'),
    h('section', { 'aria-label': 'Devices' }, h('h2', {}, 'Devices'), filter, devs),
    h('section', { 'aria-label': 'Gateways' }, h('h2', {}, 'Gateways'), gws),
  );
}

// renderDevice fills main with one device, its latest figures and history.
export async function renderDevice(main, id) {
  const d = await get(`/devices/${enc(id)}`);
  const hist = (d.history || []).slice(-20).reverse();
  replace(main,
    h('nav', { class: 'breadcrumb', 'aria-label': 'Breadcrumb' }, h('ol', {},
      h('li', {}, link('/devices', 'Devices')), h('li', {}, link(`/site/${d.site}`, d.site)),
      h('li', {}, h('span', { 'aria-current': 'page' }, d.id)))),
    h('h1', {}, d.id, ' ', badge(d.state)),
    table(deviceCols.concat([
      { key: 'target', label: 'Target' },
      { key: 'polls', label: 'Polls', num: true },
      { key: 'failures', label: 'Failures', num: true },
    ]), [d], { rowKey: (x) => `device:${x.id}` }),
    h('h2', {}, 'Recent samples'),
    table([
      { key: 'time', label: 'Time', cell: (s) => when(s.time) },
      { key: 'in_bps', label: 'In bit/s', num: true, cell: (s) => num(s.in_bps) },
      { key: 'out_bps', label: 'Out bit/s', num: true, cell: (s) => num(s.out_bps) },
      { key: 'if_up', label: 'Interfaces up', num: true, cell: (s) => `${int(s.if_up)} / ${int(s.if_total)}` },
      { key: 'onts_online', label: 'ONTs online', num: true },
      { key: 'modems_online', label: 'Modems online', num: true },
      { key: 'dsl_showtime', label: 'DSL showtime', num: true },
    ], hist, { empty: 'No samples yet.' }),
  );
}

// renderSite fills main with one site.
export async function renderSite(main, id) {
  const site = await get(`/sites/${enc(id)}`);
  let path = [{ code: site.region, name: site.region }];
  try {
    const r = await get(`/regions/${enc(site.region)}`);
    path = [...(r.path || []), r];
  } catch (e) {
    if (!(e instanceof ApiError)) throw e; // a site outside the regions: its code
  }
  const tags = (site.readers || []).flatMap((r) => (r.tags || []).map((t) => ({ ...t, gateway: r.gateway, reader: r.reader })));
  replace(main,
    breadcrumb([...path, { code: site.id, name: site.name }], true),
    h('h1', {}, site.name, h('span', { class: 'level' }, ` ${site.kind || 'site'} ${site.id}`)),
    h('p', {}, `${int(site.devices)} devices (${int(site.devices_down)} not up), ` +
      `${int(site.gateways)} gateways (${int(site.gateways_offline)} offline), ${int(site.tags_present)} tags present; ` +
      `at ${num(site.lat)}, ${num(site.lon)}.`),
    h('section', { 'aria-label': 'Devices' }, h('h2', {}, 'Devices'),
      table(deviceCols, items(site.device_list), { rowKey: (d) => `device:${d.id}`, empty: 'No devices.' })),
    h('section', { 'aria-label': 'Gateways' }, h('h2', {}, 'Gateways'),
      table(gatewayCols, items(site.gateway_list), { rowKey: (g) => `gateway:${g.name}`, empty: 'No gateways.' })),
    h('section', { 'aria-label': 'Doors' }, h('h2', {}, 'Doors'),
      table([
        { key: 'gateway', label: 'Gateway' }, { key: 'sensor', label: 'Sensor' },
        { key: 'state', label: 'State', cell: (d) => badge(d.state) }, { key: 'since', label: 'Since', cell: (d) => sinceCell(d.since) },
      ], site.doors || [], { empty: 'No doors.' })),
    h('section', { 'aria-label': 'Passages' }, h('h2', {}, 'Passages'),
      table([
        { key: 'gateway', label: 'Gateway' }, { key: 'pair', label: 'Pair' },
        { key: 'in', label: 'In', num: true }, { key: 'out', label: 'Out', num: true },
        { key: 'last', label: 'Last', cell: (p) => when(p.last) },
      ], site.passages || [], { empty: 'No passages.' })),
    h('section', { 'aria-label': 'Tags present' }, h('h2', {}, `Tags present (${int(tags.length)})`),
      table([
        { key: 'id', label: 'Tag', head: true }, { key: 'gateway', label: 'Gateway' }, { key: 'reader', label: 'Reader' },
        { key: 'protocol', label: 'Protocol' }, { key: 'antenna', label: 'Antenna', num: true },
        { key: 'rssi', label: 'RSSI', num: true }, { key: 'first_seen', label: 'First seen', cell: (t) => when(t.first_seen) },
        { key: 'time', label: 'Last read', cell: (t) => when(t.time) },
      ], tags, { empty: 'No tags present.' })),
  );
}

// applyState updates the rows of a device or gateway shown on the page
// from a live event: key is "device:ID" or "gateway:NAME".
export function applyState(key, state, since) {
  for (const row of document.querySelectorAll(`tr[data-key="${CSS.escape(key)}"]`)) {
    const st = row.querySelector('[data-field="state"]');
    if (st) st.replaceChildren(badge(state));
    const sn = row.querySelector('[data-field="since"]');
    if (sn) sn.replaceChildren(sinceCell(since));
  }
}
