// The page's history checks refusing what an attacker who runs the server could show: a
// reordered or forged membership log, a version by a non-member, a broken chain, a writer's
// supersede, a head below the one the log pinned. Records are signed here with real
// Ed25519 keys derived as envsync derives them, and checked by the page's own modules.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { build } from 'esbuild';

const root = new URL('..', import.meta.url).pathname;
const scratch = mkdtempSync(join(tmpdir(), 'envsync-verify-'));
const OWNER = 'AGE-SECRET-KEY-1YGN2QP89W58WWMQ6GTCWD6QW4HDYEL2JFZDE5L5CJ8HMATQ7G6ZSZQELVS';
let page;
let owner, writer, stranger;

before(async () => {
  const outfile = join(scratch, 'page.mjs');
  await build({
    stdin: {
      contents: [
        "export * from './unlock/verify';",
        "export * from './unlock/membership';",
        "export * from './unlock/records';",
        "export * from './unlock/identity';",
        "export { ed } from './unlock/ed25519';",
        "export { hkdf } from '@noble/hashes/hkdf.js';",
        "export { sha256 } from '@noble/hashes/sha2.js';",
        "export { generateX25519Identity } from 'age-encryption';",
      ].join('\n'),
      resolveDir: `${root}src`,
      loader: 'ts',
    },
    bundle: true,
    format: 'esm',
    outfile,
  });
  page = await import(pathToFileURL(outfile).href);
  owner = await signer(OWNER);
  writer = await signer(await page.generateX25519Identity());
  stranger = await signer(await page.generateX25519Identity());
});
after(() => rmSync(scratch, { recursive: true, force: true }));

/** A key pair as envsync makes it: the Ed25519 seed is HKDF-SHA256 of the age secret. */
async function signer(secret) {
  const { memberKey } = await page.readIdentity(secret);
  const bytes = (text) => new TextEncoder().encode(text);
  const seed = page.hkdf(
    page.sha256,
    bytes(secret),
    bytes('envsync'),
    bytes('envsync/ed25519-signing-key/v1'),
    32,
  );
  const sign = (kind, body) => ({
    body,
    signature: Buffer.from(page.ed.sign(page.signedBytes(kind, body), seed)).toString('base64'),
  });
  return { key: memberKey, sign };
}

const AT = '2026-12-01T00:00:00Z';

function entry(by, number, parent, action, who, role, heads = {}) {
  return by.sign('membership', {
    format: 2,
    project: 'app',
    number,
    parent_digest: parent ? page.digest('membership', parent.body) : null,
    action,
    member: who.key,
    name: who === owner ? 'alice' : 'bob',
    role,
    environments: null,
    heads,
    actor: by.key,
    created_at: AT,
  });
}

function version(by, log, number, base) {
  const tip = log.at(-1);
  return by.sign('version', {
    format: 2,
    project: 'app',
    environment: 'development',
    number,
    base: base ? base.body.number : null,
    parent_digest: base ? page.digest('version', base.body) : null,
    membership: { number: tip.body.number, digest: page.digest('membership', tip.body) },
    author: by.key,
    author_name: 'x',
    created_at: AT,
    message: `v${number}`,
    keys: ['A'],
    changes: { added: ['A'], removed: [], changed: [] },
    recipients: [by.key],
    ciphertext_sha256: 'c'.repeat(64),
    ciphertext_size: 1,
  });
}

function team() {
  const first = entry(owner, 1, null, 'add', owner, 'owner');
  const second = entry(owner, 2, first, 'add', writer, 'writer');
  return [first, second];
}

const verify = (log, versions, head) =>
  page.verifyHistory(page.fold('app', log), 'development', versions, head);

test('an honest history verifies, head to version 1', () => {
  const log = team();
  const v1 = version(owner, log, 1, null);
  const v2 = version(writer, log, 2, v1);
  const checked = verify(log, [v1, v2], 2);
  assert.equal(checked.head.body.number, 2);
  assert.deepEqual([...checked.chain.keys()], [2, 1]);
});

test('a membership log reordered, forged or extended by a non-owner is refused', () => {
  const [first, second] = team();
  assert.throws(() => page.fold('app', [second, first]), /missing, reordered or replaced/);
  const forged = { ...second, body: { ...second.body, role: 'owner' } };
  assert.throws(() => page.fold('app', [first, forged]), /signature does not verify/);
  const byWriter = entry(writer, 3, second, 'add', stranger, 'owner');
  assert.throws(() => page.fold('app', [first, second, byWriter]), /not an owner/);
  const selfMade = entry(stranger, 1, null, 'add', owner, 'owner');
  assert.throws(() => page.fold('app', [selfMade]), /not an owner/);
  assert.throws(() => page.fold('app', [null]), /holds something else/);
  const missing = { ...first, body: { ...first.body, heads: undefined } };
  assert.throws(() => page.fold('app', [missing]), /invalid at entry 1/);
});

test('a version by a non-member, a broken chain or a tampered record is refused', () => {
  const log = team();
  const v1 = version(owner, log, 1, null);
  assert.throws(() => verify(log, [v1, version(stranger, log, 2, v1)], 2), /not a member/);
  const other = version(owner, log, 1, null);
  const unlinked = version(writer, log, 2, { body: { ...other.body, message: 'else' } });
  assert.throws(() => verify(log, [v1, unlinked], 2), /does not follow version 1/);
  const tampered = { ...v1, body: { ...v1.body, ciphertext_sha256: 'd'.repeat(64) } };
  assert.throws(() => verify(log, [tampered], 1), /does not verify/);
  const moved = owner.sign('version', { ...v1.body, environment: 'production' });
  assert.throws(() => verify(log, [moved], 1), /misplaced/);
  assert.throws(() => verify(log, [{ signature: 'x' }], 1), /something other than versions/);
});

test("a writer's supersede and a head below the pinned one are refused", () => {
  const log = team();
  const v1 = version(owner, log, 1, null);
  const v2 = version(writer, log, 2, v1);
  const v3 = version(writer, log, 3, v1);
  assert.throws(() => verify(log, [v1, v2, v3], 3), /voids earlier versions/);
  const pin = { number: 2, digest: page.digest('version', v2.body) };
  const removal = entry(owner, 3, log[1], 'remove', writer, 'writer', { development: pin });
  const pinned = [...log, removal];
  assert.throws(() => verify(pinned, [v1, v2], 1), /pinned version 2: versions were deleted/);
  // The removed writer's version inside the pinned history still counts; one after it not.
  assert.equal(verify(pinned, [v1, v2], 2).head.body.number, 2);
  const late = version(writer, log, 3, v2);
  assert.throws(() => verify(pinned, [v1, v2, late], 3), /lost write access/);
});
