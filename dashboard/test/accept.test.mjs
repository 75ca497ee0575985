// Accepting an access request in the browser by an unlocked owner, in headless Debian
// chromium against a real `envsync server --dashboard-unlock`, as `envsync members accept`
// does it: the grant (the invite's signed terms) shown before signing, the membership entry
// and every head's re-encrypted version signed in the tab. The new member pulls with the
// real CLI, the owner's CLI verifies the new entry and versions, and a writer's session, a
// request or invite changed on the way, and a head that does not verify are all refused.
// Screenshots go to OUT_DIR.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { Team, inviteCode, shot } from './team.mjs';

const VALUES = ['alpha-123-dev', 'staging-456-stg', 'alpha-789-dev'];
const team = new Team();
let alice, bob, erin, frank;

before(async () => {
  await team.start(['--dashboard-unlock']);
  alice = team.owner(VALUES[0], VALUES[1]);
  bob = team.member('bob');
  bob.run(['join', team.url, inviteCode(alice.run(['invite', '--role', 'writer']))]);
  alice.run(['members', 'accept', bob.fingerprint()]);
  // Erin and Frank redeem invites; their requests wait for an owner.
  erin = team.member('erin');
  const readerInvite = alice.run(['invite', '--role', 'reader', '-e', 'staging']);
  erin.run(['join', team.url, inviteCode(readerInvite)]);
  frank = team.member('frank');
  frank.run(['join', team.url, inviteCode(alice.run(['invite', '--role', 'writer']))]);
  await team.launchBrowser();
});

after(() => team.stop());

/** `mate`'s dashboard (signed in by `envsync dashboard`), unlocked, on the Requests page. */
async function unlockedRequests(mate, routes = async () => {}) {
  const context = await team.browser.newContext({ viewport: { width: 1100, height: 900 } });
  const page = await context.newPage();
  page.on('pageerror', (error) => console.log('pageerror:', String(error)));
  await routes(page);
  await page.goto(mate.run(['dashboard', '--no-open']).trim());
  await page.getByRole('heading', { name: 'Projects' }).waitFor();
  await page.goto(`${team.url}/#/p/app/requests`);
  await page
    .getByText(/^envsync members accept /)
    .first()
    .waitFor();
  await page.getByRole('navigation').getByRole('button', { name: 'Unlock' }).click();
  await page.getByLabel('Age identity').fill(mate.identity());
  await page.getByRole('button', { name: 'Unlock', exact: true }).last().click();
  await page.getByRole('button', { name: 'Lock', exact: true }).waitFor();
  await page
    .getByText(/^envsync members accept /)
    .first()
    .waitFor();
  return { context, page };
}

const entries = () => alice.json(['members', 'list']).members;

/** The page's requests that create versions: `POST …/versions` (several at once) and
 * `PUT …/versions/N` (one). */
function countVersionWrites(page) {
  const writes = { together: 0, alone: 0 };
  page.on('request', (request) => {
    const path = new URL(request.url()).pathname;
    if (request.method() === 'POST' && path === '/api/v1/projects/app/versions') {
      writes.together += 1;
    } else if (request.method() === 'PUT' && /\/environments\/[^/]+\/versions\/\d+$/.test(path)) {
      writes.alone += 1;
    }
  });
  return writes;
}

test('locked, the Requests page shows the CLI command and no accept button', async () => {
  const context = await team.browser.newContext({ viewport: { width: 1100, height: 900 } });
  const page = await context.newPage();
  await page.goto(alice.run(['dashboard', '--no-open']).trim());
  await page.getByRole('heading', { name: 'Projects' }).waitFor();
  await page.goto(`${team.url}/#/p/app/requests`);
  const print = erin.fingerprint();
  await page.getByText(`envsync members accept ${print} -p app`).waitFor();
  assert.equal(await page.getByRole('button', { name: /^Accept / }).count(), 0);
  await shot(page, '60-requests-locked');
  await context.close();
});

test('an unlocked owner accepts a request in the browser; the CLI reads what it signed', async () => {
  const { context, page } = await unlockedRequests(alice);
  const writes = countVersionWrites(page);
  const print = erin.fingerprint();
  await page.getByRole('button', { name: 'Accept erin' }).click();
  const about = page.getByText(/^About to admit erin/);
  await about.waitFor();
  assert.equal(
    await about.innerText(),
    `About to admit erin (${print}) as reader on staging (from the invite alice signed).`,
  );
  await shot(page, '61-accept-confirmation');
  await page.getByRole('button', { name: 'Sign and accept' }).click();
  await page.getByText(/^(Accepted erin|refused)/).waitFor();
  await shot(page, '62-accepted-in-browser');
  await context.close();
  // Staging's head, the one whose readers changed, went in one request of new versions.
  assert.deepEqual(writes, { together: 1, alone: 0 });

  const added = entries().find((member) => member.name === 'erin');
  assert.equal(added?.role, 'reader', JSON.stringify(entries()));
  assert.deepEqual(added.environments, ['staging']);
  // Trust is the CLI's own state: Alice's CLI sees the key as an owner's addition, and
  // trusts it as it trusts any (`members accept` of an added key signs nothing).
  assert.equal(added.status, 'new_key');
  alice.run(['members', 'accept', 'erin']);
  assert.equal(entries().find((member) => member.name === 'erin').status, 'trusted');
  erin.run(['pull', '-e', 'staging']);
  assert.equal(
    readFileSync(join(erin.workspace, '.env.staging'), 'utf8'),
    `API_KEY=${VALUES[1]}\n`,
  );
  assert.throws(() => erin.run(['pull', '-e', 'development']), /reader|access|not/i);
  // The owner's CLI verifies the entry and the re-encrypted head of staging, the one Erin
  // may read; development's readers did not change, so its head was left as it was. A
  // writer still pulls.
  alice.run(['status']);
  assert.match(alice.run(['log', '-e', 'staging']), /grant access to erin/);
  assert.doesNotMatch(alice.run(['log', '-e', 'development']), /erin/);
  bob.run(['pull']);
  assert.equal(readFileSync(join(bob.workspace, '.env'), 'utf8'), `API_KEY=${VALUES[0]}\n`);
});

test('a membership entry changed on the way is refused by the server', async () => {
  const before = entries().length;
  const { context, page } = await unlockedRequests(alice, (page) =>
    page.route('**/api/v1/projects/app/members/*', async (route) => {
      if (route.request().method() !== 'PUT') return route.continue();
      const body = route.request().postData() ?? '';
      await route.continue({ postData: body.replace('"role": "writer"', '"role": "owner"') });
    }),
  );
  await page.getByRole('button', { name: 'Accept frank' }).click();
  await page.getByRole('button', { name: 'Sign and accept' }).click();
  await page.getByText(/^refused: .*signature/i).waitFor();
  await shot(page, '63-accept-entry-tampered-refused');
  await context.close();
  assert.equal(entries().length, before);
  assert.equal(entries().find((m) => m.name === 'frank')?.status, 'request');
});

test('an invite whose terms the server changed is refused before anything is signed', async () => {
  const before = entries().length;
  const { context, page } = await unlockedRequests(alice, (page) =>
    page.route('**/api/v1/projects/app/invites/*', async (route) => {
      const response = await route.fetch();
      const body = (await response.text()).replace('"role": "writer"', '"role": "owner"');
      await route.fulfill({ response, body });
    }),
  );
  await page.getByRole('button', { name: 'Accept frank' }).click();
  await page.getByText(/^refused: the invite frank's request names was not signed/).waitFor();
  assert.equal(await page.getByRole('button', { name: 'Sign and accept' }).count(), 0);
  await shot(page, '64-accept-invite-tampered-refused');
  await context.close();
  assert.equal(entries().length, before);
});

test('a head that does not verify stops the accept before anything is signed', async () => {
  const before = entries().length;
  const { context, page } = await unlockedRequests(alice, (page) =>
    page.route('**/api/v1/projects/app/environments/staging/versions?*', async (route) => {
      const response = await route.fetch();
      const body = (await response.text()).replace('grant access to erin', 'grant access to eve');
      await route.fulfill({ response, body });
    }),
  );
  await page.getByRole('button', { name: 'Accept frank' }).click();
  await page.getByText(/^refused: version \d+ of app\/staging does not verify/).waitFor();
  assert.equal(await page.getByRole('button', { name: 'Sign and accept' }).count(), 0);
  await shot(page, '65-accept-head-unverified-refused');
  await context.close();
  assert.equal(entries().length, before);
});

test("a writer's session is refused, even when the server says it is an owner", async () => {
  const { context, page } = await unlockedRequests(bob);
  await page.getByText('Only an owner of app can accept a request; you are a writer.').waitFor();
  assert.equal(await page.getByRole('button', { name: 'Accept frank' }).count(), 0);
  await shot(page, '66-accept-writer-refused');
  const status = await page.evaluate(async () => {
    const session = await (await fetch('/api/v1/session')).json();
    const response = await fetch('/api/v1/projects/app/members/4', {
      method: 'PUT',
      headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': session.csrf_token },
      body: '{}',
    });
    return response.status;
  });
  assert.equal(status, 403);
  await context.close();

  // A server that tells Bob's page he is an owner gets an accept offered, and refused by
  // the membership log the page verifies, before anything is signed.
  const before = entries().length;
  const lied = await unlockedRequests(bob, (page) =>
    page.route('**/api/v1/whoami', async (route) => {
      const response = await route.fetch();
      const body = (await response.text()).replace('"role":"writer"', '"role":"owner"');
      await route.fulfill({ response, body });
    }),
  );
  await lied.page.getByRole('button', { name: 'Accept frank' }).click();
  await lied.page.getByText(/^refused: only an owner of project `app` can accept/).waitFor();
  await shot(lied.page, '67-accept-writer-told-owner-refused');
  await lied.context.close();
  assert.equal(entries().length, before);
});

test('a role and environments chosen on the page are granted, as `--role`/`--env`', async () => {
  const { context, page } = await unlockedRequests(alice);
  const writes = countVersionWrites(page);
  const card = page.getByRole('listitem').filter({ hasText: 'frank' });
  await card.getByLabel('Role to grant').selectOption('reader');
  await card.getByLabel('development').check();
  await card.getByRole('button', { name: 'Accept frank' }).click();
  const about = page.getByText(/^About to admit frank/);
  assert.equal(
    await about.innerText(),
    `About to admit frank (${frank.fingerprint()}) as reader on development ` +
      '(from your choice on this page).',
  );
  // Bob pushes while Alice reads the confirmation: the head the tab verified is no longer
  // the newest, so re-encrypting it loses the race, and the tab reads Bob's and retries.
  bob.write('.env', `API_KEY=${VALUES[2]}\n`);
  bob.run(['push', '-m', 'bob rotates the key']);
  await page.getByRole('button', { name: 'Sign and accept' }).click();
  await page.getByText(/^Accepted frank/).waitFor();
  await shot(page, '68-accept-chosen-role');
  await context.close();
  // The version sent with the others lost to Bob's: it was sealed again, and sent alone.
  assert.deepEqual(writes, { together: 1, alone: 1 });
  const added = entries().find((member) => member.name === 'frank');
  assert.equal(added?.role, 'reader');
  assert.deepEqual(added.environments, ['development']);
  frank.run(['pull']);
  assert.equal(readFileSync(join(frank.workspace, '.env'), 'utf8'), `API_KEY=${VALUES[2]}\n`);
  assert.match(alice.run(['log']), /grant access to frank[\s\S]*bob rotates the key/);
  alice.run(['members', 'accept', 'frank']);
  alice.run(['status']);
});

test('no value reaches the server database or log after the accept', () => {
  const dump = execFileSync('sqlite3', [team.database, '.dump'], { encoding: 'utf8' });
  for (const value of VALUES) {
    assert.ok(!dump.includes(value), `${value} in the database`);
    assert.ok(!team.log.includes(value), `${value} in the log`);
  }
});
