// A CI identity added in the browser as `envsync ci add NAME --env E` adds it over a server
// (crates/envsync-client/src/accounts.rs, `add_ci_member`): a fresh age identity made by
// `age-encryption` in this tab, its member key derived as the CLI derives it (identity.ts);
// every head verified before anything is created; then the CI token bound to that member
// key (`POST …/ci-tokens`, first: if it is refused, nothing has changed); then the signed
// membership entry that adds the identity as a reader of that one environment, and the
// heads re-encrypted to it (admit.ts). If adding the member fails, the token is revoked
// again. The identity's secret is returned to be shown once, and kept nowhere.

import { paths } from '../api';
import { fingerprint } from '../fingerprint';
import { generateX25519Identity } from 'age-encryption';
import { type UnlockedIdentity, readIdentity } from './identity';
import { membershipLog } from './history';
import { type Pin } from './records';
import { type Reencrypted, type Send, admit, requireOwner, verifiedHeads } from './admit';

export interface CiView {
  project: string;
  environment: string;
  /** The CI member's name, e.g. `github-deploy`. */
  name: string;
  /** `null`: the token never expires (the CLI without `--expires`). */
  expiresInSeconds: number | null;
  /** The membership entry the user's CLI verified, from `envsync dashboard`. */
  pin: Pin | undefined;
  send: Send;
}

export interface CiAdded extends Reencrypted {
  name: string;
  fingerprint: string;
  tokenId: string;
  /** The job's `ENVSYNC_IDENTITY` and `ENVSYNC_TOKEN`: shown once, stored nowhere. */
  identity: string;
  token: string;
}

interface TokenCreated {
  token: string;
  info: { id: string };
}

/** Adds the CI identity; any failure before the entry is signed leaves no member. */
export async function addCiMember(owner: UnlockedIdentity, view: CiView): Promise<CiAdded> {
  const { records, roster } = await membershipLog(view.project, view.pin);
  requireOwner(roster, owner.memberKey, 'add a CI identity');
  const heads = await verifiedHeads(owner, roster);
  const secret = await generateX25519Identity();
  const { memberKey } = await readIdentity(secret);
  const request = {
    name: view.name,
    environment: view.environment,
    member_key: memberKey,
    ...(view.expiresInSeconds === null ? {} : { expires_in_seconds: view.expiresInSeconds }),
  };
  const path = paths.ciTokens(view.project);
  const created = (await view.send('POST', path, JSON.stringify(request))) as TokenCreated;
  const newcomer = {
    name: view.name,
    key: memberKey,
    role: 'reader' as const,
    environments: [view.environment],
  };
  let outcome: Reencrypted;
  try {
    outcome = await admit({ identity: owner, send: view.send }, records, roster, newcomer, heads);
  } catch (error) {
    const revoked = await view.send('DELETE', paths.token(created.info.id)).then(
      () => 'revoked it again',
      () => `could not revoke it: revoke ${created.info.id} on the Tokens page`,
    );
    throw new Error(
      `${view.name} was not added to ${view.project} (${(error as Error).message}); ` +
        `its CI token ${created.info.id} was created, and this tab ${revoked}`,
    );
  }
  return {
    name: view.name,
    fingerprint: await fingerprint(memberKey),
    tokenId: created.info.id,
    identity: secret,
    token: created.token,
    ...outcome,
  };
}
