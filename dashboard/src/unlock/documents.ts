// Signed records written as the CLI writes them (envsync_core::records::Signed): the body's
// fields in the Rust struct's order, signed over their canonical bytes, then serialised as
// serde_json does, pretty (`Signed::to_json`, what the CLI sends for membership entries and
// invites) or compact (`to_raw_value`, the record inside a pushed version). The Rust test
// vectors hold the pretty documents, and test/vectors.test.mjs compares them byte for byte.

import { type UnlockedIdentity } from './identity';
import { KINDS, type Kind, type Signed, signedBytes } from './records';
import { toBase64 } from './encoding';

/** `body` with the schema's fields in order (an empty `dismissed` left out, as serde
 * skips it), signed by `signer`. */
export function signRecord(
  kind: Kind,
  body: Record<string, unknown>,
  signer: Pick<UnlockedIdentity, 'sign'>,
): Signed<Record<string, unknown>> {
  const ordered: Record<string, unknown> = {};
  for (const [name, field] of KINDS[kind].schema) {
    const value = body[name];
    const omitted = field === 'strings-omitted-empty' && (!Array.isArray(value) || !value.length);
    if (!omitted) ordered[name] = value ?? null;
  }
  const signature = toBase64(signer.sign(signedBytes(kind, ordered)));
  return { body: ordered, signature };
}

/** The record `{ body, signature }` as serde_json's pretty printer writes it: two-space
 * indents and a final newline. */
export function signedDocument(
  kind: Kind,
  body: Record<string, unknown>,
  signer: Pick<UnlockedIdentity, 'sign'>,
): string {
  return `${JSON.stringify(signRecord(kind, body, signer), null, 2)}\n`;
}

/** The record as serde_json's compact writer writes it. */
export function compactDocument(
  kind: Kind,
  body: Record<string, unknown>,
  signer: Pick<UnlockedIdentity, 'sign'>,
): string {
  return JSON.stringify(signRecord(kind, body, signer));
}

/** RFC 3339 in UTC to the second, as the CLI's `now_rfc3339`. */
export const rfc3339 = (time: Date): string => time.toISOString().replace(/\.\d{3}Z$/, 'Z');
