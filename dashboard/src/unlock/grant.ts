// What accepting an access request grants, decided as `envsync members accept` decides it
// (crates/envsync-client/src/engine/members.rs, `grant_for` and `invited`): the owner's
// own choice first (the CLI's `--role`/`--env`), else the terms of the invite the requester
// redeemed once its signature, its signer (an active owner) and its project and code check
// out, else writer on every environment. A bad invite is refused, never read.

import { ApiError, get, paths } from '../api';
import { fingerprint } from '../fingerprint';
import { IntegrityError, type Roster } from './membership';
import { FORMAT, type Signed, signatureVerifies } from './records';
import type { Role } from './invite';

export interface AccessRequestBody {
  format: number;
  project: string;
  member: string;
  name: string;
  after: number;
  invite: string | null;
  created_at: string;
  expires_at: number;
}

interface InviteBody {
  project: string;
  code_sha256: string;
  role: Role;
  environments: string[] | null;
  created_by: string;
}

/** The owner's choice on the page, as `--role`/`--env`: `null` for the invite's terms. */
export type Choice = { role: Role; environments: string[] | null } | null;

/** One grant about to be signed, shown to the owner first (the CLI's `Acceptance`). */
export interface Acceptance {
  name: string;
  key: string;
  fingerprint: string;
  role: Role;
  environments: string[] | null;
  /** Where the role came from: the owner's choice, an owner-signed invite, the default. */
  source: string;
}

/** The pending request whose key has `print` as fingerprint, once it passes the checks
 * the CLI makes before it shows a request (`current_requests`): for `project`, signed by
 * the key it asks for, not expired, from no active member, and filed after that key's
 * latest removal (an older one would replay a request the removal ended). */
export async function pendingRequest(
  roster: Roster,
  print: string,
): Promise<Signed<AccessRequestBody>> {
  const { records } = await get<{ records: Signed<AccessRequestBody>[] }>(
    paths.requests(roster.project),
  );
  for (const record of records) {
    const body = record?.body;
    if (typeof body?.member !== 'string' || (await fingerprint(body.member)) !== print) continue;
    const refuse = (why: string) => new IntegrityError(`the access request of ${print} ${why}`);
    if (body.project !== roster.project || body.format !== FORMAT) {
      throw refuse(`is not for project ${roster.project}`);
    }
    if (!signatureVerifies('access request', record)) {
      throw refuse('does not verify: forged or tampered with');
    }
    if (!(body.expires_at > Date.now() / 1000)) throw refuse('has expired');
    const member = roster.members.get(body.member);
    if (member?.removedIn === null) throw refuse('is from a member already');
    if (member && member.removedIn! > body.after) {
      throw refuse('was filed before their removal: it cannot be replayed');
    }
    return record;
  }
  throw new Error(`nobody with fingerprint ${print} is waiting for access to ${roster.project}`);
}

/** What accepting `request` grants under `choice`, and why. */
export async function grantFor(
  roster: Roster,
  request: AccessRequestBody,
  choice: Choice,
): Promise<Acceptance> {
  const who = { name: request.name, key: request.member, fingerprint: '' };
  who.fingerprint = await fingerprint(request.member);
  if (choice) return { ...who, ...choice, source: 'your choice on this page' };
  const invited = request.invite ? await invitedTerms(roster, request) : null;
  return (
    invited ?? {
      ...who,
      role: 'writer',
      environments: null,
      source: 'the default (no owner-signed invite)',
    }
  );
}

/** The terms of the invite `request` redeemed, or `null` when the server has none. */
async function invitedTerms(
  roster: Roster,
  request: AccessRequestBody,
): Promise<Acceptance | null> {
  const code = request.invite!;
  let invite: Signed<InviteBody>;
  try {
    invite = await get<Signed<InviteBody>>(paths.invite(roster.project, code));
  } catch (error) {
    if (error instanceof ApiError && error.status === 404) return null;
    throw error;
  }
  const body = invite?.body;
  const owner = typeof body?.created_by === 'string' && roster.members.get(body.created_by);
  const checks =
    signatureVerifies('invite', invite) &&
    owner &&
    owner.removedIn === null &&
    owner.role === 'owner' &&
    body.project === roster.project &&
    body.code_sha256 === code;
  if (!checks) {
    throw new IntegrityError(
      `the invite ${request.name}'s request names was not signed by an owner of project ` +
        `\`${roster.project}\`, or not for this request: refusing to grant what it says`,
    );
  }
  return {
    name: request.name,
    key: request.member,
    fingerprint: await fingerprint(request.member),
    role: body.role,
    environments: body.environments,
    source: `the invite ${owner.name} signed`,
  };
}
