// "Remember this device with a passkey" in headless Debian chromium with the DevTools
// protocol's virtual authenticators (WebAuthn domain), against a real
// `envsync server --dashboard-unlock` reached as http://localhost:PORT (WebAuthn refuses an
// IP address as the relying party). The identity is stored only wrapped by a key the
// passkey's PRF output derives: a reload unlocks with the passkey and reveals a value, the
// stored record holds no form of the identity, forgetting removes it, an authenticator
// without PRF is refused with nothing stored, and a tampered record or another
// authenticator's passkey unlocks nothing. Screenshots go to OUT_DIR.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Team, shot } from './team.mjs';

const team = new Team();
let alice, identity, secret;
const VALUE = 'alpha-123';

before(async () => {
  await team.start(['--dashboard-unlock']);
  alice = team.member('alice');
  alice.run(['join', team.url, team.setupCode]);
  alice.write('.env', `API_KEY=${VALUE}\nDB_URL=postgres://db/app\n`);
  alice.run(['push', '-m', 'first development']);
  identity = alice.identity();
  secret = identity.match(/AGE-SECRET-KEY-1\S+/)[0];
  await team.launchBrowser();
});

after(() => team.stop());

/** A tab with its own virtual authenticator (PRF or not), signed in by `envsync dashboard`'s
 * link on localhost. */
async function openTab({ prf = true } = {}) {
  const context = await team.browser.newContext({ viewport: { width: 1100, height: 760 } });
  const page = await context.newPage();
  const problems = [];
  page.on('console', (message) => {
    if (message.type() === 'error') problems.push(message.text());
  });
  const cdp = await context.newCDPSession(page);
  await cdp.send('WebAuthn.enable', { enableUI: false });
  const { authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', {
    options: {
      protocol: 'ctap2',
      ctap2Version: 'ctap2_1',
      transport: 'internal',
      hasResidentKey: true,
      hasUserVerification: true,
      isUserVerified: true,
      hasPrf: prf,
      automaticPresenceSimulation: true,
    },
  });
  const link = alice.run(['dashboard', '--no-open']).trim();
  await page.goto(link.replace('//127.0.0.1:', '//localhost:'));
  await page.getByRole('heading', { name: 'Projects' }).waitFor();
  return { page, context, problems, cdp, authenticatorId };
}

/** The navigation's *Unlock* (not the form's). */
const navUnlock = (page) => page.getByRole('navigation').getByRole('button', { name: 'Unlock' });

/** Unlocks with the pasted identity, as a user would the first time. */
async function unlockWithIdentity(page) {
  await navUnlock(page).click();
  await page.getByLabel('Age identity').fill(identity);
  await page.getByRole('button', { name: 'Unlock', exact: true }).last().click();
  await page.getByRole('button', { name: 'Lock', exact: true }).waitFor();
}

/** Opts in on `#/device`; returns what the page stored. */
async function remember(page) {
  await page.getByRole('link', { name: 'This device' }).click();
  await page.getByRole('button', { name: 'Remember this device with a passkey' }).click();
  await page.getByText(/^Remembered:/).waitFor();
  return stored(page);
}

const stored = (page) =>
  page.evaluate(() => JSON.parse(localStorage.getItem('envsync-passkey') ?? 'null'));

const setStored = (page, record) =>
  page.evaluate((text) => localStorage.setItem('envsync-passkey', text), JSON.stringify(record));

/** Everything this origin keeps in the browser: local and session storage, IndexedDB. */
const browserStorage = (page) =>
  page.evaluate(async () => {
    const all = (storage) => JSON.stringify(Object.entries(storage));
    const databases = (await indexedDB.databases()).map((database) => database.name);
    return `${all(localStorage)}\n${all(sessionStorage)}\n${JSON.stringify(databases)}`;
  });

/** After a reload: *Unlock*, then *Unlock with passkey*; the page says what happened. */
async function unlockWithPasskey(page, screenshot) {
  await page.reload();
  await navUnlock(page).click();
  await page.getByRole('heading', { name: 'Unlock with a passkey' }).waitFor();
  if (screenshot) await shot(page, screenshot);
  await page.getByRole('button', { name: 'Unlock with passkey' }).click();
}

async function assertLocked(page) {
  assert.equal(await page.getByRole('button', { name: 'Lock', exact: true }).count(), 0);
  await page.goto(`${new URL(page.url()).origin}/#/p/app/e/development/values`);
  await page.getByText('Unlock the page to see values.').waitFor();
  assert.ok(!(await page.locator('main').innerText()).includes(VALUE));
}

test('remembered with a passkey, a reload unlocks with it; no identity is stored', async () => {
  const { page, context, problems } = await openTab();
  await unlockWithIdentity(page);
  await page.getByRole('link', { name: 'This device' }).click();
  await page.getByText('This browser remembers no identity.').waitFor();
  await shot(page, '40-device');
  const record = await remember(page);
  await shot(page, '41-remembered');
  assert.deepEqual(Object.keys(record).sort(), [
    'ciphertext',
    'credentialId',
    'iv',
    'name',
    'recipient',
    'salt',
    'version',
  ]);
  assert.equal(record.recipient, alice.json(['whoami']).member_key);
  await page.getByText(`alice’s identity (fingerprint ${alice.fingerprint()})`).waitFor();
  const everything = await browserStorage(page);
  const bytes = Buffer.from(secret);
  for (const form of [
    secret,
    secret.toLowerCase(),
    bytes.toString('base64'),
    bytes.toString('base64url'),
    bytes.toString('hex'),
    'AGE-SECRET',
  ]) {
    assert.ok(!everything.includes(form), `the identity is in the browser's storage: ${form}`);
  }

  await unlockWithPasskey(page, '42-unlock-with-passkey');
  await page.getByRole('button', { name: 'Lock', exact: true }).waitFor();
  await page.goto(`${new URL(page.url()).origin}/#/p/app/e/development/values`);
  await page.getByText(/membership log up to entry \d+, which your envsync CLI/).waitFor();
  await page.getByRole('button', { name: 'Reveal API_KEY' }).click();
  await page.getByText(VALUE, { exact: true }).waitFor();
  await shot(page, '43-passkey-value-revealed');
  assert.deepEqual(
    problems.filter((text) => /Content.Security.Policy/i.test(text)),
    [],
  );
  await context.close();
});

test('forget this device removes the wrapped identity from the browser', async () => {
  const { page, context } = await openTab();
  await unlockWithIdentity(page);
  await remember(page);
  await page.getByRole('button', { name: 'Lock', exact: true }).click();
  await navUnlock(page).click();
  await page.getByRole('heading', { name: 'Unlock with a passkey' }).waitFor();
  await page.getByRole('button', { name: 'Forget this device' }).click();
  await page.getByText('Forgotten: this browser keeps no identity.').waitFor();
  assert.equal(await page.getByRole('heading', { name: 'Unlock with a passkey' }).count(), 0);
  assert.equal(await stored(page), null);
  assert.equal(await page.evaluate(() => localStorage.length), 0);
  await shot(page, '44-forgotten');
  await page.reload();
  await navUnlock(page).click();
  await page.getByLabel('Age identity').waitFor();
  assert.equal(await page.getByRole('button', { name: 'Unlock with passkey' }).count(), 0);
  await context.close();
});

test('an authenticator without PRF is refused, and nothing is stored', async () => {
  const { page, context } = await openTab({ prf: false });
  await unlockWithIdentity(page);
  await page.getByRole('link', { name: 'This device' }).click();
  await page.getByRole('button', { name: 'Remember this device with a passkey' }).click();
  await page.getByText(/does not support the PRF extension.*nothing was stored/).waitFor();
  await shot(page, '45-no-prf-refused');
  assert.equal(await page.evaluate(() => localStorage.length), 0);
  assert.equal(await page.getByText('This browser remembers no identity.').count(), 1);
  await context.close();
});

test('a tampered wrapped identity unlocks nothing and is shown as failed', async () => {
  const { page, context } = await openTab();
  await unlockWithIdentity(page);
  const record = await remember(page);
  const at = Math.floor(record.ciphertext.length / 2);
  const flipped = record.ciphertext[at] === 'A' ? 'B' : 'A';
  const ciphertext = record.ciphertext.slice(0, at) + flipped + record.ciphertext.slice(at + 1);
  await setStored(page, { ...record, ciphertext });
  await unlockWithPasskey(page);
  await page.getByText(/does not unwrap with this passkey.*Nothing was unlocked/).waitFor();
  await shot(page, '46-tampered-refused');
  await assertLocked(page);
  await context.close();
});

test("the wrapped identity is bound to its passkey: another one's cannot unwrap it", async () => {
  const first = await openTab();
  await unlockWithIdentity(first.page);
  const wrapped = await remember(first.page);
  await first.context.close();
  // A second browser profile with its own authenticator and its own passkey.
  const { page, context } = await openTab();
  await unlockWithIdentity(page);
  const own = await remember(page);
  assert.notEqual(own.credentialId, wrapped.credentialId);
  // The first passkey's wrapped identity, presented with the second passkey.
  await setStored(page, { ...wrapped, credentialId: own.credentialId });
  await unlockWithPasskey(page);
  await page.getByText(/does not unwrap with this passkey/).waitFor();
  await assertLocked(page);
  // As copied from the first profile: this authenticator has no such passkey.
  await setStored(page, wrapped);
  await unlockWithPasskey(page);
  await page.getByText(/the passkey was not used/).waitFor();
  await shot(page, '47-other-passkey-refused');
  await assertLocked(page);
  // Its own record still unlocks: the refusals above are the passkey's doing.
  await setStored(page, own);
  await unlockWithPasskey(page);
  await page.getByRole('button', { name: 'Lock', exact: true }).waitFor();
  await context.close();
});
