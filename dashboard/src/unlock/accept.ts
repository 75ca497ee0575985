// Accepting an access request in the browser as `envsync members accept` does it over a
// server (crates/envsync-client/src/engine/members.rs, publish.rs, reencrypt.rs): the
// grant shown to the owner before anything is signed; every environment's head verified
// as the values page verifies it (a head that fails stops the accept before any signing);
// the membership entry that adds the requester, pinning those heads, chained to the log's
// last entry and signed here; then every head re-encrypted to the readers the new log
// names, as a new version signed here; and the request deleted. The server sees the same
// requests and bytes the CLI sends, and never a value. The steps shared with adding a CI
// identity (ci.ts) are in admit.ts.

import { paths } from '../api';
import { type UnlockedIdentity } from './identity';
import { membershipLog } from './history';
import { type Pin } from './records';
import { type Acceptance, type Choice, grantFor, pendingRequest } from './grant';
import { type Reencrypted, type Send, admit, requireOwner, verifiedHeads } from './admit';

export type { Send } from './admit';

export interface AcceptView {
  project: string;
  fingerprint: string;
  choice: Choice;
  /** The membership entry the user's CLI verified, from `envsync dashboard`. */
  pin: Pin | undefined;
  send: Send;
}

export interface Accepted extends Reencrypted {
  acceptance: Acceptance;
}

/** Accepts the request; `confirm` sees the grant first and may refuse it (`null`). */
export async function acceptRequest(
  identity: UnlockedIdentity,
  view: AcceptView,
  confirm: (acceptance: Acceptance) => Promise<boolean>,
): Promise<Accepted | null> {
  const { records, roster } = await membershipLog(view.project, view.pin);
  requireOwner(roster, identity.memberKey, 'accept members');
  const request = await pendingRequest(roster, view.fingerprint);
  const acceptance = await grantFor(roster, request.body, view.choice);
  const heads = await verifiedHeads(identity, roster);
  if (!(await confirm(acceptance))) return null;
  const signer = { identity, send: view.send };
  const outcome = await admit(signer, records, roster, acceptance, heads);
  await view.send('DELETE', paths.request(view.project, acceptance.fingerprint));
  return { acceptance, ...outcome };
}
