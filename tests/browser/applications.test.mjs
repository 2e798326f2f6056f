// The citizen's journey as a new user takes it: from the start page through the finder to
// "Online-Antrag starten" for the Hundesteuer in Wismar; signed in as a demo citizen (A) or
// as a guest through the mailed link (B); the form for two dogs with "add another", a PDF
// uploaded and scanned by a real clamd, the fee paid by card on the payment SIMULATOR, the
// check page with its declaration, the confirmation with the reference number and the PDF,
// "Meine Anträge"; then the Wismar clerk finds the Vorgang once the hand-over ran, checks it,
// requests a document that the citizen sends inside the Vorhaben, and decides with the
// template: the citizen finds the sealed notice in the mailbox, and the Vorgang shows the
// receipt and the day it counts as announced. A file
// with the EICAR test string is refused and not listed. With and without JavaScript; zero
// axe violations on every page and error state; nothing leaves loopback.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { freePort, startPaymentSimulator, startServer, startClamd, launchBrowser, expectClean, guardLoopback } from './harness.mjs';

const password = 'Demo-Passwort-2026';
const secret = 'browser-test-notification-secret';
const pdf = Buffer.from('%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n');
// In two halves, so that no scanner flags this file.
const eicar = 'X5O!P%@AP[4\\PZX54(P^)7CC)7}$' + 'EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*';

let server;
let simulator;
let clamd;
let browser;

before(async () => {
  const port = await freePort();
  [simulator, clamd] = await Promise.all([
    startPaymentSimulator(`http://127.0.0.1:${port}/zahlung/benachrichtigung/sim`, secret), startClamd()]);
  // The demo's payment accounts take the first configured provider: the simulator.
  server = await startServer({
    demo: true,
    mail: true,
    port,
    clamav: clamd,
    config: `[payments.providers.sim]\nbase_url = "${simulator.url}"\noriginator_id = "mvsp-test"\n` +
      `user = "mvsp"\npassword = "geheim"\nextensions = true\nnotification_secret = "${secret}"\n`,
  });
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
  await server?.stop();
  await simulator?.stop();
  await clamd?.stop();
});

async function newPage(javaScript) {
  const context = await browser.newContext({ javaScriptEnabled: javaScript, locale: 'de-DE', acceptDownloads: true });
  context.setDefaultTimeout(15000);
  const page = await context.newPage();
  const outside = [];
  guardLoopback(page, outside);
  return { context, page, outside };
}

async function signIn(page, email) {
  await page.getByLabel('E-Mail-Adresse').fill(email);
  await page.getByLabel('Passwort').fill(password);
  await page.getByRole('button', { name: 'Anmelden', exact: true }).click();
}

async function next(page) {
  await page.getByRole('button', { name: 'Weiter' }).click();
}

async function main(page) {
  return page.textContent('main');
}

// From "/" through the finder to the application's start page for Wismar.
async function findService(page, clean) {
  await page.goto(server.url + '/');
  await page.getByLabel('Was möchten Sie erledigen?').fill('Hund anmelden');
  await page.getByLabel('Ihr Ort').fill('Wismar');
  await page.getByRole('button', { name: 'Leistung suchen' }).click();
  await page.waitForURL('**/suche?**');
  await page.locator('.mvsp-results li').first().getByRole('link').click();
  await page.waitForURL('**/leistungen/99108008000000?ort=13074087');
  await page.getByRole('link', { name: 'Online-Antrag starten' }).click();
  await page.waitForURL('**/antrag/hundesteuer-online?ort=13074087');
  const text = await main(page);
  assert.match(text, /Hundesteuer online anmelden/);
  assert.match(text, /Hansestadt Wismar, Abteilung Steuern und Abgaben/);
  assert.match(text, /5,00 €/);
  await clean('start page');
}

// "Gehalten seit" may lie five years back at most: a date `days` before today.
function daysAgo(days) {
  const d = new Date(Date.now() - days * 86400000);
  return `${String(d.getDate()).padStart(2, '0')}.${String(d.getMonth() + 1).padStart(2, '0')}.${d.getFullYear()}`;
}

async function fillDog(page, i, { name, breed, sex, born, since }) {
  await page.locator(`#f-hunde-${i}-rufname`).fill(name);
  await page.locator(`#f-hunde-${i}-rasse`).fill(breed);
  await page.locator(sex === 'w' ? `#f-hunde-${i}-geschlecht` : `#f-hunde-${i}-geschlecht-1`).check();
  await page.locator(`#f-hunde-${i}-wurfdatum`).fill(born);
  await page.locator(`#f-hunde-${i}-haltung_seit`).fill(since);
  await page.locator(`#f-hunde-${i}-gefaehrlich-1`).check();
}

// The form from the task list: two dogs; the holder page shows its errors first.
async function fillForm(page, clean, { guest }) {
  const base = new URL(page.url()).pathname;
  await page.getByRole('link', { name: 'Angaben im Formular' }).click();
  await page.waitForURL(`**${base}/formular/wohnort`);
  await clean('first form page');
  await page.getByLabel('Ja').check();
  await next(page);
  await page.waitForURL(`**${base}/formular/halter`);
  if (guest) {
    await next(page);
    assert.match(await page.locator('#fehler').textContent(), /Ihr Name: Vorname/);
    await clean('holder page with errors');
    await page.locator('#f-name-vorname').fill('Jürgen');
    await page.locator('#f-name-nachname').fill('Müller-Lüdenscheidt');
    await page.getByLabel('E-Mail-Adresse').fill('juergen@example.org');
  } else {
    // prefilled from the account
    assert.equal(await page.locator('#f-name-nachname').inputValue(), 'Mustermann');
    await page.locator('#f-geburtsdatum').fill('');
    await next(page);
    assert.match(await page.locator('#fehler').textContent(), /Geburtsdatum/);
    await clean('holder page with errors');
  }
  await page.getByLabel('Geburtsdatum').fill('12.04.1961');
  await page.locator('#f-anschrift-strasse').fill('Lübsche Straße');
  await page.locator('#f-anschrift-hausnummer').fill('7');
  await page.locator('#f-anschrift-plz').fill('23966');
  await page.locator('#f-anschrift-ort').fill('Wismar');
  await next(page);
  await page.waitForURL(`**${base}/formular/hunde`);
  await clean('dogs page');
  await fillDog(page, 0, { name: 'Bello', breed: 'Dackel', sex: 'm', born: '01.05.2020', since: daysAgo(300) });
  await page.getByRole('button', { name: 'Hund hinzufügen' }).click();
  await page.locator('#f-hunde-1-rufname').waitFor();
  assert.equal(await page.locator('#f-hunde-0-rufname').inputValue(), 'Bello');
  await clean('dogs page with two dogs');
  await fillDog(page, 1, { name: 'Zora', breed: 'Schäferhund', sex: 'w', born: '10.02.2019', since: daysAgo(30) });
  await next(page);
  await page.waitForURL(`**${base}/formular/ermaessigung`);
  await page.getByLabel('Nein').check();
  await next(page);
  await page.waitForURL(`**${base}/formular/zahlung`);
  await page.getByLabel('Nein').check();
  await next(page);
  await page.waitForURL(`**${base}/formular/erklaerung`);
  await clean('declaration page of the form');
  await page.getByLabel('Ich versichere, dass meine Angaben richtig und vollständig sind.').check();
  await next(page);
  await page.waitForURL(`**${base}`);
}

async function upload(page, name, content) {
  await page.getByLabel(/Datei auswählen/).setInputFiles({ name, mimeType: 'application/pdf', buffer: Buffer.from(content) });
  await page.getByRole('button', { name: /Hochladen/ }).click();
}

// Task list → documents → upload a PDF → back.
async function uploadDocument(page, clean) {
  const base = new URL(page.url()).pathname;
  await page.getByRole('link', { name: 'Unterlagen hochladen' }).click();
  await page.waitForURL(`**${base}/unterlagen`);
  await clean('documents page');
  await upload(page, 'nachweis.pdf', pdf);
  await page.waitForURL(`**${base}/unterlagen`);
  assert.match(await main(page), /nachweis\.pdf/);
  await clean('documents page with a file');
  await page.getByRole('link', { name: 'Zurück zur Übersicht' }).first().click();
  await page.waitForURL(`**${base}`);
}

// "Jetzt bezahlen" → the payer's page → the simulator by card → back to the task list.
async function pay(page, clean) {
  const base = new URL(page.url()).pathname;
  assert.match(await main(page), /10,00 €/);
  await clean('task list before paying');
  await page.getByRole('button', { name: 'Jetzt bezahlen' }).click();
  await page.waitForURL('**/zahlung/*');
  assert.match(await main(page), /10,00 €/);
  await clean('payment step');
  await page.getByLabel(/Jetzt online bezahlen/).check();
  await page.getByRole('button', { name: 'Weiter' }).click();
  await page.waitForURL(`${simulator.url}/**`);
  assert.match(await page.textContent('body'), /10,00 €/);
  await page.getByLabel('Kreditkarte').check();
  await page.getByLabel(/Kartennummer/).fill('4242 4242 4242 4242');
  await page.getByRole('button', { name: 'Jetzt bezahlen' }).click();
  await page.waitForURL(`${server.url}/zahlung/*/ergebnis`);
  assert.match(await main(page), /Zahlung erfolgreich/);
  await clean('payment result');
  // back at the task list (its address tells it the way back from the payment)
  await page.getByRole('link', { name: 'Zurück zum Online-Dienst' }).click();
  await page.waitForURL(`${server.url}${base}/zahlung`);
  assert.match(await main(page), /Bezahlt: 10,00 €/);
  await clean('task list after paying');
}

// Task list → check → without the declaration → with it → confirmation and its PDF.
async function checkAndSubmit(page, clean) {
  const base = new URL(page.url()).pathname.replace(/\/zahlung$/, '');
  await page.getByRole('link', { name: 'Prüfen und absenden' }).click();
  await page.waitForURL(`**${base}/pruefen`);
  const text = await main(page);
  for (const s of ['Bello', 'Zora', 'Schäferhund', 'nachweis.pdf', '10,00 €']) assert.ok(text.includes(s), s);
  await clean('check page');
  await page.getByRole('button', { name: 'Antrag verbindlich absenden' }).click();
  assert.match(await page.locator('#fehler').textContent(), /Bestätigen Sie die Erklärung/);
  await clean('check page without the declaration');
  await page.getByLabel(/Ich versichere, dass meine Angaben vollständig und richtig sind/).check();
  await page.getByRole('button', { name: 'Antrag verbindlich absenden' }).click();
  await page.waitForURL(`**${base}/bestaetigung`);
  const reference = (await page.locator('#vorgangsnummer').textContent()).trim();
  assert.match(reference, /^MV-/);
  await clean('confirmation');
  const [download] = await Promise.all([
    page.waitForEvent('download'),
    page.getByRole('link', { name: 'Antrag als PDF herunterladen' }).click(),
  ]);
  const stream = await download.createReadStream();
  const chunks = [];
  for await (const c of stream) chunks.push(c);
  assert.equal(Buffer.concat(chunks).subarray(0, 4).toString(), '%PDF');
  return reference;
}

// The Wismar clerk, in a context of their own, sees the Vorgang once the hand-over ran.
async function clerkSees(reference, javaScript, clean) {
  const { context, page, outside } = await newPage(javaScript);
  await page.goto(`${server.url}/anmelden?next=/verwaltung/vorgaenge`);
  await signIn(page, 'sachbearbeitung.wismar@example.org');
  await page.waitForURL('**/verwaltung/vorgaenge');
  const until = Date.now() + 20000;
  while (!(await main(page)).includes(reference)) {
    assert.ok(Date.now() < until, `${reference} not among the Vorgänge`);
    await new Promise((r) => setTimeout(r, 500));
    await page.reload();
  }
  await clean(page, 'arrivals of the clerk');
  assert.deepEqual(outside, []);
  await context.close();
}

function dayIn(days) {
  return new Date(Date.now() + days * 86400000).toISOString().slice(0, 10);
}

async function noticesIn(page) {
  await page.goto(server.url + '/postfach');
  return page.locator('main tr', { hasText: 'Bescheid über die Hundesteuer' }).count();
}

// The Wismar clerk works the Vorgang the citizen just submitted, from the inbox to the
// announced notice: the formal check, a document requested with a deadline (which the
// citizen sends in "Meine Anträge"), the decision with the authority's template; the citizen
// finds the sealed notice in the mailbox, and the Vorgang shows the receipt and the day it
// counts as announced.
async function clerkDecides(reference, javaScript, clean) {
  const clerk = await newPage(javaScript);
  await clerk.page.goto(`${server.url}/anmelden?next=/verwaltung/vorgaenge`);
  await signIn(clerk.page, 'sachbearbeitung.wismar@example.org');
  await clerk.page.waitForURL('**/verwaltung/vorgaenge');
  await clerk.page.getByLabel('Suche').fill(reference);
  await clerk.page.getByRole('button', { name: 'Suchen' }).click();
  await clerk.page.waitForURL('**q=**');
  await clean(clerk.page, 'inbox searched by the reference');
  await clerk.page.locator('main tr', { hasText: reference }).getByRole('link').first().click();
  await clerk.page.waitForURL(/\/verwaltung\/vorgaenge\/[a-z0-9]+$/);
  const casePath = new URL(clerk.page.url()).pathname;
  await clerk.page.getByLabel('Formelle Prüfung beginnen').check();
  await clerk.page.getByRole('button', { name: 'Status ändern' }).click();
  await clerk.page.waitForURL('**' + casePath);
  assert.match(await main(clerk.page), /Inhaltliche Prüfung beginnen/);
  await clerk.page.getByLabel('Fehlende Unterlagen').fill('Impfpass des Hundes');
  await clerk.page.getByLabel('Einzureichen bis').fill(dayIn(10));
  await clerk.page.getByRole('button', { name: 'Unterlagen nachfordern' }).click();
  await clerk.page.waitForURL('**' + casePath);
  assert.match(await main(clerk.page), /Impfpass des Hundes/);
  await clean(clerk.page, 'Vorgang with a document request');

  // the citizen sends it inside the Vorhaben, once the request reached it
  const citizen = await newPage(javaScript);
  await citizen.page.goto(`${server.url}/anmelden?next=/meine-antraege`);
  await signIn(citizen.page, 'erika.mustermann@example.org');
  await citizen.page.waitForURL('**/meine-antraege');
  const notices = await noticesIn(citizen.page);
  const until = Date.now() + 20000;
  for (;;) {
    await citizen.page.goto(server.url + '/meine-antraege');
    const row = citizen.page.locator('tr', { hasText: reference });
    if (/Unterlagen nachreichen/.test(await row.textContent())) {
      await row.getByRole('link').first().click();
      break;
    }
    assert.ok(Date.now() < until, `${reference} does not ask for documents`);
    await new Promise((r) => setTimeout(r, 500));
  }
  await citizen.page.waitForURL(/\/antrag\/vorhaben\/[^/]+$/);
  assert.match(await main(citizen.page), /Impfpass des Hundes/);
  await clean(citizen.page, 'Vorhaben with the request');
  await citizen.page.getByLabel('Dateien').setInputFiles({ name: 'impfpass.pdf', mimeType: 'application/pdf', buffer: pdf });
  await citizen.page.getByRole('button', { name: 'Unterlagen senden' }).click();
  assert.match(await main(citizen.page), /Ihre Unterlagen wurden an die Behörde gesendet/);

  // the clerk decides with the template; the delivery service announces the notice
  await clerk.page.reload();
  assert.match(await main(clerk.page), /Unterlagen nachgereicht/);
  assert.match(await main(clerk.page), /impfpass\.pdf/);
  await clerk.page.getByRole('link', { name: 'Bescheid erstellen' }).click();
  await clerk.page.waitForURL('**' + casePath + '/bescheid');
  assert.match(await main(clerk.page), /Hundesteuerbescheid/);
  await clean(clerk.page, 'notice from the template');
  await clerk.page.getByRole('button', { name: 'Bescheid erstellen, siegeln und zustellen' }).click();
  await clerk.page.waitForURL('**' + casePath + '**');
  const announced = Date.now() + 30000;
  while (!/Gilt als bekanntgegeben am/.test(await main(clerk.page))) {
    assert.ok(Date.now() < announced, 'the notice was not announced');
    await new Promise((r) => setTimeout(r, 1000));
    await clerk.page.reload();
  }
  assert.match(await main(clerk.page), /Ablagebestätigung/);
  await clean(clerk.page, 'Vorgang with the announced notice');
  assert.deepEqual(clerk.outside, []);
  await clerk.context.close();

  // one notice more in the citizen's mailbox: this Vorgang's, sealed, as a PDF
  assert.equal(await noticesIn(citizen.page), notices + 1);
  await citizen.page.locator('main tr', { hasText: 'Bescheid über die Hundesteuer' }).getByRole('link').first().click();
  assert.match(await main(citizen.page), new RegExp(reference));
  await clean(citizen.page, 'the notice in the mailbox');
  assert.deepEqual(citizen.outside, []);
  await citizen.context.close();
}

// The pages the guest sees as the signed-in citizen does.
const sharedPages = ['start page', 'first form page', 'dogs page', 'dogs page with two dogs',
  'declaration page of the form', 'documents page', 'documents page with a file', 'payment step',
  'payment result', 'check page', 'check page without the declaration', 'arrivals of the clerk'];

for (const javaScript of [true, false]) {
  const on = javaScript ? 'on' : 'off';
  // axe scans with JavaScript on; a page both journeys show the same way (form, documents,
  // payment, check) is scanned in the first test that reaches it.
  const scanned = new Set();
  const cleaner = (page, { shared = [] } = {}) => async (what) => {
    if (!javaScript || (shared.includes(what) && scanned.has(what))) return;
    await expectClean(page, what);
    scanned.add(what);
  };

  test(`a citizen signs in and applies for two dogs in Wismar (JavaScript ${on})`, async () => {
    const { context, page, outside } = await newPage(javaScript);
    const clean = cleaner(page);
    await findService(page, clean);
    await page.getByRole('link', { name: 'Mit Nutzerkonto anmelden und starten' }).click();
    await page.waitForURL('**/anmelden?**');
    await signIn(page, 'erika.mustermann@example.org');
    await page.waitForURL('**/antrag/hundesteuer-online?ort=13074087');
    await clean('start page signed in');
    await page.getByRole('button', { name: 'Antrag starten' }).click();
    await page.waitForURL(/\/antrag\/vorhaben\/[^/]+$/);
    const base = new URL(page.url()).pathname;
    assert.match(await main(page), /Noch nicht möglich/);
    await clean('task list');
    await fillForm(page, clean, { guest: false });
    await uploadDocument(page, clean);
    await pay(page, clean);
    const reference = await checkAndSubmit(page, clean);
    await page.goto(server.url + '/meine-antraege');
    const row = page.locator('tr', { hasText: reference });
    assert.equal(await row.count(), 1);
    assert.equal(await row.getByRole('link').first().getAttribute('href'), base);
    await clean('my applications');
    assert.deepEqual(outside, []);
    await context.close();
    await clerkSees(reference, javaScript, (p, what) => cleaner(p)(what));
    await clerkDecides(reference, javaScript, (p, what) => cleaner(p)(what));
  });

  test(`a guest applies for two dogs in Wismar through the mailed link (JavaScript ${on})`, async () => {
    const { context, page, outside } = await newPage(javaScript);
    const clean = cleaner(page, { shared: sharedPages });
    // Without a place, the start page asks for it.
    await page.goto(server.url + '/antrag/hundesteuer-online');
    assert.match(await main(page), /Wählen Sie Ihren Ort/);
    await clean('start page without a place');
    await page.getByLabel('Ihr Wohnort (Gemeinde)').fill('Atlantis');
    await page.getByRole('button', { name: 'Ort suchen' }).click();
    assert.match(await page.locator('#fehler').textContent(), /keinen Ort mit diesem Namen/);
    await clean('start page with an unknown place');
    await page.getByLabel('Ihr Wohnort (Gemeinde)').fill('Wism');
    await page.getByRole('button', { name: 'Ort suchen' }).click();
    await clean('start page with matching places');
    await page.getByRole('link', { name: 'Hansestadt Wismar' }).click();
    await page.waitForURL('**/antrag/hundesteuer-online?ort=13074087');
    assert.match(await main(page), /Hansestadt Wismar, Abteilung Steuern und Abgaben/);
    await findService(page, clean);
    await page.getByRole('link', { name: 'Ohne Nutzerkonto fortfahren' }).click();
    await page.waitForURL('**/antrag/hundesteuer-online/gast?**');
    await clean('guest page');
    await page.getByLabel('E-Mail-Adresse').fill('keine Adresse');
    await page.getByRole('button', { name: 'Link zusenden' }).click();
    assert.match(await page.title(), /Fehler/);
    await clean('guest page with an error');
    const address = `gast-${on}@example.org`;
    await page.getByLabel('E-Mail-Adresse').fill(address);
    await page.getByRole('button', { name: 'Link zusenden' }).click();
    assert.match(await main(page), new RegExp(address));
    await clean('link sent');
    const mail = await server.sink.mailTo(address);
    const link = /http:\/\/127\.0\.0\.1:\d+\/antrag\/gast\?token=[A-Za-z0-9_-]+/.exec(mail.body)?.[0];
    assert.ok(link, mail.body);
    await page.goto(link);
    await page.waitForURL(/\/antrag\/vorhaben\/[^/]+$/);
    const base = new URL(page.url()).pathname;
    assert.match(await main(page), /Ohne Nutzerkonto, E-Mail-Adresse bestätigt/);
    await clean('task list');
    await fillForm(page, clean, { guest: true });
    await uploadDocument(page, clean);
    await pay(page, clean);
    const reference = await checkAndSubmit(page, clean);
    // this browser opened the Vorhaben by the guest link: it is in "Meine Anträge"
    await page.goto(server.url + '/meine-antraege');
    assert.equal(await page.locator('tr', { hasText: reference }).count(), 1);
    await clean('my applications of a guest');
    await clerkSees(reference, javaScript, (p, what) => cleaner(p, { shared: sharedPages })(what));
    // only now, with the Vorgang opened, the receipt is the authority's
    await page.goto(server.url + base + '/bestaetigung');
    assert.match(await page.locator('#stand').textContent(), /Bei der Behörde eingegangen/);
    assert.deepEqual(outside, []);
    await context.close();
  });

  test(`a file with the EICAR test string is refused and not kept (JavaScript ${on})`, async () => {
    const { context, page, outside } = await newPage(javaScript);
    const clean = cleaner(page);
    await page.goto(`${server.url}/anmelden?next=${encodeURIComponent('/antrag/hundesteuer-online?ort=13074087')}`);
    await signIn(page, 'erika.mustermann@example.org');
    await page.waitForURL('**/antrag/hundesteuer-online?ort=13074087');
    await page.getByRole('button', { name: 'Antrag starten' }).click();
    await page.waitForURL(/\/antrag\/vorhaben\/[^/]+$/);
    await page.getByRole('link', { name: 'Unterlagen hochladen' }).click();
    await upload(page, 'virus.pdf', Buffer.concat([pdf, Buffer.from(eicar)]));
    const text = await main(page);
    assert.match(text, /Schadsoftware/);
    assert.ok(!text.includes('virus.pdf'), 'the file is not listed');
    await clean('documents page with an infected file');
    await page.goto(page.url());
    assert.ok(!(await main(page)).includes('virus.pdf'), 'the file is not kept');
    assert.deepEqual(outside, []);
    await context.close();
  });
}
