// A test-only EIP-1193 wallet, installed with page.addInitScript before the app loads and announced
// over EIP-6963, so the app's production connector path is what runs. Requests are forwarded to
// Anvil (its dev accounts are unlocked) through `window.__pipeitRpc`, a binding the test exposes.
// Controls for tests live on `window.__testWallet`: reject the next call of a method (as a user
// would), run a hook before an eth_call whose calldata starts with a selector, change account.
export function installWallet(config) {
  const listeners = new Map();
  let chainId = config.chainId;
  let account = config.account;
  let connected = false;
  const emit = (event, value) => {
    for (const fn of listeners.get(event) ?? []) {
      try {
        fn(value);
      } catch (e) {
        console.error(e);
      }
    }
  };
  const rpcError = (code, message, data) => Object.assign(new Error(message), { code, data });
  const control = {
    reject: [],
    beforeCall: [],
    log: [],
    setAccount(next) {
      account = next;
      emit('accountsChanged', [next]);
    },
  };
  const forward = async (method, params) => {
    const answer = await window.__pipeitRpc(method, params ?? []);
    if (answer.error) throw rpcError(answer.error.code, answer.error.message, answer.error.data);
    return answer.result;
  };
  const provider = {
    isPipeitTestWallet: true,
    async request({ method, params }) {
      control.log.push(method);
      const i = control.reject.indexOf(method);
      if (i >= 0) {
        control.reject.splice(i, 1);
        throw rpcError(4001, 'User rejected the request.');
      }
      switch (method) {
        case 'eth_requestAccounts':
        case 'wallet_requestPermissions':
          connected = true;
          emit('connect', { chainId });
          return method === 'eth_requestAccounts' ? [account] : [{ parentCapability: 'eth_accounts' }];
        case 'eth_accounts':
          return connected ? [account] : [];
        case 'wallet_getPermissions':
          return connected ? [{ parentCapability: 'eth_accounts' }] : [];
        case 'wallet_revokePermissions':
          connected = false;
          return null;
        case 'eth_chainId':
          return chainId;
        case 'net_version':
          return String(parseInt(chainId, 16));
        case 'wallet_switchEthereumChain': {
          const wanted = params[0].chainId;
          if (wanted.toLowerCase() !== config.nodeChainId.toLowerCase()) {
            throw rpcError(4902, `Unrecognized chain ID ${wanted}. Try adding the chain using wallet_addEthereumChain first.`);
          }
          chainId = wanted;
          emit('chainChanged', chainId);
          return null;
        }
        case 'wallet_addEthereumChain':
          chainId = params[0].chainId;
          emit('chainChanged', chainId);
          return null;
        case 'eth_call': {
          const data = (params?.[0]?.data ?? params?.[0]?.input ?? '').toLowerCase();
          const hook = control.beforeCall.findIndex((h) => data.startsWith(h.selector));
          if (hook >= 0) {
            const [h] = control.beforeCall.splice(hook, 1);
            await window.__pipeitHook(h.name, data);
          }
          return forward(method, params);
        }
        default:
          if (chainId.toLowerCase() !== config.nodeChainId.toLowerCase() && method === 'eth_sendTransaction') {
            throw rpcError(4901, 'The wallet is on another chain.');
          }
          return forward(method, params);
      }
    },
    on(event, fn) {
      if (!listeners.has(event)) listeners.set(event, new Set());
      listeners.get(event).add(fn);
      return provider;
    },
    removeListener(event, fn) {
      listeners.get(event)?.delete(fn);
      return provider;
    },
  };
  window.__testWallet = control;
  const info = Object.freeze({
    uuid: '8e5a0c4e-2b0f-4c55-9c3e-7d1e5a2f9b10',
    name: 'Test Wallet',
    icon: "data:image/svg+xml,%3Csvg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 32 32'%3E%3Crect width='32' height='32' rx='8' fill='%23059669'/%3E%3C/svg%3E",
    rdns: 'dev.pipeit.testwallet',
  });
  const announce = () =>
    window.dispatchEvent(new CustomEvent('eip6963:announceProvider', { detail: Object.freeze({ info, provider }) }));
  window.addEventListener('eip6963:requestProvider', announce);
  announce();
}
