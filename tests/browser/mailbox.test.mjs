// A notice from a back office to the citizen, tried as a new user would: the back office
// posts it to the delivery API; the citizen gets the e-mail, logs in, must step up to
// `substantial` (sets up the second factor), opens the notice and its document; the back
// office sees stored, then retrieved, and fetches the evidence. Zero axe violations on
// every mailbox page; the journey also works without JavaScript.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, launchBrowser, guardLoopback, totp, expectClean } from './harness.mjs';

const password = 'Sehr-geheimes-Passwort-1';
let server;
let browser;
let client;
const citizens = {};

before(async () => {
  server = await startServer({
    mail: true,
    setup: (mvsp) => {
      const tenant = mvsp('tenant', 'create', '--name', 'Landeshauptstadt Schwerin');
      for (const email of ['erika@example.org', 'otto@example.org']) {
        citizens[email] = mvsp('user', 'create', '--email', email, '--password', password,
          '--name', 'Erika Mustermann', '--verified');
      }
      client = mvsp('client', 'create', '--name', 'Fachverfahren Hundesteuer', '--grant',
        'client_credentials', '--scope', 'notices:write', '--scope', 'notices:read',
        '--tenant', tenant.id);
    },
  });
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
  await server?.stop();
});

async function backOffice(path, init = {}) {
  const token = await fetch(server.url + '/api/v1/oidc/token', {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'client_credentials', scope: 'notices:write notices:read',
      client_id: client.client_id, client_secret: client.client_secret }),
  }).then((r) => r.json());
  return fetch(server.url + path,
    { ...init, headers: { ...init.headers, Authorization: `Bearer ${token.access_token}` } });
}

async function waitForStatus(id, status) {
  for (let i = 0; i < 200; i++) {
    const notice = await backOffice(`/api/v1/notices/${id}`).then((r) => r.json());
    if (notice.status === status) return notice;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`notice ${id} never became ${status}`);
}

for (const [javaScriptEnabled, email] of [[true, 'erika@example.org'], [false, 'otto@example.org']]) {
  test(`a notice reaches the citizen's mailbox (JavaScript ${javaScriptEnabled ? 'on' : 'off'})`, async () => {
    const form = new FormData();
    form.append('metadata', new Blob([JSON.stringify({
      recipient: citizens[email].mailbox,
      subject: 'Bescheid über die Hundesteuer 2027',
      body: 'Sehr geehrte Damen und Herren,\nanbei erhalten Sie Ihren Bescheid.',
      requiredTrustLevel: 'substantial',
      reference: 'StA-2027-0042',
    })], { type: 'application/json' }));
    form.append('document', new Blob(['%PDF-1.7\n% Hundesteuerbescheid\n%%EOF\n'],
      { type: 'application/pdf' }), 'hundesteuerbescheid.pdf');
    const posted = await backOffice('/api/v1/notices',
      { method: 'POST', body: form, headers: { 'Idempotency-Key': `browser-${email}` } });
    assert.equal(posted.status, 201);
    const { id } = await posted.json();
    const stored = await waitForStatus(id, 'stored');
    assert.ok(stored.receipt.deemedAnnouncedOn);

    const mail = await server.sink.mailTo(email);
    assert.match(mail.subject, /Neue Nachricht in Ihrem Postfach/);
    assert.doesNotMatch(mail.body, /Hundesteuer/);

    const context = await browser.newContext({ locale: 'de-DE', javaScriptEnabled });
    const page = await context.newPage();
    const outside = [];
    guardLoopback(page, outside);
    await page.goto(server.url + '/postfach');
    await page.waitForURL('**/anmelden?next=%2Fpostfach');
    await page.getByLabel('E-Mail-Adresse').fill(email);
    await page.getByLabel('Passwort').fill(password);
    await page.getByRole('button', { name: 'Anmelden', exact: true }).click();
    await page.waitForURL('**/postfach');
    assert.match(await page.textContent('main'), /Nachrichten: 1, davon ungelesen: 1/);
    if (javaScriptEnabled) await expectClean(page, 'inbox');
    await page.getByRole('link', { name: 'Bescheid über die Hundesteuer 2027' }).click();
    // The notice needs `substantial`; a password login is `low`.
    assert.match(await page.textContent('main'), /Vertrauensniveau „substantiell“/);
    assert.doesNotMatch(await page.textContent('main'), /anbei erhalten Sie/);
    if (javaScriptEnabled) await expectClean(page, 'step-up page');
    await page.getByRole('link', { name: 'Mit zweitem Faktor bestätigen' }).click();
    await page.waitForURL('**/konto/zwei-faktor?next=**');
    const secret = (await page.textContent('#totp-secret')).trim();
    // Setting up the factor asks for the password again and shows the recovery codes once.
    await page.getByLabel('Passwort', { exact: true }).fill(password);
    await page.getByLabel('Sicherheitscode').fill(totp(secret));
    await page.getByRole('button', { name: 'Einrichten' }).click();
    assert.match(await page.textContent('main'), /Ihre Wiederherstellungscodes/);
    if (javaScriptEnabled) await expectClean(page, 'recovery codes');
    await page.getByRole('link', { name: /Codes aufbewahrt/ }).click();
    await page.waitForURL(`**/postfach/*`);
    const main = await page.textContent('main');
    assert.match(main, /anbei erhalten Sie Ihren Bescheid/);
    assert.match(main, /gilt am \d\d\.\d\d\.\d{4} als bekannt gegeben/);
    assert.match(main, /StA-2027-0042/);
    if (javaScriptEnabled) await expectClean(page, 'notice');
    const href = await page.getByRole('link', { name: 'hundesteuerbescheid.pdf' }).getAttribute('href');
    const doc = await context.request.get(server.url + href);
    assert.equal(doc.status(), 200);
    assert.match(await doc.text(), /Hundesteuerbescheid/);
    await page.getByRole('link', { name: 'Zurück zum Postfach' }).click();
    assert.match(await page.textContent('main'), /davon ungelesen: 0/);
    assert.deepEqual(outside, []);
    await context.close();

    const retrieved = await waitForStatus(id, 'retrieved');
    assert.ok(retrieved.retrievedAt);
    const evidence = await backOffice(`/api/v1/notices/${id}/evidence`).then((r) => r.json());
    assert.deepEqual(evidence.records.map((r) => r.step), ['accepted', 'attempt', 'receipt', 'retrieval']);
  });
}
