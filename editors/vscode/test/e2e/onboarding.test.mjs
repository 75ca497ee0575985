// The onboarding commands in a real VS Code (code-server 4.100.3 + headless chromium), run
// from the palette by Dana, who starts with no identity and no account, against a real
// envsync server whose owner (Erin) and another newcomer (Frank) are played by the CLI.
// Tests run in order and share one world; after each, no value, token or passphrase may sit
// in any file but the linked files (and the token in the credentials file) nor on any
// command line the extension ran, and the user's settings must be as they were.

import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, afterEach, before, test } from 'node:test';

import {
  argvRecorder,
  assertNothingLeaked,
  CONFIG,
  inviteCode,
  OUT_DIR,
  Person,
  startCodeServer,
  startServer,
  tempRoot,
  until,
  withExtensionLogs,
} from './harness.mjs';
import { Workbench } from './workbench.mjs';

const V = {
  app: 'app-erin-Hq52',
  ops: 'ops-erin-Yt38',
  billing: 'billing-dana-Kw61',
  payroll: 'payroll-dana-Zp07',
};

/** Secrets met on the way (a token, passphrases): never in a file but where they belong. */
const secrets = [];
const world = { allowed: new Set() };

before(async () => {
  fs.mkdirSync(OUT_DIR, { recursive: true });
  const root = (world.root = tempRoot());
  world.server = await startServer(root);
  const { url, setupCode } = world.server;
  const erin = (world.erin = new Person(root, 'erin', url));
  erin.run(['keygen', '--name', 'erin']);
  erin.run(['join', url, setupCode]);
  erin.write('.env', `API_KEY=${V.app}\n`);
  world.allowed.add(path.join(erin.workspace, '.env'));
  erin.run(['push', '-m', 'first']);
  // Dana has nothing yet: `join` makes her identity. Her clone holds Erin's envsync.toml.
  const dana = (world.dana = new Person(root, 'dana', url));
  dana.write('.gitignore', '/.env*\n');
  world.allowed.add(path.join(dana.workspace, '.env'));
  world.allowed.add(path.join(dana.home, '.config', 'envsync', 'credentials.toml'));
  world.argv = argvRecorder(root);
  world.code = await startCodeServer(root, dana, { pathDirs: [world.argv.dir] });
  world.bench = await Workbench.open(world.code.url(dana.workspace));
  await world.bench.statusText('envsync');
});

let finished = 0;
afterEach(async () => {
  await world.bench?.screenshot(`onboarding-after-${String(++finished).padStart(2, '0')}`);
  assertNothingLeaked(world, [...Object.values(V), ...secrets], world.allowed);
});

after(async () => {
  await world.bench?.close().catch(() => undefined);
  world.code?.stop();
  world.server?.child.kill();
  world.billingServer?.child.kill();
  if (!process.env.KEEP_E2E_ROOT) {
    fs.rmSync(world.root, { recursive: true, force: true });
  }
});

/** The project's members as its owner `person` sees them (`members list --json`). */
function members(person, cwd = person.workspace, project = []) {
  return JSON.parse(person.run(['members', 'list', '--json', ...project], { cwd }).stdout);
}

function environment(person, cwd, name) {
  const status = JSON.parse(person.run(['status', '--json'], { cwd }).stdout);
  return status.environments.find((row) => row.environment === name);
}

test('Join a Project with a server URL and the invite code a teammate made', () =>
  withExtensionLogs(world.code.userData, async () => {
    const { bench, erin, dana, server } = world;
    const code = inviteCode(erin.run(['invite', '--role', 'writer']));
    await bench.command('envsync: Join a Project');
    await bench.pick('Server URL and code');
    await bench.answer('Server URL', server.url);
    await bench.answer('Code', code);
    await bench.waitToast('envsync: joined');
    const join = world.argv.lines().find((line) => line.startsWith('join '));
    assert.equal(join, `join ${server.url} -`, 'the code must go on stdin, not argv');
    // Not admitted yet: the view says what the CLI says instead of showing nothing.
    await bench.openView();
    await bench.waitRow('Environments', 'status failed', 'waiting for an owner to accept you');
    await bench.screenshot('30-joined-with-code');
    // Erin sees Dana's request, with Dana's fingerprint, and lets her in.
    const fingerprint = dana.fingerprint();
    assert.ok(JSON.stringify(members(erin)).includes(fingerprint), 'no request from Dana');
    erin.run(['members', 'accept', fingerprint, '--yes']);
    await bench.clearNotifications();
    await bench.command('envsync: Refresh');
    await bench.waitRow('Environments', 'development', 'not linked • pull');
    // From the palette: a tree row clicked while a status read redraws the tree loses its
    // handle (the command then asks which environment anyway).
    await bench.command('envsync: Pull');
    await bench.pick('app/development');
    await bench.waitRow('Environments', 'development', 'synced ✓');
    assert.equal(dana.read('.env'), `API_KEY=${V.app}\n`);
    assert.equal(environment(dana, dana.workspace, 'development').badge, 'synced');
    await bench.screenshot('31-joined-and-pulled');
  }));

test('Sign in with a Token: the token goes on stdin, never on a command line or in a log', () =>
  withExtensionLogs(world.code.userData, async () => {
    const { bench, dana, server } = world;
    const created = JSON.parse(dana.run(['token', 'create', 'laptop', '--json']).stdout);
    const token = created.token;
    assert.match(token, /^esk_/);
    secrets.push(token);
    // The token `join` stored is revoked: only the new one can bring Dana back.
    const credentials = path.join(dana.home, '.config', 'envsync', 'credentials.toml');
    const stored = /token_id\s*=\s*"([^"]+)"/.exec(fs.readFileSync(credentials, 'utf8'))[1];
    dana.run(['token', 'revoke', stored]);
    assert.notEqual(dana.run(['log', '--json'], { expect: null }).status, 0);
    await bench.command('envsync: Sign in with a Token');
    await bench.answer('Server URL', server.url);
    const box = bench.page.locator('.quick-input-widget .quick-input-box input');
    await bench.page
      .locator('.quick-input-title', { hasText: 'Token (esk_…)' })
      .waitFor({ timeout: 15_000 });
    assert.equal(await box.getAttribute('type'), 'password');
    await box.fill(token);
    await bench.screenshot('32-token-input');
    await bench.page.keyboard.press('Enter');
    await bench.waitToast(`envsync: signed in to ${server.url}`);
    assert.ok(fs.readFileSync(credentials, 'utf8').includes(token), 'the token was not stored');
    dana.run(['log', '--json']);
    const login = world.argv.lines().find((line) => line.startsWith('login '));
    assert.equal(login, `login ${server.url}`);
    await bench.screenshot('33-signed-in');
    await bench.clearNotifications();
  }));

test('Initialise Workspace: a fresh folder gets a remote, a project and a linked file', () =>
  withExtensionLogs(world.code.userData, async () => {
    const { bench, dana, root } = world;
    // Only a server's owner founds projects on it: Dana runs her own for billing.
    const server = (world.billingServer = await startServer(path.join(root, 'billing-server')));
    dana.run(['join', server.url, server.setupCode]);
    const folder = path.join(root, 'ws-billing');
    fs.mkdirSync(folder);
    const env = path.join(folder, '.env');
    world.allowed.add(env);
    fs.writeFileSync(env, `STRIPE_KEY=${V.billing}\n`, { mode: 0o600 });
    await bench.goto(world.code.url(folder));
    await bench.statusText('envsync');
    await bench.command('envsync: Initialise Workspace');
    await bench.answer('envsync: remote', server.url);
    await bench.answer('Project name', 'billing');
    await bench.answer('Environment name', 'development');
    await bench.answer('Linked file', '.env');
    await bench.waitToast(`envsync: initialised ${folder}`);
    await bench.openView();
    await bench.waitRow('Environments', 'billing', '');
    await bench.waitRow('Environments', 'development', 'local changes • push');
    await bench.screenshot('34-initialised');
    const config = fs.readFileSync(path.join(folder, 'envsync.toml'), 'utf8');
    assert.match(config, new RegExp(`remote = "${server.url}`));
    assert.match(config, /\[projects\.billing\.environments\]\ndevelopment = "\.env"/);
    await bench.command('envsync: Push'); // the only environment: no question
    await bench.waitRow('Environments', 'development', 'synced ✓');
    const row = environment(dana, folder, 'development');
    assert.equal(row.project, 'billing');
    assert.equal(row.badge, 'synced');
    assert.equal(row.local_version, 1);
    await bench.clearNotifications();
  }));

test('Share writes a bundle and shows its passphrase once; the CLI joins with it', () =>
  withExtensionLogs(world.code.userData, async () => {
    const { bench, dana, root, billingServer: server } = world;
    const folder = path.join(root, 'ws-billing');
    const bundle = path.join(root, 'billing.share');
    // A second project in the same envsync.toml (a monorepo): Share asks which one.
    fs.appendFileSync(
      path.join(folder, 'envsync.toml'),
      '\n[projects.payroll.environments]\ndevelopment = ".env.payroll"\n',
    );
    const payroll = path.join(folder, '.env.payroll');
    world.allowed.add(payroll);
    fs.writeFileSync(payroll, `PAYROLL_KEY=${V.payroll}\n`, { mode: 0o600 });
    dana.run(['push', '-p', 'payroll', '-m', 'payroll'], { cwd: folder });
    await bench.command('envsync: Refresh');
    await bench.waitRow('Environments', 'payroll', '');
    await bench.command('envsync: Share (write a .share bundle)');
    await bench.pick('billing');
    await bench.fileDialog(bundle);
    const dialog = bench.dialog();
    await dialog.waitFor({ timeout: 30_000 });
    const text = await dialog.innerText();
    assert.ok(text.includes(`wrote ${bundle}`), text);
    const passphrase = text
      .split('\n')
      .map((line) => line.trim())
      .find((line) => /^\S+(-\S+){3,}$/.test(line) || /^[\w-]{16,}$/.test(line));
    assert.ok(passphrase, `no passphrase in the dialog: ${text}`);
    secrets.push(passphrase);
    await bench.screenshot('35-share-passphrase');
    await dialog.locator('.monaco-button', { hasText: 'Copy Passphrase' }).click();
    await dialog.waitFor({ state: 'detached', timeout: 10_000 });
    const share = world.argv.lines().find((line) => line.startsWith('share '));
    assert.ok(share?.startsWith('share -p billing '), `share ran as: ${share}`);
    // Frank, new, joins from the bundle with the CLI; Dana lets him in; he can pull.
    const frank = new Person(root, 'frank', server.url);
    fs.rmSync(path.join(frank.workspace, 'envsync.toml'));
    world.allowed.add(path.join(frank.workspace, '.env'));
    frank.run(['keygen', '--name', 'frank']);
    frank.run(['join', bundle], { input: `${passphrase}\n` });
    assert.match(fs.readFileSync(path.join(frank.workspace, 'envsync.toml'), 'utf8'), /billing/);
    const fingerprint = frank.fingerprint();
    const billing = ['-p', 'billing'];
    assert.ok(JSON.stringify(members(dana, folder, billing)).includes(fingerprint), 'no request');
    dana.run(['members', 'accept', fingerprint, '--yes', ...billing], { cwd: folder });
    frank.run(['pull']);
    assert.equal(frank.read('.env'), `STRIPE_KEY=${V.billing}\n`);
  }));

test('Join a Project with a .share file, its passphrase typed in a password box', () =>
  withExtensionLogs(world.code.userData, async () => {
    const { bench, dana, erin, root, server } = world;
    // Erin's other project, shared as a bundle; Dana opens an empty folder for it.
    const ops = path.join(root, 'ws-erin-ops');
    fs.mkdirSync(ops);
    fs.writeFileSync(
      path.join(ops, 'envsync.toml'),
      CONFIG(server.url).replace(/projects\.app/g, 'projects.ops'),
    );
    fs.writeFileSync(path.join(ops, '.env'), `API_KEY=${V.ops}\n`, { mode: 0o600 });
    world.allowed.add(path.join(ops, '.env'));
    erin.run(['push', '-m', 'ops'], { cwd: ops });
    const bundle = path.join(root, 'ops.share');
    const shared = JSON.parse(erin.run(['share', '-o', bundle, '--json'], { cwd: ops }).stdout);
    secrets.push(shared.passphrase);
    const folder = path.join(root, 'ws-dana-ops');
    fs.mkdirSync(folder);
    world.allowed.add(path.join(folder, '.env'));
    await bench.goto(world.code.url(folder));
    await bench.statusText('envsync');
    await bench.command('envsync: Join a Project');
    await bench.pick('.share file');
    await bench.fileDialog(bundle);
    const box = bench.page.locator('.quick-input-widget .quick-input-box input');
    await bench.page
      .locator('.quick-input-title', { hasText: 'Passphrase' })
      .waitFor({ timeout: 15_000 });
    assert.equal(await box.getAttribute('type'), 'password');
    await bench.answer('Passphrase', shared.passphrase);
    await bench.waitToast('envsync: joined; an owner must accept you', 30_000);
    await bench.screenshot('36-joined-with-share');
    assert.match(fs.readFileSync(path.join(folder, 'envsync.toml'), 'utf8'), /projects\.ops/);
    erin.run(['members', 'accept', dana.fingerprint(), '--yes'], { cwd: ops });
    await bench.clearNotifications();
    await bench.command('envsync: Refresh');
    await bench.openView();
    await bench.waitRow('Environments', 'development', 'not linked • pull');
    await bench.command('envsync: Pull');
    await bench.pick('ops/development');
    await bench.waitRow('Environments', 'development', 'synced ✓');
    assert.equal(fs.readFileSync(path.join(folder, '.env'), 'utf8'), `API_KEY=${V.ops}\n`);
    assert.equal(environment(dana, folder, 'development').badge, 'synced');
    await bench.screenshot('37-share-joined-and-pulled');
  }));
