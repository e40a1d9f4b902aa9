// A new export: sources picked by name, a format with what it carries, a filter checked by the server's own
// parser as it is typed, and the item and task counts of the preview before anything is created.
import { all, ApiError, get, post } from './api.js';
import { describeError, errorBox, formatNumber, h, pageHeader, replace, announce } from './dom.js';

const PREVIEW_DELAY_MS = 300;

function picker(legend, id, rows, describe) {
  const search = h('input', { type: 'search', id: `${id}-search`, placeholder: `Find ${legend.toLowerCase()} by name`, 'aria-label': `Find ${legend.toLowerCase()} by name` });
  const list = h('ul.pick-list', { id: `${id}-list` });
  const boxes = rows.map((row) => {
    const box = h('input', { type: 'checkbox', id: `${id}-${row.uid}`, value: row.uid, name: id });
    list.append(h('li', { dataset: { name: row.name.toLowerCase() } },
      h('label', { for: `${id}-${row.uid}` }, box, ' ', row.name, h('span.muted', null, ` ${describe(row)}`))));
    return box;
  });
  if (!rows.length) list.append(h('li.muted', null, `No ${legend.toLowerCase()}.`));
  search.addEventListener('input', () => {
    const q = search.value.trim().toLowerCase();
    for (const li of list.children) li.hidden = q.length > 0 && !(li.dataset.name ?? '').includes(q);
  });
  const fieldset = h('fieldset.picker', null, h('legend', null, legend), search, list);
  return { fieldset, selected: () => boxes.filter((b) => b.checked).map((b) => b.value), boxes };
}

export async function createExportPage({ view, can, navigate }) {
  view.append(pageHeader('New export'));
  if (!can('exports.create')) {
    view.append(h('p.error', { role: 'alert' }, 'This API key cannot create exports (it lacks the exports.create scope).'));
    return;
  }
  const [datasets, projects, slices, formats] = await Promise.all([
    all('/api/v1/datasets/').catch(() => []),
    all('/api/v1/projects/').catch(() => []),
    all('/api/v1/slices/').catch(() => []),
    get('/api/v1/exports/formats/'),
  ]);

  const name = h('input#export-name', { type: 'text', required: true, maxlength: 255, autocomplete: 'off' });
  const datasetPicker = picker('Datasets', 'datasets', datasets, (d) => `${formatNumber(d.item_count)} items`);
  const projectPicker = picker('Projects', 'projects', projects, () => 'project');
  const slicePicker = picker('Slices', 'slices', slices, (sl) => `${formatNumber(sl.item_count)} items`);
  const format = h('select#export-format', { 'aria-describedby': 'format-help' },
    ...formats.map((f) => h('option', { value: f.name }, f.name)));
  const formatHelp = h('div#format-help.help');
  const filter = h('textarea#export-filter', { rows: 3, spellcheck: 'false', autocomplete: 'off', 'aria-describedby': 'filter-help filter-check',
    placeholder: 'e.g. metadata.time = "day" and annotations.label in ("car", "truck")' });
  const filterCheck = h('div#filter-check', { 'aria-live': 'polite' });
  const preview = h('section#preview.preview', { 'aria-live': 'polite', 'aria-labelledby': 'preview-title' });
  const message = h('div');
  const submit = h('button.primary', { type: 'submit' }, 'Create export');

  const showFormat = () => {
    const chosen = formats.find((f) => f.name === format.value);
    replace(formatHelp, chosen?.description ?? '', chosen?.annotation_types?.length
      ? h('div.types', null, 'Carries: ', ...chosen.annotation_types.map((t) => h('span.tag', null, t))) : null);
  };
  format.addEventListener('change', showFormat);
  showFormat();

  const form = h('form.create-export', { on: { submit: create }, novalidate: true },
    h('div.field', null, h('label', { for: 'export-name' }, 'Name'), name),
    h('div.sources', null, datasetPicker.fieldset, projectPicker.fieldset, slicePicker.fieldset),
    h('div.field', null, h('label', { for: 'export-format' }, 'Format'), format, formatHelp),
    h('div.field', null,
      h('label', { for: 'export-filter' }, 'Filter (optional)'), filter,
      h('p#filter-help.help', null, 'Only items matching this filter are exported. Checked by the server as you type.'),
      filterCheck),
    preview, message, h('div.actions', null, submit, h('a.button', { href: '#/exports' }, 'Cancel')));
  view.append(form);

  const body = () => ({
    name: name.value.trim() || 'preview',
    format: format.value,
    datasets: datasetPicker.selected(),
    projects: projectPicker.selected(),
    slices: slicePicker.selected(),
    filter_query_string: filter.value.trim() || null,
  });

  let timer = null;
  let generation = 0;
  const schedulePreview = () => {
    clearTimeout(timer);
    timer = setTimeout(runPreview, PREVIEW_DELAY_MS);
  };
  async function runPreview() {
    const request = body();
    const current = ++generation;
    if (!request.datasets.length && !request.projects.length && !request.slices.length) {
      replace(preview, h('p.muted', null, 'Pick at least one dataset, project or slice to see what the export will contain.'));
      replace(filterCheck);
      return;
    }
    replace(preview, h('p.muted', null, 'Counting…'));
    try {
      const counts = await post('/api/v1/exports/preview/', request);
      if (current !== generation) return;
      replace(filterCheck, request.filter_query_string ? h('p.ok', null, '✓ The filter is valid.') : null);
      replace(preview,
        h('h2#preview-title', null, 'This export will contain'),
        h('p.counts', null,
          h('strong#preview-items', null, formatNumber(counts.total_item_count)), ' items · ',
          h('strong#preview-tasks', null, formatNumber(counts.total_task_count)), ' tasks'),
        counts.sources?.length ? h('table.data.compact', null,
          h('thead', null, h('tr', null, ...['Source', 'Type', 'Items', 'Tasks'].map((t) => h('th', { scope: 'col' }, t)))),
          h('tbody', null, ...counts.sources.map((src) => h('tr', null,
            h('th', { scope: 'row' }, src.name), h('td', null, src.type), h('td.num', null, formatNumber(src.item_count)), h('td.num', null, formatNumber(src.task_count)))))) : null);
    } catch (error) {
      if (current !== generation) return;
      showPreviewError(error, request);
    }
  }

  function showPreviewError(error, request) {
    const filterErrors = error instanceof ApiError ? error.body?.filter_query_string : null;
    if (filterErrors) {
      const text = [filterErrors].flat().join(' ');
      const position = Number((text.match(/position (\d+)/) ?? [])[1]);
      replace(filterCheck, h('div.filter-error', { role: 'alert' },
        Number.isFinite(position) && position > 0 ? h('pre.caret', { 'aria-hidden': 'true' },
          request.filter_query_string, '\n', `${' '.repeat(position - 1)}^`) : null,
        h('p#filter-error-text', null, text)));
      replace(preview, h('p.muted', null, 'Fix the filter to see the counts.'));
    } else if (error instanceof ApiError && error.status === 404) {
      replace(preview, h('p.muted', null, 'This server cannot preview exports.'));
    } else {
      replace(filterCheck);
      replace(preview, errorBox(error));
    }
  }

  for (const el of [filter, format]) el.addEventListener('input', schedulePreview);
  for (const box of [...datasetPicker.boxes, ...projectPicker.boxes, ...slicePicker.boxes]) box.addEventListener('change', schedulePreview);
  runPreview();

  async function create(event) {
    event.preventDefault();
    replace(message);
    if (!name.value.trim()) {
      replace(message, h('div.error', { role: 'alert' }, 'Give the export a name.'));
      name.focus();
      return;
    }
    submit.disabled = true;
    try {
      const created = await post('/api/v1/exports/', { ...body(), name: name.value.trim() });
      announce('Export created');
      navigate(`/exports/${created.uid}`);
    } catch (error) {
      replace(message, h('div.error', { role: 'alert' }, describeError(error)));
    } finally {
      submit.disabled = false;
    }
  }
}
