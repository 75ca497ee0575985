// The Requests page (owners): who waits for access, with the fingerprint to compare. An
// accept is signed with an owner's key: while the page is unlocked it is signed here
// (unlock/accept.ts), as `envsync members accept` signs it, after a confirmation that
// shows the fingerprint and the role; otherwise the page shows that CLI command.

import { type AccessRequestBody, type Records, get, paths } from './api';
import { command, h, notice, show, when } from './dom';
import { fingerprint } from './fingerprint';
import { type Context, projectHeader, readableEnvironments, requireGrant } from './pages';
import { acceptRequest } from './values';
import type { Acceptance, Choice } from './unlock/grant';
import type { Accepted } from './unlock/accept';
import type { Role } from './unlock/invite';

/** What the last accept on this page did. Kept across renders: the membership entry and
 * the new versions it made come back as live events, which render the page again. */
let justAccepted: { project: string; accepted: Accepted } | null = null;

/** An accept is running on this page: live events must not render it again, which would
 * take away the confirmation (or the progress) the owner is looking at. */
let busy = false;

/** Whether the page must be left as it is (main.ts holds live re-renders back). */
export const holdsPage = (): boolean => busy;

const envList = (environments: string[] | null) =>
  environments ? environments.join(', ') : 'every environment';

/** The owner's choice, as the CLI's `--role`/`--env`: none keeps the invite's terms. */
function choiceFields(print: string, environments: string[]) {
  const id = `role-${print}`;
  const role = h(
    'select',
    { id, name: 'role' },
    h('option', { value: '' }, 'as the invite says (else writer)'),
    ['writer', 'reader', 'owner'].map((r) => h('option', { value: r }, r)),
  );
  const boxes = environments.map((name) =>
    h('label', {}, h('input', { type: 'checkbox', name: 'env', value: name }), ` ${name}`),
  );
  const choice = (): Choice => {
    const ticked = boxes
      .map((box) => box.querySelector('input'))
      .filter((input): input is HTMLInputElement => !!input?.checked)
      .map((input) => input.value);
    if (!role.value && !ticked.length) return null;
    return { role: (role.value || 'writer') as Role, environments: ticked.length ? ticked : null };
  };
  const fields = [
    h('label', { for: id }, 'Role to grant'),
    role,
    h('fieldset', {}, h('legend', {}, 'Environments (none ticked: all)'), boxes),
  ];
  return { fields, choice };
}

/** Shows what is about to be signed and waits for the owner's answer. */
function confirmation(panel: HTMLElement, acceptance: Acceptance): Promise<boolean> {
  return new Promise((resolve) => {
    const answer = (yes: boolean) => () => {
      panel.replaceChildren(notice(yes ? 'Signing and re-encrypting every head…' : 'Declined.'));
      resolve(yes);
    };
    panel.replaceChildren(
      h(
        'div',
        { class: 'notice', role: 'status' },
        h(
          'p',
          {},
          `About to admit ${acceptance.name} (`,
          h('code', {}, acceptance.fingerprint),
          `) as ${acceptance.role} on ${envList(acceptance.environments)} ` +
            `(from ${acceptance.source}).`,
        ),
        h(
          'p',
          {},
          'Compare the fingerprint with the requester. Signing adds them to the ' +
            'membership log and re-encrypts every environment’s head to its readers.',
        ),
        h('button', { type: 'button', onclick: answer(true) }, 'Sign and accept'),
        ' ',
        h('button', { type: 'button', class: 'small', onclick: answer(false) }, 'Cancel'),
      ),
    );
  });
}

/** One pending request: who, the fingerprint, and how to accept them. */
async function requestCard(
  project: string,
  body: AccessRequestBody,
  environments: string[] | null,
  rerender: () => void,
): Promise<HTMLElement> {
  const print = await fingerprint(body.member);
  const cli = command(`envsync members accept ${print} -p ${project}`);
  const head = [
    h('strong', {}, body.name),
    ' ',
    h('code', {}, print),
    h('p', {}, 'Asked ', when(body.created_at), body.invite ? ' with an invite.' : '.'),
  ];
  if (!environments) {
    const says = 'Compare the fingerprint with the requester, then accept from the CLI (it signs):';
    return h('li', { class: 'card' }, head, h('p', {}, says), cli);
  }
  const panel = h('div', {});
  const { fields, choice } = choiceFields(print, environments);
  const button = h('button', { type: 'submit', 'aria-label': `Accept ${body.name}` }, 'Accept…');
  const submit = (event: Event) => {
    event.preventDefault();
    // One accept at a time: a second would race the first for the log's next entry.
    button.disabled = true;
    busy = true;
    panel.replaceChildren(notice('Verifying the membership log, the invite and every head…'));
    const view = { project, fingerprint: print, choice: choice() };
    acceptRequest(view, (acceptance) => confirmation(panel, acceptance))
      .then((accepted) => {
        busy = false;
        if (!accepted) return;
        justAccepted = { project, accepted };
        rerender();
      })
      .catch((error: unknown) =>
        panel.replaceChildren(notice(`refused: ${(error as Error).message}`, 'error')),
      )
      .finally(() => {
        button.disabled = false;
        busy = false;
      });
  };
  const form = h('form', { class: 'stack', onsubmit: submit as EventListener }, fields, button);
  return h('li', { class: 'card' }, head, form, panel, h('p', {}, 'Or from the CLI:'), cli);
}

/** What the last accept on this project's page signed. */
function acceptedNotice(project: string): HTMLElement | null {
  const done = justAccepted?.project === project ? justAccepted.accepted : null;
  if (!done) return null;
  const { acceptance: a, reencrypted, failed } = done;
  const versions = [...reencrypted].map(([env, n]) => `${env} v${n}`).join(', ') || 'none';
  const said =
    `Accepted ${a.name} (${a.fingerprint}) as ${a.role} on ${envList(a.environments)}, ` +
    `signed in this tab. Heads re-encrypted to their readers: ${versions}.`;
  if (!failed.length) return notice(said);
  return notice(
    `${said} Not re-encrypted: ${failed.join('; ')}. Run \`envsync members accept ` +
      `${a.fingerprint} -p ${project}\` to finish.`,
    'error',
  );
}

export async function requestsPage(
  { me, unlocked }: Context,
  project: string,
  rerender: () => void,
): Promise<void> {
  const grant = requireGrant(me, project);
  // Offered to owners only; what the tab signs is checked against the verified log too.
  const offer = unlocked && grant.role === 'owner';
  const [{ records }, environments] = await Promise.all([
    get<Records<AccessRequestBody>>(paths.requests(project)),
    offer ? readableEnvironments(project, grant) : null,
  ]);
  const items = await Promise.all(
    records.map(({ body }) => requestCard(project, body, environments, rerender)),
  );
  show(
    ...projectHeader(project, grant, 'requests'),
    acceptedNotice(project),
    grant.role === 'owner'
      ? null
      : notice(`Only an owner of ${project} can accept a request; you are a ${grant.role}.`),
    items.length ? h('ul', { class: 'cards' }, items) : notice('No pending access requests.'),
  );
}
