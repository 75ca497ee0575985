// The Invites page (owners): the project's invites as the server lists them, a Revoke
// button on each one that can still join, and a new invite. An invite is signed with an
// owner's key: while the page is unlocked it is made and signed here (values.ts), as
// `envsync invite` makes it; otherwise the page shows that CLI command. Revoking needs no
// signature (the server only stops redeeming the code).

import { type InviteInfo, call, get, paths } from './api';
import { command, h, notice, show, table, when } from './dom';
import { type Context, projectHeader, readableEnvironments, report, requireGrant } from './pages';
import { createInvite } from './values';
import type { Role } from './unlock/invite';

/** How many hex digits of a code's SHA-256 are shown, as `envsync invite list` does. */
const SHORT = 12;

const DAYS: Record<string, number> = { '1d': 1, '7d': 7, '30d': 30 };

/** The code of the invite just made on this page, shown once by the next render. */
let justMade: { project: string; code: string } | null = null;

/** What became of an invite: open (its code still joins), redeemed, revoked or expired. */
function state(invite: InviteInfo): HTMLElement {
  if (invite.revoked_at !== null)
    return h('span', { class: 'badge stale' }, `revoked by ${invite.revoked_by ?? '?'}`);
  if (invite.redeemed_at !== null)
    return h('span', { class: 'badge ok' }, `redeemed by ${invite.redeemed_by ?? '?'}`);
  if (invite.expires_at * 1000 <= Date.now()) return h('span', { class: 'badge' }, 'expired');
  return h('span', { class: 'badge fresh' }, 'open');
}

function inviteRows(project: string, invites: InviteInfo[], rerender: () => void) {
  const revoke = (invite: InviteInfo) => async () => {
    const short = invite.code_sha256.slice(0, SHORT);
    if (!confirm(`Revoke the ${invite.role} invite ${short}? Its code will no longer join.`))
      return;
    await call('DELETE', paths.invite(project, invite.code_sha256));
    rerender();
  };
  return invites.map((invite) => {
    const short = invite.code_sha256.slice(0, SHORT);
    const open =
      invite.revoked_at === null &&
      invite.redeemed_at === null &&
      invite.expires_at * 1000 > Date.now();
    return [
      h('code', { title: invite.code_sha256 }, short),
      invite.role,
      invite.environments?.join(', ') ?? 'all',
      invite.created_by,
      when(invite.created_at),
      when(invite.expires_at),
      state(invite),
      open
        ? h(
            'button',
            {
              type: 'button',
              class: 'danger',
              onclick: (() => void revoke(invite)().catch(report)) as EventListener,
              'aria-label': `Revoke invite ${short}`,
            },
            'Revoke',
          )
        : null,
    ];
  });
}

/** The invite's fields (role, environments, expiry) and what they say: the terms, and
 * the `envsync invite` command that makes the same invite. */
function termFields(project: string, environments: string[]) {
  const role = h(
    'select',
    { id: 'invite-role', name: 'role' },
    ['writer', 'reader', 'owner'].map((r) => h('option', { value: r }, r)),
  );
  const expires = h(
    'select',
    { id: 'invite-expires', name: 'expires' },
    ['1d', '7d', '30d'].map((d) => h('option', { value: d, selected: d === '7d' }, d)),
  );
  const boxes = environments.map((name) =>
    h('label', {}, h('input', { type: 'checkbox', name: 'env', value: name }), ` ${name}`),
  );
  const ticked = () =>
    boxes
      .map((box) => box.querySelector('input'))
      .filter((input): input is HTMLInputElement => !!input?.checked)
      .map((input) => input.value);
  return {
    fields: [
      h('label', { for: 'invite-role' }, 'Role'),
      role,
      h('fieldset', {}, h('legend', {}, 'Environments (none ticked: all)'), boxes),
      h('label', { for: 'invite-expires' }, 'Expires after'),
      expires,
    ],
    terms: (): Terms => ({
      role: role.value as Role,
      environments: ticked().length ? ticked() : null,
      expiresInSeconds: (DAYS[expires.value] ?? 7) * 86_400,
    }),
    command: () => {
      const chosen = ticked()
        .map((name) => ` -e ${name}`)
        .join('');
      const expiry = ` --expires ${expires.value}`;
      return `envsync invite -p ${project} --role ${role.value}${chosen}${expiry}`;
    },
  };
}

/** The form that composes the `envsync invite` command for a new invite and, while the
 * page is unlocked, makes and signs the invite here. */
function newInviteForm(
  project: string,
  environments: string[],
  signer: ((terms: Terms) => Promise<void>) | null,
): HTMLElement[] {
  const output = h('div', {});
  const problem = h('div', {});
  const { fields, terms, command: cli } = termFields(project, environments);
  const submit = (event: Event) => {
    event.preventDefault();
    void signer?.(terms()).catch((error: unknown) =>
      problem.replaceChildren(notice(`error: ${(error as Error).message}`, 'error')),
    );
  };
  const update = () => output.replaceChildren(command(cli()));
  const form = h(
    'form',
    { class: 'stack', onchange: update as EventListener, onsubmit: submit as EventListener },
    fields,
    signer ? h('button', { type: 'submit' }, 'Create and sign the invite') : null,
  );
  update();
  return signer ? [problem, form, h('p', {}, 'Or from the CLI:'), output] : [form, output];
}

type Terms = Parameters<typeof createInvite>[1];

/** The code of the invite just made, once, with what the invitee runs. */
function madeNotice(project: string): HTMLElement | null {
  const made = justMade?.project === project ? justMade : null;
  justMade = null;
  if (!made) return null;
  return h(
    'div',
    { class: 'notice', role: 'status' },
    h(
      'p',
      {},
      'Invite created and signed in this tab. Its code is shown only now: hand it to the ' +
        'invitee, who runs:',
    ),
    command(`envsync join ${location.origin} ${made.code}`),
  );
}

export async function invitesPage(
  { me, unlocked }: Context,
  project: string,
  rerender: () => void,
): Promise<void> {
  const grant = requireGrant(me, project);
  const [environments, { invites }] = await Promise.all([
    readableEnvironments(project, grant),
    get<{ invites: InviteInfo[] }>(paths.invites(project)),
  ]);
  const headers = ['Code SHA-256', 'Role', 'Environments', 'By', 'Created', 'Expires', 'State'];
  const sign = async (terms: Terms) => {
    justMade = { project, code: await createInvite(project, terms) };
    rerender();
  };
  show(
    ...projectHeader(project, grant, 'invites'),
    madeNotice(project),
    invites.length
      ? table([...headers, ''], inviteRows(project, invites, rerender))
      : notice('No invites yet.'),
    h('h2', {}, 'New invite'),
    h(
      'p',
      {},
      unlocked
        ? 'An invite is signed with an owner’s key, so the server cannot change the role ' +
            'it grants: this tab signs it with your unlocked identity, makes its code here ' +
            'and sends the server only the code’s SHA-256.'
        : 'An invite is signed with an owner’s key, which this page does not hold, so the ' +
            'server cannot change the role it grants. Make it from the CLI:',
    ),
    ...newInviteForm(project, environments, unlocked ? sign : null),
  );
}
