// The one place that knows the shape of `envsync --json` output. Everything the CLI prints is
// parsed here into typed values; the rest of the extension never indexes raw JSON. Parsing
// is strict about what the extension acts on (badges, event names, versions) and tolerant of
// fields it does not know, so a newer CLI adding fields does not break it.
//
// Vocabulary: badges are snake_case (`synced`, `local_changes`, `update_available`,
// `diverged`, `not_linked`, `no_access`). Older CLIs wrote the watch `action` as
// "envsync push" and a pending member's kind as "new key"; both spellings are accepted and
// normalised to the snake_case ones.

export type Badge =
  | 'synced'
  | 'local_changes'
  | 'update_available'
  | 'diverged'
  | 'not_linked'
  | 'no_access';

export const BADGES: readonly Badge[] = [
  'synced',
  'local_changes',
  'update_available',
  'diverged',
  'not_linked',
  'no_access',
];

export type Action = 'pull' | 'push' | 'sync';

/** One environment of one project, as `status` and watch `status` events report it. */
export interface EnvironmentState {
  project: string;
  environment: string;
  /** The linked file, relative to the folder holding envsync.toml. */
  file: string;
  badge: Badge;
  localVersion: number | null;
  remoteVersion: number | null;
  action: Action | null;
  /** Who pushed the remote head, when the CLI says. */
  author: string | null;
  /**
   * With `envsync use`: the environment this one's file holds instead on this machine. The
   * file is then not this environment's (its badge is `not_linked`) until `use --reset`.
   */
  fileHolds: string | null;
}

export type PendingKind = 'request' | 'new_key';

export interface PendingMember {
  project: string;
  name: string;
  fingerprint: string;
  kind: PendingKind;
}

/** What chose the environment commands without `--env` act on, in a project. */
export type ChosenBy = 'use' | 'branch' | 'default';

export interface CurrentEnvironment {
  project: string;
  environment: string;
  /** Null from a CLI that does not say. */
  chosenBy: ChosenBy | null;
}

export interface StatusDocument {
  schema: number;
  environments: EnvironmentState[];
  pending: PendingMember[];
  current: CurrentEnvironment[];
}

/** `envsync share --json`: the bundle written and the passphrase the CLI chose for it (shown
 * this once; it opens the bundle, so it travels on another channel). */
export interface Shared {
  bundle: string;
  passphrase: string;
}

/** `envsync use --json`: what the project's default file holds now. */
export interface Used {
  project: string;
  environment: string;
  previous: string;
  file: string;
  /** The version written into the file; null when nothing changed. */
  version: number | null;
  author: string | null;
}

export type WatchEvent =
  | ({ event: 'status' } & EnvironmentState)
  | {
      event: 'pulled';
      project: string;
      environment: string;
      file: string;
      version: number | null;
      author: string | null;
    }
  | {
      /** `watch --report`: an update a clean file could take; the extension decides. */
      event: 'would_pull';
      project: string;
      environment: string;
      file: string;
      version: number | null;
      author: string | null;
    }
  | { event: 'error'; project: string | null; environment: string | null; message: string }
  | { event: 'connected'; remote: string }
  | { event: 'disconnected'; remote: string; retryInMs: number | null; reason: string }
  | { event: 'unknown'; name: string };

export interface KeyChanges {
  added: string[];
  changed: string[];
  removed: string[];
}

export interface LogEntry {
  version: number;
  author: string;
  fingerprint: string;
  time: string;
  message: string;
  changes: KeyChanges;
}

export type MemberStatus = 'trusted' | 'new_key' | 'request' | 'removed';

export interface Member {
  name: string;
  fingerprint: string;
  role: string | null;
  environments: string[] | null;
  status: MemberStatus;
  you: boolean;
}

export interface SyncPlan {
  action: string;
  remoteVersion: number | null;
  conflicts: string[];
}

export interface CliError {
  error: string;
  exitCode: number;
}

/** Thrown when the CLI printed something this module cannot read. */
export class ContractError extends Error {
  constructor(what: string, detail: string) {
    super(`unexpected envsync output (${what}): ${detail}`);
    this.name = 'ContractError';
  }
}

type Json = Record<string, unknown>;

/** The newest `"schema"` this module reads; a newer CLI may have changed what it means. */
export const MAX_SCHEMA = 2;

/** Refuses a document from a CLI newer than this extension understands. */
function checkSchema(value: Json, what: string) {
  const schema = value.schema;
  if (typeof schema === 'number' && schema > MAX_SCHEMA) {
    throw new ContractError(
      what,
      `schema ${schema} is newer than this extension reads (${MAX_SCHEMA}): update it`,
    );
  }
}

function object(value: unknown, what: string): Json {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new ContractError(what, 'not an object');
  }
  return value as Json;
}

function text(value: Json, field: string, what: string): string {
  const found = value[field];
  if (typeof found !== 'string') {
    throw new ContractError(what, `"${field}" is not a string`);
  }
  return found;
}

function optionalText(value: Json, field: string): string | null {
  const found = value[field];
  return typeof found === 'string' ? found : null;
}

function optionalNumber(value: Json, field: string): number | null {
  const found = value[field];
  return typeof found === 'number' && Number.isFinite(found) ? found : null;
}

function list(value: Json, field: string): unknown[] {
  const found = value[field];
  return Array.isArray(found) ? found : [];
}

function strings(value: Json, field: string): string[] {
  return list(value, field).filter((item): item is string => typeof item === 'string');
}

/** A badge, in today's snake_case or the spaced labels of older CLIs. */
export function parseBadge(value: unknown): Badge {
  const normalised = typeof value === 'string' ? value.trim().replace(/ /g, '_') : '';
  const badge = BADGES.find((known) => known === normalised);
  if (!badge) {
    throw new ContractError('badge', JSON.stringify(value));
  }
  return badge;
}

/** `push`, or the older `envsync push`; anything else is no action. */
export function parseAction(value: unknown): Action | null {
  if (typeof value !== 'string') {
    return null;
  }
  const word = value.replace(/^envsync\s+/, '').trim();
  return word === 'pull' || word === 'push' || word === 'sync' ? word : null;
}

function parseEnvironment(raw: unknown): EnvironmentState {
  const value = object(raw, 'environment');
  return {
    project: text(value, 'project', 'environment'),
    environment: text(value, 'environment', 'environment'),
    file: text(value, 'file', 'environment'),
    badge: parseBadge(value.badge),
    localVersion: optionalNumber(value, 'local_version'),
    remoteVersion: optionalNumber(value, 'remote_version'),
    action: parseAction(value.action),
    author: optionalText(value, 'author') ?? optionalText(value, 'remote_author'),
    fileHolds: optionalText(value, 'file_holds'),
  };
}

function parseCurrent(raw: unknown): CurrentEnvironment {
  const value = object(raw, 'current environment');
  const chosenBy = optionalText(value, 'chosen_by');
  return {
    project: text(value, 'project', 'current environment'),
    environment: text(value, 'environment', 'current environment'),
    chosenBy:
      chosenBy === 'use' || chosenBy === 'branch' || chosenBy === 'default' ? chosenBy : null,
  };
}

/** `use --json`. */
export function parseUsed(stdout: string): Used {
  const value = object(parseJson(stdout, 'use'), 'use');
  checkSchema(value, 'use');
  return {
    project: text(value, 'project', 'use'),
    environment: text(value, 'environment', 'use'),
    previous: text(value, 'previous', 'use'),
    file: text(value, 'file', 'use'),
    version: optionalNumber(value, 'version'),
    author: optionalText(value, 'author'),
  };
}

function parsePending(raw: unknown): PendingMember {
  const value = object(raw, 'pending member');
  const kind = optionalText(value, 'kind')?.replace(/ /g, '_');
  return {
    project: text(value, 'project', 'pending member'),
    name: text(value, 'name', 'pending member'),
    fingerprint: text(value, 'fingerprint', 'pending member'),
    kind: kind === 'new_key' ? 'new_key' : 'request',
  };
}

/** `share --json`. */
export function parseShared(stdout: string): Shared {
  const value = object(parseJson(stdout, 'share'), 'share');
  checkSchema(value, 'share');
  return {
    bundle: text(value, 'bundle', 'share'),
    passphrase: text(value, 'passphrase', 'share'),
  };
}

/** Reads a JSON document, with the CLI's own wording when it is not one. */
export function parseJson(stdout: string, what: string): unknown {
  try {
    return JSON.parse(stdout);
  } catch {
    throw new ContractError(what, 'not JSON');
  }
}

export function parseStatus(stdout: string): StatusDocument {
  const value = object(parseJson(stdout, 'status'), 'status');
  checkSchema(value, 'status');
  return {
    schema: optionalNumber(value, 'schema') ?? 0,
    environments: list(value, 'environments').map(parseEnvironment),
    pending: list(value, 'pending_members').map(parsePending),
    current: list(value, 'current').map(parseCurrent),
  };
}

/** One line of `envsync watch --json`. Unknown events are returned as such, not thrown. */
export function parseWatchLine(line: string): WatchEvent {
  const value = object(parseJson(line, 'watch event'), 'watch event');
  checkSchema(value, 'watch event');
  // The failure document that ends a stream (one line, like the events): an error.
  const failure = !('event' in value) ? optionalText(value, 'error') : null;
  if (failure !== null) {
    return { event: 'error', project: null, environment: null, message: failure };
  }
  const name = text(value, 'event', 'watch event');
  switch (name) {
    case 'status':
      return { event: 'status', ...parseEnvironment(value) };
    case 'pulled':
    case 'would_pull':
      return {
        event: name,
        project: text(value, 'project', name),
        environment: text(value, 'environment', name),
        file: text(value, 'file', name),
        version: optionalNumber(value, 'version'),
        author: optionalText(value, 'author'),
      };
    case 'error':
      return {
        event: 'error',
        project: optionalText(value, 'project'),
        environment: optionalText(value, 'environment'),
        message: text(value, 'message', 'error event'),
      };
    case 'connected':
      return { event: 'connected', remote: optionalText(value, 'remote') ?? '' };
    case 'disconnected':
      return {
        event: 'disconnected',
        remote: optionalText(value, 'remote') ?? '',
        retryInMs: optionalNumber(value, 'retry_in_ms'),
        reason: optionalText(value, 'reason') ?? '',
      };
    default:
      return { event: 'unknown', name };
  }
}

function parseChanges(raw: unknown): KeyChanges {
  const value = typeof raw === 'object' && raw !== null ? (raw as Json) : {};
  return {
    added: strings(value, 'added'),
    changed: strings(value, 'changed'),
    removed: strings(value, 'removed'),
  };
}

/** `log --json`: an array, or an object with `entries`/`versions`. */
export function parseLog(stdout: string): LogEntry[] {
  const raw = parseJson(stdout, 'log');
  const entries = Array.isArray(raw)
    ? raw
    : list(object(raw, 'log'), 'entries').concat(list(object(raw, 'log'), 'versions'));
  return entries.map((item) => {
    const value = object(item, 'log entry');
    const version = optionalNumber(value, 'version');
    if (version === null) {
      throw new ContractError('log entry', '"version" is not a number');
    }
    return {
      version,
      author: optionalText(value, 'author') ?? '',
      fingerprint: optionalText(value, 'fingerprint') ?? '',
      time: optionalText(value, 'time') ?? '',
      message: optionalText(value, 'message') ?? '',
      changes: parseChanges(value.changes),
    };
  });
}

function parseMemberStatus(value: unknown): MemberStatus {
  const word = typeof value === 'string' ? value.replace(/ /g, '_').toLowerCase() : '';
  if (word === 'new_key' || word === 'newkey') {
    return 'new_key';
  }
  if (word === 'request' || word === 'removed') {
    return word;
  }
  return 'trusted';
}

/** `members list --json`: an array, or an object with `members`. */
export function parseMembers(stdout: string): Member[] {
  const raw = parseJson(stdout, 'members');
  const rows = Array.isArray(raw) ? raw : list(object(raw, 'members'), 'members');
  return rows.map((item) => {
    const value = object(item, 'member');
    return {
      name: text(value, 'name', 'member'),
      fingerprint: text(value, 'fingerprint', 'member'),
      role: optionalText(value, 'role'),
      environments: Array.isArray(value.environments) ? strings(value, 'environments') : null,
      status: parseMemberStatus(value.status),
      you: value.you === true,
    };
  });
}

/** `sync --dry-run --json`: what a sync would do and which keys it would stop at. */
export function parseSyncPlan(stdout: string): SyncPlan {
  const value = object(parseJson(stdout, 'sync plan'), 'sync plan');
  return {
    action: optionalText(value, 'action') ?? 'nothing',
    remoteVersion: optionalNumber(value, 'remote_version'),
    conflicts: strings(value, 'conflicts'),
  };
}

/** The `{"error", "exit_code"}` document a failing `--json` command prints, if it is one. */
export function parseCliError(stdout: string): CliError | null {
  try {
    const value = object(JSON.parse(stdout), 'error');
    const error = optionalText(value, 'error');
    if (error === null) {
      return null;
    }
    return { error, exitCode: optionalNumber(value, 'exit_code') ?? 1 };
  } catch {
    return null;
  }
}

/** `export --format json`: a flat object of names to values (values stay in memory). */
export function parseVariables(stdout: string): Map<string, string> {
  const value = object(parseJson(stdout, 'export'), 'export');
  const variables = new Map<string, string>();
  for (const [name, found] of Object.entries(value)) {
    if (typeof found === 'string') {
      variables.set(name, found);
    }
  }
  return variables;
}

/** `envsync --version` prints `envsync 0.1.0`; the version, or null. */
export function parseVersion(stdout: string): [number, number, number] | null {
  const match = /(\d+)\.(\d+)\.(\d+)/.exec(stdout);
  return match ? [Number(match[1]), Number(match[2]), Number(match[3])] : null;
}

/** Whether `found` is at least `needed` (major, minor, patch). */
export function versionAtLeast(
  found: readonly [number, number, number],
  needed: readonly [number, number, number],
): boolean {
  for (let index = 0; index < 3; index++) {
    if (found[index] !== needed[index]) {
      return found[index] > needed[index];
    }
  }
  return true;
}
