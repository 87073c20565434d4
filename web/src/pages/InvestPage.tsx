import { useId, useMemo, useState } from 'react';
import { useBalance, useConnection, useEstimateFeesPerGas, useReadContracts } from 'wagmi';
import { useQuery } from '@tanstack/react-query';
import { getBlock } from 'wagmi/actions';
import { encodeFunctionData, erc20Abi, type Address } from 'viem';
import { factoringVaultAbi } from '../abi/FactoringVault';
import { api, ApiProblem, download, unwrap } from '../api/client';
import { useHistory, usePosition, useVault } from '../api/queries';
import type { HistoryEntry } from '../api/types';
import { TxStatus } from '../components/TxStatus';
import { Eth, Shares, Stat, Usd, When } from '../components/Values';
import { SwitchChainButton } from '../components/WalletBar';
import { describeError } from '../lib/errors';
import {
  ETH_DECIMALS,
  SHARE_DECIMALS,
  exactEth,
  formatEth,
  formatShares,
  parseAmount,
  toDecimalString,
  tryParseWei,
  weiToUsd,
} from '../lib/money';
import { CHAIN_ID, wagmiConfig } from '../wallet/config';
import { useChainReady, useErc20, usePreview, useVaultAddress, useVaultReads } from '../wallet/chain';
import { useSession } from '../wallet/session';
import { fromUnsigned, useTx } from '../wallet/tx';

/** Gas kept aside by the Max button of an ETH deposit. */
const DEPOSIT_GAS = 250_000n;

function FieldError({ id, message }: { id: string; message?: string }) {
  return (
    <p id={id} className="field-error" role={message ? 'alert' : undefined}>
      {message ?? ''}
    </p>
  );
}

/**
 * A decimal amount typed as text (never parsed to a JS number here), with a button that fills it
 * (Max, All); the button is disabled while `fill` is undefined (the limit is not known yet).
 * Hint and error paragraphs are the caller's, at `${id}-hint` and `${id}-err`.
 */
function AmountInput(props: {
  id: string;
  label: string;
  name: string;
  text: string;
  invalid: boolean;
  onType: (value: string) => void;
  fillLabel: string;
  fill: (() => void) | undefined;
}) {
  const { id, label, name, text, invalid, onType, fillLabel, fill } = props;
  return (
    <>
      <label htmlFor={`${id}-amount`}>{label}</label>
      <div className="input-row">
        <input
          id={`${id}-amount`}
          name={name}
          inputMode="decimal"
          autoComplete="off"
          placeholder="0.0"
          value={text}
          aria-invalid={invalid ? true : undefined}
          aria-describedby={`${id}-hint ${id}-err`}
          onChange={(e) => onType(e.target.value)}
        />
        <button type="button" className="secondary" disabled={fill === undefined} onClick={fill}>
          {fillLabel}
        </button>
      </div>
    </>
  );
}

function SignIn() {
  const { signIn } = useSession();
  const [state, setState] = useState<{ busy: boolean; error?: string; note?: string }>({ busy: false });
  return (
    <section className="card narrow" aria-labelledby="signin-title">
      <h2 id="signin-title">Sign in</h2>
      <p>
        Sign a message with your wallet to prove it is yours. Signing is free and sends no transaction; the session lasts
        until it expires or you sign out.
      </p>
      <button
        type="button"
        disabled={state.busy}
        onClick={async () => {
          setState({ busy: true });
          try {
            await signIn();
            setState({ busy: false });
          } catch (e) {
            const d = e instanceof ApiProblem ? { kind: 'error', message: e.message } : describeError(e);
            setState(d.kind === 'rejected' ? { busy: false, note: d.message } : { busy: false, error: d.message });
          }
        }}
      >
        {state.busy ? 'Waiting for your signature…' : 'Sign in with Ethereum'}
      </button>
      {state.note ? <p role="status">{state.note}</p> : null}
      {state.error ? (
        <p className="error" role="alert">
          {state.error}
        </p>
      ) : null}
    </section>
  );
}

function signedWei(text: string | undefined): bigint | undefined {
  return tryParseWei(text);
}

function Position({ ethUsd }: { ethUsd: string | null | undefined }) {
  const position = usePosition(true);
  if (position.isPending) return <p role="status">Loading your position…</p>;
  if (position.isError) return <p className="error">Your position could not be loaded: {position.error.message}</p>;
  const p = position.data;
  const value = tryParseWei(p.value_wei) ?? 0n;
  const basis = tryParseWei(p.cost_basis_wei) ?? 0n;
  const gain = signedWei(p.unrealised_gain_wei) ?? 0n;
  const earned = signedWei(p.yield_since_first_deposit_wei) ?? 0n;
  return (
    <section className="card" aria-labelledby="position-title">
      <h2 id="position-title">Your position</h2>
      <dl className="stats">
        <Stat label="Value" hint={<Usd value={p.value_usd ?? (ethUsd ? weiToUsd(value, ethUsd) : undefined)} />}>
          <span data-testid="position-value">
            <Eth wei={value} />
          </span>
        </Stat>
        <Stat label="Shares in your wallet">
          <span data-testid="position-shares" data-value={p.shares}>
            <Shares shares={tryParseWei(p.shares) ?? 0n} />
          </span>
        </Stat>
        <Stat label="Shares in the queue">
          <span data-testid="position-queued" data-value={p.queued_shares}>
            <Shares shares={tryParseWei(p.queued_shares) ?? 0n} />
          </span>
        </Stat>
        <Stat label="Principal (cost basis)">
          <Eth wei={basis} />
        </Stat>
        <Stat label="Unrealised gain">
          <span className={gain < 0n ? 'neg' : gain > 0n ? 'pos' : ''}>
            <Eth wei={gain} decimals={6} />
          </span>
        </Stat>
        <Stat label="Yield earned since your first deposit">
          <span className={earned < 0n ? 'neg' : earned > 0n ? 'pos' : ''}>
            <Eth wei={earned} decimals={6} />
          </span>
        </Stat>
      </dl>
    </section>
  );
}

function DepositForm({ account, vault, paused }: { account: Address; vault: Address | undefined; paused: boolean }) {
  const id = useId();
  const [mode, setMode] = useState<'ETH' | 'WETH'>('ETH');
  const [text, setText] = useState('');
  const [touched, setTouched] = useState(false);
  const tx = useTx();
  const [what, setWhat] = useState('Deposit');
  const reads = useVaultReads(vault, account);
  const weth = reads.data?.[0] as Address | undefined;
  const erc20 = useErc20(weth, account, vault);
  const balance = useBalance({ address: account, chainId: CHAIN_ID, query: { refetchInterval: 10_000 } });
  const fees = useEstimateFeesPerGas({ chainId: CHAIN_ID });
  const maxDeposit = reads.data?.[3] as bigint | undefined;

  const parsed = parseAmount(text, ETH_DECIMALS, mode);
  const available = mode === 'ETH' ? balance.data?.value : (erc20.data?.[0] as bigint | undefined);
  const allowance = erc20.data?.[1] as bigint | undefined;
  const gasReserve = (fees.data?.maxFeePerGas ?? 0n) * DEPOSIT_GAS;

  let error: string | undefined = parsed.ok ? undefined : parsed.error;
  if (parsed.ok && available !== undefined && parsed.value > available) {
    error = `That is more than your wallet holds (${formatEth(available, 6)} ${mode}).`;
  } else if (parsed.ok && mode === 'ETH' && available !== undefined && parsed.value + gasReserve > available) {
    error = `Keep about ${formatEth(gasReserve, 6)} ETH for gas: at most ${formatEth(available - gasReserve > 0n ? available - gasReserve : 0n, 6)} ETH.`;
  } else if (paused || maxDeposit === 0n) {
    error = 'The vault is paused: deposits are stopped for now.';
  }
  const apiError = tx.state.step === 'failed' ? tx.state.problem?.forField('assets_wei') : undefined;
  const shown = apiError ?? (touched ? error : undefined);
  const preview = usePreview(vault, 'previewDeposit', parsed.ok ? parsed.value : undefined);
  const needsApproval = mode === 'WETH' && parsed.ok && allowance !== undefined && allowance < parsed.value;

  const submit = async () => {
    setTouched(true);
    if (error || !parsed.ok) return;
    const amount = parsed.value;
    setWhat('Deposit');
    if (mode === 'ETH') {
      const done = await tx.run(account, async () =>
        fromUnsigned(unwrap(await api.POST('/v1/investor/transactions/deposit', { body: { assets_wei: amount.toString() } }))),
      );
      if (done) {
        setText('');
        setTouched(false);
      }
      return;
    }
    if (!vault || !weth) return;
    if (needsApproval) {
      setWhat('WETH approval');
      const approved = await tx.run(
        account,
        async () => ({ to: weth, data: encodeFunctionData({ abi: erc20Abi, functionName: 'approve', args: [vault, amount] }), value: 0n }),
        { indexed: false },
      );
      if (!approved) return;
      await erc20.refetch();
    }
    setWhat('Deposit');
    const done = await tx.run(account, async () => ({
      to: vault,
      data: encodeFunctionData({ abi: factoringVaultAbi, functionName: 'deposit', args: [amount, account] }),
      value: 0n,
    }));
    if (done) {
      setText('');
      setTouched(false);
    }
  };

  return (
    <section className="card" aria-labelledby={`${id}-title`}>
      <h2 id={`${id}-title`}>Deposit</h2>
      <form
        noValidate
        onSubmit={(e) => {
          e.preventDefault();
          void submit();
        }}
      >
        <fieldset className="segmented" disabled={tx.busy}>
          <legend className="sr-only">Pay with</legend>
          {(['ETH', 'WETH'] as const).map((m) => (
            <label key={m} className={mode === m ? 'on' : ''}>
              <input
                type="radio"
                name={`${id}-mode`}
                value={m}
                checked={mode === m}
                onChange={() => {
                  setMode(m);
                  void (m === 'ETH' ? balance.refetch() : erc20.refetch());
                }}
              />
              {m}
            </label>
          ))}
        </fieldset>
        <div className="field">
          <AmountInput
            id={id}
            label={`Amount (${mode})`}
            name="amount"
            text={text}
            invalid={!!shown}
            onType={(value) => {
              setText(value);
              setTouched(true);
              if (tx.state.step === 'failed' || tx.state.step === 'rejected' || tx.state.step === 'indexed') tx.reset();
            }}
            fillLabel="Max"
            fill={
              available === undefined
                ? undefined
                : () => {
                    const max = mode === 'ETH' ? (available > gasReserve ? available - gasReserve : 0n) : available;
                    setText(toDecimalString(max, ETH_DECIMALS));
                    setTouched(true);
                  }
            }
          />
          <p id={`${id}-hint`} className="hint">
            Balance: {available !== undefined ? <Eth wei={available} decimals={6} unit={false} /> : '…'} {mode}
            {parsed.ok && preview.data !== undefined ? (
              <>
                {' '}
                · You receive about <Shares shares={preview.data} />
              </>
            ) : null}
          </p>
          <FieldError id={`${id}-err`} message={shown} />
        </div>
        <button type="submit" disabled={tx.busy || !vault}>
          {needsApproval ? `Approve and deposit ${mode}` : `Deposit ${mode}`}
        </button>
        <TxStatus state={tx.state} what={what} />
      </form>
    </section>
  );
}

function RedeemForm({ account, vault, sharePrice }: { account: Address; vault: Address | undefined; sharePrice?: string }) {
  const id = useId();
  const [text, setText] = useState('');
  const [touched, setTouched] = useState(false);
  const tx = useTx();
  const v = useVault();
  const reads = useVaultReads(vault, account);
  const maxNow = reads.data?.[1] as bigint | undefined;
  const held = reads.data?.[2] as bigint | undefined;
  const parsed = parseAmount(text, SHARE_DECIMALS, 'shares');
  const preview = usePreview(vault, 'previewRedeem', parsed.ok ? parsed.value : undefined);
  let error: string | undefined = parsed.ok ? undefined : parsed.error;
  if (parsed.ok && held !== undefined && parsed.value > held) {
    error = `You hold ${formatShares(held, 6)} shares.`;
  }
  const instant = parsed.ok && maxNow !== undefined && parsed.value <= maxNow;
  const apiError = tx.state.step === 'failed' ? tx.state.problem?.forField('shares') : undefined;
  const shown = apiError ?? (touched ? error : undefined);
  const queuedAhead = tryParseWei(v.data?.queued_shares) ?? 0n;
  void sharePrice;

  const send = async (kind: 'redeem' | 'request-redeem') => {
    setTouched(true);
    if (error || !parsed.ok) return;
    const shares = parsed.value.toString();
    const done = await tx.run(account, async () =>
      fromUnsigned(
        unwrap(
          kind === 'redeem'
            ? await api.POST('/v1/investor/transactions/redeem', { body: { shares } })
            : await api.POST('/v1/investor/transactions/request-redeem', { body: { shares } }),
        ),
      ),
    );
    if (done) {
      setText('');
      setTouched(false);
    }
  };

  return (
    <section className="card" aria-labelledby={`${id}-title`}>
      <h2 id={`${id}-title`}>Redeem</h2>
      <form
        noValidate
        onSubmit={(e) => {
          e.preventDefault();
          void send(instant ? 'redeem' : 'request-redeem');
        }}
      >
        <div className="field">
          <AmountInput
            id={id}
            label="Shares to redeem"
            name="shares"
            text={text}
            invalid={!!shown}
            onType={(value) => {
              setText(value);
              setTouched(true);
              if (tx.state.step === 'failed' || tx.state.step === 'rejected' || tx.state.step === 'indexed') tx.reset();
            }}
            fillLabel="All"
            fill={
              held === undefined
                ? undefined
                : () => {
                    setText(toDecimalString(held, SHARE_DECIMALS));
                    setTouched(true);
                  }
            }
          />
          <p id={`${id}-hint`} className="hint">
            Redeemable at once now: {maxNow !== undefined ? <Shares shares={maxNow} /> : '…'}
            {parsed.ok && preview.data !== undefined ? (
              <>
                {' '}
                · worth about <Eth wei={preview.data} decimals={6} /> today
              </>
            ) : null}
          </p>
          <FieldError id={`${id}-err`} message={shown} />
        </div>
        {parsed.ok && !error && !instant && maxNow !== undefined ? (
          <div className="notice" role="note">
            <p>
              Only <Shares shares={maxNow} /> can be redeemed at once: the rest of the vault's ETH is lent to businesses or
              in strategies. You can join the redemption queue instead: your shares are locked, and filled first come,
              first served at the share price of that moment as invoices are repaid.
            </p>
            <p>
              Ahead of you now: <Shares shares={queuedAhead} /> in {v.data?.queue_length ?? '…'} request(s). Principal being
              repaid by businesses: <Eth wei={tryParseWei(v.data?.principal_outstanding_wei) ?? 0n} />. You can cancel
              what is not filled yet.
            </p>
          </div>
        ) : null}
        <div className="actions">
          <button type="button" disabled={tx.busy || !instant} onClick={() => void send('redeem')}>
            Redeem now (ETH)
          </button>
          <button type="button" className={instant ? 'secondary' : ''} disabled={tx.busy} onClick={() => void send('request-redeem')}>
            Request redemption (queue)
          </button>
        </div>
        <TxStatus state={tx.state} what="Redemption" />
      </form>
    </section>
  );
}

interface OpenRequest {
  id: bigint;
  sharesPending: bigint;
  assetsClaimable: bigint;
}

function Requests({ account, vault, history }: { account: Address; vault: Address | undefined; history: HistoryEntry[] }) {
  const ready = useChainReady() && !!vault;
  const tx = useTx();
  const ids = useMemo(() => {
    const set = new Set<string>();
    for (const e of history) {
      if (e.kind === 'RedeemRequested') {
        const f = e.fields as Record<string, unknown>;
        const id = f.requestId ?? f.request_id;
        if (id !== undefined) set.add(String(id));
      }
    }
    return [...set].map((s) => tryParseWei(s)).filter((x): x is bigint => x !== undefined);
  }, [history]);
  const reads = useReadContracts({
    allowFailure: false,
    contracts: [
      { address: vault, abi: factoringVaultAbi, functionName: 'queueState' },
      ...ids.map((id) => ({ address: vault, abi: factoringVaultAbi, functionName: 'redeemRequest' as const, args: [id] as const })),
    ],
    chainId: CHAIN_ID,
    query: { enabled: ready && ids.length > 0, refetchInterval: 5_000 },
  });
  if (ids.length === 0) return null;
  const head = (reads.data?.[0] as readonly bigint[] | undefined)?.[0];
  const open: OpenRequest[] = [];
  reads.data?.slice(1).forEach((r, i) => {
    const req = r as { sharesPending: bigint; assetsClaimable: bigint };
    if (req.sharesPending > 0n || req.assetsClaimable > 0n) {
      open.push({ id: ids[i]!, sharesPending: req.sharesPending, assetsClaimable: req.assetsClaimable });
    }
  });
  const act = (to: Address, fn: 'claim' | 'cancelRequest', id: bigint, asEth = true) =>
    tx.run(account, async () => ({
      to,
      data:
        fn === 'claim'
          ? encodeFunctionData({ abi: factoringVaultAbi, functionName: 'claim', args: [id, asEth] })
          : encodeFunctionData({ abi: factoringVaultAbi, functionName: 'cancelRequest', args: [id] }),
      value: 0n,
    }));
  return (
    <section className="card" aria-labelledby="requests-title">
      <h2 id="requests-title">Your redemption requests</h2>
      {reads.isPending ? (
        <p className="muted">Reading the queue…</p>
      ) : open.length === 0 ? (
        <p className="muted">No open request.</p>
      ) : (
        <div className="table-scroll">
        <table className="table" data-testid="requests">
          <caption className="sr-only">Open redemption requests</caption>
          <thead>
            <tr>
              <th scope="col">Request</th>
              <th scope="col">Place in queue</th>
              <th scope="col" className="r">Shares waiting</th>
              <th scope="col" className="r">Filled, to claim</th>
              <th scope="col">
                <span className="sr-only">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {open.map((r) => (
              <tr key={r.id.toString()} data-request={r.id.toString()}>
                <th scope="row">#{r.id.toString()}</th>
                <td>{r.sharesPending > 0n && head !== undefined ? (r.id >= head ? `${(r.id - head + 1n).toString()}` : 'next') : '—'}</td>
                <td className="r">
                  <Shares shares={r.sharesPending} />
                </td>
                <td className="r">
                  <Eth wei={r.assetsClaimable} decimals={6} />
                </td>
                <td className="actions-cell">
                  {r.assetsClaimable > 0n && vault ? (
                    <>
                      <button type="button" disabled={tx.busy} onClick={() => void act(vault, 'claim', r.id, true)}>
                        Claim ETH<span className="sr-only"> of request {r.id.toString()}</span>
                      </button>
                      <button type="button" className="secondary" disabled={tx.busy} onClick={() => void act(vault, 'claim', r.id, false)}>
                        Claim WETH<span className="sr-only"> of request {r.id.toString()}</span>
                      </button>
                    </>
                  ) : null}
                  {r.sharesPending > 0n && vault ? (
                    <button type="button" className="secondary" disabled={tx.busy} onClick={() => void act(vault, 'cancelRequest', r.id)}>
                      Cancel<span className="sr-only"> request {r.id.toString()}</span>
                    </button>
                  ) : null}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
        </div>
      )}
      <TxStatus state={tx.state} what="Request" />
    </section>
  );
}

const KIND_LABELS: Record<string, string> = {
  Deposit: 'Deposit',
  Withdraw: 'Redemption',
  RedeemRequested: 'Queued redemption',
  RedeemClaimed: 'Claim from the queue',
  RedeemCancelled: 'Cancelled request',
  RedeemFilled: 'Request filled',
};

function useBlockTimes(entries: HistoryEntry[]) {
  const ready = useChainReady();
  const missing = [...new Set(entries.filter((e) => e.timestamp === undefined).map((e) => e.block_number))];
  return useQuery({
    queryKey: ['block-times', missing.join(',')],
    enabled: ready && missing.length > 0,
    staleTime: Infinity,
    queryFn: async () => {
      const out: Record<number, number> = {};
      for (const n of missing) {
        const b = await getBlock(wagmiConfig, { blockNumber: BigInt(n), chainId: CHAIN_ID });
        out[n] = Number(b.timestamp);
      }
      return out;
    },
  });
}

function historyCsv(entries: HistoryEntry[], times: Record<number, number>): string {
  const rows = [['date_utc', 'kind', 'block', 'tx_hash', 'eth', 'shares', 'eth_usd', 'usd']];
  for (const e of entries) {
    const ts = e.timestamp ?? times[e.block_number];
    const wei = tryParseWei(e.assets_wei ?? undefined);
    rows.push([
      ts !== undefined ? new Date(ts * 1000).toISOString() : '',
      e.kind,
      String(e.block_number),
      e.tx_hash,
      wei !== undefined ? exactEth(wei) : '',
      e.shares ? toDecimalString(tryParseWei(e.shares) ?? 0n, SHARE_DECIMALS) : '',
      e.eth_usd ?? '',
      wei !== undefined && e.eth_usd ? weiToUsd(wei, e.eth_usd) : '',
    ]);
  }
  return rows.map((r) => r.map((c) => (/[",\n]/.test(c) ? `"${c.replace(/"/g, '""')}"` : c)).join(',')).join('\n') + '\n';
}

function saveBlob(blob: Blob, filename: string) {
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = filename;
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

function History({ entries }: { entries: HistoryEntry[] }) {
  const times = useBlockTimes(entries);
  const t = times.data ?? {};
  return (
    <section className="card" aria-labelledby="history-title">
      <div className="card-head">
        <h2 id="history-title">History</h2>
        <button
          type="button"
          className="secondary"
          disabled={entries.length === 0}
          onClick={() => saveBlob(new Blob([historyCsv(entries, t)], { type: 'text/csv' }), 'pipeit-history.csv')}
        >
          Download CSV
        </button>
      </div>
      {entries.length === 0 ? (
        <p className="muted">Nothing yet: your deposits, redemptions and claims appear here.</p>
      ) : (
        <div className="table-scroll">
          <table className="table" data-testid="history">
            <caption className="sr-only">Your transactions with the vault</caption>
            <thead>
              <tr>
                <th scope="col">When</th>
                <th scope="col">What</th>
                <th scope="col" className="r">ETH</th>
                <th scope="col" className="r">Shares</th>
                <th scope="col" className="r">ETH/USD then</th>
                <th scope="col" className="r">USD then</th>
              </tr>
            </thead>
            <tbody>
              {[...entries].reverse().map((e) => {
                const wei = tryParseWei(e.assets_wei ?? undefined);
                const ts = e.timestamp ?? t[e.block_number];
                return (
                  <tr key={`${e.tx_hash}-${e.kind}`} data-kind={e.kind}>
                    <td>{ts !== undefined ? <When unix={ts} /> : `block ${e.block_number}`}</td>
                    <td>
                      <span title={e.tx_hash}>{KIND_LABELS[e.kind] ?? e.kind}</span>
                    </td>
                    <td className="r">{wei !== undefined ? <Eth wei={wei} decimals={6} unit={false} /> : '—'}</td>
                    <td className="r">{e.shares ? formatShares(tryParseWei(e.shares) ?? 0n, 6) : '—'}</td>
                    <td className="r">{e.eth_usd ? <Usd value={e.eth_usd} /> : '—'}</td>
                    <td className="r">{wei !== undefined && e.eth_usd ? <Usd value={weiToUsd(wei, e.eth_usd)} /> : '—'}</td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}

function TaxReport() {
  const id = useId();
  const thisYear = new Date().getUTCFullYear();
  const [year, setYear] = useState(String(thisYear));
  const [method, setMethod] = useState('fifo');
  const [format, setFormat] = useState('koinly');
  const [tz, setTz] = useState(() => Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC');
  const [state, setState] = useState<{ busy: boolean; problem?: ApiProblem; error?: string; done?: string }>({ busy: false });
  const err = (f: string) => state.problem?.forField(f);
  const years = Array.from({ length: 6 }, (_, i) => String(thisYear - i));
  return (
    <section className="card" aria-labelledby={`${id}-title`}>
      <h2 id={`${id}-title`}>Tax report</h2>
      <form
        className="tax-form"
        onSubmit={async (e) => {
          e.preventDefault();
          setState({ busy: true });
          try {
            const q = new URLSearchParams({ year, method, format, tz });
            const { blob, filename } = await download(`/v1/investor/tax?${q.toString()}`);
            saveBlob(blob, filename);
            setState({ busy: false, done: `Downloaded ${filename}.` });
          } catch (x) {
            if (x instanceof ApiProblem) {
              setState({ busy: false, problem: x, error: x.fieldErrors.length ? undefined : x.message });
            } else setState({ busy: false, error: describeError(x).message });
          }
        }}
      >
        <div className="field">
          <label htmlFor={`${id}-year`}>Year</label>
          <select id={`${id}-year`} name="year" value={year} onChange={(e) => setYear(e.target.value)} aria-describedby={`${id}-year-err`}>
            {years.map((y) => (
              <option key={y}>{y}</option>
            ))}
          </select>
          <FieldError id={`${id}-year-err`} message={err('year')} />
        </div>
        <div className="field">
          <label htmlFor={`${id}-method`}>Cost basis method</label>
          <select id={`${id}-method`} name="method" value={method} onChange={(e) => setMethod(e.target.value)} aria-describedby={`${id}-method-err`}>
            <option value="fifo">First in, first out (FIFO)</option>
            <option value="lifo">Last in, first out (LIFO)</option>
            <option value="hifo">Highest cost first (HIFO)</option>
          </select>
          <FieldError id={`${id}-method-err`} message={err('method')} />
        </div>
        <div className="field">
          <label htmlFor={`${id}-format`}>Format</label>
          <select id={`${id}-format`} name="format" value={format} onChange={(e) => setFormat(e.target.value)} aria-describedby={`${id}-format-err`}>
            <option value="koinly">Koinly</option>
            <option value="8949">IRS Form 8949</option>
            <option value="ledger">Ledger (every event)</option>
          </select>
          <FieldError id={`${id}-format-err`} message={err('format')} />
        </div>
        <div className="field">
          <label htmlFor={`${id}-tz`}>Time zone</label>
          <input id={`${id}-tz`} name="tz" value={tz} onChange={(e) => setTz(e.target.value)} aria-describedby={`${id}-tz-err`} />
          <FieldError id={`${id}-tz-err`} message={err('tz')} />
        </div>
        <button type="submit" disabled={state.busy}>
          {state.busy ? 'Preparing…' : 'Download CSV'}
        </button>
        {state.done ? <p role="status">{state.done}</p> : null}
        {state.error ? (
          <p className="error" role="alert">
            {state.error}
          </p>
        ) : null}
      </form>
    </section>
  );
}

export function InvestPage() {
  const connection = useConnection();
  const { session, signOut } = useSession();
  const vault = useVault();
  const signedIn = !!session && connection.status === 'connected';
  const vaultAddress = useVaultAddress(signedIn);
  const history = useHistory(signedIn);

  if (connection.status !== 'connected') {
    return (
      <section className="card narrow" aria-labelledby="invest-title">
        <h1 id="invest-title">Invest</h1>
        <p>Connect a wallet to deposit ETH into the vault, follow your position and redeem. Use “Connect wallet” at the top of the page.</p>
      </section>
    );
  }
  if (connection.chainId !== CHAIN_ID) {
    return (
      <section className="card narrow" aria-labelledby="chain-title">
        <h1 id="chain-title">Wrong network</h1>
        <p>The vault lives on Base (chain {CHAIN_ID}); your wallet is on chain {connection.chainId}.</p>
        <SwitchChainButton rpcUrl={vault.data?.rpc_url} />
      </section>
    );
  }
  if (!session) return <SignIn />;

  return (
    <div className="page">
      <div className="page-head">
        <h1>Invest</h1>
        <button type="button" className="secondary" onClick={() => void signOut()}>
          Sign out
        </button>
      </div>
      <Position ethUsd={vault.data?.eth_usd} />
      <div className="grid-2">
        <DepositForm account={connection.address} vault={vaultAddress} paused={vault.data?.paused === true} />
        <RedeemForm account={connection.address} vault={vaultAddress} sharePrice={vault.data?.share_price_eth} />
      </div>
      <Requests account={connection.address} vault={vaultAddress} history={history.data ?? []} />
      <History entries={history.data ?? []} />
      <TaxReport />
    </div>
  );
}
