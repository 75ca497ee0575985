// What "Remember this device with a passkey" keeps in this browser's localStorage: the
// identity wrapped (AES-GCM) by a key only the passkey's PRF output derives, and what is
// needed to ask the passkey for that output again. Never the identity itself. Shared by the
// first-load bundle (is anything remembered? forget it) and the unlock script (wrap, unwrap).

const KEY = 'envsync-passkey';

/** The stored record; byte fields are base64url. */
export interface Remembered {
  version: 1;
  /** The WebAuthn credential whose PRF output derives the wrapping key. */
  credentialId: string;
  /** The PRF input, random per record. */
  salt: string;
  /** The AES-GCM nonce. */
  iv: string;
  /** The identity file's text, AES-GCM encrypted. */
  ciphertext: string;
  /** The member key (`age1…:<verifying key>`) of the wrapped identity: public. */
  recipient: string;
  /** The identity's `# name:` when it had one, to say whose identity this is. */
  name: string | null;
}

const isText = (value: unknown): value is string => typeof value === 'string' && value !== '';

/** The remembered identity, or `null` when there is none (or the entry is not ours). */
export function remembered(): Remembered | null {
  try {
    const value = JSON.parse(localStorage.getItem(KEY) ?? 'null') as Partial<Remembered> | null;
    const fields = [value?.credentialId, value?.salt, value?.iv, value?.ciphertext];
    if (value?.version !== 1 || !fields.every(isText) || !isText(value.recipient)) return null;
    return { ...value, name: typeof value.name === 'string' ? value.name : null } as Remembered;
  } catch {
    return null;
  }
}

export function store(record: Remembered): void {
  localStorage.setItem(KEY, JSON.stringify(record));
}

/** "Forget this device": the wrapped identity leaves this browser. */
export function forget(): void {
  localStorage.removeItem(KEY);
}
