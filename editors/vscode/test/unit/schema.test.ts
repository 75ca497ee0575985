// The extension's side of the CLI contract: what the contract module reads must be what the
// committed JSON Schema (schema/envsync-cli.schema.json, generated from the CLI's structs)
// says the CLI prints.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';

import { BADGES, MAX_SCHEMA } from '../../src/contract';

const SCHEMA = path.resolve(__dirname, '../../../../schema/envsync-cli.schema.json');
const schema = JSON.parse(fs.readFileSync(SCHEMA, 'utf8'));
const defs: Record<string, { properties?: Record<string, unknown> }> = schema.$defs;

/** Every value a schema node allows through `enum` and `const`, anywhere below it. */
function constants(node: unknown, found = new Set<string>()): Set<string> {
  if (Array.isArray(node)) {
    node.forEach((item) => constants(item, found));
  } else if (node && typeof node === 'object') {
    for (const [key, value] of Object.entries(node)) {
      if (key === 'const' && typeof value === 'string') found.add(value);
      if (key === 'enum' && Array.isArray(value)) value.forEach((item) => found.add(item));
      if (key !== 'description') constants(value, found);
    }
  }
  return found;
}

/** The `event` names of the watch lines, wherever the schema version puts their variants. */
function eventNames(node: unknown, found = new Set<string>()): Set<string> {
  if (Array.isArray(node)) {
    node.forEach((item) => eventNames(item, found));
  } else if (node && typeof node === 'object') {
    const event = (node as { properties?: { event?: { const?: string } } }).properties?.event;
    if (event?.const) found.add(event.const);
    Object.values(node).forEach((value) => eventNames(value, found));
  }
  return found;
}

function fields(name: string): string[] {
  return Object.keys(defs[name]?.properties ?? {});
}

test('the schema version is one this extension reads', () => {
  assert.ok(schema['x-schema-version'] <= MAX_SCHEMA, `${schema['x-schema-version']}`);
});

test('badges: exactly the CLI’s', () => {
  assert.deepEqual([...constants(defs.Badge)].sort(), [...BADGES].sort());
});

test('every watch event the CLI can print is one the extension reads', () => {
  const known = ['status', 'pulled', 'would_pull', 'error', 'connected', 'disconnected'];
  for (const name of eventNames(schema.$defs)) {
    assert.ok(known.includes(name), `unknown watch event ${name}`);
  }
  assert.ok(eventNames(schema.$defs).has('status'));
});

test('the fields the contract module reads exist', () => {
  const wanted: Record<string, string[]> = {
    EnvironmentStatus: ['project', 'environment', 'file', 'badge', 'action', 'local_version'],
    PendingMember: ['project', 'name', 'fingerprint', 'kind'],
    Version: ['version', 'author', 'fingerprint', 'time', 'message', 'changes'],
    Member: ['name', 'fingerprint', 'role', 'environments', 'status', 'you'],
    Plan: ['action', 'remote_version', 'conflicts'],
    Failure: ['error', 'exit_code'],
    Status: ['environments', 'pending_members'],
  };
  for (const [name, list] of Object.entries(wanted)) {
    for (const field of list) {
      assert.ok(fields(name).includes(field), `${name}.${field} is not in the schema`);
    }
  }
});
