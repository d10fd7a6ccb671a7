import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { SHOTS, hasChromium, launchChromium } from '../helpers/browser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Sandbox } from '../../sandbox';
import { startSandbox } from '../../sandbox';
import type { RunningWorker } from '../helpers/env';
import { eventually, randomId, startWorker, testConfig } from '../helpers/env';
import type { TestServer } from './http-harness';
import { startTestServer } from './http-harness';

// The seed's clicks in a real browser (Debian's chromium, headless): sign in, add the interface (a bad
// token first), watch the import's progress bar finish, start "Massenimport", see invoices at the
// customer, switch the interface off and on. Screenshots of each page go to test-results/screenshots/.
/** Pages answer after real work (a token check, a deactivation): generous, the loop ends as soon as it holds. */
const WAIT = { timeout: 20_000, interval: 100 };

const config = testConfig();
let worker: RunningWorker;
let sb: Sandbox;
let srv: TestServer;
let browser: Browser;

async function shot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage: true });
}

/** The progress bar's figures as the page shows them ("1.000 / 3.000 Rechnungen"). */
async function progress(page: Page): Promise<{ done: number; total: number } | null> {
  const bar = page.getByRole('progressbar');
  if ((await bar.count()) === 0) return null;
  const [now, max] = await Promise.all([bar.getAttribute('value'), bar.getAttribute('max')]).catch(() => [
    null,
    null,
  ]);
  if (now === null || max === null) return null;
  return { done: Number(now), total: Number(max) };
}

/** Follows the import on the page: the bar shows up with done/total, then the page says it is finished. */
async function watchImport(page: Page, name: string): Promise<{ done: number; total: number }[]> {
  const seen: { done: number; total: number }[] = [];
  await eventually(
    async () => {
      const p = await progress(page);
      if (p) seen.push(p);
      return p;
    },
    60_000,
    'the progress bar',
  );
  await shot(page, `${name}-running`);
  await expect
    .poll(
      async () => {
        const p = await progress(page);
        if (p) seen.push(p);
        return page.getByText(/Massenimport abgeschlossen/).count();
      },
      { timeout: 120_000, interval: 200 },
    )
    .toBe(1);
  expect(await page.getByRole('progressbar').count()).toBe(0);
  await shot(page, `${name}-done`);
  return seen;
}

describe.skipIf(!hasChromium)('the pages in a real browser', () => {
  beforeAll(async () => {
    worker = await startWorker(config);
    sb = await startSandbox({ seed: 4242, data: { invoices: 2600 } });
    srv = await startTestServer(config, sb);
    await srv.listen();
    browser = await launchChromium();
  });

  afterAll(async () => {
    await browser?.close();
    await srv?.close();
    await worker?.stop();
    await sb?.close();
  });

  it('adds the interface through the page, shows the import and the invoices, and switches it off and on', async () => {
    const account = randomId('ui');
    // Typed by people in sevDesk: markup in a name must show as text, never run.
    const hostile = sb.store.addContact({
      kind: 'person',
      surename: '<img src=x onerror="window.__xss=1">',
      familyname: 'Müller & Söhne "O\'Brien"',
      emails: [{ value: 'hostile@example.de', main: true }],
      address: { street: 'Hauptstr. 1', zip: '10115', city: 'Berlin' },
    });
    const paid = sb.store.addInvoice({ contactId: hostile, sumNet: '1250', taxRate: 19 });
    sb.store.payInvoice(paid.id);
    const partly = sb.store.addInvoice({ contactId: hostile, sumNet: '100', taxRate: 19 });
    sb.store.payInvoice(partly.id, '50');
    const open = sb.store.addInvoice({ contactId: hostile, sumNet: '10', taxRate: 0 });
    // Slow sevDesk invoice pages (lists only), so the import takes long enough to be watched.
    // Slow enough that the page (refreshing every 1.5 s) sees the windowed import mid-way.
    sb.faults.add({ kind: 'slow', delayMs: 2500, times: Infinity, path: /\/Invoice$/ });

    const context = await browser.newContext({ locale: 'de-DE' });
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    page.on('console', (m) => {
      // The refused sign-in and tokens answer 401/422/400 on purpose; anything else (a CSP violation) counts.
      if (m.type() === 'error' && !m.text().startsWith('Failed to load resource')) errors.push(m.text());
    });

    // Signing in (every page needs it).
    await page.goto(`${srv.url}/ui/accounts/${account}/interface`);
    await expect.poll(() => page.url(), WAIT).toContain('/ui/sign-in');
    await shot(page, '01-sign-in');
    // The stylesheet is a static file the CSP allows ('self'): it applies.
    expect(await page.evaluate("getComputedStyle(document.querySelector('header')).backgroundColor")).toBe(
      'rgb(16, 42, 67)',
    );
    await page.getByLabel('Zugangsschlüssel').fill('falsch');
    await page.getByRole('button', { name: 'Anmelden' }).click();
    await expect.poll(() => page.getByRole('alert').textContent(), WAIT).toContain('stimmt nicht');
    await page.getByLabel('Zugangsschlüssel').fill(srv.apiToken);
    await page.getByRole('button', { name: 'Anmelden' }).click();
    await expect.poll(() => page.url(), WAIT).toBe(`${srv.url}/ui/accounts/${account}/interface`);

    // No interface yet: the API-Token field. A token sevDesk rejects first.
    const tokenField = page.getByRole('textbox', { name: 'API-Token' });
    await tokenField.fill('f'.repeat(32));
    await page.getByRole('button', { name: 'Einstellungen speichern' }).click();
    const alert = page.getByRole('alert');
    await expect.poll(() => alert.textContent(), WAIT).toMatch(/API-Token/);
    expect(await alert.textContent()).toMatch(/abgelehnt/);
    expect(await page.content()).not.toContain('f'.repeat(32));
    expect(await page.getByRole('switch').count()).toBe(0);
    await shot(page, '02-interface-bad-token');
    await tokenField.fill('123');
    await page.getByRole('button', { name: 'Einstellungen speichern' }).click();
    await expect.poll(() => alert.textContent(), WAIT).toMatch(/32 Zeichen/);

    // The right token: saved, and the first import runs with a progress bar that finishes.
    await tokenField.fill(sb.token);
    await page.getByRole('button', { name: 'Einstellungen speichern' }).click();
    const toggle = page.getByRole('switch', { name: 'Schnittstelle aktiv' });
    await expect.poll(() => toggle.getAttribute('aria-checked'), WAIT).toBe('true');
    expect(await page.content()).not.toContain(sb.token);
    const first = await watchImport(page, '03-interface-import');
    expect(first.every((p) => p.total >= 2600 && p.done <= p.total)).toBe(true);
    expect(first.some((p) => p.done < p.total)).toBe(true);
    await expect
      .poll(() => page.locator('#import-figures').textContent(), WAIT)
      .toMatch(/^2\.\d{3} \/ 2\.\d{3} Rechnungen$/);
    await expect.poll(() => page.locator('#state').textContent(), { timeout: 60_000 }).toBe('bereit');
    expect(await page.locator('#last-sync').textContent()).toMatch(
      /^\d{2}\.\d{2}\.\d{4}, \d{2}:\d{2}:\d{2}$/,
    );

    // Unassigned invoices say what to do in sevDesk.
    const unassigned = page.getByRole('list', { name: /^Nicht zugeordnete Rechnungen/ });
    const expectedUnassigned = await fetch(`${srv.url}/api/accounts/${account}/status`, {
      headers: { authorization: `Bearer ${srv.apiToken}` },
    }).then(async (r) => ((await r.json()) as { unassigned: { invoiceNumber: string | null }[] }).unassigned);
    expect(expectedUnassigned.length).toBeGreaterThan(0);
    expect(await unassigned.getByRole('listitem').count()).toBe(expectedUnassigned.length);
    const firstNumber = expectedUnassigned.find((u) => u.invoiceNumber)!.invoiceNumber!;
    expect(await unassigned.getByText(firstNumber, { exact: true }).count()).toBe(1);
    expect(await page.locator('#live').textContent()).toContain(
      'Hinterlege in sevDesk beim Kontakt des Rechnungsempfängers eine E-Mail-Adresse',
    );

    // "Massenimport starten": the seed's click, followed to its end again.
    await page.getByRole('button', { name: 'Massenimport starten' }).click();
    await watchImport(page, '04-interface-second-import');
    sb.faults.clear();

    // The customers: values in German money format, each linking to its page.
    await page.getByRole('link', { name: 'Kunden', exact: true }).click();
    const table = page.getByRole('table', { name: 'Kunden' });
    await expect.poll(() => table.count(), WAIT).toBe(1);
    const header = await table.locator('thead').textContent();
    expect(header).toContain('Kundenwert (Rechnungen)');
    expect(header).toContain('Kundenwert (gesamt)');
    expect(await table.locator('tbody tr').count()).toBeGreaterThan(10);
    // The list shows 50 at a time, most valuable first: the search finds the one customer.
    await page.getByLabel('Name oder E-Mail').fill('hostile@');
    await page.getByRole('button', { name: 'Suchen' }).click();
    await expect.poll(() => table.locator('tbody tr').count(), WAIT).toBe(1);
    const row = table.locator('tr', { hasText: 'hostile@example.de' });
    // 1487,50 + 119,00 + 10,00: paid, partly paid and open all count.
    expect(await row.textContent()).toContain('1.616,50 €');
    await shot(page, '05-customers');

    // The customer's page: the ten contact fields and the invoices with their status words.
    await row.getByRole('link', { name: 'hostile@example.de' }).click();
    await expect
      .poll(() => page.getByRole('heading', { level: 1 }).textContent(), WAIT)
      .toContain('<img src=x');
    expect(await page.locator('main img').count()).toBe(0);
    expect(await page.evaluate('window.__xss')).toBeUndefined();
    const contact = await page.locator('section', { hasText: 'Kontakt' }).first().textContent();
    for (const label of [
      'E-Mail Adresse',
      'Firmenname',
      'Titel',
      'Vorname',
      'Nachname',
      'Adresse (Straße & Hausnummer)',
      'PLZ',
      'Stadt',
      'Land',
      'Telefonnummer',
    ]) {
      expect(contact).toContain(label);
    }
    expect(contact).toContain('Müller & Söhne "O\'Brien"');
    expect(contact).toContain('Hauptstr. 1');
    const invoices = page.getByRole('table', { name: 'Rechnungen' });
    const statusOf = async (number: string) =>
      (await invoices.locator('tr', { hasText: number }).locator('td').nth(4).textContent())?.trim();
    expect(await statusOf(paid.invoiceNumber!)).toBe('bezahlt');
    expect(await statusOf(partly.invoiceNumber!)).toMatch(/^teilweise bezahlt/);
    expect(await statusOf(open.invoiceNumber!)).toBe('offen');
    expect(await invoices.locator('tr', { hasText: paid.invoiceNumber! }).textContent()).toContain(
      '1.487,50 €',
    );
    // "Verlauf": why the value is what it is, each change with the invoices that caused it.
    const history = page.getByRole('list', { name: 'Verlauf' });
    const lines = await history.getByRole('listitem').allTextContents();
    expect(lines.length).toBeGreaterThan(0);
    expect(lines.join('\n')).toMatch(/Kundenwert \(Rechnungen\) [\d.,]+ € → [\d.,]+ €: /);
    expect(lines.join('\n')).toContain(`${paid.invoiceNumber!} neu, bezahlt`);
    await shot(page, '06-customer');

    // Paid in sevDesk while the page is open: it shows "bezahlt" by itself after the next sync.
    sb.store.payInvoice(open.id);
    const synced = await fetch(`${srv.url}/api/accounts/${account}/sync-now`, {
      method: 'POST',
      headers: { authorization: `Bearer ${srv.apiToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ wait: true }),
    });
    expect(synced.status).toBe(200);
    await expect.poll(() => statusOf(open.invoiceNumber!), { timeout: 15_000 }).toBe('bezahlt');

    // Off and on with the switch.
    await page.getByRole('link', { name: /Schnittstellen/ }).click();
    await expect.poll(() => toggle.getAttribute('aria-checked'), WAIT).toBe('true');
    await toggle.click();
    await expect.poll(() => toggle.getAttribute('aria-checked'), { timeout: 60_000 }).toBe('false');
    await expect.poll(() => page.locator('#state').textContent(), WAIT).toBe('deaktiviert');
    expect(await page.getByRole('button', { name: 'Massenimport starten' }).isDisabled()).toBe(true);
    await shot(page, '07-interface-off');
    await toggle.click();
    await expect.poll(() => toggle.getAttribute('aria-checked'), { timeout: 60_000 }).toBe('true');
    await expect
      .poll(() => page.locator('#state').textContent(), { timeout: 30_000 })
      .toMatch(/bereit|synchronisiert/);
    await shot(page, '08-interface-on');

    expect(errors).toEqual([]);
    await context.close();
  });

  it('opens an account-scoped session from a one-time sign-in link', async () => {
    const account = randomId('link');
    const link = await fetch(`${srv.url}/api/sign-in-links`, {
      method: 'POST',
      headers: { authorization: `Bearer ${srv.apiToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ account }),
    });
    expect(link.status).toBe(201);
    const { url } = (await link.json()) as { url: string };
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(url);
    await expect.poll(() => page.url(), WAIT).toBe(`${srv.url}/ui/accounts/${account}/interface`);
    expect(await page.getByRole('textbox', { name: 'API-Token' }).count()).toBe(1);
    await shot(page, '09-sign-in-link');
    const other = await page.goto(`${srv.url}/ui/accounts/someone-else/interface`);
    expect(other?.status()).toBe(403);
    // Used once: the same link does not sign in a second browser.
    const second = await browser.newContext();
    const p2 = await second.newPage();
    await p2.goto(url);
    await expect.poll(() => p2.getByRole('alert').textContent(), WAIT).toContain('abgelaufen');
    await context.close();
    await second.close();
  });
});
