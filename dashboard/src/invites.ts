// The Invites page (owners): the project's invites as the server lists them, a Revoke
// button on each one that can still join, and the CLI command that makes a new one. An
// invite is signed with an owner's key, which this page does not hold, so it is made from
// the CLI; revoking needs no signature (the server only stops redeeming the code).

import { type InviteInfo, call, get, paths } from './api';
import { command, h, notice, show, table, when } from './dom';
import { type Context, projectHeader, readableEnvironments, report, requireGrant } from './pages';

/** How many hex digits of a code's SHA-256 are shown, as `envsync invite list` does. */
const SHORT = 12;

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

/** The form that composes the `envsync invite` command for a new invite. */
function newInviteForm(project: string, environments: string[]): HTMLElement[] {
  const output = h('div', {});
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
  const update = () => {
    const chosen = boxes
      .map((box) => box.querySelector('input'))
      .filter((input): input is HTMLInputElement => !!input?.checked)
      .map((input) => ` -e ${input.value}`)
      .join('');
    output.replaceChildren(
      command(
        `envsync invite -p ${project} --role ${role.value}${chosen} --expires ${expires.value}`,
      ),
    );
  };
  const form = h(
    'form',
    {
      class: 'stack',
      onchange: update as EventListener,
      onsubmit: ((e: Event) => e.preventDefault()) as EventListener,
    },
    h('label', { for: 'invite-role' }, 'Role'),
    role,
    h('fieldset', {}, h('legend', {}, 'Environments (none ticked: all)'), boxes),
    h('label', { for: 'invite-expires' }, 'Expires after'),
    expires,
  );
  update();
  return [form, output];
}

export async function invitesPage(
  { me }: Context,
  project: string,
  rerender: () => void,
): Promise<void> {
  const grant = requireGrant(me, project);
  const [environments, { invites }] = await Promise.all([
    readableEnvironments(project, grant),
    get<{ invites: InviteInfo[] }>(paths.invites(project)),
  ]);
  const headers = ['Code SHA-256', 'Role', 'Environments', 'By', 'Created', 'Expires', 'State'];
  show(
    ...projectHeader(project, grant, 'invites'),
    invites.length
      ? table([...headers, ''], inviteRows(project, invites, rerender))
      : notice('No invites yet.'),
    h('h2', {}, 'New invite'),
    h(
      'p',
      {},
      'An invite is signed with an owner’s key, which this page does not hold, so the ' +
        'server cannot change the role it grants. Make it from the CLI:',
    ),
    ...newInviteForm(project, environments),
  );
}
