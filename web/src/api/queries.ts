import { useQuery } from '@tanstack/react-query';
import { api, getOptional, unwrap } from './client';
import type {
  HistoryEntry,
  InvoiceBookView,
  PositionView,
  RebalanceView,
  SharePricePoint,
  SignalView,
  VaultView,
} from './types';

export function useVault() {
  return useQuery({
    queryKey: ['vault'],
    queryFn: async (): Promise<VaultView> => unwrap(await api.GET('/v1/vault')) as VaultView,
    refetchInterval: 15_000,
  });
}

/** Share price history; `sinceSeconds` back from now (undefined: the API's default, 30 days; 0: all). */
export function useVaultHistory(range: '30d' | 'all') {
  return useQuery({
    queryKey: ['vault', 'history', range],
    // Plain fetch: the document lists this route's query as path parameters and shares the
    // operationId `history` with /v1/investor/history, so the generated type is the investor's.
    queryFn: async (): Promise<SharePricePoint[]> =>
      (await getOptional<SharePricePoint[]>(
        range === 'all' ? '/v1/vault/history?from=0&limit=1000' : '/v1/vault/history?limit=1000',
      )) ?? [],
    refetchInterval: 60_000,
  });
}

/** Routes the app shows once the API serves them (undefined while it answers 404). */
export function useOptional<T>(path: string) {
  return useQuery({
    queryKey: ['optional', path],
    queryFn: async () => (await getOptional<T>(path)) ?? null,
    refetchInterval: 60_000,
    retry: false,
  });
}

export const useInvoiceBook = () => useOptional<InvoiceBookView>('/v1/vault/book');
export const useSignal = () => useOptional<SignalView>('/v1/vault/signal');
export const useRebalances = () => useOptional<RebalanceView[]>('/v1/vault/rebalances');

export function usePosition(enabled: boolean) {
  return useQuery({
    queryKey: ['investor', 'position'],
    queryFn: async (): Promise<PositionView> => unwrap(await api.GET('/v1/investor/position')),
    enabled,
    refetchInterval: 15_000,
  });
}

export function useHistory(enabled: boolean) {
  return useQuery({
    queryKey: ['investor', 'history'],
    queryFn: async (): Promise<HistoryEntry[]> => unwrap(await api.GET('/v1/investor/history')),
    enabled,
    refetchInterval: 30_000,
  });
}
