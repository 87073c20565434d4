import { useState, type ClipboardEvent, type ReactNode } from 'react';
import { exactEth, formatEth, formatShares, formatUsd, toDecimalString, SHARE_DECIMALS } from '../lib/money';

/** Copying a rounded figure copies its exact value. */
function copyExact(exact: string) {
  return (e: ClipboardEvent<HTMLElement>) => {
    e.clipboardData.setData('text/plain', exact);
    e.preventDefault();
  };
}

/** ETH with sensible precision; the exact value on hover and on copy. */
export function Eth({ wei, decimals = 4, unit = true }: { wei: bigint; decimals?: number; unit?: boolean }) {
  const exact = exactEth(wei);
  return (
    <data className="num" value={exact} title={`${exact} ETH`} onCopy={copyExact(exact)}>
      {formatEth(wei, decimals)}
      {unit ? <span className="unit"> ETH</span> : null}
    </data>
  );
}

export function Shares({ shares, decimals = 4 }: { shares: bigint; decimals?: number }) {
  const exact = toDecimalString(shares, SHARE_DECIMALS);
  return (
    <data className="num" value={exact} title={`${exact} shares`} onCopy={copyExact(exact)}>
      {formatShares(shares, decimals)}
      <span className="unit"> shares</span>
    </data>
  );
}

export function Usd({ value }: { value: string | null | undefined }) {
  if (value === null || value === undefined) return <span className="muted">USD price unavailable</span>;
  return (
    <data className="num" value={value} title={`${value} USD`}>
      {formatUsd(value)}
    </data>
  );
}

/** A date in the user's time zone; UTC on hover. */
export function When({ unix, iso }: { unix?: number; iso?: string }) {
  const date = unix !== undefined ? new Date(unix * 1000) : iso ? new Date(iso) : undefined;
  if (!date || Number.isNaN(date.getTime())) return <span className="muted">—</span>;
  const local = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' }).format(date);
  const utc = `${date.toISOString().slice(0, 19).replace('T', ' ')} UTC`;
  return (
    <time dateTime={date.toISOString()} title={utc}>
      {local}
    </time>
  );
}

/** An address shortened, full on hover, with a copy button. */
export function Address({ value, label }: { value: string; label?: string }) {
  const [copied, setCopied] = useState(false);
  const short = value.length === 42 ? `${value.slice(0, 6)}…${value.slice(-4)}` : value;
  return (
    <span className="address">
      <code title={value}>{short}</code>
      <button
        type="button"
        className="link-button"
        aria-label={`Copy ${label ?? 'address'} ${value}`}
        onClick={() => {
          void navigator.clipboard?.writeText(value).then(() => {
            setCopied(true);
            setTimeout(() => setCopied(false), 1500);
          });
        }}
      >
        {copied ? 'Copied' : 'Copy'}
      </button>
    </span>
  );
}

export function Stat({ label, children, hint }: { label: string; children: ReactNode; hint?: ReactNode }) {
  return (
    <div className="stat">
      <dt>{label}</dt>
      <dd>{children}</dd>
      {hint ? <dd className="hint">{hint}</dd> : null}
    </div>
  );
}

export function NotServed({ what }: { what: string }) {
  return <p className="muted not-served">{what}: not published by the API yet.</p>;
}
