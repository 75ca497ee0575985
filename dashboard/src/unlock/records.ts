// The signed records as the CLI reads them (crates/envsync-core/src/records.rs): a body and
// a signature over `envsync <domain> v2\n` plus the body's canonical JSON, which is the
// body's fields in the Rust struct's order, serialised as serde_json does. The page
// rebuilds those bytes from the fields it knows, in that order, never from the server's
// text, so a reordered or padded record verifies here exactly when it does in the CLI.

import { sha256 } from '@noble/hashes/sha2.js';
import { ed } from './ed25519';
import { fromBase64, hex, utf8 } from './encoding';

/** The record format this page reads, as the CLI's `FORMAT`. */
export const FORMAT = 2;

export interface Pin {
  number: number;
  digest: string;
}

export interface Signed<T> {
  body: T;
  signature: string;
}

export interface VersionBody {
  format: number;
  project: string;
  environment: string;
  number: number;
  base: number | null;
  parent_digest: string | null;
  membership: Pin;
  author: string;
  author_name: string;
  created_at: string;
  message: string;
  keys: string[];
  changes: { added: string[]; removed: string[]; changed: string[] };
  recipients: string[];
  ciphertext_sha256: string;
  ciphertext_size: number;
  dismissed?: string[];
}

export interface MembershipBody {
  format: number;
  project: string;
  number: number;
  parent_digest: string | null;
  action: 'add' | 'remove';
  member: string;
  name: string;
  role: 'owner' | 'writer' | 'reader';
  environments: string[] | null;
  heads: Record<string, Pin>;
  actor: string;
  created_at: string;
}

/** A record the page cannot read: wrong shape, or a field of the wrong type. */
export class MalformedRecord extends Error {}

type Field =
  | 'u64'
  | 'i64'
  | 'string'
  | 'string?'
  | 'u64?'
  | 'strings'
  | 'strings?'
  | 'strings-omitted-empty'
  | 'pin'
  | 'changes'
  | 'heads'
  | 'action'
  | 'role';

type Schema = [string, Field][];

const VERSION: Schema = [
  ['format', 'u64'],
  ['project', 'string'],
  ['environment', 'string'],
  ['number', 'u64'],
  ['base', 'u64?'],
  ['parent_digest', 'string?'],
  ['membership', 'pin'],
  ['author', 'string'],
  ['author_name', 'string'],
  ['created_at', 'string'],
  ['message', 'string'],
  ['keys', 'strings'],
  ['changes', 'changes'],
  ['recipients', 'strings'],
  ['ciphertext_sha256', 'string'],
  ['ciphertext_size', 'u64'],
  ['dismissed', 'strings-omitted-empty'],
];

const MEMBERSHIP: Schema = [
  ['format', 'u64'],
  ['project', 'string'],
  ['number', 'u64'],
  ['parent_digest', 'string?'],
  ['action', 'action'],
  ['member', 'string'],
  ['name', 'string'],
  ['role', 'role'],
  ['environments', 'strings?'],
  ['heads', 'heads'],
  ['actor', 'string'],
  ['created_at', 'string'],
];

const ACCESS_REQUEST: Schema = [
  ['format', 'u64'],
  ['project', 'string'],
  ['member', 'string'],
  ['name', 'string'],
  ['after', 'u64'],
  ['invite', 'string?'],
  ['created_at', 'string'],
  ['expires_at', 'i64'],
];

const INVITE: Schema = [
  ['format', 'u64'],
  ['project', 'string'],
  ['code_sha256', 'string'],
  ['role', 'role'],
  ['environments', 'strings?'],
  ['created_by', 'string'],
  ['created_at', 'string'],
  ['expires_at', 'i64'],
];

const JOIN: Schema = [
  ['format', 'u64'],
  ['member_key', 'string'],
  ['name', 'string'],
  ['code_sha256', 'string'],
];

/** Each signed structure: its domain tag, its fields in order, and who signs it. */
export const KINDS = {
  version: { domain: 'version', schema: VERSION, signer: 'author' },
  membership: { domain: 'membership', schema: MEMBERSHIP, signer: 'actor' },
  'access request': { domain: 'access request', schema: ACCESS_REQUEST, signer: 'member' },
  invite: { domain: 'invite', schema: INVITE, signer: 'created_by' },
  join: { domain: 'join', schema: JOIN, signer: 'member_key' },
} as const;

export type Kind = keyof typeof KINDS;

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

function text(value: unknown, name: string): string {
  if (typeof value !== 'string' || !value.isWellFormed()) {
    throw new MalformedRecord(`\`${name}\` is not a string`);
  }
  return JSON.stringify(value);
}

function integer(value: unknown, name: string, signed: boolean): string {
  if (!Number.isSafeInteger(value) || (!signed && (value as number) < 0)) {
    throw new MalformedRecord(`\`${name}\` is not an integer this page can read exactly`);
  }
  return String(value);
}

function strings(value: unknown, name: string): string {
  if (!Array.isArray(value)) throw new MalformedRecord(`\`${name}\` is not a list`);
  return `[${value.map((item) => text(item, name)).join(',')}]`;
}

function object(value: unknown, name: string, schema: Schema): string {
  if (!isObject(value)) throw new MalformedRecord(`\`${name}\` is not an object`);
  return canonical(value, schema);
}

/** Keys ordered as Rust orders a `BTreeMap<String, _>`: by their UTF-8 bytes. */
function byBytes(a: string, b: string): number {
  const [x, y] = [utf8(a), utf8(b)];
  for (let i = 0; i < Math.min(x.length, y.length); i++) {
    if (x[i] !== y[i]) return x[i]! - y[i]!;
  }
  return x.length - y.length;
}

const PIN: Schema = [
  ['number', 'u64'],
  ['digest', 'string'],
];
const CHANGES: Schema = [
  ['added', 'strings'],
  ['removed', 'strings'],
  ['changed', 'strings'],
];

function field(value: unknown, name: string, kind: Field): string | null {
  const optional = kind.endsWith('?');
  if (optional && (value === null || value === undefined)) return 'null';
  switch (kind) {
    case 'u64':
    case 'u64?':
      return integer(value, name, false);
    case 'i64':
      return integer(value, name, true);
    case 'string':
    case 'string?':
      return text(value, name);
    case 'strings':
    case 'strings?':
      return strings(value, name);
    case 'strings-omitted-empty':
      return value === undefined || (Array.isArray(value) && value.length === 0)
        ? null
        : strings(value, name);
    case 'pin':
      return object(value, name, PIN);
    case 'changes':
      return object(value, name, CHANGES);
    case 'action':
      return oneOf(value, name, ['add', 'remove']);
    case 'role':
      return oneOf(value, name, ['owner', 'writer', 'reader']);
    case 'heads':
      return heads(value, name);
  }
}

function oneOf(value: unknown, name: string, allowed: string[]): string {
  if (typeof value !== 'string' || !allowed.includes(value)) {
    throw new MalformedRecord(`\`${name}\` is not one of ${allowed.join(', ')}`);
  }
  return JSON.stringify(value);
}

function heads(value: unknown, name: string): string {
  if (!isObject(value)) throw new MalformedRecord(`\`${name}\` is not an object`);
  const entries = Object.keys(value)
    .sort(byBytes)
    .map((key) => `${text(key, name)}:${object(value[key], name, PIN)}`);
  return `{${entries.join(',')}}`;
}

/** The canonical JSON of `value` under `schema`; fields it does not name are ignored. */
function canonical(value: Record<string, unknown>, schema: Schema): string {
  const parts: string[] = [];
  for (const [name, kind] of schema) {
    if (!(name in value) && !kind.endsWith('?') && kind !== 'strings-omitted-empty') {
      throw new MalformedRecord(`missing field \`${name}\``);
    }
    const json = field(value[name], name, kind);
    if (json !== null) parts.push(`${JSON.stringify(name)}:${json}`);
  }
  return `{${parts.join(',')}}`;
}

/** The bytes a record's signature covers. */
export function signedBytes(kind: Kind, body: unknown): Uint8Array {
  if (!isObject(body)) throw new MalformedRecord('the body is not an object');
  const { domain, schema } = KINDS[kind];
  return utf8(`envsync ${domain} v${FORMAT}\n${canonical(body, schema)}`);
}

/** The digest the next record in a chain names as its parent. */
export function digest(kind: Kind, body: unknown): string {
  return hex(sha256(signedBytes(kind, body)));
}

export const sha256Hex = (bytes: Uint8Array): string => hex(sha256(bytes));

/** The Ed25519 verifying key in a member key's text (`age1…:<base64url>`), or `null`. */
export function verifyingKey(memberKey: string): Uint8Array | null {
  const parts = memberKey.split(':');
  if (parts.length !== 2 || !parts[0]!.startsWith('age1')) return null;
  const key = fromBase64(parts[1]!, true);
  return key && key.length === 32 ? key : null;
}

/** Whether the record's signature verifies against the key its body names as signer. */
export function signatureVerifies(kind: Kind, record: Signed<unknown>): boolean {
  if (!isObject(record) || !isObject(record.body) || typeof record.signature !== 'string') {
    return false;
  }
  const signer = record.body[KINDS[kind].signer];
  const key = typeof signer === 'string' ? verifyingKey(signer) : null;
  const signature = fromBase64(record.signature, false);
  if (!key || !signature || signature.length !== 64) return false;
  try {
    return ed.verify(signature, signedBytes(kind, record.body), key, { zip215: false });
  } catch {
    return false;
  }
}
