// views/region.js: the map and drill-down view of the nation (#/) or of one
// region (#/region/CODE): its figures, the SVG map, its children with their
// figures (regions, or villages below township), and the convergence and
// digital-TV charts over time.
import { get, enc } from '../api.js';
import { h, int, link, table, items, replace, pct } from '../dom.js';
import { legend, classChip, tierNames, setTiers } from '../palette.js';
import { drawMap } from '../map.js';
import { lineChart, seriesOf } from '../chart.js';
import { figureCards, evidenceLine, regionColumns } from '../figures.js';
import { breadcrumb, paged } from './common.js';

// render fills main with the view of code ('' for the nation): first what
// the region's own answers give (figures, map, children), then, without
// holding the view back, the charts (from the stored snapshots) and the
// boundaries under the map. A part still loading is aria-busy.
export async function render(main, code, ctx) {
  const [region, children, map] = await Promise.all([
    code ? get(`/regions/${enc(code)}`) : Promise.resolve(null),
    get('/regions', { parent: code || undefined }),
    get('/map', { region: code || undefined }),
  ]);
  const kids = items(children);
  const first = region || kids[0];
  if (first && first.all) setTiers(first.all.tiers);
  const title = region ? region.name : 'All regions';
  const mapWrap = h('div', { class: 'map-wrap', id: 'map', 'aria-busy': 'true' },
    drawMap(map, { boundaries: null, code, go: ctx.go }));
  const charts = h('section', { class: 'charts', 'aria-label': 'Over time', 'aria-busy': 'true' },
    h('p', { class: 'empty' }, 'Loading the figures over time…'));
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
  parts.push(h('section', { class: 'map-section', 'aria-label': 'Map' }, mapWrap, legend()));
  if (kids.length > 0) {
    parts.push(h('section', { 'aria-label': 'Regions' },
      h('h2', {}, region ? `In ${region.name}` : 'Regions'),
      table(regionColumns((r) => link(`/region/${r.code}`, r.name)), kids, { rowKey: (r) => r.code })));
  } else if (region) {
    parts.push(await villageList(region));
  }
  parts.push(charts);
  replace(main, parts);

  ctx.boundaries()
    .then((geo) => { if (geo) replace(mapWrap, drawMap(map, { boundaries: geo, code, go: ctx.go })); })
    .catch(() => { /* the map stays without outlines */ })
    .finally(() => mapWrap.removeAttribute('aria-busy'));
  get('/convergence', { region: code || undefined })
    .then((conv) => replace(charts, convergenceCharts((conv && conv.series) || [])))
    .catch((e) => replace(charts, h('p', { class: 'error' }, `Figures over time: ${e.message}`)))
    .finally(() => charts.removeAttribute('aria-busy'));
}

// convergenceCharts draws the series of /convergence.
function convergenceCharts(series) {
  return [
    lineChart('Convergence and broadband', seriesOf(series, [
      ['Converged', (p) => p.converged_share],
      ['Next-gen subscribers', (p) => p.next_gen_share],
      ...tierNames().slice(1).reverse().map((t) => [t, (p) => (p.tiers || {})[t]]),
    ])),
    lineChart('Digital television', seriesOf(series, [
      ['Digital TV households', (p) => p.digital_tv_share],
      ['Analogue-to-digital progress', (p) => p.digital_progress],
    ])),
  ];
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
