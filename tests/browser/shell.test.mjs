// The shell as a visitor meets it: every page passes axe (WCAG 2.1 AA) in German and
// English, and everything works with JavaScript off.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, launchBrowser, guardLoopback, axeViolations } from './harness.mjs';

const pages = [
  { path: '/', status: 200, heading: { de: 'Willkommen im Serviceportal', en: 'Welcome to the service portal' } },
  { path: '/impressum', status: 200, heading: { de: 'Impressum', en: 'Legal notice' } },
  { path: '/datenschutz', status: 200, heading: { de: 'Datenschutz', en: 'Privacy' } },
  { path: '/barrierefreiheit', status: 200, heading: { de: 'Barrierefreiheit', en: 'Accessibility' } },
  { path: '/anmelden', status: 200, heading: { de: 'Anmelden', en: 'Sign in' } },
  { path: '/konto/registrieren', status: 200, heading: { de: 'Nutzerkonto anlegen', en: 'Create a user account' } },
  { path: '/passwort-vergessen', status: 200, heading: { de: 'Passwort vergessen', en: 'Forgot your password' } },
  { path: '/does-not-exist', status: 404, heading: { de: 'Seite nicht gefunden', en: 'Page not found' } },
];

let server;
let browser;
before(async () => {
  server = await startServer();
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
  await server?.stop();
});

for (const lang of ['de', 'en']) {
  test(`every shell page has zero axe violations (${lang})`, async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    const outside = [];
    guardLoopback(page, outside);
    await page.goto(`${server.url}/sprache/${lang}?next=/`);
    for (const p of pages) {
      const res = await page.goto(server.url + p.path);
      assert.equal(res.status(), p.status, p.path);
      assert.equal(await page.getAttribute('html', 'lang'), lang, p.path);
      assert.equal((await page.textContent('h1')).trim(), p.heading[lang], p.path);
      assert.deepEqual(await axeViolations(page), [], `axe on ${p.path} (${lang})`);
    }
    assert.deepEqual(outside, [], 'requests beyond loopback');
    await context.close();
  });
}

test('the styles and fonts load under the strict CSP', async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  const blocked = [];
  page.on('console', (m) => { if (/Content Security Policy/i.test(m.text())) blocked.push(m.text()); });
  const failed = [];
  page.on('requestfailed', (r) => failed.push(r.url()));
  await page.goto(server.url + '/');
  await page.evaluate(() => document.fonts.ready);
  const font = await page.evaluate(() => getComputedStyle(document.body).fontFamily);
  assert.match(font, /Fira Sans/);
  const loaded = await page.evaluate(() => [...document.fonts].some((f) => f.family.includes('Fira') && f.status === 'loaded'));
  assert.ok(loaded, 'Fira Sans loaded from /static');
  assert.deepEqual(blocked, []);
  assert.deepEqual(failed, []);
  await context.close();
});

test('without JavaScript: navigate the footer, switch language, use the skip link', async () => {
  const context = await browser.newContext({ javaScriptEnabled: false, locale: 'de-DE' });
  const page = await context.newPage();
  await page.goto(server.url + '/');
  await page.getByRole('link', { name: 'Impressum' }).click();
  await page.waitForURL('**/impressum');
  assert.equal((await page.textContent('h1')).trim(), 'Impressum');
  await page.getByRole('link', { name: 'Barrierefreiheit' }).click();
  await page.waitForURL('**/barrierefreiheit');
  await page.getByRole('link', { name: 'English' }).click();
  await page.waitForURL('**/barrierefreiheit');
  assert.equal(await page.getAttribute('html', 'lang'), 'en');
  assert.equal((await page.textContent('h1')).trim(), 'Accessibility');
  await page.keyboard.press('Tab');
  const focused = await page.evaluate(() => document.activeElement?.textContent);
  assert.equal(focused?.trim(), 'Skip to content');
  await page.keyboard.press('Enter');
  assert.ok(page.url().endsWith('#inhalt'));
  await page.getByRole('link', { name: 'Deutsch' }).click();
  await page.waitForURL('**/barrierefreiheit');
  assert.equal(await page.getAttribute('html', 'lang'), 'de');
  await context.close();
});
