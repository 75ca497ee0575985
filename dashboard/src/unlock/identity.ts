// The user's identity as the CLI reads it (crates/envsync-crypto/src/identity.rs): an age
// X25519 secret key, from which the Ed25519 signing key is derived with HKDF-SHA256, so the
// member key (`age1…:<base64url verifying key>`) can be computed here and compared with the
// membership log, and an owner's invite signed here as the CLI signs it. The secret stays
// in this object, in this tab's memory only.

import { ed } from './ed25519';
import { hkdf } from '@noble/hashes/hkdf.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { Decrypter, identityToRecipient } from 'age-encryption';
import { toBase64Url, utf8 } from './encoding';

const SIGNING_KEY_INFO = 'envsync/ed25519-signing-key/v1';

/** Why an identity could not be read; the message never contains the secret. */
export class IdentityError extends Error {}

/** An unlocked identity: it decrypts, and says which member key it is. No way to read the
 * secret back out is offered. */
export interface UnlockedIdentity {
  readonly name: string | null;
  readonly memberKey: string;
  /** Signs `message` with the Ed25519 key derived from the identity, as the CLI signs. */
  sign(message: Uint8Array): Uint8Array;
  /** Decrypts an age file; throws {@link NotARecipient} when it is not encrypted to us. */
  decrypt(ciphertext: Uint8Array): Promise<Uint8Array>;
}

export class NotARecipient extends Error {}

/** Reads an identity file's text (comments and one `AGE-SECRET-KEY-1…` line) or a bare key. */
export async function readIdentity(text: string): Promise<UnlockedIdentity> {
  let name: string | null = null;
  let secret: string | null = null;
  for (const line of text.split(/\r?\n/).map((l) => l.trim())) {
    if (line.startsWith('#')) {
      const value = line.slice(1).trim();
      if (value.startsWith('name:')) name = value.slice(5).trim() || null;
    } else if (line.toUpperCase().startsWith('AGE-SECRET-KEY-1')) {
      secret = line.toUpperCase();
    } else if (line) {
      throw new IdentityError(
        'the identity has an unexpected line; expected comments and one AGE-SECRET-KEY-1… line',
      );
    }
  }
  if (!secret) throw new IdentityError('no AGE-SECRET-KEY-1… line in the identity');
  let recipient: string;
  try {
    recipient = await identityToRecipient(secret);
  } catch {
    throw new IdentityError('the AGE-SECRET-KEY-1… line is not a valid age X25519 key');
  }
  const seed = hkdf(sha256, utf8(secret), utf8('envsync'), utf8(SIGNING_KEY_INFO), 32);
  const memberKey = `${recipient}:${toBase64Url(ed.getPublicKey(seed))}`;
  const decrypter = new Decrypter();
  decrypter.addIdentity(secret);
  return {
    name,
    memberKey,
    sign: (message) => ed.sign(message, seed),
    async decrypt(ciphertext: Uint8Array): Promise<Uint8Array> {
      try {
        return await decrypter.decrypt(ciphertext);
      } catch (error) {
        const message = error instanceof Error ? error.message : '';
        if (/no identity matched/i.test(message)) throw new NotARecipient();
        throw new Error('the ciphertext does not decrypt: it is corrupt');
      }
    },
  };
}
