// The citizen's front door, tried as a new user would: search from the start page, choose
// the place, land on the service page with the responsible office and its fee; synonyms,
// spelling, the page when nothing is found, the second step to choose a place. Zero axe
// violations, with and without JavaScript.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, launchBrowser, guardLoopback, expectClean } from './harness.mjs';

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

for (const javaScriptEnabled of [true, false]) {
  test(`Hund anmelden in Wismar (JavaScript ${javaScriptEnabled ? 'on' : 'off'})`, async () => {
    const context = await browser.newContext({ locale: 'de-DE', javaScriptEnabled });
    const page = await context.newPage();
    const outside = [];
    guardLoopback(page, outside);
    await page.goto(server.url + '/');
    if (javaScriptEnabled) await expectClean(page, 'start page with search');
    await page.getByLabel('Was möchten Sie erledigen?').fill('Hund anmelden');
    await page.getByLabel('Ihr Ort').fill('Wismar');
    await page.getByRole('button', { name: 'Leistung suchen' }).click();
    await page.waitForURL('**/suche?**');
    const first = page.locator('.mvsp-results li').first();
    assert.match(await first.textContent(), /Hundesteuer anmelden/);
    assert.match(await first.textContent(), /Hansestadt Wismar, Abteilung Steuern und Abgaben/);
    if (javaScriptEnabled) await expectClean(page, 'results');
    await first.getByRole('link').click();
    await page.waitForURL('**/leistungen/99108008000000?ort=13074087');
    const main = await page.textContent('main');
    assert.match(main, /Zuständige Stelle/);
    assert.match(main, /Hansestadt Wismar, Abteilung Steuern und Abgaben/);
    assert.match(main, /erster Hund 84 Euro/);
    assert.match(main, /Online-Antrag starten/);
    if (javaScriptEnabled) await expectClean(page, 'service page for Wismar');
    await page.getByRole('link', { name: /Alle Leistungen von/ }).click();
    await page.waitForURL('**/behoerden/hwi-steuern');
    if (javaScriptEnabled) await expectClean(page, 'authority page');
    assert.deepEqual(outside, []);
    await context.close();
  });
}

test('synonyms and spelling find the right service first', async () => {
  const context = await browser.newContext({ locale: 'de-DE' });
  const page = await context.newPage();
  for (const [query, expected] of [['Ummeldung', 'Wohnsitz anmelden'],
    ['Gewerbeanmeldng', 'Gewerbeanmeldung']]) {
    await page.goto(server.url + '/suche?q=' + encodeURIComponent(query));
    assert.equal((await page.locator('.mvsp-results li a').first().textContent()).trim(), expected);
  }
  assert.match(await page.textContent('main'), /gesucht nach „gewerbeanmeldung“/);
  await expectClean(page, 'corrected search');
  await context.close();
});

test('nothing found, a place to choose, topics: helpful pages', async () => {
  const context = await browser.newContext({ locale: 'de-DE' });
  const page = await context.newPage();
  await page.goto(server.url + '/suche?q=Xylophonreparatur');
  assert.match(await page.textContent('main'), /keine passende Leistung gefunden/);
  await expectClean(page, 'nothing found');
  // "Neuenkirchen" exists four times: the second step asks which one.
  await page.goto(server.url + '/suche?q=Hund&ort=Neuenkirchen');
  assert.match(await page.textContent('main'), /Bitte wählen Sie Ihren Ort/);
  assert.equal(await page.getByRole('link', { name: /^Neuenkirchen \(/ }).count(), 4);
  await expectClean(page, 'choose a place');
  await page.getByRole('link', { name: /^Neuenkirchen \(Landkreis Vorpommern-Greifswald\)/ }).first().click();
  assert.match(await page.textContent('main'), /Ergebnisse – Neuenkirchen/);
  await page.goto(server.url + '/suche?q=Hund&ort=Atlantis');
  assert.match(await page.textContent('main'), /Diesen Ort kennen wir in Mecklenburg-Vorpommern nicht/);
  await expectClean(page, 'unknown place');
  await page.goto(server.url + '/themen');
  await expectClean(page, 'topics');
  await page.getByRole('link', { name: 'Umzug', exact: true }).click();
  assert.match(await page.textContent('main'), /Wohnsitz anmelden/);
  await page.goto(server.url + '/leistungen/99115001000000');
  assert.match(await page.textContent('main'), /Für welchen Ort/);
  await expectClean(page, 'service page without place');
  await context.close();
});

test('with JavaScript, the place field suggests municipalities while typing', async () => {
  const context = await browser.newContext({ locale: 'de-DE' });
  const page = await context.newPage();
  await page.goto(server.url + '/suche');
  await page.getByLabel('Ihr Ort').pressSequentially('Wism');
  await page.waitForFunction(() => document.querySelectorAll('#suche-ort-liste option').length > 0);
  const value = await page.locator('#suche-ort-liste option').first().getAttribute('value');
  assert.equal(value, 'Wismar (13074087)');
  await page.getByLabel('Ihr Ort').fill(value);
  await page.getByLabel('Suchbegriff').fill('Hundesteuer');
  await page.getByRole('button', { name: 'Suchen' }).click();
  assert.match(await page.textContent('main'), /Ergebnisse – Hansestadt Wismar/);
  await context.close();
});
