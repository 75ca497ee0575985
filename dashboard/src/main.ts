// The dashboard's entry: sign-in (a token, or the single-use code `envsync dashboard` puts
// in the URL fragment, which never reaches a server log), the hash router, and live
// updates from the server's event stream.

import {
  type LiveEvent,
  type SessionInfo,
  type WhoAmI,
  ApiError,
  call,
  get,
  paths,
  setCsrfToken,
} from './api';
import { h, notice, show } from './dom';
import { invitesPage } from './invites';
import { holdsPage, requestsPage } from './requests';
import { holdsCiPage } from './ci';
import * as pages from './pages';
import * as values from './values';

let me: WhoAmI | null = null;
let session: SessionInfo | null = null;
let socket: WebSocket | null = null;
/** Where *Unlock* was pressed: the page returns there once unlocked. */
let beforeUnlock = '#/';

async function start(): Promise<void> {
  const fragment = new URLSearchParams(location.hash.slice(1));
  const code = fragment.get('signin');
  values.rememberPins(fragment);
  if (code) {
    // Out of the address bar and history before anything else can read it.
    history.replaceState(null, '', `${location.pathname}#/`);
    try {
      await signIn({ code });
      return;
    } catch (error) {
      showSignIn(`The sign-in link did not work: ${message(error)}`);
      return;
    }
  }
  try {
    session = await get<SessionInfo>(paths.session());
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) return showSignIn();
    throw error;
  }
  await enter();
}

async function signIn(body: { token?: string; code?: string }): Promise<void> {
  session = await call<SessionInfo>('POST', paths.session(), body);
  await enter();
}

async function enter(): Promise<void> {
  if (!session) return;
  setCsrfToken(session.csrf_token);
  me = await get<WhoAmI>(paths.whoami());
  renderNav();
  listen();
  await route();
}

function showSignIn(problem?: string): void {
  document.getElementById('nav')?.replaceChildren();
  const token = h('input', {
    id: 'token',
    name: 'token',
    type: 'password',
    autocomplete: 'off',
    required: true,
    spellcheck: 'false',
  });
  const submit = async (event: Event) => {
    event.preventDefault();
    try {
      await signIn({ token: token.value.trim() });
    } catch (error) {
      showSignIn(message(error));
    }
  };
  show(
    h('h1', {}, 'Sign in'),
    problem ? notice(problem, 'error') : null,
    h(
      'form',
      { class: 'stack', onsubmit: ((e: Event) => void submit(e)) as EventListener },
      h('label', { for: 'token' }, 'Personal access token'),
      token,
      h('button', { type: 'submit' }, 'Sign in'),
    ),
    h(
      'p',
      {},
      'Or run ',
      h('code', {}, 'envsync dashboard'),
      ' in a workspace: it opens this page signed in. Make a token with ',
      h('code', {}, 'envsync token create dashboard --expires 30d'),
      '.',
    ),
  );
  token.focus();
}

function renderNav(): void {
  if (!me) return;
  const signOut = async () => {
    await call('DELETE', paths.session());
    session = null;
    me = null;
    setCsrfToken('');
    socket?.close();
    socket = null;
    values.lock();
    showSignIn();
  };
  const toggleLock = () => {
    if (!values.unlocked()) {
      beforeUnlock = location.hash === '#/unlock' ? '#/' : location.hash || '#/';
      location.hash = '#/unlock';
      return;
    }
    values.lock();
    renderNav();
    void route();
  };
  const links = [
    h('a', { href: '#/' }, 'Projects'),
    h('a', { href: '#/tokens' }, 'Tokens'),
    me.admin ? h('a', { href: '#/audit' }, 'Server audit') : null,
    h('span', { class: 'who' }, me.name),
    session?.unlock ? h('a', { href: '#/device' }, 'This device') : null,
    session?.unlock
      ? h(
          'button',
          { type: 'button', id: 'lock', onclick: toggleLock as EventListener },
          values.unlocked() ? 'Lock' : 'Unlock',
        )
      : null,
    h(
      'button',
      {
        type: 'button',
        id: 'sign-out',
        onclick: (() => void signOut().catch(pages.report)) as EventListener,
      },
      'Sign out',
    ),
  ];
  document.getElementById('nav')?.replaceChildren(...links.filter((link) => link !== null));
}

/** Shows the page the fragment names: `#/`, `#/tokens`, `#/audit`, `#/p/NAME[/tab[/env]]`. */
async function route(): Promise<void> {
  if (!me || !session) return;
  const [path = '', query = ''] = location.hash.slice(1).split('?');
  const parts = path.split('/').filter(Boolean).map(decodeURIComponent);
  const context = { me, unlocked: values.unlocked() };
  const params = new URLSearchParams(query);
  try {
    const [first, project, tab, environment] = parts;
    if (first === 'tokens') return await pages.tokensPage(context, () => void route());
    if (first === 'audit') return await pages.auditPage(context, null, params);
    if (first === 'device' && session.unlock) return values.showDevice();
    if (first === 'unlock' && session.unlock) {
      return values.unlockPage(() => {
        renderNav();
        location.hash = beforeUnlock;
      });
    }
    if (first !== 'p' || !project) return pages.projectsPage(context);
    const more = parts.slice(4);
    if (tab === 'e' && environment && more.length && session.unlock) {
      return await values.valuesRoute(context, project, environment, more);
    }
    if (tab === 'e' && environment) return await pages.historyPage(context, project, environment);
    if (tab === 'drift') return await pages.driftPage(context, project);
    if (tab === 'members') return await pages.membersPage(context, project, () => void route());
    if (tab === 'requests') return await requestsPage(context, project, () => void route());
    if (tab === 'invites') return await invitesPage(context, project, () => void route());
    if (tab === 'audit') return await pages.auditPage(context, project, params);
    return await pages.environmentsPage(context, project);
  } catch (error) {
    if (error instanceof ApiError && error.status === 401)
      return showSignIn('Your session ended; sign in again.');
    show(h('h1', {}, 'Something went wrong'), notice(`error: ${message(error)}`, 'error'));
  }
}

/** Re-renders the page when something it shows changed, and says what. */
function listen(): void {
  const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
  const opened = new WebSocket(`${scheme}://${location.host}${paths.events()}`);
  socket = opened;
  opened.addEventListener('message', (message) => {
    const event = JSON.parse(String(message.data)) as LiveEvent;
    announce(event);
    const project = decodeURIComponent(location.hash.split('/')[2] ?? '');
    const shown = project === event.project || location.hash === '#/' || location.hash === '';
    if (shown && !holdsPage() && !holdsCiPage()) {
      void refreshWhoAmI().then(route);
    }
  });
  opened.addEventListener('close', () => {
    if (session && socket === opened) setTimeout(listen, 3000);
  });
}

async function refreshWhoAmI(): Promise<void> {
  me = await get<WhoAmI>(paths.whoami());
}

const by = (author: string | null | undefined) => (author ? ` by ${author}` : '');

function announce(event: LiveEvent): void {
  const what = event.environment
    ? `${event.project}/${event.environment}: version ${event.number}${by(event.author)}`
    : `${event.project}: membership changed`;
  const live = document.getElementById('live');
  if (live) live.textContent = what;
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

window.addEventListener('hashchange', () => void route());
document.body.append(h('p', { id: 'live', class: 'live', role: 'status', 'aria-live': 'polite' }));
void start().catch((error: unknown) => show(notice(`error: ${message(error)}`, 'error')));
