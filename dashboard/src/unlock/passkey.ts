// "Remember this device with a passkey": the identity is kept in this browser only wrapped
// by a key that the passkey's PRF extension derives (WebAuthn's PRF output → HKDF-SHA256 →
// AES-GCM-256, all WebCrypto), and unwrapped into the tab's memory at unlock. No server
// takes part: the passkey is used for its PRF only, so no challenge is checked anywhere.
// What this protects is the identity at rest in the browser profile (a copied profile, a
// stolen disk, another script reading localStorage later); not a server that sends a page
// which reads the identity once it is unwrapped. See the README's threat model.

import { type Remembered, store } from '../remembered';
import { fromBase64, toBase64Url, utf8 } from './encoding';

/** Why a passkey could not wrap or unwrap the identity; never contains a secret. */
export class PasskeyError extends Error {}

const WRAP_INFO = utf8('envsync dashboard: identity wrapping key v1');

const random = (length: number) => crypto.getRandomValues(new Uint8Array(length));

/** The AES-GCM key a PRF output derives; not extractable. */
async function wrappingKey(prfOutput: BufferSource): Promise<CryptoKey> {
  const material = await crypto.subtle.importKey('raw', prfOutput, 'HKDF', false, ['deriveKey']);
  return crypto.subtle.deriveKey(
    { name: 'HKDF', hash: 'SHA-256', salt: new Uint8Array(0), info: WRAP_INFO },
    material,
    { name: 'AES-GCM', length: 256 },
    false,
    ['encrypt', 'decrypt'],
  );
}

/** Authenticated with the ciphertext: a record whose recipient (shown as whose identity it
 * is) was changed in storage does not decrypt. The credential needs no such binding: another
 * passkey's PRF output derives another key. */
const associated = (recipient: string) => utf8(`envsync passkey v1\n${recipient}`);

function unavailable(error: unknown): PasskeyError {
  const name = error instanceof DOMException ? ` (${error.name})` : '';
  return new PasskeyError(
    `the passkey was not used${name}: cancelled, timed out, or this device has no such ` +
      'passkey for this page',
  );
}

/** Makes a passkey for this page, refusing one whose authenticator has no PRF. */
async function createCredential(label: string): Promise<Uint8Array> {
  let credential: Credential | null;
  try {
    credential = await navigator.credentials.create({
      publicKey: {
        challenge: random(32),
        rp: { name: 'envsync dashboard' },
        user: { id: random(16), name: label, displayName: label },
        pubKeyCredParams: [
          { type: 'public-key', alg: -7 },
          { type: 'public-key', alg: -257 },
        ],
        authenticatorSelection: { residentKey: 'preferred', userVerification: 'required' },
        extensions: { prf: {} },
      },
    });
  } catch (error) {
    throw unavailable(error);
  }
  if (!(credential instanceof PublicKeyCredential)) throw unavailable(null);
  if (credential.getClientExtensionResults().prf?.enabled !== true) {
    throw new PasskeyError(
      'this passkey does not support the PRF extension, which the wrapping key is derived ' +
        'from: nothing was stored. Use an authenticator with PRF (hmac-secret)',
    );
  }
  return new Uint8Array(credential.rawId);
}

/** The passkey's PRF output for `salt`, after it verified the user. */
async function evaluate(credentialId: Uint8Array, salt: Uint8Array): Promise<BufferSource> {
  let assertion: Credential | null;
  try {
    assertion = await navigator.credentials.get({
      publicKey: {
        challenge: random(32),
        allowCredentials: [{ type: 'public-key', id: credentialId as BufferSource }],
        userVerification: 'required',
        extensions: { prf: { eval: { first: salt as BufferSource } } },
      },
    });
  } catch (error) {
    throw unavailable(error);
  }
  const results =
    assertion instanceof PublicKeyCredential
      ? assertion.getClientExtensionResults().prf?.results
      : undefined;
  if (!results?.first) {
    throw new PasskeyError('the passkey gave no PRF output: it cannot unwrap an identity');
  }
  return results.first;
}

/** Wraps `identityText` with a new passkey and stores the wrapped form, replacing any. */
export async function rememberIdentity(
  identityText: string,
  recipient: string,
  name: string | null,
): Promise<void> {
  if (typeof PublicKeyCredential === 'undefined' || !window.isSecureContext) {
    throw new PasskeyError('this browser offers no passkeys here (WebAuthn): nothing was stored');
  }
  const rawId = await createCredential(name ? `envsync: ${name}` : 'envsync identity');
  const credentialId = toBase64Url(rawId);
  const [salt, iv] = [random(32), random(12)];
  const key = await wrappingKey(await evaluate(rawId, salt));
  const ciphertext = await crypto.subtle.encrypt(
    { name: 'AES-GCM', iv, additionalData: associated(recipient) },
    key,
    utf8(identityText),
  );
  store({
    version: 1,
    credentialId,
    salt: toBase64Url(salt),
    iv: toBase64Url(iv),
    ciphertext: toBase64Url(new Uint8Array(ciphertext)),
    recipient,
    name,
  });
}

/** The identity text `record` wraps, unwrapped by its passkey. */
export async function unwrapIdentity(record: Remembered): Promise<string> {
  const fields = [record.credentialId, record.salt, record.iv, record.ciphertext];
  const [rawId, salt, iv, ciphertext] = fields.map((text) => fromBase64(text, true));
  if (!rawId || !salt || !iv || !ciphertext) {
    throw new PasskeyError('the identity this browser remembers is malformed: forget it');
  }
  const key = await wrappingKey(await evaluate(rawId, salt));
  try {
    const plain = await crypto.subtle.decrypt(
      {
        name: 'AES-GCM',
        iv: iv as BufferSource,
        additionalData: associated(record.recipient),
      },
      key,
      ciphertext as BufferSource,
    );
    return new TextDecoder().decode(plain);
  } catch {
    throw new PasskeyError(
      'the identity this browser remembers does not unwrap with this passkey: it was ' +
        'altered in storage or wrapped by another passkey. Nothing was unlocked',
    );
  }
}
