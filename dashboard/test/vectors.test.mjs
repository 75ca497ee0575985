// The page's record checks against the same signed-record test vectors as the Rust ones
// (crates/envsync-client/tests/data/signed-records.json): the exact signed bytes, the
// chaining digest and the signature of every signed structure, and the member key the
// vectors' test identity derives (age recipient and HKDF-derived Ed25519 key).
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { build } from 'esbuild';

const root = new URL('..', import.meta.url).pathname;
const VECTORS = JSON.parse(
  readFileSync(`${root}../crates/envsync-client/tests/data/signed-records.json`, 'utf8'),
);
/** The vectors' identity (crates/envsync-client/tests/vectors.rs); it protects nothing. */
const TEST_KEY = 'AGE-SECRET-KEY-1YGN2QP89W58WWMQ6GTCWD6QW4HDYEL2JFZDE5L5CJ8HMATQ7G6ZSZQELVS';

let records, identity, dotenv;
const scratch = mkdtempSync(join(tmpdir(), 'envsync-vectors-'));

/** The page's own modules, bundled by the same esbuild for Node. */
async function load(entry) {
  const outfile = join(scratch, `${entry.replace(/\W/g, '_')}.mjs`);
  await build({ entryPoints: [`${root}src/${entry}`], bundle: true, format: 'esm', outfile });
  return import(pathToFileURL(outfile).href);
}

before(async () => {
  records = await load('unlock/records.ts');
  identity = await load('unlock/identity.ts');
  dotenv = await load('unlock/dotenv.ts');
});
after(() => rmSync(scratch, { recursive: true, force: true }));

const DOMAINS = ['version', 'membership', 'access request', 'invite', 'join'];

test('every signed structure gives the committed bytes, digest and signature', () => {
  for (const domain of DOMAINS) {
    const { body, expected } = VECTORS[domain];
    const bytes = new TextDecoder().decode(records.signedBytes(domain, body));
    assert.equal(bytes, expected.signed_bytes, domain);
    assert.equal(records.digest(domain, body), expected.digest, domain);
    assert.ok(records.signatureVerifies(domain, { body, signature: expected.signature }), domain);
  }
});

test('a changed byte, another domain or another key breaks the committed signature', () => {
  const { body, expected } = VECTORS.version;
  const tampered = { ...body, ciphertext_size: body.ciphertext_size + 1 };
  assert.ok(
    !records.signatureVerifies('version', { body: tampered, signature: expected.signature }),
  );
  const membership = VECTORS.membership;
  assert.ok(
    !records.signatureVerifies('version', { body: membership.body, signature: expected.signature }),
  );
  const flipped = Buffer.from(expected.signature, 'base64');
  flipped[0] ^= 1;
  assert.ok(!records.signatureVerifies('version', { body, signature: flipped.toString('base64') }));
});

test('field order and unknown fields are the canonical form, as serde reads them', () => {
  const { body, expected } = VECTORS.version;
  const reordered = Object.fromEntries(Object.entries(body).reverse());
  reordered.padding = 'ignored';
  assert.ok(
    records.signatureVerifies('version', { body: reordered, signature: expected.signature }),
  );
  assert.throws(() => records.signedBytes('version', { ...body, number: '2' }), /number/);
  assert.throws(() => records.signedBytes('version', { ...body, number: 2 ** 60 }), /number/);
});

test("the vectors' identity derives the member key that signed them", async () => {
  const unlocked = await identity.readIdentity(`# name: vector\n${TEST_KEY}\n`);
  assert.equal(unlocked.memberKey, VECTORS.version.body.author);
  assert.equal(unlocked.name, 'vector');
  await assert.rejects(identity.readIdentity('# nothing\n'), /no AGE-SECRET-KEY-1/);
  await assert.rejects(identity.readIdentity('hello\n'), /unexpected line/);
  await assert.rejects(identity.readIdentity('AGE-SECRET-KEY-1NOPE\n'), /not a valid/);
});

test('a decrypted file reads as npm dotenv reads it', () => {
  const parsed = dotenv.parseDotenv(
    'A=1\nexport B = two # note\nC="line\\nbreak"\nD=\'$x\'\n# E=no\nA=again\n',
  );
  assert.deepEqual(
    [...parsed],
    [
      ['A', 'again'],
      ['B', 'two'],
      ['C', 'line\nbreak'],
      ['D', '$x'],
    ],
  );
});
