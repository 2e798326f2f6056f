// Signing in with the eID through a BundID-style provider (here `mvsp simulate eid`): a new
// person gets an account with the data from the eID and trust level high; a relying party
// asking for STORK-QAA-Level-4 leads a password user through the eID. Zero axe violations
// on every page, with and without JavaScript.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import * as oidc from 'openid-client';
import { startServer, startEidSimulator, launchBrowser, guardLoopback, expectClean } from './harness.mjs';

const password = 'ein langer sicherer Satz 2026';
let simulator;
let server;
let browser;
let client;
let redirectUri;
let callbacks = [];
const callbackServer = createServer((req, res) => {
  const url = new URL(req.url, redirectUri);
  if (url.pathname === '/callback') callbacks.push(url);
  res.end('ok');
});

before(async () => {
  await new Promise((ok) => callbackServer.listen(0, '127.0.0.1', ok));
  redirectUri = `http://127.0.0.1:${callbackServer.address().port}/callback`;
  simulator = await startEidSimulator();
  server = await startServer({
    mail: true,
    config: simulator.config,
    setup(mvsp) {
      mvsp('user', 'create', '--email', 'otto@example.org', '--password', password,
        '--name', 'Otto Normal', '--verified');
      client = mvsp('client', 'create', '--name', 'Fachverfahren', '--redirect-uri', redirectUri);
    },
  });
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
  await server?.stop();
  await simulator?.stop();
  callbackServer.close();
});

// From our "Weiter zu …" page through the simulator (a test person, eID) back to us.
async function throughSimulator(page, scan, person = /Erika Mustermann/) {
  await page.waitForURL('**/anmelden/extern/bundid**');
  if (scan) await expectClean(page, 'the way out to the provider');
  await page.getByRole('button', { name: 'Weiter zu BundID (Simulator)' }).click();
  await page.waitForURL(`${simulator.sso_url}`);
  assert.match(await page.textContent('body'), /SIMULATOR – keine echte Identifizierung/);
  if (scan) await expectClean(page, 'the simulator');
  await page.getByLabel(person).check();
  await page.getByLabel(/Online-Ausweis/).check();
  await page.getByRole('button', { name: 'Als Testperson anmelden' }).click();
  await page.getByRole('button', { name: 'Zurück zum Dienst' }).click();
}

for (const javaScriptEnabled of [true, false]) {
  test(`a new person signs in with the eID and gets an account (JavaScript ${javaScriptEnabled ? 'on' : 'off'})`, async () => {
    const context = await browser.newContext({ locale: 'de-DE', javaScriptEnabled });
    const page = await context.newPage();
    const outside = [];
    guardLoopback(page, outside);
    await page.goto(server.url + '/anmelden');
    await page.getByRole('link', { name: 'Mit BundID (Simulator) anmelden' }).click();
    const [person, name] = javaScriptEnabled ? [/Erika Mustermann/, 'Erika Mustermann']
      : [/Anna Schmidt/, 'Anna Schmidt'];
    await throughSimulator(page, javaScriptEnabled, person);
    await page.waitForURL('**/anmelden/extern/neu');
    assert.match(await page.textContent('main'), new RegExp(`als ${name} ausgewiesen`));
    if (javaScriptEnabled) {
      await expectClean(page, 'new account from the eID');
      // The other way: link an existing account, proven on a form of its own.
      await page.getByRole('link', { name: /Ich habe schon ein Nutzerkonto/ }).click();
      await page.waitForURL('**/anmelden/extern/verbinden');
      assert.match(await page.textContent('main'), new RegExp(`als ${name} ausgewiesen`));
      await expectClean(page, 'link the eID to an existing account');
      await page.goBack();
    }
    const email = javaScriptEnabled ? 'erika.js@example.org' : 'erika.nojs@example.org';
    await page.getByLabel('E-Mail-Adresse').fill(email);
    await page.getByRole('button', { name: 'Nutzerkonto anlegen' }).click();
    // The same answer whether or not the address has an account: confirm it, then come back.
    assert.match(await page.textContent('h1'), /Bitte bestätigen Sie Ihre E-Mail-Adresse/);
    if (javaScriptEnabled) await expectClean(page, 'check your mail after the eID');
    const mail = await server.sink.mailTo(email);
    assert.equal(mail.subject, 'Bitte bestätigen Sie Ihre E-Mail-Adresse');
    const confirm = mail.body.match(/\/konto\/bestaetigen\?token=[A-Za-z0-9_-]+/);
    assert.ok(confirm, mail.body);
    await page.goto(server.url + confirm[0]);
    assert.match(await page.textContent('main'), /E-Mail-Adresse bestätigt/);
    await page.goto(server.url + '/anmelden');
    await page.getByRole('link', { name: 'Mit BundID (Simulator) anmelden' }).click();
    await throughSimulator(page, false, person);
    await page.waitForURL('**/konto');
    assert.match(await page.textContent('main'), /hoch/);
    if (javaScriptEnabled) await expectClean(page, 'account after the eID');
    await page.goto(server.url + '/konto/sicherheit');
    assert.match(await page.textContent('main'), /verknüpft seit/);
    if (javaScriptEnabled) await expectClean(page, 'security page with the link');
    assert.deepEqual(outside, []);
    await context.close();
    // Next time, in a fresh browser, the linked person is signed in directly.
    if (javaScriptEnabled) {
      const again = await browser.newContext({ locale: 'de-DE', javaScriptEnabled: false });
      const p2 = await again.newPage();
      await p2.goto(server.url + '/anmelden');
      await p2.getByRole('link', { name: 'Mit BundID (Simulator) anmelden' }).click();
      await throughSimulator(p2, false);
      await p2.waitForURL('**/konto');
      await again.close();
    }
  });
}

test('acr_values STORK-QAA-Level-4 leads a password user through the eID', async () => {
  const config = await oidc.discovery(new URL(server.url), client.client_id, undefined,
    oidc.ClientSecretBasic(client.client_secret), { execute: [oidc.allowInsecureRequests] });
  oidc.enableNonRepudiationChecks(config);
  const verifier = oidc.randomPKCECodeVerifier();
  const state = oidc.randomState();
  const url = oidc.buildAuthorizationUrl(config, {
    redirect_uri: redirectUri,
    scope: 'openid profile',
    code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    acr_values: 'STORK-QAA-Level-4',
    state,
  });
  const context = await browser.newContext({ locale: 'de-DE' });
  const page = await context.newPage();
  callbacks = [];
  await page.goto(url.href);
  await page.getByLabel('E-Mail-Adresse').fill('otto@example.org');
  await page.getByLabel('Passwort').fill(password);
  await page.getByRole('button', { name: 'Anmelden', exact: true }).click();
  await page.waitForURL('**/anmelden/extern?level=high**');
  assert.match(await page.textContent('main'), /Vertrauensniveau „hoch“/);
  await expectClean(page, 'choice of the eID provider');
  await page.getByRole('link', { name: 'Mit BundID (Simulator) anmelden' }).click();
  await throughSimulator(page, false, /Max Mustermann/);
  // A new identity for a signed-in account: a form of its own that names the account and
  // the identity and asks for the password once more before it is linked.
  await page.waitForURL('**/anmelden/extern/verbinden');
  assert.match(await page.textContent('main'), /Sie sind als otto@example.org angemeldet/);
  assert.match(await page.textContent('main'), /als Max Mustermann ausgewiesen/);
  await expectClean(page, 'confirming the link');
  await page.getByLabel('Passwort').fill('nicht das Passwort');
  await page.getByRole('button', { name: 'Verknüpfen', exact: true }).click();
  assert.match(await page.textContent('main'), /E-Mail-Adresse oder Passwort/);
  await expectClean(page, 'confirming the link, wrong password');
  await page.getByLabel('Passwort').fill(password);
  await page.getByRole('button', { name: 'Verknüpfen', exact: true }).click();
  await page.waitForURL(`${redirectUri}**`);
  await context.close();
  assert.equal(callbacks.length, 1);
  const tokens = await oidc.authorizationCodeGrant(config, callbacks[0],
    { pkceCodeVerifier: verifier, expectedState: state });
  assert.equal(tokens.claims().acr, 'http://eidas.europa.eu/LoA/high');
});
