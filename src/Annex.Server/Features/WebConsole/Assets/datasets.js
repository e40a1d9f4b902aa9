// Datasets: the list, the item gallery with annotations drawn over each thumbnail, and one item's page.
import { all, get, relative } from './api.js';
import { errorBox, formatDate, formatNumber, h, isColor, labelSwatch, pageHeader, replace, s } from './dom.js';

const PAGE_SIZE = 48;

export async function datasetsPage({ view }) {
  view.append(pageHeader('Datasets'));
  const datasets = await all('/api/v1/datasets/');
  const table = h('table.data', null,
    h('thead', null, h('tr', null, ...['Name', 'Items', 'Type', 'Visibility', 'Created'].map((t) => h('th', { scope: 'col' }, t)))),
    h('tbody', null, ...datasets.map((d) => h('tr', null,
      h('th', { scope: 'row' }, h('a', { href: `#/datasets/${d.uid}` }, d.name)),
      h('td.num', null, formatNumber(d.item_count)),
      h('td', null, d.data_type ?? ''),
      h('td', null, d.visibility ?? ''),
      h('td', null, formatDate(d.created_at))))));
  view.append(datasets.length ? table : h('p.muted', null, 'No datasets yet. Create one with the API or the CLI.'));
}

const thumbnailUrl = (datasetUid, itemUid, size) =>
  `/api/v1/datasets/${encodeURIComponent(datasetUid)}/items/${encodeURIComponent(itemUid)}/thumbnail/?size=${size}`;

function annotationsOf(item) {
  return item.annotations ?? [];
}

function labelOf(annotation) {
  const label = annotation.label;
  return typeof label === 'string' ? label : (label?.name ?? annotation.label_name ?? '');
}

function colorOf(annotation) {
  const color = annotation.color ?? annotation.label?.color ?? annotation.label_color;
  return isColor(color) ? color : '#e8590c';
}

function pointList(value) {
  if (!Array.isArray(value)) return [];
  // [[x, y], ...], [{x, y}, ...] or a flat [x0, y0, x1, y1, ...].
  if (value.length && typeof value[0] === 'number') {
    const pairs = [];
    for (let i = 0; i + 1 < value.length; i += 2) pairs.push([value[i], value[i + 1]]);
    return pairs;
  }
  return value.map((p) => (Array.isArray(p) ? [p[0], p[1], p[2]] : [p.x, p.y, p.visible ?? p.v])).filter((p) => Number.isFinite(p[0]) && Number.isFinite(p[1]));
}

function geometryOf(annotation) {
  return annotation.geometry ?? annotation.coordinates ?? annotation;
}

/** One annotation as SVG in the item's pixel space. */
export function drawAnnotation(annotation, index) {
  const type = String(annotation.type ?? '').toLowerCase();
  const g = geometryOf(annotation);
  const color = colorOf(annotation);
  const label = labelOf(annotation);
  const common = { stroke: color, 'vector-effect': 'non-scaling-stroke', class: 'shape', 'data-label': label, 'data-type': type, 'data-index': String(index) };
  const group = s('g', { class: 'annotation' }, s('title', null, `${label} (${type})`));
  if (type.includes('box') || type === 'rectangle' || type === 'cuboid2d') {
    const x = g.x ?? g.left ?? g.xmin;
    const y = g.y ?? g.top ?? g.ymin;
    const w = g.width ?? (g.xmax - g.xmin);
    const hgt = g.height ?? (g.ymax - g.ymin);
    // Stored boxes turn clockwise (as seen on the image) about their centre by `rotation` radians.
    const degrees = g.rotation_degrees ?? ((g.rotation ?? 0) * 180) / Math.PI;
    const rect = s('rect', { ...common, x, y, width: w, height: hgt, fill: color, 'fill-opacity': '0.12' });
    if (degrees) rect.setAttribute('transform', `rotate(${degrees} ${x + w / 2} ${y + hgt / 2})`);
    group.append(rect);
  } else if (type.includes('polygon') || type === 'segmentation' || type.includes('polyline') || type === 'line') {
    const rings = Array.isArray(g.polygons) ? g.polygons : [g.points ?? g.vertices ?? g];
    for (const ring of rings) {
      const points = pointList(ring).map((p) => `${p[0]},${p[1]}`).join(' ');
      group.append(type.includes('polyline') || type === 'line'
        ? s('polyline', { ...common, points, fill: 'none' })
        : s('polygon', { ...common, points, fill: color, 'fill-opacity': '0.15' }));
    }
  } else if (type.includes('keypoint') || type === 'skeleton' || type === 'pose') {
    const points = pointList(g.points ?? g.keypoints ?? []);
    // The server gives the skeleton as `edges`, 0-based indexes into `points`.
    const skeleton = g.edges ?? g.skeleton ?? annotation.skeleton ?? [];
    const base = g.edges || skeleton.flat().includes(0) ? 0 : 1;
    for (const edge of skeleton) {
      const [a, b] = edge;
      const p = points[a - base];
      const q = points[b - base];
      if (p && q && p[2] !== 0 && p[2] !== false && q[2] !== 0 && q[2] !== false) group.append(s('line', { ...common, x1: p[0], y1: p[1], x2: q[0], y2: q[1] }));
    }
    points.forEach((p, i) => {
      if (p[2] === 0 || p[2] === false) return;
      group.append(s('circle', { ...common, cx: p[0], cy: p[1], r: 3, fill: color, 'data-keypoint': String(i), class: 'shape keypoint' }));
    });
  } else if (type === 'point') {
    group.append(s('circle', { ...common, cx: g.x, cy: g.y, r: 3, fill: color, class: 'shape keypoint' }));
  }
  return group;
}

function externalMedia(item) {
  if (item.media_source && item.media_source !== 'external') return null;
  const url = item.media_url ?? item.url;
  return typeof url === 'string' && /^https?:/i.test(url) && !url.startsWith(window.location.origin) ? url : null;
}

/** An image with its annotations on top: the SVG shares the image's box and aspect ratio, so item pixels line up. */
export function annotatedImage(src, item, alt, { large = false } = {}) {
  const width = item.width;
  const height = item.height;
  const frame = h(`figure.annotated${large ? '.large' : ''}`);
  const img = h('img', { src, alt, loading: 'lazy', decoding: 'async' });
  const placeholder = h('div.placeholder', { hidden: true }, 'Image not reachable');
  // An item whose media is an external URL is shown from there when the server has no thumbnail of it and the
  // browser can reach it; otherwise a placeholder says the image is not reachable.
  const external = externalMedia(item);
  img.addEventListener('error', () => {
    if (external && img.getAttribute('src') !== external) {
      img.setAttribute('src', external);
      return;
    }
    img.hidden = true;
    placeholder.hidden = false;
  });
  frame.append(img, placeholder);
  if (width && height) {
    const svg = s('svg', { class: 'overlay', viewBox: `0 0 ${width} ${height}`, preserveAspectRatio: 'xMidYMid meet', 'aria-hidden': 'true', 'data-width': width, 'data-height': height },
      ...annotationsOf(item).map(drawAnnotation));
    frame.append(svg);
    if (large) {
      img.setAttribute('width', width);
      img.setAttribute('height', height);
    }
  }
  return frame;
}

export async function galleryPage({ view, params, navigate }, datasetUid) {
  const dataset = await get(`/api/v1/datasets/${encodeURIComponent(datasetUid)}/`);
  const filterText = params.get('filter') ?? '';
  const cursor = params.get('cursor');
  view.append(h('p.breadcrumbs', null, h('a', { href: '#/datasets' }, 'Datasets'), ' / '), pageHeader(dataset.name));
  view.append(h('p.muted', null, `${formatNumber(dataset.item_count)} items`));

  const filterInput = h('input#gallery-filter', { type: 'search', value: filterText, spellcheck: 'false', 'aria-describedby': 'gallery-filter-help',
    placeholder: 'e.g. metadata.time = "day"' });
  const form = h('form.filter-bar', { role: 'search', on: { submit: (e) => {
    e.preventDefault();
    navigate(`/datasets/${datasetUid}?filter=${encodeURIComponent(filterInput.value.trim())}`);
  } } },
  h('label', { for: 'gallery-filter' }, 'Filter'), filterInput, h('button', { type: 'submit' }, 'Apply'),
  h('span#gallery-filter-help.help', null, 'The export filter language narrows the items shown.'));
  view.append(form);

  const grid = h('ul.gallery', { 'aria-label': `Items of ${dataset.name}` });
  const pager = h('nav.pager', { 'aria-label': 'Pages' });
  const message = h('div');
  view.append(message, grid, pager);

  const query = new URLSearchParams({ limit: String(PAGE_SIZE) });
  if (filterText) query.set('filter', filterText);
  if (cursor) query.set('cursor', cursor);
  let page;
  try {
    page = await get(`/api/v1/datasets/${encodeURIComponent(datasetUid)}/gallery/?${query}`);
  } catch (error) {
    replace(message, errorBox(error));
    return;
  }
  for (const item of page.results ?? []) {
    const name = item.ref_id ?? item.key ?? item.uid;
    const href = `#/datasets/${datasetUid}/items/${item.uid}`;
    const labels = [...new Set(annotationsOf(item).map(labelOf))];
    grid.append(h('li.tile', { dataset: { uid: item.uid } },
      h('a', { href },
        annotatedImage(item.thumbnail_url ? relative(item.thumbnail_url) : (externalMedia(item) ?? thumbnailUrl(datasetUid, item.uid, 256)), item, ''),
        h('span.tile-name', null, name),
        h('span.tile-count.muted', null, `${annotationsOf(item).length} annotations`,
          labels.length ? h('span.visually-hidden', null, `: ${labels.join(', ')}`) : null))));
  }
  if (!(page.results ?? []).length) grid.append(h('li.muted', null, filterText ? 'No item matches this filter.' : 'No items.'));
  const next = page.next ? new URL(relative(page.next), window.location.origin).searchParams.get('cursor') : null;
  replace(pager,
    cursor ? h('a.button', { href: `#/datasets/${datasetUid}?filter=${encodeURIComponent(filterText)}` }, 'First page') : null,
    next ? h('a.button', { href: `#/datasets/${datasetUid}?filter=${encodeURIComponent(filterText)}&cursor=${encodeURIComponent(next)}`, rel: 'next' }, 'Next') : null);
}

function flattenMetadata(value, prefix = '', rows = []) {
  if (value && typeof value === 'object' && !Array.isArray(value)) {
    for (const [key, inner] of Object.entries(value)) flattenMetadata(inner, prefix ? `${prefix}.${key}` : key, rows);
  } else {
    rows.push([prefix, typeof value === 'string' ? value : JSON.stringify(value)]);
  }
  return rows;
}

export async function itemPage({ view }, datasetUid, itemUid) {
  const [dataset, item] = await Promise.all([
    get(`/api/v1/datasets/${encodeURIComponent(datasetUid)}/`),
    get(`/api/v1/datasets/${encodeURIComponent(datasetUid)}/gallery/${encodeURIComponent(itemUid)}/`),
  ]);
  const name = item.ref_id ?? item.key ?? item.uid;
  view.append(h('p.breadcrumbs', null, h('a', { href: '#/datasets' }, 'Datasets'), ' / ', h('a', { href: `#/datasets/${datasetUid}` }, dataset.name), ' / '), pageHeader(name));
  const external = externalMedia(item);
  // The full image: uploaded media is served by the API (with the session cookie), external media from its address.
  const src = external ?? (item.media_url ? relative(item.media_url) : `/api/v1/datasets/${encodeURIComponent(datasetUid)}/items/${encodeURIComponent(itemUid)}/media/`);
  const layout = h('div.item-layout');
  layout.append(h('div.item-image', null, annotatedImage(src, item, `${name}, ${item.width ?? '?'}×${item.height ?? '?'} pixels`, { large: true }),
    external ? h('p.help', null, 'Shown from its external address: ', h('code', null, external)) : null));

  const side = h('div.item-side');
  side.append(h('h2', null, 'Details'), h('dl.summary', null,
    h('dt', null, 'Size'), h('dd', null, item.width && item.height ? `${item.width} × ${item.height} px` : 'unknown'),
    h('dt', null, 'Uid'), h('dd', null, h('code', null, item.uid))));
  const metadata = flattenMetadata(item.metadata ?? {});
  side.append(h('h2', null, 'Metadata'), metadata.length
    ? h('table.data.compact.metadata', null, h('tbody', null, ...metadata.map(([k, v]) => h('tr', null, h('th', { scope: 'row' }, k), h('td', null, v)))))
    : h('p.muted', null, 'No metadata.'));
  const annotations = annotationsOf(item);
  side.append(h('h2', null, `Annotations (${annotations.length})`), h('ul.annotations', null, ...annotations.map((a) => {
    const attributes = flattenMetadata(a.attributes ?? {});
    return h('li', null, labelSwatch(colorOf(a)), h('strong', null, labelOf(a)), ' ', h('span.tag', null, a.type ?? ''),
      attributes.length ? h('dl.attributes', null, ...attributes.flatMap(([k, v]) => [h('dt', null, k), h('dd', null, v)])) : null);
  })));
  layout.append(side);
  view.append(layout);
}

