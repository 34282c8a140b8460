// map.js: the SVG map of a region. Points come from /api/v1/map: below
// county level one per village (a dot coloured by its broadband class),
// above it one per child region (a pie of its households' class shares).
// The projection is equirectangular, longitudes scaled by the cosine of
// the extent's mid-latitude, fitted to the region's bbox; region
// boundaries from /api/v1/boundaries are drawn under the points.
import { s, int, pct } from './dom.js';
import { classColour, tierNames } from './palette.js';

const W = 800;
const PAD = 24;

// projection returns project([lon, lat]) -> [x, y] and the height for bbox.
export function projection(bbox) {
  let [minLon, minLat, maxLon, maxLat] = bbox;
  if (!(maxLon > minLon)) { minLon -= 0.05; maxLon += 0.05; }
  if (!(maxLat > minLat)) { minLat -= 0.05; maxLat += 0.05; }
  const k = Math.cos(((minLat + maxLat) / 2) * Math.PI / 180);
  const spanX = (maxLon - minLon) * k;
  const spanY = maxLat - minLat;
  // As tall as the extent's shape asks, within 240..560 units.
  const height = Math.max(240, Math.min(560, (spanY / spanX) * (W - 2 * PAD) + 2 * PAD));
  const fit = Math.min((W - 2 * PAD) / spanX, (height - 2 * PAD) / spanY);
  const offX = (W - spanX * fit) / 2;
  const offY = (height - spanY * fit) / 2;
  const project = ([lon, lat]) => [offX + (lon - minLon) * k * fit, offY + (maxLat - lat) * fit];
  return { project, height };
}

// bboxOf returns the extent of the points when the answer gives none.
function bboxOf(points) {
  const b = [Infinity, Infinity, -Infinity, -Infinity];
  for (const p of points) {
    if (!Number.isFinite(p.lat) || !Number.isFinite(p.lon)) continue;
    b[0] = Math.min(b[0], p.lon); b[1] = Math.min(b[1], p.lat);
    b[2] = Math.max(b[2], p.lon); b[3] = Math.max(b[3], p.lat);
  }
  return Number.isFinite(b[0]) ? b : [0, 0, 1, 1];
}

// shares normalises class_shares ({name: share} or [{name, share...}]) to
// a list in tier order.
export function shares(cs) {
  const m = new Map();
  if (Array.isArray(cs)) {
    for (const e of cs) m.set(e.name, Number(e.share_households ?? e.share ?? 0));
  } else if (cs && typeof cs === 'object') {
    for (const [k, v] of Object.entries(cs)) m.set(k, Number(typeof v === 'object' ? (v.share_households ?? v.share) : v) || 0);
  }
  const out = tierNames().map((n) => ({ name: n, share: m.get(n) || 0 }));
  for (const [n, v] of m) if (!tierNames().includes(n)) out.push({ name: n, share: v });
  return out;
}

// pie draws a pie of the shares at (cx, cy) of radius r.
function pie(cx, cy, r, parts) {
  const total = parts.reduce((a, p) => a + p.share, 0);
  const g = s('g', {});
  if (total <= 0) {
    g.append(s('circle', { cx, cy, r, fill: '#ccc', stroke: '#333', 'stroke-width': 0.75 }));
    return g;
  }
  let a0 = -Math.PI / 2;
  for (const p of parts) {
    if (p.share <= 0) continue;
    const frac = p.share / total;
    if (frac >= 0.9999) {
      g.append(s('circle', { cx, cy, r, fill: classColour(p.name) }));
      break;
    }
    const a1 = a0 + frac * 2 * Math.PI;
    const large = a1 - a0 > Math.PI ? 1 : 0;
    const d = `M${cx},${cy} L${cx + r * Math.cos(a0)},${cy + r * Math.sin(a0)} ` +
      `A${r},${r} 0 ${large} 1 ${cx + r * Math.cos(a1)},${cy + r * Math.sin(a1)} Z`;
    g.append(s('path', { d, fill: classColour(p.name) }));
    a0 = a1;
  }
  g.append(s('circle', { cx, cy, r, fill: 'none', stroke: '#222', 'stroke-width': 0.75 }));
  return g;
}

// ringPath turns GeoJSON rings into an SVG path.
function ringPath(rings, project) {
  let d = '';
  for (const ring of rings) {
    ring.forEach((c, i) => {
      const [x, y] = project(c);
      d += `${i ? 'L' : 'M'}${x.toFixed(1)},${y.toFixed(1)}`;
    });
    d += 'Z';
  }
  return d;
}

// featureCode is the region code a GeoJSON feature names.
function featureCode(f) {
  const p = f.properties || {};
  return String(p.code ?? p.id ?? p.region ?? f.id ?? '');
}

// withBoundaries widens bbox to the outlines of the features whose codes
// are in codes (the region shown and its children), so they are not cut.
function withBoundaries(bbox, geo, codes) {
  const b = bbox.slice();
  const walk = (c) => {
    if (typeof c[0] === 'number') {
      b[0] = Math.min(b[0], c[0]); b[1] = Math.min(b[1], c[1]);
      b[2] = Math.max(b[2], c[0]); b[3] = Math.max(b[3], c[1]);
    } else {
      c.forEach(walk);
    }
  };
  for (const f of (geo && geo.features) || []) {
    if (codes.has(featureCode(f)) && f.geometry && Array.isArray(f.geometry.coordinates)) walk(f.geometry.coordinates);
  }
  return b;
}

// boundaryPaths draws the polygons of a GeoJSON FeatureCollection; the
// feature whose properties name code (code, id or region) is marked.
function boundaryPaths(geo, project, code) {
  const g = s('g', { class: 'boundaries', 'aria-hidden': 'true' });
  for (const f of (geo && geo.features) || []) {
    const geom = f.geometry || {};
    let polys = [];
    if (geom.type === 'Polygon') polys = [geom.coordinates];
    else if (geom.type === 'MultiPolygon') polys = geom.coordinates;
    else continue;
    const fcode = featureCode(f);
    const d = polys.map((rings) => ringPath(rings, project)).join('');
    g.append(s('path', { d, class: fcode && fcode === code ? 'boundary current' : 'boundary' }));
  }
  return g;
}

// drawMap returns the SVG of the map answer m; go(route) follows a point.
export function drawMap(m, { boundaries, code, go }) {
  const points = (m && (m.points || m.items)) || [];
  let bbox = (m && Array.isArray(m.bbox) && m.bbox.length === 4) ? m.bbox : bboxOf(points);
  if (boundaries) bbox = withBoundaries(bbox, boundaries, new Set([code, ...points.map((p) => p.code)].filter(Boolean)));
  const { project, height } = projection(bbox);
  const svg = s('svg', {
    viewBox: `0 0 ${W} ${height.toFixed(0)}`, class: 'map', role: 'group',
    'aria-label': `Map: ${points.length} points`,
  });
  svg.append(s('rect', { x: 0, y: 0, width: W, height: height.toFixed(0), class: 'map-bg' }));
  if (boundaries) svg.append(boundaryPaths(boundaries, project, code));
  const maxHH = Math.max(1, ...points.map((p) => Number(p.households) || 0));
  const regional = points.some((p) => p.class_shares !== undefined);
  const rMax = regional ? Math.min(40, Math.max(10, 300 / Math.sqrt(points.length + 1))) : (points.length > 2000 ? 4 : 9);
  const layer = s('g', { class: 'points' });
  // Largest first, so small points stay on top and clickable.
  const order = points.slice().sort((a, b) => (Number(b.households) || 0) - (Number(a.households) || 0));
  for (const p of order) {
    if (!Number.isFinite(p.lat) || !Number.isFinite(p.lon)) continue;
    const [x, y] = project([p.lon, p.lat]);
    const r = Math.max(regional ? 6 : 2.5, rMax * Math.sqrt((Number(p.households) || 0) / maxHH));
    const isRegion = p.class_shares !== undefined;
    const route = isRegion ? `/region/${p.code}` : `/village/${p.code}`;
    const label = isRegion
      ? `${p.name}: ${int(p.households)} households; ` + shares(p.class_shares).map((c) => `${c.name} ${pct(c.share)}`).join(', ')
      : `${p.name}: ${p.class || 'unknown'}, ${int(p.households)} households`;
    const a = s('a', {
      href: '#' + route, class: 'point', 'data-code': p.code, 'aria-label': label,
    }, s('title', {}, label));
    a.append(isRegion
      ? pie(x, y, r, shares(p.class_shares))
      : s('circle', { cx: x, cy: y, r, fill: classColour(p.class), stroke: '#222', 'stroke-width': 0.5 }));
    if (points.length <= 60) {
      a.append(s('text', { x, y: y + r + 12, class: 'point-label', 'text-anchor': 'middle' }, p.name));
    }
    a.addEventListener('click', (ev) => { ev.preventDefault(); go(route); });
    layer.append(a);
  }
  svg.append(layer);
  svg.setAttribute('data-points', String(points.length));
  return svg;
}
