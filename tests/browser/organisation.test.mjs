// Organisation accounts: create one, invite by mail, accept, act for it, be removed. Zero axe
// violations on every page (error states included); works without JavaScript.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, launchBrowser, axeViolations } from './harness.mjs';

const password = 'ein langer sicherer Satz 2026';
let server;
let browser;
before(async () => {
  server = await startServer({
    mail: true,
    setup(mvsp) {
      for (const who of ['anna', 'bernd', 'anna2', 'bernd2']) {
        mvsp('user', 'create', '--email', `${who}@example.org`, '--password', password, '--name', `${who} Test`, '--verified');
      }
    },
  });
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
  await server?.stop();
});

async function signedIn(email, javaScript) {
  const context = await browser.newContext({ javaScriptEnabled: javaScript, locale: 'de-DE' });
  const page = await context.newPage();
  await page.goto(server.url + '/anmelden');
  await page.getByLabel('E-Mail-Adresse').fill(email);
  await page.getByLabel('Passwort').fill(password);
  await page.getByRole('button', { name: 'Anmelden', exact: true }).click();
  await page.waitForURL('**/konto');
  return { context, page };
}

for (const javaScript of [true, false]) {
  test(`an organisation account, JavaScript ${javaScript ? 'on (with axe)' : 'off'}`, async () => {
    const clean = async (page, what) => {
      if (javaScript) assert.deepEqual(await axeViolations(page), [], `axe on ${what}`);
    };
    const [admin, member] = javaScript ? ['anna@example.org', 'bernd@example.org'] : ['anna2@example.org', 'bernd2@example.org'];
    const a = await signedIn(admin, javaScript);
    await a.page.getByRole('link', { name: 'Organisationen (Organisationskonto)' }).click();
    await a.page.waitForURL('**/konto/organisationen');
    await clean(a.page, 'organisations');
    await a.page.getByRole('link', { name: 'Organisation anlegen' }).click();
    await a.page.getByRole('button', { name: 'Anlegen' }).click();
    await a.page.waitForSelector('#fehler');
    await clean(a.page, 'create organisation with errors');
    await a.page.getByLabel(/^Name der Organisation/).fill('Bäckerei Schmidt GmbH');
    await a.page.getByRole('button', { name: 'Anlegen' }).click();
    await a.page.waitForURL(/\/konto\/organisationen\/[a-z0-9]+$/);
    await clean(a.page, 'organisation');
    await a.page.getByRole('link', { name: 'Person einladen' }).click();
    await a.page.getByLabel('E-Mail-Adresse').fill(member);
    await a.page.getByRole('button', { name: 'Einladen' }).click();
    await a.page.waitForURL(/\/konto\/organisationen\/[a-z0-9]+$/);
    assert.match(await a.page.textContent('main'), /Die Einladung ist verschickt/);
    await a.context.close();

    const mail = await server.sink.mailTo(member);
    const link = /http:\/\/127\.0\.0\.1:\d+\/organisation\/einladung\?token=[\w-]+/.exec(mail.body)[0];
    const b = await signedIn(member, javaScript);
    await b.page.goto(link);
    assert.match(await b.page.textContent('main'), /Bäckerei Schmidt GmbH/);
    await clean(b.page, 'invitation');
    await b.page.getByRole('button', { name: 'Einladung annehmen' }).click();
    await b.page.waitForURL(/\/konto\/organisationen\/[a-z0-9]+$/);
    await b.page.goto(server.url + '/konto/organisationen');
    await b.page.getByRole('button', { name: /Für diese Organisation handeln/ }).click();
    await b.page.waitForURL('**/konto/organisationen');
    assert.match(await b.page.textContent('header'), /Handelt für:\s*Bäckerei Schmidt GmbH/);
    await clean(b.page, 'acting for an organisation');

    // The admin removes the member: the member's session no longer acts for the organisation.
    const again = await signedIn(admin, javaScript);
    await again.page.getByRole('link', { name: 'Organisationen (Organisationskonto)' }).click();
    await again.page.getByRole('link', { name: 'Bäckerei Schmidt GmbH' }).click();
    await again.page.getByRole('button', { name: 'Entfernen' }).click();
    await again.page.waitForURL(/\/konto\/organisationen\/[a-z0-9]+$/);
    await again.context.close();
    await b.page.goto(server.url + '/postfach');
    assert.doesNotMatch(await b.page.textContent('header'), /Handelt für/);
    assert.doesNotMatch(await b.page.textContent('main'), /Bäckerei Schmidt GmbH/);
    await b.context.close();
  });
}
