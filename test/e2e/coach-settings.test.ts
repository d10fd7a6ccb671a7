import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { SHOTS, hasChromium, launchChromium } from '../helpers/browser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Sandbox } from '../../sandbox';
import { startSandbox } from '../../sandbox';
import { addInterface, getUnassignedByContact, requestSync, updateInterfaceSettings } from '../../src/app';
import type { RunJson, StatusJson, UnassignedContactJson } from '../../src/server/use-cases';
import type { RunningWorker } from '../helpers/env';
import { eventually, randomId, startWorker, testConfig } from '../helpers/env';
import type { TestServer } from './http-harness';
import { startTestServer } from './http-harness';

// The settings page a coach can trust: the "Verlauf" of syncs and walks, "Jetzt synchronisieren" with its
// cooldown, reconnecting after sevDesk rejected the token (one paste, no deactivate/activate), the
// completeness receipt and the unassigned invoices by contact. Over HTTP and the application layer first,
// then in one headless Chromium. One worker, one sandbox, long sync intervals (only asked-for syncs run).
const WAIT = { timeout: 20_000, interval: 100 };

const config = testConfig();
let worker: RunningWorker;
let sb: Sandbox;
let srv: TestServer;

async function call<T>(method: 'GET' | 'POST' | 'PATCH', url: string, body?: unknown) {
  const r = await srv.app.inject({
    method,
    url,
    headers: { authorization: `Bearer ${srv.apiToken}` },
    ...(body === undefined ? {} : { payload: body as Record<string, unknown> }),
  });
  return { status: r.statusCode, body: r.json<T>() };
}

const status = async (account: string) =>
  (await call<StatusJson>('GET', `/api/accounts/${account}/status`)).body;

/** Adds the interface (hourly syncs: only what a test asks for runs) and waits for its first import. */
async function added(account: string): Promise<StatusJson> {
  await addInterface(srv.deps, { accountId: account, token: sb.token, intervalSeconds: 3600 });
  return eventually(
    async () => {
      const s = await status(account);
      return s.import?.state === 'done' && s.state === 'idle' && s.receipt ? s : undefined;
    },
    90_000,
    `the first import of ${account}`,
  );
}

/** sevDesk rejects the stored token from now on: a sync runs into it and the interface is in error. */
async function revoke(account: string): Promise<string> {
  const next = randomId('t')
    .replace(/[^0-9a-f]/g, '')
    .padEnd(32, 'a')
    .slice(0, 32);
  sb.setToken(next);
  expect((await call('POST', `/api/accounts/${account}/sync-now`, {})).status).toBe(202);
  await eventually(
    async () => {
      const s = await status(account);
      return s.state === 'error' && s.error?.type === 'SevdeskInvalidTokenError';
    },
    30_000,
    'the rejected token',
  );
  return next;
}

/** A new invoice in sevDesk for a contact that has one already. */
function newInvoice(): void {
  const contactId = [...sb.store.invoices()][0]!.contact.id;
  sb.store.addInvoice({ contactId, status: '200', sumNet: '100', taxRate: 19 });
}

beforeAll(async () => {
  worker = await startWorker(config);
  sb = await startSandbox({ seed: 5151, data: { invoices: 80 } });
  srv = await startTestServer(config, sb);
});

afterAll(async () => {
  await srv?.close();
  await worker?.stop();
  await sb?.close();
});

describe('the settings page over HTTP and the application layer', () => {
  const account = randomId('coach');

  it('answers the receipt after the first import, matching the sandbox and the status counts', async () => {
    const s = await added(account);
    const r = s.receipt!;
    expect(r.sevdesk).toBe(sb.store.invoiceCount());
    expect(r.assigned + r.unassigned).toBe(s.counts.invoices);
    expect(r.unassigned).toBe(s.counts.unassigned);
    expect(r.invalid).toBe(s.counts.invalid ?? 0);
    expect(Date.parse(r.at)).toBeGreaterThan(0);
  });

  it('lists a sync with its counts in the history route', async () => {
    newInvoice();
    const synced = await call<{ fetched: number; written: number }>(
      'POST',
      `/api/accounts/${account}/sync-now`,
      { wait: true },
    );
    expect(synced.status).toBe(200);
    expect(synced.body.written).toBeGreaterThanOrEqual(1);
    const { status: code, body } = await call<{ runs: RunJson[] }>(
      'GET',
      `/api/accounts/${account}/history?limit=5`,
    );
    expect(code).toBe(200);
    expect(body.runs.length).toBeGreaterThanOrEqual(2);
    expect(body.runs.length).toBeLessThanOrEqual(5);
    const [last] = body.runs;
    expect(last).toMatchObject({ kind: 'incremental', error: null });
    expect(last).toMatchObject({ fetched: synced.body.fetched, written: synced.body.written });
    expect(last!.durationMs).not.toBeNull();
    const walk = body.runs.find((r) => r.kind === 'import')!;
    expect(walk.sevdeskTotal).toBe((await status(account)).receipt!.sevdesk);
    expect(walk.durationMs).toBeGreaterThanOrEqual(0);
    expect((await call('GET', `/api/accounts/${account}/history?limit=101`)).status).toBe(400);
  });

  it('refuses a second sync-now within the cooldown', async () => {
    expect(await requestSync(srv.deps, account)).toEqual({ requested: true });
    const again = await requestSync(srv.deps, account);
    expect(again.requested).toBe(false);
    expect(again.requested === false && again.retryAfterSeconds).toBeGreaterThan(20);
  });

  it('groups the unassigned invoices by contact, the biggest sum first', async () => {
    const s = await status(account);
    const list: UnassignedContactJson[] = await getUnassignedByContact(srv.deps, account);
    expect(list.reduce((n, g) => n + g.invoices, 0)).toBe(s.counts.unassigned);
    const sums = list.map((g) => Number(g.sum));
    expect(sums).toEqual([...sums].sort((a, b) => b - a));
    for (const g of list) expect(g.numbers).toHaveLength(g.invoices);
  });

  it('takes a new token on an active interface in error (PATCH), and the sync resumes without activate', async () => {
    // Not in error: settings stay refused while active.
    expect((await call('PATCH', `/api/accounts/${account}/interface`, { token: sb.token })).status).toBe(409);
    const before = (await status(account)).lastSyncAt!;
    const fresh = await revoke(account);
    // Only the token: anything else stays refused while active.
    const mixed = await call('PATCH', `/api/accounts/${account}/interface`, {
      token: fresh,
      intervalSeconds: 60,
    });
    expect(mixed.status).toBe(409);
    const patched = await call<StatusJson>('PATCH', `/api/accounts/${account}/interface`, { token: fresh });
    expect(patched.status).toBe(200);
    const after = await eventually(
      async () => {
        const s = await status(account);
        return s.state === 'idle' && s.lastSyncAt !== before && s.error === null ? s : undefined;
      },
      30_000,
      'the resumed sync',
    );
    expect(after.active).toBe(true);
  });

  it('takes a new token the way `interface update --token -` does (the application call)', async () => {
    const fresh = await revoke(account);
    const before = (await status(account)).lastSyncAt;
    await updateInterfaceSettings(srv.deps, { accountId: account, token: fresh });
    await eventually(
      async () => {
        const s = await status(account);
        return s.state === 'idle' && s.lastSyncAt !== before;
      },
      30_000,
      'the resumed sync',
    );
  });
});

describe.skipIf(!hasChromium)('the settings page in a real browser', () => {
  let browser: Browser;
  const account = randomId('coach-ui');

  beforeAll(async () => {
    await srv.listen();
    browser = await launchChromium();
  });

  afterAll(async () => {
    await browser?.close();
  });

  async function shots(page: Page, name: string) {
    await page.setViewportSize({ width: 1280, height: 900 });
    await page.screenshot({ path: path.join(SHOTS, `coach-settings-${name}-desktop.png`), fullPage: true });
    await page.setViewportSize({ width: 390, height: 844 });
    await page.screenshot({ path: path.join(SHOTS, `coach-settings-${name}-narrow.png`), fullPage: true });
    await page.setViewportSize({ width: 1280, height: 900 });
  }

  it('syncs now, shows the Verlauf and the receipt, and reconnects with one paste', async () => {
    await added(account);
    const context = await browser.newContext({ locale: 'de-DE' });
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(`${srv.url}/ui/accounts/${account}/interface`);
    await page.getByLabel('Zugangsschlüssel').fill(srv.apiToken);
    await page.getByRole('button', { name: 'Anmelden' }).click();
    await expect.poll(() => page.url(), WAIT).toBe(`${srv.url}/ui/accounts/${account}/interface`);

    // The receipt, in German numbers.
    expect(await page.locator('#receipt').textContent()).toMatch(
      /sevDesk zählt \d+ Rechnungen, in OneCockpit: \d+ zugeordnet, \d+ ohne E-Mail, \d+ fehlerhaft/,
    );
    expect(await page.locator('#sync-ago').textContent()).toMatch(/^zuletzt synchronisiert vor /);

    // A change in sevDesk, then "Jetzt synchronisieren": the Verlauf shows the sync that brought it.
    const verlauf = page.getByRole('table', { name: 'Verlauf der Synchronisierungen' });
    const rowsBefore = await verlauf.locator('tbody tr').count();
    newInvoice();
    await page.getByRole('button', { name: 'Jetzt synchronisieren' }).click();
    await expect
      .poll(() => page.locator('main').textContent(), WAIT)
      .toContain('Synchronisierung ist angestoßen');
    await expect.poll(() => verlauf.locator('tbody tr').count(), WAIT).toBeGreaterThan(rowsBefore);
    const first = verlauf.locator('tbody tr').first();
    expect(await first.locator('td').nth(1).textContent()).toBe('Synchronisierung');
    expect(Number(await first.locator('td').nth(4).textContent())).toBeGreaterThanOrEqual(1);
    // A second click within the cooldown: a notice, no second sync.
    await page.getByRole('button', { name: 'Jetzt synchronisieren' }).click();
    await expect.poll(() => page.locator('main').textContent(), WAIT).toContain('Eben wurde schon');
    await shots(page, 'verlauf');

    // sevDesk rejects the token: the page says so and asks for the new one right there.
    const fresh = await revoke(account);
    const prompt = page.locator('#reconnect');
    await expect.poll(() => prompt.count(), WAIT).toBe(1);
    expect(await prompt.textContent()).toContain('sevDesk lehnt den gespeicherten API-Token ab');
    await shots(page, 'reconnect');
    await prompt.getByRole('textbox', { name: 'API-Token' }).fill(fresh);
    await prompt.getByRole('button', { name: 'Einstellungen speichern' }).click();
    await expect
      .poll(() => page.locator('main').textContent(), WAIT)
      .toContain('Die Synchronisierung läuft wieder');
    await expect.poll(() => page.locator('#state').textContent(), { timeout: 30_000 }).toBe('bereit');
    expect(await page.locator('#reconnect').count()).toBe(0);
    expect(await page.getByRole('switch').getAttribute('aria-checked')).toBe('true');
    expect(await page.content()).not.toContain(fresh);
    await shots(page, 'resumed');
    expect(errors).toEqual([]);
    await context.close();
  });
});
