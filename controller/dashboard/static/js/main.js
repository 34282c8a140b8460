// main.js: the dashboard's start, its hash router and the live event
// stream. Routes: #/ (the nation), #/region/CODE, #/village/CODE,
// #/site/ID, #/devices, #/devices/ID, #/alerts, #/gaps, #/gaps/CODE.
import * as api from './api.js';
import { h, replace } from './dom.js';
import { setTiers } from './palette.js';
import * as alerts from './views/alerts.js';
import * as region from './views/region.js';
import * as village from './views/village.js';
import * as network from './views/network.js';
import * as gaps from './views/gaps.js';
import * as signin from './views/signin.js';

const main = document.getElementById('view');
const nav = document.getElementById('nav');
const who = document.getElementById('who');
const live = document.getElementById('live');
const alertCount = document.getElementById('alert-count');
const conn = document.getElementById('conn');
const notice = document.getElementById('notice');

// ctx is what the views share: the session, how to follow a route, and
// the inventory's boundaries (fetched once, on first use).
const ctx = {
  session: null,
  go: (route) => { location.hash = '#' + route; },
  boundaries: () => Promise.resolve(null),
};
let stopView = null;
let stopEvents = null;
let generation = 0;

// parse splits a hash into its route parts and query.
function parse(hash) {
  const raw = hash.replace(/^#/, '') || '/';
  const [path, query] = raw.split('?');
  const parts = path.split('/').filter(Boolean).map(decodeURIComponent);
  return { parts, query: new URLSearchParams(query || '') };
}

// views maps the first part of a route to its view and the nav entry it
// belongs to.
const views = {
  '': { nav: 'map', title: 'Map', run: (el, p) => region.render(el, '', ctx) },
  region: { nav: 'map', title: 'Region', run: (el, p) => region.render(el, p.parts[1] || '', ctx) },
  village: { nav: 'map', title: 'Village', run: (el, p) => village.render(el, p.parts[1]) },
  site: { nav: 'devices', title: 'Site', run: (el, p) => network.renderSite(el, p.parts[1]) },
  devices: {
    nav: 'devices', title: 'Devices',
    run: (el, p) => (p.parts[1] ? network.renderDevice(el, p.parts[1]) : network.render(el, p.query.get('state') || '')),
  },
  alerts: { nav: 'alerts', title: 'Alerts', run: (el) => alerts.render(el, ctx) },
  gaps: { nav: 'gaps', title: 'Gaps', run: (el, p) => gaps.render(el, p.parts[1] || '') },
};

// route renders the view of the current hash.
async function route() {
  if (!ctx.session || !ctx.session.signed_in) return;
  const gen = ++generation;
  if (stopView) { stopView(); stopView = null; }
  const p = parse(location.hash);
  const view = views[p.parts[0] || ''];
  notice.hidden = true; // the view fetches the current figures
  for (const a of nav.querySelectorAll('a')) {
    if (view && a.dataset.nav === view.nav) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
  main.setAttribute('aria-busy', 'true');
  main.removeAttribute('data-ready');
  const el = h('div', { class: 'view' });
  let stop = null;
  try {
    if (!view) throw new Error(`No page at ${location.hash}.`);
    stop = await view.run(el, p);
  } catch (e) {
    if (gen !== generation) return;
    if (e.status === 401) return; // the sign-in form took over
    replace(el, h('h1', {}, view ? view.title : 'Not found'),
      h('p', { class: 'error', role: 'alert' }, errorText(e)));
  }
  if (gen !== generation) {
    if (typeof stop === 'function') stop();
    return;
  }
  stopView = typeof stop === 'function' ? stop : null;
  main.replaceChildren(el);
  main.removeAttribute('aria-busy');
  main.setAttribute('data-ready', p.parts[0] || 'map');
  performance.mark(`ngic:${p.parts[0] || 'map'}`);
  const h1 = main.querySelector('h1');
  document.title = `${h1 ? h1.textContent : 'ngic'} · ngic`;
  if (h1 && document.activeElement && document.activeElement !== document.body && !main.contains(document.activeElement)) {
    h1.setAttribute('tabindex', '-1');
    h1.focus({ preventScroll: true });
  }
}

function errorText(e) {
  if (e instanceof api.ApiError) {
    if (e.status === 503) return `Not available yet: ${e.message}. The figures appear once coverage is computed.`;
    if (e.status === 404) return `Not found: ${e.message}.`;
    if (e.status === 403) return `Not allowed: ${e.message}.`;
    return `The controller answered ${e.status}: ${e.message}.`;
  }
  return `Could not load: ${e.message}`;
}

// announce says something to screen readers and shows it briefly.
function announce(text) {
  live.textContent = text;
}

function drawCount() {
  const n = alerts.openCount();
  alertCount.textContent = String(n);
  alertCount.hidden = n === 0;
  alertCount.setAttribute('aria-label', `${n} open alerts not acknowledged`);
}

// startLive loads the open alerts and opens the event stream.
async function startLive() {
  let wasDown = false;
  await alerts.load();
  stopEvents = api.events({
    alert: alerts.update,
    device: (d) => network.applyState(`device:${d.id}`, d.state, d.since),
    gateway: (g) => network.applyState(`gateway:${g.name}`, g.state, g.since),
    coverage: (c) => {
      const view = parse(location.hash).parts[0] || '';
      if (!['', 'region', 'village', 'gaps'].includes(view)) return;
      replace(notice, `Coverage recomputed. `,
        h('button', { type: 'button', onclick: () => { route(); } }, 'Show the new figures'));
      notice.hidden = false;
      notice.dataset.computed = c.computed || '';
    },
  }, (up) => {
    conn.textContent = up ? 'live' : 'reconnecting';
    conn.className = up ? 'conn up' : 'conn down';
    // Back after a break: what changed meanwhile was not streamed.
    if (up && wasDown) alerts.load().catch(() => {});
    wasDown = !up;
  });
}

// signedIn shows the signed-in chrome and the current route.
async function signedIn(s) {
  ctx.session = s;
  api.setCSRF(s.csrf);
  document.body.classList.remove('signed-out');
  replace(who, `${s.token_name} (${s.role}${s.region ? `, ${s.region}` : ''})`);
  // The summary gives the tiers (the views also take them from their own
  // answers) and says whether there are boundaries. It is asked once the
  // first view has rendered: it counts every device, which takes a while
  // on a national inventory, and nothing on screen needs it first.
  let summaryDone;
  const summary = new Promise((resolve) => { summaryDone = resolve; });
  summary.then((sm) => setTiers(sm.tiers));
  let boundaries = null;
  ctx.boundaries = () => {
    boundaries = boundaries || summary.then((sm) => (sm.boundaries === false ? null
      // A missing file answers 404, which the browser logs.
      : api.get('/boundaries').catch(() => null)));
    return boundaries;
  };
  startLive().catch(() => { /* the stream's state shows in the header */ });
  await route();
  api.get('/summary').catch(() => ({})).then(summaryDone);
}

// signedOut shows the sign-in form.
function signedOut(message) {
  ctx.session = null;
  if (stopEvents) { stopEvents(); stopEvents = null; }
  if (stopView) { stopView(); stopView = null; }
  document.body.classList.add('signed-out');
  replace(who);
  main.removeAttribute('aria-busy');
  signin.render(main, (s) => signedIn(s).catch(fail), message);
  main.setAttribute('data-ready', 'signin');
}

function fail(e) {
  replace(main, h('p', { class: 'error', role: 'alert' }, errorText(e)));
}

document.getElementById('signout').addEventListener('click', async () => {
  try { await api.signOut(); } catch { /* signed out anyway */ }
  signedOut('Signed out.');
});

alerts.onChange((a) => {
  drawCount();
  if (a && a.state === 'firing' && !a.ack) announce(`Alert: ${a.summary || a.kind} (${a.subject && a.subject.id})`);
});
api.onUnauthorized(() => signedOut('Your session ended; sign in again.'));
window.addEventListener('hashchange', () => { route(); });

(async () => {
  const s = await api.session();
  if (s && s.signed_in) await signedIn(s);
  else signedOut();
})().catch(fail);
