// The fingerprint envsync shows for a member key: the first 8 bytes of the SHA-256 of its
// text, as four groups of four hex digits (envsync_core::records::fingerprint).
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex } from '@noble/hashes/utils.js';

export async function fingerprint(memberKey: string): Promise<string> {
  const hex = bytesToHex(sha256(new TextEncoder().encode(memberKey)));
  return [0, 4, 8, 12].map((at) => hex.slice(at, at + 4)).join('-');
}
