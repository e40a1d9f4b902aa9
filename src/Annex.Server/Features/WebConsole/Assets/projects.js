// Projects: the list and one project's taxonomy (labels with colours, attributes, keypoints and skeleton).
import { all, get } from './api.js';
import { formatDate, h, labelSwatch, pageHeader, s, isColor } from './dom.js';

export async function projectsPage({ view }) {
  view.append(pageHeader('Projects'));
  const projects = await all('/api/v1/projects/');
  if (!projects.length) {
    view.append(h('p.muted', null, 'No projects yet.'));
    return;
  }
  view.append(h('table.data', null,
    h('thead', null, h('tr', null, ...['Name', 'Labels', 'Status', 'Created'].map((t) => h('th', { scope: 'col' }, t)))),
    h('tbody', null, ...projects.map((p) => h('tr', null,
      h('th', { scope: 'row' }, h('a', { href: `#/projects/${p.uid}` }, p.name)),
      h('td', null, h('span.label-chips', null, ...(p.labels ?? []).slice(0, 8).map((l) => h('span.chip', null, labelSwatch(l.color), l.name)),
        (p.labels ?? []).length > 8 ? h('span.muted', null, ` +${p.labels.length - 8}`) : null)),
      h('td', null, p.status ?? ''),
      h('td', null, formatDate(p.created_at)))))));
}

/** A small drawing of a skeleton: keypoints on a circle, joined by the skeleton's edges. */
function skeletonDrawing(label) {
  const keypoints = label.keypoints ?? [];
  const size = 160;
  const r = 60;
  const at = (i) => [size / 2 + r * Math.cos((2 * Math.PI * i) / keypoints.length - Math.PI / 2), size / 2 + r * Math.sin((2 * Math.PI * i) / keypoints.length - Math.PI / 2)];
  const color = isColor(label.color) ? label.color : '#868e96';
  const edges = label.skeleton ?? [];
  const base = edges.flat().includes(0) ? 0 : 1;
  return s('svg', { class: 'skeleton', viewBox: `0 0 ${size} ${size}`, width: size, height: size, role: 'img', 'aria-label': `Skeleton of ${label.name}` },
    ...edges.map(([a, b]) => {
      const p = at(a - base);
      const q = at(b - base);
      return s('line', { x1: p[0], y1: p[1], x2: q[0], y2: q[1], stroke: color, 'stroke-width': 2 });
    }),
    ...keypoints.map((k, i) => {
      const [x, y] = at(i);
      return s('g', null, s('circle', { cx: x, cy: y, r: 4, fill: color }), s('text', { x: x + 6, y: y - 6, class: 'kp-name' }, k));
    }));
}

export async function projectPage({ view }, uid) {
  const project = await get(`/api/v1/projects/${encodeURIComponent(uid)}/`);
  view.append(h('p.breadcrumbs', null, h('a', { href: '#/projects' }, 'Projects'), ' / '), pageHeader(project.name));
  const labels = project.labels ?? [];
  view.append(h('h2', null, `Taxonomy (${labels.length} labels)`));
  view.append(h('ul.taxonomy', null, ...labels.map((label) => h('li.label-card', null,
    h('h3', null, labelSwatch(label.color), label.name, h('code.muted', null, ` ${label.color ?? ''}`)),
    (label.attributes ?? []).length ? h('div', null, h('h4', null, 'Attributes'),
      h('ul.plain', null, ...label.attributes.map((a) => h('li', null, typeof a === 'string' ? a : (a.name ?? JSON.stringify(a)),
        a && typeof a === 'object' && a.type ? h('span.tag', null, a.type) : null,
        a && typeof a === 'object' && Array.isArray(a.options ?? a.values) ? h('span.muted', null, ` ${(a.options ?? a.values).join(', ')}`) : null)))) : null,
    (label.keypoints ?? []).length ? h('div.keypoints', null,
      h('h4', null, `Keypoints (${label.keypoints.length})`),
      h('ol', null, ...label.keypoints.map((k) => h('li', null, k))),
      (label.skeleton ?? []).length ? h('div', null, h('h4', null, 'Skeleton'), skeletonDrawing(label),
        h('p.muted', null, label.skeleton.map(([a, b]) => `${a}–${b}`).join(', '))) : null) : null))));
}
