// Subresource Integrity in headless Debian chromium against a real `envsync server`: the
// page pins app.js (index.html) and app.js pins unlock.js, by the hashes the build wrote.
// A server (or anything on the way) that sends other bytes gets them refused by the
// browser: the tampered app never runs, so the page makes no API request; a tampered unlock
// script never runs, so no identity is handed to it. Each case first shows that the same
// page with the build's bytes does run, so the refusal is the hash's doing.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { Team, shot } from './team.mjs';

const team = new Team();
let browser, alice, identityFile;

before(async () => {
  await team.start(['--dashboard-unlock']);
  alice = team.member('alice');
  alice.run(['join', team.url, team.setupCode]);
  alice.write('.env', 'API_KEY=alpha-123\n');
  alice.run(['push', '-m', 'first']);
  identityFile = join(alice.home, '.config/envsync/identity.txt');
  browser = await team.launchBrowser();
});

after(() => team.stop());

/** A page whose requests to the API and console errors are recorded; with `tamper`, the
 * asset `file` is served with one line added, as a compromised server might. */
async function openPage(file, tamper) {
  const context = await browser.newContext({ viewport: { width: 1100, height: 760 } });
  const page = await context.newPage();
  const apiRequests = [];
  const errors = [];
  page.on('request', (request) => {
    if (new URL(request.url()).pathname.startsWith('/api/')) apiRequests.push(request.url());
  });
  page.on('console', (message) => {
    if (message.type() === 'error') errors.push(message.text());
  });
  if (tamper) {
    await page.route(`**/assets/${file}`, async (route) => {
      const response = await route.fetch();
      const body = Buffer.concat([
        await response.body(),
        Buffer.from('\ndocument.title = "tampered";\n'),
      ]);
      await route.fulfill({ response, body });
    });
  }
  return { page, context, apiRequests, errors };
}

test('the browser refuses an app script whose bytes differ from its SRI hash', async () => {
  const built = await openPage('app.js', false);
  await built.page.goto(`${team.url}/`);
  await built.page.getByRole('heading', { name: 'Sign in' }).waitFor();
  assert.ok(built.apiRequests.length > 0, 'the built app asks the API for its session');
  await built.context.close();

  const { page, context, apiRequests, errors } = await openPage('app.js', true);
  await page.goto(`${team.url}/`, { waitUntil: 'load' });
  // Give a script that did run ample time to show itself.
  await page.waitForTimeout(1500);
  assert.deepEqual(apiRequests, [], 'a refused script makes no request');
  assert.notEqual(await page.title(), 'tampered');
  assert.equal(await page.getByRole('heading', { name: 'Sign in' }).count(), 0);
  assert.match(await page.locator('main').innerText(), /^Loading…/);
  assert.ok(
    errors.some((error) => error.includes('integrity') && error.includes('app.js')),
    errors.join('\n'),
  );
  await shot(page, '30-tampered-app-refused');
  await context.close();
});

/** Signs in as Alice and submits her identity file on the Unlock page. */
async function unlockAsAlice(page) {
  await page.goto(`${team.url}/`);
  await page.getByLabel('Personal access token').fill(alice.token());
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { name: 'Projects' }).waitFor();
  await page.getByRole('button', { name: 'Unlock' }).click();
  await page.getByRole('heading', { name: 'Unlock' }).waitFor();
  await page.getByLabel('Or choose an identity file').setInputFiles(identityFile);
  await page.waitForFunction(() => document.getElementById('identity').value.length > 0);
  await page.getByRole('button', { name: 'Unlock', exact: true }).last().click();
}

test('the browser refuses an unlock script whose bytes differ from its SRI hash', async () => {
  const built = await openPage('unlock.js', false);
  await unlockAsAlice(built.page);
  await built.page.getByRole('button', { name: 'Lock', exact: true }).waitFor();
  await built.context.close();

  const { page, context, errors } = await openPage('unlock.js', true);
  await unlockAsAlice(page);
  await page.getByText('the unlock script is not served, or not the one this page').waitFor();
  assert.equal(await page.getByRole('button', { name: 'Lock', exact: true }).count(), 0);
  // A failed unlock leaves no identity in the page either.
  assert.equal(await page.locator('#identity').inputValue(), '');
  assert.notEqual(await page.title(), 'tampered');
  assert.ok(
    errors.some((error) => error.includes('integrity') && error.includes('unlock.js')),
    errors.join('\n'),
  );
  await shot(page, '31-tampered-unlock-refused');
  await context.close();
});
