import Decimal from 'decimal.js';
import { describe, expect, it } from 'vitest';
import { formatMoney, MoneyParseError, parseMoney, sumMoney } from '../../src/sevdesk/money';
import { Invoice } from '../../src/sevdesk/schema';
import { fixtureObjects } from './helpers/test-server';

describe('money', () => {
  it.each([
    ['1487.5', '1487.50'],
    ['-7.45', '-7.45'],
    ['39.2', '39.20'],
    ['0', '0.00'],
    ['1250', '1250.00'],
    ['-99.96', '-99.96'],
    ['123456789012345678.91', '123456789012345678.91'],
  ])('parses %s exactly and formats %s', (wire, formatted) => {
    expect(formatMoney(parseMoney(wire))).toBe(formatted);
  });

  it('sums exactly: 0.1 + 0.2 = 0.30', () => {
    expect(formatMoney(parseMoney('0.1').plus(parseMoney('0.2')))).toBe('0.30');
    expect(formatMoney(parseMoney(0.1).plus(parseMoney(0.2)))).toBe('0.30');
    expect(formatMoney(sumMoney(['1487.5', '-99.96', 46.65]))).toBe('1434.19');
  });

  it('converts paidAmount (a JSON number) through its shortest string', () => {
    expect(parseMoney(46.65).toString()).toBe('46.65');
    expect(parseMoney(0).toString()).toBe('0');
    expect(parseMoney(-0).toString()).toBe('0');
    expect(formatMoney(parseMoney(1234.1))).toBe('1234.10');
  });

  it('rounds half up to two decimals and never prints -0.00', () => {
    expect(formatMoney(new Decimal('2.345'))).toBe('2.35');
    expect(formatMoney(new Decimal('-2.345'))).toBe('-2.35');
    expect(formatMoney(new Decimal('-0.001'))).toBe('0.00');
  });

  it.each([
    ['abc'],
    [''],
    [' 1'],
    ['1,5'],
    ['1e3'],
    ['0x10'],
    ['NaN'],
    ['Infinity'],
    ['1.'],
    ['.5'],
    ['--1'],
  ])('rejects %j with a clear error', (bad) => {
    expect(() => parseMoney(bad, 'sumGross')).toThrow(MoneyParseError);
    expect(() => parseMoney(bad, 'sumGross')).toThrow(/invalid money value in sumGross/);
  });

  it.each([[Number.NaN], [Number.POSITIVE_INFINITY]])('rejects the number %s', (bad) => {
    expect(() => parseMoney(bad, 'paidAmount')).toThrow(/invalid money value in paidAmount/);
  });

  it('reads every money field of the fixtures', () => {
    const sums = fixtureObjects('invoice_list.json').map((o) => {
      const inv = Invoice.parse(o);
      return [formatMoney(parseMoney(inv.sumGross, 'sumGross')), formatMoney(parseMoney(inv.paidAmount))];
    });
    expect(sums).toEqual([
      ['1487.50', '0.00'],
      ['-99.96', '0.00'],
    ]);
  });
});
