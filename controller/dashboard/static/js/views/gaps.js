// views/gaps.js: the gap list (#/gaps, or #/gaps/CODE for a region):
// villages below the top tier, most households first, with the nearest
// site that serves better.
import { get } from '../api.js';
import { h, int, num, link, table, replace } from '../dom.js';
import { classChip } from '../palette.js';
import { paged } from './common.js';

const cols = [
  { key: 'rank', label: '#', num: true, cell: (g) => int(g._rank) },
  { key: 'name', label: 'Village', head: true, cell: (g) => link(`/village/${g.code}`, g.name) },
  { key: 'households', label: 'Households', num: true, cell: (g) => int(g.households) },
  { key: 'population', label: 'Population', num: true, cell: (g) => int(g.population) },
  { key: 'priority', label: 'Priority', cell: (g) => (g.priority ? 'yes' : '') },
  { key: 'broadband', label: 'Broadband', cell: (g) => classChip(g.broadband) },
  { key: 'evidence', label: 'Evidence' },
  { key: 'nearest_site', label: 'Nearest better site', cell: (g) => (g.nearest_site
    ? [link(`/site/${g.nearest_site}`, g.nearest_site_name || g.nearest_site), ` (${g.nearest_site_class})`] : '–') },
  { key: 'distance_km', label: 'Distance km', num: true, cell: (g) => (g.nearest_site ? num(g.distance_km) : '–') },
];

// render fills main with the gaps of region ('' for all).
export async function render(main, region) {
  const list = await paged((cursor) => get('/gaps', { region, limit: 100, cursor }), (rows) => {
    rows.forEach((g, i) => { g._rank = i + 1; });
    return table(cols, rows, { rowKey: (g) => g.code, empty: 'No gaps: every village is in the top tier.' });
  });
  replace(main,
    h('h1', {}, 'Gaps', region ? h('span', { class: 'level' }, ` in ${region}`) : null),
    h('p', {}, 'Villages below the top broadband class, most households first. ',
      link(region ? `/region/${region}` : '/', 'Back to the map')),
    h('section', { 'aria-label': 'Gap list' }, list),
  );
}
