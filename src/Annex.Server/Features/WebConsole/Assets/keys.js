// API keys: the organization's keys, a new key with scopes and expiry (its secret shown once), revocation.
import { all, del, post } from './api.js';
import { badge, describeError, formatDate, h, pageHeader, replace, announce } from './dom.js';

export async function apiKeysPage({ view, session }) {
  view.append(pageHeader('API keys'));
  if (!session.full_access) {
    view.append(h('p.notice', null, 'Managing keys needs a key with full organization access; this one is limited to: ', session.scopes.join(', '), '.'));
    return;
  }
  const created = h('div', { 'aria-live': 'polite' });
  const list = h('div');
  const message = h('div');

  const name = h('input#key-name', { type: 'text', required: true, maxlength: 255, autocomplete: 'off' });
  const scopeBoxes = session.available_scopes.map((scope) => h('input', { type: 'checkbox', id: `scope-${scope}`, value: scope }));
  const expires = h('input#key-expires', { type: 'date', 'aria-describedby': 'key-expires-help' });
  const form = h('form.card', { 'aria-labelledby': 'new-key-title', on: { submit: create } },
    h('h2#new-key-title', null, 'New key'),
    h('div.field', null, h('label', { for: 'key-name' }, 'Name'), name),
    h('fieldset.scopes', null, h('legend', null, 'Scopes (none ticked: full organization access)'),
      h('div.scope-grid', null, ...scopeBoxes.map((box) => h('label', { for: box.id }, box, ' ', box.value)))),
    h('div.field', null, h('label', { for: 'key-expires' }, 'Expires on (optional)'), expires,
      h('p#key-expires-help.help', null, 'The key stops working at the start of this day (UTC).')),
    message,
    h('div.actions', null, h('button.primary', { type: 'submit' }, 'Create key')));
  view.append(created, form, h('h2', null, 'Keys'), list);

  const load = async () => {
    const keys = await all('/api/v1/api-keys/');
    replace(list, h('table.data', null,
      h('thead', null, h('tr', null, ...['Name', 'Prefix', 'Scopes', 'Created', 'Expires', 'State', ''].map((t) => h('th', { scope: 'col' }, t)))),
      h('tbody', null, ...keys.map((k) => {
        const current = k.uid === session.api_key.uid;
        return h('tr', null,
          h('th', { scope: 'row' }, k.name, current ? h('span.muted', null, ' (this session)') : null),
          h('td', null, h('code', null, `${k.prefix}…`)),
          h('td', null, k.scopes.length ? k.scopes.join(', ') : 'full access'),
          h('td', null, formatDate(k.created_at)),
          h('td', null, k.expires_at ? formatDate(k.expires_at) : 'never'),
          h('td', null, badge(k.revoked_at ? 'revoked' : (k.expires_at && new Date(k.expires_at) < new Date() ? 'expired' : 'active'))),
          h('td', null, k.revoked_at || current ? null : h('button.danger.small', { type: 'button', 'aria-label': `Revoke ${k.name}`, on: { click: () => revoke(k) } }, 'Revoke')));
      }))));
  };

  async function revoke(key) {
    if (!window.confirm(`Revoke the key "${key.name}"? Requests with it will be refused from now on.`)) return;
    try {
      await del(`/api/v1/api-keys/${encodeURIComponent(key.uid)}/`);
      announce(`Key ${key.name} revoked`);
      await load();
    } catch (error) {
      replace(message, h('div.error', { role: 'alert' }, describeError(error)));
    }
  }

  async function create(event) {
    event.preventDefault();
    replace(message);
    try {
      const body = {
        name: name.value.trim(),
        scopes: scopeBoxes.filter((b) => b.checked).map((b) => b.value),
        expires_at: expires.value ? `${expires.value}T00:00:00Z` : null,
      };
      const key = await post('/api/v1/api-keys/', body);
      const secret = h('input#new-key-secret', { type: 'text', readonly: true, value: key.key, 'aria-label': 'The new key' });
      const copy = h('button', { type: 'button', on: { click: async () => {
        secret.select();
        try { await navigator.clipboard.writeText(key.key); announce('Copied'); } catch { announce('Select the key and copy it'); }
      } } }, 'Copy');
      replace(created, h('div.card.once', { role: 'alert' },
        h('h2', null, `Key "${key.name}" created`),
        h('p', null, 'Copy it now: it is shown only once and cannot be read again.'),
        h('div.secret', null, secret, copy)));
      form.reset();
      await load();
      secret.focus();
      secret.select();
    } catch (error) {
      replace(message, h('div.error', { role: 'alert' }, describeError(error)));
    }
  }

  await load();
}
