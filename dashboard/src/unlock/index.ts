// The unlock script, loaded only when the user unlocks (and served only when the operator
// enabled unlocking): it reads the identity, and shows an environment's values, masked
// until revealed key by key, or two versions' values side by side. Nothing is shown before
// the history it comes from verified; what fails is shown as failed, with no value.

import { h, notice, show, table } from '../dom';
import { type Anchor, type Checked, check, onChain, values } from './history';
import { type UnlockedIdentity, readIdentity } from './identity';
import { IntegrityError } from './membership';
import { MalformedRecord, type Pin } from './records';
import { PasskeyError, rememberIdentity, unwrapIdentity } from './passkey';
import { type InviteTerms, type MadeInvite, makeInvite } from './invite';
import { remembered } from '../remembered';
import { type AcceptView, type Accepted, acceptRequest } from './accept';
import type { Acceptance } from './grant';
import { type CiAdded, type CiView, addCiMember } from './ci';

/** What the page asks of an unlocked tab. */
export interface Vault {
  readonly memberKey: string;
  /** Wraps this identity with a new passkey and stores only the wrapped form. */
  remember(): Promise<void>;
  /** A new invite to `project`, signed with this identity as `envsync invite` signs. */
  makeInvite(project: string, terms: InviteTerms): MadeInvite;
  /** Accepts an access request, signed with this identity as `envsync members accept`
   * signs; `confirm` sees the grant before anything is signed. */
  acceptRequest(
    view: AcceptView,
    confirm: (acceptance: Acceptance) => Promise<boolean>,
  ): Promise<Accepted | null>;
  /** Adds a CI identity made here, signed with this identity as `envsync ci add` signs. */
  addCiMember(view: CiView): Promise<CiAdded>;
  /** `number` null: the head. */
  showValues(view: ValuesView): Promise<void>;
  showDiff(view: DiffView): Promise<void>;
}

export interface ValuesView {
  project: string;
  environment: string;
  number: number | null;
  pin: Pin | undefined;
  header: Node[];
}

export interface DiffView extends Omit<ValuesView, 'number'> {
  from: number;
  to: number;
}

/** Reads the identity; the text stays in this closure (as the secret does in the
 * decrypter) so that *Remember this device* can wrap it, and goes when the tab locks. */
export async function unlock(identityText: string): Promise<Vault> {
  const identity = await readIdentity(identityText);
  return {
    memberKey: identity.memberKey,
    remember: () => rememberIdentity(identityText, identity.memberKey, identity.name),
    makeInvite: (project, terms) => makeInvite(identity, project, terms),
    acceptRequest: (view, confirm) => acceptRequest(identity, view, confirm),
    addCiMember: (view) => addCiMember(identity, view),
    showValues: (view) => guarded(view, () => valuesPage(identity, view)),
    showDiff: (view) => guarded(view, () => diffPage(identity, view)),
  };
}

/** Unlocks with the identity this browser remembers, unwrapped by its passkey, through
 * the same path as a pasted identity. */
export async function unlockWithPasskey(): Promise<Vault> {
  const record = remembered();
  if (!record) throw new PasskeyError('this browser remembers no identity');
  const vault = await unlock(await unwrapIdentity(record));
  if (vault.memberKey !== record.recipient) {
    throw new PasskeyError('the unwrapped identity is not the one this browser remembered');
  }
  return vault;
}

/** Runs a view; any failure replaces it with the failure, never with values. */
async function guarded(view: ValuesView | DiffView, render: () => Promise<void>): Promise<void> {
  show(...view.header, h('p', { class: 'muted' }, 'Verifying the history…'));
  const start = performance.now();
  try {
    await render();
    // Visible in the browser's performance tools; the benchmark reads it too.
    performance.measure('envsync: verify and decrypt', { start });
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    const refused = error instanceof IntegrityError || error instanceof MalformedRecord;
    show(
      ...view.header,
      h('h2', {}, refused ? 'Verification failed' : 'Values cannot be shown'),
      notice(`${refused ? 'refused' : 'error'}: ${message}. No value is shown.`, 'error'),
    );
  }
}

function anchorNote(project: string, anchor: Anchor): HTMLElement {
  return anchor.pin
    ? notice(
        `Verified: signatures, the version chain, and ${project}'s membership log up to ` +
          `entry ${anchor.pin.number}, which your envsync CLI had verified.`,
      )
    : h(
        'p',
        { class: 'notice warn', role: 'status' },
        'Values are shown on trust of the server: signatures and the version chain ' +
          'verified, but against a membership log this page could not hold to your ' +
          "CLI's. Open the dashboard with `envsync dashboard` from a workspace of " +
          `${project} to verify it too.`,
      );
}

const MASK = '••••••••';

/** A value cell, masked, and the button that reveals it. */
function secret(value: string | undefined, label: string): [HTMLElement, HTMLElement] {
  const cell = h('code', { class: 'value masked' }, value === undefined ? '—' : MASK);
  const button = h(
    'button',
    {
      type: 'button',
      class: 'small',
      'aria-pressed': 'false',
      'aria-label': `Reveal ${label}`,
      disabled: value === undefined,
    },
    'Reveal',
  );
  button.addEventListener('click', () => {
    const shown = button.getAttribute('aria-pressed') === 'true';
    cell.textContent = shown ? MASK : (value ?? '');
    cell.classList.toggle('masked', shown);
    button.setAttribute('aria-pressed', String(!shown));
    button.textContent = shown ? 'Reveal' : 'Hide';
  });
  return [cell, button];
}

async function valuesPage(identity: UnlockedIdentity, view: ValuesView): Promise<void> {
  const checked = await check(view.project, view.environment, view.pin);
  const record = onChain(checked, view.number);
  const decrypted = await values(identity, record);
  const rows = [...decrypted].map(([key, value]) => {
    const [cell, button] = secret(value, key);
    return [h('code', {}, key), cell, button];
  });
  const body = record.body;
  show(
    ...view.header,
    h('h2', {}, `Values of ${view.environment}, version ${body.number}`),
    anchorNote(view.project, checked.anchor),
    h('p', {}, `Signed by ${authorName(checked, body.author)} · ${body.message}`),
    table(['Key', 'Value', ''], rows),
  );
}

function authorName(checked: Checked, key: string): string {
  return checked.roster.members.get(key)?.name ?? 'an unknown key';
}

async function diffPage(identity: UnlockedIdentity, view: DiffView): Promise<void> {
  const checked = await check(view.project, view.environment, view.pin);
  const [before, after] = await Promise.all(
    [view.from, view.to].map((n) => values(identity, onChain(checked, n))),
  );
  const keys = [...new Set([...before!.keys(), ...after!.keys()])];
  const rows = keys.map((key) => {
    const [old, now] = [before!.get(key), after!.get(key)];
    const change =
      old === undefined
        ? 'added'
        : now === undefined
          ? 'removed'
          : old === now
            ? 'same'
            : 'changed';
    const [oldCell, oldButton] = secret(old, `${key} in version ${view.from}`);
    const [newCell, newButton] = secret(now, `${key} in version ${view.to}`);
    return [
      h('code', {}, key),
      h('span', { class: change }, change),
      h('span', { class: 'pair' }, oldCell, oldButton),
      h('span', { class: 'pair' }, newCell, newButton),
    ];
  });
  show(
    ...view.header,
    h('h2', {}, `${view.environment}: version ${view.from} → version ${view.to}`),
    anchorNote(view.project, checked.anchor),
    table(['Key', 'Change', `Version ${view.from}`, `Version ${view.to}`], rows),
  );
}
