// The extension in a real VS Code (code-server 4.100.3 + headless chromium) against a real
// envsync server, with Bob and Carol played by the CLI. Tests run in order and share one
// world; after each, no plaintext value may sit anywhere but the linked files, and the
// user's settings must be as they were.

import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, afterEach, before, test } from 'node:test';

import {
  argvRecorder,
  assertNothingLeaked,
  inviteCode,
  OUT_DIR,
  Person,
  seedWorkspaceCache,
  startCodeServer,
  startServer,
  tempRoot,
  until,
  withExtensionLogs,
  workspaceCaches,
} from './harness.mjs';
import { Workbench } from './workbench.mjs';

const V = {
  dev: 'dev-secret-Qm3x',
  devBob: 'dev-bob-Zr81',
  devBob2: 'dev-bob-second-Kp09',
  staging: 'stage-secret-Lw42',
  stagingAlice: 'stage-alice-Vn55',
  qa: 'qa-secret-Hd27',
  qaBob: 'qa-bob-Tt63',
  qaAlice: 'qa-alice-Ue94',
  review: 'review-bob-Bx15',
  mine: 'api-alice-conflict-Gy48',
  theirs: 'api-bob-conflict-Fo36',
  dbTheirs: 'db-bob-conflict-Ws70',
  dbMine: 'db-alice-conflict-Ja02',
  aliceNew: 'alice-only-Nc88',
  bobNew: 'bob-only-Mi19',
  typed: 'typed-in-editor-Ro77',
  api: 'api-token-Pq31',
};

/** `extraLinked`: linked files of folders a test adds. */
const world = { extraLinked: new Set() };

function linkedFiles() {
  const files = new Set();
  for (const person of [world.alice, world.bob, world.carol].filter(Boolean)) {
    for (const file of ['.env', '.env.staging', '.env.qa', '.env.review']) {
      files.add(path.join(person.workspace, file));
    }
  }
  world.extraLinked.forEach((file) => files.add(file));
  return files;
}

before(async () => {
  fs.mkdirSync(OUT_DIR, { recursive: true });
  const root = tempRoot();
  world.root = root;
  world.server = await startServer(root);
  const { url, setupCode } = world.server;
  const alice = (world.alice = new Person(root, 'alice', url));
  const bob = (world.bob = new Person(root, 'bob', url));
  alice.run(['keygen', '--name', 'alice']);
  bob.run(['keygen', '--name', 'bob']);
  alice.run(['join', url, setupCode]);
  alice.write('.env', `API_KEY=${V.dev}\nDB_URL=postgres://localhost/app\n`);
  alice.run(['push', '-m', 'first']);
  alice.write('.env.staging', `API_KEY=${V.staging}\n`);
  alice.run(['push', '-e', 'staging', '-m', 'staging']);
  alice.write('.env.qa', `API_KEY=${V.qa}\n`);
  alice.run(['push', '-e', 'qa', '-m', 'qa']);
  bob.run(['join', url, inviteCode(alice.run(['invite', '--role', 'writer']))]);
  alice.run(['members', 'accept', bob.fingerprint(), '--role', 'writer', '--yes']);
  bob.run(['pull', '--all']);
  // qa: Bob pushes while Alice has unpushed edits -> diverged for Alice.
  bob.write('.env.qa', `API_KEY=${V.qaBob}\n`);
  bob.run(['push', '-e', 'qa', '-m', 'bob qa']);
  alice.write('.env.qa', `API_KEY=${V.qaAlice}\n`);
  // review: only Bob has pushed it -> not linked for Alice.
  bob.write('.env.review', `API_KEY=${V.review}\n`);
  bob.run(['push', '-e', 'review', '-m', 'review']);
  // staging: Alice edits -> local changes.
  alice.write('.env.staging', `API_KEY=${V.stagingAlice}\n`);
  world.argv = argvRecorder(root);
  world.code = await startCodeServer(root, alice, { pathDirs: [world.argv.dir] });
  world.bench = await Workbench.open(world.code.url(alice.workspace));
  await world.bench.statusText('envsync');
});

let finished = 0;
afterEach(async () => {
  await world.bench?.screenshot(`after-${String(++finished).padStart(2, '0')}`);
  assertNothingLeaked(world, Object.values(V), linkedFiles());
});

after(async () => {
  await world.bench?.close().catch(() => undefined);
  world.code?.stop();
  world.server?.child.kill();
  if (!process.env.KEEP_E2E_ROOT) {
    fs.rmSync(world.root, { recursive: true, force: true });
  }
});

test('the tree shows every badge, and the status bar sums them up', async () => {
  const { bench } = world;
  await bench.openView();
  assert.match(await bench.waitRow('Environments', 'development', 'synced ✓'), /development/);
  await bench.waitRow('Environments', 'staging', 'local changes • push');
  await bench.waitRow('Environments', 'qa', 'diverged ⚠ • sync');
  await bench.waitRow('Environments', 'review', 'not linked • pull');
  const status = await bench.statusText('envsync:');
  assert.match(status, /envsync: 1 update, 1 to push, 1 diverged/);
  await bench.screenshot('01-badges');
});

test('inline push and pull change files and badges', async () => {
  const { bench, alice, bob } = world;
  await bench.inline('Environments', 'staging', 'Push');
  await bench.waitRow('Environments', 'staging', 'synced ✓');
  bob.run(['pull', '-e', 'staging']);
  assert.equal(bob.read('.env.staging'), `API_KEY=${V.stagingAlice}\n`);
  await bench.inline('Environments', 'review', 'Pull');
  await bench.waitRow('Environments', 'review', 'synced ✓');
  assert.equal(alice.read('.env.review'), `API_KEY=${V.review}\n`);
  assert.equal(fs.statSync(path.join(alice.workspace, '.env.review')).mode & 0o777, 0o600);
  await bench.screenshot('02-after-push-pull');
});

test("a teammate's push reaches the tree and a clean file within seconds", async () => {
  const { bench, alice, bob } = world;
  bob.run(['pull']);
  bob.write('.env', `API_KEY=${V.devBob}\nDB_URL=postgres://localhost/app\n`);
  const pushed = Date.now();
  bob.run(['push', '-m', 'bob dev']);
  await until('the pull into .env', () => alice.read('.env').includes(V.devBob), 10_000, 50);
  const took = Date.now() - pushed;
  // The notification names who pushed (needs a CLI with authors in its events, schema 2).
  await bench.waitToast('pulled app/development version 3 (pushed by bob)');
  await bench.waitRow('Environments', 'development', 'synced ✓');
  assert.ok(took < 10_000, `took ${took} ms`);
  await bench.screenshot('03-live-push-arrived');
  await bench.clearNotifications();
});

test('a file with unsaved edits is never overwritten; a warning offers Sync', async () => {
  const { bench, alice, bob } = world;
  await bench.command('envsync: Open Linked File');
  await bench.pick('app/development');
  await bench.page.locator('.monaco-editor .view-lines').first().click();
  await bench.page.keyboard.press('Control+End');
  await bench.page.keyboard.type('\nEDITED_HERE=1');
  const onDisk = alice.read('.env');
  bob.run(['pull']);
  bob.write('.env', `API_KEY=${V.devBob2}\nDB_URL=postgres://localhost/app\n`);
  bob.run(['push', '-m', 'bob dev again']);
  await bench.waitToast('your unsaved edits were left untouched');
  await bench.waitRow('Environments', 'development', 'update available • pull');
  assert.equal(alice.read('.env'), onDisk, 'the file on disk was rewritten');
  await bench.screenshot('04-dirty-file-warning');
  await bench.command('File: Revert File');
  await bench.clearNotifications();
  await bench.inline('Environments', 'development', 'Pull');
  await until('the pull', () => alice.read('.env').includes(V.devBob2));
  await bench.waitRow('Environments', 'development', 'synced ✓');
  await bench.closeAllEditors();
});

test('a refused push: diff, key by key choices, merged push with both edits', async () => {
  const { bench, alice, bob } = world;
  bob.run(['pull']);
  alice.write('.env', `API_KEY=${V.mine}\nDB_URL=${V.dbMine}\nALICE_NEW=${V.aliceNew}\n`);
  bob.write('.env', `API_KEY=${V.theirs}\nDB_URL=${V.dbTheirs}\nBOB_NEW=${V.bobNew}\n`);
  bob.run(['push', '-m', 'bob conflicting']);
  await bench.waitRow('Environments', 'development', 'diverged');
  await bench.clearNotifications();
  await bench.inline('Environments', 'development', 'Push');
  await bench.clickToastButton('the push of app/development was refused', 'Open diff');
  await bench.page.locator('.editor-instance .monaco-diff-editor').first().waitFor();
  await bench.page.locator('.view-line', { hasText: '••••••••' }).first().waitFor();
  await bench.screenshot('05-conflict-diff');
  await bench.clickToastButton(
    'the push of app/development was refused',
    'Sync (merge key by key)',
  );
  const picks = { API_KEY: 'Keep mine', DB_URL: 'Take theirs' };
  for (let index = 0; index < 2; index++) {
    const title = bench.page.locator('.quick-input-title');
    await title.first().waitFor({ timeout: 15_000 });
    const key = /: (\w+)$/.exec((await title.first().innerText()).trim())?.[1];
    assert.ok(key in picks, `asked about ${key}`);
    if (index === 0) await bench.screenshot('06-conflict-pick');
    // Nothing is written while keys are still undecided.
    assert.equal(alice.read('.env').includes(V.dbTheirs), false);
    await bench.pick(picks[key]);
    if (index === 0) {
      await until('the next pick', async () => !(await title.first().innerText()).endsWith(key));
    }
  }
  await bench.waitRow('Environments', 'development', 'synced ✓');
  bob.run(['pull']);
  const merged = bob.read('.env');
  for (const value of [V.mine, V.dbTheirs, V.aliceNew, V.bobNew]) {
    assert.ok(merged.includes(value), `the merged version lacks ${value.slice(0, 6)}`);
  }
  await bench.closeAllEditors();
  await bench.clearNotifications();
  await bench.screenshot('07-merged');
});

test('accepting a pending member from the view shows the fingerprint and the invite role first', async () => {
  const { bench, alice, root } = world;
  const carol = (world.carol = new Person(root, 'carol', world.server.url));
  carol.run(['keygen', '--name', 'carol']);
  carol.run(['join', world.server.url, inviteCode(alice.run(['invite', '--role', 'reader']))]);
  carol.run(['pull'], { expect: 5 });
  await bench.command('envsync: Refresh');
  await bench.waitRow('Collaborators', 'carol', 'asks for access');
  await bench.statusItem('1 waiting').waitFor({ timeout: 20_000 });
  await bench.inline('Collaborators', 'carol', 'Accept');
  // The invite's role, read from the owner-signed invite, shows before anything is signed.
  await bench.pick('As the invite gave');
  const dialog = bench.dialog();
  await dialog.waitFor({ timeout: 10_000 });
  const text = await dialog.innerText();
  assert.ok(text.includes(carol.fingerprint()), 'the dialog shows the fingerprint');
  assert.match(text, /Role: reader on every environment/);
  await bench.screenshot('08-accept-member');
  await dialog.locator('.monaco-button', { hasText: 'Accept and sign' }).click();
  await until(
    'carol can pull',
    () => carol.run(['pull'], { expect: null }).status === 0,
    20_000,
    500,
  );
  assert.ok(carol.read('.env').includes(V.mine));
  await bench.clearNotifications();
});

test('terminals get the variables when asked, and nothing is written', async () => {
  const { bench, code } = world;
  await bench.command("envsync: Give Terminals an Environment's Variables");
  await bench.pick('app/development');
  await bench.waitToast('new terminals get');
  await bench.command('Terminal: Create New Terminal');
  const marker = path.join(code.tmp, 'terminal-hash.txt');
  await bench.page.locator('.terminal-wrapper').first().waitFor({ timeout: 20_000 });
  await new Promise((resolve) => setTimeout(resolve, 1500));
  await bench.page.keyboard.type(`printf %s "$API_KEY" | sha256sum > ${marker}\n`);
  const expected = (await import('node:crypto')).createHash('sha256').update(V.mine).digest('hex');
  await until('the terminal hash', () => fs.readFileSync(marker, 'utf8').startsWith(expected));
  await bench.screenshot('09-terminal');
  await bench.command('Terminal: Kill All Terminals');
  await bench.command('envsync: Stop Giving Terminals Variables');
});

test('keys in code: completion of names, go to definition, diagnostics (JS, Python)', async () => {
  const { bench, alice } = world;
  const token = `ghp_${'x'.repeat(36)}`;
  fs.mkdirSync(path.join(alice.workspace, 'src'), { recursive: true });
  alice.write(
    'src/app.js',
    'const key = process.env.API_KEY;\n' +
      `const gone = process.env.NOT_ANYWHERE;\nconst t = "${token}";\n`,
  );
  alice.write(
    'src/job.py',
    'import os\nurl = os.getenv("MISSING_PY")\nkey = os.environ["ALICE_NEW"]\n',
  );
  await bench.command('envsync: Refresh');
  for (const file of ['src/job.py', 'src/app.js']) {
    await bench.openFile(file);
  }
  await bench.command('View: Focus Problems (Errors, Warnings, Infos)');
  const problems = bench.page.locator('.markers-panel');
  for (const text of [
    'NOT_ANYWHERE is not defined in app/development',
    'MISSING_PY is not defined in app/development',
    'Hard-coded secret: this looks like a credential',
  ]) {
    await problems
      .locator('.monaco-list-row', { hasText: text })
      .first()
      .waitFor({ timeout: 20_000 });
  }
  // ALICE_NEW is in development (merged above) but in no other environment.
  await problems
    .locator('.monaco-list-row', { hasText: 'ALICE_NEW is not defined in app/staging' })
    .first()
    .waitFor();
  const devMissing = problems.locator('.monaco-list-row', {
    hasText: 'ALICE_NEW is not defined in app/development',
  });
  assert.equal(await devMissing.count(), 0);
  await bench.screenshot('10-diagnostics');
  await bench.page.locator('.monaco-editor .view-lines').first().click();
  await bench.page.keyboard.press('Control+End');
  await bench.page.keyboard.type('process.env.');
  const suggest = bench.page.locator('.suggest-widget .monaco-list-row');
  await suggest.filter({ hasText: 'DB_URL' }).first().waitFor({ timeout: 20_000 });
  const shown = await bench.page.locator('.suggest-widget').innerText();
  assert.match(shown, /API_KEY/);
  assert.ok(!Object.values(V).some((value) => shown.includes(value)), 'a value in completion');
  await bench.screenshot('11-completion');
  await bench.page.keyboard.press('Escape');
  await bench.command('File: Revert File');
  // The revert reloads the text after the command returns: moving the cursor before that
  // moves it in the text being replaced.
  await bench.page
    .locator('.view-line', { hasText: /^process\.env\.$/ })
    .waitFor({ state: 'detached' });
  await bench.focusedEditor();
  await bench.page.keyboard.press('Control+Home');
  for (let i = 0; i < 'const key = process.env.AP'.length; i++) {
    await bench.page.keyboard.press('ArrowRight');
  }
  await bench.page.keyboard.press('F12');
  await bench.page.locator('.tab.active', { hasText: '.env' }).waitFor({ timeout: 20_000 });
  await bench.closeAllEditors();
  // "Move to envsync" on the hard-coded token: named, added to the linked file, referenced.
  await bench.openFile('src/app.js');
  await bench.page.locator('.view-line', { hasText: 'ghp_' }).first().click();
  await bench.page.keyboard.press('End');
  await bench.page.keyboard.press('ArrowLeft');
  await bench.page.keyboard.press('ArrowLeft');
  await bench.page.keyboard.press('ArrowLeft');
  await bench.page.keyboard.press('Control+.');
  // The quick fix comes first in the light-bulb menu (its rows never count as "stable").
  await bench.page.getByText('Move to envsync').first().waitFor();
  await bench.page.keyboard.press('Enter');
  await bench.pick('app/development');
  await bench.page.locator('.quick-input-widget input').waitFor({ state: 'visible' });
  await bench.page.keyboard.type('GH_TOKEN');
  await bench.page.keyboard.press('Enter');
  await bench.page.locator('.view-line', { hasText: 'process.env.GH_TOKEN' }).first().waitFor();
  assert.match(alice.read('.env'), new RegExp(`^GH_TOKEN=${token}$`, 'm'));
  await bench.screenshot('12-moved-to-envsync');
  await bench.command('File: Save');
  await bench.closeAllEditors();
  fs.rmSync(path.join(alice.workspace, 'src'), { recursive: true });
});

test('find references, keys no code reads, masked hovers (JS, Python)', async () => {
  const { bench, alice } = world;
  fs.mkdirSync(path.join(alice.workspace, 'lib'), { recursive: true });
  alice.write('lib/a.js', 'export const key = process.env.API_KEY;\n');
  alice.write('lib/b.py', 'import os\nkey = os.environ["API_KEY"]\n');
  await bench.command('envsync: Refresh');
  await bench.openFile('lib/a.js');
  await bench.page.locator('.view-line', { hasText: 'process.env.API_KEY' }).first().click();
  await bench.page.keyboard.press('Home');
  for (let i = 0; i < 'export const key = process.env.AP'.length; i++) {
    await bench.page.keyboard.press('ArrowRight');
  }
  // The hover names the environments and masks the value.
  await bench.command('Show or Focus Hover');
  const hover = bench.page.locator('.monaco-hover', { hasText: 'app/development' }).first();
  await hover.waitFor({ timeout: 20_000 });
  const hovered = await hover.innerText();
  assert.match(hovered, /••••••••/);
  assert.match(hovered, /Reveal/);
  assert.ok(!Object.values(V).some((value) => hovered.includes(value)), 'a value in a hover');
  await bench.screenshot('14-masked-hover');
  await bench.page.keyboard.press('Escape');
  await bench.focusedEditor();
  // Go to the definition, then find references from the linked file's key: both files.
  await bench.page.keyboard.press('F12');
  await bench.page.locator('.tab.active', { hasText: '.env' }).waitFor({ timeout: 20_000 });
  await bench.page.locator('.view-line', { hasText: 'API_KEY' }).first().click();
  await bench.page.keyboard.press('Home');
  await bench.page.keyboard.press('Shift+F12');
  const peek = bench.page.locator('.peekview-widget');
  for (const file of ['a.js', 'b.py']) {
    await peek.locator('.monaco-list-row', { hasText: file }).first().waitFor({ timeout: 20_000 });
  }
  const peeked = await peek.innerText();
  assert.ok(!Object.values(V).some((value) => peeked.includes(value)), 'a value in references');
  await bench.screenshot('15-references');
  await bench.page.keyboard.press('Escape');
  // DB_URL is in the file but no code reads it; API_KEY is read.
  await bench.command('View: Focus Problems (Errors, Warnings, Infos)');
  const problems = bench.page.locator('.markers-panel');
  await problems
    .locator('.monaco-list-row', { hasText: 'DB_URL is defined but no code in this workspace' })
    .first()
    .waitFor({ timeout: 20_000 });
  const unusedApiKey = problems.locator('.monaco-list-row', {
    hasText: 'API_KEY is defined but no code',
  });
  assert.equal(await unusedApiKey.count(), 0);
  await bench.screenshot('16-unused-key');
  await bench.closeAllEditors();
  fs.rmSync(path.join(alice.workspace, 'lib'), { recursive: true });
});

test('envsync.terminalEnvironment gives new terminals an environment without a command', async () => {
  const { bench, alice, code } = world;
  const settings = path.join(alice.workspace, '.vscode', 'settings.json');
  fs.mkdirSync(path.dirname(settings), { recursive: true });
  fs.writeFileSync(settings, JSON.stringify({ 'envsync.terminalEnvironment': 'app/staging' }));
  const staging = /^API_KEY=(.*)$/m.exec(alice.read('.env.staging'))[1];
  const { createHash } = await import('node:crypto');
  const marker = path.join(code.tmp, 'terminal-setting.txt');
  const hashInNewTerminal = async () => {
    fs.rmSync(marker, { force: true });
    await bench.command('Terminal: Create New Terminal');
    await bench.page.locator('.terminal-wrapper').first().waitFor({ timeout: 20_000 });
    await new Promise((resolve) => setTimeout(resolve, 1500));
    await bench.page.keyboard.type(`printf %s "$API_KEY" | sha256sum > ${marker}\n`);
    await until('the terminal hash', () => fs.existsSync(marker) && fs.statSync(marker).size > 0);
    await bench.command('Terminal: Kill All Terminals');
    return fs.readFileSync(marker, 'utf8').split(' ')[0];
  };
  const sha = (text) => createHash('sha256').update(text).digest('hex');
  await until(
    'the setting applied',
    async () => (await hashInNewTerminal()) === sha(staging),
    40_000,
  );
  fs.rmSync(settings);
  await until('the setting cleared', async () => (await hashInNewTerminal()) === sha(''), 40_000);
});

test('invite, audit log and rollback from the palette', async () => {
  const { bench, bob } = world;
  await bench.command('envsync: Invite Teammate');
  await bench.pick('reader');
  await bench.waitToast('the join line is on the clipboard');
  await bench.command('envsync: Audit Log');
  await bench.page.locator('.quick-input-widget input').waitFor({ state: 'visible' });
  await bench.page.keyboard.type('invite.create');
  await bench.page.keyboard.press('Enter');
  await bench.page
    .locator('.view-line', { hasText: 'invite.create' })
    .first()
    .waitFor({ timeout: 20_000 });
  await bench.screenshot('17-audit-log');
  await bench.command('View: Revert and Close Editor');
  await bench.command('envsync: Rollback to a Version');
  await bench.pick('app/staging');
  await bench.pick('v1');
  await until(
    'the rollback on the remote',
    () => {
      bob.run(['pull', '-e', 'staging']);
      return bob.read('.env.staging') === `API_KEY=${V.staging}\n`;
    },
    30_000,
    1_000,
  );
  await bench.screenshot('18-rolled-back');
});

test('envsync use from the view: .env under the environment it holds, and back', async () => {
  const { bench, alice } = world;
  await bench.clearNotifications();
  await bench.openView();
  // The key "Move to envsync" added above is pushed first (`use` refuses unpushed edits).
  await bench.waitRow('Environments', 'development', 'local changes • push');
  await bench.inline('Environments', 'development', 'Push');
  await bench.waitRow('Environments', 'development', 'synced ✓ · .env');
  const development = alice.read('.env');
  // No switch is offered to the environment .env already holds.
  const offered = await bench.contextMenuEntries('Environments', 'development');
  assert.ok(!offered.includes('Use this Environment for .env'), offered.join(', '));
  // Unpushed edits in .env: the CLI refuses, and nothing is switched.
  alice.write('.env', `${development}UNPUSHED=1\n`);
  await bench.waitRow('Environments', 'development', 'local changes • push');
  await bench.contextMenu('Environments', 'staging', 'Use this Environment for .env');
  await bench.waitToast('nothing was switched');
  assert.equal(alice.read('.env'), `${development}UNPUSHED=1\n`);
  alice.write('.env', development);
  await bench.clearNotifications();
  await bench.waitRow('Environments', 'development', 'synced ✓ · .env');

  await bench.contextMenu('Environments', 'staging', 'Use this Environment for .env');
  await bench.waitRow('Environments', 'staging', 'synced ✓ · .env (in use)');
  await bench.waitRow('Environments', 'development', 'file in use by staging');
  const row = await bench.rowText('Environments', 'development');
  assert.ok(!row.includes('.env'), `the development row still names the file: ${row}`);
  assert.equal(alice.read('.env'), alice.read('.env.staging'));
  // The status bar counts no update for the environment whose file is elsewhere.
  assert.doesNotMatch(await bench.statusText('envsync:'), /update/);
  const status = JSON.parse(alice.run(['status', '--json']).stdout);
  const held = status.environments.find((entry) => entry.environment === 'development');
  assert.equal(held.file_holds, 'staging');
  await bench.page.mouse.move(800, 500); // the row's inline icons would hide its file
  await bench.screenshot('19-use-staging');

  // Back from the in-use row, then once more from the displaced one.
  await bench.contextMenu('Environments', 'staging', 'Go Back to the Default Environment for .env');
  await bench.waitRow('Environments', 'development', 'synced ✓ · .env');
  await bench.waitRow('Environments', 'staging', 'synced ✓ · .env.staging');
  assert.equal(alice.read('.env'), development);
  await bench.contextMenu('Environments', 'review', 'Use this Environment for .env');
  await bench.waitRow('Environments', 'development', 'file in use by review');
  assert.equal(alice.read('.env'), alice.read('.env.review'));
  await bench.contextMenu('Environments', 'development', 'Use this Environment for .env');
  await bench.waitRow('Environments', 'development', 'synced ✓ · .env');
  assert.equal(alice.read('.env'), development);
  await bench.page.mouse.move(800, 500);
  await bench.screenshot('20-use-reset');
});

test('a launch configuration with "envsync": "staging" gets its variables, no file', async () => {
  const { bench, alice, code } = world;
  const staging = /^API_KEY=(.*)$/m.exec(alice.read('.env.staging'))[1];
  const marker = path.join(code.tmp, 'debug-hash.txt');
  const refused = path.join(code.tmp, 'debug-refused.txt');
  // The probe writes a hash of what it was given, never the value.
  alice.write(
    'debug-probe.js',
    "const { createHash } = require('node:crypto');\n" +
      "const seen = createHash('sha256').update(process.env.API_KEY ?? '').digest('hex');\n" +
      "require('node:fs').writeFileSync(process.argv[2], seen);\n",
  );
  const launch = path.join(alice.workspace, '.vscode', 'launch.json');
  fs.mkdirSync(path.dirname(launch), { recursive: true });
  fs.writeFileSync(
    launch,
    JSON.stringify({
      version: '0.2.0',
      configurations: [
        {
          type: 'node',
          request: 'launch',
          name: 'probe with envsync staging',
          program: '${workspaceFolder}/debug-probe.js',
          args: [marker],
          envsync: 'staging',
          console: 'internalConsole',
        },
        {
          type: 'node',
          request: 'launch',
          name: 'probe with an unknown environment',
          program: '${workspaceFolder}/debug-probe.js',
          args: [refused],
          envsync: 'nowhere',
          console: 'internalConsole',
        },
      ],
    }),
  );
  await bench.command('Debug: Select and Start Debugging');
  await bench.pick('probe with envsync staging');
  const { createHash } = await import('node:crypto');
  const expected = createHash('sha256').update(staging).digest('hex');
  await until(
    'the probe run by the debugger',
    () => fs.existsSync(marker) && fs.readFileSync(marker, 'utf8') === expected,
    60_000,
    250,
  );
  await bench.screenshot('21-debug-with-envsync');
  // An environment no envsync.toml has: the session does not start.
  await bench.command('Debug: Select and Start Debugging');
  await bench.pick('probe with an unknown environment');
  await bench.waitToast('no environment `nowhere` in this workspace');
  assert.equal(fs.existsSync(refused), false, 'the refused session ran');
  await bench.clearNotifications();
  fs.rmSync(path.join(alice.workspace, '.vscode'), { recursive: true });
  fs.rmSync(path.join(alice.workspace, 'debug-probe.js'));
});

test('a missing binary gives the install hint (${workspaceFolder} in envsync.path)', async () => {
  const { bench, root } = world;
  const other = path.join(root, 'ws-missing');
  fs.mkdirSync(path.join(other, '.vscode'), { recursive: true });
  fs.writeFileSync(path.join(other, 'envsync.toml'), 'remote = "../remote"\n');
  fs.writeFileSync(
    path.join(other, '.vscode', 'settings.json'),
    JSON.stringify({ 'envsync.path': '${workspaceFolder}/no-such-dir/envsync' }),
  );
  await bench.goto(world.code.url(other));
  const toast = await bench.waitToast('the envsync CLI was not found', 60_000);
  assert.ok(toast.includes(`${other}/no-such-dir/envsync`), toast);
  assert.match(toast, /cargo install --locked --path crates\/envsync/);
  await bench.screenshot('13-missing-binary');
});

test('multi-root: two folders with a project each, each row acting on its own folder', () =>
  withExtensionLogs(world.code.userData, multiRoot));

async function multiRoot() {
  const { bench, alice, root, server } = world;
  const api = path.join(root, 'ws-alice-api');
  fs.mkdirSync(api, { recursive: true });
  fs.writeFileSync(
    path.join(api, 'envsync.toml'),
    `remote = "${server.url}"\nauto_refresh_seconds = 0\n\n[projects.api]\n` +
      'default_environment = "development"\n\n[projects.api.environments]\ndevelopment = ".env"\n',
  );
  const apiEnv = path.join(api, '.env');
  world.extraLinked.add(apiEnv);
  fs.writeFileSync(apiEnv, `API_TOKEN=${V.api}\n`, { mode: 0o600 });
  alice.run(['push', '-m', 'api first'], { cwd: api });
  const workspace = path.join(root, 'two-folders.code-workspace');
  fs.writeFileSync(
    workspace,
    JSON.stringify({ folders: [{ path: alice.workspace }, { path: api }] }),
  );
  const cached = () => fs.readdirSync(workspaceCaches(world.code));
  const seeded = seedWorkspaceCache(world.code, workspace);
  const before = cached();
  await bench.goto(world.code.workspaceUrl(workspace));
  // The extension's commands are in the palette once it is loaded: its status item says so.
  await bench.statusText('envsync');
  await bench.openView();
  await bench.waitRow('Environments', 'ws-alice', '');
  await bench.waitRow('Environments', 'ws-alice-api', '');
  await bench.waitRow('Environments', 'api', '');
  // No other workspace cache appeared: VS Code used the seeded one (a wrong id leaves two).
  assert.deepEqual(
    cached().filter((id) => !before.includes(id) || id === seeded),
    [seeded],
  );
  const developments = bench.rows('Environments', 'development');
  await until('both development rows', async () => (await developments.count()) === 2);
  // The second folder's row: an edit there flips it, and its inline Push pushes it there.
  fs.writeFileSync(apiEnv, `API_TOKEN=${V.api}\nADDED=1\n`, { mode: 0o600 });
  await bench.command('envsync: Refresh');
  await until('the api row to show the edit', async () =>
    (await developments.nth(1).innerText()).includes('local changes'),
  );
  assert.match(await developments.nth(0).innerText(), /synced/);
  await developments.nth(1).hover();
  await developments.nth(1).locator('.action-label[aria-label="Push"]').first().click();
  await until('the api row synced', async () =>
    (await developments.nth(1).innerText()).includes('synced'),
  );
  const status = JSON.parse(alice.run(['status', '--json'], { cwd: api }).stdout);
  assert.equal(status.environments[0].badge, 'synced');
  assert.equal(status.environments[0].local_version, 2);
  await bench.page.mouse.move(800, 500);
  await bench.screenshot('22-multi-root');
}
