// An invite made and signed in the browser by an unlocked owner, in headless Debian chromium
// against a real `envsync server --dashboard-unlock`: the server accepts the signed terms,
// the invitee joins with the code the page showed once, and the owner's CLI accepts them
// (`envsync members accept`, which checks the invite's owner signature) with the invite's
// role and environments. Locked, the page offers only the CLI command. Screenshots go to
// OUT_DIR.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { Team, shot } from './team.mjs';

const team = new Team();
let alice;

before(async () => {
  await team.start(['--dashboard-unlock']);
  alice = team.owner('alpha-123', 'staging-456');
  await team.launchBrowser();
});

after(() => team.stop());

test('an unlocked owner signs an invite in the browser; the CLI joins and accepts it', async () => {
  const context = await team.browser.newContext({ viewport: { width: 1100, height: 900 } });
  const page = await context.newPage();
  const requests = [];
  page.on('request', (request) => requests.push(request.postData() ?? ''));
  await page.goto(alice.run(['dashboard', '--no-open']).trim());
  await page.getByRole('heading', { name: 'Projects' }).waitFor();
  await page.goto(`${team.url}/#/p/app/invites`);
  await page.getByRole('heading', { name: 'New invite' }).waitFor();
  assert.equal(await page.getByRole('button', { name: 'Create and sign the invite' }).count(), 0);

  await page.getByRole('navigation').getByRole('button', { name: 'Unlock' }).click();
  await page.getByLabel('Age identity').fill(alice.identity());
  await page.getByRole('button', { name: 'Unlock', exact: true }).last().click();
  await page.getByRole('button', { name: 'Create and sign the invite' }).waitFor();
  await page.getByLabel('Role').selectOption('reader');
  await page.getByLabel('staging').check();
  await page.getByLabel('Expires after').selectOption('1d');
  await page.getByRole('button', { name: 'Create and sign the invite' }).click();
  await page.getByText('Invite created and signed in this tab').waitFor();
  await shot(page, '50-invite-signed-in-browser');
  const joinCommand = await page.locator('[role=status] code').innerText();
  const code = joinCommand.match(/esi_\S+/)[0];
  assert.equal(joinCommand, `envsync join ${team.url} ${code}`);
  assert.ok(
    requests.every((body) => !body.includes(code)),
    'the code reached the server',
  );

  const listed = alice.json(['invite', 'list']).invites;
  assert.equal(listed.length, 1, JSON.stringify(listed));
  assert.equal(listed[0].role, 'reader');
  assert.deepEqual(listed[0].environments, ['staging']);

  const erin = team.member('erin');
  erin.run(['join', team.url, code]);
  alice.run(['members', 'accept', erin.fingerprint()]);
  const members = alice.json(['members', 'list']).members;
  const added = members.find((member) => member.name === 'erin');
  assert.equal(added?.role, 'reader', JSON.stringify(members));
  assert.deepEqual(added.environments, ['staging']);
  erin.run(['pull', '-e', 'staging']);
  assert.equal(readFileSync(join(erin.workspace, '.env.staging'), 'utf8'), 'API_KEY=staging-456\n');
  assert.throws(() => erin.run(['join', team.url, code]), /redeemed|used|invalid|not/i);
  await context.close();
});

test('an invite whose signed terms were changed on the way is refused by the server', async () => {
  const context = await team.browser.newContext();
  const page = await context.newPage();
  await page.goto(alice.run(['dashboard', '--no-open']).trim());
  await page.getByRole('heading', { name: 'Projects' }).waitFor();
  // Whoever sits between the page and the server turns the reader invite into an owner one.
  await page.route('**/api/v1/projects/app/invites', async (route) => {
    if (route.request().method() !== 'POST') return route.continue();
    const body = route.request().postData() ?? '';
    await route.continue({ postData: body.replace('"role": "reader"', '"role": "owner"') });
  });
  await page.goto(`${team.url}/#/p/app/invites`);
  await page.getByRole('heading', { name: 'New invite' }).waitFor();
  await page.getByRole('navigation').getByRole('button', { name: 'Unlock' }).click();
  await page.getByLabel('Age identity').fill(alice.identity());
  await page.getByRole('button', { name: 'Unlock', exact: true }).last().click();
  await page.getByRole('button', { name: 'Create and sign the invite' }).waitFor();
  await page.getByLabel('Role').selectOption('reader');
  await page.getByRole('button', { name: 'Create and sign the invite' }).click();
  await page.getByText(/error: .*signature/i).waitFor();
  await shot(page, '51-invite-tampered-refused');
  assert.equal(alice.json(['invite', 'list']).invites.length, 1);
  await context.close();
});
