// views/village.js: one village (#/village/CODE): its figures, the
// overrides in force and its evidence trail, every row considered.
import { get, enc } from '../api.js';
import { h, int, pct, num, when, link, table, badge, replace } from '../dom.js';
import { classChip, tvColour } from '../palette.js';
import { breadcrumb } from './common.js';

// render fills main with the village code.
export async function render(main, code) {
  const v = await get(`/villages/${enc(code)}`);
  let path = [];
  if (v.parent) {
    const parent = await get(`/regions/${enc(v.parent)}`);
    path = [...(parent.path || []), parent];
  }
  const dl = (pairs) => h('dl', { class: 'facts' }, pairs.map(([k, val, field]) => [
    h('dt', {}, k), h('dd', { 'data-field': field }, val)]));
  replace(main,
    breadcrumb([...path, { code: v.code, name: v.name }], true),
    h('h1', {}, v.name, h('span', { class: 'level' }, ' village'), v.priority ? h('span', { class: 'tag' }, 'priority') : null),
    dl([
      ['Code', v.code, 'code'],
      ['Households', int(v.households), 'households'],
      ['Population', int(v.population), 'population'],
      ['Broadband', classChip(v.broadband), 'broadband'],
      ['Evidence', v.evidence, 'evidence'],
      ['Best service', v.technology ? `${v.technology} ${num(v.down_mbps)}/${num(v.up_mbps)} Mbit/s` : '–', 'service'],
      ['Subscribers online', num(v.subscribers_online), 'subscribers_online'],
      ['Take-up', pct(v.take_up), 'take_up'],
      ['Television', h('span', { class: 'chip' },
        h('span', { class: 'swatch', style: `background:${tvColour(v.tv)}`, 'aria-hidden': 'true' }),
        `${v.tv} (${v.tv_evidence})`), 'tv'],
      ['Voice', `${v.voice ? 'yes' : 'no'} (${v.voice_evidence})`, 'voice'],
      ['Converged', v.converged ? `yes, over ${v.network || 'one network'}` : 'no', 'converged'],
      ['State', [v.outage ? badge('outage') : null, v.stale ? badge('stale') : null,
        !v.outage && !v.stale ? 'normal' : null], 'state'],
      ['Position', `${num(v.lat)}, ${num(v.lon)}`, 'position'],
    ]),
    (v.overrides && v.overrides.length)
      ? h('section', {}, h('h2', {}, 'Overrides in force'), table([
        { key: 'service', label: 'Service' },
        { key: 'class', label: 'Class' },
        { key: 'measured', label: 'Measured', cell: (o) => `${o.measured} (${o.measured_evidence})` },
        { key: 'reason', label: 'Reason' },
        { key: 'until', label: 'Until', cell: (o) => when(o.until) },
        { key: 'line', label: 'overrides.csv line', num: true },
      ], v.overrides))
      : null,
    h('section', { 'aria-label': 'Evidence trail' }, h('h2', {}, 'Evidence trail'),
      table([
        { key: 'used', label: 'Used', cell: (e) => (e.used ? '✔ used' : (e.rejected ? '✘ rejected' : '–')) },
        { key: 'service', label: 'Service' },
        { key: 'source', label: 'Source', cell: (e) => `${e.source} line ${e.line}` },
        { key: 'device', label: 'Device', cell: (e) => (e.device ? link(`/devices/${e.device}`, e.device) : '–') },
        { key: 'port', label: 'Port' },
        { key: 'technology', label: 'Technology' },
        { key: 'figure', label: 'Figure', cell: (e) => (e.figure ? `${e.figure} = ${num(e.value)} ${e.unit || ''}` : '–') },
        { key: 'rate', label: 'Rate', cell: (e) => (e.down_mbps || e.up_mbps ? `${num(e.down_mbps)}/${num(e.up_mbps)}` : '–') },
        { key: 'class', label: 'Class' },
        { key: 'why', label: 'Why', cell: (e) => [e.why, e.rejected].filter(Boolean).join('; ') || '–' },
        { key: 'state', label: 'Device', cell: (e) => (e.state ? badge(e.state) : '–') },
        { key: 'polled_at', label: 'Polled', cell: (e) => when(e.polled_at) },
      ], v.trail || [], { empty: 'No evidence: nothing measured, declared or overridden.', rowKey: (e) => `${e.source}:${e.line}:${e.service}` })),
  );
}
