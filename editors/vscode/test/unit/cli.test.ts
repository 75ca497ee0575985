// The CLI runner against real binaries: a missing one, and the envsync this repository
// builds (ENVSYNC_BIN, else target/debug/envsync), whose real `--json` output the contract
// module must read.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';

import { checkBinary, Cli, expandPath, failureMessage, healthMessage } from '../../src/cli';
import { parseStatus, parseWatchLine } from '../../src/contract';

const BIN = process.env.ENVSYNC_BIN ?? path.resolve(__dirname, '../../../../target/debug/envsync');

function sandbox() {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'envsync-unit-'));
  const home = path.join(root, 'home');
  const work = path.join(root, 'work');
  fs.mkdirSync(home);
  fs.mkdirSync(work);
  fs.mkdirSync(path.join(root, 'remote'));
  const env = { PATH: process.env.PATH, HOME: home, XDG_CONFIG_HOME: path.join(home, '.config') };
  return { root, work, env };
}

test('expandPath: ${workspaceFolder} and ~', () => {
  assert.equal(expandPath('${workspaceFolder}/bin/envsync', '/w', '/h'), '/w/bin/envsync');
  assert.equal(expandPath('~/bin/envsync', undefined, '/h'), '/h/bin/envsync');
  assert.equal(expandPath('  ', '/w', '/h'), '');
});

test('a missing binary is reported with the install command, quickly', async () => {
  const cli = new Cli('/nonexistent/envsync', () => undefined);
  const health = await checkBinary(cli, os.tmpdir());
  assert.equal(health.kind, 'missing');
  assert.match(healthMessage(health)!, /cargo install --locked --path crates\/envsync/);
});

test('the real CLI: version, status and watch output parse, errors read', async () => {
  assert.ok(fs.existsSync(BIN), `build the CLI first (cargo build -p envsync): ${BIN}`);
  const { root, work, env } = sandbox();
  const lines: string[] = [];
  const cli = new Cli(BIN, (line) => lines.push(line));
  try {
    assert.equal((await checkBinary(cli, work)).kind, 'ok');
    const run = (args: string[]) => cli.run(args, { cwd: work, env });
    assert.equal((await run(['keygen', '--name', 'alice'])).code, 0);
    assert.equal((await run(['init', '--remote', '../remote', '-p', 'app'])).code, 0);
    fs.writeFileSync(path.join(work, '.env'), 'API_KEY=unit-secret-1\n');
    const status = parseStatus((await run(['status', '--json'])).stdout);
    assert.equal(status.environments[0].badge, 'local_changes');
    assert.equal((await run(['push', '--json'])).code, 0);
    const synced = parseStatus((await run(['status', '--json'])).stdout);
    assert.equal(synced.environments[0].badge, 'synced');
    const failed = await run(['pull', '--json', '-e', 'nope']);
    assert.notEqual(failed.code, 0);
    assert.match(failureMessage(failed), /nope/);
    const watch = await cli.run(['watch', '--json'], { cwd: work, env, timeoutMs: 3000 });
    const first = parseWatchLine(watch.stdout.split('\n')[0]);
    assert.equal(first.event, 'status');
    assert.ok(!lines.join('\n').includes('unit-secret-1'), 'the log holds no value');
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
});
