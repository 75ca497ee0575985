// "Remember this device with a passkey", as the first-load bundle shows it: on the unlock
// page, unlocking with the remembered identity's passkey (or forgetting it); and `#/device`,
// where an unlocked tab opts in. The wrapping itself is in the unlock script
// (unlock/passkey.ts); this file only reads and removes what is stored.

import type { Vault } from './unlock/index';
import { h, notice, show } from './dom';
import { fingerprint } from './fingerprint';
import { type Remembered, forget, remembered } from './remembered';

/** Whose identity is remembered, with the fingerprint the CLI shows for its member key. */
function whose(record: Remembered): HTMLElement {
  const print = h('code', { class: 'fingerprint' }, '\u2026');
  void fingerprint(record.recipient).then((text) => (print.textContent = text));
  const who = record.name ? `${record.name}\u2019s identity` : 'an identity';
  return h('span', {}, `${who} (fingerprint `, print, ')');
}

const failure = (error: unknown) =>
  notice(`error: ${error instanceof Error ? error.message : String(error)}`, 'error');

function button(label: string, action: () => void, danger = false): HTMLButtonElement {
  return h(
    'button',
    { type: 'button', class: danger ? 'danger' : undefined, onclick: action as EventListener },
    label,
  );
}

/** On the unlock page, when this browser remembers an identity: unlock with its passkey,
 * or forget it. `problem` is where a failure is said. */
export function rememberedSection(
  unlockWithPasskey: () => Promise<void>,
  problem: HTMLElement,
  forgotten: () => void,
): HTMLElement | null {
  const record = remembered();
  if (!record) return null;
  const unlock = () => {
    void unlockWithPasskey().catch((error: unknown) => problem.replaceChildren(failure(error)));
  };
  return h(
    'section',
    { 'aria-labelledby': 'passkey-heading' },
    h('h2', { id: 'passkey-heading' }, 'Unlock with a passkey'),
    h(
      'p',
      {},
      'This browser remembers ',
      whose(record),
      ', wrapped by a key that only your passkey can derive. Unlocking unwraps it into ' +
        'this tab\u2019s memory.',
    ),
    h(
      'p',
      { class: 'filters' },
      button('Unlock with passkey', unlock),
      button('Forget this device', () => (forget(), forgotten()), true),
    ),
  );
}

/** `#/device`: opt in to remembering the unlocked identity, or forget the remembered one. */
export function devicePage(vault: Vault | null, said?: HTMLElement): void {
  const record = remembered();
  const problem = h('div', {}, said ?? null);
  const again = (message: string) => devicePage(vault, notice(message));
  const remember = () => {
    problem.replaceChildren(notice('Waiting for your passkey\u2026'));
    void vault
      ?.remember()
      .then(() => again('Remembered: this browser keeps your identity wrapped by that passkey.'))
      .catch((error: unknown) => problem.replaceChildren(failure(error)));
  };
  show(
    h('h1', {}, 'This device'),
    problem,
    record
      ? h('p', {}, 'This browser remembers ', whose(record), ', wrapped by a passkey.')
      : h('p', {}, 'This browser remembers no identity.'),
    h(
      'p',
      { class: 'muted' },
      'With a passkey that supports the PRF extension, your identity can be kept in this ' +
        'browser encrypted by a key only the passkey derives; the identity itself is never ' +
        'stored. It protects the identity at rest in this browser profile, not from a server ' +
        'that sends a malicious page.',
    ),
    h(
      'p',
      { class: 'filters' },
      vault
        ? button(
            record ? 'Remember with a new passkey instead' : 'Remember this device with a passkey',
            remember,
          )
        : notice('Unlock the page with your identity first to remember it.'),
      record ? button('Forget this device', () => (forget(), again('Forgotten.')), true) : null,
    ),
  );
}
