import assert from 'node:assert/strict';
import { test } from 'node:test';

import { BADGES, type EnvironmentState } from '../../src/contract';
import { backoffMs, FolderState, presentBadge, rowTooltip, summary } from '../../src/model';

function env(environment: string, badge: EnvironmentState['badge']): EnvironmentState {
  return {
    project: 'app',
    environment,
    file: `.env.${environment}`,
    badge,
    localVersion: 1,
    remoteVersion: 2,
    action: null,
    author: null,
    fileHolds: null,
  };
}

test('the five badges read as the CLI names them', () => {
  const labels = BADGES.map((badge) => presentBadge(badge).label);
  assert.deepEqual(labels.slice(0, 5), [
    'synced ✓',
    'local changes • push',
    'update available • pull',
    'diverged ⚠ • sync',
    'not linked • pull',
  ]);
  assert.equal(presentBadge('diverged').action, 'sync');
  assert.equal(presentBadge('no_access').action, null);
});

test('summary counts what needs doing', () => {
  assert.equal(summary([], 0), 'envsync');
  assert.equal(summary([env('a', 'synced')], 0), 'envsync: synced');
  assert.equal(
    summary([env('a', 'update_available'), env('b', 'synced')], 1),
    'envsync: 1 update, 1 waiting',
  );
  assert.equal(
    summary([env('a', 'update_available'), env('b', 'not_linked'), env('c', 'diverged')], 0),
    'envsync: 2 updates, 1 diverged',
  );
  assert.equal(summary([env('a', 'local_changes')], 2), 'envsync: 1 to push, 2 waiting');
  const empty = { ...env('b', 'not_linked'), remoteVersion: null };
  assert.equal(summary([env('a', 'synced'), empty], 0), 'envsync: synced');
});

test('backoff doubles from 0.5 s to 30 s', () => {
  assert.deepEqual([0, 1, 2, 3].map(backoffMs), [500, 1000, 2000, 4000]);
  assert.equal(backoffMs(6), 30_000);
  assert.equal(backoffMs(1000), 30_000);
});

test('folder state follows watch events', () => {
  const state = new FolderState();
  state.replace([env('development', 'update_available')], []);
  assert.ok(
    state.apply({
      event: 'pulled',
      project: 'app',
      environment: 'development',
      file: '.env',
      version: 3,
      author: 'bob',
    }),
  );
  const row = [...state.environments.values()][0];
  assert.equal(row.badge, 'synced');
  assert.equal(row.remoteVersion, 3);
  assert.equal(row.author, 'bob');
  assert.ok(state.apply({ event: 'status', ...env('staging', 'local_changes') }));
  assert.deepEqual(
    [
      ...state
        .projects()
        .get('app')!
        .map((entry) => entry.environment),
    ],
    ['development', 'staging'],
  );
  assert.ok(!state.apply({ event: 'error', project: null, environment: null, message: 'x' }));
  assert.equal(state.lastError, 'x');
});

test('the tooltip names the file and versions, never a value', () => {
  const tooltip = rowTooltip({ ...env('staging', 'diverged'), author: 'bob' });
  assert.match(tooltip, /app\/staging — diverged ⚠ • sync/);
  assert.match(tooltip, /local v1, remote v2/);
  assert.match(tooltip, /remote head by bob/);
});

test('envsync use: the default file counts once, under the environment it holds', () => {
  const state = new FolderState();
  const development = { ...env('development', 'not_linked' as const), file: '.env' };
  const staging = { ...env('staging', 'synced' as const), file: '.env' };
  state.replace(
    [{ ...development, fileHolds: 'staging' }, staging, env('qa', 'synced')],
    [],
    [{ project: 'app', environment: 'staging', chosenBy: 'use' }],
  );
  const [held, used, qa] = [...state.environments.values()];
  assert.deepEqual(
    state.linked().map((row) => row.environment),
    ['staging', 'qa'],
  );
  assert.equal(state.useRole(held), 'displaced');
  assert.equal(state.useRole(used), 'in_use');
  assert.equal(state.useRole(qa), 'usable');
  // The displaced environment's "not linked" is no update to pull.
  assert.equal(summary([...state.environments.values()], 0), 'envsync: synced');
  assert.match(rowTooltip(held), /\.env holds app\/staging instead \(envsync use\)/);
});

test('envsync use: the default environment holding its own file offers no switch', () => {
  const state = new FolderState();
  const development = { ...env('development', 'synced' as const), file: '.env' };
  const secret = env('production', 'no_access');
  state.replace(
    [development, env('staging', 'synced'), secret],
    [],
    [{ project: 'app', environment: 'development', chosenBy: 'default' }],
  );
  const roles = [...state.environments.values()].map((row) => state.useRole(row));
  assert.deepEqual(roles, ['none', 'usable', 'none']);
});
