import assert from 'node:assert/strict';
import { test } from 'node:test';

import { decidedValues, resolveArgs } from '../../src/conflict';
import {
  applyValues,
  maskValue,
  parseEntries,
  parseVariables,
  renderDotenv,
} from '../../src/dotenv';

const FILE = '# db\nDB_URL=postgres://x\nexport API_KEY="a b"\n\nEMPTY=\nTOKEN=t # note\n';

test('entries: keys, values and where the values sit', () => {
  const entries = parseEntries(FILE);
  assert.deepEqual(
    entries.map((entry) => [entry.key, entry.value, entry.line]),
    [
      ['DB_URL', 'postgres://x', 1],
      ['API_KEY', 'a b', 2],
      ['EMPTY', '', 4],
      ['TOKEN', 't', 5],
    ],
  );
  const api = entries[1];
  assert.equal(FILE.split('\n')[2].slice(api.valueStart, api.valueEnd), '"a b"');
});

test('applying decisions: set, remove, append; the rest untouched', () => {
  const decided = new Map<string, string | null>([
    ['DB_URL', 'postgres://y'],
    ['TOKEN', null],
    ['NEW', 'has space'],
  ]);
  const result = applyValues(FILE, decided);
  assert.equal(
    result,
    '# db\nDB_URL=postgres://y\nexport API_KEY="a b"\n\nEMPTY=\nNEW="has space"\n',
  );
  assert.equal(parseVariables(result).get('NEW'), 'has space');
});

test('rendered remote text masks values by default', () => {
  const variables = new Map([
    ['A', 'secret'],
    ['B', ''],
  ]);
  assert.equal(renderDotenv(variables, true), 'A=••••••••\nB=\n');
  assert.equal(renderDotenv(variables, false), 'A=secret\nB=\n');
  assert.equal(maskValue('x'), maskValue('a much longer value'));
});

test('conflict decisions: mine, theirs, a new value or a deletion', () => {
  const sides = {
    ours: new Map([
      ['A', 'mine'],
      ['B', 'b1'],
    ]),
    theirs: new Map([['A', 'theirs']]),
  };
  const decided = decidedValues(
    new Map([
      ['A', { kind: 'theirs' } as const],
      ['B', { kind: 'theirs' } as const],
      ['C', { kind: 'value', value: 'typed' } as const],
    ]),
    sides,
  );
  assert.deepEqual(
    [...decided],
    [
      ['A', 'theirs'],
      ['B', null],
      ['C', 'typed'],
    ],
  );
  const { args, input } = resolveArgs(
    new Map([
      ['A', { kind: 'ours' } as const],
      ['C', { kind: 'value', value: 'typed' } as const],
    ]),
  );
  assert.deepEqual(args, ['--resolve', 'A=ours', '--resolve', 'C=stdin']);
  assert.equal(input, 'typed\n');
});
