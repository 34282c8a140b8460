// views/region.js: the map and drill-down view of the nation (#/) or of one
// region (#/region/CODE): its figures, the SVG map, its children with their
// figures (regions, or villages below township), and the convergence and
// digital-TV charts over time.
import { get, enc, ApiError } from '../api.js';
import { h, int, pct, link, table, items } from '../dom.js';
import { legend, classChip, tierNames } from '../palette.js';
import { drawMap } from '../map.js';
import { lineChart, seriesOf } from '../chart.js';
import { figureCards, evidenceLine, regionColumns } from '../figures.js';
import { breadcrumb, paged } from './common.js';

let boundaries; // undefined: not fetched; null: none

async function loadBoundaries() {
  if (boundaries !== undefined) return boundaries;
  try {
    boundaries = await get('/boundaries');
  } catch (e) {
    if (!(e instanceof ApiError)) throw e;
    boundaries = null;
  }
  return boundaries;
}

// render fills main with the view of code ('' for the nation).
export async function render(main, code, ctx) {
  const regionP = code ? get(`/regions/${enc(code)}`) : Promise.resolve(null);
  const [region, children, map, conv, geo] = await Promise.all([
    regionP,
    get('/regions', { parent: code || undefined }),
    get('/map', { region: code || undefined }),
    get('/convergence', { region: code || undefined }),
    ctx.boundaries ? loadBoundaries() : Promise.resolve(null),
  ]);
  const kids = items(children);
  const title = region ? region.name : 'All regions';
  const mapEl = drawMap(map, { boundaries: geo, code, go: ctx.go });
  const parts = [
    breadcrumb(region ? [...(region.path || []), region] : [], true),
    h('h1', {}, title, region ? h('span', { class: 'level' }, ` ${region.level}`) : null),
  ];
  if (region) {
    parts.push(figureCards(region), evidenceLine(region.all));
    if (region.priority && region.priority.villages > 0) {
      parts.push(h('details', { class: 'priority' },
        h('summary', {}, `Priority villages (${int(region.priority.villages)})`),
        figureCards(region, 'priority')));
    }
  } else if (kids.length === 0) {
    parts.push(h('p', { class: 'empty' }, 'The inventory has no regions.'));
  }
  parts.push(h('section', { class: 'map-section', 'aria-label': 'Map' },
    h('div', { class: 'map-wrap', id: 'map' }, mapEl), legend()));
  if (kids.length > 0) {
    parts.push(h('section', { 'aria-label': 'Regions' },
      h('h2', {}, region ? `In ${region.name}` : 'Regions'),
      table(regionColumns((r) => link(`/region/${r.code}`, r.name)), kids, { rowKey: (r) => r.code })));
  } else if (region) {
    parts.push(await villageList(region));
  }
  const series = (conv && conv.series) || [];
  parts.push(h('section', { class: 'charts', 'aria-label': 'Over time' },
    lineChart('Convergence and broadband', seriesOf(series, [
      ['Converged', (p) => p.converged_share],
      ['Next-gen subscribers', (p) => p.next_gen_share],
      ...tierNames().slice(1).reverse().map((t) => [t, (p) => (p.tiers || {})[t]]),
    ])),
    lineChart('Digital television', seriesOf(series, [
      ['Digital TV households', (p) => p.digital_tv_share],
      ['Analogue-to-digital progress', (p) => p.digital_progress],
    ]))));
  main.replaceChildren(...parts.filter(Boolean));
}

// villageList shows a township's villages, a page at a time.
async function villageList(region) {
  const cols = [
    { key: 'name', label: 'Village', head: true, cell: (v) => link(`/village/${v.code}`, v.name) },
    { key: 'households', label: 'Households', num: true, cell: (v) => int(v.households) },
    { key: 'broadband', label: 'Broadband', cell: (v) => classChip(v.broadband) },
    { key: 'evidence', label: 'Evidence' },
    { key: 'tv', label: 'TV' },
    { key: 'converged', label: 'Converged', cell: (v) => (v.converged ? 'yes' : 'no') },
    { key: 'take_up', label: 'Take-up', num: true, cell: (v) => pct(v.take_up) },
    { key: 'priority', label: 'Priority', cell: (v) => (v.priority ? 'yes' : '') },
  ];
  return h('section', { 'aria-label': 'Villages' },
    h('h2', {}, `Villages of ${region.name}`),
    await paged((cursor) => get('/villages', { region: region.code, limit: 200, cursor }),
      (rows) => table(cols, rows, { rowKey: (v) => v.code, empty: 'No villages.' })));
}
