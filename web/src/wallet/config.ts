// wagmi over the wallets the browser announces (EIP-6963), plus the legacy `window.ethereum` when a
// wallet announces nothing. Every chain read goes through the connected wallet's own provider: the
// app holds no RPC URL. Without a wallet, the app reads the API only.
import { createConfig, custom, injected } from 'wagmi';
import { defineChain, type EIP1193Provider } from 'viem';
import { base } from 'viem/chains';

/**
 * The vault's chain: Base (the devnet runs Anvil with Base's chain id). Without Multicall3: the
 * devnet has none at its canonical address, so reads go one call each (wagmi falls back).
 */
export const CHAIN = defineChain({
  id: base.id,
  name: base.name,
  nativeCurrency: base.nativeCurrency,
  rpcUrls: base.rpcUrls,
  blockExplorers: base.blockExplorers,
});
export const CHAIN_ID = CHAIN.id;

let activeProvider: EIP1193Provider | undefined;

/** The provider of the connected wallet (set by WalletProvider when the connection changes). */
export function setActiveProvider(provider: EIP1193Provider | undefined) {
  activeProvider = provider;
}

export const wagmiConfig = createConfig({
  chains: [CHAIN],
  // EIP-6963 wallets are added by discovery; `injected()` covers a wallet that only sets
  // window.ethereum (the picker hides it when a discovered wallet is the same provider).
  multiInjectedProviderDiscovery: true,
  connectors: [injected({ shimDisconnect: true })],
  transports: {
    [CHAIN.id]: custom({
      async request({ method, params }) {
        if (!activeProvider) throw new Error('Connect a wallet to read from the chain.');
        return activeProvider.request({ method, params } as Parameters<EIP1193Provider['request']>[0]);
      },
    }),
  },
  ssr: false,
});

declare module 'wagmi' {
  interface Register {
    config: typeof wagmiConfig;
  }
}
