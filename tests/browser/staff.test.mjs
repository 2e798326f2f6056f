// An authority admin manages the own staff: list, invite (with its error state), member
// page. Zero axe violations; works without JavaScript.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, launchBrowser, axeViolations } from './harness.mjs';

const password = 'Verwaltungs-Passwort 2026';
let server;
let browser;
before(async () => {
  server = await startServer({
    mail: true,
    setup(mvsp) {
      const tenant = mvsp('tenant', 'create', '--name', 'Hansestadt Wismar');
      mvsp('user', 'create', '--email', 'it@wismar.de', '--password', password, '--name', 'Ida Admin',
        '--verified', '--role', 'authority_admin', '--tenant', tenant.id);
      mvsp('user', 'create', '--email', 'sb@wismar.de', '--password', password, '--name', 'Sven Bearbeiter',
        '--verified', '--role', 'clerk', '--tenant', tenant.id);
      mvsp('user', 'create', '--email', 'betrieb@land.example', '--password', password, '--name', 'Olga Operator',
        '--verified', '--role', 'operator', '--tenant', tenant.id);
    },
  });
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
  await server?.stop();
});

for (const javaScript of [true, false]) {
  test(`an authority admin manages the staff, JavaScript ${javaScript ? 'on (with axe)' : 'off'}`, async () => {
    const context = await browser.newContext({ javaScriptEnabled: javaScript, locale: 'de-DE' });
    const page = await context.newPage();
    const clean = async (what) => {
      if (javaScript) assert.deepEqual(await axeViolations(page), [], `axe on ${what}`);
    };
    await page.goto(server.url + '/anmelden');
    await page.getByLabel('E-Mail-Adresse').fill('it@wismar.de');
    await page.getByLabel('Passwort').fill(password);
    await page.getByRole('button', { name: 'Anmelden', exact: true }).click();
    await page.waitForURL('**/konto');
    await page.getByRole('link', { name: 'Mitarbeitende Ihrer Behörde verwalten' }).click();
    await page.waitForURL('**/verwaltung/mitarbeitende');
    assert.match(await page.textContent('main'), /Hansestadt Wismar/);
    assert.match(await page.textContent('main'), /sb@wismar\.de/);
    await clean('staff list');

    await page.getByRole('link', { name: 'Mitarbeitende einladen' }).click();
    await page.getByRole('button', { name: 'Einladen' }).click();
    await page.waitForSelector('#fehler');
    await clean('invitation with errors');
    const email = javaScript ? 'redaktion@wismar.de' : 'presse@wismar.de';
    await page.getByLabel('Vorname').fill('Rita');
    await page.getByLabel('Nachname').fill('Redaktion');
    await page.getByLabel('E-Mail-Adresse').fill(email);
    await page.getByLabel('Redaktion').check();
    await page.getByRole('button', { name: 'Einladen' }).click();
    await page.waitForURL('**/verwaltung/mitarbeitende?mandant=*');
    assert.match(await page.textContent('main'), /Die Einladung ist verschickt/);
    assert.match(await page.textContent('main'), /Offene Einladungen/);
    await clean('staff list with a pending invitation');
    const mail = await server.sink.mailTo(email);
    assert.match(mail.body, /Hansestadt Wismar/);

    // The invited person opens the link and sets a password: the staff account is made now.
    const link = mail.body.match(/\/verwaltung\/einladung\?token=[A-Za-z0-9_-]+/)[0];
    const invitee = await browser.newContext({ javaScriptEnabled: javaScript, locale: 'de-DE' });
    const invited = await invitee.newPage();
    await invited.goto(server.url + link);
    assert.match(await invited.textContent('main'), /Hansestadt Wismar/);
    if (javaScript) assert.deepEqual(await axeViolations(invited), [], 'axe on the invitation page');
    await invited.getByLabel('Passwort', { exact: true }).fill('Redaktion in Wismar 2026');
    await invited.getByLabel('Passwort wiederholen').fill('etwas anderes');
    await invited.getByRole('button', { name: 'Konto anlegen und Einladung annehmen' }).click();
    await invited.waitForSelector('#fehler');
    if (javaScript) assert.deepEqual(await axeViolations(invited), [], 'axe on the invitation with errors');
    await invited.getByLabel('Passwort', { exact: true }).fill('Redaktion in Wismar 2026');
    await invited.getByLabel('Passwort wiederholen').fill('Redaktion in Wismar 2026');
    await invited.getByRole('button', { name: 'Konto anlegen und Einladung annehmen' }).click();
    await invited.waitForSelector('text=Ihr dienstliches Konto ist angelegt');
    if (javaScript) assert.deepEqual(await axeViolations(invited), [], 'axe on the accepted invitation');
    await invitee.close();

    await page.getByRole('link', { name: /Bearbeiten.*Sven Bearbeiter/ }).click();
    await page.waitForURL('**/verwaltung/mitarbeitende/*');
    await clean('member page');
    await page.getByLabel('Redaktion').check();
    await page.getByRole('button', { name: 'Rollen speichern' }).click();
    await page.waitForURL('**/verwaltung/mitarbeitende?mandant=*');
    assert.match(await page.textContent('main'), /Sachbearbeitung, Redaktion|Redaktion, Sachbearbeitung/);
    await context.close();
  });
}

for (const javaScript of [true, false]) {
  test(`an operator registers an application, JavaScript ${javaScript ? 'on (with axe)' : 'off'}`, async () => {
    const context = await browser.newContext({ javaScriptEnabled: javaScript, locale: 'de-DE' });
    const page = await context.newPage();
    const clean = async (what) => {
      if (javaScript) assert.deepEqual(await axeViolations(page), [], `axe on ${what}`);
    };
    await page.goto(server.url + '/anmelden');
    await page.getByLabel('E-Mail-Adresse').fill('betrieb@land.example');
    await page.getByLabel('Passwort').fill(password);
    await page.getByRole('button', { name: 'Anmelden', exact: true }).click();
    await page.waitForURL('**/konto');
    await page.getByRole('link', { name: 'Angebundene Anwendungen (OpenID Connect)' }).click();
    await page.waitForURL('**/verwaltung/clients');
    await clean('client registry');
    await page.getByRole('link', { name: 'Anwendung registrieren' }).click();
    await page.getByRole('button', { name: 'Registrieren' }).click();
    await page.waitForSelector('#fehler');
    await clean('client form with errors');
    await page.getByLabel(/^Name/).fill(javaScript ? 'Gewerbe-Fachverfahren' : 'Hundesteuer-Fachverfahren');
    await page.getByLabel(/^Weiterleitungsadressen/).fill('https://fv.example/cb');
    await page.getByRole('button', { name: 'Registrieren' }).click();
    await page.waitForSelector('#client-secret');
    await clean('client registered');
    assert.match(await page.textContent('#client-id'), /^[a-z0-9]{26}$/);
    await context.close();
  });
}
