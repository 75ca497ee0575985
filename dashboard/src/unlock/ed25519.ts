// @noble/ed25519 with its synchronous SHA-512 from @noble/hashes, set once for every user.
import * as ed from '@noble/ed25519';
import { sha512 } from '@noble/hashes/sha2.js';

ed.hashes.sha512 = sha512;

export { ed };
