// An independent, certified relying-party library (openid-client) signs in with mvsp:
// the code flow with PKCE, ID token signature and claims checked, userinfo, refresh
// token rotation, and step-up to "substantial" through TOTP.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import * as oidc from 'openid-client';
import { startServer, launchBrowser, totp, axeViolations } from './harness.mjs';

// The relying party's callback: a real server on loopback that records where it was called.
let redirectUri;
let callbacks = [];
const callbackServer = createServer((req, res) => {
  const url = new URL(req.url, redirectUri);
  if (url.pathname === '/callback' || url.pathname === '/bye') callbacks.push(url);
  res.end('ok');
});
const password = 'ein langer sicherer Satz 2026';
let server;
let browser;
let confidential;
let publicClient;

before(async () => {
  await new Promise((ok) => callbackServer.listen(0, '127.0.0.1', ok));
  redirectUri = `http://127.0.0.1:${callbackServer.address().port}/callback`;
  server = await startServer({
    setup(mvsp) {
      mvsp('user', 'create', '--email', 'erika@example.org', '--password', password,
        '--name', 'Erika Mustermann', '--verified');
      mvsp('user', 'create', '--email', 'otto@example.org', '--password', password,
        '--name', 'Otto Normal', '--verified');
      confidential = mvsp('client', 'create', '--name', 'Fachverfahren', '--redirect-uri', redirectUri,
        '--post-logout-uri', new URL('/bye', redirectUri).href);
      publicClient = mvsp('client', 'create', '--name', 'App', '--public', '--redirect-uri', redirectUri);
    },
  });
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
  await server?.stop();
  callbackServer.close();
});

async function discover(clientId, auth) {
  const config = await oidc.discovery(new URL(server.url), clientId, undefined, auth,
    { execute: [oidc.allowInsecureRequests] });
  oidc.enableNonRepudiationChecks(config);  // check the ID token's signature with the JWKS
  return config;
}

// Opens the authorization URL in a browser, signs in as `email`, runs `extra` on pages
// that need more (step-up), and returns the callback URL the browser was sent to.
async function signIn(url, email, extra = async () => {}) {
  const context = await browser.newContext({ locale: 'de-DE' });
  const page = await context.newPage();
  callbacks = [];
  await page.goto(url.href);
  await page.getByLabel('E-Mail-Adresse').fill(email);
  await page.getByLabel('Passwort').fill(password);
  await page.getByRole('button', { name: 'Anmelden', exact: true }).click();
  await extra(page);
  await page.waitForURL(`${redirectUri}**`);
  await context.close();
  assert.equal(callbacks.length, 1);
  return callbacks[0];
}

for (const [kind, clientFor] of [
  ['confidential client (client_secret_basic)', () => [confidential.client_id, oidc.ClientSecretBasic(confidential.client_secret)]],
  ['confidential client (client_secret_post)', () => [confidential.client_id, oidc.ClientSecretPost(confidential.client_secret)]],
  ['public client (PKCE only)', () => [publicClient.client_id, oidc.None()]],
]) {
  test(`openid-client completes the code flow with PKCE: ${kind}`, async () => {
    const [clientId, auth] = clientFor();
    const config = await discover(clientId, auth);
    const verifier = oidc.randomPKCECodeVerifier();
    const nonce = oidc.randomNonce();
    const state = oidc.randomState();
    const url = oidc.buildAuthorizationUrl(config, {
      redirect_uri: redirectUri,
      scope: 'openid profile email',
      code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      nonce,
      state,
    });
    const callback = await signIn(url, 'erika@example.org');
    const tokens = await oidc.authorizationCodeGrant(config, callback,
      { pkceCodeVerifier: verifier, expectedNonce: nonce, expectedState: state });
    const claims = tokens.claims();
    assert.equal(claims.iss, server.url);
    assert.equal(claims.aud, clientId);
    assert.equal(claims.nonce, nonce);
    assert.equal(claims.acr, 'http://eidas.europa.eu/LoA/low');
    assert.ok(claims.auth_time <= Math.floor(Date.now() / 1000));

    const info = await oidc.fetchUserInfo(config, tokens.access_token, claims.sub);
    assert.equal(info.email, 'erika@example.org');
    assert.equal(info.email_verified, true);
    assert.equal(info.given_name, 'Erika');
    assert.equal(info.family_name, 'Mustermann');

    const refreshed = await oidc.refreshTokenGrant(config, tokens.refresh_token);
    assert.notEqual(refreshed.refresh_token, tokens.refresh_token, 'refresh tokens rotate');
    await assert.rejects(oidc.refreshTokenGrant(config, tokens.refresh_token), { error: 'invalid_grant' });
    await assert.rejects(oidc.fetchUserInfo(config, refreshed.access_token, claims.sub),
      (e) => e.status === 401, 'reusing a rotated refresh token revokes the whole family');
  });
}

test('acr_values "substantial" leads a password-only user through TOTP set-up', async () => {
  const config = await discover(confidential.client_id, oidc.ClientSecretBasic(confidential.client_secret));
  const verifier = oidc.randomPKCECodeVerifier();
  const url = oidc.buildAuthorizationUrl(config, {
    redirect_uri: redirectUri,
    scope: 'openid',
    code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    acr_values: 'http://eidas.europa.eu/LoA/substantial',
    state: oidc.randomState(),
  });
  const state = url.searchParams.get('state');
  const callback = await signIn(url, 'otto@example.org', async (page) => {
    await page.waitForURL('**/konto/zwei-faktor**');
    const secret = (await page.textContent('#totp-secret')).trim();
    await page.getByLabel('Passwort', { exact: true }).fill(password);
    await page.getByLabel('Sicherheitscode').fill(totp(secret));
    await page.getByRole('button', { name: 'Einrichten' }).click();
    await page.getByRole('link', { name: /Codes aufbewahrt/ }).click();
  });
  const tokens = await oidc.authorizationCodeGrant(config, callback,
    { pkceCodeVerifier: verifier, expectedState: state });
  assert.equal(tokens.claims().acr, 'http://eidas.europa.eu/LoA/substantial');
});

for (const javaScript of [true, false]) {
  test(`a logout without id_token_hint asks first, JavaScript ${javaScript ? 'on (with axe)' : 'off'}`, async () => {
    const context = await browser.newContext({ javaScriptEnabled: javaScript, locale: 'de-DE' });
    const page = await context.newPage();
    await page.goto(server.url + '/anmelden');
    await page.getByLabel('E-Mail-Adresse').fill('erika@example.org');
    await page.getByLabel('Passwort').fill(password);
    await page.getByRole('button', { name: 'Anmelden', exact: true }).click();
    await page.waitForURL('**/konto');
    const bye = new URL('/bye', redirectUri).href;
    const logout = new URL('/oidc/logout', server.url);
    logout.searchParams.set('client_id', confidential.client_id);
    logout.searchParams.set('post_logout_redirect_uri', bye);
    logout.searchParams.set('state', 'tschuess');
    await page.goto(logout.href);
    assert.match(await page.textContent('main'), /„Fachverfahren“ möchte Sie abmelden/);
    if (javaScript) assert.deepEqual(await axeViolations(page), [], 'axe on the logout question');
    await page.goto(server.url + '/konto');
    assert.match(page.url(), /\/konto$/, 'a link alone signs nobody out');
    await page.goto(logout.href);
    callbacks = [];
    await page.getByRole('button', { name: 'Ja, abmelden' }).click();
    await page.waitForURL(`${bye}**`);
    assert.equal(callbacks.length, 1);
    assert.equal(callbacks[0].searchParams.get('state'), 'tschuess');
    await page.goto(server.url + '/konto');
    assert.match(page.url(), /\/anmelden/, 'signed out after the confirmation');
    await context.close();
  });
}
