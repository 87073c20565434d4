// Chain reads through the connected wallet, and the vault's address.
import { useQuery } from '@tanstack/react-query';
import { useConnection, useReadContract, useReadContracts } from 'wagmi';
import { erc20Abi, type Address } from 'viem';
import { factoringVaultAbi } from '../abi/FactoringVault';
import { api, unwrap } from '../api/client';
import { useVault } from '../api/queries';
import { CHAIN_ID } from './config';

/**
 * The vault's address: from GET /v1/vault once it names it (`contracts.vault` / `vault_address`);
 * until then, from the `to` of an unsigned deposit transaction the API builds (signed in only).
 */
export function useVaultAddress(signedIn: boolean): Address | undefined {
  const vault = useVault();
  const named = vault.data?.contracts?.vault ?? vault.data?.vault_address;
  const fallback = useQuery({
    queryKey: ['investor', 'vault-address'],
    enabled: signedIn && vault.isSuccess && !named,
    staleTime: Infinity,
    queryFn: async () => unwrap(await api.POST('/v1/investor/transactions/deposit', { body: { assets_wei: '1' } })).to,
  });
  return (named ?? fallback.data) as Address | undefined;
}

/** Reads the wallet can make on the vault's chain (only when connected to it). */
export function useChainReady(): boolean {
  const c = useConnection();
  return c.status === 'connected' && c.chainId === CHAIN_ID;
}

export function useVaultReads(vault: Address | undefined, account: Address | undefined) {
  const ready = useChainReady() && !!vault && !!account;
  return useReadContracts({
    allowFailure: false,
    contracts: [
      { address: vault, abi: factoringVaultAbi, functionName: 'asset' },
      { address: vault, abi: factoringVaultAbi, functionName: 'maxRedeem', args: [account!] },
      { address: vault, abi: factoringVaultAbi, functionName: 'balanceOf', args: [account!] },
      { address: vault, abi: factoringVaultAbi, functionName: 'maxDeposit', args: [account!] },
      { address: vault, abi: factoringVaultAbi, functionName: 'queueState' },
    ],
    chainId: CHAIN_ID,
    query: { enabled: ready, refetchInterval: 10_000 },
  });
}

export function useErc20(token: Address | undefined, owner: Address | undefined, spender: Address | undefined) {
  const ready = useChainReady() && !!token && !!owner && !!spender;
  return useReadContracts({
    allowFailure: false,
    contracts: [
      { address: token, abi: erc20Abi, functionName: 'balanceOf', args: [owner!] },
      { address: token, abi: erc20Abi, functionName: 'allowance', args: [owner!, spender!] },
    ],
    chainId: CHAIN_ID,
    query: { enabled: ready, refetchInterval: 10_000 },
  });
}

export function usePreview(
  vault: Address | undefined,
  fn: 'previewDeposit' | 'previewRedeem',
  amount: bigint | undefined,
) {
  const ready = useChainReady() && !!vault && amount !== undefined && amount > 0n;
  return useReadContract({
    address: vault,
    abi: factoringVaultAbi,
    functionName: fn,
    args: [amount ?? 0n],
    chainId: CHAIN_ID,
    query: { enabled: ready },
  });
}
