// Paying a 30-euro fee as a citizen would: an online service creates the payment through
// the API, the citizen follows its link, pays by card on the payment SIMULATOR's page and
// comes back to "Zahlung erfolgreich"; a second time the citizen chooses the invoice and
// gets a PDF whose GiroCode a QR reader decodes to the right IBAN, amount and
// Kassenzeichen. With and without JavaScript; zero axe violations on our pages and the
// simulator's.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, startPaymentSimulator, startServer, launchBrowser, expectClean, guardLoopback } from './harness.mjs';

async function signIn(page, url, email, password, next) {
  await page.goto(`${url}/anmelden?next=${next}`);
  await page.getByLabel('E-Mail-Adresse').fill(email);
  await page.getByLabel('Passwort').fill(password);
  await page.getByRole('button', { name: 'Anmelden', exact: true }).click();
  await page.waitForURL(`**${next}`);
}

const secret = 'browser-test-notification-secret';
let server;
let simulator;
let browser;
let token;
const tenant = {};

before(async () => {
  const port = await freePort();
  simulator = await startPaymentSimulator(`http://127.0.0.1:${port}/zahlung/benachrichtigung/sim`, secret);
  server = await startServer({
    port,
    config: `[payments.providers.sim]\nbase_url = "${simulator.url}"\noriginator_id = "mvsp-test"\n` +
      `user = "mvsp"\npassword = "geheim"\nextensions = true\nnotification_secret = "${secret}"\n`,
    setup: (mvsp) => {
      tenant.id = mvsp('tenant', 'create', '--name', 'Landeshauptstadt Schwerin').id;
      mvsp('payments', 'account', 'sn-buergerbuero', '--tenant', tenant.id,
        '--name', 'Bürgerbüro Schwerin', '--payee', 'Landeshauptstadt Schwerin',
        '--iban', 'DE02120300000000202051', '--bic', 'BYLADEM1001',
        '--budget-position', '1.1.2.01.432100', '--booking-account', '43210000',
        '--pattern', '5{YY}{N:7}{P}', '--provider', 'sim', '--endpoint', '13004000');
      mvsp('user', 'create', '--email', 'kasse@schwerin.example', '--password', 'Kassen-Passwort-2026',
        '--verified', '--role', 'cashier', '--tenant', tenant.id);
      tenant.client = mvsp('client', 'create', '--name', 'Onlinedienst Bewohnerparken',
        '--grant', 'client_credentials', '--scope', 'payments:write', '--scope', 'payments:read',
        '--tenant', tenant.id);
    },
  });
  const res = await fetch(`${server.url}/api/v1/oidc/token`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'client_credentials', scope: 'payments:write payments:read',
      client_id: tenant.client.client_id, client_secret: tenant.client.client_secret }),
  });
  token = (await res.json()).access_token;
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
  await server?.stop();
  await simulator?.stop();
});

let keys = 0;
async function newPayment() {
  const res = await fetch(`${server.url}/api/v1/payments`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json',
      'Idempotency-Key': `browser-${Date.now()}-${++keys}` },
    body: JSON.stringify({ authority: 'sn-buergerbuero', amount: 3000, purpose: 'Bewohnerparkausweis',
      reference: 'MV-35CA3-4HFYVHOK', returnUrl: `${server.url}/`,
      payer: { name: 'Mustermann', firstName: 'Erika', city: 'Schwerin', postcode: '19053' } }),
  });
  assert.equal(res.status, 201);
  return res.json();
}

async function status(id) {
  const res = await fetch(`${server.url}/api/v1/payments/${id}`, { headers: { Authorization: `Bearer ${token}` } });
  return (await res.json()).state.status;
}

for (const javaScript of [true, false]) {
  test(`a citizen pays 30 Euro by card (JavaScript ${javaScript ? 'on' : 'off'})`, async () => {
    const payment = await newPayment();
    const context = await browser.newContext({ javaScriptEnabled: javaScript, locale: 'de-DE' });
    context.setDefaultTimeout(15000);
    const page = await context.newPage();
    const outside = [];
    guardLoopback(page, outside);
    await page.goto(payment._links.next_url.href);
    assert.match(await page.textContent('main'), /30,00 €/);
    assert.match(await page.textContent('main'), new RegExp(payment.kassenzeichen));
    if (javaScript) await expectClean(page, 'payment step');
    // Without a choice: the error summary names it.
    await page.getByRole('button', { name: 'Weiter' }).click();
    assert.match(await page.textContent('main'), /Wählen Sie aus, wie Sie bezahlen möchten/);
    if (javaScript) await expectClean(page, 'payment step with an error');
    await page.getByLabel(/Jetzt online bezahlen/).check();
    await page.getByRole('button', { name: 'Weiter' }).click();
    // The simulator's hosted page.
    await page.waitForURL(`${simulator.url}/**`);
    assert.match(await page.textContent('body'), /SIMULATOR/);
    assert.match(await page.textContent('body'), /30,00 €/);
    if (javaScript) await expectClean(page, "the simulator's payment page");
    await page.getByLabel('Kreditkarte').check();
    await page.getByLabel(/Kartennummer/).fill('4242 4242 4242 4242');
    await page.getByRole('button', { name: 'Jetzt bezahlen' }).click();
    await page.waitForURL(`${server.url}/zahlung/${payment.paymentId}/ergebnis`);
    assert.match(await page.textContent('main'), /Zahlung erfolgreich/);
    if (javaScript) await expectClean(page, 'result');
    assert.equal(await status(payment.paymentId), 'success');
    assert.deepEqual(outside, []);
    await context.close();
  });

  test(`a citizen chooses the invoice and reads its GiroCode (JavaScript ${javaScript ? 'on' : 'off'})`, async () => {
    const payment = await newPayment();
    const context = await browser.newContext({ javaScriptEnabled: javaScript, locale: 'de-DE', acceptDownloads: true });
    context.setDefaultTimeout(15000);
    const page = await context.newPage();
    const outside = [];
    guardLoopback(page, outside);
    await page.goto(payment._links.next_url.href);
    await page.getByLabel(/Später bezahlen/).check();
    await page.getByRole('button', { name: 'Weiter' }).click();
    await page.waitForURL(`${server.url}/zahlung/${payment.paymentId}/ergebnis`);
    assert.match(await page.textContent('main'), /Ihre Rechnung/);
    assert.match(await page.textContent('main'), /DE02 1203 0000 0000 2020 51/);
    if (javaScript) await expectClean(page, 'invoice result');
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('link', { name: 'Rechnung herunterladen (PDF)' }).click(),
    ]);
    const dir = mkdtempSync(join(tmpdir(), 'mvsp-invoice-'));
    try {
      const pdf = join(dir, 'rechnung.pdf');
      await download.saveAs(pdf);
      execFileSync('pdftoppm', ['-r', '200', '-png', '-singlefile', pdf, join(dir, 'page')]);
      const payload = execFileSync('zbarimg', ['--raw', '-q', join(dir, 'page.png')]).toString().trim();
      const lines = payload.split('\n');
      assert.equal(lines[0], 'BCD');
      assert.equal(lines[3], 'SCT');
      assert.equal(lines[6], 'DE02120300000000202051');
      assert.equal(lines[7], 'EUR30.00');
      assert.ok(payload.includes(payment.kassenzeichen), payload);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    assert.equal(await status(payment.paymentId), 'submitted');
    assert.deepEqual(outside, []);
    await context.close();
  });
}

for (const javaScript of [true, false]) {
  test(`the cash office finds the payment, reads its journal and refunds (JavaScript ${javaScript ? 'on' : 'off'})`, async () => {
    const payment = await newPayment();
    // The payer pays by invoice; the transfer arrives.
    const payer = await browser.newContext({ javaScriptEnabled: javaScript, locale: 'de-DE' });
    const p = await payer.newPage();
    await p.goto(payment._links.next_url.href);
    await p.getByLabel(/Später bezahlen/).check();
    await p.getByRole('button', { name: 'Weiter' }).click();
    await p.waitForURL('**/ergebnis');
    await payer.close();

    const context = await browser.newContext({ javaScriptEnabled: javaScript, locale: 'de-DE' });
    context.setDefaultTimeout(15000);
    const page = await context.newPage();
    const outside = [];
    guardLoopback(page, outside);
    await signIn(page, server.url, 'kasse@schwerin.example', 'Kassen-Passwort-2026', '/verwaltung/zahlungen');
    if (javaScript) await expectClean(page, 'payments search');
    await page.getByLabel('Suche').fill(payment.kassenzeichen);
    await page.getByRole('button', { name: 'Suchen' }).click();
    await page.getByRole('link', { name: payment.kassenzeichen }).click();
    assert.match(await page.textContent('main'), /Rechnung offen/);
    if (javaScript) await expectClean(page, 'payment');
    await page.getByRole('button', { name: /Als bezahlt markieren/ }).click();
    assert.match(await page.textContent('main'), /Die Zahlung ist als bezahlt markiert/);
    await page.getByLabel('Betrag in Euro').fill('31');
    await page.getByLabel('Grund der Erstattung').fill('Teilerstattung');
    await page.getByRole('button', { name: 'Erstattung veranlassen' }).click();
    assert.match(await page.textContent('main'), /höchstens so viel, wie bezahlt/);
    if (javaScript) await expectClean(page, 'refund with an error');
    await page.getByLabel('Betrag in Euro').fill('12,50');
    await page.getByRole('button', { name: 'Erstattung veranlassen' }).click();
    assert.match(await page.textContent('main'), /Erstattung über 12,50 € veranlasst/);
    await page.goto(`${server.url}/verwaltung/zahlungen/journal`);
    assert.match(await page.textContent('main'), /Tagesjournal/);
    if (javaScript) await expectClean(page, 'journal');
    await page.goto(`${server.url}/verwaltung/zahlungen/kontoauszug`);
    if (javaScript) await expectClean(page, 'bank statement');
    assert.equal(await status(payment.paymentId), 'success');
    assert.deepEqual(outside, []);
    await context.close();
  });
}

test('an authority admin keeps the payment account (demo data; with axe, also with errors)', async () => {
  const demo = await startServer({ demo: true });
  try {
    const context = await browser.newContext({ locale: 'de-DE' });
    context.setDefaultTimeout(15000);
    const page = await context.newPage();
    await signIn(page, demo.url, 'verwaltung@example.org', 'Demo-Passwort-2026', '/verwaltung/zahlungen/konten');
    await expectClean(page, 'payment accounts');
    await page.getByRole('link', { name: /Bürgeramt/ }).click();
    await expectClean(page, 'payment account');
    await page.getByLabel('IBAN').fill('DE02120300000000202052');
    await page.getByRole('button', { name: 'Speichern' }).click();
    assert.match(await page.textContent('main'), /Geben Sie eine gültige IBAN an/);
    await expectClean(page, 'payment account with an error');
    await page.getByLabel('IBAN').fill('DE02 1203 0000 0000 2020 51');
    await page.getByRole('button', { name: 'Speichern' }).click();
    await page.waitForURL('**/verwaltung/zahlungen/konten');
    assert.match(await page.textContent('main'), /Das Zahlungskonto ist gespeichert/);
    await context.close();
  } finally {
    await demo.stop();
  }
});
