// Adding a member to a project in the browser, as the CLI's `add_member` does it over a
// server (crates/envsync-client/src/engine/members.rs, publish.rs, reencrypt.rs), shared by
// accepting a request (accept.ts) and adding a CI identity (ci.ts): every environment's
// head verified and decrypted before anything is signed; the membership entry that adds
// the member, pinning those heads, chained to the log's last entry and signed here; then
// every head whose readers changed re-encrypted to the readers the new log names, as a new
// version signed here.

import { get, paths } from '../api';
import { type UnlockedIdentity } from './identity';
import { checkAgainst, plaintext } from './history';
import { IntegrityError, type Member, type Roster, fold } from './membership';
import { FORMAT, type MembershipBody, type Pin, type Signed, digest, sha256Hex } from './records';
import { compactDocument, rfc3339, signedDocument } from './documents';
import type { Role } from './invite';
import { type VersionRecord } from './verify';
import { Encrypter } from 'age-encryption';
import { toBase64 } from './encoding';

/** The page's own API call with a JSON text body sent as it is: the page holds the
 * session's CSRF token, which this script (a bundle of its own, loaded on unlock) never
 * sees. */
export type Send = (method: string, path: string, json?: string) => Promise<unknown>;

/** Who joins, and on what terms. */
export interface Newcomer {
  name: string;
  key: string;
  role: Role;
  /** `null`: every environment. */
  environments: string[] | null;
}

/** What re-encrypting the heads did. */
export interface Reencrypted {
  /** `environment → new version` for each head re-encrypted to the new member. */
  reencrypted: Map<string, number>;
  /** Heads that could not be re-encrypted, with why (the member is admitted already). */
  failed: string[];
}

/** Who signs, and how the page sends what they signed. */
export interface Signer {
  identity: UnlockedIdentity;
  send: Send;
}

/** A head and its file, verified and decrypted before anything is signed. */
export interface Head {
  environment: string;
  record: VersionRecord;
  content: Uint8Array;
}

/** Signs and sends the entry adding `newcomer` (next after `records`), then re-encrypts
 * every head whose readers changed to the readers the new log names. */
export async function admit(
  signer: Signer,
  records: Signed<MembershipBody>[],
  roster: Roster,
  newcomer: Newcomer,
  heads: Head[],
): Promise<Reencrypted> {
  const entry = membershipEntry(signer.identity, roster, newcomer, heads);
  try {
    await signer.send('PUT', paths.memberEvent(roster.project, entry.body.number), entry.text);
  } catch (error) {
    if (conflict(error)) {
      throw new Error(`another owner changed ${roster.project}'s members at the same time: retry`);
    }
    throw error;
  }
  const admitted = fold(roster.project, [...records, entry.record]);
  return reencryptHeads(signer, admitted, heads, newcomer.name);
}

/** Whether the server answered 409 (the number was taken). By its status, not its class:
 * the error comes from the page's bundle, whose `ApiError` is not this bundle's. */
export const conflict = (error: unknown): boolean =>
  (error as { status?: unknown } | null)?.status === 409;

/** Only an active owner changes members; the verified log says who that is. */
export function requireOwner(roster: Roster, memberKey: string, what: string): void {
  const me = roster.members.get(memberKey);
  if (me?.removedIn !== null || me.role !== 'owner') {
    throw new Error(
      `only an owner of project \`${roster.project}\` can ${what}, and the ` +
        'membership log does not name your key as one',
    );
  }
}

/** Every environment's head, verified against `roster` and decrypted; any failure
 * stops the accept here, before anything is signed. */
export async function verifiedHeads(identity: UnlockedIdentity, roster: Roster): Promise<Head[]> {
  const { environments } = await get<{ environments: string[] }>(
    paths.environments(roster.project),
  );
  const heads: Head[] = [];
  for (const environment of environments) {
    const { head } = await checkAgainst(roster, environment);
    if (!head) continue;
    heads.push({ environment, record: head, content: await plaintext(identity, head) });
  }
  return heads;
}

const pinOf = (record: VersionRecord): Pin => ({
  number: record.body.number,
  digest: digest('version', record.body),
});

/** The signed entry adding the requester, next in the log, pinning every head. */
function membershipEntry(
  identity: UnlockedIdentity,
  roster: Roster,
  acceptance: Newcomer,
  heads: Head[],
): { body: MembershipBody; record: Signed<MembershipBody>; text: string } {
  const body: MembershipBody = {
    format: FORMAT,
    project: roster.project,
    number: roster.digests.length + 1,
    parent_digest: roster.digests.at(-1) ?? null,
    action: 'add',
    member: acceptance.key,
    name: acceptance.name,
    role: acceptance.role,
    environments: acceptance.environments,
    heads: Object.fromEntries(heads.map((head) => [head.environment, pinOf(head.record)])),
    actor: identity.memberKey,
    created_at: rfc3339(new Date()),
  };
  const text = signedDocument('membership', { ...body }, identity);
  return { body, record: JSON.parse(text) as Signed<MembershipBody>, text };
}

/** Re-encrypts each head to the readers `roster` names, as `reencrypt_heads` does: the new
 * versions are sealed, then sent together (`POST …/versions`, one commit on the server for
 * as many as fit in one request); a head that moved meanwhile (a teammate's push took the
 * number) is verified and read again, and its version sent alone, up to five times. */
async function reencryptHeads(
  signer: Signer,
  roster: Roster,
  heads: Head[],
  name: string,
): Promise<Reencrypted> {
  const done: Reencrypted = { reencrypted: new Map<string, number>(), failed: [] };
  const sealed: Sealed[] = [];
  for (const head of heads.filter((head) => !encryptedToReaders(roster, head))) {
    try {
      sealed.push(await seal(signer.identity, roster, head, name));
    } catch (error) {
      done.failed.push(`${head.environment}: ${(error as Error).message}`);
    }
  }
  for (const batch of batches(sealed)) {
    for (const raced of await sendTogether(signer, roster.project, batch, done)) {
      await reencryptAlone(signer, roster, raced, name, done);
    }
  }
  return done;
}

/** A head's next version, encrypted to its readers now and signed: the `PUT` body. */
interface Sealed {
  head: Head;
  number: number;
  push: string;
}

/** The most versions one `POST …/versions` takes (`envsync_api::MAX_PUSHED_VERSIONS`), and
 * the bytes of one request, with room to spare under the server's 4 MiB. */
const MAX_VERSIONS_AT_ONCE = 100;
const MAX_BATCH_BYTES = 4 * 1024 * 1024 - 64 * 1024;

/** `sealed` in requests of at most [MAX_VERSIONS_AT_ONCE] and [MAX_BATCH_BYTES] (a version
 * too large for any goes alone, and the server says why it refuses it). */
function batches(sealed: Sealed[]): Sealed[][] {
  const out: Sealed[][] = [];
  let size = 0;
  for (const one of sealed) {
    const last = out.at(-1);
    if (!last || last.length === MAX_VERSIONS_AT_ONCE || size + one.push.length > MAX_BATCH_BYTES) {
      out.push([one]);
      size = one.push.length;
    } else {
      last.push(one);
      size += one.push.length;
    }
  }
  return out;
}

/** What the server answers for each version of a `POST …/versions`. */
interface PushOutcomes {
  outcomes: { environment: string; number: number; created: boolean; head: number | null }[];
}

/** Sends `batch` in one request and records what it created in `done`: the heads whose
 * number another push took first. A refusal refuses the whole request (nothing stored). */
async function sendTogether(
  { send }: Signer,
  project: string,
  batch: Sealed[],
  done: Reencrypted,
): Promise<Head[]> {
  const body = `{"versions":[${batch.map((one) => one.push).join(',')}]}`;
  let answer: PushOutcomes;
  try {
    answer = (await send('POST', paths.newVersions(project), body)) as PushOutcomes;
  } catch (error) {
    for (const one of batch)
      done.failed.push(`${one.head.environment}: ${(error as Error).message}`);
    return [];
  }
  const raced: Head[] = [];
  for (const one of batch) {
    const outcome = answer.outcomes.find((o) => o.environment === one.head.environment);
    if (outcome?.created && outcome.number === one.number) {
      done.reencrypted.set(one.head.environment, one.number);
    } else {
      raced.push(one.head);
    }
  }
  return raced;
}

/** Re-encrypts a head whose number a teammate's push took: reads and verifies the head
 * again and sends its version alone, up to five times. */
async function reencryptAlone(
  signer: Signer,
  roster: Roster,
  stale: Head,
  name: string,
  done: Reencrypted,
): Promise<void> {
  let head = stale;
  for (let attempt = 1; attempt <= 5; attempt++) {
    try {
      const { head: moved } = await checkAgainst(roster, head.environment);
      if (!moved) return;
      head = { ...head, record: moved, content: await plaintext(signer.identity, moved) };
      if (encryptedToReaders(roster, head)) return;
      const sealed = await seal(signer.identity, roster, head, name);
      await signer.send(
        'PUT',
        paths.version(roster.project, head.environment, sealed.number),
        sealed.push,
      );
      done.reencrypted.set(head.environment, sealed.number);
      return;
    } catch (error) {
      if (!conflict(error) || attempt === 5) {
        done.failed.push(`${head.environment}: ${(error as Error).message}`);
        return;
      }
    }
  }
}

/**
 * Whether `head` is already encrypted to exactly the members who may read its environment
 * now, by its signed list of recipients: then a new version would change nothing but its
 * number (a member limited to other environments joined). The CLI decides the same way.
 */
function encryptedToReaders(roster: Roster, head: Head): boolean {
  const readers = new Set(readersOf(roster, head.environment).map((reader) => reader.key));
  const recipients = new Set(head.record.body.recipients);
  return readers.size === recipients.size && [...readers].every((key) => recipients.has(key));
}

/** The members who may read `environment`: active, and not limited to other ones. */
function readersOf(roster: Roster, environment: string): Member[] {
  return [...roster.members.values()].filter((member) => {
    const open = member.history.find((standing) => standing.until === null);
    return member.removedIn === null && (open?.environments?.includes(environment) ?? true);
  });
}

/** `head`'s content again, encrypted to its readers now and signed as the next version. */
async function seal(
  identity: UnlockedIdentity,
  roster: Roster,
  head: Head,
  name: string,
): Promise<Sealed> {
  const readers = readersOf(roster, head.environment);
  if (!readers.length) throw new IntegrityError(`${head.environment} has no readers`);
  const encrypter = new Encrypter();
  for (const reader of readers) encrypter.addRecipient(reader.key.split(':')[0]!);
  const ciphertext = await encrypter.encrypt(head.content);
  const base = head.record.body;
  const body = {
    format: FORMAT,
    project: roster.project,
    environment: head.environment,
    number: base.number + 1,
    base: base.number,
    parent_digest: digest('version', base),
    membership: { number: roster.digests.length, digest: roster.digests.at(-1)! },
    author: identity.memberKey,
    author_name: identity.name ?? roster.members.get(identity.memberKey)!.name,
    created_at: rfc3339(new Date()),
    message: `grant access to ${name}`,
    // The content is the head's, byte for byte, so its keys are the head's and nothing
    // changed (the CLI's diff of a file against itself).
    keys: base.keys,
    changes: { added: [], removed: [], changed: [] },
    recipients: readers.map((reader) => reader.key),
    ciphertext_sha256: sha256Hex(ciphertext),
    ciphertext_size: ciphertext.length,
  };
  const record = compactDocument('version', body, identity);
  const push = `{"record":${record},"ciphertext":${JSON.stringify(toBase64(ciphertext))}}`;
  return { head, number: body.number, push };
}
