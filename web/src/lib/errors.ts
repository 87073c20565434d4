// Turns what wallets, nodes and the contract throw into sentences. A custom-error revert is decoded
// against the vault's ABI (which carries every ErrorsLib error) and each error name has a sentence
// with its arguments formatted; a rejected signature is reported as such, never as a failure.
import { BaseError, decodeErrorResult, type Hex } from 'viem';
import { factoringVaultAbi } from '../abi/FactoringVault';
import { formatEth, formatShares } from './money';

export type Described =
  | { kind: 'rejected'; message: string }
  | { kind: 'revert'; name: string; message: string }
  | { kind: 'error'; message: string };

type Args = readonly unknown[];

const big = (v: unknown): bigint => (typeof v === 'bigint' ? v : BigInt(String(v)));
const eth = (v: unknown) => `${formatEth(big(v), 6)} ETH`;
const shares = (v: unknown) => `${formatShares(big(v), 6)} shares`;
const addr = (v: unknown) => {
  const s = String(v);
  return s.length === 42 ? `${s.slice(0, 6)}…${s.slice(-4)}` : s;
};
const bps = (v: unknown) => {
  const b = big(v);
  return `${b / 100n}.${(b % 100n).toString().padStart(2, '0')} %`;
};
const time = (v: unknown) => new Date(Number(big(v)) * 1000).toISOString().replace('.000Z', ' UTC').replace('T', ' ');
const day = (v: unknown) => `${big(v) / 86_400n} days`;
const bytes32 = (v: unknown) => {
  const s = String(v);
  if (!/^0x[0-9a-f]{64}$/i.test(s)) return s;
  // Parameter names are short ASCII in a bytes32 (ParamOutOfBounds).
  const text = (s.slice(2).match(/../g) ?? [])
    .map((h) => parseInt(h, 16))
    .filter((c) => c !== 0)
    .map((c) => String.fromCharCode(c))
    .join('');
  return /^[\x20-\x7e]+$/.test(text) ? text : `${s.slice(0, 10)}…`;
};
const a = (args: Args, i: number) => args[i];

/** One sentence per error name. Arguments come decoded (bigint, address, ...). */
const SENTENCES: Record<string, (args: Args) => string> = {
  // --- generic input
  ZeroAmount: () => 'The amount is zero (or too small to make a single share): enter a larger amount.',
  ZeroAddress: () => 'An address is missing (the zero address was given).',
  PlainEthNotAccepted: (x) =>
    `The vault does not accept plain ETH transfers (${eth(a(x, 1))} from ${addr(a(x, 0))}): use Deposit.`,
  EthTransferFailed: (x) =>
    `Sending ${eth(a(x, 1))} to ${addr(a(x, 0))} failed: the receiving address refused ETH. Claim as WETH instead.`,
  ParamOutOfBounds: (x) =>
    `The parameter ${bytes32(a(x, 0))} = ${String(a(x, 1))} is outside its bounds (${String(a(x, 2))} to ${String(a(x, 3))}).`,
  // --- liquidity and limits
  InsufficientLiquidity: (x) =>
    `The vault can pay out only ${eth(a(x, 1))} right now and ${eth(a(x, 0))} was asked for. Redeem less, or join the redemption queue.`,
  LiquidityReserveBreached: (x) =>
    `This would leave ${eth(a(x, 0))} idle, below the liquidity reserve of ${eth(a(x, 1))}.`,
  UtilisationCapExceeded: (x) => `Utilisation would reach ${bps(a(x, 0))}, above the cap of ${bps(a(x, 1))}.`,
  BusinessExposureExceeded: (x) =>
    `The business ${addr(a(x, 0))} would owe ${eth(a(x, 1))}, above its limit of ${eth(a(x, 2))}.`,
  // --- invoices
  InvalidInvoiceId: () => 'The invoice id is not valid.',
  InvoiceAlreadyFinanced: () => 'This invoice has already been financed.',
  UnknownInvoice: () => 'The vault does not know this invoice.',
  InvoiceNotOutstanding: () => 'This invoice is no longer outstanding (repaid or written off).',
  EmptyBatch: () => 'The batch of invoices is empty.',
  DueDateNotDayAligned: (x) => `The due date ${time(a(x, 0))} is not midnight UTC.`,
  DueDateInPast: (x) => `The due date ${time(a(x, 0))} is already past (now ${time(a(x, 1))}).`,
  TenorTooLong: (x) => `The tenor of ${day(a(x, 0))} is longer than the maximum of ${day(a(x, 1))}.`,
  TenorTooShort: (x) => `The tenor is shorter than the minimum of ${day(a(x, 1))}.`,
  AdvanceTooLarge: (x) => `The advance of ${eth(a(x, 1))} is above the maximum of ${eth(a(x, 2))} per invoice.`,
  FeeTooHigh: (x) => `The fee of ${eth(a(x, 1))} is above the maximum of ${eth(a(x, 2))}.`,
  LateFeeTooHigh: (x) => `The late fee of ${bps(a(x, 1))} a day is above the maximum of ${bps(a(x, 2))}.`,
  NotYetWriteOffable: (x) => `This invoice cannot be written off before ${time(a(x, 1))}.`,
  // --- redemption queue
  UnknownRequest: (x) => `There is no redemption request #${String(a(x, 0))}.`,
  NotRequestOwner: (x) => `Redemption request #${String(a(x, 0))} belongs to another wallet, not ${addr(a(x, 1))}.`,
  NothingToClaim: (x) =>
    `Redemption request #${String(a(x, 0))} has nothing to claim: nothing of it has been filled yet, or it was already claimed.`,
  NothingToCancel: (x) =>
    `Redemption request #${String(a(x, 0))} has nothing left to cancel: it has been filled (claim it) or cancelled already.`,
  // --- strategies
  StrategyNotActive: (x) => `The strategy ${addr(a(x, 0))} is not active.`,
  StrategyAlreadyAdded: (x) => `The strategy ${addr(a(x, 0))} is already added.`,
  StrategyMismatch: (x) => `The strategy ${addr(a(x, 0))} does not belong to this vault.`,
  TooManyStrategies: (x) => `The vault already has the maximum of ${String(a(x, 0))} strategies.`,
  StrategyNotEmpty: (x) => `The strategy ${addr(a(x, 0))} still holds ${eth(a(x, 1))}.`,
  StrategyCapExceeded: (x) => `The strategy ${addr(a(x, 0))} would hold ${eth(a(x, 1))}, above its cap of ${eth(a(x, 2))}.`,
  MoveCapExceeded: (x) => `Moving ${eth(a(x, 0))} is above what the keeper may move now (${eth(a(x, 1))}).`,
  OnlyVault: (x) => `Only the vault may call this (not ${addr(a(x, 0))}).`,
  SlippageExceeded: (x) => `The swap would return ${eth(a(x, 0))}, less than the minimum of ${eth(a(x, 1))}.`,
  // --- oracle
  SequencerDown: () => 'The Base sequencer is down, so prices cannot be trusted: try again once it is back.',
  SequencerGracePeriod: (x) => `The sequencer came back recently; prices are usable from ${time(a(x, 1))}.`,
  StalePrice: (x) => `The price feed ${addr(a(x, 0))} has not updated since ${time(a(x, 1))}: the vault will not use a stale price.`,
  InvalidPrice: (x) => `The price feed ${addr(a(x, 0))} reported an invalid price (${String(a(x, 1))}).`,
  UnknownToken: (x) => `The token ${addr(a(x, 0))} has no price feed.`,
  FeedDecimalsTooHigh: (x) => `The feed ${addr(a(x, 0))} reports ${String(a(x, 1))} decimals, too many.`,
  // --- OpenZeppelin
  EnforcedPause: () => 'The vault is paused: deposits are stopped for now. Redemptions of idle liquidity, queue claims and cancellations still work.',
  ExpectedPause: () => 'The vault is not paused.',
  ERC4626ExceededMaxDeposit: (x) => `The vault accepts at most ${eth(a(x, 2))} now; ${eth(a(x, 1))} was sent.`,
  ERC4626ExceededMaxMint: (x) => `At most ${shares(a(x, 2))} can be minted now; ${shares(a(x, 1))} were asked for.`,
  ERC4626ExceededMaxRedeem: (x) =>
    `Only ${shares(a(x, 2))} can be redeemed instantly now (${shares(a(x, 1))} were asked for): idle liquidity is short. Request a redemption through the queue for the rest.`,
  ERC4626ExceededMaxWithdraw: (x) =>
    `Only ${eth(a(x, 2))} can be withdrawn instantly now (${eth(a(x, 1))} were asked for): idle liquidity is short. Request a redemption through the queue for the rest.`,
  ERC20InsufficientBalance: (x) => `The balance is ${formatAmbiguous(a(x, 1))}, less than the ${formatAmbiguous(a(x, 2))} needed.`,
  ERC20InsufficientAllowance: (x) =>
    `The vault may spend only ${formatAmbiguous(a(x, 1))} of your WETH and needs ${formatAmbiguous(a(x, 2))}: approve it first.`,
  ERC20InvalidReceiver: (x) => `The receiver ${addr(a(x, 0))} is not valid.`,
  ERC20InvalidSender: (x) => `The sender ${addr(a(x, 0))} is not valid.`,
  ERC20InvalidSpender: (x) => `The spender ${addr(a(x, 0))} is not valid.`,
  ERC20InvalidApprover: (x) => `The approver ${addr(a(x, 0))} is not valid.`,
  SafeERC20FailedOperation: (x) => `A token transfer of ${addr(a(x, 0))} failed.`,
  SafeCastOverflowedUintDowncast: () => 'An amount is too large for the vault to record.',
  ReentrancyGuardReentrantCall: () => 'The vault refused a re-entrant call.',
  AccessControlUnauthorizedAccount: (x) => `The wallet ${addr(a(x, 0))} is not allowed to do this.`,
  AccessControlBadConfirmation: () => 'Only the account itself can renounce its role.',
  AccessControlEnforcedDefaultAdminDelay: (x) => `The admin transfer can complete only after ${time(a(x, 0))}.`,
  AccessControlEnforcedDefaultAdminRules: () => 'The admin role can only move through the two-step transfer.',
  AccessControlInvalidDefaultAdmin: (x) => `${addr(a(x, 0))} cannot be the admin.`,
  // --- Solidity built-ins
  Error: (x) => `The contract refused: ${String(a(x, 0))}.`,
  Panic: (x) => `The contract stopped with an internal error (panic code ${String(a(x, 0))}).`,
};

/** ERC-20 amounts in a vault error may be WETH (18 decimals) or shares (21): say both plainly. */
function formatAmbiguous(v: unknown): string {
  const b = big(v);
  // Shares carry 3 more decimals; an amount is shown as ETH when it reads sensibly as ETH.
  return b >= 10n ** 24n ? shares(b) : eth(b);
}

/** The sentence for a decoded custom error. */
export function errorSentence(name: string, args: Args = []): string {
  const sentence = SENTENCES[name];
  if (sentence) {
    try {
      return sentence(args);
    } catch {
      /* fall through to the generic form */
    }
  }
  const shown = args.map((x) => (typeof x === 'bigint' ? x.toString() : String(x))).join(', ');
  return `The contract refused the transaction (${name}${shown ? `: ${shown}` : ''}).`;
}

/** Decodes revert data (selector + arguments) against the vault's ABI. */
export function decodeRevertData(data: Hex): { name: string; args: Args } | undefined {
  if (!/^0x[0-9a-fA-F]{8}/.test(data)) return undefined;
  try {
    const decoded = decodeErrorResult({ abi: factoringVaultAbi, data });
    return { name: decoded.errorName, args: (decoded.args ?? []) as Args };
  } catch {
    return undefined;
  }
}

function isHexData(v: unknown): v is Hex {
  return typeof v === 'string' && /^0x[0-9a-fA-F]{8,}$/.test(v);
}

/** Revert data wherever a provider or viem put it (error.data, error.data.data, error.cause...). */
function findRevertData(err: unknown, depth = 0): Hex | undefined {
  if (!err || typeof err !== 'object' || depth > 8) return undefined;
  const e = err as Record<string, unknown>;
  const d = e.data;
  if (isHexData(d)) return d;
  if (d && typeof d === 'object') {
    const inner = (d as Record<string, unknown>).data;
    if (isHexData(inner)) return inner;
    const raw = (d as Record<string, unknown>).raw;
    if (isHexData(raw)) return raw;
  }
  if (isHexData(e.raw)) return e.raw;
  return findRevertData(e.cause, depth + 1) ?? findRevertData(e.error, depth + 1);
}

function isRejection(err: unknown, depth = 0): boolean {
  if (!err || typeof err !== 'object' || depth > 8) return false;
  const e = err as Record<string, unknown>;
  if (e.code === 4001 || e.name === 'UserRejectedRequestError') return true;
  if (typeof e.message === 'string' && /user (rejected|denied)/i.test(e.message)) return true;
  return isRejection(e.cause, depth + 1) || isRejection(e.error, depth + 1);
}

/** What to tell the user about `err`. */
export function describeError(err: unknown): Described {
  if (isRejection(err)) {
    return { kind: 'rejected', message: 'You declined the request in your wallet; nothing was sent.' };
  }
  // viem already decoded it (a call made with the ABI).
  if (err instanceof BaseError) {
    const reverted = err.walk((e) => (e as { name?: string }).name === 'ContractFunctionRevertedError') as
      | { data?: { errorName: string; args?: Args }; reason?: string }
      | null;
    if (reverted?.data?.errorName) {
      return {
        kind: 'revert',
        name: reverted.data.errorName,
        message: errorSentence(reverted.data.errorName, reverted.data.args ?? []),
      };
    }
  }
  const data = findRevertData(err);
  if (data) {
    const decoded = decodeRevertData(data);
    if (decoded) return { kind: 'revert', name: decoded.name, message: errorSentence(decoded.name, decoded.args) };
    return { kind: 'revert', name: 'unknown', message: `The contract refused the transaction (unknown error ${data.slice(0, 10)}).` };
  }
  if (err instanceof BaseError) {
    if (err.walk((e) => (e as { name?: string }).name === 'InsufficientFundsError')) {
      return { kind: 'error', message: 'Your wallet does not hold enough ETH for this amount plus gas.' };
    }
    return { kind: 'error', message: err.shortMessage };
  }
  if (err instanceof Error) return { kind: 'error', message: err.message };
  return { kind: 'error', message: String(err) };
}
