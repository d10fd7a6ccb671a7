import { describe, expect, it } from 'vitest';
import { FailureThrottle, isApiToken, isLoopbackHost, safeNext, sameSecret } from '../../src/server/auth';
import { date, esc, invoiceStatusWord, money } from '../../src/server/format';
import { checkServeSettings } from '../../src/server';
import { ASSETS } from '../../src/server/assets';
import type { CustomerJson, StatusJson } from '../../src/server/use-cases';
import {
  customerPage,
  customersPage,
  interfacePage,
  liveFragment,
  signInLinkPage,
  signInPage,
} from '../../src/server/views';

describe('German display', () => {
  it('formats money from decimal strings, German style', () => {
    expect(money('1487.5')).toBe('1.487,50 €');
    expect(money('1487.50', 'EUR')).toBe('1.487,50 €');
    expect(money('0')).toBe('0,00 €');
    expect(money('-12.3')).toBe('-12,30 €');
    expect(money('-0.00')).toBe('0,00 €');
    expect(money('1234567890123.45')).toBe('1.234.567.890.123,45 €');
    expect(money('99.99', 'USD')).toBe('99,99 $');
    expect(money('5', 'SEK')).toBe('5,00 SEK');
    expect(money(null)).toBe('');
  });

  it('formats dates and status words', () => {
    expect(date('2026-03-15')).toBe('15.03.2026');
    expect(invoiceStatusWord('open', '0.00')).toBe('offen');
    expect(invoiceStatusWord('open', '0.01')).toBe('teilweise bezahlt');
    expect(invoiceStatusWord('paid', '100.00')).toBe('bezahlt');
    expect(invoiceStatusWord('cancelled', '0.00')).toBe('storniert');
  });

  it('escapes everything that reaches HTML', () => {
    expect(esc(`<img src=x onerror="a('b')">&`)).toBe(
      '&lt;img src=x onerror=&quot;a(&#39;b&#39;)&quot;&gt;&amp;',
    );
    expect(esc(null)).toBe('');
  });

  it('cuts the live region out of a page', () => {
    expect(liveFragment('<p>a</p><!--live--><b>x</b><!--/live--><p>c</p>')).toBe('<b>x</b>');
    expect(liveFragment('<p>no region</p>')).toBe('');
  });
});

describe('serve settings and auth helpers', () => {
  it('refuses a non-loopback host without a token, and a short token', () => {
    expect(() => checkServeSettings({ host: '0.0.0.0', apiTokens: [] })).toThrow(/SEVSYNC_API_TOKEN/);
    expect(() => checkServeSettings({ host: '192.168.1.5', apiTokens: [] })).toThrow(/refusing/);
    expect(() => checkServeSettings({ host: '127.0.0.1', apiTokens: ['short'] })).toThrow(/16 characters/);
    expect(() => checkServeSettings({ host: '127.0.0.1', apiTokens: [] })).not.toThrow();
    expect(() => checkServeSettings({ host: '::1', apiTokens: [] })).not.toThrow();
    expect(() => checkServeSettings({ host: '0.0.0.0', apiTokens: ['x'.repeat(32)] })).not.toThrow();
    expect(() => checkServeSettings({ host: '0.0.0.0', apiTokens: [], embed: true })).not.toThrow();
    expect(isLoopbackHost('localhost')).toBe(true);
    expect(isLoopbackHost('127.1.2.3')).toBe(true);
    expect(isLoopbackHost('[::1]')).toBe(true);
    expect(isLoopbackHost('127.0.0.1.evil.example')).toBe(false);
  });

  it('compares secrets of any length without throwing', () => {
    expect(sameSecret('abc', 'abc')).toBe(true);
    expect(sameSecret('abc', 'abcd')).toBe(false);
    expect(sameSecret('', 'abc')).toBe(false);
    expect(isApiToken('b'.repeat(20), ['a'.repeat(20), 'b'.repeat(20)])).toBe(true);
    expect(isApiToken('c'.repeat(20), ['a'.repeat(20), 'b'.repeat(20)])).toBe(false);
    expect(isApiToken('a'.repeat(20), [])).toBe(false);
  });

  it('redirects only to our own pages after signing in', () => {
    expect(safeNext('/ui/accounts/a/interface')).toBe('/ui/accounts/a/interface');
    for (const bad of [
      'https://evil.example/',
      '//evil.example/ui/',
      '/api/x',
      '/ui/\\evil',
      42,
      undefined,
    ]) {
      expect(safeNext(bad)).toBe('/ui/');
    }
  });

  it('slows down guessing: 10 wrong sign-ins in 10 minutes block that address for a while', () => {
    let now = 0;
    const t = new FailureThrottle(() => now);
    for (let i = 0; i < 9; i++) t.failed('1.2.3.4');
    expect(t.blocked('1.2.3.4')).toBe(false);
    t.failed('1.2.3.4');
    expect(t.blocked('1.2.3.4')).toBe(true);
    expect(t.blocked('5.6.7.8')).toBe(false);
    now += 10 * 60 * 1000 + 1;
    expect(t.blocked('1.2.3.4')).toBe(false);
  });
});

describe('the pages as HTML', () => {
  const ctx = { account: 'acc<1>' };
  const evil = '<script>alert(1)</script>';
  const status: StatusJson = {
    account: 'acc<1>',
    active: true,
    state: 'error',
    error: { type: 'SevdeskInvalidTokenError', message: `rejected ${evil}` },
    lastSyncAt: '2026-03-15T13:05:09.000Z',
    nextSyncAt: null,
    counts: { customers: 1, invoices: 2, unassigned: 1, invalid: 1 },
    unassigned: [
      { invoiceNumber: `RE-1${evil}`, sourceId: '7', reason: 'the sevDesk contact has no e-mail address' },
    ],
    conflicts: [{ invoiceNumber: `RE-2${evil}`, sources: ['sevdesk', 'lexoffice'] }],
    invalid: [{ invoiceNumber: 'RE-3', sourceId: '9', reason: `sumGross: ${evil}` }],
    import: { state: 'running', done: 1000, total: 3000 },
    heldSweep: null,
  };

  it('escapes every value and shows state, progress, unassigned, conflicts and invalid records', () => {
    const page = interfacePage(ctx, { status });
    expect(page).not.toContain('<script>alert');
    expect(page).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(page).toContain('Konto acc&lt;1&gt;');
    expect(page).toContain('/api/accounts/acc%3C1%3E/status');
    expect(page).toContain(
      '<progress aria-label="Massenimport" aria-valuetext="1.000 / 3.000 Rechnungen" value="1000" max="3000">',
    );
    expect(page).toContain('role="switch" aria-checked="true" aria-labelledby="active-label"');
    expect(page).toContain('<span id="active-label">Schnittstelle aktiv</span>');
    expect(page).toContain('>Massenimport starten</button>');
    expect(page).toContain('15.03.2026, 14:05:09'); // Berlin time
    // Rejected token on an active interface: the new one is pasted right here, no deactivate/activate.
    expect(page).toContain('sevDesk lehnt den gespeicherten API-Token ab');
    expect(page).toContain('<input type="hidden" name="reconnect" value="1">');
    expect(page).toContain('Rechnungsnummern im Konflikt (1)');
    expect(page).toContain('sevdesk, lexoffice');
    expect(page).toContain('Ungültige Datensätze (1)');
    expect(page).toContain('Hinterlege in sevDesk beim Kontakt des Rechnungsempfängers eine E-Mail-Adresse');
    // No inline code: the script and the stylesheet are our static files (the CSP allows only 'self').
    expect(page.match(/<script[^>]*>/g)).toEqual([`<script src="${ASSETS.live.url}">`]);
    expect(page).toContain(`<link rel="stylesheet" href="${ASSETS.css.url}">`);
    expect(page).not.toMatch(/<style|\sstyle="|\son[a-z]+=/);
  });

  it('names the static files by their content, and loads the sign-in link script only where it is needed', () => {
    for (const a of Object.values(ASSETS))
      expect(a.url).toMatch(/^\/static\/[a-z-]+\.[0-9a-f]{16}\.(css|js)$/);
    expect(signInLinkPage().match(/<script[^>]*>/g)).toEqual([`<script src="${ASSETS.signInLink.url}">`]);
    expect(signInPage({ tokenSignIn: true, next: '/ui/' })).not.toContain('<script');
  });

  it('offers the token form without an interface, and settings only while deactivated', () => {
    const none = interfacePage(ctx, { status: null, error: 'bad' });
    expect(none).toContain('<label for="token">API-Token</label>');
    expect(none).toContain('>Einstellungen speichern</button>');
    expect(none).toContain('role="alert">bad</div>');
    expect(none).not.toContain('role="switch"');
    expect(interfacePage(ctx, { status })).not.toContain('name="intervalSeconds"');
    const off = interfacePage(ctx, { status: { ...status, active: false, state: 'paused' } });
    expect(off).toContain('name="intervalSeconds"');
    expect(off).toContain('aria-checked="false"');
    expect(off).toMatch(/<button type="submit" disabled>Massenimport starten/);
  });

  it('shows customers with German money and the status words', () => {
    const customer: CustomerJson = {
      email: 'a&b@example.de',
      company: `ACME ${evil}`,
      title: 'Dr.',
      firstName: 'Eva',
      lastName: 'Groß',
      street: 'Hauptstr. 1',
      zip: '10115',
      city: 'Berlin',
      country: 'Deutschland',
      phone: '+49 30 1234',
      values: { invoices: '1606.50', total: '2606.50' },
      currency: 'EUR',
      invoices: [
        {
          number: 'RE-1',
          date: '2026-01-02',
          dueDate: '2026-01-16',
          status: 'paid',
          amount: '1487.50',
          paidAmount: '1487.50',
          currency: 'EUR',
          source: 'sevdesk',
          overdue: false,
          daysOverdue: null,
          dunningLevel: null,
          dunnings: [],
          sevdeskUrl: null,
        },
        {
          number: 'RE-2',
          date: '2026-01-03',
          dueDate: null,
          status: 'open',
          amount: '119.00',
          paidAmount: '50.00',
          currency: 'EUR',
          source: 'sevdesk',
          overdue: false,
          daysOverdue: null,
          dunningLevel: null,
          dunnings: [],
          sevdeskUrl: null,
        },
        {
          number: 'RE-3',
          date: '2026-01-04',
          dueDate: null,
          status: 'open',
          amount: '0.00',
          paidAmount: '0.00',
          currency: 'EUR',
          source: 'sevdesk',
          overdue: false,
          daysOverdue: null,
          dunningLevel: null,
          dunnings: [],
          sevdeskUrl: null,
        },
        {
          number: 'RE-4',
          date: '2026-01-05',
          dueDate: null,
          status: 'cancelled',
          amount: '10.00',
          paidAmount: '0.00',
          currency: 'EUR',
          source: 'sevdesk',
          overdue: false,
          daysOverdue: null,
          dunningLevel: null,
          dunnings: [],
          sevdeskUrl: null,
        },
      ],
    };
    const list = customersPage(ctx, [customer]);
    expect(list).toContain('href="/ui/accounts/acc%3C1%3E/customers/a%26b%40example.de"');
    expect(list).toContain('1.606,50 €');
    expect(list).toContain('2.606,50 €');
    expect(list).not.toContain('<script>alert');
    const one = customerPage(ctx, customer);
    for (const word of ['>bezahlt<', '>teilweise bezahlt<', '>offen<', '>storniert<'])
      expect(one).toContain(word);
    expect(one).toContain('16.01.2026');
    expect(one).toContain('(50,00 € bezahlt)');
    expect(one).not.toContain('<script>alert');
  });
});
