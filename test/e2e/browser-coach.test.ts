import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { SHOTS, hasChromium, launchChromium } from '../helpers/browser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Sandbox } from '../../sandbox';
import { startSandbox } from '../../sandbox';
import type { RunningWorker } from '../helpers/env';
import { randomId, startWorker, testConfig } from '../helpers/env';
import type { TestServer } from './http-harness';
import { startTestServer } from './http-harness';

// A coach's day in a real browser (Debian's chromium, headless): thousands of customers searched, sorted and
// paged; one customer's invoices filtered, with the value per year; every page checked with axe-core
// (nothing serious or critical), the interface switch used by keyboard, and each page on a phone's width
// without horizontal scrolling. Screenshots go to test-results/screenshots/coach-*.png.
const AXE = path.resolve(__dirname, '../../node_modules/axe-core/axe.min.js');
const WAIT = { timeout: 20_000, interval: 100 };
const DESKTOP = { width: 1280, height: 900 };
const NARROW = { width: 390, height: 844 };
const CUSTOMERS = 5000;

const config = testConfig();
let worker: RunningWorker;
let sb: Sandbox;
let srv: TestServer;
let browser: Browser;

interface AxeFinding {
  id: string;
  impact: string | null;
  help: string;
  targets: string[];
}

/** axe-core in the page (the page's CSP allows only our own scripts: a script tag first, else evaluate). */
async function axe(page: Page): Promise<AxeFinding[]> {
  const loaded = () => page.evaluate('typeof window.axe === "object"');
  if (!(await loaded())) {
    await page.addScriptTag({ path: AXE }).catch(() => undefined);
    if (!(await loaded())) await page.evaluate(readFileSync(AXE, 'utf8'));
  }
  const found = (await page.evaluate(`axe
    .run(document, { resultTypes: ['violations'] })
    .then((r) => r.violations.map((v) => ({
      id: v.id, impact: v.impact, help: v.help, targets: v.nodes.map((n) => n.target.join(' ')),
    })))`)) as AxeFinding[];
  return found.filter((f) => f.impact === 'serious' || f.impact === 'critical');
}

/**
 * One page as a coach sees it: axe finds nothing serious or critical, at desktop and at a phone's width
 * (where the main content must not scroll sideways); a screenshot of each.
 */
async function check(page: Page, name: string): Promise<void> {
  await page.setViewportSize(DESKTOP);
  expect(await axe(page), `axe on ${name} (desktop)`).toEqual([]);
  await page.screenshot({ path: path.join(SHOTS, `coach-${name}-desktop.png`), fullPage: true });
  await page.setViewportSize(NARROW);
  // Wider than the window: the elements that stick out (the deepest ones name the culprit).
  const wide = (await page.evaluate(`document.documentElement.scrollWidth <= window.innerWidth + 1 ? [] :
    [...document.querySelectorAll('body *')]
      .filter((e) => e.getBoundingClientRect().right > window.innerWidth + 1)
      .map((e) => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') + (e.className ? '.' + e.className : ''))
      .slice(-8)`)) as string[];
  expect(wide, `no horizontal scroll on ${name} at 390 px`).toEqual([]);
  expect(await axe(page), `axe on ${name} (narrow)`).toEqual([]);
  await page.screenshot({ path: path.join(SHOTS, `coach-${name}-narrow.png`), fullPage: true });
  await page.setViewportSize(DESKTOP);
}

async function signedIn(): Promise<{ context: BrowserContext; page: Page; errors: string[] }> {
  const context = await browser.newContext({ locale: 'de-DE', viewport: DESKTOP });
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(`${srv.url}/ui/sign-in`);
  await page.getByLabel('Zugangsschlüssel').fill(srv.apiToken);
  await page.getByRole('button', { name: 'Anmelden' }).click();
  await expect.poll(() => page.url(), WAIT).toContain('/ui/');
  return { context, page, errors };
}

const api = (method: string, route: string, body?: unknown) =>
  fetch(`${srv.url}/api/accounts/${route}`, {
    method,
    headers: {
      authorization: `Bearer ${srv.apiToken}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    body: body === undefined ? null : JSON.stringify(body),
  });

/** 5,000 customers of one account straight into the database, every tenth with an invoice; two to find. */
async function seedCoach(account: string): Promise<void> {
  const sql = srv.deps.db.sql;
  await sql`insert into accounts (id, name) values (${account}, ${account})`;
  await sql`
    insert into customers (account_id, email, first_name, last_name, company)
    select ${account}, format('kunde%s@coach-beispiel.de', lpad(g::text, 5, '0')),
      (array['Anna', 'Ben', 'Clara', 'David', 'Emil'])[1 + g % 5], format('Nachname%s', lpad(g::text, 5, '0')),
      case when g % 7 = 0 then format('Firma %s GmbH', g) end
    from generate_series(1, ${CUSTOMERS}) g`;
  await sql`
    insert into customers (account_id, email, title, first_name, last_name, company, city) values
      (${account}, 'eva.gross@praxis-gross.de', 'Dr.', 'Eva', 'Groß', 'Praxis Groß', 'München'),
      (${account}, 'kontakt@zq-seminare.de', null, 'Zacharias', 'Quellwasser', null, 'Kiel')`;
  const invoice = (
    email: string,
    n: string,
    day: string,
    due: string,
    status: string,
    amount: string,
    paid: string,
  ) => sql`
    insert into invoices (account_id, customer_id, source, source_id, number, type, invoice_date, due_date,
      source_status, status, amount_gross, amount_net, amount, paid_amount, currency, content_hash)
    select ${account}, c.id, 'sevdesk', ${`${email}:${n}`}, ${n}, 'RE', ${day}::date, ${due}::date,
      ${status === 'paid' ? '1000' : status === 'cancelled' ? '750' : '200'}, ${status}, ${amount}::numeric,
      ${amount}::numeric, ${amount}::numeric, ${paid}::numeric, 'EUR', 'seed'
    from customers c where c.account_id = ${account} and c.email = ${email}`;
  const eva = 'eva.gross@praxis-gross.de';
  await invoice(eva, 'RE-2024-1', '2024-03-01', '2024-03-15', 'paid', '100.10', '100.10');
  await invoice(eva, 'RE-2024-2', '2024-11-15', '2024-11-29', 'paid', '0.20', '0.20');
  await invoice(eva, 'RE-2025-1', '2025-06-01', '2025-06-15', 'open', '1234.56', '0');
  // A first reminder (MA) attached to it, as the page write stores one (test/db/dunning.test.ts).
  await sql`
    update invoices set dunning_level = 1, dunnings = '[{"level": 1, "date": "2025-07-03"}]'::jsonb
    where account_id = ${account} and number = 'RE-2025-1'`;
  await invoice(eva, 'RE-2025-2', '2025-12-01', '2025-12-15', 'cancelled', '999.00', '0');
  await invoice(eva, 'RE-2026-1', '2026-02-01', '2026-02-15', 'paid', '2000.00', '2000.00');
  await invoice(eva, 'RE-2026-2', '2026-03-01', '2099-12-31', 'open', '0.70', '0');
  await sql`
    insert into invoices (account_id, customer_id, source, source_id, number, type, invoice_date, due_date,
      source_status, status, amount_gross, amount_net, amount, paid_amount, currency, content_hash)
    select c.account_id, c.id, 'sevdesk', 'bulk-' || c.id, 'RE-B-' || c.id, 'RE', date '2026-01-10', date '2026-01-24',
      '1000', 'paid', (c.id % 1000) + 0.5, (c.id % 1000) + 0.5, (c.id % 1000) + 0.5, (c.id % 1000) + 0.5, 'EUR', 'seed'
    from customers c where c.account_id = ${account} and c.id % 10 = 0 and c.email like 'kunde%'`;
  await sql`
    insert into customer_values (account_id, customer_id, kind, amount)
    select i.account_id, i.customer_id, 'invoices', sum(i.amount) from invoices i
    where i.account_id = ${account} and i.status in ('open', 'paid') group by i.account_id, i.customer_id`;
  await sql`
    update customers c set total_value = v.amount from customer_values v
    where v.account_id = c.account_id and v.customer_id = c.id and c.account_id = ${account}`;
}

describe.skipIf(!hasChromium)('a coach with thousands of customers, accessible and German', () => {
  beforeAll(async () => {
    worker = await startWorker(config);
    sb = await startSandbox({ seed: 77, data: { invoices: 60 } });
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

  it('searches, sorts and pages 5,000 customers in SQL', async () => {
    const account = randomId('coach');
    await seedCoach(account);
    const { context, page, errors } = await signedIn();
    const list = `${srv.url}/ui/accounts/${account}/customers`;
    await page.goto(list);
    const table = page.getByRole('table', { name: 'Kunden' });
    const rows = table.locator('tbody tr');
    await expect.poll(() => rows.count(), WAIT).toBe(50);
    expect(await page.getByRole('heading', { level: 2 }).first().textContent()).toBe('5.002 Kunden');
    const header = await table.locator('thead').textContent();
    expect(header).toContain('Kundenwert (Rechnungen)');
    expect(header).toContain('Kundenwert (gesamt)');
    // Value, highest first: Eva's 3.335,56 € (open and paid; the cancelled one does not count).
    expect(await rows.first().textContent()).toContain('eva.gross@praxis-gross.de');
    expect(await rows.first().textContent()).toContain('3.335,56 €');
    expect(await page.getByRole('link', { name: /zurück/ }).count()).toBe(0);
    await check(page, 'customers');

    // "weiter" to the last page: every customer once, in value order.
    const seen = new Set<string>();
    const values: string[] = [];
    // One round trip per page (a locator per row would make 5,000).
    const collect = async () => {
      const cells = await page.$$eval('table[aria-label="Kunden"] tbody tr', (trs) =>
        trs.map((tr) => [...tr.querySelectorAll('td')].map((td) => (td.textContent ?? '').trim())),
      );
      for (const c of cells) {
        seen.add(c[0]!);
        values.push(c[3]!);
      }
    };
    await collect();
    let pages = 1;
    for (;;) {
      const next = page.getByRole('link', { name: /weiter/ });
      if ((await next.count()) === 0) break;
      await Promise.all([page.waitForURL(/cursor=/), next.click()]);
      await collect();
      pages += 1;
      expect(pages).toBeLessThanOrEqual(101);
    }
    expect(pages).toBe(101);
    expect(seen.size).toBe(5002);
    expect(await rows.count()).toBe(2);
    const cents = (v: string) => BigInt(v.replace(/[^\d-]/g, ''));
    for (let i = 1; i < values.length; i++) expect(cents(values[i - 1]!) >= cents(values[i]!)).toBe(true);
    await check(page, 'customers-last-page');
    // and back
    await page.getByRole('link', { name: /zurück/ }).click();
    await expect.poll(() => rows.count(), WAIT).toBe(50);
    expect(await page.getByRole('link', { name: /weiter/ }).count()).toBe(1);

    // The search: part of a name (any case), part of an e-mail address.
    const search = async (q: string) => {
      await page.goto(list);
      await page.getByRole('searchbox', { name: 'Name oder E-Mail' }).fill(q);
      await Promise.all([page.waitForURL(/q=/), page.getByRole('button', { name: 'Suchen' }).click()]);
    };
    await search('quellWASS');
    expect(await rows.count()).toBe(1);
    expect(await rows.first().textContent()).toContain('kontakt@zq-seminare.de');
    expect(await page.getByRole('heading', { level: 2 }).first().textContent()).toBe(
      '1 Kunde zu „quellWASS“',
    );
    await check(page, 'customers-search');
    await search('ZQ-Seminare');
    expect(await rows.count()).toBe(1);
    expect(await rows.first().textContent()).toContain('Zacharias Quellwasser');
    await search('nachname0001');
    expect(await rows.count()).toBe(10); // Nachname00010 … 00019
    // A pattern character is a character: nobody's name or address has a % in it.
    await search('%');
    expect(await rows.count()).toBe(0);
    expect(await page.locator('#live').textContent()).toContain('Keine Kunden zu „%“');

    // Sort by name: last name, then first name.
    await page.goto(list);
    await page.getByLabel('Sortieren nach').selectOption('name');
    await Promise.all([page.waitForURL(/sort=name/), page.getByRole('button', { name: 'Suchen' }).click()]);
    const names = (await table.locator('tbody tr td:nth-child(2)').allTextContents()).map((n) => n.trim());
    expect(names[0]).toBe('Dr. Eva Groß');
    expect(names[1]).toBe('Ben Nachname00001');
    const lastNames = names.slice(1).map((n) => n.split(' ').at(-1)!);
    expect(lastNames).toEqual([...lastNames].sort());
    await page.getByRole('link', { name: /weiter/ }).click();
    await expect.poll(() => page.url(), WAIT).toContain('sort=name');
    expect((await table.locator('tbody tr td:nth-child(2)').first().textContent())?.trim()).toBe(
      'Anna Nachname00050',
    );

    // The same search over HTTP: a page of the matches, and where it goes on both ways.
    const found = await api('GET', `${account}/customers/search?q=NACHNAME0001&sort=name&limit=4`);
    expect(found.status).toBe(200);
    const body = (await found.json()) as { customers: { email: string }[]; total: number; next: string };
    expect(body.total).toBe(10);
    expect(body.customers.map((c) => c.email)).toEqual(
      [10, 11, 12, 13].map((n) => `kunde000${n}@coach-beispiel.de`),
    );
    const more = (await (
      await api('GET', `${account}/customers/search?q=NACHNAME0001&sort=name&limit=4&cursor=${body.next}`)
    ).json()) as { customers: { email: string }[]; prev: string };
    expect(more.customers[0]!.email).toBe('kunde00014@coach-beispiel.de');
    expect(more.prev).toBeTruthy();
    expect((await api('GET', `${account}/customers/search?sort=size`)).status).toBe(400);
    expect((await api('GET', `${account}/customers/search?sort=value&cursor=${body.next}`)).status).toBe(400);

    expect(errors).toEqual([]);
    await context.close();
  });

  it('filters a customer’s invoices and sums the value per year with decimals', async () => {
    const account = randomId('coach');
    await seedCoach(account);
    const { context, page, errors } = await signedIn();
    await page.goto(`${srv.url}/ui/accounts/${account}/customers?q=eva.gross`);
    await page.getByRole('link', { name: 'eva.gross@praxis-gross.de' }).click();
    await expect.poll(() => page.getByRole('heading', { level: 1 }).textContent(), WAIT).toBe('Dr. Eva Groß');
    const invoices = page.getByRole('table', { name: 'Rechnungen' });
    const numbers = async () =>
      (await invoices.locator('tbody tr td:first-child').allTextContents()).map((t) => t.trim());
    // Newest first.
    expect(await numbers()).toEqual([
      'RE-2026-2',
      'RE-2026-1',
      'RE-2025-2',
      'RE-2025-1',
      'RE-2024-2',
      'RE-2024-1',
    ]);
    // Per year: open and paid, in decimals (0,10 + 0,20 is 0,30, not 0,30000000000000004).
    const years = page.getByRole('table', { name: 'Kundenwert je Jahr' });
    const yearRows = await Promise.all(
      (await years.locator('tbody tr').all()).map(async (r) =>
        (await r.locator('td').allTextContents()).map((t) => t.trim()).join(' '),
      ),
    );
    expect(yearRows).toEqual(['2026 2 2.000,70 €', '2025 1 1.234,56 €', '2024 2 100,30 €']);
    const contact = await page.locator('section', { hasText: 'Kontakt' }).first().textContent();
    expect(contact).toContain('3.335,56 €');
    expect(await invoices.locator('tr', { hasText: 'RE-2025-1' }).textContent()).toContain('15.06.2025');
    const overdueRow = invoices.locator('tr', { hasText: 'RE-2025-1' });
    expect(await overdueRow.textContent()).toContain('überfällig');
    expect(await overdueRow.textContent()).toContain('1. Mahnung am 03.07.2025');
    // The link into sevDesk: the invoice's type and its sevDesk id, in a new tab.
    const open = overdueRow.getByRole('link', { name: 'in sevDesk öffnen' });
    expect(await open.getAttribute('href')).toBe(
      `https://my.sevdesk.de/fi/detail/type/RE/id/${encodeURIComponent(`eva.gross@praxis-gross.de:RE-2025-1`)}`,
    );
    expect(await open.getAttribute('target')).toBe('_blank');
    await check(page, 'customer');

    const filter = page.getByRole('navigation', { name: 'Rechnungen filtern' });
    await filter.getByRole('link', { name: /^offen/ }).click();
    await expect.poll(() => page.url(), WAIT).toContain('filter=offen');
    expect(await numbers()).toEqual(['RE-2026-2', 'RE-2025-1']);
    expect(await filter.getByRole('link', { name: /^offen/ }).getAttribute('aria-current')).toBe('page');
    await filter.getByRole('link', { name: /^überfällig/ }).click();
    await expect.poll(() => page.url(), WAIT).toContain('filter=ueberfaellig');
    expect(await numbers()).toEqual(['RE-2025-1']);
    await check(page, 'customer-overdue');
    await filter.getByRole('link', { name: /^bezahlt/ }).click();
    await expect.poll(() => page.url(), WAIT).toContain('filter=bezahlt');
    expect(await numbers()).toEqual(['RE-2026-1', 'RE-2024-2', 'RE-2024-1']);
    await filter.getByRole('link', { name: /^alle/ }).click();
    await expect.poll(() => numbers(), WAIT).toHaveLength(6);

    // An unknown customer: the error page.
    const missing = await page.goto(`${srv.url}/ui/accounts/${account}/customers/niemand%40example.de`);
    expect(missing?.status()).toBe(404);
    expect(await page.getByRole('alert').textContent()).toContain('gibt es in diesem Konto nicht');
    await check(page, 'error');

    expect(errors).toEqual([]);
    await context.close();
  });

  it('the sign-in and embed pages, and the settings page idle, paused and in error, by keyboard', async () => {
    // Before signing in.
    const anon = await browser.newContext({ locale: 'de-DE', viewport: DESKTOP });
    const p0 = await anon.newPage();
    await p0.goto(`${srv.url}/ui/sign-in`);
    expect(await p0.getAttribute('html', 'lang')).toBe('de');
    await check(p0, 'sign-in');
    // The embed page posts its token at once: its script is held back here, so the page itself can be checked.
    const script = '**/static/sign-in-link.*.js';
    await p0.route(script, (route) => route.fulfill({ contentType: 'text/javascript', body: '' }));
    await p0.goto(`${srv.url}/ui/embed`);
    expect(await p0.getByRole('heading', { level: 1 }).textContent()).toBe('sevDesk-Schnittstelle');
    await check(p0, 'embed');
    await p0.unroute(script);
    // Without a valid embed token: the error page.
    await p0.goto(`${srv.url}/ui/embed`);
    await expect.poll(() => p0.getByRole('alert').count(), WAIT).toBe(1);
    await check(p0, 'embed-error');
    await anon.close();

    const account = randomId('coachui');
    const { context, page, errors } = await signedIn();
    await page.goto(`${srv.url}/ui/accounts/${account}/interface`);
    await expect.poll(() => page.getByRole('textbox', { name: 'API-Token' }).count(), WAIT).toBe(1);
    await check(page, 'interface-new');

    expect((await api('POST', `${account}/interface`, { token: sb.token })).status).toBe(201);
    await expect
      .poll(
        async () => {
          const r = await api('GET', `${account}/status`);
          const s = (await r.json()) as { state?: string; import?: { state: string } | null };
          return s.state ? `${s.state} ${s.import?.state ?? ''}` : `${r.status} ${JSON.stringify(s)}`;
        },
        { timeout: 30_000, interval: 250 },
      )
      .toBe('idle done');
    await page.goto(`${srv.url}/ui/accounts/${account}/interface`);
    const toggle = page.getByRole('switch', { name: 'Schnittstelle aktiv' });
    await expect.poll(() => toggle.getAttribute('aria-checked'), WAIT).toBe('true');
    await expect.poll(() => page.locator('#state').textContent(), WAIT).toBe('bereit');
    await check(page, 'interface-idle');

    // The switch by keyboard: Tab to it, Space turns it off, Enter turns it on again.
    const tabToSwitch = async () => {
      await page.locator('body').focus();
      for (let i = 0; i < 40; i++) {
        await page.keyboard.press('Tab');
        if (await page.evaluate('document.activeElement?.getAttribute("role") === "switch"')) return;
      }
      throw new Error('Tab never reached the switch');
    };
    await tabToSwitch();
    await page.keyboard.press('Space');
    await expect.poll(() => toggle.getAttribute('aria-checked'), { timeout: 60_000 }).toBe('false');
    await expect.poll(() => page.locator('#state').textContent(), WAIT).toBe('deaktiviert');
    await check(page, 'interface-paused');
    await tabToSwitch();
    await page.keyboard.press('Enter');
    await expect.poll(() => toggle.getAttribute('aria-checked'), { timeout: 60_000 }).toBe('true');

    // sevDesk refuses the token now: the page shows the error.
    sb.setToken(randomBytes(16).toString('hex'));
    await api('POST', `${account}/sync-now`, { wait: false });
    await expect.poll(() => page.locator('#state').textContent(), { timeout: 60_000 }).toBe('Fehler');
    await check(page, 'interface-error');

    expect(errors).toEqual([]);
    await context.close();
  });
});
