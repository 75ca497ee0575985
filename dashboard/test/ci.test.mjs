// Adding a CI identity in the browser by an unlocked owner, in headless Debian chromium
// against a real `envsync server --dashboard-unlock`, as `envsync ci add` does it: the
// identity made in the tab, the CI token bound to it, the membership entry (a reader of one
// environment) and the re-encrypted heads signed in the tab, ENVSYNC_* shown once. A real
// CLI job with only those variables reads that environment and is refused another; the
// owner's CLI verifies the entry and versions; a writer's session and an entry changed on
// the way are refused. Screenshots go to OUT_DIR.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { Team, inviteCode, shot } from './team.mjs';

const VALUES = ['ci-dev-5150', 'ci-staging-8086'];
const team = new Team();
let alice, bob;

before(async () => {
  await team.start(['--dashboard-unlock']);
  alice = team.owner(VALUES[0], VALUES[1]);
  bob = team.member('bob');
  bob.run(['join', team.url, inviteCode(alice.run(['invite', '--role', 'writer']))]);
  alice.run(['members', 'accept', bob.fingerprint()]);
  await team.launchBrowser();
});

after(() => team.stop());

const entries = () => alice.json(['members', 'list']).members;
const ciTokens = () => alice.json(['token', 'list']).tokens.filter((t) => t.kind === 'ci');

/** `mate`'s dashboard (signed in by `envsync dashboard`) on the Members page, unlocked
 * unless `locked`. */
async function membersPage(mate, { locked = false, routes = async () => {} } = {}) {
  const context = await team.browser.newContext({ viewport: { width: 1100, height: 1000 } });
  const page = await context.newPage();
  page.on('pageerror', (error) => console.log('pageerror:', String(error)));
  await routes(page);
  await page.goto(mate.run(['dashboard', '--no-open']).trim());
  await page.getByRole('heading', { name: 'Projects' }).waitFor();
  await page.goto(`${team.url}/#/p/app/members`);
  await page.getByRole('heading', { name: 'CI identities' }).waitFor();
  if (locked) return { context, page };
  await page.getByRole('navigation').getByRole('button', { name: 'Unlock' }).click();
  await page.getByLabel('Age identity').fill(mate.identity());
  await page.getByRole('button', { name: 'Unlock', exact: true }).last().click();
  await page.getByRole('button', { name: 'Lock', exact: true }).waitFor();
  await page.getByRole('heading', { name: 'CI identities' }).waitFor();
  return { context, page };
}

/** A CI job: a checkout's envsync.toml, an empty HOME, and only the ENVSYNC_* it was given. */
function ciJob(variables, args) {
  const root = join(team.root, `ci-${Math.random().toString(36).slice(2)}`);
  mkdirSync(join(root, 'home'), { recursive: true });
  writeFileSync(
    join(root, 'envsync.toml'),
    readFileSync(join(alice.workspace, 'envsync.toml'), 'utf8'),
  );
  return execFileSync(BIN(), args, {
    cwd: root,
    env: { PATH: process.env.PATH, HOME: join(root, 'home'), NO_COLOR: '1', ...variables },
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}
const BIN = () => process.env.ENVSYNC_BIN;
const PRINT_KEY = ['--', 'node', '-e', 'process.stdout.write(process.env.API_KEY ?? "")'];

test('locked, the Members page shows `envsync ci add` and no create button', async () => {
  const { context, page } = await membersPage(alice, { locked: true });
  await page.getByLabel('Name of the CI job').fill('deploy');
  await page.getByLabel('The one environment it may read').selectOption('staging');
  await page.getByText('envsync ci add deploy --env staging -p app').waitFor();
  assert.equal(await page.getByRole('button', { name: /Create the CI identity/ }).count(), 0);
  await shot(page, '70-ci-locked');
  await context.close();
});

test('an unlocked owner adds a CI identity; a CI job reads that environment only', async () => {
  const { context, page } = await membersPage(alice);
  await page.getByLabel('Name of the CI job').fill('deploy-staging');
  await page.getByLabel('The one environment it may read').selectOption('staging');
  await page.getByLabel('Token expires after').selectOption('90d');
  await page
    .getByText('envsync ci add deploy-staging --env staging -p app --expires 90d')
    .waitFor();
  await page.getByRole('button', { name: 'Create the CI identity and sign' }).click();
  await page
    .locator('#ci-secrets')
    .or(page.getByText(/^refused/))
    .waitFor();
  await shot(page, '71-ci-added-in-browser');
  const lines = (await page.locator('#ci-secrets').innerText()).trim().split('\n');
  const variables = Object.fromEntries(lines.map((line) => line.split(/=(.*)/s).slice(0, 2)));
  assert.deepEqual(Object.keys(variables), ['ENVSYNC_IDENTITY', 'ENVSYNC_TOKEN', 'ENVSYNC_SERVER']);
  assert.match(variables.ENVSYNC_IDENTITY, /^AGE-SECRET-KEY-1[0-9A-Z]+$/);
  assert.match(variables.ENVSYNC_TOKEN, /^esk_/);
  assert.equal(variables.ENVSYNC_SERVER, team.url);
  // Shown once: leaving the page takes them away, and coming back does not show them.
  await page.goto(`${team.url}/#/p/app`);
  await page.getByRole('columnheader', { name: 'Freshness' }).waitFor();
  await page.goto(`${team.url}/#/p/app/members`);
  await page.getByText('From the signed membership log (3 entries).').waitFor();
  assert.equal(await page.locator('#ci-secrets').count(), 0);
  assert.ok(!(await page.content()).includes(variables.ENVSYNC_TOKEN));
  await shot(page, '72-ci-secrets-gone-after-navigation');
  await context.close();

  const read = ciJob(variables, ['run', '--remote', '-e', 'staging', '--yes', ...PRINT_KEY]);
  assert.equal(read, VALUES[1]);
  assert.throws(
    () => ciJob(variables, ['run', '--remote', '-e', 'development', '--yes', ...PRINT_KEY]),
    (error) =>
      error.status === 5 &&
      /role on project app does not cover environment development/.test(error.stderr) &&
      !String(error.stdout).includes(VALUES[0]),
  );
  const added = entries().find((member) => member.name === 'deploy-staging');
  assert.equal(added?.role, 'reader', JSON.stringify(entries()));
  assert.deepEqual(added.environments, ['staging']);
  const [token] = ciTokens();
  assert.equal(token?.environment, 'staging', JSON.stringify(ciTokens()));
  assert.ok(token.expires_at > Date.now() / 1000 + 89 * 86400);
  // The owner's CLI verifies the entry and the re-encrypted heads, and still reads both.
  alice.run(['status']);
  assert.match(alice.run(['log', '-e', 'staging']), /grant access to deploy-staging/);
  // Development's readers did not change: its head is left as it was.
  assert.doesNotMatch(alice.run(['log', '-e', 'development']), /deploy-staging/);
  alice.run(['pull', '-e', 'staging']);
  bob.run(['pull']);
  assert.equal(readFileSync(join(bob.workspace, '.env'), 'utf8'), `API_KEY=${VALUES[0]}\n`);
});

test('a membership entry changed on the way is refused, and the CI token revoked', async () => {
  const before = entries().length;
  const { context, page } = await membersPage(alice, {
    routes: (page) =>
      page.route('**/api/v1/projects/app/members/*', async (route) => {
        if (route.request().method() !== 'PUT') return route.continue();
        const body = route.request().postData() ?? '';
        await route.continue({ postData: body.replace('"role": "reader"', '"role": "owner"') });
      }),
  });
  await page.getByLabel('Name of the CI job').fill('tampered');
  await page.getByRole('button', { name: 'Create the CI identity and sign' }).click();
  await page.getByText(/^refused: tampered was not added .*signature/i).waitFor();
  await shot(page, '73-ci-entry-tampered-refused');
  await context.close();
  assert.equal(entries().length, before);
  const tampered = ciTokens().find((token) => token.label === 'tampered');
  assert.ok(tampered?.revoked_at, JSON.stringify(ciTokens()));
});

test("a writer's session is offered no CI button, and the API refuses it", async () => {
  const { context, page } = await membersPage(bob);
  await page.getByText(/^Only an owner of app can add a CI identity; you are a writer/).waitFor();
  assert.equal(await page.getByRole('button', { name: /Create the CI identity/ }).count(), 0);
  await shot(page, '74-ci-writer-refused');
  const status = await page.evaluate(async () => {
    const session = await (await fetch('/api/v1/session')).json();
    const response = await fetch('/api/v1/projects/app/ci-tokens', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': session.csrf_token },
      body: JSON.stringify({ name: 'sneaky', environment: 'staging', member_key: 'x' }),
    });
    return response.status;
  });
  assert.equal(status, 403);
  await context.close();
});

test('no value or CI secret reaches the server database or log', () => {
  const dump = execFileSync('sqlite3', [team.database, '.dump'], { encoding: 'utf8' });
  for (const value of VALUES) {
    assert.ok(!dump.includes(value), `${value} in the database`);
    assert.ok(!team.log.includes(value), `${value} in the log`);
  }
  assert.ok(!/AGE-SECRET-KEY-1/i.test(dump), 'an identity in the database');
  assert.ok(!/AGE-SECRET-KEY-1/i.test(team.log), 'an identity in the log');
});
