// An environment's history checked as the CLI checks what it reads
// (crates/envsync-client/src/engine/verify.rs): every version's place, format, signature,
// the membership entry it names (which the log must hold), its author's standing then, and
// the chain of parent digests. The page has no ledger of its own, so it walks the whole
// chain from the head to the first version, and holds the head to the newest head the
// membership log pinned.

import { IntegrityError, type Roster, holds, ownerAt, standingFor } from './membership';
import { FORMAT, type Pin, type Signed, type VersionBody } from './records';
import { digest, signatureVerifies } from './records';

export type VersionRecord = Signed<VersionBody>;

/** The versions on the verified chain from the head back, by number. */
export interface VerifiedHistory {
  head: VersionRecord | null;
  chain: Map<number, VersionRecord>;
}

const supersedes = (body: VersionBody) =>
  (body.base !== null && body.base + 1 < body.number) || (body.base === null && body.number > 1);

/** Verifies the history of `environment` from `records` (every version the server lists). */
export function verifyHistory(
  roster: Roster,
  environment: string,
  records: VersionRecord[],
  head: number | null,
): VerifiedHistory {
  const where = `${roster.project}/${environment}`;
  if (records.some((record) => typeof record?.body !== 'object' || record.body === null)) {
    throw new IntegrityError(`the server listed something other than versions of ${where}`);
  }
  const byNumber = new Map(records.map((record) => [record.body.number, record]));
  const floor = roster.pinnedHeads.get(environment);
  if (floor && (head === null || head < floor.number)) {
    throw new IntegrityError(
      `${where} shows ${head === null ? 'no versions' : `version ${head}`}, but the ` +
        `membership log pinned version ${floor.number}: versions were deleted or hidden`,
    );
  }
  if (head === null) return { head: null, chain: new Map() };
  const fetch = (number: number) => {
    const record = byNumber.get(number);
    if (!record) throw new IntegrityError(`${where}: the server did not list version ${number}`);
    return record;
  };
  const chain = new Map<number, VersionRecord>();
  let current = fetch(head);
  verifyRecord(roster, environment, current.body.number, current, fetch);
  chain.set(current.body.number, current);
  while (current.body.base !== null) {
    const parent = fetch(current.body.base);
    verifyRecord(roster, environment, parent.body.number, parent, fetch);
    checkLink(where, parent, current);
    chain.set(parent.body.number, parent);
    current = parent;
  }
  if (floor && digest('version', fetch(floor.number).body) !== floor.digest) {
    throw new IntegrityError(
      `${where}: version ${floor.number} is not the one the membership log pinned: ` +
        'the history was rewritten',
    );
  }
  return { head: fetch(head), chain };
}

function checkLink(where: string, parent: VersionRecord, child: VersionRecord): void {
  if (child.body.parent_digest !== digest('version', parent.body)) {
    throw new IntegrityError(
      `version ${child.body.number} of ${where} does not follow version ` +
        `${parent.body.number}: the history was rewritten or reordered`,
    );
  }
  if (child.body.membership.number < parent.body.membership.number) {
    throw new IntegrityError(
      `version ${child.body.number} of ${where} names an older membership entry than ` +
        `version ${parent.body.number} before it`,
    );
  }
}

/** Everything a version says about itself, checked against the membership log. */
function verifyRecord(
  roster: Roster,
  environment: string,
  number: number,
  record: VersionRecord,
  fetch: (number: number) => VersionRecord,
): void {
  const body = record.body;
  const label = `version ${number} of ${roster.project}/${environment}`;
  const fail = (reason: string) => new IntegrityError(`${label} ${reason}`);
  if (body.project !== roster.project || body.environment !== environment) {
    throw fail(
      `is misplaced: it claims to be version ${body.number} of ${body.project}/${body.environment}`,
    );
  }
  if (body.number !== number) throw fail(`is misplaced: it claims to be version ${body.number}`);
  if (body.format !== FORMAT) throw fail(`has format ${body.format}; this page reads ${FORMAT}`);
  if ((body.base === null) !== (body.parent_digest === null) || (body.base ?? -1) >= number) {
    throw fail('names an impossible base: the history was tampered with');
  }
  if (!signatureVerifies('version', record)) {
    throw fail('does not verify: its signature is forged or the record was tampered with');
  }
  if (!holds(roster, body.membership)) {
    throw fail(`names membership entry ${body.membership.number}, which the log does not hold`);
  }
  const author = roster.members.get(body.author);
  if (!author) throw fail('is signed by a key that is not a member of the project');
  const standing = standingFor(author, environment, number, body.membership.number);
  if (typeof standing === 'string') throw fail(`is signed by ${author.name}, who ${standing}`);
  if (supersedes(body) && !ownerAt(author, body.membership.number)) {
    throw fail(`voids earlier versions but ${author.name} was not an owner then`);
  }
  if (!standing.current) insidePinnedHistory(label, record, standing.pin, fetch);
}

/** A version signed under a standing that has since ended counts only inside the history
 * pinned when it ended: the pinned record must chain down to it. */
function insidePinnedHistory(
  label: string,
  record: VersionRecord,
  pin: Pin,
  fetch: (number: number) => VersionRecord,
): void {
  const outside = () =>
    new IntegrityError(
      `${label} is signed by a key whose write access ended at version ${pin.number}, ` +
        'and it is not in the history pinned then',
    );
  let current = fetch(pin.number);
  if (digest('version', current.body) !== pin.digest) throw outside();
  while (current.body.number > record.body.number) {
    if (current.body.base === null) throw outside();
    const parent = fetch(current.body.base);
    if (current.body.parent_digest !== digest('version', parent.body)) throw outside();
    current = parent;
  }
  if (digest('version', current.body) !== digest('version', record.body)) throw outside();
}
