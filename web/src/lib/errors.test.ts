import { describe, expect, it } from 'vitest';
import { BaseError, ContractFunctionRevertedError, UserRejectedRequestError, encodeErrorResult } from 'viem';
import { factoringVaultAbi } from '../abi/FactoringVault';
import { decodeRevertData, describeError, errorSentence } from './errors';

const revert = (errorName: string, args: readonly unknown[]) =>
  encodeErrorResult({ abi: factoringVaultAbi, errorName, args } as Parameters<typeof encodeErrorResult>[0]);

describe('error sentences', () => {
  it('formats the arguments of each error', () => {
    expect(errorSentence('InsufficientLiquidity', [2n * 10n ** 18n, 5n * 10n ** 17n])).toBe(
      'The vault can pay out only 0.5 ETH right now and 2 ETH was asked for. Redeem less, or join the redemption queue.',
    );
    expect(errorSentence('NothingToCancel', [3n])).toMatch(/^Redemption request #3 has nothing left to cancel/);
    expect(errorSentence('ERC4626ExceededMaxRedeem', ['0x1111111111111111111111111111111111111111', 2n * 10n ** 21n, 10n ** 21n])).toBe(
      'Only 1 shares can be redeemed instantly now (2 shares were asked for): idle liquidity is short. Request a redemption through the queue for the rest.',
    );
    expect(errorSentence('UtilisationCapExceeded', [9_512n, 9_000n])).toBe(
      'Utilisation would reach 95.12 %, above the cap of 90.00 %.',
    );
    expect(errorSentence('StalePrice', ['0x1111111111111111111111111111111111111111', 1_798_761_600n, 3600n])).toBe(
      'The price feed 0x1111…1111 has not updated since 2027-01-01 00:00:00 UTC: the vault will not use a stale price.',
    );
  });
  it('has a sentence for every custom error in the ABI', () => {
    const sample = (type: string): unknown =>
      type === 'address' ? '0x1111111111111111111111111111111111111111' : type.startsWith('bytes') ? `0x${'00'.repeat(32)}` : 1n;
    for (const e of factoringVaultAbi) {
      if (e.type !== 'error') continue;
      const args = e.inputs.map((i) => sample(i.type));
      expect(errorSentence(e.name, args), e.name).not.toMatch(/^The contract refused the transaction \(/);
    }
  });
  it('falls back to the name for an unknown error', () => {
    expect(errorSentence('Mystery', [1n])).toBe('The contract refused the transaction (Mystery: 1).');
  });
});

describe('decoding reverts', () => {
  it('decodes revert data against the ABI, including ErrorsLib errors of the libraries', () => {
    expect(decodeRevertData(revert('NothingToClaim', [7n]))).toEqual({ name: 'NothingToClaim', args: [7n] });
    expect(decodeRevertData(revert('EnforcedPause', []))).toEqual({ name: 'EnforcedPause', args: [] });
    expect(decodeRevertData('0xdeadbeef')).toBeUndefined();
  });
  it('finds revert data in an RPC error', () => {
    const rpc = { code: 3, message: 'execution reverted', data: revert('NotRequestOwner', [1n, '0x2222222222222222222222222222222222222222']) };
    expect(describeError(rpc)).toEqual({
      kind: 'revert',
      name: 'NotRequestOwner',
      message: 'Redemption request #1 belongs to another wallet, not 0x2222…2222.',
    });
    const nested = new Error('wrapped', { cause: { error: { data: { data: revert('ZeroAmount', []) } } } });
    expect(describeError(nested)).toMatchObject({ kind: 'revert', name: 'ZeroAmount' });
  });
  it('uses what viem decoded', () => {
    const err = new BaseError('call failed', {
      cause: new ContractFunctionRevertedError({
        abi: factoringVaultAbi,
        functionName: 'claim',
        data: revert('NothingToClaim', [2n]),
      }),
    });
    expect(describeError(err)).toMatchObject({ kind: 'revert', name: 'NothingToClaim' });
  });
  it('treats a declined signature as a choice, not a failure', () => {
    expect(describeError(new UserRejectedRequestError(new Error('User rejected the request.')))).toMatchObject({
      kind: 'rejected',
    });
    expect(describeError({ code: 4001, message: 'denied' })).toMatchObject({ kind: 'rejected' });
  });
  it('passes other errors through', () => {
    expect(describeError(new Error('network down'))).toEqual({ kind: 'error', message: 'network down' });
  });
});
