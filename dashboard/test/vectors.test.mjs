// The page's record checks against the same signed-record test vectors as the Rust ones
// (crates/envsync-client/tests/data/signed-records.json): the exact signed bytes, the
// chaining digest and the signature of every signed structure, and the member key the
// vectors' test identity derives (age recipient and HKDF-derived Ed25519 key).
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
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

let records, identity, dotenv, invite, documents;
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
  invite = await load('unlock/invite.ts');
  documents = await load('unlock/documents.ts');
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

test("records signed here are the CLI's documents, byte for byte", async () => {
  const unlocked = await identity.readIdentity(`# name: vector\n${TEST_KEY}\n`);
  for (const domain of DOMAINS) {
    const { body, expected } = VECTORS[domain];
    const reordered = Object.fromEntries(Object.entries(body).reverse());
    assert.equal(invite.signedDocument(domain, reordered, unlocked), expected.document, domain);
    // Compact, as a pushed version carries its record (serde_json's `to_raw_value`).
    const compact = JSON.stringify(JSON.parse(expected.document));
    assert.equal(documents.compactDocument(domain, reordered, unlocked), compact, domain);
  }
});

test('an invite made here is signed by the owner, for the code it shows', async () => {
  const owner = await identity.readIdentity(`# name: vector\n${TEST_KEY}\n`);
  const terms = { role: 'reader', environments: ['staging'], expiresInSeconds: 3600 };
  const now = new Date('2026-12-01T00:00:00.750Z');
  const made = invite.makeInvite(owner, 'app', terms, now);
  assert.match(made.code, /^esi_[A-Za-z0-9_-]{43}$/);
  assert.equal(made.codeSha256, createHash('sha256').update(made.code).digest('hex'));
  const record = JSON.parse(made.document);
  assert.deepEqual(record.body, {
    ...VECTORS.invite.body,
    code_sha256: made.codeSha256,
    expires_at: Date.parse('2026-12-01T01:00:00Z') / 1000,
  });
  assert.ok(records.signatureVerifies('invite', record));
  assert.notEqual(invite.makeInvite(owner, 'app', terms, now).code, made.code);
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
