import { describe, expect, it } from 'vitest';
import { isLoopbackHost, safeNext, sameSecret, Sessions } from '../../src/server/auth';
import { date, esc, invoiceStatusWord, money } from '../../src/server/format';
import { checkServeSettings } from '../../src/server';
import { liveFragment, unassignedReason } from '../../src/server/views';

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

  it('says what to do in sevDesk for an invoice without e-mail', () => {
    expect(unassignedReason('the sevDesk contact has no e-mail address').todo).toMatch(
      /E-Mail-Adresse.*nächsten Synchronisierung/,
    );
  });

  it('cuts the live region out of a page', () => {
    expect(liveFragment('<p>a</p><!--live--><b>x</b><!--/live--><p>c</p>')).toBe('<b>x</b>');
    expect(liveFragment('<p>no region</p>')).toBe('');
  });
});

describe('serve settings and auth helpers', () => {
  it('refuses a non-loopback host without a token, and a short token', () => {
    expect(() => checkServeSettings({ host: '0.0.0.0', apiToken: undefined })).toThrow(/SEVSYNC_API_TOKEN/);
    expect(() => checkServeSettings({ host: '192.168.1.5', apiToken: undefined })).toThrow(/refusing/);
    expect(() => checkServeSettings({ host: '127.0.0.1', apiToken: 'short' })).toThrow(/16 characters/);
    expect(() => checkServeSettings({ host: '127.0.0.1', apiToken: undefined })).not.toThrow();
    expect(() => checkServeSettings({ host: '::1', apiToken: undefined })).not.toThrow();
    expect(() => checkServeSettings({ host: '0.0.0.0', apiToken: 'x'.repeat(32) })).not.toThrow();
    expect(isLoopbackHost('localhost')).toBe(true);
    expect(isLoopbackHost('127.1.2.3')).toBe(true);
    expect(isLoopbackHost('[::1]')).toBe(true);
    expect(isLoopbackHost('127.0.0.1.evil.example')).toBe(false);
  });

  it('compares secrets of any length without throwing', () => {
    expect(sameSecret('abc', 'abc')).toBe(true);
    expect(sameSecret('abc', 'abcd')).toBe(false);
    expect(sameSecret('', 'abc')).toBe(false);
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

  it('expires sessions and uses sign-in codes once', () => {
    let now = 1_000_000;
    const s = new Sessions(() => now);
    const id = s.create('acc-1');
    expect(s.get(id)?.account).toBe('acc-1');
    now += 9 * 60 * 60 * 1000;
    expect(s.get(id)).toBeUndefined();
    const link = s.createLink(null, '/ui/');
    expect(s.redeemLink(link.code)).toEqual({ account: null, next: '/ui/' });
    expect(s.redeemLink(link.code)).toBeUndefined();
    const late = s.createLink('a', '/ui/');
    now += 16 * 60 * 1000;
    expect(s.redeemLink(late.code)).toBeUndefined();
  });
});
