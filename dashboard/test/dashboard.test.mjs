// The dashboard in headless Debian chromium (playwright-core, no browser download) against
// a real `envsync server` that teammates seeded with the real CLI: Alice owns `app`, Bob
// writes, Carol reads only `staging`. Screenshots of every page go to OUT_DIR.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { after, before, test } from 'node:test';
import { Team, inviteCode, shot } from './team.mjs';

const team = new Team();
let browser;
let alice, bob, carol, dave;

before(async () => {
  await team.start();
  alice = team.member('alice');
  alice.run(['join', team.url, team.setupCode]);
  alice.write('.env', 'DB_URL=postgres://db/app\nAPI_KEY=alpha-123\nFEATURE_X=on\n');
  alice.run(['push', '-m', 'first development']);
  alice.write('.env.staging', 'DB_URL=postgres://db/staging\nAPI_KEY=staging-456\n');
  alice.run(['push', '-e', 'staging', '-m', 'first staging']);
  bob = admit('bob', ['--role', 'writer'], ['--role', 'writer']);
  carol = admit(
    'carol',
    ['--role', 'reader', '-e', 'staging'],
    ['--role', 'reader', '-e', 'staging'],
  );
  // Dave redeems an invite; Alice has not accepted him: his access request waits.
  dave = team.member('dave');
  dave.run(['join', team.url, inviteCode(alice.run(['invite', '--role', 'writer']))]);
  bob.run(['pull']);
  bob.write('.env', 'DB_URL=postgres://db/app\nAPI_KEY=alpha-124\nFEATURE_X=on\nNEW_FLAG=1\n');
  bob.run(['push', '-m', 'bob rotates the API key']);
  browser = await team.launchBrowser();
});

after(() => team.stop());

/** `name` joins by Alice's invite and Alice accepts their key. */
function admit(name, inviteArgs, acceptArgs) {
  const mate = team.member(name);
  const code = inviteCode(alice.run(['invite', ...inviteArgs]));
  mate.run(['join', team.url, code]);
  alice.run(['members', 'accept', mate.fingerprint(), ...acceptArgs]);
  return mate;
}

async function newPage() {
  const context = await browser.newContext({ viewport: { width: 1100, height: 760 } });
  const page = await context.newPage();
  const problems = [];
  page.on('console', (message) => {
    if (message.type() === 'error') problems.push(message.text());
  });
  page.on('pageerror', (error) => problems.push(String(error)));
  return { page, context, problems };
}

async function signInWithToken(page, token) {
  await page.goto(`${team.url}/`);
  await page.getByLabel('Personal access token').fill(token);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { name: 'Projects' }).waitFor();
}

test('an owner signs in with a token, sees every page, and signs out', async () => {
  const { page, context, problems } = await newPage();
  await page.goto(`${team.url}/`);
  await page.getByRole('heading', { name: 'Sign in' }).waitFor();
  await shot(page, '01-sign-in');
  await signInWithToken(page, alice.token());
  await page.getByRole('link', { name: 'app' }).waitFor();
  await shot(page, '02-projects');

  await page.getByRole('link', { name: 'app' }).click();
  await page.getByRole('link', { name: 'development' }).waitFor();
  const rows = await page.locator('tbody tr').allInnerTexts();
  assert.equal(rows.length, 2, rows.join('\n'));
  assert.match(rows[0], /^development\tv\d+\tbob\t.*\ttoday\t4$/);
  assert.match(rows[1], /^staging\tv\d+\talice\t.*\ttoday\t2$/);
  await shot(page, '03-environments');

  await page.getByRole('link', { name: 'development' }).click();
  await page.getByRole('heading', { name: 'History of development' }).waitFor();
  const history = await page.locator('tbody tr').allInnerTexts();
  assert.match(history[0], /^v\d+\tbob\t.*bob rotates the API key\t\+NEW_FLAG\s+~API_KEY/);
  assert.match(history.at(-1), /^v1\talice\t.*first development\t\+DB_URL \+API_KEY \+FEATURE_X/);
  await shot(page, '04-history');

  await page.getByRole('link', { name: 'Key drift' }).click();
  await page.getByText('missing somewhere').waitFor();
  const drift = await page.locator('tbody tr').allInnerTexts();
  assert.deepEqual(
    drift.map((row) => row.replace(/\s+/g, ' ').trim()),
    ['API_KEY ✓ ✓', 'DB_URL ✓ ✓', 'FEATURE_X ✓ ✗', 'NEW_FLAG ✓ ✗'],
  );
  await shot(page, '05-drift');

  await page.getByRole('link', { name: 'Members' }).click();
  await page.getByRole('cell', { name: 'carol' }).waitFor();
  const members = (await page.locator('tbody tr').allInnerTexts()).join('\n');
  assert.match(members, new RegExp(`carol\\t${carol.fingerprint()}\\treader\\tstaging`));
  assert.match(members, new RegExp(`bob\\t${bob.fingerprint()}\\twriter\\tall`));
  await shot(page, '06-members');

  await page.getByRole('link', { name: 'Requests' }).click();
  await page.getByText(`envsync members accept ${dave.fingerprint()} -p app`).waitFor();
  await shot(page, '07-requests');

  await page.getByRole('link', { name: 'Invites' }).click();
  await page.getByLabel('Role').selectOption('reader');
  await page.getByLabel('staging').check();
  await page.getByText('envsync invite -p app --role reader -e staging --expires 7d').waitFor();
  await shot(page, '08-invites');

  await page.getByRole('link', { name: 'Audit log' }).click();
  await page.getByRole('cell', { name: 'member.add' }).first().waitFor();
  await page.getByLabel('Action').fill('version.push');
  await page.getByRole('button', { name: 'Filter' }).click();
  await page.waitForURL(/action=version\.push/);
  await page.getByRole('cell', { name: 'member.add' }).first().waitFor({ state: 'detached' });
  const actions = await page.locator('tbody tr td:nth-child(3)').allInnerTexts();
  assert.ok(actions.length >= 3 && actions.every((a) => a === 'version.push'), actions.join());
  await shot(page, '09-audit');
  // A time range: today's entries are there, none from tomorrow on.
  const day = (offset) => new Date(Date.now() + offset * 86400000).toLocaleDateString('en-CA');
  await page.getByLabel('From', { exact: true }).fill(day(1));
  await page.getByRole('button', { name: 'Filter' }).click();
  await page.getByText('No entries.').waitFor();
  await page.getByLabel('From', { exact: true }).fill(day(0));
  await page.getByLabel('To', { exact: true }).fill(day(0));
  await page.getByRole('button', { name: 'Filter' }).click();
  await page.getByRole('cell', { name: 'version.push' }).first().waitFor();

  await page.getByRole('link', { name: 'Server audit' }).click();
  await page.getByRole('heading', { name: 'Server audit log' }).waitFor();
  await page.getByRole('cell', { name: 'dashboard.sign_in' }).first().waitFor();
  await shot(page, '10-server-audit');

  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.getByRole('heading', { name: 'Sign in' }).waitFor();
  await page.reload();
  await page.getByRole('heading', { name: 'Sign in' }).waitFor();
  assert.deepEqual(
    problems.filter((p) => !p.includes('401')),
    [],
  );
  await context.close();
});

test('tokens are created (shown once) and revoked from the page', async () => {
  const { page, context } = await newPage();
  await signInWithToken(page, alice.token());
  await page.getByRole('link', { name: 'Tokens' }).click();
  await page.getByRole('heading', { name: 'Tokens' }).waitFor();
  await page.getByLabel('Label').fill('deploy script');
  await page.getByRole('button', { name: 'Create token' }).click();
  const token = (await page.locator('#new-token').innerText()).trim();
  assert.match(token, /^esk_[0-9a-f]{12}_/);
  await page.getByRole('row', { name: /deploy script/ }).waitFor();
  await shot(page, '11-token-created');
  const listed = alice.json(['token', 'list']).tokens;
  const made = listed.find((t) => t.label === 'deploy script');
  assert.ok(made, JSON.stringify(listed));
  await page.reload();
  page.once('dialog', (dialog) => dialog.accept());
  await page.getByRole('button', { name: 'Revoke deploy script' }).click();
  await page.getByRole('row', { name: /deploy script.*revoked/ }).waitFor();
  await shot(page, '12-token-revoked');
  const after = alice.json(['token', 'list']).tokens.find((t) => t.id === made.id);
  assert.ok(after.revoked_at, JSON.stringify(after));
  await context.close();
});

test('invites are listed and revoked from the page, and a revoked code cannot join', async () => {
  // Invites are signed by an owner's key, which a locked page does not hold: made by the CLI.
  const code = inviteCode(alice.run(['invite', '--role', 'reader', '-e', 'staging']));
  const hash = createHash('sha256').update(code).digest('hex');
  const short = hash.slice(0, 12);
  const { page, context } = await newPage();
  await signInWithToken(page, alice.token());
  await page.goto(`${team.url}/#/p/app/invites`);
  const row = page.getByRole('row', { name: new RegExp(short) });
  await row.waitFor();
  assert.match(
    await row.innerText(),
    /^[0-9a-f]{12}\treader\tstaging\talice-[0-9a-f]{4}\t.*\topen\t/,
  );
  const redeemed = await page.getByRole('row', { name: /redeemed by dave/ }).count();
  assert.equal(redeemed, 1, 'Dave redeemed his invite');
  await shot(page, '08b-invites-listed');
  // A state-changing request without the session's CSRF token is refused.
  const forged = await page.evaluate(
    (path) => fetch(path, { method: 'DELETE' }).then((response) => response.status),
    `/api/v1/projects/app/invites/${hash}`,
  );
  assert.equal(forged, 403);
  assert.match(await row.innerText(), /\topen\t/);
  page.once('dialog', (dialog) => dialog.accept());
  await page.getByRole('button', { name: `Revoke invite ${short}` }).click();
  await page.getByRole('row', { name: new RegExp(`${short}.*revoked by alice`) }).waitFor();
  assert.equal(await page.getByRole('button', { name: `Revoke invite ${short}` }).count(), 0);
  await shot(page, '08c-invite-revoked');
  const listed = alice.json(['invite', 'list']).invites.find((i) => i.code_sha256 === hash);
  assert.equal(listed.state, 'revoked', JSON.stringify(listed));
  const erin = team.member('erin');
  assert.throws(
    () => erin.run(['join', team.url, code]),
    (error) => error.status === 5 && /revoked/.test(error.stderr),
  );
  await context.close();
});

test('envsync dashboard signs a browser in with a link that works once', async () => {
  const url = bob.run(['dashboard', '--no-open']).trim();
  assert.match(url, /#signin=/);
  const { page, context } = await newPage();
  await page.goto(url);
  await page.getByRole('heading', { name: 'Projects' }).waitFor();
  assert.ok(!page.url().includes('signin'), `the code left the address bar: ${page.url()}`);
  await page.getByText('bob', { exact: true }).waitFor();
  await context.close();
  const second = await newPage();
  await second.page.goto(url);
  await second.page.getByText('The sign-in link did not work').waitFor();
  await second.context.close();
});

test('a reader sees only their environments and no owner pages', async () => {
  const { page, context } = await newPage();
  await signInWithToken(page, carol.token());
  await page.getByRole('link', { name: 'app' }).click();
  await page.getByRole('link', { name: 'staging' }).waitFor();
  const rows = await page.locator('tbody tr').allInnerTexts();
  assert.equal(rows.length, 1, rows.join('\n'));
  assert.match(rows[0], /^staging\tv\d+\talice/);
  for (const owner of ['Requests', 'Invites', 'Audit log']) {
    assert.equal(await page.getByRole('link', { name: owner }).count(), 0, owner);
  }
  assert.equal(await page.getByRole('link', { name: 'Server audit' }).count(), 0);
  await shot(page, '13-reader');
  await page.setViewportSize({ width: 380, height: 700 });
  await page.getByRole('link', { name: 'Key drift' }).click();
  await page.getByText('missing somewhere').waitFor();
  await shot(page, '15-narrow-screen');
  await page.goto(`${team.url}/#/p/app/audit`);
  await page.getByRole('alert').waitFor();
  await context.close();
});

test('the page updates when a teammate pushes', async () => {
  const { page, context } = await newPage();
  await signInWithToken(page, alice.token());
  await page.getByRole('link', { name: 'app' }).click();
  await page.getByRole('link', { name: 'development' }).waitFor();
  const before = await page.getByRole('row', { name: /^development/ }).innerText();
  const head = Number(before.split('\t')[1].slice(1));
  bob.write('.env', 'DB_URL=postgres://db/app\nAPI_KEY=alpha-125\nFEATURE_X=on\nNEW_FLAG=1\n');
  bob.run(['push', '-m', 'live']);
  await page.getByRole('cell', { name: `v${head + 1}`, exact: true }).waitFor({ timeout: 15000 });
  await page
    .getByRole('status')
    .filter({ hasText: `app/development: version ${head + 1} by` })
    .waitFor();
  await shot(page, '14-live-update');
  await context.close();
});

test('without --dashboard-unlock the page offers no unlock, the server no script', async () => {
  const { page, context } = await newPage();
  await signInWithToken(page, alice.token());
  assert.equal(await page.getByRole('button', { name: /Unlock|Lock/ }).count(), 0);
  await page.goto(`${team.url}/#/unlock`);
  await page.getByRole('heading', { name: 'Projects' }).waitFor();
  assert.equal(await page.getByLabel('Age identity').count(), 0);
  await page.goto(`${team.url}/#/p/app/e/development/values/1`);
  await page.getByRole('heading', { name: 'History of development' }).waitFor();
  assert.equal(await page.getByRole('link', { name: /^Values/ }).count(), 0);
  const script = await page.request.get(`${team.url}/assets/unlock.js`);
  assert.equal(script.status(), 404);
  await shot(page, '16-no-unlock');
  await context.close();
});

test('no value reaches the server database or log', () => {
  const dump = execFileSync('sqlite3', [team.database, '.dump'], { encoding: 'utf8' });
  for (const value of ['alpha-123', 'alpha-124', 'staging-456', 'postgres://db/app']) {
    assert.ok(!dump.includes(value), `${value} in the database`);
    assert.ok(!team.log.includes(value), `${value} in the log`);
  }
});
