// The Members page's CI section: a CI identity (a reader of one environment, with a CI token
// bound to it) is added by a membership entry an owner signs, so it is offered only while
// the page is unlocked and the caller is an owner, made and signed in this tab
// (unlock/ci.ts) as `envsync ci add` makes it; otherwise the page shows that CLI command.
// The job's ENVSYNC_IDENTITY and ENVSYNC_TOKEN are shown once, kept in no storage, and
// leave the page (and this module) on the next navigation.

import type { Grant } from './api';
import { command, h, notice } from './dom';
import { addCiIdentity } from './values';
import type { CiAdded } from './unlock/ci';

/** The CI identity just added, until the user navigates away: the entry and versions it
 * made come back as live events, which render the page again, and must not take it away. */
let justAdded: { project: string; added: CiAdded } | null = null;
window.addEventListener('hashchange', () => (justAdded = null));

/** An add is running: live events must not render the page again meanwhile. */
let busy = false;
export const holdsCiPage = (): boolean => busy;

const EXPIRY: Record<string, number | null> = { never: null, '30d': 30, '90d': 90, '365d': 365 };

/** The CI form's fields and the `envsync ci add` command they compose. */
function ciFields(project: string, environments: string[]) {
  const name = h('input', {
    id: 'ci-name',
    name: 'name',
    required: true,
    maxlength: '100',
    pattern: '[A-Za-z0-9][A-Za-z0-9._-]*',
    placeholder: 'github-deploy',
  });
  const environment = h(
    'select',
    { id: 'ci-env', name: 'environment' },
    environments.map((e) => h('option', { value: e }, e)),
  );
  const expires = h(
    'select',
    { id: 'ci-expires', name: 'expires' },
    Object.keys(EXPIRY).map((d) => h('option', { value: d }, d)),
  );
  const cli = () => {
    const expiry = expires.value === 'never' ? '' : ` --expires ${expires.value}`;
    const [who, where] = [name.value.trim() || 'NAME', environment.value || 'ENVIRONMENT'];
    return `envsync ci add ${who} --env ${where} -p ${project}${expiry}`;
  };
  const view = () => {
    const days = EXPIRY[expires.value] ?? null;
    return {
      project,
      name: name.value.trim(),
      environment: environment.value,
      expiresInSeconds: days === null ? null : days * 86_400,
    };
  };
  const fields = [
    h('label', { for: 'ci-name' }, 'Name of the CI job'),
    name,
    h('label', { for: 'ci-env' }, 'The one environment it may read'),
    environment,
    h('label', { for: 'ci-expires' }, 'Token expires after'),
    expires,
  ];
  return { fields, cli, view };
}

/** What to set in the CI system, once. */
function addedNotice(project: string, server: string): HTMLElement | null {
  const done = justAdded?.project === project ? justAdded.added : null;
  if (!done) return null;
  const versions = [...done.reencrypted].map(([env, n]) => `${env} v${n}`).join(', ') || 'none';
  const failed = done.failed.length ? ` Not re-encrypted: ${done.failed.join('; ')}.` : '';
  const secrets =
    `ENVSYNC_IDENTITY=${done.identity}\nENVSYNC_TOKEN=${done.token}\n` + `ENVSYNC_SERVER=${server}`;
  return h(
    'div',
    { class: `notice ${failed ? 'error' : 'info'}`, role: 'status', id: 'ci-added' },
    h(
      'p',
      {},
      `Added ${done.name} (`,
      h('code', {}, done.fingerprint),
      `) as a reader, signed in this tab, and created CI token ${done.tokenId}. ` +
        `Heads re-encrypted: ${versions}.${failed}`,
    ),
    h(
      'p',
      {},
      'Set these in your CI system, the first two as secrets. They are shown only now: ' +
        'this page keeps neither, and they are gone once you leave it.',
    ),
    h('pre', { class: 'command', id: 'ci-secrets' }, secrets),
  );
}

/** The section: the form (signed here while unlocked, by an owner) or the CLI command. */
export function ciSection(
  project: string,
  grant: Grant,
  environments: string[],
  unlocked: boolean,
  rerender: () => void,
): HTMLElement[] {
  const { fields, cli, view } = ciFields(project, environments);
  const output = h('div', {});
  const panel = h('div', {});
  const update = () => output.replaceChildren(command(cli()));
  update();
  const heading = h('h2', {}, 'CI identities');
  if (grant.role !== 'owner' || !unlocked) {
    justAdded = null;
    const why =
      grant.role !== 'owner'
        ? `Only an owner of ${project} can add a CI identity; you are a ${grant.role}. ` +
          'An owner runs:'
        : 'A CI identity is added by a membership entry signed with an owner’s key, which ' +
          'this page does not hold. Unlock the page to add it here, or run:';
    const form = h('form', { class: 'stack', oninput: update as EventListener }, fields);
    return [heading, h('p', {}, why), form, output];
  }
  const button = h('button', { type: 'submit' }, 'Create the CI identity and sign');
  const submit = (event: Event) => {
    event.preventDefault();
    button.disabled = busy = true;
    panel.replaceChildren(notice('Verifying every head, then signing and re-encrypting…'));
    addCiIdentity(view())
      .then((added) => {
        justAdded = { project, added };
        busy = false;
        rerender();
      })
      .catch((error: unknown) =>
        panel.replaceChildren(notice(`refused: ${(error as Error).message}`, 'error')),
      )
      .finally(() => (button.disabled = busy = false));
  };
  const form = h(
    'form',
    { class: 'stack', oninput: update as EventListener, onsubmit: submit as EventListener },
    fields,
    button,
  );
  const says =
    'The identity is made in this tab; it becomes a reader of one environment by a ' +
    'membership entry signed with your unlocked identity, and gets a CI token that reads ' +
    'only that environment.';
  return [
    heading,
    addedNotice(project, location.origin),
    h('p', {}, says),
    panel,
    form,
    h('p', {}, 'Or from the CLI:'),
    output,
  ].filter((node): node is HTMLElement => node !== null);
}
