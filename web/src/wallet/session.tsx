// Sign-In with Ethereum (EIP-4361 via viem/siwe) against /v1/auth: the session token is kept
// (localStorage) until it expires or the user signs out; another account in the wallet signs out.
import { createContext, useCallback, useContext, useEffect, useMemo, useState, type ReactNode } from 'react';
import { useConnection, useSignMessage } from 'wagmi';
import { getAddress, type Address } from 'viem';
import { createSiweMessage } from 'viem/siwe';
import { useQueryClient } from '@tanstack/react-query';
import { api, setSessionToken, unwrap } from '../api/client';
import type { NonceView, SessionView } from '../api/types';

const KEY = 'pipeit.session';

export interface Session {
  token: string;
  address: Address;
  expiresAt: string;
}

interface SessionContext {
  session: Session | undefined;
  signIn: () => Promise<void>;
  signOut: () => Promise<void>;
}

const Ctx = createContext<SessionContext | undefined>(undefined);

function load(): Session | undefined {
  try {
    const s = JSON.parse(localStorage.getItem(KEY) ?? 'null') as Session | null;
    if (!s || !s.token || Date.parse(s.expiresAt) <= Date.now()) return undefined;
    return s;
  } catch {
    return undefined;
  }
}

export function SessionProvider({ children }: { children: ReactNode }) {
  const [session, setSession] = useState<Session | undefined>(load);
  const connection = useConnection();
  const { signMessageAsync } = useSignMessage();
  const queryClient = useQueryClient();

  const drop = useCallback(() => {
    localStorage.removeItem(KEY);
    setSessionToken(undefined);
    setSession(undefined);
    queryClient.removeQueries({ queryKey: ['investor'] });
  }, [queryClient]);

  useEffect(() => {
    setSessionToken(session?.token, drop);
  }, [session, drop]);

  const signOut = useCallback(async () => {
    const token = session?.token;
    drop();
    if (token) {
      // Ends the session on the server too (tolerated while the route is not served).
      await fetch('/v1/auth/signout', { method: 'POST', headers: { Authorization: `Bearer ${token}` } }).catch(
        () => undefined,
      );
    }
  }, [session, drop]);

  // Another account (or none) in the wallet: the session is not theirs.
  useEffect(() => {
    if (!session || connection.status === 'reconnecting' || connection.status === 'connecting') return;
    if (connection.status === 'disconnected' || connection.address?.toLowerCase() !== session.address.toLowerCase()) {
      void signOut();
    }
  }, [connection.status, connection.address, session, signOut]);

  // Expiry.
  useEffect(() => {
    if (!session) return;
    const ms = Date.parse(session.expiresAt) - Date.now();
    const t = setTimeout(drop, Math.max(0, Math.min(ms, 2 ** 31 - 1)));
    return () => clearTimeout(t);
  }, [session, drop]);

  const signIn = useCallback(async () => {
    if (connection.status !== 'connected') throw new Error('Connect a wallet first.');
    const address = getAddress(connection.address);
    const nonce: NonceView = unwrap(await api.POST('/v1/auth/nonce'));
    const domain = window.location.host;
    if (nonce.domain !== domain) {
      throw new Error(
        `This service accepts sign-in messages for ${nonce.domain}, but this page is ${domain}: open the app at ${nonce.domain} (the operator sets it with PIPEIT_SIWE_DOMAIN).`,
      );
    }
    const message = createSiweMessage({
      address,
      chainId: nonce.chain_id,
      domain,
      nonce: nonce.nonce,
      uri: window.location.origin,
      version: '1',
      statement: 'Sign in to pipeit to see your position and prepare your transactions.',
      issuedAt: new Date(),
      expirationTime: new Date(nonce.expires_at),
    });
    const signature = await signMessageAsync({ message, account: address });
    const opened: SessionView = unwrap(await api.POST('/v1/auth/siwe', { body: { message, signature } }));
    const next: Session = { token: opened.token, address: getAddress(opened.address), expiresAt: opened.expires_at };
    localStorage.setItem(KEY, JSON.stringify(next));
    setSessionToken(next.token, drop);
    setSession(next);
  }, [connection.status, connection.address, signMessageAsync, drop]);

  const value = useMemo(() => ({ session, signIn, signOut }), [session, signIn, signOut]);
  return <Ctx.Provider value={value}>{children}</Ctx.Provider>;
}

export function useSession(): SessionContext {
  const ctx = useContext(Ctx);
  if (!ctx) throw new Error('useSession outside SessionProvider');
  return ctx;
}
