import { useState, type ReactNode } from 'react';
import { useInvoiceBook, useRebalances, useSignal, useVault, useVaultHistory } from '../api/queries';
import type { RiskParamsView, VaultView } from '../api/types';
import { PriceChart } from '../components/Chart';
import { Address, Eth, NotServed, Shares, Stat, Usd, When } from '../components/Values';
import { formatDecimal, formatPercent, fraction, sharesToWei, tryParseWei } from '../lib/money';

// Keys as the manifest names them, in either case style (erc4626Strategy / erc4626_strategy).
const STRATEGY_NAMES: Record<string, string> = {
  erc4626strategy: 'Yield: an ERC-4626 WETH vault',
  uniswapv3swapstrategy: 'USD hedge: ETH sold for USDC on Uniswap V3',
};
const norm = (k: string) => k.replace(/_/g, '').toLowerCase();

function strategyName(address: string, contracts: Record<string, string> | undefined): string {
  for (const [key, value] of Object.entries(contracts ?? {})) {
    if (value.toLowerCase() === address.toLowerCase()) return STRATEGY_NAMES[norm(key)] ?? key;
  }
  return `Strategy ${address.slice(0, 6)}…${address.slice(-4)}`;
}

function Apy({ value, days }: { value: string | null | undefined; days?: number }) {
  if (value === undefined) return <span className="muted">not published yet</span>;
  if (value === null) return <span className="muted">{days ? `needs ${days} days of history` : 'not enough history'}</span>;
  return <span className="num">{formatPercent(value)}</span>;
}

function Breakdown({ v }: { v: VaultView }) {
  const total = tryParseWei(v.total_assets_wei) ?? 0n;
  const idle = tryParseWei(v.idle_wei) ?? 0n;
  const principal = tryParseWei(v.principal_outstanding_wei) ?? 0n;
  const parts: { key: string; label: string; wei: bigint; tone: string }[] = [
    { key: 'idle', label: 'Idle (WETH in the vault)', wei: idle, tone: 'c-idle' },
    { key: 'advanced', label: 'Advanced to businesses (principal outstanding)', wei: principal, tone: 'c-adv' },
  ];
  v.allocations.forEach((a, i) => {
    parts.push({
      key: a.strategy,
      label: strategyName(a.strategy, v.contracts),
      wei: tryParseWei(a.book_wei) ?? 0n,
      tone: `c-s${i % 3}`,
    });
  });
  const known = parts.reduce((s, p) => s + p.wei, 0n);
  const rest = total - known;
  if (rest !== 0n) {
    parts.push({ key: 'rest', label: 'Fees accrued, less fees received early; strategies above or below cost', wei: rest, tone: 'c-rest' });
  }
  const positive = parts.filter((p) => p.wei > 0n);
  return (
    <>
      <div
        className="bar"
        role="img"
        aria-label={
          positive.length > 0
            ? positive.map((p) => `${p.label} ${formatPercent(fraction(p.wei, total), 1)}`).join('; ')
            : 'No assets in the vault yet'
        }
      >
        {total > 0n
          ? positive.map((p) => (
              <span key={p.key} className={`bar-seg ${p.tone}`} style={{ flexGrow: Number((p.wei * 10_000n) / total) }} />
            ))
          : null}
      </div>
      <table className="table">
        <caption className="sr-only">Where the vault's assets are</caption>
        <thead>
          <tr>
            <th scope="col">Part</th>
            <th scope="col" className="r">ETH</th>
            <th scope="col" className="r">Share</th>
          </tr>
        </thead>
        <tbody>
          {parts.map((p) => (
            <tr key={p.key}>
              <th scope="row">
                <span className={`swatch ${p.tone}`} aria-hidden="true" /> {p.label}
              </th>
              <td className="r">
                <Eth wei={p.wei} />
              </td>
              <td className="r num">{total > 0n ? formatPercent(fraction(p.wei, total), 1) : '—'}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {v.allocations.length > 0 ? (
        <p className="muted small">
          Strategies are shown at cost (what was put in); caps:{' '}
          {v.allocations.map((a, i) => (
            <span key={a.strategy}>
              {i > 0 ? '; ' : ''}
              {strategyName(a.strategy, v.contracts)} <Eth wei={tryParseWei(a.cap_wei) ?? 0n} decimals={0} />
            </span>
          ))}
          .
        </p>
      ) : null}
    </>
  );
}

const bps = (n: number | undefined) => (n === undefined ? '—' : `${(n / 100).toFixed(2)} %`);
const days = (s: number | undefined) => (s === undefined ? '—' : `${Math.round(s / 86_400)} days`);
const hours = (s: number | undefined) => (s === undefined ? '—' : s >= 86_400 ? days(s) : `${Math.round(s / 3600)} h`);

function Params({ p }: { p: RiskParamsView }) {
  const weiOf = (s?: string) => (s === undefined ? undefined : tryParseWei(s));
  const rows: [string, ReactNode][] = [
    ['Max advance per invoice', weiOf(p.max_advance_per_invoice_wei) !== undefined ? <Eth wei={weiOf(p.max_advance_per_invoice_wei)!} /> : '—'],
    ['Max principal per payout address', weiOf(p.max_exposure_per_business_wei) !== undefined ? <Eth wei={weiOf(p.max_exposure_per_business_wei)!} /> : '—'],
    ['Utilisation cap', bps(p.max_utilisation_bps)],
    ['Idle liquidity reserve', bps(p.min_idle_bps)],
    ['Protocol fee (share of fees)', bps(p.protocol_fee_bps)],
    ['Max late fee per day', bps(p.max_late_fee_bps_per_day)],
    ['Max tenor', days(p.max_tenor_seconds)],
    ['Grace period before write-off', days(p.grace_period_seconds)],
    ['Further delay before anyone may write off', days(p.public_write_off_delay_seconds)],
    ['Keeper strategy-move window', hours(p.move_window_seconds)],
    ['Keeper strategy moves per window', weiOf(p.move_cap_per_window_wei) !== undefined ? <Eth wei={weiOf(p.move_cap_per_window_wei)!} /> : '—'],
  ];
  return <KeyValueTable caption="Current risk parameters" rows={rows} />;
}

/** Two columns, a label and its value per row (parameters, limits). */
function KeyValueTable({ caption, rows }: { caption: string; rows: [string, ReactNode][] }) {
  return (
    <table className="table">
      <caption className="sr-only">{caption}</caption>
      <tbody>
        {rows.map(([k, val]) => (
          <tr key={k}>
            <th scope="row">{k}</th>
            <td className="r">{val}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

const HARD_LIMITS: [string, string][] = [
  ['Max advance per invoice', '1 wei – 10,000 ETH'],
  ['Max principal outstanding per payout address', '≥ the per-invoice max, ≤ 100,000 ETH'],
  ['Utilisation cap (principal / book value)', '10 % – 95 %'],
  ['Idle liquidity reserve', '1 % – 50 %'],
  ['Fee per invoice', '≤ 25 % of principal'],
  ['Late fee', '≤ 1 % per day'],
  ['Tenor', 'at least 1 day; max tenor 1 – 180 days'],
  ['Grace period / further public write-off delay', '1 – 90 days / 1 – 30 days'],
  ["Keeper's strategy moves per rolling window", 'window 1 h – 7 days, cap ≤ 1,000,000 ETH'],
  ['Per-strategy cap', '≤ 1,000,000 ETH'],
  ['Oracle staleness / sequencer grace', '1 min – 2 days / 10 min – 1 day'],
  ['Admin transfer delay (two steps)', '1 h – 30 days'],
];

function InvoiceBook() {
  const q = useInvoiceBook();
  if (q.isPending) return <p className="muted">Loading…</p>;
  const book = q.data;
  if (!book) return <NotServed what="The invoice book (count and value by status, average tenor, late and default rates, concentration)" />;
  return (
    <>
      <table className="table">
        <caption className="sr-only">Invoices by status</caption>
        <thead>
          <tr>
            <th scope="col">Status</th>
            <th scope="col" className="r">Invoices</th>
            <th scope="col" className="r">Value</th>
          </tr>
        </thead>
        <tbody>
          {book.by_status.map((s) => (
            <tr key={s.status}>
              <th scope="row">{s.status}</th>
              <td className="r num">{s.count}</td>
              <td className="r">
                <Eth wei={tryParseWei(s.value_wei) ?? 0n} />
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <dl className="stats small-stats">
        <Stat label="Average tenor">{book.average_tenor_days ? `${formatDecimal(book.average_tenor_days, 1)} days` : '—'}</Stat>
        <Stat label="Paid late so far">{book.late_rate ? formatPercent(book.late_rate) : '—'}</Stat>
        <Stat label="Written off so far">{book.default_rate ? formatPercent(book.default_rate) : '—'}</Stat>
        <Stat label="Largest payout address">
          {book.concentration?.[0] ? `${formatPercent(book.concentration[0].share)} of principal` : '—'}
        </Stat>
      </dl>
    </>
  );
}

function SignalAndRebalances() {
  const signal = useSignal();
  const rebalances = useRebalances();
  return (
    <>
      <h3>Market signal</h3>
      {signal.isPending ? (
        <p className="muted">Loading…</p>
      ) : signal.data ? (
        <p>
          <strong>{signal.data.regime ?? signal.data.score ?? 'signal'}</strong> from {signal.data.source}, observed{' '}
          <When iso={signal.data.observed_at} />
          {signal.data.fresh ? '' : ' (stale: the keeper holds its position)'}
          {signal.data.summary ? `: ${signal.data.summary}` : '.'}
        </p>
      ) : (
        <NotServed what="The current market signal" />
      )}
      <h3>Last rebalancing decisions</h3>
      {rebalances.isPending ? (
        <p className="muted">Loading…</p>
      ) : rebalances.data ? (
        rebalances.data.length === 0 ? (
          <p className="muted">No decision yet.</p>
        ) : (
          <ul className="decisions">
            {rebalances.data.slice(0, 5).map((r) => (
              <li key={r.decided_at}>
                <When iso={r.decided_at} /> — {r.acted ? 'moved capital' : 'held back'}: {r.reasons.join('; ')}
              </li>
            ))}
          </ul>
        )
      ) : (
        <NotServed what="The keeper's rebalancing decisions with their reasons" />
      )}
    </>
  );
}

export function VaultPage() {
  const vault = useVault();
  const [range, setRange] = useState<'30d' | 'all'>('30d');
  const history = useVaultHistory(range);

  if (vault.isPending) return <p role="status">Loading the vault…</p>;
  if (vault.isError) {
    return (
      <p className="error" role="alert">
        The vault's figures could not be loaded: {vault.error.message}
      </p>
    );
  }
  const v = vault.data;
  const total = tryParseWei(v.total_assets_wei) ?? 0n;
  const queued = tryParseWei(v.queued_shares) ?? 0n;
  const contracts = v.contracts ?? (v.vault_address ? { vault: v.vault_address } : undefined);

  return (
    <div className="page">
      <section aria-labelledby="overview-title" className="card hero">
        <div className="card-head">
          <h1 id="overview-title">The pipeit vault</h1>
          <p className="muted small">
            Figures read from the chain at block <span className="num" data-testid="block-number">{v.block_number}</span>
            {v.paused ? <strong className="badge warn"> Paused</strong> : null}
          </p>
        </div>
        <p className="lead">
          Investors deposit ETH; the vault advances it to businesses against invoices their customers pay in 30–90 days,
          and earns the fees.
        </p>
        <dl className="stats">
          <Stat label="Total assets" hint={<Usd value={v.total_assets_usd} />}>
            <span data-testid="total-assets">
              <Eth wei={total} />
            </span>
          </Stat>
          <Stat label="Share price" hint="ETH per share">
            <span className="num" data-testid="share-price" data-value={v.share_price_eth} title={`${v.share_price_eth} ETH`}>
              {formatDecimal(v.share_price_eth, 6)}
            </span>
          </Stat>
          <Stat label="APY, last 7 days">
            <Apy value={v.apy_7d} days={7} />
          </Stat>
          <Stat label="APY, last 30 days">
            <Apy value={v.apy_30d} days={30} />
          </Stat>
          <Stat label="APY since inception">
            <Apy value={v.apy_since_inception} />
          </Stat>
          <Stat label="Utilisation" hint="principal advanced / total assets">
            <span className="num" data-testid="utilisation">{formatPercent(v.utilisation)}</span>
          </Stat>
          <Stat label="ETH/USD (oracle)">{v.eth_usd ? <Usd value={v.eth_usd} /> : <span className="muted">oracle unavailable</span>}</Stat>
          <Stat label="Available for instant redemptions">
            <Eth wei={tryParseWei(v.available_liquidity_wei) ?? 0n} />
          </Stat>
        </dl>
      </section>

      <section aria-labelledby="chart-title" className="card">
        <div className="card-head">
          <h2 id="chart-title">Share price and total assets</h2>
          <div className="segmented" role="group" aria-label="Period">
            <button type="button" aria-pressed={range === '30d'} onClick={() => setRange('30d')}>
              30 days
            </button>
            <button type="button" aria-pressed={range === 'all'} onClick={() => setRange('all')}>
              All
            </button>
          </div>
        </div>
        {history.isPending ? (
          <p className="muted">Loading…</p>
        ) : history.isError ? (
          <p className="error">The history could not be loaded: {history.error.message}</p>
        ) : (
          <PriceChart points={history.data} />
        )}
      </section>

      <div className="grid-2">
        <section aria-labelledby="split-title" className="card">
          <h2 id="split-title">Where the money is</h2>
          <Breakdown v={v} />
        </section>

        <section aria-labelledby="queue-title" className="card">
          <h2 id="queue-title">Redemption queue</h2>
          <dl className="stats small-stats">
            <Stat label="Requests waiting">
              <span className="num" data-testid="queue-length">{v.queue_length}</span>
            </Stat>
            <Stat label="Shares waiting">
              <Shares shares={queued} />
            </Stat>
            <Stat label="ETH waiting (at today's share price)">
              ≈ <Eth wei={sharesToWei(queued, v.share_price_eth)} />
            </Stat>
          </dl>
          <p className="small">
            Redemptions are paid at once from idle liquidity. When that is short, a request waits in the queue and is filled
            first come, first served at the share price of that moment, as invoices are repaid.
          </p>
        </section>
      </div>

      <section aria-labelledby="book-title" className="card">
        <h2 id="book-title">Invoice book</h2>
        <InvoiceBook />
      </section>

      <section aria-labelledby="signal-title" className="card">
        <h2 id="signal-title">Market signal and rebalancing</h2>
        <SignalAndRebalances />
      </section>

      <div className="grid-2">
        <section aria-labelledby="params-title" className="card">
          <h2 id="params-title">Parameters</h2>
          {v.risk_params ? <Params p={v.risk_params} /> : <NotServed what="The current risk parameters" />}
          <h3>Hard limits</h3>
          <p className="small">Fixed in the contract's code: no parameter can be set outside them, whatever the keeper or admin does.</p>
          <KeyValueTable caption="Hard limits" rows={HARD_LIMITS} />
        </section>

        <section aria-labelledby="contracts-title" className="card">
          <h2 id="contracts-title">Contracts</h2>
          {contracts ? (
            <table className="table">
              <caption className="sr-only">Contract addresses</caption>
              <tbody>
                {Object.entries(contracts).map(([k, a]) => (
                  <tr key={k}>
                    <th scope="row">{k.replace(/_/g, ' ')}</th>
                    <td className="r">
                      <Address value={a} label={k.replace(/_/g, ' ')} />
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          ) : (
            <NotServed what="The contract addresses (vault, WETH, oracle guard)" />
          )}
          {!v.contracts && v.allocations.length > 0 ? (
            <>
              <h3>Strategies</h3>
              <ul className="plain">
                {v.allocations.map((a) => (
                  <li key={a.strategy}>
                    <Address value={a.strategy} label="strategy" />
                  </li>
                ))}
              </ul>
            </>
          ) : null}
        </section>
      </div>

      <section aria-labelledby="risks-title" className="card">
        <h2 id="risks-title">The risks, in plain words</h2>
        <ul className="risks">
          <li>
            <strong>Unpaid invoices.</strong> If a business's customer does not pay, the keeper writes the invoice off after
            the grace period: its principal and unpaid fee leave the vault's assets at once and the share price falls. Money
            recovered later comes back as income.
          </li>
          <li>
            <strong>The hedge.</strong> Part of idle capital may be swapped into USD on Uniswap when the market looks stressed.
            If ETH then rises, the hedge is worth less in ETH than what went in; swaps can cost up to the slippage bound set
            at deployment.
          </li>
          <li>
            <strong>ETH's price.</strong> The vault counts in ETH. Invoices are priced in fiat when advanced, so a fall in
            ETH's price does not change what a business owes in ETH, but your position's value in dollars moves with ETH.
          </li>
          <li>
            <strong>Short liquidity.</strong> Most of the money is lent out. When idle ETH does not cover a redemption, you
            can redeem what is available now and queue the rest; the queue is filled in order as invoices are repaid, at the
            share price of that moment, which may be lower than today's.
          </li>
          <li>
            <strong>Oracles and contracts.</strong> If the price feed is stale or Base's sequencer is down, advances stop and,
            while the hedge holds funds, the vault refuses to price itself until the feed is back. Smart contracts can have
            bugs.
          </li>
        </ul>
      </section>
    </div>
  );
}
