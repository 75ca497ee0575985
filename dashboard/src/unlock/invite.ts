// An invite made in the browser exactly as `envsync invite` makes it
// (crates/envsync-client/src/server_api/invites.rs): a fresh one-time code that only this
// page and the invitee ever see, its SHA-256 for the server, and the terms signed with the
// unlocked owner's identity into the very JSON document the CLI sends (the signed-record
// vectors hold that document, and test/vectors.test.mjs compares it byte for byte).

import { type UnlockedIdentity } from './identity';
import { FORMAT, sha256Hex } from './records';
import { toBase64Url, utf8 } from './encoding';
import { rfc3339, signedDocument } from './documents';

/** Re-exported for the vectors test, which checks invites and every other record. */
export { signedDocument } from './documents';

/** envsync_api::CODE_PREFIX and SECRET_BYTES. */
const CODE_PREFIX = 'esi_';
const SECRET_BYTES = 32;

export type Role = 'owner' | 'writer' | 'reader';

export interface InviteTerms {
  role: Role;
  /** `null`: every environment. */
  environments: string[] | null;
  expiresInSeconds: number;
}

export interface MadeInvite {
  /** Shown once, to be handed to the invitee; never sent to the server. */
  code: string;
  codeSha256: string;
  /** The `Signed<InviteBody>` JSON document, byte for byte as the CLI writes it. */
  document: string;
}

export const codeSha256 = (code: string): string => sha256Hex(utf8(code.trim()));

/** A new invite to `project` on `terms`, signed by `owner`. */
export function makeInvite(
  owner: UnlockedIdentity,
  project: string,
  terms: InviteTerms,
  now = new Date(),
): MadeInvite {
  const code = CODE_PREFIX + toBase64Url(crypto.getRandomValues(new Uint8Array(SECRET_BYTES)));
  const hash = codeSha256(code);
  const body = {
    format: FORMAT,
    project,
    code_sha256: hash,
    role: terms.role,
    environments: terms.environments,
    created_by: owner.memberKey,
    created_at: rfc3339(now),
    expires_at: Math.floor(now.getTime() / 1000) + terms.expiresInSeconds,
  };
  return { code, codeSha256: hash, document: signedDocument('invite', body, owner) };
}
