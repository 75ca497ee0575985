import assert from 'node:assert/strict';
import { test } from 'node:test';

import {
  ContractError,
  parseAction,
  parseBadge,
  parseCliError,
  parseLog,
  parseMembers,
  parseShared,
  parseStatus,
  parseUsed,
  parseSyncPlan,
  parseVersion,
  parseWatchLine,
  versionAtLeast,
} from '../../src/contract';

test('badges: snake_case and the spaced labels of older CLIs', () => {
  assert.equal(parseBadge('local_changes'), 'local_changes');
  assert.equal(parseBadge('update available'), 'update_available');
  assert.throws(() => parseBadge('synced!'), ContractError);
  assert.throws(() => parseBadge(3), ContractError);
});

test('actions: "push" and the older "envsync push"; anything else is none', () => {
  assert.equal(parseAction('push'), 'push');
  assert.equal(parseAction('envsync sync'), 'sync');
  assert.equal(parseAction('envsync rm'), null);
  assert.equal(parseAction(undefined), null);
});

test('status: environments and pending members, new_key normalised', () => {
  const document = parseStatus(
    JSON.stringify({
      schema: 1,
      environments: [
        {
          project: 'app',
          environment: 'development',
          file: '.env',
          badge: 'diverged',
          action: 'sync',
          local_version: 2,
          remote_version: 3,
          remote_author: 'bob',
        },
      ],
      pending_members: [
        { project: 'app', name: 'carol', fingerprint: 'SHA256:x', kind: 'new key' },
      ],
      rotations: [],
    }),
  );
  assert.equal(document.environments[0].badge, 'diverged');
  assert.equal(document.environments[0].action, 'sync');
  assert.equal(document.environments[0].author, 'bob');
  assert.deepEqual(document.pending[0].kind, 'new_key');
});

test('status: envsync use (file_holds, current) and the use document', () => {
  const row = (environment: string, fileHolds: string | null) => ({
    project: 'app',
    environment,
    file: '.env',
    badge: fileHolds ? 'not_linked' : 'synced',
    action: null,
    local_version: null,
    remote_version: 1,
    remote_author: null,
    file_holds: fileHolds,
  });
  const document = parseStatus(
    JSON.stringify({
      schema: 2,
      environments: [row('development', 'staging'), row('staging', null)],
      pending_members: [],
      rotations: [],
      current: [
        { project: 'app', environment: 'staging', chosen_by: 'use', needs_explicit_env: false },
      ],
    }),
  );
  assert.deepEqual(
    document.environments.map((env) => env.fileHolds),
    ['staging', null],
  );
  assert.deepEqual(document.current, [{ project: 'app', environment: 'staging', chosenBy: 'use' }]);
  const used = parseUsed(
    '{"schema":2,"project":"app","environment":"staging","previous":"development",' +
      '"file":".env","version":3,"author":"bob"}',
  );
  assert.equal(used.version, 3);
  assert.throws(() => parseUsed('{"schema":2,"project":"app"}'), /environment/);
});

test('status: a row without a badge is an error naming the field', () => {
  const bad = JSON.stringify({ environments: [{ project: 'a', environment: 'b', file: 'c' }] });
  assert.throws(() => parseStatus(bad), /badge/);
  assert.throws(() => parseStatus('not json'), /not JSON/);
});

test('watch lines: every event, unknown ones passed through', () => {
  const status = parseWatchLine(
    '{"schema":1,"event":"status","project":"p","environment":"e","file":".env",' +
      '"badge":"local_changes","local_version":1,"remote_version":1,"action":"envsync push"}',
  );
  assert.equal(status.event, 'status');
  assert.equal(status.event === 'status' && status.action, 'push');
  const pulled = parseWatchLine(
    '{"event":"pulled","project":"p","environment":"e","file":".env","version":4,"author":"bob"}',
  );
  assert.deepEqual(pulled, {
    event: 'pulled',
    project: 'p',
    environment: 'e',
    file: '.env',
    version: 4,
    author: 'bob',
  });
  const gone = parseWatchLine('{"event":"disconnected","remote":"r","retry_in_ms":500}');
  assert.equal(gone.event === 'disconnected' && gone.retryInMs, 500);
  assert.deepEqual(parseWatchLine('{"event":"later"}'), { event: 'unknown', name: 'later' });
  const would = parseWatchLine(
    '{"schema":2,"event":"would_pull","project":"p","environment":"e","file":".env",' +
      '"version":5,"author":"bob"}',
  );
  assert.equal(would.event === 'would_pull' && would.author, 'bob');
  assert.throws(() => parseWatchLine('{"schema":3,"event":"status"}'), /schema 3 is newer/);
  assert.throws(() => parseStatus('{"schema":3,"environments":[]}'), /update it/);
  assert.throws(() => parseWatchLine('{"no":"event"}'), ContractError);
  // The one-line failure document that ends a stream reads as an error event.
  assert.deepEqual(parseWatchLine('{"schema":1,"error":"no token for server","exit_code":5}'), {
    event: 'error',
    project: null,
    environment: null,
    message: 'no token for server',
  });
});

test('log, members, sync plan, error document', () => {
  const log = parseLog(
    JSON.stringify([
      {
        version: 2,
        author: 'alice',
        fingerprint: 'f',
        time: 't',
        message: 'm',
        changes: { added: ['A'], changed: [], removed: ['B'] },
      },
    ]),
  );
  assert.deepEqual(log[0].changes, { added: ['A'], changed: [], removed: ['B'] });
  assert.throws(() => parseLog('[{"author":"x"}]'), /version/);
  const members = parseMembers(
    '[{"name":"bob","fingerprint":"f","role":"writer","environments":null,' +
      '"status":"new_key","you":false}]',
  );
  assert.equal(members[0].status, 'new_key');
  assert.equal(members[0].environments, null);
  const plan = parseSyncPlan('{"action":"merge","remote_version":3,"conflicts":["API_KEY"]}');
  assert.deepEqual(plan.conflicts, ['API_KEY']);
  assert.deepEqual(parseCliError('{"error":"no remote","exit_code":2}'), {
    error: 'no remote',
    exitCode: 2,
  });
  assert.equal(parseCliError('{"version":1}'), null);
  assert.equal(parseCliError('garbage'), null);
});

test('share: the bundle and the passphrase the CLI chose; a missing one is an error', () => {
  const shared = parseShared('{"schema":2,"bundle":"/w/app.share","passphrase":"a-b-c-d"}');
  assert.deepEqual(shared, { bundle: '/w/app.share', passphrase: 'a-b-c-d' });
  assert.throws(() => parseShared('{"bundle":"/w/app.share"}'), /passphrase/);
});

test('versions', () => {
  assert.deepEqual(parseVersion('envsync 0.1.0\n'), [0, 1, 0]);
  assert.equal(parseVersion('envsync'), null);
  assert.ok(versionAtLeast([0, 2, 0], [0, 1, 9]));
  assert.ok(versionAtLeast([0, 1, 0], [0, 1, 0]));
  assert.ok(!versionAtLeast([0, 0, 9], [0, 1, 0]));
});
