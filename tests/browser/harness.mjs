import assert from 'node:assert/strict';
// Shared set-up of the browser tests: a fresh mvsp on a free port with a temporary
// SQLite database, and Debian's Chromium that reaches nothing but loopback.
import { execFileSync, spawn } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { chromium } from 'playwright-core';
import { AxeBuilder } from '@axe-core/playwright';

const root = resolve(import.meta.dirname, '..', '..');
export const binary = process.env.MVSP_BINARY ?? join(root, 'build', 'mvsp');

export async function freePort() {
  return new Promise((ok) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => { const { port } = s.address(); s.close(() => ok(port)); });
  });
}

// A real SMTP server (Debian's aiosmtpd) that keeps each mail as JSON in a folder.
export async function startMailSink(dir) {
  const child = spawn('/usr/bin/python3', [join(root, 'tests', 'support', 'smtp_sink.py'), dir],
    { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise((ok, fail) => {
    child.stdout.on('data', (d) => { const m = /ready (\d+)/.exec(String(d)); if (m) ok(Number(m[1])); });
    child.on('exit', (code) => fail(new Error(`smtp sink exited with ${code}`)));
  });
  return {
    port,
    // Waits for the mail to `to` and returns {to, subject, body}.
    async mailTo(to, timeoutMs = 20000) {
      const until = Date.now() + timeoutMs;
      while (Date.now() < until) {
        for (const f of readdirSync(dir).filter((n) => n.endsWith('.json')).sort()) {
          const mail = JSON.parse(readFileSync(join(dir, f), 'utf8'));
          if (mail.to.includes(to)) return mail;
        }
        await new Promise((r) => setTimeout(r, 100));
      }
      throw new Error(`no mail to ${to}`);
    },
    stop() { child.kill('SIGTERM'); },
  };
}

// A real clamd on a free port of 127.0.0.1 (scripts/test-clamd, in a temporary directory) that
// knows the EICAR test file only; give it to startServer as `clamav`. stop() ends it.
export async function startClamd() {
  const dir = mkdtempSync(join(tmpdir(), 'mvsp-clamd-'));
  const port = await freePort();
  const script = join(root, 'scripts', 'test-clamd');
  execFileSync(script, ['start', dir, String(port)], { stdio: ['ignore', 'ignore', 'inherit'] });
  return {
    port,
    async stop() { execFileSync(script, ['stop', dir], { stdio: 'ignore' }); },
  };
}

// `port`: listen there (a free one by default), for a simulator that must know it first.
// `clamav`: the clamd uploads are scanned with (startClamd()'s result or its port).
export async function startServer({ mail = false, setup = null, config: extra = '', demo = false, port: fixed = 0,
  clamav = null } = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'mvsp-browser-'));
  const port = fixed || await freePort();
  const sink = mail ? await startMailSink(join(dir, 'mails')) : null;
  const clamavPort = typeof clamav === 'object' && clamav !== null ? clamav.port : clamav;
  // The demo and the set-up commands read the configuration the server will run with.
  const config = join(dir, 'mvsp.toml');
  writeFileSync(config, (sink ? `[mail]\nsmtp_port = ${sink.port}\n` : '') +
    (clamavPort ? `[clamav]\nport = ${clamavPort}\n` : '') + extra);
  const where = ['--data-dir', dir, '--database', `sqlite:${join(dir, 'mvsp.db')}`, '--config', config];
  // `demo`: the demo data (accounts, catalog) as `mvsp demo` loads it.
  if (demo) execFileSync(binary, ['demo', ...where], { stdio: 'ignore' });
  // `setup(mvsp)` may run commands (`mvsp tenant create …`) on the database first.
  if (setup) {
    setup((...args) => JSON.parse(execFileSync(binary, [...args, ...where],
      { stdio: ['ignore', 'pipe', 'ignore'] }).toString()));
  }
  const child = spawn(binary, ['serve', '--listen', `127.0.0.1:${port}`, ...where],
  { stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  child.stderr.on('data', (d) => { log += d; });
  const url = await new Promise((ok, fail) => {
    const timer = setTimeout(() => fail(new Error(`mvsp did not start:\n${log}`)), 20000);
    child.stdout.on('data', (d) => {
      const m = /listening on (http:\/\/\S+)/.exec(String(d));
      if (m) { clearTimeout(timer); ok(m[1]); }
    });
    child.on('exit', (code) => fail(new Error(`mvsp exited with ${code}:\n${log}`)));
  });
  return {
    url,
    sink,
    async stop() {
      child.kill('SIGTERM');
      await new Promise((ok) => child.once('exit', ok));
      sink?.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

// `mvsp simulate eid` on a free port: the eID SIMULATOR and the config that trusts it.
export async function startEidSimulator() {
  const dir = mkdtempSync(join(tmpdir(), 'mvsp-eid-'));
  const port = await freePort();
  const child = spawn(binary, ['simulate', 'eid', '--listen', `127.0.0.1:${port}`, '--data-dir', dir],
    { stdio: ['ignore', 'pipe', 'pipe'] });
  const info = await new Promise((ok, fail) => {
    const timer = setTimeout(() => fail(new Error('the eID simulator did not start')), 20000);
    child.stdout.on('data', (d) => { clearTimeout(timer); ok(JSON.parse(String(d))); });
    child.on('exit', (code) => fail(new Error(`the eID simulator exited with ${code}`)));
  });
  return {
    ...info,
    config: `[identity.upstream.bundid]\nprotocol = "saml"\nlabel = "BundID (Simulator)"\n` +
      `sso_url = "${info.sso_url}"\nidp_entity_id = "${info.entity_id}"\n` +
      `idp_certificate = "${info.certificate}"\n`,
    async stop() {
      child.kill('SIGTERM');
      await new Promise((ok) => child.once('exit', ok));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

// The TOTP code (RFC 6238, SHA-1, 6 digits) of a base32 secret, `offset` steps from now.
export function totp(secretBase32, offset = 0) {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = '';
  for (const c of secretBase32.replace(/[\s=]/g, '').toUpperCase()) {
    bits += alphabet.indexOf(c).toString(2).padStart(5, '0');
  }
  const bytes = [];
  for (let i = 0; i + 8 <= bits.length; i += 8) bytes.push(parseInt(bits.slice(i, i + 8), 2));
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(Math.floor(Date.now() / 30000) + offset));
  const mac = createHmac('sha1', Buffer.from(bytes)).update(counter).digest();
  const o = mac[19] & 0x0f;
  const value = ((mac[o] & 0x7f) << 24) | (mac[o + 1] << 16) | (mac[o + 2] << 8) | mac[o + 3];
  return String(value % 1000000).padStart(6, '0');
}

export async function launchBrowser() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
      '--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1'],
  });
}

// Fails the test on any request that leaves 127.0.0.1.
export function guardLoopback(page, seen) {
  page.on('request', (r) => {
    const u = new URL(r.url());
    if (u.protocol !== 'data:' && u.hostname !== '127.0.0.1') seen.push(r.url());
  });
}

// Fails unless axe finds no WCAG 2.1 AA violation on the page.
export async function expectClean(page, what) {
  assert.deepEqual(await axeViolations(page), [], `axe on ${what}`);
}

export async function axeViolations(page) {
  const result = await new AxeBuilder({ page })
    .withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'])
    .analyze();
  return result.violations.map((v) => `${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(' ')).join(', ')})`);
}

// The labelled payment provider SIMULATOR (`mvsp simulate payment`) on a free port, telling
// `notifyUrl` of every change, signed with `secret`; user mvsp, password geheim.
export async function startPaymentSimulator(notifyUrl, secret) {
  const port = await freePort();
  const child = spawn(binary, ['simulate', 'payment', '--listen', `127.0.0.1:${port}`,
    '--notify-url', notifyUrl, '--secret', secret, '--user', 'mvsp', '--password', 'geheim'],
  { stdio: ['ignore', 'pipe', 'pipe'] });
  await new Promise((ok, fail) => {
    const timer = setTimeout(() => fail(new Error('the payment simulator did not start')), 20000);
    child.stdout.on('data', () => { clearTimeout(timer); ok(); });
    child.on('exit', (code) => fail(new Error(`the payment simulator exited with ${code}`)));
  });
  return {
    url: `http://127.0.0.1:${port}`,
    async stop() { child.kill('SIGTERM'); await new Promise((ok) => child.once('exit', ok)); },
  };
}
