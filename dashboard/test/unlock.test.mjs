// Unlocking in headless Debian chromium against a real `envsync server --dashboard-unlock`
// seeded by the real CLI: Alice's own identity file unlocks the tab, values are masked
// until revealed, two versions diff by value, and what does not verify (a record corrupted
// in the server's SQLite, a membership digest in the fragment that the server's log does
// not hold) is shown as failed with no value. Screenshots go to OUT_DIR.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { OUT_DIR, Team, shot } from './team.mjs';

const team = new Team();
let browser, alice, identityFile;
const VALUES = ['alpha-123', 'alpha-124', 'staging-456', 'postgres://db/app'];

before(async () => {
  await team.start(['--dashboard-unlock']);
  alice = team.member('alice');
  alice.run(['join', team.url, team.setupCode]);
  alice.write('.env', 'DB_URL=postgres://db/app\nAPI_KEY=alpha-123\n');
  alice.run(['push', '-m', 'first development']);
  alice.write('.env', 'DB_URL=postgres://db/app\nAPI_KEY=alpha-124\nNEW_FLAG=1\n');
  alice.run(['push', '-m', 'rotate the API key']);
  alice.write('.env.staging', 'API_KEY=staging-456\n');
  alice.run(['push', '-e', 'staging', '-m', 'first staging']);
  identityFile = join(alice.home, '.config/envsync/identity.txt');
  browser = await team.launchBrowser();
});

after(() => team.stop());

async function openPage(url) {
  const context = await browser.newContext({ viewport: { width: 1100, height: 760 } });
  const page = await context.newPage();
  const requests = [];
  page.on('request', (request) => requests.push(request.postData() ?? ''));
  await page.goto(url);
  await page.getByRole('heading', { name: 'Projects' }).waitFor();
  return { page, context, requests };
}

/** Unlocks with Alice's identity file, chosen from disk as a user would. */
async function unlock(page) {
  await page.getByRole('button', { name: 'Unlock' }).click();
  await page.getByRole('heading', { name: 'Unlock' }).waitFor();
  await page.getByLabel('Or choose an identity file').setInputFiles(identityFile);
  await page.waitForFunction(() => document.getElementById('identity').value.length > 0);
  await page.getByRole('button', { name: 'Unlock', exact: true }).last().click();
  await page.getByRole('button', { name: 'Lock', exact: true }).waitFor();
}

const mainText = (page) => page.locator('main').innerText();

test('unlocked with a real identity, values are masked until revealed, and diff', async () => {
  const url = alice.run(['dashboard', '--no-open']).trim();
  assert.match(url, /&pin=app:\d+:[0-9a-f]{64}/);
  const { page, context, requests } = await openPage(url);
  await page.getByRole('link', { name: 'app' }).click();
  await page.getByRole('link', { name: 'development' }).click();
  await page.getByRole('heading', { name: 'History of development' }).waitFor();
  assert.equal(await page.getByRole('link', { name: 'Values of version 2' }).count(), 0);
  await unlock(page);
  await page.getByRole('heading', { name: 'History of development' }).waitFor();
  await shot(page, '20-unlocked-history');

  await page.getByRole('link', { name: 'Values of version 2' }).click();
  await page.getByRole('heading', { name: 'Values of development, version 2' }).waitFor();
  await page
    .getByText(/membership log up to entry \d+, which your envsync CLI had verified/)
    .waitFor();
  for (const value of VALUES) assert.ok(!(await mainText(page)).includes(value), value);
  await shot(page, '21-values-masked');
  await page.getByRole('button', { name: 'Reveal API_KEY' }).click();
  await page.getByText('alpha-124', { exact: true }).waitFor();
  assert.ok(!(await mainText(page)).includes('postgres://db/app'), 'only API_KEY is revealed');
  await shot(page, '22-value-revealed');

  await page.goBack();
  await page.getByLabel('Compare').selectOption('1');
  await page.getByLabel('with').selectOption('2');
  await page.getByRole('button', { name: 'Compare values' }).click();
  await page.getByRole('heading', { name: 'development: version 1 → version 2' }).waitFor();
  const rows = (await page.locator('tbody tr').allInnerTexts()).map(
    (r) => r.split('\t')[0] + ' ' + r.split('\t')[1],
  );
  assert.deepEqual(rows, ['DB_URL same', 'API_KEY changed', 'NEW_FLAG added']);
  await page.getByRole('button', { name: 'Reveal API_KEY in version 1' }).click();
  await page.getByRole('button', { name: 'Reveal API_KEY in version 2' }).click();
  await page.getByText('alpha-123', { exact: true }).waitFor();
  await page.getByText('alpha-124', { exact: true }).waitFor();
  await shot(page, '23-diff');
  // The identity never left the tab.
  const secret = (await import('node:fs'))
    .readFileSync(identityFile, 'utf8')
    .match(/AGE-SECRET-KEY-1\S+/)[0];
  assert.ok(requests.every((body) => !body.includes(secret) && !body.includes('AGE-SECRET')));
  await context.close();
});

test('signed in with a token, values are shown on trust of the server and say so', async () => {
  const context = await browser.newContext({ viewport: { width: 1100, height: 760 } });
  const page = await context.newPage();
  await page.goto(`${team.url}/`);
  await page.getByLabel('Personal access token').fill(alice.token());
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { name: 'Projects' }).waitFor();
  await page.getByRole('button', { name: 'Unlock' }).click();
  await page.getByRole('heading', { name: 'Unlock' }).waitFor();
  await shot(page, '19-unlock');
  const secret = readFileSync(identityFile, 'utf8');
  await page.getByLabel('Age identity').fill(secret);
  await page.getByRole('button', { name: 'Unlock', exact: true }).last().click();
  await page.getByRole('button', { name: 'Lock', exact: true }).waitFor();
  await page.goto(`${team.url}/#/p/app/e/development/values`);
  await page.getByText('Values are shown on trust of the server').waitFor();
  await shot(page, '24-on-trust');
  await page.getByRole('button', { name: 'Lock', exact: true }).click();
  await page.getByText('Unlock the page to see values.').waitFor();
  await context.close();
});

test('a wrong membership digest in the fragment is refused, and no value is shown', async () => {
  const url = alice.run(['dashboard', '--no-open']).trim();
  const wrong = url.replace(/(&pin=app:\d+:)[0-9a-f]{64}/, `$1${'0'.repeat(64)}`);
  assert.notEqual(wrong, url);
  const { page, context } = await openPage(wrong);
  await unlock(page);
  await page.goto(`${team.url}/#/p/app/e/development/values`);
  await page.getByRole('heading', { name: 'Verification failed' }).waitFor();
  await page.getByText(/does not hold entry \d+ as your envsync verified it/).waitFor();
  for (const value of VALUES) assert.ok(!(await mainText(page)).includes(value), value);
  await shot(page, '25-wrong-digest');
  await context.close();
});

test('a record corrupted in the server database is refused, and no value is shown', async () => {
  execFileSync('sqlite3', [
    team.database,
    "UPDATE versions SET record_json = CAST(replace(CAST(record_json AS TEXT), 'first staging', " +
      "'first stag1ng') AS BLOB) WHERE project = 'app' AND environment = 'staging'",
  ]);
  const url = alice.run(['dashboard', '--no-open']).trim();
  const { page, context } = await openPage(url);
  await unlock(page);
  await page.goto(`${team.url}/#/p/app/e/staging/values`);
  await page.getByRole('heading', { name: 'Verification failed' }).waitFor();
  await page.getByText(/version 1 of app\/staging does not verify/).waitFor();
  for (const value of VALUES) assert.ok(!(await mainText(page)).includes(value), value);
  await shot(page, '26-tampered');
  await context.close();
});

test('a 1,000-key head verifies and decrypts in the browser (figure in unlock-bench.txt)', async (t) => {
  const lines = Array.from({ length: 1000 }, (_, i) => `KEY_${i}=value-${i}-${'x'.repeat(24)}`);
  alice.write('.env.big', `${lines.join('\n')}\n`);
  writeFileSync(
    join(alice.workspace, 'envsync.toml'),
    readFileSync(join(alice.workspace, 'envsync.toml'), 'utf8') + 'big = ".env.big"\n',
  );
  alice.run(['push', '-e', 'big', '-m', 'a thousand keys']);
  const { page, context } = await openPage(alice.run(['dashboard', '--no-open']).trim());
  await unlock(page);
  const times = [];
  for (let run = 0; run < 6; run++) {
    const started = Date.now();
    await page.goto(`${team.url}/#/p/app/e/big/values?run=${run}`);
    await page.getByRole('heading', { name: 'Values of big, version 1' }).waitFor();
    const inPage = await page.evaluate(
      () => performance.getEntriesByName('envsync: verify and decrypt').at(-1).duration,
    );
    if (run > 0) times.push([Date.now() - started, inPage]);
  }
  assert.equal(await page.locator('tbody tr').count(), 1000);
  await page.getByRole('button', { name: 'Reveal KEY_999' }).click();
  await page.getByText(`value-999-${'x'.repeat(24)}`).waitFor();
  const median = (index) => times.map((time) => time[index]).sort((a, b) => a - b)[2];
  const figure =
    `1,000-key head, median of 5: ${Math.round(median(1))} ms in the page (fetch, verify, ` +
    `decrypt, render), ${median(0)} ms as the test driver sees it`;
  writeFileSync(join(OUT_DIR, 'unlock-bench.txt'), `${figure}\n`);
  t.diagnostic(figure);
  await context.close();
});

test('no value reaches the server database or log after unlocking', () => {
  const dump = execFileSync('sqlite3', [team.database, '.dump'], { encoding: 'utf8' });
  for (const value of VALUES) {
    assert.ok(!dump.includes(value), `${value} in the database`);
    assert.ok(!team.log.includes(value), `${value} in the log`);
  }
});
