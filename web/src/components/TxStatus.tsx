import type { TxState } from '../wallet/tx';

const short = (h: string) => `${h.slice(0, 10)}…${h.slice(-6)}`;

/** Where a transaction is: a live region so screen readers hear each step. */
export function TxStatus({ state, what }: { state: TxState; what: string }) {
  let body: React.ReactNode = null;
  let tone = 'info';
  switch (state.step) {
    case 'idle':
      body = null;
      break;
    case 'preparing':
      body = `Preparing ${what}…`;
      break;
    case 'signing':
      body = `${what}: awaiting your signature in the wallet…`;
      break;
    case 'pending':
      body = (
        <>
          {what}: pending, transaction <code title={state.hash}>{short(state.hash)}</code>
        </>
      );
      break;
    case 'mined':
      body = state.indexing ? (
        <>
          {what}: mined (<code title={state.hash}>{short(state.hash)}</code>); updating your position…
        </>
      ) : (
        <>
          {what}: mined (<code title={state.hash}>{short(state.hash)}</code>).
        </>
      );
      tone = state.indexing ? 'info' : 'ok';
      break;
    case 'indexed':
      body = (
        <>
          {what}: done, your position is updated (<code title={state.hash}>{short(state.hash)}</code>).
        </>
      );
      tone = 'ok';
      break;
    case 'rejected':
      body = state.message;
      tone = 'neutral';
      break;
    case 'failed':
      body = state.problem?.fieldErrors.length ? null : state.message;
      tone = 'error';
      break;
  }
  return (
    <div className={`tx-status tone-${tone}`} role={tone === 'error' ? 'alert' : 'status'} aria-live="polite" data-step={state.step}>
      {body}
    </div>
  );
}
