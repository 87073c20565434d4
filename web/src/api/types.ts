// The API's shapes as the app uses them: the generated schema, plus fields and routes the app can
// show once the API serves them (each optional, rendered only when present; never invented).
import type { Schemas } from './client';

/** Contract addresses by role (manifest names: vault, weth, oracle_guard, erc4626_strategy, ...). */
export type Contracts = Record<string, string>;

/** Current risk parameters (RiskParams on-chain), as served. */
export interface RiskParamsView {
  max_advance_per_invoice_wei?: string;
  max_exposure_per_business_wei?: string;
  max_utilisation_bps?: number;
  min_idle_bps?: number;
  protocol_fee_bps?: number;
  max_late_fee_bps_per_day?: number;
  max_tenor_seconds?: number;
  grace_period_seconds?: number;
  public_write_off_delay_seconds?: number;
  move_window_seconds?: number;
  move_cap_per_window_wei?: string;
}

export type VaultView = Schemas['VaultView'] & {
  /** Not served yet: see web/README.md, "API fields the app is waiting for". */
  contracts?: Contracts;
  vault_address?: string;
  apy_since_inception?: string | null;
  paused?: boolean;
  risk_params?: RiskParamsView;
  chain_id?: number;
  /** A public RPC URL of the chain, for wallet_addEthereumChain. */
  rpc_url?: string;
};

export type SharePricePoint = Schemas['SharePricePoint'];
export type PositionView = Schemas['PositionView'];
export type HistoryEntry = Schemas['HistoryEntry'] & { timestamp?: number };
export type UnsignedTx = Schemas['UnsignedTx'] & { gas?: string | null };
export type NonceView = Schemas['NonceView'];
export type SessionView = Schemas['SessionView'];

/** GET /v1/vault/book (not served yet): the invoice book without names. */
export interface InvoiceBookView {
  by_status: { status: string; count: number; value_wei: string }[];
  average_tenor_days?: string;
  late_rate?: string;
  default_rate?: string;
  /** Largest payout addresses' share of principal outstanding, largest first (no names). */
  concentration?: { rank: number; share: string }[];
}

/** GET /v1/vault/signal (not served yet): the market signal the keeper acts on. */
export interface SignalView {
  source: string;
  regime?: string;
  score?: string;
  observed_at: string;
  fresh: boolean;
  summary?: string;
}

/** GET /v1/vault/rebalances (not served yet): the keeper's last decisions and why. */
export interface RebalanceView {
  decided_at: string;
  acted: boolean;
  reasons: string[];
  moves?: { strategy: string; direction: string; amount_wei: string }[];
}
