// Money is never a JS `number`. Wei and shares are `bigint`; fiat, prices and rates are decimal
// strings handled as scaled bigints. Numbers appear only for chart coordinates (see chart.ts).

/** ETH and WETH: 18 decimals. */
export const ETH_DECIMALS = 18;
/** Vault shares: 18 + a decimals offset of 3. */
export const SHARE_DECIMALS = 21;

/**
 * A wei (or share) amount from the API: a decimal string (the API's format) or, while the API
 * still serves some amounts that way, a 0x-hex string. Anything else throws.
 */
export function parseWei(text: string | null | undefined): bigint {
  if (text === null || text === undefined) throw new Error('missing amount');
  const t = text.trim();
  if (/^-?[0-9]+$/.test(t)) return BigInt(t);
  if (/^0x[0-9a-fA-F]+$/.test(t)) return BigInt(t);
  throw new Error(`not a whole amount: ${JSON.stringify(text)}`);
}

/** Like parseWei, `undefined` for a missing or malformed amount. */
export function tryParseWei(text: string | null | undefined): bigint | undefined {
  try {
    return parseWei(text);
  } catch {
    return undefined;
  }
}

export type Parsed = { ok: true; value: bigint } | { ok: false; error: string };

/**
 * What a person typed, as base units with `decimals` places: "1", "1.5", ".25", "1 000.5" (spaces
 * and thin spaces are dropped). Refuses with a sentence fit to show next to the field.
 */
export function parseAmount(input: string, decimals = ETH_DECIMALS, unit = 'ETH'): Parsed {
  const t = input.replace(/[\s\u202f\u00a0]/g, '');
  if (t === '') return { ok: false, error: 'Enter an amount.' };
  if (t.startsWith('-')) return { ok: false, error: 'The amount cannot be negative.' };
  if (/,/.test(t)) {
    return { ok: false, error: 'Use a point for decimals and no thousands separators, e.g. 1250.5.' };
  }
  const m = /^([0-9]*)(?:\.([0-9]*))?$/.exec(t);
  if (!m || (m[1] === '' && (m[2] ?? '') === '')) {
    return { ok: false, error: `Enter a number of ${unit}, e.g. 1.25.` };
  }
  const whole = m[1] ?? '';
  const frac = m[2] ?? '';
  if (frac.length > decimals) {
    return { ok: false, error: `${unit} has at most ${decimals} decimal places.` };
  }
  const value = BigInt((whole || '0') + frac.padEnd(decimals, '0'));
  if (value === 0n) return { ok: false, error: 'The amount must be greater than zero.' };
  return { ok: true, value };
}

/** Groups the integer digits by thousands with a comma. */
function group(intDigits: string): string {
  return intDigits.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

/** The exact decimal text of `value / 10^decimals` ("-1.5", "0.000001", "12"). */
export function toDecimalString(value: bigint, decimals: number): string {
  const neg = value < 0n;
  const abs = neg ? -value : value;
  const s = abs.toString().padStart(decimals + 1, '0');
  const int = s.slice(0, s.length - decimals);
  const frac = decimals > 0 ? s.slice(s.length - decimals).replace(/0+$/, '') : '';
  return (neg ? '-' : '') + int + (frac ? `.${frac}` : '');
}

export type Rounding = 'down' | 'half-up';

/**
 * A decimal string as an integer scaled by 10^scale ("1.25", 2 → 125n). Extra places are rounded
 * (toward zero by default). Accepts an exponent-free decimal only; throws otherwise.
 */
export function decimalToScaled(text: string, scale: number, rounding: Rounding = 'down'): bigint {
  const m = /^(-?)([0-9]+)(?:\.([0-9]+))?$/.exec(text.trim());
  if (!m) throw new Error(`not a decimal: ${JSON.stringify(text)}`);
  const neg = m[1] === '-';
  const int = m[2] ?? '0';
  const frac = m[3] ?? '';
  let scaled = BigInt(int + frac.slice(0, scale).padEnd(scale, '0'));
  const rest = frac.slice(scale);
  if (rounding === 'half-up' && rest.length > 0 && rest.charCodeAt(0) >= 53 /* '5' */) scaled += 1n;
  return neg ? -scaled : scaled;
}

/**
 * Formats `value / 10^decimals` for people: thousands grouped, at most `maxDecimals` places
 * (rounded half-up), at least `minDecimals`. "<0.000001" when a non-zero value rounds to zero.
 */
export function formatUnitsFixed(
  value: bigint,
  decimals: number,
  maxDecimals: number,
  minDecimals = 0,
): string {
  const neg = value < 0n;
  const abs = neg ? -value : value;
  let scaled: bigint;
  if (maxDecimals >= decimals) {
    scaled = abs * 10n ** BigInt(maxDecimals - decimals);
  } else {
    const div = 10n ** BigInt(decimals - maxDecimals);
    scaled = abs / div;
    if ((abs % div) * 2n >= div) scaled += 1n;
  }
  if (scaled === 0n && abs !== 0n) {
    // A tiny loss reads "-<0.0001" (less than that, lost), as a tiny gain reads "<0.0001".
    return `${neg ? '-<' : '<'}${maxDecimals > 0 ? `0.${'0'.repeat(maxDecimals - 1)}1` : '1'}`;
  }
  const s = scaled.toString().padStart(maxDecimals + 1, '0');
  const int = s.slice(0, s.length - maxDecimals);
  let frac = maxDecimals > 0 ? s.slice(s.length - maxDecimals) : '';
  frac = frac.replace(/0+$/, '');
  if (frac.length < minDecimals) frac = frac.padEnd(minDecimals, '0');
  return (neg && scaled !== 0n ? '-' : '') + group(int) + (frac ? `.${frac}` : '');
}

/** Wei as ETH for display: 4 decimals by default ("1,234.5678"). */
export function formatEth(wei: bigint, maxDecimals = 4): string {
  return formatUnitsFixed(wei, ETH_DECIMALS, maxDecimals);
}

/** Shares (21 decimals) for display. */
export function formatShares(shares: bigint, maxDecimals = 4): string {
  return formatUnitsFixed(shares, SHARE_DECIMALS, maxDecimals);
}

/** The exact ETH value of `wei` (what is copied): "1.000000000000000001". */
export function exactEth(wei: bigint): string {
  return toDecimalString(wei, ETH_DECIMALS);
}

/** A decimal string for display with grouping and between `min` and `max` places. */
export function formatDecimal(text: string, maxDecimals: number, minDecimals = 0): string {
  return formatUnitsFixed(decimalToScaled(text, maxDecimals + 1), maxDecimals + 1, maxDecimals, minDecimals);
}

/** A USD decimal string: "$1,234.56" ("-$3.10"). */
export function formatUsd(text: string): string {
  const s = formatDecimal(text, 2, 2);
  if (s.startsWith('-<')) return `-<$${s.slice(2)}`;
  return s.startsWith('-') ? `-$${s.slice(1)}` : s.startsWith('<') ? `<$${s.slice(1)}` : `$${s}`;
}

/** A fraction ("0.123456") as a percentage: "12.35 %" with `places` decimals. */
export function formatPercent(fraction: string, places = 2): string {
  const scaled = decimalToScaled(fraction, places + 2, 'half-up');
  return `${formatUnitsFixed(scaled, places, places, places)} %`;
}

/** USD value of `wei` at `ethUsd` (decimal string), rounded down to cents, as a decimal string. */
export function weiToUsd(wei: bigint, ethUsd: string): string {
  const price = decimalToScaled(ethUsd, 18); // USD per ETH, 18 places
  const cents = (wei * price) / 10n ** 34n; // wei·price / 10^(18+18) · 10^2
  return toDecimalString(cents, 2);
}

/**
 * ETH per whole share as wei per 10^21 share units. The API gives a decimal string ("1.0002");
 * this is the wei a whole share is worth, rounded down.
 */
export function sharePriceWei(sharePriceEth: string): bigint {
  return decimalToScaled(sharePriceEth, ETH_DECIMALS);
}

/** What `shares` are worth at `sharePriceEth`, wei, rounded down (display estimate). */
export function sharesToWei(shares: bigint, sharePriceEth: string): bigint {
  return (shares * sharePriceWei(sharePriceEth)) / 10n ** BigInt(SHARE_DECIMALS);
}

/** A signed decimal wei string from the API ("-123") as bigint. */
export function parseSignedWei(text: string): bigint {
  return parseWei(text);
}

/** `a / b` as a decimal fraction string with 6 places (rounded down); "0" when b is 0. */
export function fraction(a: bigint, b: bigint): string {
  if (b === 0n) return '0';
  return toDecimalString((a * 1_000_000n) / b, 6);
}
