// The console's shell: sign-in, the navigation and a hash router (#/exports, #/datasets/<uid>, ...), so the
// server only ever serves one page.
import { ApiError, del, get, post, setSession, whenSignedOut } from './api.js';
import { announce, errorBox, h, replace } from './dom.js';
import { exportsPage, exportDetailPage, stopExportPolling } from './exports.js';
import { createExportPage } from './export-create.js';
import { datasetsPage, galleryPage, itemPage } from './datasets.js';
import { projectsPage, projectPage } from './projects.js';
import { apiKeysPage } from './keys.js';
import { webhooksPage, webhookPage } from './webhooks.js';

const main = document.getElementById('main');
const topbar = document.getElementById('topbar');
let session = null;

const routes = [
  [/^\/exports\/new$/, () => createExportPage],
  [/^\/exports\/([^/]+)$/, (m) => (ctx) => exportDetailPage(ctx, m[1])],
  [/^\/exports$/, () => exportsPage],
  [/^\/datasets\/([^/]+)\/items\/([^/]+)$/, (m) => (ctx) => itemPage(ctx, m[1], m[2])],
  [/^\/datasets\/([^/]+)$/, (m) => (ctx) => galleryPage(ctx, m[1])],
  [/^\/datasets$/, () => datasetsPage],
  [/^\/projects\/([^/]+)$/, (m) => (ctx) => projectPage(ctx, m[1])],
  [/^\/projects$/, () => projectsPage],
  [/^\/api-keys$/, () => apiKeysPage],
  [/^\/webhooks\/([^/]+)$/, (m) => (ctx) => webhookPage(ctx, m[1])],
  [/^\/webhooks$/, () => webhooksPage],
];

/** What the signed-in key may do: no scopes means full access. */
function can(scope) {
  return session && (session.full_access || session.scopes.includes(scope));
}

function currentPath() {
  const hash = window.location.hash.replace(/^#/, '');
  const [path, query] = hash.split('?');
  return { path: path || '/exports', params: new URLSearchParams(query ?? '') };
}

async function render() {
  stopExportPolling();
  if (!session) {
    renderSignIn();
    return;
  }
  const { path, params } = currentPath();
  const match = routes.map(([pattern, page]) => [path.match(pattern), page]).find(([m]) => m);
  const section = path.split('/')[1];
  for (const link of document.querySelectorAll('#nav a')) {
    if (link.dataset.section === section) link.setAttribute('aria-current', 'page');
    else link.removeAttribute('aria-current');
  }
  const view = h('div.view');
  replace(main, view);
  if (!match) {
    replace(view, h('h1', null, 'Not found'), h('p', null, 'No page here. ', h('a', { href: '#/exports' }, 'Go to exports')));
    return;
  }
  const page = match[1](match[0]);
  try {
    await page({ view, params, can, session, navigate });
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) return;
    view.append(errorBox(error));
  }
  const title = view.querySelector('h1');
  if (title) {
    document.title = `${title.textContent} · Annex`;
    announce(title.textContent);
  }
}

function navigate(path) {
  window.location.hash = `#${path}`;
}

function renderSignIn() {
  topbar.hidden = true;
  document.title = 'Sign in · Annex';
  const input = h('input#api-key', { type: 'password', name: 'api_key', autocomplete: 'off', required: true, 'aria-describedby': 'api-key-help' });
  const message = h('div', { 'aria-live': 'assertive' });
  const form = h('form.sign-in', { 'aria-labelledby': 'sign-in-title', on: { submit: signIn } },
    h('img', { src: '/console/assets/icon.svg', alt: '', width: 48, height: 48 }),
    h('h1#sign-in-title', null, 'Sign in to Annex'),
    h('label', { for: 'api-key' }, 'API key'),
    input,
    h('p#api-key-help.help', null, 'The console acts with this key\'s organization and scopes. The key is exchanged for a session cookie and not kept in the browser.'),
    message,
    h('button.primary', { type: 'submit' }, 'Sign in'));
  replace(main, h('div.sign-in-page', null, form));
  input.focus();

  async function signIn(event) {
    event.preventDefault();
    replace(message);
    try {
      const created = await post('/console/session', { api_key: input.value.trim() });
      input.value = '';
      await startSession(created);
    } catch (error) {
      const detail = error.body?.api_key?.join(' ') ?? error.message;
      replace(message, h('div.error', { role: 'alert' }, detail));
      input.focus();
    }
  }
}

async function startSession(created) {
  session = created;
  setSession(session);
  topbar.hidden = false;
  const who = document.getElementById('who');
  replace(who, h('strong', null, session.organization.name), ' · ', session.api_key.name,
    session.full_access ? '' : h('span.scope-note', { title: session.scopes.join(', ') }, ' (limited key)'));
  await render();
  document.getElementById('page-title')?.focus();
}

async function signOut() {
  try {
    await del('/console/session');
  } catch {
    // Already gone on the server: the page forgets it all the same.
  }
  session = null;
  setSession(null);
  window.location.hash = '#/exports';
  renderSignIn();
  announce('Signed out');
}

function applyTheme(theme) {
  document.documentElement.dataset.theme = theme;
  const button = document.getElementById('theme');
  button.textContent = theme === 'dark' ? 'Light theme' : 'Dark theme';
}

function initTheme() {
  const stored = window.localStorage.getItem('annex-theme');
  const preferred = window.matchMedia('(prefers-color-scheme: dark)').matches ? 'dark' : 'light';
  applyTheme(stored === 'dark' || stored === 'light' ? stored : preferred);
  document.getElementById('theme').addEventListener('click', () => {
    const next = document.documentElement.dataset.theme === 'dark' ? 'light' : 'dark';
    window.localStorage.setItem('annex-theme', next);
    applyTheme(next);
  });
}

async function start() {
  initTheme();
  document.getElementById('sign-out').addEventListener('click', signOut);
  whenSignedOut(() => {
    if (session) {
      session = null;
      setSession(null);
      renderSignIn();
      announce('Your session ended. Sign in again.');
    }
  });
  window.addEventListener('hashchange', () => {
    render().then(() => document.getElementById('page-title')?.focus());
  });
  try {
    await startSession(await get('/console/session'));
  } catch {
    renderSignIn();
  }
}

start();
