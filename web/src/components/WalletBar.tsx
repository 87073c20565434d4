import { useEffect, useRef, useState } from 'react';
import { useConnect, useConnection, useConnectors, useDisconnect, useSwitchChain } from 'wagmi';
import type { Connector } from 'wagmi';
import { CHAIN, CHAIN_ID, setActiveProvider } from '../wallet/config';
import { describeError } from '../lib/errors';
import type { EIP1193Provider } from 'viem';

/** Keeps the chain transport on the connected wallet's provider. */
export function useActiveProviderSync() {
  const connection = useConnection();
  useEffect(() => {
    let cancelled = false;
    const connector = connection.connector;
    if (connection.status === 'connected' && connector) {
      void connector.getProvider().then((p) => {
        if (!cancelled) setActiveProvider(p as EIP1193Provider);
      });
    } else if (connection.status === 'disconnected') {
      setActiveProvider(undefined);
    }
    return () => {
      cancelled = true;
    };
  }, [connection.status, connection.connector]);
}

/** Wallets to offer: those announced over EIP-6963, or the legacy injected one when none did. */
function offered(connectors: readonly Connector[]): Connector[] {
  const announced = connectors.filter((c) => c.id !== 'injected');
  return announced.length > 0 ? announced : connectors.filter((c) => c.id === 'injected');
}

function WalletPicker({ onClose }: { onClose: () => void }) {
  const ref = useRef<HTMLDialogElement>(null);
  const connectors = useConnectors();
  const connect = useConnect();
  const [error, setError] = useState<string>();
  const list = offered(connectors);

  useEffect(() => {
    const d = ref.current;
    if (d && !d.open) d.showModal();
  }, []);

  return (
    <dialog ref={ref} className="picker" aria-labelledby="picker-title" onClose={onClose} onCancel={onClose}>
      <h2 id="picker-title">Connect a wallet</h2>
      {list.length === 0 ? (
        <p>
          No browser wallet found. Install a wallet extension (MetaMask, Coinbase Wallet, Rabby) or use a browser
          with one built in (Brave), then reload this page.
        </p>
      ) : (
        <ul className="picker-list">
          {list.map((c) => (
            <li key={c.uid}>
              <button
                type="button"
                className="picker-item"
                disabled={connect.isPending}
                onClick={() => {
                  setError(undefined);
                  connect.mutate(
                    { connector: c },
                    {
                      onSuccess: () => ref.current?.close(),
                      onError: (e) => setError(describeError(e).message),
                    },
                  );
                }}
              >
                {c.icon && c.icon.startsWith('data:') ? <img src={c.icon} alt="" width={28} height={28} /> : <span className="icon-fallback" aria-hidden="true">◆</span>}
                <span>{c.id === 'injected' ? 'Browser wallet' : c.name}</span>
              </button>
            </li>
          ))}
        </ul>
      )}
      {connect.isPending ? <p role="status">Waiting for the wallet…</p> : null}
      {error ? <p className="error" role="alert">{error}</p> : null}
      <form method="dialog">
        <button type="submit" className="secondary">
          Cancel
        </button>
      </form>
    </dialog>
  );
}

/** The chain the wallet should be on, with the RPC URL to add it where the API names one. */
export function SwitchChainButton({ rpcUrl }: { rpcUrl?: string }) {
  const switchChain = useSwitchChain();
  const [error, setError] = useState<string>();
  return (
    <span className="switch-chain">
      <button
        type="button"
        disabled={switchChain.isPending}
        onClick={() => {
          setError(undefined);
          switchChain.mutate(
            {
              chainId: CHAIN_ID,
              addEthereumChainParameter: rpcUrl ? { rpcUrls: [rpcUrl], chainName: CHAIN.name } : undefined,
            },
            { onError: (e) => setError(describeError(e).message) },
          );
        }}
      >
        {switchChain.isPending ? 'Switching…' : `Switch to ${CHAIN.name}`}
      </button>
      {error ? <span className="error" role="alert"> {error}</span> : null}
    </span>
  );
}

export function WalletBar() {
  const connection = useConnection();
  const disconnect = useDisconnect();
  const [picking, setPicking] = useState(false);
  useActiveProviderSync();

  if (connection.status !== 'connected') {
    return (
      <div className="wallet-bar">
        <button type="button" onClick={() => setPicking(true)} disabled={connection.status === 'connecting'}>
          {connection.status === 'connecting' || connection.status === 'reconnecting' ? 'Connecting…' : 'Connect wallet'}
        </button>
        {picking ? <WalletPicker onClose={() => setPicking(false)} /> : null}
      </div>
    );
  }
  const a = connection.address;
  return (
    <div className="wallet-bar">
      {connection.chainId !== CHAIN_ID ? <span className="badge warn">Wrong network</span> : null}
      <span className="badge" title={a} aria-label={`Connected wallet ${a}`}>
        {connection.connector?.name ?? 'Wallet'} · {a.slice(0, 6)}…{a.slice(-4)}
      </span>
      <button type="button" className="secondary" onClick={() => disconnect.mutate()}>
        Disconnect
      </button>
    </div>
  );
}
