// The project's membership log folded into members and their standings, as the CLI folds
// it (crates/envsync-client/src/membership.rs): a hash chain from entry 1 (its author adding
// themself as owner), every later entry signed by someone who is an owner at that point.

import { FORMAT, type MembershipBody, type Pin, type Signed, digest } from './records';
import { signatureVerifies, verifyingKey } from './records';

/** One stretch of a member's standing, ended (`until`) by a later entry about them. */
interface Standing {
  from: number;
  role: MembershipBody['role'];
  environments: string[] | null;
  until: { entry: number; heads: Record<string, Pin> } | null;
}

export interface Member {
  key: string;
  name: string;
  role: MembershipBody['role'];
  removedIn: number | null;
  history: Standing[];
}

export interface Roster {
  project: string;
  members: Map<string, Member>;
  /** The digest of every entry: entry `n` is `digests[n - 1]`. */
  digests: string[];
  /** Per environment, the newest head any entry pinned: no honest server shows less. */
  pinnedHeads: Map<string, Pin>;
}

/** What a version's author could do at the entry it names: sign on their own standing
 * (`current`), or only inside the history pinned when that standing ended. */
export type SignerStanding = { current: true } | { current: false; pin: Pin };

export class IntegrityError extends Error {}

const canPush = (role: string) => role === 'owner' || role === 'writer';

function standingAt(member: Member, entry: number): Standing | undefined {
  return member.history.find((s) => s.from <= entry && (s.until === null || entry < s.until.entry));
}

export const ownerAt = (member: Member, entry: number): boolean =>
  standingAt(member, entry)?.role === 'owner';

/** Whether `member` could sign version `number` of `environment` at entry `entry`. */
export function standingFor(
  member: Member,
  environment: string,
  number: number,
  entry: number,
): SignerStanding | string {
  const standing = standingAt(member, entry);
  if (!standing) return `was not a member at membership entry ${entry}`;
  const covers = standing.environments?.includes(environment) ?? true;
  if (!canPush(standing.role) || !covers) {
    return (
      `was a ${standing.role} without write access to \`${environment}\` ` +
      `at membership entry ${entry}`
    );
  }
  if (!standing.until) return { current: true };
  const pin = standing.until.heads[environment];
  if (pin && number <= pin.number) return { current: false, pin };
  return (
    `lost write access to \`${environment}\` at membership entry ` +
    `${standing.until.entry}, before version ${number}`
  );
}

export const holds = (roster: Roster, pin: Pin): boolean =>
  pin.number >= 1 && roster.digests[pin.number - 1] === pin.digest;

/** Folds the log, refusing it at the first entry that breaks a rule. */
export function fold(project: string, events: Signed<MembershipBody>[]): Roster {
  const roster: Roster = { project, members: new Map(), digests: [], pinnedHeads: new Map() };
  for (const event of events) {
    if (typeof event?.body !== 'object' || event.body === null) {
      throw new IntegrityError(`the membership log of \`${project}\` holds something else`);
    }
    const body = event.body;
    const corrupt = (reason: string) =>
      new IntegrityError(
        `the membership log of project \`${project}\` is invalid at entry ` +
          `${body.number}: ${reason}`,
      );
    if (body.project !== project) throw corrupt(`it belongs to project \`${body.project}\``);
    const last = roster.digests.at(-1) ?? null;
    if (body.number !== roster.digests.length + 1 || body.parent_digest !== last) {
      throw corrupt('entries are missing, reordered or replaced');
    }
    if (body.format !== FORMAT) throw corrupt(`format ${body.format} (this page reads ${FORMAT})`);
    if (!signatureVerifies('membership', event)) {
      throw corrupt('the signature does not verify (forged or tampered)');
    }
    const actor = roster.members.get(body.actor);
    const actorIsOwner = actor?.removedIn === null && actor.role === 'owner';
    const genesis =
      body.number === 1 &&
      body.action === 'add' &&
      body.actor === body.member &&
      body.role === 'owner';
    if (!(genesis || actorIsOwner)) throw corrupt('signed by someone who is not an owner');
    if (!verifyingKey(body.member)) throw corrupt('the member key is malformed');
    apply(roster, body);
    roster.digests.push(digest('membership', body));
  }
  return roster;
}

function apply(roster: Roster, body: MembershipBody): void {
  for (const [environment, pin] of Object.entries(body.heads)) {
    const known = roster.pinnedHeads.get(environment);
    if (!known || known.number <= pin.number) roster.pinnedHeads.set(environment, pin);
  }
  let member = roster.members.get(body.member);
  if (!member) {
    if (body.action === 'remove') return;
    member = { key: body.member, name: body.name, role: body.role, removedIn: null, history: [] };
    roster.members.set(body.member, member);
  }
  const open = member.history.find((s) => s.until === null);
  if (open) open.until = { entry: body.number, heads: body.heads };
  if (body.action === 'add') {
    Object.assign(member, { name: body.name, role: body.role, removedIn: null });
    member.history.push({
      from: body.number,
      role: body.role,
      environments: body.environments,
      until: null,
    });
  } else {
    member.removedIn = body.number;
  }
}
