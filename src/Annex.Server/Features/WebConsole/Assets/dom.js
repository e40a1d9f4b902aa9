// Building the page: every piece of data goes in as text (textContent or an attribute value), never as HTML,
// so a label or metadata value like "<script>" or "\"><img onerror=...>" shows as the characters it is.

const SVG_NS = 'http://www.w3.org/2000/svg';

/** h('tag.class#id', {attr: value, on: {click: fn}}, ...children): strings become text nodes. */
export function h(spec, props, ...children) {
  const [tag, ...rest] = spec.split(/(?=[.#])/);
  const el = document.createElement(tag || 'div');
  for (const part of rest) {
    if (part[0] === '.') el.classList.add(part.slice(1));
    else if (part[0] === '#') el.id = part.slice(1);
  }
  applyProps(el, props);
  append(el, children);
  return el;
}

/** The same for SVG elements (the annotation overlays). */
export function s(tag, props, ...children) {
  const el = document.createElementNS(SVG_NS, tag);
  applyProps(el, props);
  append(el, children);
  return el;
}

function applyProps(el, props) {
  if (!props) return;
  for (const [key, value] of Object.entries(props)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === 'on') {
      for (const [event, handler] of Object.entries(value)) el.addEventListener(event, handler);
    } else if (key === 'dataset') {
      Object.assign(el.dataset, value);
    } else if (key === 'text') {
      el.textContent = String(value);
    } else if (key === 'class') {
      el.setAttribute('class', value);
    } else if (key === 'value' && 'value' in el) {
      el.value = value;
    } else if (key === 'checked' || key === 'disabled' || key === 'selected' || key === 'hidden' || key === 'required' || key === 'multiple') {
      el[key] = Boolean(value);
    } else {
      el.setAttribute(key, value === true ? '' : String(value));
    }
  }
}

function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

/** Replaces an element's content. */
export function replace(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

/** Announces a message to screen readers. */
export function announce(message) {
  const status = document.getElementById('status');
  if (status) status.textContent = message;
}

export function formatDate(value) {
  if (!value) return '—';
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? String(value) : date.toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' });
}

export function formatNumber(value) {
  return value === null || value === undefined ? '—' : Number(value).toLocaleString();
}

export function formatDuration(seconds) {
  if (!Number.isFinite(seconds) || seconds < 0) return '—';
  if (seconds < 60) return `${Math.ceil(seconds)} s`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)} min ${Math.round(seconds % 60)} s`;
  return `${Math.floor(seconds / 3600)} h ${Math.round((seconds % 3600) / 60)} min`;
}

/** A heading row for a page: the title and optional actions. */
export function pageHeader(title, ...actions) {
  return h('div.page-header', null, h('h1', { id: 'page-title', tabindex: '-1' }, title), h('div.actions', null, ...actions));
}

/** An error message box for an API error (its detail or its field messages). */
export function errorBox(error) {
  return h('div.error', { role: 'alert' }, describeError(error));
}

export function describeError(error) {
  if (!error) return '';
  const body = error.body;
  if (body && typeof body === 'object') {
    if (typeof body.detail === 'string') return body.detail;
    return Object.entries(body).map(([field, messages]) => `${field}: ${flatten(messages).join(' ')}`).join('\n');
  }
  return error.message || String(error);
}

function flatten(value) {
  if (Array.isArray(value)) return value.flatMap(flatten);
  if (value && typeof value === 'object') return Object.entries(value).flatMap(([k, v]) => flatten(v).map((m) => `${k}: ${m}`));
  return [String(value)];
}

/** A status badge: colour by state, with the word for those who cannot see the colour. */
export function badge(status) {
  return h(`span.badge.status-${String(status).replace(/[^a-z_-]/gi, '')}`, null, String(status));
}

export function labelSwatch(color) {
  const swatch = h('span.swatch', { 'aria-hidden': 'true' });
  if (isColor(color)) swatch.style.backgroundColor = color;
  return swatch;
}

/** Only plain colours reach the page's styles or SVG attributes. */
export function isColor(value) {
  return typeof value === 'string' && /^#[0-9a-f]{3,8}$|^(rgb|hsl)a?\([\d\s.,%]+\)$|^[a-z]{3,20}$/i.test(value);
}
