// Exports: the list with live progress, and one export's detail.
import { all, get, post, relative } from './api.js';
import { badge, describeError, errorBox, formatDate, formatDuration, formatNumber, h, pageHeader, replace, announce } from './dom.js';
import { readReport } from './zip.js';

const POLL_MS = 1000;
const ACTIVE = new Set(['requested', 'exporting']);
let pollTimer = null;

// Progress samples per export, kept across polls so the rate is measured, not guessed.
const samples = new Map();

export function stopExportPolling() {
  if (pollTimer) clearTimeout(pollTimer);
  pollTimer = null;
}

function schedule(fn) {
  stopExportPolling();
  pollTimer = setTimeout(fn, POLL_MS);
}

/** Tasks per second and seconds left from the samples seen for an export. */
function progressOf(exp) {
  const now = Date.now();
  const done = exp.exported_task_count ?? 0;
  const list = samples.get(exp.uid) ?? [];
  if (!list.length || list[list.length - 1].done !== done) list.push({ at: now, done });
  while (list.length > 10) list.shift();
  samples.set(exp.uid, list);
  const first = list[0];
  const last = list[list.length - 1];
  const seconds = (last.at - first.at) / 1000;
  const rate = seconds > 0 ? (last.done - first.done) / seconds : null;
  const total = exp.total_task_count;
  const left = rate && rate > 0 && total != null ? (total - done) / rate : null;
  return { done, total, rate, left };
}

function progressCell(exp) {
  const { done, total, rate, left } = progressOf(exp);
  const cell = h('div.progress-cell');
  if (total == null) {
    cell.append(h('span.muted', null, ACTIVE.has(exp.status) ? 'counting…' : '—'));
    return cell;
  }
  const bar = h('progress', { max: Math.max(total, 1), value: Math.min(done, total), 'aria-label': `${exp.name}: ${done} of ${total} tasks exported` });
  cell.append(bar, h('span.progress-text', null, `${formatNumber(done)} / ${formatNumber(total)} tasks`));
  if (ACTIVE.has(exp.status)) {
    cell.append(h('span.progress-rate', null,
      rate ? `${formatNumber(Math.round(rate))} tasks/s` : 'measuring…',
      ' · ',
      left != null ? `${formatDuration(left)} left` : 'time left unknown'));
  }
  return cell;
}

export async function exportsPage({ view, params, can, navigate }) {
  const ordering = params.get('ordering') || '-created_at';
  const cursor = params.get('cursor');
  const orderSelect = h('select#ordering', { on: { change: () => navigate(`/exports?ordering=${encodeURIComponent(orderSelect.value)}`) } },
    [['-created_at', 'Newest first'], ['created_at', 'Oldest first'], ['name', 'Name A–Z'], ['-name', 'Name Z–A'], ['status', 'Status A–Z'], ['-status', 'Status Z–A']]
      .map(([value, label]) => h('option', { value, selected: value === ordering }, label)));
  view.append(
    pageHeader('Exports',
      h('label.inline', { for: 'ordering' }, 'Order', orderSelect),
      can('exports.create') ? h('a.button.primary', { href: '#/exports/new' }, 'New export') : null));

  const table = h('table.data', { 'aria-describedby': 'page-title' },
    h('thead', null, h('tr', null, ...['Name', 'Status', 'Format', 'Progress', 'Created'].map((t) => h('th', { scope: 'col' }, t)))));
  const body = h('tbody');
  table.append(body);
  const pager = h('nav.pager', { 'aria-label': 'Pages' });
  view.append(table, pager);

  const url = `/api/v1/exports/?ordering=${encodeURIComponent(ordering)}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
  const refresh = async () => {
    let page;
    try {
      page = await get(url);
    } catch (error) {
      view.append(errorBox(error));
      return;
    }
    if (!view.isConnected) return;
    replace(body, ...page.results.map((exp) => h('tr', { dataset: { uid: exp.uid, status: exp.status } },
      h('th', { scope: 'row' }, h('a', { href: `#/exports/${exp.uid}` }, exp.name)),
      h('td', null, badge(exp.status)),
      h('td', null, exp.format),
      h('td', null, progressCell(exp)),
      h('td', null, formatDate(exp.created_at)))));
    if (!page.results.length) body.append(h('tr', null, h('td.empty', { colspan: 5 }, 'No exports yet.')));
    replace(pager,
      page.previous ? h('a.button', { href: pageLink(ordering, page.previous), rel: 'prev' }, 'Previous') : null,
      page.next ? h('a.button', { href: pageLink(ordering, page.next), rel: 'next' }, 'Next') : null);
    if (page.results.some((exp) => ACTIVE.has(exp.status))) schedule(refresh);
  };
  await refresh();
}

function pageLink(ordering, link) {
  const cursor = new URL(relative(link), window.location.origin).searchParams.get('cursor');
  return `#/exports?ordering=${encodeURIComponent(ordering)}&cursor=${encodeURIComponent(cursor ?? '')}`;
}

async function sourceNames() {
  const [datasets, projects, slices] = await Promise.all([
    all('/api/v1/datasets/').catch(() => []),
    all('/api/v1/projects/').catch(() => []),
    all('/api/v1/slices/').catch(() => []),
  ]);
  const names = new Map();
  for (const d of datasets) names.set(d.uid, { name: d.name, href: `#/datasets/${d.uid}` });
  for (const p of projects) names.set(p.uid, { name: p.name, href: `#/projects/${p.uid}` });
  for (const sl of slices) names.set(sl.uid, { name: sl.name, href: null });
  return names;
}

export async function exportDetailPage({ view, can }, uid) {
  const [initial, names] = await Promise.all([get(`/api/v1/exports/${encodeURIComponent(uid)}/`), sourceNames()]);
  const header = h('div');
  const summary = h('dl.summary');
  const actions = h('div.actions');
  const report = h('section.report', { 'aria-labelledby': 'report-title' });
  const message = h('div', { 'aria-live': 'polite' });
  view.append(header, message, actions, summary, report);

  const sourceList = (kind, uids) => uids.length
    ? h('ul.plain', null, ...uids.map((id) => {
      const known = names.get(id);
      return h('li', null, h('span.kind', null, kind), ' ', known?.href ? h('a', { href: known.href }, known.name) : (known?.name ?? id));
    }))
    : null;

  let reportShown = false;
  const draw = (exp) => {
    replace(header, pageHeader(exp.name));
    const sources = [sourceList('dataset', exp.datasets), sourceList('project', exp.projects), sourceList('slice', exp.slices)].filter(Boolean);
    replace(summary,
      h('dt', null, 'Status'), h('dd', null, badge(exp.status)),
      h('dt', null, 'Progress'), h('dd', null, progressCell(exp)),
      h('dt', null, 'Format'), h('dd', null, exp.format),
      h('dt', null, 'Filter'), h('dd', null, exp.filter_query_string ? h('code.filter', null, exp.filter_query_string) : h('span.muted', null, 'none: every item')),
      h('dt', null, 'Sources'), h('dd', null, sources.length ? sources : '—'),
      h('dt', null, 'Created'), h('dd', null, formatDate(exp.created_at)),
      h('dt', null, 'Updated'), h('dd', null, formatDate(exp.updated_at)),
      exp.expires_at ? [h('dt', null, 'Archive kept until'), h('dd', null, formatDate(exp.expires_at))] : null,
      exp.error ? [h('dt', null, 'Failure reason'), h('dd', null, h('pre.error-text', null, exp.error))] : null,
      h('dt', null, 'Uid'), h('dd', null, h('code', null, exp.uid)));
    replace(actions,
      exp.download_url ? h('a.button.primary#download', { href: relative(exp.download_url), download: `${exp.name}.zip` }, 'Download archive') : null,
      ACTIVE.has(exp.status) && can('exports.create') ? h('button.danger#abort', { type: 'button', on: { click: () => abort(exp) } }, 'Abort export') : null);
    if (exp.status === 'exported' && exp.download_url && !reportShown) {
      reportShown = true;
      showReport(report, relative(exp.download_url));
    }
  };

  const abort = async (exp) => {
    if (!window.confirm(`Abort the export "${exp.name}"?`)) return;
    try {
      draw(await post(`/api/v1/exports/${encodeURIComponent(exp.uid)}/abort/`));
      announce('Export aborted');
    } catch (error) {
      replace(message, errorBox(error));
    }
  };

  const refresh = async () => {
    if (!view.isConnected) return;
    let exp;
    try {
      exp = await get(`/api/v1/exports/${encodeURIComponent(uid)}/`);
    } catch (error) {
      replace(message, errorBox(error));
      return;
    }
    const before = view.querySelector('.badge')?.textContent;
    draw(exp);
    if (before && before !== exp.status) announce(`Export ${exp.status}`);
    if (ACTIVE.has(exp.status)) schedule(refresh);
  };
  draw(initial);
  if (ACTIVE.has(initial.status)) schedule(refresh);
}

/** The counts of the archive's export_report.json (formats that write one), read from the archive itself. */
async function showReport(section, url) {
  replace(section, h('h2#report-title', null, 'Export report'), h('p.muted', null, 'Reading export_report.json…'));
  let data;
  try {
    data = await readReport(url);
  } catch (error) {
    replace(section, h('h2#report-title', null, 'Export report'), h('p.muted', null, `Could not read the report: ${describeError(error)}`));
    return;
  }
  if (!data) {
    replace(section, h('h2#report-title', null, 'Export report'), h('p.muted', null, 'This format writes no export_report.json.'));
    return;
  }
  const rows = [];
  const walk = (prefix, value) => {
    if (value && typeof value === 'object' && !Array.isArray(value)) {
      for (const [key, inner] of Object.entries(value)) walk(prefix ? `${prefix}.${key}` : key, inner);
    } else if (typeof value === 'number') {
      rows.push([prefix, value]);
    }
  };
  walk('', data);
  replace(section, h('h2#report-title', null, 'Export report'),
    h('table.data.compact', null,
      h('thead', null, h('tr', null, h('th', { scope: 'col' }, 'Count'), h('th', { scope: 'col' }, 'Value'))),
      h('tbody', null, ...rows.map(([key, value]) => h('tr', null, h('th', { scope: 'row' }, key), h('td.num', null, formatNumber(value)))))));
}
