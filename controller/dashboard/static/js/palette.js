// palette.js: the colours of the broadband classes (the coverage tiers,
// ascending), from the Okabe-Ito set that readers with any common colour
// vision deficiency tell apart, and the legend that names them.
import { h } from './dom.js';

const VERMILLION = '#D55E00';
const ORANGE = '#E69F00';
const YELLOW = '#F0E442';
const SKY = '#56B4E9';
const BLUE = '#0072B2';
const INDIGO = '#332288';
const GREEN = '#009E73';
const PURPLE = '#CC79A7';

// Ramps from worst to best class, by number of tiers.
const RAMPS = {
  1: [BLUE],
  2: [VERMILLION, BLUE],
  3: [VERMILLION, ORANGE, BLUE],
  4: [VERMILLION, ORANGE, SKY, BLUE],
  5: [VERMILLION, ORANGE, YELLOW, SKY, BLUE],
  6: [VERMILLION, ORANGE, YELLOW, SKY, BLUE, INDIGO],
};
const EXTRA = [GREEN, PURPLE, '#999999'];

// UNKNOWN colours a class the tiers do not name.
export const UNKNOWN = '#8c8c8c';

let tiers = ['unserved', 'underserved', 'served'];

// setTiers sets the tier names, ascending (from the summary).
export function setTiers(names) {
  if (Array.isArray(names) && names.length > 0) tiers = names.map((t) => (typeof t === 'string' ? t : t.name));
}

// tierNames returns the tier names, ascending.
export function tierNames() { return tiers.slice(); }

// classColour returns the colour of the tier named name.
export function classColour(name) {
  const i = tiers.indexOf(name);
  if (i < 0) return UNKNOWN;
  const ramp = RAMPS[Math.min(tiers.length, 6)];
  return i < ramp.length ? ramp[i] : EXTRA[(i - ramp.length) % EXTRA.length];
}

// TV classes.
const TV = { digital: BLUE, analogue: ORANGE, none: UNKNOWN };

// tvColour returns the colour of a TV class.
export function tvColour(name) { return TV[name] || UNKNOWN; }

// legend lists the classes with their swatches (best first).
export function legend(title = 'Broadband class') {
  return h('figure', { class: 'legend', 'aria-label': title },
    h('figcaption', {}, title),
    h('ul', {}, tiers.slice().reverse().map((t) => h('li', {},
      h('span', { class: 'swatch', style: `background:${classColour(t)}`, 'aria-hidden': 'true' }), t))));
}

// classChip shows a class name beside its colour.
export function classChip(name) {
  return h('span', { class: 'chip' },
    h('span', { class: 'swatch', style: `background:${classColour(name)}`, 'aria-hidden': 'true' }), name || '–');
}
