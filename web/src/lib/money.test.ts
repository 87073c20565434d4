import { describe, expect, it } from 'vitest';
import {
  decimalToScaled,
  exactEth,
  formatDecimal,
  formatEth,
  formatPercent,
  formatShares,
  formatUnitsFixed,
  formatUsd,
  fraction,
  parseAmount,
  parseWei,
  sharesToWei,
  toDecimalString,
  tryParseWei,
  weiToUsd,
} from './money';

describe('parseWei', () => {
  it('reads decimal strings exactly, beyond 2^53', () => {
    expect(parseWei('1000000000000000001')).toBe(1_000_000_000_000_000_001n);
    expect(parseWei('115792089237316195423570985008687907853269984665640564039457584007913129639935')).toBe(
      2n ** 256n - 1n,
    );
    expect(parseWei('-5')).toBe(-5n);
  });
  it('reads the 0x-hex strings the API served before', () => {
    expect(parseWei('0x0de0b6b3a7640000')).toBe(10n ** 18n);
  });
  it('refuses anything else', () => {
    expect(() => parseWei('1.5')).toThrow();
    expect(() => parseWei('1e18')).toThrow();
    expect(() => parseWei('')).toThrow();
    expect(tryParseWei(undefined)).toBeUndefined();
    expect(tryParseWei('abc')).toBeUndefined();
  });
});

describe('parseAmount (what people type)', () => {
  it('parses ETH to wei without floating point', () => {
    expect(parseAmount('1')).toEqual({ ok: true, value: 10n ** 18n });
    expect(parseAmount('0.1')).toEqual({ ok: true, value: 10n ** 17n });
    expect(parseAmount('.25')).toEqual({ ok: true, value: 25n * 10n ** 16n });
    expect(parseAmount('1.000000000000000001')).toEqual({ ok: true, value: 10n ** 18n + 1n });
    expect(parseAmount(' 1 000.5 ')).toEqual({ ok: true, value: 1000_5n * 10n ** 17n });
    expect(parseAmount('2.', 21, 'shares')).toEqual({ ok: true, value: 2n * 10n ** 21n });
  });
  it('explains what is wrong', () => {
    expect(parseAmount('')).toEqual({ ok: false, error: 'Enter an amount.' });
    expect(parseAmount('0')).toEqual({ ok: false, error: 'The amount must be greater than zero.' });
    expect(parseAmount('0.000')).toMatchObject({ ok: false });
    expect(parseAmount('-1')).toEqual({ ok: false, error: 'The amount cannot be negative.' });
    expect(parseAmount('1,5')).toMatchObject({ ok: false, error: expect.stringContaining('point') });
    expect(parseAmount('abc')).toEqual({ ok: false, error: 'Enter a number of ETH, e.g. 1.25.' });
    expect(parseAmount('1e3')).toMatchObject({ ok: false });
    expect(parseAmount('.')).toMatchObject({ ok: false });
    expect(parseAmount('0.0000000000000000001')).toEqual({
      ok: false,
      error: 'ETH has at most 18 decimal places.',
    });
  });
});

describe('formatting', () => {
  it('formats ETH with grouping and rounding half-up', () => {
    expect(formatEth(1234_567_890_000_000_000_000n)).toBe('1,234.5679');
    expect(formatEth(10n ** 18n)).toBe('1');
    expect(formatEth(0n)).toBe('0');
    expect(formatEth(15n * 10n ** 17n, 2)).toBe('1.5');
    expect(formatEth(1n)).toBe('<0.0001');
    expect(formatEth(-1n)).toBe('-<0.0001');
    expect(formatEth(-25n * 10n ** 16n)).toBe('-0.25');
    expect(formatEth(99_999n * 10n ** 14n, 2)).toBe('10');
  });
  it('formats shares at 21 decimals', () => {
    expect(formatShares(10n ** 21n)).toBe('1');
    expect(formatShares(999_500_000_000_000_000_000n)).toBe('0.9995');
  });
  it('keeps the exact value for copying', () => {
    expect(exactEth(10n ** 18n + 1n)).toBe('1.000000000000000001');
    expect(exactEth(0n)).toBe('0');
    expect(toDecimalString(-1n, 2)).toBe('-0.01');
  });
  it('formats USD and percentages from decimal strings', () => {
    expect(formatUsd('1234.5')).toBe('$1,234.50');
    expect(formatUsd('0')).toBe('$0.00');
    expect(formatUsd('-3.1')).toBe('-$3.10');
    expect(formatUsd('1234567.899')).toBe('$1,234,567.90');
    expect(formatPercent('0.123456')).toBe('12.35 %');
    expect(formatPercent('0.05')).toBe('5.00 %');
    expect(formatPercent('1')).toBe('100.00 %');
    expect(formatPercent('-0.0123', 1)).toBe('-1.2 %');
    expect(formatDecimal('0.99950001', 6)).toBe('0.9995');
    expect(formatUnitsFixed(5n, 0, 0)).toBe('5');
  });
  it('scales decimals with chosen rounding', () => {
    expect(decimalToScaled('1.25', 1)).toBe(12n);
    expect(decimalToScaled('1.25', 1, 'half-up')).toBe(13n);
    expect(decimalToScaled('-0.5', 0, 'half-up')).toBe(-1n);
    expect(() => decimalToScaled('1e5', 2)).toThrow();
  });
});

describe('conversions', () => {
  it('values wei in USD, rounded down to cents', () => {
    expect(weiToUsd(10n ** 18n, '3000')).toBe('3000');
    expect(weiToUsd(15n * 10n ** 17n, '2999.999')).toBe('4499.99');
    expect(weiToUsd(1n, '3000')).toBe('0');
  });
  it('values shares at a share price', () => {
    expect(sharesToWei(2n * 10n ** 21n, '1.5')).toBe(3n * 10n ** 18n);
    expect(sharesToWei(10n ** 21n, '0.9995')).toBe(9995n * 10n ** 14n);
  });
  it('computes fractions', () => {
    expect(fraction(1n, 3n)).toBe('0.333333');
    expect(fraction(1n, 0n)).toBe('0');
  });
});
