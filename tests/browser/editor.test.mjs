// The editorial pages as a city's editor uses them: overview, local texts of an office
// for a service (saved and shown on the service page), online services. Zero axe
// violations; saving works without JavaScript.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, launchBrowser, expectClean } from './harness.mjs';

let server;
let browser;
before(async () => {
  server = await startServer({ demo: true });
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
  await server?.stop();
});

async function signIn(page) {
  await page.goto(server.url + '/anmelden?next=/redaktion');
  await page.getByLabel('E-Mail-Adresse').fill('redaktion@example.org');
  await page.getByLabel('Passwort').fill('Demo-Passwort-2026');
  await page.getByRole('button', { name: 'Anmelden', exact: true }).click();
  await page.waitForURL('**/redaktion');
}

test('an editor writes a local text for Schwerin and sees it on the service page', async () => {
  const context = await browser.newContext({ locale: 'de-DE' });
  const page = await context.newPage();
  await signIn(page);
  await expectClean(page, 'editorial overview');
  await page.goto(server.url + '/redaktion/leistungen/99108008000000/sn-buergeramt');
  await expectClean(page, 'local texts form');
  await page.getByLabel('Ihr Text', { exact: true }).nth(3).fill('Ermäßigung für Hunde aus dem Tierheim Schwerin: erstes Jahr steuerfrei.');
  await page.getByRole('button', { name: 'Speichern' }).click();
  await page.waitForURL('**/redaktion/leistungen/99108008000000/sn-buergeramt');
  assert.match(await page.textContent('body'), /Die Änderungen sind gespeichert/);
  await page.goto(server.url + '/leistungen/99108008000000?ort=13004000');
  assert.match(await page.textContent('main'), /Tierheim Schwerin: erstes Jahr steuerfrei/);
  await page.goto(server.url + '/redaktion/online-dienste');
  await expectClean(page, 'online services');
  // The office's own entry, with an error first.
  await page.goto(server.url + '/redaktion/behoerden/sn-buergeramt');
  await expectClean(page, 'authority entry');
  await page.getByLabel('Postleitzahl').fill('1905');
  await page.getByRole('button', { name: 'Speichern' }).click();
  assert.match(await page.textContent('main'), /Eine Postleitzahl hat fünf Ziffern/);
  await expectClean(page, 'authority entry with an error');
  // A new online service for the city, first with a broken line of documents.
  await page.goto(server.url + '/redaktion/online-dienste/neu');
  await expectClean(page, 'new online service');
  await page.getByLabel('Bezeichnung').fill('Anwohnerparken online (Schwerin)');
  await page.getByLabel('LeiKa-Schlüssel der Leistung').fill('99068001000000');
  await page.getByLabel('Unterlagen').fill('Fahrzeugschein');
  await page.getByRole('button', { name: 'Speichern' }).click();
  assert.match(await page.textContent('main'), /Jede Zeile braucht/);
  await expectClean(page, 'online service form with an error');
  await page.getByLabel('Unterlagen').fill('Fahrzeugschein; application/pdf; 5; Pflicht');
  await page.getByRole('button', { name: 'Speichern' }).click();
  assert.match(await page.textContent('body'), /Die Änderungen sind gespeichert/);
  await context.close();
});

test('the operator edits a state service', async () => {
  const context = await browser.newContext({ locale: 'de-DE' });
  const page = await context.newPage();
  await page.goto(server.url + '/anmelden?next=/redaktion/leistungen/99017001000000');
  await page.getByLabel('E-Mail-Adresse').fill('betrieb@example.org');
  await page.getByLabel('Passwort').fill('Demo-Passwort-2026');
  await page.getByRole('button', { name: 'Anmelden', exact: true }).click();
  await page.waitForURL('**/redaktion/leistungen/99017001000000');
  await expectClean(page, 'service form with topics and responsibilities');
  await page.goto(server.url + '/redaktion/leistungen/neu');
  await expectClean(page, 'new service');
  await page.getByRole('button', { name: 'Speichern' }).click();
  assert.match(await page.textContent('main'), /Bitte prüfen Sie Ihre Angaben/);
  await expectClean(page, 'new service with errors');
  await page.goto(server.url + '/redaktion/behoerden/neu');
  await expectClean(page, 'new office');
  await context.close();
});

test('without JavaScript the form saves as well', async () => {
  const context = await browser.newContext({ locale: 'de-DE', javaScriptEnabled: false });
  const page = await context.newPage();
  await signIn(page);
  await page.goto(server.url + '/redaktion/leistungen/99115001000000/sn-buergeramt');
  await page.getByLabel('Ihr Text', { exact: true }).first().fill('In Schwerin auch ohne Termin im Bürgeramt am Packhof.');
  await page.getByRole('button', { name: 'Speichern' }).click();
  await page.goto(server.url + '/leistungen/99115001000000?ort=13004000');
  assert.match(await page.textContent('main'), /ohne Termin im Bürgeramt am Packhof/);
  await context.close();
});
