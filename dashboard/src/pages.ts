// The pages: projects, environments, history, key drift, members, requests, tokens and the
// audit log (invites are in invites.ts). Everything shown comes from key names, digests and
// signed headers the server already has; no page here sees a value.

import {
  type AuditPage,
  type Grant,
  type MembershipBody,
  type Records,
  type TokenInfo,
  type VersionBody,
  type WhoAmI,
  ApiError,
  call,
  get,
  paths,
} from './api';
import { h, notice, show, table, when } from './dom';
import { fingerprint } from './fingerprint';
import { historyTools } from './values';
import { ciSection } from './ci';

export interface Context {
  me: WhoAmI;
  /** The identity is unlocked in this tab: history pages link to values. */
  unlocked?: boolean;
}

const projectLink = (project: string, tab = '') =>
  `#/p/${encodeURIComponent(project)}${tab ? `/${tab}` : ''}`;

export function projectsPage({ me }: Context): void {
  const rows = me.grants.map((grant) => [
    h('a', { href: projectLink(grant.project) }, grant.project),
    grant.role,
    grant.environments?.join(', ') ?? 'all',
  ]);
  show(
    h('h1', {}, 'Projects'),
    rows.length
      ? table(['Project', 'Your role', 'Environments'], rows)
      : notice('You have no role on any project on this server yet.'),
    me.pending.length
      ? h(
          'section',
          {},
          h('h2', {}, 'Waiting for an owner'),
          h('p', {}, 'You redeemed an invite to these; an owner must still accept your key:'),
          h(
            'ul',
            {},
            me.pending.map((project) => h('li', {}, project)),
          ),
        )
      : null,
  );
}

function grantOf(me: WhoAmI, project: string): Grant | undefined {
  return me.grants.find((grant) => grant.project === project);
}

const TABS: [string, string, boolean][] = [
  ['', 'Environments', false],
  ['drift', 'Key drift', false],
  ['members', 'Members', false],
  ['requests', 'Requests', true],
  ['invites', 'Invites', true],
  ['audit', 'Audit log', true],
];

export function projectHeader(project: string, grant: Grant, current: string): HTMLElement[] {
  const tabs = TABS.filter(([, , ownerOnly]) => !ownerOnly || grant.role === 'owner');
  return [
    h('h1', {}, project),
    h(
      'nav',
      { class: 'tabs', 'aria-label': `${project} pages` },
      tabs.map(([tab, label]) =>
        h(
          'a',
          { href: projectLink(project, tab), 'aria-current': tab === current ? 'page' : undefined },
          label,
        ),
      ),
    ),
  ];
}

/** The environments the caller may read: the server's list, cut to the grant's limit. */
export async function readableEnvironments(project: string, grant: Grant): Promise<string[]> {
  const { environments } = await get<{ environments: string[] }>(paths.environments(project));
  return grant.environments
    ? environments.filter((name) => grant.environments?.includes(name))
    : environments;
}

interface HeadInfo {
  environment: string;
  head: VersionBody | null;
}

async function heads(project: string, environments: string[]): Promise<HeadInfo[]> {
  return Promise.all(
    environments.map(async (environment) => {
      const { head } = await get<{ head: number | null }>(paths.head(project, environment));
      if (head === null) return { environment, head: null };
      const record = await get<{ body: VersionBody }>(paths.version(project, environment, head));
      return { environment, head: record.body };
    }),
  );
}

function freshness(created: string): HTMLElement {
  const days = (Date.now() - new Date(created).getTime()) / 86_400_000;
  const [label, kind] =
    days < 1 ? ['today', 'fresh'] : days < 30 ? ['recent', 'ok'] : ['stale', 'stale'];
  return h('span', { class: `badge ${kind}` }, label);
}

export async function environmentsPage({ me }: Context, project: string): Promise<void> {
  const grant = requireGrant(me, project);
  const infos = await heads(project, await readableEnvironments(project, grant));
  const rows = infos.map(({ environment, head }) => [
    h(
      'a',
      { href: `${projectLink(project, 'e')}/${encodeURIComponent(environment)}` },
      environment,
    ),
    head ? `v${head.number}` : '—',
    head?.author_name ?? '—',
    head ? when(head.created_at) : '—',
    head ? freshness(head.created_at) : null,
    head ? String(head.keys.length) : '0',
  ]);
  show(
    ...projectHeader(project, grant, ''),
    rows.length
      ? table(['Environment', 'Head', 'Author', 'Time', 'Freshness', 'Keys'], rows)
      : notice('No environment of this project has a version yet.'),
  );
}

export async function driftPage({ me }: Context, project: string): Promise<void> {
  const grant = requireGrant(me, project);
  const infos = await heads(project, await readableEnvironments(project, grant));
  const keys = [...new Set(infos.flatMap((info) => info.head?.keys ?? []))].sort();
  const rows = keys.map((key) => {
    const present = infos.map((info) => info.head?.keys.includes(key) ?? false);
    const drifted = present.some((p) => !p);
    return [
      h('span', { class: drifted ? 'drifted' : undefined }, key),
      ...present.map((p) =>
        p
          ? h('span', { class: 'yes', 'aria-label': 'present' }, '✓')
          : h('span', { class: 'no', 'aria-label': 'missing' }, '✗'),
      ),
    ];
  });
  const drifted = rows.filter((_, i) =>
    infos.some((info) => !info.head?.keys.includes(keys[i] ?? '')),
  );
  show(
    ...projectHeader(project, grant, 'drift'),
    h(
      'p',
      {},
      `${keys.length} key names across ${infos.length} environments; ` +
        `${drifted.length} missing somewhere. `,
      'Computed from key names in the signed headers; nothing is decrypted.',
    ),
    table(['Key', ...infos.map((info) => info.environment)], rows),
  );
}

export async function historyPage(
  { me, unlocked }: Context,
  project: string,
  environment: string,
): Promise<void> {
  const grant = requireGrant(me, project);
  const { records } = await get<Records<VersionBody>>(
    `${paths.versions(project, environment)}?after=0&limit=1000`,
  );
  const changes = (body: VersionBody) =>
    h(
      'span',
      { class: 'changes' },
      body.changes.added.map((key) => h('span', { class: 'added' }, `+${key} `)),
      body.changes.removed.map((key) => h('span', { class: 'removed' }, `−${key} `)),
      body.changes.changed.map((key) => h('span', { class: 'changed' }, `~${key} `)),
    );
  const newestFirst = records.slice().reverse();
  const tools = unlocked
    ? historyTools(
        project,
        environment,
        newestFirst.map(({ body }) => body.number),
      )
    : null;
  const rows = newestFirst.map(({ body }) => [
    `v${body.number}`,
    body.author_name,
    when(body.created_at),
    body.message,
    changes(body),
    ...(tools ? [tools.link(body.number)] : []),
  ]);
  const headers = ['Version', 'Author', 'Time', 'Message', 'Keys changed'];
  show(
    ...projectHeader(project, grant, ''),
    h('h2', {}, `History of ${environment}`),
    tools && rows.length ? h('div', { class: 'tools' }, tools.head, tools.form) : null,
    rows.length
      ? table(tools ? [...headers, 'Values'] : headers, rows)
      : notice('No versions yet.'),
  );
}

/** Folds the membership log into the current members: the newest entry for each key. */
export function currentMembers(log: MembershipBody[]): MembershipBody[] {
  const members = new Map<string, MembershipBody>();
  for (const entry of log) {
    if (entry.action === 'remove') members.delete(entry.member);
    else members.set(entry.member, entry);
  }
  return [...members.values()];
}

/** The members, from the signed log, and the CI section (ci.ts). */
export async function membersPage(
  { me, unlocked }: Context,
  project: string,
  rerender: () => void,
): Promise<void> {
  const grant = requireGrant(me, project);
  const [{ records }, environments] = await Promise.all([
    get<Records<MembershipBody>>(paths.members(project)),
    readableEnvironments(project, grant),
  ]);
  const members = currentMembers(records.map((record) => record.body));
  const rows = await Promise.all(
    members.map(async (member) => [
      member.name,
      h('code', {}, await fingerprint(member.member)),
      member.role,
      member.environments?.join(', ') ?? 'all',
      when(member.created_at),
    ]),
  );
  show(
    ...projectHeader(project, grant, 'members'),
    table(['Name', 'Fingerprint', 'Role', 'Environments', 'Since'], rows),
    h('p', {}, `From the signed membership log (${records.length} entries).`),
    ...ciSection(project, grant, environments, unlocked ?? false, rerender),
  );
}

/** Tokens; `justCreated`, a new token's secret, is shown under the refreshed list once. */
export async function tokensPage(
  context: Context,
  rerender: () => void,
  justCreated?: string,
): Promise<void> {
  const { tokens } = await get<{ tokens: TokenInfo[] }>(paths.tokens());
  const revoke = (token: TokenInfo) => async () => {
    if (!confirm(`Revoke token ${token.id} (${token.label})?`)) return;
    await call('DELETE', paths.token(token.id));
    rerender();
  };
  const rows = tokens.map((token) => [
    h('code', {}, token.id),
    token.label,
    token.kind === 'ci' ? `CI: ${token.project}/${token.environment}` : 'personal',
    when(token.created_at),
    token.revoked_at
      ? h('span', { class: 'badge stale' }, 'revoked')
      : token.expires_at
        ? when(token.expires_at)
        : 'never',
    token.revoked_at
      ? null
      : h(
          'button',
          {
            type: 'button',
            class: 'danger',
            onclick: revoke(token) as EventListener,
            'aria-label': `Revoke ${token.label}`,
          },
          'Revoke',
        ),
  ]);
  const created = h('div', { 'aria-live': 'polite' });
  const label = h('input', { id: 'token-label', name: 'label', required: true, maxlength: '100' });
  const days = h('input', {
    id: 'token-days',
    name: 'days',
    type: 'number',
    min: '1',
    max: '366',
    value: '30',
  });
  const create = async (event: Event) => {
    event.preventDefault();
    const body = { label: label.value, expires_in_seconds: Number(days.value) * 86400 };
    const result = await call<{ token: string; info: TokenInfo }>('POST', paths.tokens(), body);
    await tokensPage(context, rerender, result.token);
  };
  if (justCreated) {
    created.replaceChildren(
      h('p', { class: 'notice info', role: 'status' }, 'Copy this token now; it is shown once:'),
      h('pre', { class: 'command', id: 'new-token' }, justCreated),
    );
  }
  show(
    h('h1', {}, 'Tokens'),
    table(['Id', 'Label', 'Kind', 'Created', 'Expires', ''], rows),
    h('h2', {}, 'New personal access token'),
    h(
      'form',
      { class: 'stack', onsubmit: ((e: Event) => void create(e).catch(report)) as EventListener },
      h('label', { for: 'token-label' }, 'Label'),
      label,
      h('label', { for: 'token-days' }, 'Expires after (days)'),
      days,
      h('button', { type: 'submit' }, 'Create token'),
    ),
    created,
  );
}

/** The audit API's query from the page's: the filters, and the days as unix seconds. */
function auditQuery(query: URLSearchParams): URLSearchParams {
  const params = new URLSearchParams();
  for (const name of ['actor', 'action', 'after']) {
    const value = query.get(name);
    if (value) params.set(name, value);
  }
  // A day in the reader's time zone: from its first second, to the end of the `to` day.
  const day = (text: string | null, extraDays: number) =>
    text ? String(new Date(`${text}T00:00:00`).getTime() / 1000 + extraDays * 86400) : null;
  const since = day(query.get('from'), 0);
  const until = day(query.get('to'), 1);
  if (since) params.set('since', since);
  if (until) params.set('until', until);
  return params;
}

/** The filter form; submitting it moves to `here` with the filters in the fragment. */
function auditFilters(here: string, query: URLSearchParams): HTMLElement {
  const fields: [string, string, string][] = [
    ['actor', 'Actor', 'text'],
    ['action', 'Action', 'text'],
    ['from', 'From', 'date'],
    ['to', 'To', 'date'],
  ];
  const inputs = fields.map(([name, , type]) =>
    h('input', { id: `audit-${name}`, name, type, value: query.get(name) ?? '' }),
  );
  const filter = (event: Event) => {
    event.preventDefault();
    const next = new URLSearchParams();
    for (const input of inputs) if (input.value) next.set(input.name, input.value);
    location.hash = `${here}?${next}`;
  };
  return h(
    'form',
    { class: 'filters', onsubmit: filter as EventListener },
    fields.flatMap(([name, label], i) => [h('label', { for: `audit-${name}` }, label), inputs[i]]),
    h('button', { type: 'submit' }, 'Filter'),
  );
}

export async function auditPage(
  { me }: Context,
  project: string | null,
  query: URLSearchParams,
): Promise<void> {
  const grant = project ? requireGrant(me, project) : null;
  const base = project ? paths.audit(project) : paths.serverAudit();
  const page = await get<AuditPage>(`${base}?${auditQuery(query)}`);
  const rows = page.entries.map((entry) => [
    when(entry.at),
    entry.actor,
    entry.action,
    entry.project ?? '—',
    entry.target,
    entry.source_address ?? '—',
  ]);
  const here = project ? `${projectLink(project, 'audit')}` : '#/audit';
  const first = new URLSearchParams(query);
  first.delete('after');
  const next = new URLSearchParams(query);
  if (page.next_after !== null) next.set('after', String(page.next_after));
  show(
    ...(project && grant
      ? projectHeader(project, grant, 'audit')
      : [h('h1', {}, 'Server audit log')]),
    auditFilters(here, query),
    rows.length
      ? table(['Time', 'Actor', 'Action', 'Project', 'Target', 'From'], rows)
      : notice('No entries.'),
    h(
      'p',
      { class: 'paging' },
      query.get('after') ? h('a', { href: `${here}?${first}` }, 'First page') : null,
      ' ',
      page.next_after !== null ? h('a', { href: `${here}?${next}` }, 'Next page') : null,
    ),
  );
}

export function requireGrant(me: WhoAmI, project: string): Grant {
  const grant = grantOf(me, project);
  if (!grant)
    throw new ApiError(
      404,
      'not_found',
      `project ${project} not found (or you have no role on it)`,
    );
  return grant;
}

/** Shows a failed action's message where the user is looking. */
export function report(error: unknown): void {
  const message = error instanceof Error ? error.message : String(error);
  document.getElementById('main')?.prepend(notice(`error: ${message}`, 'error'));
}
