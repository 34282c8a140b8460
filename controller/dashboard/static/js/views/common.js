// views/common.js: pieces several views share.
import { h, link, replace } from '../dom.js';

// breadcrumb links the path of regions (root first) under "All regions";
// with lastIsCurrent the last step is the page itself, not a link.
export function breadcrumb(path, lastIsCurrent) {
  const steps = [{ code: '', name: 'All regions' }, ...path];
  return h('nav', { class: 'breadcrumb', 'aria-label': 'Breadcrumb' },
    h('ol', {}, steps.map((p, i) => {
      const current = lastIsCurrent && i === steps.length - 1;
      return h('li', {}, current
        ? h('span', { 'aria-current': 'page' }, p.name)
        : link(p.code ? `/region/${p.code}` : '/', p.name));
    })));
}

// paged shows a paginated list: load(cursor) returns a page, render(rows)
// a node; a More button fetches the next page.
export async function paged(load, render) {
  const holder = h('div', { class: 'paged' });
  const rows = [];
  const more = async (cursor) => {
    const page = await load(cursor);
    rows.push(...(page.items || []));
    const next = page.next_cursor
      ? h('button', { type: 'button', class: 'more', onclick: () => more(page.next_cursor) },
        `More (${rows.length} of ${page.total})`)
      : null;
    replace(holder, render(rows), next);
  };
  await more(undefined);
  return holder;
}
