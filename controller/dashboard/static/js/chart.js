// chart.js: SVG line charts of shares (0..1) over time, for the
// convergence and digital-TV series. Each line has its own colour and dash
// pattern, and its points carry their value, so the chart reads without
// colour too.
import { s, h, pct, when } from './dom.js';

const W = 640;
const H = 260;
const M = { l: 44, r: 12, t: 12, b: 34 };

const COLOURS = ['#0072B2', '#D55E00', '#009E73', '#CC79A7', '#E69F00', '#56B4E9', '#000000'];
const DASHES = ['', '6 3', '2 3', '8 3 2 3', '1 2', '10 4', '4 4'];

// lineChart draws series [{name, values: [{t: Date, v: share}]}] and returns
// a figure with its legend; an empty series list gives a short note.
export function lineChart(title, series) {
  const all = series.flatMap((se) => se.values);
  if (all.length === 0) {
    return h('figure', { class: 'chart' }, h('figcaption', {}, title), h('p', { class: 'empty' }, 'No snapshot yet.'));
  }
  let t0 = Math.min(...all.map((p) => p.t.getTime()));
  let t1 = Math.max(...all.map((p) => p.t.getTime()));
  if (t1 === t0) { t0 -= 3600e3; t1 += 3600e3; }
  const x = (t) => M.l + ((t.getTime() - t0) / (t1 - t0)) * (W - M.l - M.r);
  const y = (v) => M.t + (1 - Math.max(0, Math.min(1, v))) * (H - M.t - M.b);
  const svg = s('svg', { viewBox: `0 0 ${W} ${H}`, class: 'chart-svg', role: 'img', 'aria-label': title });
  for (const v of [0, 0.25, 0.5, 0.75, 1]) {
    svg.append(s('line', { x1: M.l, x2: W - M.r, y1: y(v), y2: y(v), class: 'grid' }));
    svg.append(s('text', { x: M.l - 6, y: y(v) + 4, 'text-anchor': 'end', class: 'tick' }, `${v * 100}%`));
  }
  const ticks = 3;
  const fmt = timeFormat(t1 - t0);
  for (let i = 0; i <= ticks; i++) {
    const t = new Date(t0 + ((t1 - t0) * i) / ticks);
    svg.append(s('text', {
      x: x(t), y: H - 10, class: 'tick',
      'text-anchor': i === 0 ? 'start' : i === ticks ? 'end' : 'middle',
    }, fmt(when(t.toISOString()))));
  }
  series.forEach((se, i) => {
    const pts = se.values.slice().sort((a, b) => a.t - b.t);
    const colour = COLOURS[i % COLOURS.length];
    const d = pts.map((p, j) => `${j ? 'L' : 'M'}${x(p.t).toFixed(1)},${y(p.v).toFixed(1)}`).join('');
    svg.append(s('path', { d, fill: 'none', stroke: colour, 'stroke-width': 2, 'stroke-dasharray': DASHES[i % DASHES.length] || null }));
    for (const p of pts) {
      svg.append(s('circle', { cx: x(p.t), cy: y(p.v), r: 2.5, fill: colour },
        s('title', {}, `${se.name} ${when(p.t.toISOString())}: ${pct(p.v)}`)));
    }
  });
  const legend = h('ul', { class: 'chart-legend' }, series.map((se, i) => {
    const last = se.values.length ? se.values[se.values.length - 1].v : null;
    return h('li', {},
      s('svg', { width: 28, height: 10, 'aria-hidden': 'true' },
        s('line', { x1: 0, x2: 28, y1: 5, y2: 5, stroke: COLOURS[i % COLOURS.length], 'stroke-width': 2, 'stroke-dasharray': DASHES[i % DASHES.length] || null })),
      `${se.name}: ${pct(last)}`);
  }));
  return h('figure', { class: 'chart' }, h('figcaption', {}, title), svg, legend);
}

// timeFormat picks the part of "YYYY-MM-DD hh:mm:ss" a time axis of span
// ms needs: seconds for minutes, the hour for days, the day for months.
function timeFormat(span) {
  if (span <= 3 * 3600e3) return (w) => w.slice(11, 19);
  if (span <= 3 * 86400e3) return (w) => w.slice(5, 16);
  return (w) => w.slice(0, 10);
}

// seriesOf turns the /convergence answer into chart series: picks
// (name, value(point)) pairs.
export function seriesOf(points, picks) {
  const ps = (points || []).filter((p) => p && p.time).map((p) => ({ ...p, _t: new Date(p.time) }));
  ps.sort((a, b) => a._t - b._t);
  return picks.map(([name, f]) => ({
    name,
    values: ps.map((p) => ({ t: p._t, v: Number(f(p)) })).filter((q) => Number.isFinite(q.v)),
  }));
}
