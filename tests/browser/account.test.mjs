// The user account as a new citizen meets it: register, confirm from the mail that
// arrived, sign in, set up TOTP, see and change the profile, sign out, sign in with the
// second factor. Zero axe violations on every page; the same journey without JavaScript.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, launchBrowser, guardLoopback, totp, expectClean } from './harness.mjs';

const password = 'ein langer sicherer Satz 2026';
let server;
let browser;
before(async () => {
  server = await startServer({ mail: true });
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
  await server?.stop();
});

async function heading(page) {
  return (await page.textContent('h1')).trim();
}

async function register(page, email, { scan }) {
  await page.goto(server.url + '/konto/registrieren');
  if (scan) {
    // The error state first: a form sent empty shows the summary and the fields' errors.
    await page.getByRole('button', { name: 'Konto anlegen' }).click();
    await page.waitForSelector('#fehler');
    await expectClean(page, 'registration with errors');
  }
  await page.getByLabel('Vorname').fill('Anna');
  await page.getByLabel('Nachname').fill('Schmidt');
  await page.getByLabel('E-Mail-Adresse').fill(email);
  await page.getByLabel('Passwort', { exact: true }).fill(password);
  await page.getByLabel('Passwort wiederholen').fill(password);
  await page.getByRole('button', { name: 'Konto anlegen' }).click();
  await page.waitForURL('**/konto/registrieren/gesendet');
  assert.equal(await heading(page), 'Bitte prüfen Sie Ihr E-Mail-Postfach');
  if (scan) await expectClean(page, 'mail sent');

  const mail = await server.sink.mailTo(email);
  assert.equal(mail.subject, 'Bitte bestätigen Sie Ihre E-Mail-Adresse');
  const link = /http:\/\/127\.0\.0\.1:\d+\/konto\/bestaetigen\?token=[\w-]+/.exec(mail.body)[0];
  await page.goto(link);
  assert.equal(await heading(page), 'E-Mail-Adresse bestätigt');
  if (scan) await expectClean(page, 'confirmed');
}

async function signIn(page, email, { scan }) {
  await page.goto(server.url + '/anmelden');
  if (scan) await expectClean(page, 'sign-in');
  await page.getByLabel('E-Mail-Adresse').fill(email);
  await page.getByLabel('Passwort').fill(password);
  await page.getByRole('button', { name: 'Anmelden', exact: true }).click();
}

for (const javaScript of [true, false]) {
  test(`a new citizen's account, JavaScript ${javaScript ? 'on (with axe)' : 'off'}`, async () => {
    const context = await browser.newContext({ javaScriptEnabled: javaScript, locale: 'de-DE' });
    const page = await context.newPage();
    const outside = [];
    guardLoopback(page, outside);
    const scan = javaScript;
    const email = javaScript ? 'anna@example.org' : 'anna.ohne.js@example.org';

    await register(page, email, { scan });
    await signIn(page, email, { scan });
    await page.waitForURL('**/konto');
    assert.equal(await heading(page), 'Mein Konto');
    assert.match(await page.textContent('main'), /Anna/);
    assert.match(await page.textContent('main'), /niedrig/);
    if (scan) await expectClean(page, 'my account');

    await page.getByRole('link', { name: 'Zweiten Faktor einrichten' }).click();
    await page.waitForURL('**/konto/zwei-faktor');
    if (scan) await expectClean(page, 'TOTP set-up');
    const secret = (await page.textContent('#totp-secret')).trim();
    // Without the password nothing is set up; the error names the field.
    await page.getByLabel('Sicherheitscode').fill(totp(secret));
    await page.getByRole('button', { name: 'Einrichten' }).click();
    assert.match(await page.textContent('main'), /Geben Sie Ihr Passwort ein/);
    if (scan) await expectClean(page, 'TOTP set-up with error');
    await page.getByLabel('Passwort', { exact: true }).fill(password);
    await page.getByLabel('Sicherheitscode').fill(totp(secret));
    await page.getByRole('button', { name: 'Einrichten' }).click();
    assert.match(await page.textContent('main'), /Der zweite Faktor ist eingerichtet/);
    assert.equal((await page.textContent('main')).match(/\d{5}-\d{5}-\d{5}-\d{5}/g).length, 10);
    if (scan) await expectClean(page, 'recovery codes with flash');
    await page.getByRole('link', { name: /Codes aufbewahrt/ }).click();
    await page.waitForURL('**/konto');

    await page.getByRole('link', { name: 'Persönliche Daten ändern' }).click();
    await page.waitForURL('**/konto/profil');
    if (scan) await expectClean(page, 'profile form');
    await page.getByLabel('Straße und Hausnummer').fill('Markt 11');
    await page.getByLabel('Postleitzahl').fill('23966');
    await page.getByLabel(/^Ort\b/).fill('Wismar');
    await page.getByRole('button', { name: 'Speichern' }).click();
    await page.waitForURL('**/konto');
    assert.match(await page.textContent('main'), /Wismar/);

    await page.getByRole('link', { name: 'Sicherheit, Sitzungen und Ihre Daten' }).click();
    await page.waitForURL('**/konto/sicherheit');
    assert.match(await page.textContent('main'), /Diese Sitzung/);
    assert.match(await page.textContent('main'), /Zweiter Faktor eingerichtet/);
    if (scan) await expectClean(page, 'security and sessions');
    await page.getByRole('link', { name: 'Zweiten Faktor ersetzen (neues Gerät)' }).click();
    await page.waitForURL('**/konto/sicherheit/zwei-faktor');
    assert.match(await page.textContent('main'), /Code des bisherigen zweiten Faktors/);
    if (scan) await expectClean(page, 'replace the second factor');
    await page.goto(server.url + '/konto/sicherheit/zwei-faktor/entfernen');
    assert.equal(await heading(page), 'Zweiten Faktor entfernen');
    if (scan) await expectClean(page, 'remove the second factor');
    await page.goto(server.url + '/konto/sicherheit');
    await page.getByRole('link', { name: 'Konto löschen' }).click();
    await page.waitForURL('**/konto/loeschen');
    if (scan) await expectClean(page, 'delete account');
    await page.goto(server.url + '/konto');

    await page.getByRole('button', { name: 'Abmelden' }).click();
    assert.equal(await heading(page), 'Sie sind abgemeldet');
    if (scan) await expectClean(page, 'signed out');

    await signIn(page, email, { scan: false });
    await page.waitForURL('**/anmelden/zweiter-faktor**');
    if (scan) await expectClean(page, 'second factor');
    await page.getByLabel('Sicherheitscode').fill(totp(secret, 1));
    await page.getByRole('button', { name: 'Bestätigen' }).click();
    await page.waitForURL('**/konto');
    assert.match(await page.textContent('main'), /substantiell/);

    assert.deepEqual(outside, [], 'requests beyond loopback');
    await context.close();
  });
}
