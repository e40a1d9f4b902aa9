// Webhooks: the list, a new webhook (its signing secret shown once), and each webhook's deliveries.
import { all, del, get, post, relative } from './api.js';
import { badge, describeError, formatDate, h, pageHeader, replace, announce } from './dom.js';

const EVENTS = ['export.completed', 'export.failed'];

export async function webhooksPage({ view, can }) {
  view.append(pageHeader('Webhooks'));
  const created = h('div', { 'aria-live': 'polite' });
  const list = h('div');
  view.append(created);
  if (can('webhooks.write')) {
    const url = h('input#webhook-url', { type: 'url', required: true, placeholder: 'https://example.com/hooks/annex', autocomplete: 'off' });
    const boxes = EVENTS.map((event) => h('input', { type: 'checkbox', id: `event-${event}`, value: event, checked: true }));
    const message = h('div');
    const form = h('form.card', { 'aria-labelledby': 'new-webhook-title', on: { submit: async (e) => {
      e.preventDefault();
      replace(message);
      try {
        const hook = await post('/api/v1/webhooks/', { target_url: url.value.trim(), events: boxes.filter((b) => b.checked).map((b) => b.value) });
        replace(created, h('div.card.once', { role: 'alert' }, h('h2', null, 'Webhook created'),
          h('p', null, 'Its signing secret, shown only once: '), h('code.secret-text', null, hook.secret)));
        form.reset();
        await load();
      } catch (error) {
        replace(message, h('div.error', { role: 'alert' }, describeError(error)));
      }
    } } },
    h('h2#new-webhook-title', null, 'New webhook'),
    h('div.field', null, h('label', { for: 'webhook-url' }, 'Address'), url),
    h('fieldset', null, h('legend', null, 'Events'), ...boxes.map((b) => h('label', { for: b.id }, b, ' ', b.value))),
    message,
    h('div.actions', null, h('button.primary', { type: 'submit' }, 'Create webhook')));
    view.append(form);
  }
  view.append(h('h2', null, 'Webhooks'), list);

  async function load() {
    const hooks = await all('/api/v1/webhooks/');
    replace(list, hooks.length ? h('table.data', null,
      h('thead', null, h('tr', null, ...['Address', 'Events', 'Active', 'Created', ''].map((t) => h('th', { scope: 'col' }, t)))),
      h('tbody', null, ...hooks.map((hook) => h('tr', null,
        h('th', { scope: 'row' }, h('a', { href: `#/webhooks/${hook.uid}` }, hook.target_url)),
        h('td', null, hook.events.join(', ')),
        h('td', null, hook.is_active ? 'yes' : 'no'),
        h('td', null, formatDate(hook.created_at)),
        h('td', null, can('webhooks.write') ? h('button.danger.small', { type: 'button', 'aria-label': `Delete webhook ${hook.target_url}`, on: { click: async () => {
          if (!window.confirm(`Delete the webhook to ${hook.target_url}?`)) return;
          await del(`/api/v1/webhooks/${encodeURIComponent(hook.uid)}/`);
          announce('Webhook deleted');
          await load();
        } } }, 'Delete') : null)))))
      : h('p.muted', null, 'No webhooks yet.'));
  }
  await load();
}

export async function webhookPage({ view, can }, uid) {
  const hook = await get(`/api/v1/webhooks/${encodeURIComponent(uid)}/`);
  view.append(h('p.breadcrumbs', null, h('a', { href: '#/webhooks' }, 'Webhooks'), ' / '), pageHeader(hook.target_url));
  const message = h('div', { 'aria-live': 'polite' });
  const deliveries = h('div');
  view.append(h('dl.summary', null,
    h('dt', null, 'Events'), h('dd', null, hook.events.join(', ')),
    h('dt', null, 'Active'), h('dd', null, hook.is_active ? 'yes' : 'no'),
    h('dt', null, 'Created'), h('dd', null, formatDate(hook.created_at))),
  can('webhooks.write') ? h('div.actions', null, h('button', { type: 'button', on: { click: async () => {
    try {
      const result = await post(`/api/v1/webhooks/${encodeURIComponent(uid)}/test/`);
      replace(message, h('p', null, result.success ? 'Test event delivered.' : 'Test event not delivered: see the deliveries below.'));
    } catch (error) {
      replace(message, h('div.error', { role: 'alert' }, describeError(error)));
    }
    await load();
  } } }, 'Send test event')) : null,
  message, h('h2', null, 'Deliveries'), deliveries);

  let next = null;
  async function load(more = false) {
    const page = await get(more && next ? next : `/api/v1/webhooks/${encodeURIComponent(uid)}/deliveries/`);
    next = relative(page.next);
    const rows = page.results.map((d) => h('tr', null,
      h('th', { scope: 'row' }, d.event),
      h('td', null, badge(d.status)),
      h('td.num', null, String(d.attempts)),
      h('td', null, d.last_status_code ?? '—'),
      h('td', null, d.last_error ?? ''),
      h('td', null, formatDate(d.created_at)),
      h('td', null, d.delivered_at ? formatDate(d.delivered_at) : (d.next_attempt_at ? `retry ${formatDate(d.next_attempt_at)}` : '—'))));
    const table = more ? deliveries.querySelector('tbody') : null;
    if (table) {
      table.append(...rows);
    } else {
      replace(deliveries, page.results.length ? h('table.data', null,
        h('thead', null, h('tr', null, ...['Event', 'Status', 'Attempts', 'HTTP', 'Error', 'Created', 'Delivered'].map((t) => h('th', { scope: 'col' }, t)))),
        h('tbody', null, ...rows)) : h('p.muted', null, 'No deliveries yet.'));
    }
    deliveries.querySelector('.more')?.remove();
    if (next) deliveries.append(h('button.more', { type: 'button', on: { click: () => load(true) } }, 'More deliveries'));
  }
  await load();
}
