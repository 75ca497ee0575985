// Benchmark: from a teammate's `envsync push` returning to (a) the clean linked file
// rewritten and (b) the extension showing the new version (its notification naming the
// version, drawn together with the tree), p50 / p99 over PUSHES pushes; and the extension's
// activation time, from its own log. Same world as the e2e suite (real server, real
// code-server, headless chromium). Run: `BENCH=1 editors/vscode/scripts/test.sh`.

import * as fs from 'node:fs';
import * as path from 'node:path';

import {
  ENVSYNC_BIN,
  inviteCode,
  Person,
  startCodeServer,
  startServer,
  tempRoot,
  until,
} from './harness.mjs';
import { Workbench } from './workbench.mjs';

const PUSHES = Number(process.env.PUSHES ?? 50);

function percentile(sorted, p) {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

async function world(root) {
  const server = await startServer(root);
  const alice = new Person(root, 'alice', server.url);
  const bob = new Person(root, 'bob', server.url);
  alice.run(['keygen', '--name', 'alice']);
  bob.run(['keygen', '--name', 'bob']);
  alice.run(['join', server.url, server.setupCode]);
  alice.write('.env', 'COUNTER=0\n');
  alice.run(['push', '-m', 'first']);
  bob.run(['join', server.url, inviteCode(alice.run(['invite', '--role', 'writer']))]);
  alice.run(['members', 'accept', bob.fingerprint(), '--role', 'writer', '--yes']);
  bob.run(['pull']);
  return { server, alice, bob };
}

async function main() {
  const root = tempRoot();
  const { server, alice, bob } = await world(root);
  const code = await startCodeServer(root, alice, { pathDirs: [path.dirname(ENVSYNC_BIN)] });
  const bench = await Workbench.open(code.url(alice.workspace));
  try {
    await bench.statusText('envsync:');
    const file = [];
    const shown = [];
    for (let index = 1; index <= PUSHES; index++) {
      bob.write('.env', `COUNTER=${index}\n`);
      const { version } = JSON.parse(bob.run(['push', '--json', '-m', `bench ${index}`]).stdout);
      const pushed = performance.now();
      await until('the file', () => alice.read('.env') === `COUNTER=${index}\n`, 20_000, 5);
      file.push(performance.now() - pushed);
      await bench.toast(`version ${version}`).waitFor({ timeout: 20_000 });
      shown.push(performance.now() - pushed);
      // VS Code shows three toasts at most: a fourth would wait, unseen, behind them.
      await bench.clearNotifications();
    }
    const logs = path.join(code.userData, 'logs');
    const activation = await until(
      'the activation line',
      () => {
        const found = fs
          .readdirSync(logs, { recursive: true })
          .filter((name) => String(name).endsWith('envsync.log'))
          .map((name) => fs.readFileSync(path.join(logs, String(name)), 'utf8'))
          .join('\n');
        return /activated in (\d+) ms/.exec(found)?.[1];
      },
      30_000,
      500,
    );
    const report = (name, values) => {
      const sorted = [...values].sort((a, b) => a - b);
      const fmt = (value) => `${value.toFixed(0)} ms`;
      console.log(
        `${name}: p50 ${fmt(percentile(sorted, 50))}, p99 ${fmt(percentile(sorted, 99))},` +
          ` max ${fmt(sorted.at(-1))} (n=${values.length})`,
      );
    };
    report('push returned -> clean file rewritten', file);
    report('push returned -> extension shows the version', shown);
    console.log(`activation: ${activation} ms`);
  } catch (error) {
    await bench.screenshot('bench-failure');
    throw error;
  } finally {
    await bench.close();
    code.stop();
    server.child.kill();
    if (!process.env.KEEP_E2E_ROOT) fs.rmSync(root, { recursive: true, force: true });
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
