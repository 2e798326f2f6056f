// The Hundesteuer form as a citizen fills it in the preview, with and without JavaScript:
// an exit page, the error summary linking to the field, two dogs with "add another", a
// question that a condition shows, check answers with a change link, the finished page.
// Then the form editor's pages. Zero axe violations on every page and every error state.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, launchBrowser, expectClean, guardLoopback } from './harness.mjs';

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

const base = '/formulare/hundesteuer-anmelden/vorschau';

async function next(page) {
  await page.getByRole('button', { name: 'Weiter' }).click();
}

async function fillDog(page, i, { name, breed, sex, born, since, dangerous }) {
  await page.locator(`#f-hunde-${i}-rufname`).fill(name);
  await page.locator(`#f-hunde-${i}-rasse`).fill(breed);
  await page.locator(sex === 'w' ? `#f-hunde-${i}-geschlecht` : `#f-hunde-${i}-geschlecht-1`).check();
  await page.locator(`#f-hunde-${i}-wurfdatum`).fill(born);
  await page.locator(`#f-hunde-${i}-haltung_seit`).fill(since);
  await page.locator(dangerous ? `#f-hunde-${i}-gefaehrlich` : `#f-hunde-${i}-gefaehrlich-1`).check();
}

for (const javaScript of [true, false]) {
  test(`a citizen registers two dogs (JavaScript ${javaScript ? 'on' : 'off'})`, async () => {
    const context = await browser.newContext({ javaScriptEnabled: javaScript, locale: 'de-DE' });
    context.setDefaultTimeout(15000);
    const page = await context.newPage();
    // axe runs inside the page: it scans with JavaScript on; the same pages without it
    const outside = [];
    guardLoopback(page, outside);
    await page.goto(server.url + base);
    if (javaScript) await expectClean(page, 'start');
    await page.getByRole('link', { name: 'Jetzt beginnen' }).click();
    if (javaScript) await expectClean(page, 'first page');

    // "No": the exit page says why and where to go instead
    await page.getByLabel('Nein').check();
    await next(page);
    await page.waitForURL('**/seiten/nicht_zustaendig');
    assert.match(await page.textContent('main'), /Melden Sie den Hund bitte dort an/);
    if (javaScript) await expectClean(page, 'exit page');
    await page.getByRole('link', { name: 'Zurück' }).click();
    await page.getByLabel('Ja').check();
    await next(page);
    await page.waitForURL('**/seiten/halter');

    // errors: a summary at the top that links to each field, with the field's own message
    await next(page);
    assert.match(await page.title(), /^Fehler: /);
    const summary = page.locator('#fehler');
    assert.match(await summary.textContent(), /Bitte füllen Sie „Ihr Name: Vorname“ aus\./);
    if (javaScript) await expectClean(page, 'holder page with errors');
    await summary.getByRole('link', { name: /Ihr Name: Vorname/ }).click();
    assert.ok(page.url().endsWith('#f-name-vorname'), page.url());
    await page.locator('#f-name-vorname').fill('Jürgen');
    await page.locator('#f-name-nachname').fill('Müller-Lüdenscheidt');
    await page.getByLabel('Geburtsdatum').fill('12.04.1961');
    await page.locator('#f-anschrift-strasse').fill('Schloßstraße');
    await page.locator('#f-anschrift-hausnummer').fill('7');
    await page.locator('#f-anschrift-plz').fill('19053');
    await page.locator('#f-anschrift-ort').fill('Schwer');
    if (javaScript) {
      // the places of Mecklenburg-Vorpommern come as suggestions
      await page.waitForFunction(() => document.querySelectorAll('#f-anschrift-ort-orte option').length > 0);
      const places = await page.locator('#f-anschrift-ort-orte option').evaluateAll((os) => os.map((o) => o.value));
      assert.ok(places.includes('Schwerin'), places.join(', '));
    }
    await page.locator('#f-anschrift-ort').fill('Schwerin');
    await page.getByLabel('E-Mail-Adresse').fill('juergen@example.org');
    await next(page);
    await page.waitForURL('**/seiten/hunde');
    if (javaScript) await expectClean(page, 'dogs page');

    // two dogs: "add another" keeps what was typed
    await fillDog(page, 0, { name: 'Bello', breed: 'Dackel', sex: 'm', born: '01.05.2020', since: '01.09.2026', dangerous: false });
    await page.getByRole('button', { name: 'Hund hinzufügen' }).click();
    await page.locator('#f-hunde-1-rufname').waitFor();
    assert.equal(await page.locator('#f-hunde-0-rufname').inputValue(), 'Bello');
    if (javaScript) await expectClean(page, 'dogs page with two dogs');
    const permit = page.locator('#f-hunde-1-erlaubnis_datum');
    if (javaScript) assert.equal(await permit.isVisible(), false, 'asked only for a dangerous dog');
    await fillDog(page, 1, { name: 'Zora', breed: 'Schäferhund', sex: 'w', born: '10.02.2019', since: '15.11.2026', dangerous: true });
    assert.equal(await permit.isVisible(), true, 'the condition shows the question');
    await next(page);
    assert.match(await page.locator('#fehler').textContent(), /Datum der Erlaubnis zum Halten eines gefährlichen Hundes \(Hund 2\)/);
    if (javaScript) await expectClean(page, 'dogs page with an error');
    await page.locator('#f-hunde-1-erlaubnis_datum').fill('20.11.2026');
    await next(page);
    await page.waitForURL('**/seiten/ermaessigung');
    await page.getByLabel('Nein').check();
    await next(page);
    await page.waitForURL('**/seiten/zahlung');
    await page.getByLabel('Nein').check();
    await next(page);
    await page.waitForURL('**/seiten/erklaerung');
    if (javaScript) await expectClean(page, 'declaration');
    await page.getByLabel('Ich versichere, dass meine Angaben richtig und vollständig sind.').check();
    await next(page);

    // check answers, change one, come back
    await page.waitForURL('**/pruefen');
    if (javaScript) await expectClean(page, 'check answers');
    const main = await page.textContent('main');
    for (const text of ['Müller-Lüdenscheidt', 'Zora', '20.11.2026', '720']) assert.ok(main.includes(text), text);
    assert.ok(!main.includes('Bankverbindung'), 'a page that does not apply is not listed');
    await page.getByRole('link', { name: 'Ändern Rasse (Hund 1)' }).click();
    await page.waitForURL('**/seiten/hunde#f-hunde-0-rasse');
    await page.locator('#f-hunde-0-rasse').fill('Rauhaardackel');
    await next(page);
    await page.waitForURL('**/pruefen');
    assert.match(await page.textContent('main'), /Rauhaardackel/);
    await page.getByRole('button', { name: 'Angaben bestätigen' }).click();
    await page.waitForURL('**/fertig');
    if (javaScript) await expectClean(page, 'finished');
    assert.ok(await page.getByRole('link', { name: 'Ihre Angaben als PDF' }).isVisible());
    assert.deepEqual(outside, []);
    await context.close();
  });
}

test('the form editor pages pass axe, also with an error', async () => {
  const context = await browser.newContext({ locale: 'de-DE' });
  const page = await context.newPage();
  await page.goto(server.url + '/anmelden?next=/redaktion/formulare');
  await page.getByLabel('E-Mail-Adresse').fill('betrieb@example.org');
  await page.getByLabel('Passwort').fill('Demo-Passwort-2026');
  await page.getByRole('button', { name: 'Anmelden', exact: true }).click();
  await page.waitForURL('**/redaktion/formulare');
  await expectClean(page, 'forms list');
  await page.getByLabel('Titel').fill('Testformular');
  await page.getByLabel('Kennung').fill('Test Formular');
  await page.getByRole('button', { name: 'Formular anlegen' }).click();
  assert.match(await page.textContent('main'), /Kleinbuchstaben, Ziffern und Bindestriche/);
  await expectClean(page, 'forms list with an error');
  await page.getByLabel('Kennung').fill('testformular');
  await page.getByRole('button', { name: 'Formular anlegen' }).click();
  await page.waitForURL('**/redaktion/formulare/testformular');
  await expectClean(page, 'form overview');
  await page.getByRole('link', { name: 'Erste Seite' }).click();
  await expectClean(page, 'page editor');
  await page.getByLabel('Frage (wie die Bürgerin oder der Bürger sie liest)').fill('Wie viele Hunde halten Sie?');
  await page.getByLabel('Kennung der Frage').fill('anzahl');
  await page.getByLabel('Art der Frage').selectOption('integer');
  await page.getByRole('button', { name: 'Frage hinzufügen' }).click();
  await page.getByRole('link', { name: 'Wie viele Hunde halten Sie?' }).click();
  await expectClean(page, 'question editor');
  await page.getByLabel('Mindestwert').fill('eins');
  await page.getByRole('button', { name: 'Speichern' }).click();
  assert.match(await page.textContent('main'), /keine gültige Grenze/);
  await expectClean(page, 'question editor with an error');
  await page.getByLabel('Mindestwert').fill('1');
  await page.getByLabel('Höchstwert').fill('10');
  await page.getByRole('button', { name: 'Speichern' }).click();
  await page.waitForURL('**/redaktion/formulare/testformular/seiten/seite_1');
  // publish, and see it as a citizen would
  await page.goto(server.url + '/redaktion/formulare/testformular');
  await page.getByRole('button', { name: 'Als neue Version veröffentlichen' }).click();
  assert.match(await page.textContent('main'), /Version 1 ist veröffentlicht/);
  await expectClean(page, 'form overview after publishing');
  await page.goto(server.url + '/formulare/testformular/vorschau/seiten/seite_1');
  await page.getByLabel('Wie viele Hunde halten Sie?').fill('11');
  await next(page);
  assert.match(await page.locator('#fehler').textContent(), /„Wie viele Hunde halten Sie\?“ darf höchstens 10 sein/);
  // an online service asks it
  await page.goto(server.url + '/redaktion/online-dienste/neu');
  await page.getByLabel('Bezeichnung').fill('Hunde zählen (Test)');
  await page.getByLabel('LeiKa-Schlüssel der Leistung').fill('99108008000000');
  await page.getByLabel('Formular (Kennung)').fill('testformular');
  await page.getByLabel('Version des Formulars').fill('2');
  await page.getByRole('button', { name: 'Speichern' }).click();
  assert.match(await page.textContent('main'), /diese Version gibt es nicht/);
  await expectClean(page, 'online service with a form version that does not exist');
  await page.getByLabel('Version des Formulars').fill('1');
  await page.getByRole('button', { name: 'Speichern' }).click();
  assert.match(await page.textContent('body'), /Die Änderungen sind gespeichert/);
  await page.goto(server.url + '/redaktion/formulare/hundesteuer-anmelden/versionen');
  await expectClean(page, 'versions');
  await page.goto(server.url + '/redaktion/formulare/hundesteuer-anmelden/seiten/hunde/fragen/hunde');
  await expectClean(page, 'group editor');
  await context.close();
});
