// figures.js: the figures of a region (a coverage Region's subsets) as
// cards and as table columns, formatted once for every view.
import { h, int, pct, num } from './dom.js';
import { classColour, tierNames } from './palette.js';

// tierShare returns the household share of the tier named name in subset.
export function tierShare(subset, name) {
  const t = ((subset && subset.tiers) || []).find((x) => x.name === name);
  return t ? t.share_households : 0;
}

// figureCards shows a subset's main figures.
export function figureCards(region, subsetName = 'all') {
  const sub = region[subsetName] || {};
  const card = (label, value, field, extra) => h('div', { class: 'card', 'data-figure': field },
    h('div', { class: 'card-label' }, label), h('div', { class: 'card-value' }, value), extra || null);
  return h('div', { class: 'cards' },
    card('Villages', int(sub.villages), 'villages'),
    card('Households', int(sub.households), 'households'),
    card('Population', int(sub.population), 'population'),
    tierNames().slice().reverse().map((t) => card(t, pct(tierShare(sub, t)), `tier:${t}`,
      h('div', { class: 'bar', 'aria-hidden': 'true' },
        h('span', { style: `width:${(tierShare(sub, t) * 100).toFixed(1)}%;background:${classColour(t)}` })))),
    card('Digital TV', pct(sub.digital_tv && sub.digital_tv.share_households), 'digital_tv'),
    card('Digital progress', pct(sub.digital_progress), 'digital_progress'),
    card('Converged', pct(sub.converged && sub.converged.share_households), 'converged'),
    card('Voice', pct(sub.voice && sub.voice.share_households), 'voice'),
    card('Next-gen subscribers', pct(sub.next_gen_share), 'next_gen_share'),
    card('Take-up', pct(sub.take_up), 'take_up'),
    card('Subscribers online', num(sub.subscribers_online), 'subscribers_online'),
    card('Villages in outage', int(sub.outage && sub.outage.villages), 'outage'),
  );
}

// evidenceLine says what the broadband classes rest on.
export function evidenceLine(sub) {
  if (!sub) return null;
  const part = (label, s) => `${label} ${int(s && s.villages)} (${pct(s && s.share_households)})`;
  return h('p', { class: 'evidence-line' }, 'Evidence: ',
    [part('measured', sub.measured), part('declared', sub.declared),
      part('override', sub.override), part('none', sub.no_evidence)].join(' · '));
}

// regionColumns are the columns of a table of child regions; the first
// links to the region.
export function regionColumns(linkCell) {
  return [
    { key: 'name', label: 'Region', head: true, cell: linkCell },
    { key: 'level', label: 'Level' },
    { key: 'villages', label: 'Villages', num: true, cell: (r) => int(r.villages) },
    { key: 'households', label: 'Households', num: true, cell: (r) => int(r.households) },
    ...tierNames().slice().reverse().map((t) => ({
      key: `tier:${t}`, label: t, num: true, cell: (r) => pct(tierShare(r.all, t)),
    })),
    { key: 'digital_tv', label: 'Digital TV', num: true, cell: (r) => pct(r.all && r.all.digital_tv.share_households) },
    { key: 'converged', label: 'Converged', num: true, cell: (r) => pct(r.all && r.all.converged.share_households) },
    { key: 'priority_households', label: 'Priority households', num: true, cell: (r) => int(r.priority && r.priority.households) },
  ];
}
