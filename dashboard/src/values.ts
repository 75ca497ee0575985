// Unlocking, as the first-load bundle knows it: the form that takes an identity, the
// loader of the unlock script (fetched only on *Unlock*, pinned by its Subresource
// Integrity hash, which the build writes into this bundle), and the routes that show
// values. The identity is kept in this tab's memory only: never sent, and never stored
// except wrapped by a passkey when the user opts in (device.ts).

import type { Pin } from './unlock/records';
import type { Vault } from './unlock/index';
import type { InviteTerms } from './unlock/invite';
import type { AcceptView, Accepted } from './unlock/accept';
import type { Acceptance } from './unlock/grant';
import type { CiAdded, CiView } from './unlock/ci';
import { JsonText, call, paths } from './api';
import { h, notice, show } from './dom';
import { devicePage, rememberedSection } from './device';
import { type Context, projectHeader, requireGrant } from './pages';

/** The unlock script's SRI hash, set by scripts/build.mjs. */
declare const UNLOCK_INTEGRITY: string;
const UNLOCK_SCRIPT = '/assets/unlock.js';

let vault: Vault | null = null;

export const unlocked = (): boolean => vault !== null;

export function lock(): void {
  vault = null;
}

/** `#/device`: remember the unlocked identity with a passkey, or forget it. */
export const showDevice = (): void => devicePage(vault);

/** Makes an invite signed with the unlocked identity and gives the server its hash and
 * signed terms (`POST …/invites`, as `envsync invite`); returns the code, shown once. */
export async function createInvite(project: string, terms: InviteTerms): Promise<string> {
  if (!vault) throw new Error('unlock the page to sign an invite');
  const made = vault.makeInvite(project, terms);
  const request = `{"code_sha256":${JSON.stringify(made.codeSha256)},"signed":${made.document}}`;
  await call<unknown>('POST', paths.invites(project), new JsonText(request));
  return made.code;
}

/** The page's API call (with the session's CSRF token) for the unlock script's requests. */
const send = (method: string, path: string, json?: string) =>
  call<unknown>(method, path, json === undefined ? undefined : new JsonText(json));

/** Accepts an access request with the unlocked identity, as `envsync members accept`;
 * `confirm` shows the grant before anything is signed. `null`: the owner declined. */
export async function acceptRequest(
  view: Omit<AcceptView, 'pin' | 'send'>,
  confirm: (acceptance: Acceptance) => Promise<boolean>,
): Promise<Accepted | null> {
  if (!vault) throw new Error('unlock the page to accept a member');
  return vault.acceptRequest({ ...view, pin: pinOf(view.project), send }, confirm);
}

/** Adds a CI identity made and signed in this tab, as `envsync ci add`; the secrets it
 * returns are the caller's to show once. */
export async function addCiIdentity(view: Omit<CiView, 'pin' | 'send'>): Promise<CiAdded> {
  if (!vault) throw new Error('unlock the page to add a CI identity');
  return vault.addCiMember({ ...view, pin: pinOf(view.project), send });
}

/** Loads the unlock script, refusing any other bytes than the build's. */
async function loadUnlock(): Promise<typeof import('./unlock/index')> {
  await new Promise<void>((resolve, reject) => {
    const link = h('link', { rel: 'modulepreload', href: UNLOCK_SCRIPT });
    link.integrity = UNLOCK_INTEGRITY;
    link.addEventListener('load', () => resolve());
    link.addEventListener('error', () =>
      reject(new Error('the unlock script is not served, or not the one this page was built with')),
    );
    document.head.append(link);
  });
  return (await import(UNLOCK_SCRIPT)) as typeof import('./unlock/index');
}

/** The pins `envsync dashboard` put in the fragment: `pin=PROJECT:NUMBER:DIGEST`. Kept
 * for this tab (sessionStorage) so a reload keeps them; they are digests, not secrets. */
export function rememberPins(fragment: URLSearchParams): void {
  const pins: Record<string, Pin> = {};
  for (const text of fragment.getAll('pin')) {
    const match = /^([A-Za-z0-9._-]+):(\d+):([0-9a-f]{64})$/.exec(text);
    if (match) pins[match[1]!] = { number: Number(match[2]), digest: match[3]! };
  }
  if (fragment.has('signin')) sessionStorage.setItem('envsync-pins', JSON.stringify(pins));
}

function pinOf(project: string): Pin | undefined {
  const pins = JSON.parse(sessionStorage.getItem('envsync-pins') ?? '{}') as Record<string, Pin>;
  return pins[project];
}

/** On the unlock page, when this browser remembers an identity: unlock with its passkey. */
function passkeyUnlock(problem: HTMLElement, done: () => void): HTMLElement | null {
  const withPasskey = async () => {
    problem.replaceChildren(notice('Waiting for your passkey\u2026'));
    vault = await (await loadUnlock()).unlockWithPasskey();
    done();
  };
  const forgotten = () => unlockPage(done, notice('Forgotten: this browser keeps no identity.'));
  return rememberedSection(withPasskey, problem, forgotten);
}

/** `#/unlock`: paste an identity or choose its file. */
export function unlockPage(done: () => void, said?: HTMLElement): void {
  const text = h('textarea', {
    id: 'identity',
    rows: '4',
    autocomplete: 'off',
    spellcheck: 'false',
    placeholder: 'AGE-SECRET-KEY-1…',
  });
  const file = h('input', { id: 'identity-file', type: 'file' });
  file.addEventListener('change', () => {
    void file.files?.[0]?.text().then((content) => (text.value = content));
  });
  const problem = h('div', {}, said ?? null);
  const passkey = passkeyUnlock(problem, done);
  const submit = async (event: Event) => {
    event.preventDefault();
    try {
      const module = await loadUnlock();
      vault = await module.unlock(text.value);
      done();
    } catch (error) {
      problem.replaceChildren(notice(`error: ${(error as Error).message}`, 'error'));
    } finally {
      // The identity is a secret: it leaves the page whether or not it unlocked.
      text.value = '';
      file.value = '';
    }
  };
  show(
    h('h1', {}, 'Unlock'),
    h(
      'p',
      {},
      'Your identity decrypts values in this tab. It stays in this tab\u2019s memory: ' +
        'it is never sent to the server, and never stored unless you choose to remember ' +
        'this device with a passkey; closing the tab or Lock forgets it.',
    ),
    h(
      'p',
      { class: 'muted' },
      'Your identity file is where `envsync keygen` put it (`envsync identity export` ' +
        'prints it). Unlocking trusts the script this server sent; ' +
        '`envsync dashboard --verify URL` checks it is the build your envsync embeds.',
    ),
    problem,
    passkey,
    passkey ? h('h2', {}, 'Or unlock with your identity') : null,
    h(
      'form',
      { class: 'stack', onsubmit: ((e: Event) => void submit(e)) as EventListener },
      h('label', { for: 'identity' }, 'Age identity'),
      text,
      h('label', { for: 'identity-file' }, 'Or choose an identity file'),
      file,
      h('button', { type: 'submit' }, 'Unlock'),
    ),
  );
  text.focus();
}

/** `#/p/P/e/E/values[/N]` and `#/p/P/e/E/diff/A/B`. */
export async function valuesRoute(
  { me }: Context,
  project: string,
  environment: string,
  rest: string[],
): Promise<void> {
  const header = projectHeader(project, requireGrant(me, project), '');
  if (!vault) {
    return show(
      ...header,
      notice('Unlock the page to see values.'),
      h('p', {}, h('a', { href: '#/unlock' }, 'Unlock')),
    );
  }
  const [kind, first, second] = rest;
  const base = { project, environment, pin: pinOf(project), header };
  if (kind === 'diff' && first && second) {
    return vault.showDiff({ ...base, from: Number(first), to: Number(second) });
  }
  return vault.showValues({ ...base, number: first ? Number(first) : null });
}

/** On a history page: a link to each version's values and a form to compare two. */
export function historyTools(project: string, environment: string, numbers: number[]) {
  const base = `#/p/${encodeURIComponent(project)}/e/${encodeURIComponent(environment)}`;
  const link = (n: number) =>
    h('a', { href: `${base}/values/${n}`, 'aria-label': `Values of version ${n}` }, 'Values');
  const select = (id: string, chosen: number | undefined) =>
    h(
      'select',
      { id },
      numbers.map((n) => h('option', { value: String(n), selected: n === chosen }, `v${n}`)),
    );
  const from = select('diff-from', numbers[1] ?? numbers[0]);
  const to = select('diff-to', numbers[0]);
  const compare = (event: Event) => {
    event.preventDefault();
    location.hash = `${base}/diff/${from.value}/${to.value}`;
  };
  const form = h(
    'form',
    { class: 'inline', onsubmit: compare as EventListener },
    h('label', { for: 'diff-from' }, 'Compare'),
    from,
    h('label', { for: 'diff-to' }, 'with'),
    to,
    h('button', { type: 'submit' }, 'Compare values'),
  );
  return { link, form, head: h('a', { href: `${base}/values` }, 'Show the head\u2019s values') };
}
