import assert from 'node:assert/strict';
import { test } from 'node:test';

import {
  findLiterals,
  findUses,
  inCompletionContext,
  missingIn,
  secretReason,
  unevenKeys,
  unusedKeys,
  useAt,
} from '../../src/usage';

test('uses in several languages', () => {
  const code = [
    'const a = process.env.API_KEY;',
    'db = os.environ[\'DB_URL\'] or os.getenv("PORT")',
    'let k = std::env::var("TOKEN");',
    "url = ENV.fetch('REDIS_URL')",
    'x := os.Getenv("GO_VAR") + import.meta.env.VITE_X',
  ].join('\n');
  assert.deepEqual(
    findUses(code)
      .map((use) => use.name)
      .sort(),
    ['API_KEY', 'DB_URL', 'GO_VAR', 'PORT', 'REDIS_URL', 'TOKEN', 'VITE_X'],
  );
  const use = useAt(code, 0, 25);
  assert.equal(use?.name, 'API_KEY');
  assert.equal(code.split('\n')[0].slice(use!.start, use!.end), 'API_KEY');
});

test('completion contexts', () => {
  assert.ok(inCompletionContext('const a = process.env.'));
  assert.ok(inCompletionContext('const a = process.env.AP'));
  assert.ok(inCompletionContext("os.environ['"));
  assert.ok(inCompletionContext('std::env::var("'));
  assert.ok(!inCompletionContext('const a = process.'));
  assert.ok(!inCompletionContext('os.environ'));
});

test('missing and uneven keys', () => {
  const definitions = {
    byEnvironment: new Map([
      ['app/development', new Set(['A', 'B'])],
      ['app/staging', new Set(['A'])],
    ]),
  };
  assert.deepEqual(missingIn(definitions, 'B'), ['app/staging']);
  assert.deepEqual(missingIn(definitions, 'A'), []);
  assert.deepEqual([...unevenKeys(definitions)], [['B', ['app/staging']]]);
});

test('hard-coded secrets: a linked value, or a credential shape', () => {
  const linked = new Map([['API_KEY', 'alpha-123-long']]);
  const literals = findLiterals('call("alpha-123-long", \'short\', "ghp_' + 'a'.repeat(36) + '")');
  assert.deepEqual(
    literals.map((literal) => secretReason(literal.value, linked)),
    [{ key: 'API_KEY' }, { key: null }],
  );
  assert.equal(secretReason('just a sentence', linked), null);
});

test('unused keys: those no code reads, and none while no use was found at all', () => {
  const used = new Set(findUses('const a = process.env.API_KEY;').map((use) => use.name));
  assert.deepEqual(unusedKeys(['API_KEY', 'DB_URL', 'PORT'], used), ['DB_URL', 'PORT']);
  assert.deepEqual(unusedKeys(['API_KEY', 'DB_URL'], new Set()), []);
});
