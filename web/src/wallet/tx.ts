// One path for every transaction: preflight (eth_call, so a revert is explained before the wallet
// opens) → awaiting signature → pending (hash) → mined → indexed (the API's history shows it).
import { useCallback, useState } from 'react';
import { useQueryClient } from '@tanstack/react-query';
import { call, estimateGas, sendTransaction, waitForTransactionReceipt } from 'wagmi/actions';
import type { Address, Hex } from 'viem';
import { api } from '../api/client';
import { ApiProblem } from '../api/client';
import { describeError } from '../lib/errors';
import { tryParseWei } from '../lib/money';
import type { UnsignedTx } from '../api/types';
import { CHAIN_ID, wagmiConfig } from './config';

/** Gas limit = estimate × 130 % when the API gives no limit of its own. */
const GAS_MARGIN_PERCENT = 130n;

export interface TxRequest {
  to: Address;
  data: Hex;
  value: bigint;
  /** Gas limit (with margin) when the API gave one. */
  gas?: bigint;
}

export type TxState =
  | { step: 'idle' }
  | { step: 'preparing' }
  | { step: 'signing' }
  | { step: 'pending'; hash: Hex }
  | { step: 'mined'; hash: Hex; indexing: boolean }
  | { step: 'indexed'; hash: Hex }
  | { step: 'rejected'; message: string }
  | { step: 'failed'; message: string; problem?: ApiProblem; hash?: Hex };

/** An API-built transaction as a request for the wallet. */
export function fromUnsigned(tx: UnsignedTx): TxRequest {
  return {
    to: tx.to as Address,
    data: tx.data as Hex,
    value: tryParseWei(tx.value) ?? 0n,
    gas: tx.gas ? tryParseWei(tx.gas) : undefined,
  };
}

async function waitIndexed(hash: Hex, timeoutMs = 90_000): Promise<boolean> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    const { data } = await api.GET('/v1/investor/history');
    if (data?.some((e) => e.tx_hash.toLowerCase() === hash.toLowerCase())) return true;
    await new Promise((r) => setTimeout(r, 1000));
  }
  return false;
}

export function useTx() {
  const [state, setState] = useState<TxState>({ step: 'idle' });
  const queryClient = useQueryClient();

  const run = useCallback(
    async (account: Address, build: () => Promise<TxRequest>, opts: { indexed?: boolean } = {}) => {
      let hash: Hex | undefined;
      try {
        setState({ step: 'preparing' });
        const req = await build();
        // Preflight: a revert is decoded and shown without asking the wallet to sign.
        await call(wagmiConfig, { account, to: req.to, data: req.data, value: req.value, chainId: CHAIN_ID });
        // A gas limit with a margin: state (accrual, the queue) moves between estimate and inclusion.
        const gas =
          req.gas ??
          ((await estimateGas(wagmiConfig, { account, to: req.to, data: req.data, value: req.value, chainId: CHAIN_ID })) *
            GAS_MARGIN_PERCENT) /
            100n;
        setState({ step: 'signing' });
        hash = await sendTransaction(wagmiConfig, {
          account,
          to: req.to,
          data: req.data,
          value: req.value,
          gas,
          chainId: CHAIN_ID,
        });
        setState({ step: 'pending', hash });
        const receipt = await waitForTransactionReceipt(wagmiConfig, { hash, chainId: CHAIN_ID });
        if (receipt.status !== 'success') {
          // Replay at the block it failed in to learn why.
          await call(wagmiConfig, {
            account,
            to: req.to,
            data: req.data,
            value: req.value,
            blockNumber: receipt.blockNumber,
            chainId: CHAIN_ID,
          });
          throw new Error('The transaction was mined but reverted.');
        }
        setState({ step: 'mined', hash, indexing: opts.indexed !== false });
        await queryClient.invalidateQueries();
        if (opts.indexed !== false) {
          const ok = await waitIndexed(hash);
          await queryClient.invalidateQueries();
          if (!ok) {
            setState({ step: 'mined', hash, indexing: false });
            return hash;
          }
          setState({ step: 'indexed', hash });
        } else {
          setState({ step: 'mined', hash, indexing: false });
        }
        return hash;
      } catch (err) {
        if (err instanceof ApiProblem) {
          setState({ step: 'failed', message: err.message, problem: err });
          return undefined;
        }
        const d = describeError(err);
        setState(d.kind === 'rejected' ? { step: 'rejected', message: d.message } : { step: 'failed', message: d.message, hash });
        return undefined;
      }
    },
    [queryClient],
  );

  const reset = useCallback(() => setState({ step: 'idle' }), []);
  const busy =
    state.step === 'preparing' ||
    state.step === 'signing' ||
    state.step === 'pending' ||
    (state.step === 'mined' && state.indexing);
  return { state, run, reset, busy };
}
