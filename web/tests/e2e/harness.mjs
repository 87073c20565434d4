// Shared pieces of the browser tests: the browser, the injected wallet, the chain, axe-core,
// screenshots. Everything is local: Debian's chromium, Anvil, the pipeit service.
import { mkdirSync, readFileSync } from 'node:fs';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { createRequire } from 'node:module';
import { chromium } from 'playwright-core';
import { createPublicClient, createWalletClient, http, parseAbi } from 'viem';
import { installWallet } from './wallet.js';

const require = createRequire(import.meta.url);

export const env = {
  app: process.env.APP_URL ?? 'http://127.0.0.1:4173',
  rpc: process.env.RPC_URL ?? 'http://127.0.0.1:8645',
  manifest: JSON.parse(readFileSync(process.env.MANIFEST ?? '/tmp/webdev/manifest.json', 'utf8')),
  artifacts: process.env.E2E_ARTIFACTS ?? mkdtempSync(join(tmpdir(), 'pipeit-e2e-')),
  chromium: process.env.CHROMIUM ?? '/usr/bin/chromium',
};
mkdirSync(env.artifacts, { recursive: true });

export const vaultAbi = parseAbi([
  'function balanceOf(address) view returns (uint256)',
  'function totalAssets() view returns (uint256)',
  'function queueState() view returns (uint256 head, uint256 nextId, uint256 queuedShares, uint256 claimable)',
  'function redeemRequest(uint256) view returns ((address owner, address receiver, uint128 sharesPending, uint128 assetsClaimable))',
  'function depositETH(address receiver) payable returns (uint256)',
  'function requestRedeem(uint256 shares, address receiver) returns (uint256)',
  'function cancelRequest(uint256 requestId) returns (uint256)',
  'function grantRole(bytes32 role, address account)',
  'function allocate(address strategy, uint256 assets)',
  'function availableLiquidity() view returns (uint256)',
  'function assetBreakdown() view returns (uint256 idle, uint256 principal, uint256 feesAccrued, uint256 feesSettled, uint256 strategyValue)',
  'function strategies() view returns (address[])',
  'function KEEPER_ROLE() view returns (bytes32)',
]);

export const chain = createPublicClient({ transport: http(env.rpc) });
export const vault = env.manifest.contracts.vault;

/** Sends from one of Anvil's unlocked dev accounts and waits for success. */
export async function send(from, request) {
  const wallet = createWalletClient({ transport: http(env.rpc), account: from });
  // A fixed, ample gas limit: estimates can fall short when state moves before inclusion.
  const hash = await wallet.writeContract({ chain: null, gas: 2_000_000n, ...request });
  const receipt = await chain.waitForTransactionReceipt({ hash });
  if (receipt.status !== 'success') throw new Error(`${request.functionName} reverted`);
  return receipt;
}

export async function rpc(method, params = []) {
  const response = await fetch(env.rpc, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }),
  });
  return response.json();
}

export async function api(path, init) {
  const response = await fetch(new URL(path, env.app), init);
  if (!response.ok) throw new Error(`${path}: ${response.status} ${await response.text()}`);
  return response.json();
}

export async function launch() {
  const userDataDir = mkdtempSync(join(tmpdir(), 'pipeit-chromium-'));
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: env.chromium,
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
    viewport: { width: 1280, height: 900 },
    acceptDownloads: true,
    // Dates shown by the app are in the user's zone: fix it so screenshots are comparable.
    timezoneId: 'Europe/Berlin',
    locale: 'en-GB',
  });
  return context;
}

/** A page with the test wallet for `account`, on `chainId` at first (hex). */
export async function walletPage(context, { account, chainId = '0x2105', hooks = {} }) {
  const page = await context.newPage();
  const nodeChainId = (await rpc('eth_chainId')).result;
  await page.exposeFunction('__pipeitRpc', async (method, params) => {
    const answer = await rpc(method, params);
    return answer.error ? { error: answer.error } : { result: answer.result };
  });
  await page.exposeFunction('__pipeitHook', async (name, data) => {
    const hook = hooks[name];
    if (hook) await hook(data);
  });
  await page.addInitScript(installWallet, { account, chainId, nodeChainId });
  page.on('pageerror', (e) => console.error('page error:', e.message));
  page.on('console', (m) => {
    if (m.type() === 'error' || process.env.E2E_CONSOLE) console.error(`console.${m.type()}:`, m.text());
  });
  return page;
}

/** axe-core in the page: the serious and critical violations. */
export async function axe(page) {
  await page.addScriptTag({ path: require.resolve('axe-core/axe.min.js') });
  const result = await page.evaluate(async () => {
    // eslint-disable-next-line no-undef
    const r = await window.axe.run(document, { resultTypes: ['violations'] });
    return r.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map((n) => n.target.join(' ')).slice(0, 5) }));
  });
  return result.filter((v) => v.impact === 'serious' || v.impact === 'critical');
}

/** A desktop and a 375 px screenshot of the page as it is. */
export async function screenshots(page, name) {
  const size = page.viewportSize();
  await page.screenshot({ path: join(env.artifacts, `${name}-desktop.png`), fullPage: true });
  await page.setViewportSize({ width: 375, height: 812 });
  await page.waitForTimeout(300);
  await page.screenshot({ path: join(env.artifacts, `${name}-375.png`), fullPage: true });
  if (size) await page.setViewportSize(size);
  await page.waitForTimeout(200);
}

export function dirOf(file) {
  return dirname(file);
}
