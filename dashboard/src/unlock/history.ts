// Fetching what a view needs from the server and checking it before anything is decrypted:
// the membership log (against the entry the user's CLI verified, when the page was opened
// by `envsync dashboard`), the environment's history, and the ciphertext's digest.

import { get, paths } from '../api';
import { type UnlockedIdentity, NotARecipient } from './identity';
import { IntegrityError, type Roster, fold, holds } from './membership';
import { type MembershipBody, type Pin, type Signed, sha256Hex } from './records';
import { type VerifiedHistory, type VersionRecord, verifyHistory } from './verify';
import { parseDotenv } from './dotenv';

/** How far the membership log was checked: against the user's CLI, or not at all. */
export type Anchor = { pin: Pin } | { pin: null };

export interface Checked {
  roster: Roster;
  anchor: Anchor;
  history: VerifiedHistory;
}

/** The membership log as the server lists it, folded and held to `pin` (what the user's
 * CLI verified), if given. */
export async function membershipLog(
  project: string,
  pin: Pin | undefined,
): Promise<{ records: Signed<MembershipBody>[]; roster: Roster }> {
  const { records } = await get<{ records: Signed<MembershipBody>[] }>(paths.members(project));
  const folded = fold(project, records);
  if (pin && !holds(folded, pin)) {
    throw new IntegrityError(
      `the server's membership log of \`${project}\` does not hold entry ${pin.number} ` +
        'as your envsync verified it: entries were removed or rewritten',
    );
  }
  return { records, roster: folded };
}

async function allVersions(project: string, environment: string): Promise<VersionRecord[]> {
  const all: VersionRecord[] = [];
  for (;;) {
    const after = all.at(-1)?.body.number ?? 0;
    const url = `${paths.versions(project, environment)}?after=${after}&limit=1000`;
    const { records } = await get<{ records: VersionRecord[] }>(url);
    all.push(...records);
    if (records.length < 1000) return all;
  }
}

/** Verifies the environment's whole history; throws {@link IntegrityError} on any fault. */
export async function check(
  project: string,
  environment: string,
  pin: Pin | undefined,
): Promise<Checked> {
  const { roster } = await membershipLog(project, pin);
  const history = await checkAgainst(roster, environment);
  return { roster, anchor: { pin: pin ?? null }, history };
}

/** The environment's history verified against a roster already checked. */
export async function checkAgainst(roster: Roster, environment: string): Promise<VerifiedHistory> {
  const [records, head] = await Promise.all([
    allVersions(roster.project, environment),
    get<{ head: number | null }>(paths.head(roster.project, environment)),
  ]);
  return verifyHistory(roster, environment, records, head.head);
}

/** A version on the verified chain, or why it is not there. */
export function onChain(checked: Checked, number: number | null): VersionRecord {
  const record = number === null ? checked.history.head : checked.history.chain.get(number);
  if (!record) {
    throw new IntegrityError(
      number === null
        ? 'this environment has no versions yet'
        : `version ${number} is not in the verified history ` +
          '(it does not exist, or a supersede voided it)',
    );
  }
  return record;
}

/** The version's values: its plaintext, read as a `.env` file. */
export async function values(
  identity: UnlockedIdentity,
  record: VersionRecord,
): Promise<Map<string, string>> {
  return parseDotenv(new TextDecoder().decode(await plaintext(identity, record)));
}

/** The version's file: its ciphertext fetched, held to its signed digest, decrypted. */
export async function plaintext(
  identity: UnlockedIdentity,
  record: VersionRecord,
): Promise<Uint8Array> {
  const body = record.body;
  const response = await fetch(
    paths.object(body.project, body.environment, body.ciphertext_sha256),
    {
      credentials: 'same-origin',
      cache: 'no-store',
    },
  );
  if (!response.ok)
    throw new Error(`the ciphertext of version ${body.number}: HTTP ${response.status}`);
  const ciphertext = new Uint8Array(await response.arrayBuffer());
  if (sha256Hex(ciphertext) !== body.ciphertext_sha256) {
    throw new IntegrityError(
      `the ciphertext of version ${body.number} is not the one its author signed: ` +
        'it was corrupted or replaced',
    );
  }
  try {
    return await identity.decrypt(ciphertext);
  } catch (error) {
    if (error instanceof NotARecipient) {
      throw new Error(
        `version ${body.number} is not encrypted to your key: ask a member who can read ` +
          'it to run `envsync push` after you were accepted',
      );
    }
    throw error;
  }
}
