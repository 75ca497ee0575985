// Byte encodings the records use: hex digests, standard base64 signatures, base64url keys.
// Encodings only; every cryptographic operation is in @noble/* and age-encryption.

export const utf8 = (text: string): Uint8Array<ArrayBuffer> => new TextEncoder().encode(text);

export function hex(bytes: Uint8Array): string {
  return Array.from(bytes, (byte) => byte.toString(16).padStart(2, '0')).join('');
}

/** Standard or URL-safe base64 (with or without padding) to bytes; `null` if malformed. */
export function fromBase64(text: string, urlSafe: boolean): Uint8Array | null {
  const alphabet = urlSafe ? /^[A-Za-z0-9_-]*$/ : /^[A-Za-z0-9+/]*={0,2}$/;
  if (!alphabet.test(text)) return null;
  const standard = urlSafe ? text.replace(/-/g, '+').replace(/_/g, '/') : text;
  try {
    return Uint8Array.from(atob(standard.padEnd(Math.ceil(standard.length / 4) * 4, '=')), (c) =>
      c.charCodeAt(0),
    );
  } catch {
    return null;
  }
}

export function toBase64Url(bytes: Uint8Array): string {
  return btoa(String.fromCharCode(...bytes))
    .replace(/\+/g, '-')
    .replace(/\//g, '_')
    .replace(/=+$/, '');
}

/** Standard base64 with padding, as the records' signatures and pushed ciphertexts are
 * written; in chunks, since a spread of a large file's bytes would overflow the stack. */
export function toBase64(bytes: Uint8Array): string {
  let binary = '';
  for (let at = 0; at < bytes.length; at += 0x8000) {
    binary += String.fromCharCode(...bytes.subarray(at, at + 0x8000));
  }
  return btoa(binary);
}
