// The web app in a real browser against the real stack (Anvil, pipeit's API and keeper): no mock of
// the API or the chain. Run by scripts/e2e.sh, which starts the stack on free ports.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { formatUnits, parseAbi, parseEther, toFunctionSelector, keccak256, toHex } from 'viem';
import { api, axe, chain, env, launch, rpc, screenshots, send, vault, vaultAbi, walletPage } from './harness.mjs';

const investors = env.manifest.roles.investors;
const INVESTOR = investors[0]; // the account the test wallet holds
const BLOCKER = investors[1]; // queues ahead of the investor so a request stays unfilled
const LIQUIDITY = investors[2]; // brings idle ETH back so the keeper fills the investor's request
const ADMIN = env.manifest.roles.admin;
const HELPER = '0xa0Ee7A142d267C1f36714E4a8F75612F20a79720'; // Anvil account 9, no role in the manifest

const WETH = env.manifest.contracts.weth;
const wethAbi = parseAbi(['function deposit() payable', 'function balanceOf(address) view returns (uint256)']);
const CANCEL = toFunctionSelector('function cancelRequest(uint256)');
const exact = (wei, decimals = 18) => {
  const s = formatUnits(wei, decimals);
  return s.includes('.') ? s.replace(/\.?0+$/, '') : s;
};
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
async function until(what, fn, timeoutMs = 60_000) {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(500);
  }
}

/** Waits for a region's transaction to reach `step`; a failure shows the app's own message. */
async function txStep(region, step, timeoutMs = 90_000) {
  const status = region.locator('.tx-status');
  const end = Date.now() + timeoutMs;
  let last = '';
  for (;;) {
    const now = await status.getAttribute('data-step');
    last = `${now}: ${await status.innerText()}`;
    if (now === step) return;
    if (now === 'failed' || (now === 'rejected' && step !== 'rejected')) throw new Error(`transaction ${last}`);
    if (Date.now() > end) throw new Error(`timed out waiting for ${step}; last ${last}`);
    await sleep(250);
  }
}

let context;
before(async () => {
  // Blocks keep coming, as on Base (2 s there): the indexer counts an event once it is buried under
  // its confirmations, and Anvil alone mines only when a transaction arrives.
  await rpc('evm_setIntervalMining', [1]);
  context = await launch();
});
after(async () => {
  await context?.close();
});

async function checkPublicPage(page, name) {
  const answer = page.waitForResponse((r) => new URL(r.url()).pathname === '/v1/vault' && r.status() === 200);
  await page.goto(new URL('/', env.app).href);
  const v = await (await answer).json();
  await page.getByTestId('total-assets').waitFor();
  // What the page shows is what /v1/vault returned (the exact value sits in each figure's data).
  await until('the page to show the block the API answered at', async () =>
    (await page.getByTestId('block-number').textContent()) === String(v.block_number) ? true : (await page.reload(), false),
  );
  const shown = await page.getByTestId('total-assets').locator('data').getAttribute('value');
  assert.equal(shown, exact(BigInt(v.total_assets_wei)));
  assert.equal(await page.getByTestId('share-price').getAttribute('data-value'), v.share_price_eth);
  assert.equal(await page.getByTestId('queue-length').textContent(), String(v.queue_length));
  // ... and it is the chain's: total assets at that block.
  const onChain = await chain.readContract({ address: vault, abi: vaultAbi, functionName: 'totalAssets', blockNumber: BigInt(v.block_number) });
  assert.equal(BigInt(v.total_assets_wei), onChain);
  await page.getByRole('heading', { name: 'The risks, in plain words' }).waitFor();
  await page.waitForTimeout(500);
  assert.deepEqual(await axe(page), []);
  await screenshots(page, name);
  return v;
}

/** Makes the redemption queue wait: a first request larger than idle liquidity sits at its head. */
async function blockTheQueue() {
  await send(BLOCKER, { address: vault, abi: vaultAbi, functionName: 'depositETH', args: [BLOCKER], value: parseEther('5') });
  // Part of idle goes into the yield strategy (a helper given the keeper role by the admin, so the
  // keeper's own nonces are untouched), leaving idle below what the blocker will ask for.
  const role = await chain.readContract({ address: vault, abi: vaultAbi, functionName: 'KEEPER_ROLE' });
  await send(ADMIN, { address: vault, abi: vaultAbi, functionName: 'grantRole', args: [role, HELPER] });
  const [strategy] = await chain.readContract({ address: vault, abi: vaultAbi, functionName: 'strategies' });
  for (let amount = parseEther('3'); amount >= parseEther('0.25'); amount /= 2n) {
    try {
      await send(HELPER, { address: vault, abi: vaultAbi, functionName: 'allocate', args: [strategy, amount] });
      break;
    } catch {
      /* above the reserve or the move cap: try less */
    }
  }
  const shares = await chain.readContract({ address: vault, abi: vaultAbi, functionName: 'balanceOf', args: [BLOCKER] });
  await send(BLOCKER, { address: vault, abi: vaultAbi, functionName: 'requestRedeem', args: [shares, BLOCKER] });
  const [head, nextId] = await chain.readContract({ address: vault, abi: vaultAbi, functionName: 'queueState' });
  const id = nextId - 1n;
  // The keeper fills what idle allows; the rest waits at the head.
  await until('the keeper to fill the blocker partly', async () => {
    const r = await chain.readContract({ address: vault, abi: vaultAbi, functionName: 'redeemRequest', args: [id] });
    const available = await chain.readContract({ address: vault, abi: vaultAbi, functionName: 'availableLiquidity' });
    return r.assetsClaimable > 0n && r.sharesPending > 0n && available === 0n;
  });
  void head;
  return id;
}

describe('pipeit web app', () => {
  it('public page shows what /v1/vault returns, from the chain', async () => {
    const page = await context.newPage();
    await checkPublicPage(page, 'vault-empty');
    await page.close();
  });

  it('investor journey: connect, switch chain, sign in, deposit, queue, cancel, revert, claim, history, tax, sign out', async (t) => {
    const blocker = await blockTheQueue();
    let hookedRequest;
    const page = await walletPage(context, {
      account: INVESTOR,
      chainId: '0x1', // the wallet starts on another chain
      hooks: {
        // Someone (here: the harness, as the same wallet) cancels the request just before the app's
        // cancel is checked: the contract refuses it, and the app must say why.
        async cancelledElsewhere(data) {
          hookedRequest = BigInt(`0x${data.slice(10, 74)}`);
          await send(INVESTOR, { address: vault, abi: vaultAbi, functionName: 'cancelRequest', args: [hookedRequest] });
        },
      },
    });
    await page.goto(new URL('/invest', env.app).href);
    const balanceOf = () => chain.readContract({ address: vault, abi: vaultAbi, functionName: 'balanceOf', args: [INVESTOR] });

    await t.test('connect through the EIP-6963 picker', async () => {
      await page.getByRole('button', { name: 'Connect wallet' }).click();
      const dialog = page.getByRole('dialog', { name: 'Connect a wallet' });
      await dialog.waitFor();
      assert.deepEqual(await axe(page), []);
      await dialog.getByRole('button', { name: 'Test Wallet' }).click();
      await page.getByRole('heading', { name: 'Wrong network' }).waitFor();
      await screenshots(page, 'invest-wrong-chain');
    });

    await t.test('switch to the vault chain', async () => {
      await page.getByRole('button', { name: /Switch to Base/ }).click();
      await page.getByRole('heading', { name: 'Sign in' }).waitFor();
      assert.deepEqual(await axe(page), []);
      await screenshots(page, 'invest-sign-in');
    });

    await t.test('a declined signature is not an error', async () => {
      await page.evaluate(() => window.__testWallet.reject.push('personal_sign'));
      await page.getByRole('button', { name: 'Sign in with Ethereum' }).click();
      await page.getByText('You declined the request in your wallet; nothing was sent.').waitFor();
      assert.equal(await page.locator('.error[role=alert]').count(), 0);
    });

    await t.test('sign in with Ethereum', async () => {
      await page.getByRole('button', { name: 'Sign in with Ethereum' }).click();
      await page.getByRole('heading', { name: 'Your position' }).waitFor();
      const stored = await page.evaluate(() => JSON.parse(localStorage.getItem('pipeit.session') ?? 'null'));
      assert.equal(stored.address.toLowerCase(), INVESTOR.toLowerCase());
    });

    const deposit = page.getByRole('region', { name: 'Deposit' });
    const redeem = page.getByRole('region', { name: 'Redeem' });
    const requests = page.getByRole('region', { name: 'Your redemption requests' });

    await t.test('a bad amount is explained as it is typed', async () => {
      const amount = deposit.getByLabel('Amount (ETH)');
      await amount.fill('abc');
      await deposit.getByText('Enter a number of ETH, e.g. 1.25.').waitFor();
      await amount.fill('1,5');
      await deposit.getByText(/Use a point for decimals/).waitFor();
      await amount.fill('100000');
      await deposit.getByText(/That is more than your wallet holds/).waitFor();
      assert.equal(await amount.getAttribute('aria-invalid'), 'true');
      await screenshots(page, 'invest-bad-amount');
    });

    await t.test('deposit 1 ETH: the position follows the chain', async () => {
      const before = await balanceOf();
      await deposit.getByLabel('Amount (ETH)').fill('1');
      await deposit.getByText(/You receive about/).waitFor();
      await deposit.getByRole('button', { name: 'Deposit ETH' }).click();
      await txStep(deposit, 'indexed');
      const after = await balanceOf();
      assert.ok(after > before, 'shares minted on-chain');
      await until('the position to show the chain\'s shares', async () =>
        (await page.getByTestId('position-shares').getAttribute('data-value')) === after.toString(),
      );
    });

    await t.test('a declined transaction is not an error', async () => {
      await deposit.getByLabel('Amount (ETH)').fill('0.1');
      await page.evaluate(() => window.__testWallet.reject.push('eth_sendTransaction'));
      await deposit.getByRole('button', { name: 'Deposit ETH' }).click();
      await deposit.locator('[data-step=rejected]').waitFor();
      assert.equal(await deposit.locator('[data-step=rejected]').textContent(), 'You declined the request in your wallet; nothing was sent.');
    });

    await t.test('deposit WETH: approve, then deposit', async () => {
      await send(INVESTOR, { address: WETH, abi: wethAbi, functionName: 'deposit', value: parseEther('1') });
      const before = await balanceOf();
      await deposit.getByText('WETH', { exact: true }).click();
      await deposit.getByText(/^Balance: 1 WETH/).waitFor();
      await deposit.getByLabel('Amount (WETH)').fill('0.5');
      await deposit.getByRole('button', { name: 'Approve and deposit WETH' }).click();
      await txStep(deposit, 'indexed');
      assert.ok((await balanceOf()) > before, 'shares minted for WETH');
      assert.equal(await chain.readContract({ address: WETH, abi: wethAbi, functionName: 'balanceOf', args: [INVESTOR] }), parseEther('0.5'));
      await deposit.getByText('ETH', { exact: true }).click();
    });

    let firstRequest;
    await t.test('request a redemption into the queue, then cancel it', async () => {
      await redeem.getByLabel('Shares to redeem').fill('0.3');
      await redeem.getByRole('note').waitFor(); // nothing is redeemable at once: the queue is offered
      await redeem.getByRole('button', { name: 'Request redemption (queue)' }).click();
      await txStep(redeem, 'indexed');
      const [, nextId] = await chain.readContract({ address: vault, abi: vaultAbi, functionName: 'queueState' });
      firstRequest = nextId - 1n;
      const row = requests.locator(`tr[data-request="${firstRequest}"]`);
      await row.waitFor();
      assert.equal((await page.getByTestId('position-queued').getAttribute('data-value')) !== '0', true);
      assert.deepEqual(await axe(page), []);
      await screenshots(page, 'invest-queued');
      await row.getByRole('button', { name: /^Cancel/ }).click();
      await txStep(requests, 'indexed');
      const r = await chain.readContract({ address: vault, abi: vaultAbi, functionName: 'redeemRequest', args: [firstRequest] });
      assert.equal(r.sharesPending, 0n);
      await row.waitFor({ state: 'detached' });
    });

    await t.test('a reverted transaction is explained in a sentence', async () => {
      await redeem.getByLabel('Shares to redeem').fill('0.2');
      await redeem.getByRole('button', { name: 'Request redemption (queue)' }).click();
      await txStep(redeem, 'indexed');
      const [, nextId] = await chain.readContract({ address: vault, abi: vaultAbi, functionName: 'queueState' });
      const id = nextId - 1n;
      const row = requests.locator(`tr[data-request="${id}"]`);
      await page.evaluate((selector) => window.__testWallet.beforeCall.push({ selector, name: 'cancelledElsewhere' }), CANCEL);
      await row.getByRole('button', { name: /^Cancel/ }).click();
      const alert = requests.locator('[data-step=failed]');
      await alert.waitFor();
      assert.equal(hookedRequest, id);
      assert.match(
        await alert.textContent(),
        new RegExp(`^Redemption request #${id} has nothing left to cancel: it has been filled \\(claim it\\) or cancelled already\\.$`),
      );
      await screenshots(page, 'invest-revert');
    });

    await t.test('the keeper fills a request; claim it in ETH', async () => {
      await redeem.getByLabel('Shares to redeem').fill('0.5');
      await redeem.getByRole('button', { name: 'Request redemption (queue)' }).click();
      await txStep(redeem, 'indexed');
      const [, nextId] = await chain.readContract({ address: vault, abi: vaultAbi, functionName: 'queueState' });
      const id = nextId - 1n;
      // The blocker steps aside and new money arrives: the keeper fills the investor's request.
      await send(BLOCKER, { address: vault, abi: vaultAbi, functionName: 'cancelRequest', args: [blocker] });
      await send(LIQUIDITY, { address: vault, abi: vaultAbi, functionName: 'depositETH', args: [LIQUIDITY], value: parseEther('3') });
      await until('the keeper to fill the request', async () => {
        const r = await chain.readContract({ address: vault, abi: vaultAbi, functionName: 'redeemRequest', args: [id] });
        return r.sharesPending === 0n && r.assetsClaimable > 0n;
      }, 90_000);
      const row = requests.locator(`tr[data-request="${id}"]`);
      const ethBefore = await chain.getBalance({ address: INVESTOR });
      await row.getByRole('button', { name: /^Claim ETH/ }).click({ timeout: 30_000 });
      await txStep(requests, 'indexed');
      const r = await chain.readContract({ address: vault, abi: vaultAbi, functionName: 'redeemRequest', args: [id] });
      assert.equal(r.assetsClaimable, 0n);
      assert.ok((await chain.getBalance({ address: INVESTOR })) > ethBefore - parseEther('0.01'));
    });

    await t.test('history and the tax CSV with Koinly\'s header', async () => {
      const history = page.getByTestId('history');
      await history.locator('tr[data-kind=RedeemClaimed]').waitFor({ timeout: 60_000 });
      assert.ok((await history.locator('tr[data-kind=Deposit]').count()) >= 1);
      assert.ok((await history.locator('tr[data-kind=RedeemCancelled]').count()) >= 2);
      // The tax year is the chain's, never the wall clock's.
      const block = await chain.getBlock();
      const year = String(new Date(Number(block.timestamp) * 1000).getUTCFullYear());
      const tax = page.getByRole('region', { name: 'Tax report' });
      if ((await tax.getByLabel('Year').locator(`option[value="${year}"], option:text-is("${year}")`).count()) > 0) {
        await tax.getByLabel('Year').selectOption(year);
      }
      await tax.getByLabel('Time zone').fill('UTC');
      const download = page.waitForEvent('download');
      await tax.getByRole('button', { name: 'Download CSV' }).click();
      const file = await (await download).path();
      const csv = readFileSync(file, 'utf8');
      assert.equal(csv.split('\n')[0].trim(), 'Date,Sent Amount,Sent Currency,Received Amount,Received Currency,Fee Amount,Fee Currency,Net Worth Amount,Net Worth Currency,Label,Description,TxHash');
      assert.ok(csv.trim().split('\n').length > 1, 'rows for the year');
      assert.deepEqual(await axe(page), []);
      await screenshots(page, 'invest-signed-in');
    });

    await t.test('an API error appears next to its field', async () => {
      const tax = page.getByRole('region', { name: 'Tax report' });
      await tax.getByLabel('Time zone').fill('Mars/Olympus_Mons');
      await tax.getByRole('button', { name: 'Download CSV' }).click();
      await tax.locator('.field-error[role=alert]').waitFor();
      await tax.getByLabel('Time zone').fill('UTC');
    });

    await t.test('sign out', async () => {
      await page.getByRole('button', { name: 'Sign out' }).click();
      await page.getByRole('heading', { name: 'Sign in' }).waitFor();
      assert.equal(await page.evaluate(() => localStorage.getItem('pipeit.session')), null);
    });

    await t.test('another account in the wallet ends the session', async () => {
      await page.getByRole('button', { name: 'Sign in with Ethereum' }).click();
      await page.getByRole('heading', { name: 'Your position' }).waitFor();
      await page.evaluate((a) => window.__testWallet.setAccount(a), LIQUIDITY);
      await page.getByRole('heading', { name: 'Sign in' }).waitFor();
    });
    await page.close();
  });

  it('public page after activity still matches /v1/vault', async () => {
    const page = await context.newPage();
    const v = await checkPublicPage(page, 'vault');
    assert.notEqual(v.total_assets_wei, '0');
    await page.close();
  });

  it('serves the app for any path (history-API fallback)', async () => {
    const page = await context.newPage();
    await page.goto(new URL('/no/such/page', env.app).href);
    await page.getByRole('heading', { name: 'Page not found' }).waitFor();
    await page.close();
    void keccak256;
    void toHex;
    void api;
  });
});
