// The widget's wallet flows against the real devnet. EVM: an EIP-1193 provider, announced through
// EIP-6963, is injected into the page; behind it a devnet account signs (Hardhat's unlocked
// accounts), so the transfer really lands on chain. TRON: a TronLink-shaped window.tron whose
// tronWeb calls reach the devnet's TronUsdtLike. The injected wallets are the only stand-ins (no
// wallet extension runs headless here); they answer the way EIP-1193 and TronLink's docs say.
'use strict';
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const devnet = require('../../devnet/devnet');
const sg = require('../../../crates/wasm/pkg/node');
const { startHost, WIDGET_DIR } = require('./host');
const { launch } = require('./browser');
const { invoiceStory, DEVNET_USDT } = require('./docs');

const TRANSFER_TOPIC = '0xddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef';
let net;
let host;
let browser;
let devnetDir;

before(async () => {
  assert.ok(fs.existsSync(path.join(WIDGET_DIR, 'stablegate-checkout.js')), 'build the widget first: scripts/build-wasm.sh');
  devnetDir = fs.mkdtempSync(path.join(os.tmpdir(), 'sg-widget-devnet-'));
  [net, host, browser] = await Promise.all([devnet.start({ dir: devnetDir }), startHost(), launch()]);
});

after(async () => {
  await browser?.close();
  await host?.close();
  await net?.stop();
  if (devnetDir) fs.rmSync(devnetDir, { recursive: true, force: true });
});

/**
 * Opens the checkout of scenario `name` with a wallet of account `from` injected.
 * wallet.chainId: the chain the wallet is on at first; refuseSwitch: answer switching with 4902;
 * ignoreSwitch: answer switching with success but stay on the chain (some wallets do);
 * callResult: answer eth_call with this instead of the devnet's answer; beforeAccounts: awaited
 * before eth_requestAccounts answers (the customer taking their time in the wallet); reject: answer eth_sendTransaction with 4001 (the user pressed "Reject"); sendError: answer it
 * with that error instead.
 */
async function openWithWallet(name, wallet) {
  const calls = [];
  let chainId = wallet.chainId ?? '0x7a69';
  const page = await browser.context.newPage();
  await page.exposeFunction('__sgWallet', async (method, params) => {
    calls.push({ method, params });
    switch (method) {
      case 'eth_requestAccounts':
      case 'eth_accounts':
        await wallet.beforeAccounts?.();
        return { result: [wallet.from] };
      case 'eth_chainId':
        return { result: chainId };
      case 'wallet_switchEthereumChain':
        if (wallet.refuseSwitch) return { error: { code: 4902, message: 'Unrecognized chain ID.' } };
        if (wallet.ignoreSwitch) return { result: null };
        chainId = params[0].chainId;
        return { result: null };
      case 'eth_sendTransaction':
        if (wallet.reject) return { error: { code: 4001, message: 'User rejected the request.' } };
        if (wallet.sendError) return { error: wallet.sendError };
        calls.at(-1).result = await net.rpc('eth_sendTransaction', params);
        return { result: calls.at(-1).result };
      case 'eth_call':
        return { result: wallet.callResult ?? await net.rpc('eth_call', params) };
      default:
        return { error: { code: 4200, message: `unsupported method ${method}` } };
    }
  });
  await page.addInitScript(() => {
    const provider = {
      async request({ method, params }) {
        const answer = await window.__sgWallet(method, params ?? []);
        if (answer.error) throw Object.assign(new Error(answer.error.message), { code: answer.error.code });
        return answer.result;
      },
      on() {},
      removeListener() {},
    };
    const info = Object.freeze({
      uuid: '5a1c7a2e-2a8f-4a53-9d0b-3f1e2f5d6c7b',
      name: 'Devnet Wallet',
      icon: 'data:image/svg+xml,%3Csvg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 1 1"%3E%3Crect width="1" height="1" fill="%23f60"/%3E%3C/svg%3E',
      rdns: 'dev.stablegate.devnet-wallet',
    });
    const announce = () => window.dispatchEvent(new CustomEvent('eip6963:announceProvider', { detail: Object.freeze({ info, provider }) }));
    window.addEventListener('eip6963:requestProvider', announce);
    announce();
  });
  await page.goto(`${host.url}/page?s=${name}`);
  const widget = page.locator('stablegate-checkout');
  await widget.and(page.locator('[data-state="new"]')).waitFor();
  return { page, widget, calls };
}

/** Opens scenario `name` (an invoice of `amount` to account 9) with `wallet`, presses its pay button and returns the alert's text. */
async function payAndReadAlert(name, wallet, amount = '1') {
  const story = invoiceStory({ base: host.url, name, recipient: net.accounts[9], amount });
  host.set(name, story.doc());
  const { widget, calls } = await openWithWallet(name, wallet);
  await widget.getByRole('button', { name: 'Pay with Devnet Wallet' }).click();
  const alert = widget.getByRole('alert');
  await alert.waitFor();
  return { widget, calls, text: await alert.innerText() };
}

const balanceOf = async (token, owner) => BigInt(await net.rpc('eth_call', [{ to: token, data: sg.balanceOfCalldata('devnet', owner) }, 'latest']));

test('pays from the wallet: the transfer lands on the devnet with the right token, recipient and amount', async () => {
  const recipient = net.accounts[9];
  const from = net.accounts[1];
  const story = invoiceStory({ base: host.url, name: 'wallet-pay', recipient, amount: '12.34' });
  host.set('wallet-pay', story.doc());
  const before = await balanceOf(DEVNET_USDT, recipient);
  const { widget, calls } = await openWithWallet('wallet-pay', { from, chainId: '0x1' });
  const button = widget.getByRole('button', { name: 'Pay with Devnet Wallet' });
  await button.click();
  await widget.locator('.note', { hasText: 'Sent from your wallet. Waiting for the network to confirm it.' }).waitFor();

  // The wallet was asked to switch from chain 1 to the devnet, and the balance was read first.
  const methods = calls.map((c) => c.method);
  // After switching, the chain is checked again before anything is sent.
  assert.deepEqual(methods, ['eth_requestAccounts', 'eth_chainId', 'wallet_switchEthereumChain', 'eth_chainId', 'eth_call', 'eth_sendTransaction']);
  assert.deepEqual(calls[2].params, [{ chainId: '0x7a69' }]);
  const sent = calls[5].params[0];
  assert.equal(sent.from, from);
  assert.equal(sent.to, DEVNET_USDT);
  assert.equal(sent.value, '0x0');

  // On chain: mined, successful, one Transfer of the registry's token to the invoice's address.
  const receipt = await net.rpc('eth_getTransactionReceipt', [calls[5].result]);
  assert.equal(receipt.status, '0x1');
  const logs = receipt.logs.filter((l) => l.topics[0] === TRANSFER_TOPIC);
  assert.equal(logs.length, 1);
  const transfer = sg.decodeTransferLog('devnet', logs[0]);
  assert.equal(transfer.token, DEVNET_USDT);
  assert.equal(transfer.to.toLowerCase(), recipient.toLowerCase());
  assert.equal(transfer.from.toLowerCase(), from.toLowerCase());
  assert.equal(transfer.amount, '12340000');
  assert.equal(await balanceOf(DEVNET_USDT, recipient), before + 12340000n);
  await widget.page().close();
});

test('after a partial payment the wallet sends exactly what is left', async () => {
  const recipient = net.accounts[13];
  const story = invoiceStory({ base: host.url, name: 'wallet-rest', recipient, amount: '12.34' });
  story.pay('5000000');
  host.set('wallet-rest', story.doc());
  const { widget, calls } = await openWithWallet('wallet-rest', { from: net.accounts[4] });
  await widget.getByRole('button', { name: 'Pay with Devnet Wallet' }).click();
  await widget.locator('.note', { hasText: 'Sent from your wallet. Waiting for the network to confirm it.' }).waitFor();
  const receipt = await net.rpc('eth_getTransactionReceipt', [calls.at(-1).result]);
  const transfer = sg.decodeTransferLog('devnet', receipt.logs.find((l) => l.topics[0] === TRANSFER_TOPIC));
  assert.equal(transfer.amount, '7340000');
  assert.equal(transfer.to.toLowerCase(), recipient.toLowerCase());
  await widget.page().close();
});

test('says plainly when the balance is too low, and sends nothing', async () => {
  // Account 12 never minted any USDT.
  const { widget, calls, text } = await payAndReadAlert('wallet-low', { from: net.accounts[12] }, '12.34');
  assert.equal(text, 'Your wallet holds less than the 12.34 USDT to pay. Top it up or use another wallet.');
  assert.ok(!calls.some((c) => c.method === 'eth_sendTransaction'));
  // The QR path stays.
  assert.ok(await widget.locator('.qr svg').isVisible());
  await widget.page().close();
});

test('a rejection in the wallet becomes a sentence; nothing lands on chain', async () => {
  const from = net.accounts[2];
  const recipient = net.accounts[10];
  const story = invoiceStory({ base: host.url, name: 'wallet-reject', recipient, amount: '3' });
  host.set('wallet-reject', story.doc());
  const { widget, calls } = await openWithWallet('wallet-reject', { from, reject: true });
  await widget.getByRole('button', { name: 'Pay with Devnet Wallet' }).click();
  const alert = widget.getByRole('alert');
  await alert.waitFor();
  assert.equal(await alert.innerText(), 'You cancelled the request in your wallet. Try again, or pay with the QR code.');
  assert.equal(calls.at(-1).method, 'eth_sendTransaction');
  assert.equal(await balanceOf(DEVNET_USDT, recipient), 0n);
  // The button is usable again, and the QR stays.
  assert.ok(await widget.getByRole('button', { name: 'Pay with Devnet Wallet' }).isEnabled());
  assert.ok(await widget.locator('.qr svg').isVisible());
  // Paid by QR afterwards: the old cancellation is not shown next to the payment seen.
  story.pay(story.due);
  host.set('wallet-reject', story.doc({ head: 97 }));
  await widget.and(widget.page().locator('[data-state="processing"]')).waitFor();
  assert.equal(await widget.getByRole('alert').count(), 0);
  await widget.page().close();
});

test('a wallet that cannot switch to the network is told which network to add', async () => {
  const { widget, calls, text } = await payAndReadAlert('wallet-chain', { from: net.accounts[1], chainId: '0x38', refuseSwitch: true });
  assert.equal(text, 'Your wallet could not switch to Local devnet. Add that network to your wallet, or pay with the QR code.');
  assert.ok(!calls.some((c) => c.method === 'eth_sendTransaction' || c.method === 'eth_call'));
  await widget.page().close();
});

test('a wallet that answers the switch but stays on another chain sends nothing', async () => {
  const { widget, calls, text } = await payAndReadAlert('wallet-stay', { from: net.accounts[1], chainId: '0x1', ignoreSwitch: true });
  assert.equal(text, 'Your wallet could not switch to Local devnet. Add that network to your wallet, or pay with the QR code.');
  assert.deepEqual(calls.map((c) => c.method), ['eth_requestAccounts', 'eth_chainId', 'wallet_switchEthereumChain', 'eth_chainId']);
  assert.ok(await widget.locator('.qr svg').isVisible());
  await widget.page().close();
});

test('a balance the wallet cannot read (no token contract on its chain: "0x") is a sentence, and nothing is sent', async () => {
  const { widget, calls, text } = await payAndReadAlert('wallet-nocode', { from: net.accounts[1], callResult: '0x' });
  assert.equal(text, 'Your wallet could not read your USDT balance on Local devnet. Check that it is on Local devnet, or pay with the QR code.');
  assert.ok(!calls.some((c) => c.method === 'eth_sendTransaction'));
  await widget.page().close();
});

test('a payment that arrives while the wallet is open: the wallet sends nothing more', async () => {
  const recipient = net.accounts[14];
  const story = invoiceStory({ base: host.url, name: 'wallet-late', recipient, amount: '2' });
  host.set('wallet-late', story.doc());
  let widget;
  const beforeAccounts = async () => {
    // Meanwhile the customer paid by QR from elsewhere; the widget sees it on its next poll.
    story.pay(story.due);
    host.set('wallet-late', story.doc({ head: 97 }));
    await widget.and(widget.page().locator('[data-state="processing"]')).waitFor({ timeout: 10000 });
  };
  let calls;
  ({ widget, calls } = await openWithWallet('wallet-late', { from: net.accounts[1], beforeAccounts }));
  await widget.getByRole('button', { name: 'Pay with Devnet Wallet' }).click();
  const alert = widget.getByRole('alert');
  await alert.waitFor();
  assert.equal(await alert.innerText(), 'The payment changed while your wallet was open, so nothing was sent. Check the status above.');
  assert.ok(!calls.some((c) => c.method === 'eth_sendTransaction'));
  assert.equal(await balanceOf(DEVNET_USDT, recipient), 0n);
  await widget.page().close();
});

test('the other wallet errors become sentences too: no gas, a request already open, anything else', async () => {
  const story = invoiceStory({ base: host.url, name: 'wallet-errors', recipient: net.accounts[9], amount: '1' });
  host.set('wallet-errors', story.doc());
  const cases = [
    [{ code: -32000, message: 'insufficient funds for gas * price + value' }, 'Your wallet does not hold enough of the network\'s own coin to pay the network fee.'],
    [{ code: -32002, message: 'Request of type eth_sendTransaction already pending' }, 'Your wallet already has a request open. Finish or cancel it there first.'],
    [{ code: -32603, message: 'Internal JSON-RPC error.' }, 'Your wallet could not send the payment. Try again, or pay with the QR code.'],
  ];
  for (const [sendError, sentence] of cases) {
    const { widget } = await openWithWallet('wallet-errors', { from: net.accounts[1], sendError });
    await widget.getByRole('button', { name: 'Pay with Devnet Wallet' }).click();
    const alert = widget.getByRole('alert');
    await alert.waitFor();
    assert.equal(await alert.innerText(), sentence);
    await widget.page().close();
  }
});

test('TRON: a TronLink-shaped wallet pays through tronWeb, and the transfer lands on the devnet TRON token', async () => {
  // FAKE, named as such: TronLink cannot run here. window.tron follows TIP-1193 and its tronWeb
  // the documented `contract().at(token)` / `balanceOf(owner).call()` / `transfer(to, amount)
  // .send({feeLimit})` calls; behind them the devnet's TronUsdtLike (TRON's quirk: transfer
  // returns false) receives a real transaction from a devnet account.
  const network = 'devnet-tron';
  const token = sg.networks().find((n) => n.id === network).tokens[0];
  const tokenHex = sg.parseAddress(network, token.contract).hex;
  const recipient = sg.parseAddress(network, net.accounts[11]).address;
  const payer = sg.parseAddress(network, net.accounts[3]).address;
  const story = invoiceStory({ base: host.url, name: 'tron-pay', network, recipient, amount: '7.5' });
  host.set('tron-pay', story.doc());
  const calls = [];
  const page = await browser.context.newPage();
  await page.exposeFunction('__sgTron', async (call, args) => {
    calls.push({ call, args });
    if (call === 'balanceOf') {
      assert.equal(args[0], token.contract);
      const data = sg.balanceOfCalldata(network, args[1]);
      return BigInt(await net.rpc('eth_call', [{ to: tokenHex, data }, 'latest'])).toString();
    }
    if (call === 'transfer') {
      const [contract, to, amount, options] = args;
      assert.equal(contract, token.contract);
      assert.equal(options.feeLimit, 100_000_000);
      const from = sg.parseAddress(network, payer).hex;
      calls.at(-1).result = await net.rpc('eth_sendTransaction', [{ from, to: tokenHex, data: sg.transferCalldata(network, to, amount) }]);
      return calls.at(-1).result;
    }
    throw new Error(`unexpected call ${call}`);
  });
  await page.addInitScript((owner) => {
    const contract = (address) => ({
      // tronWeb answers with a BigNumber; the widget only calls its toString().
      balanceOf: (who) => ({ call: async () => {
        const units = await window.__sgTron('balanceOf', [address, who]);
        return { toString: () => units };
      } }),
      transfer: (to, amount) => ({ send: (options) => window.__sgTron('transfer', [address, to, String(amount), options]) }),
    });
    window.tron = {
      isTronLink: true,
      request: async ({ method }) => (method === 'eth_requestAccounts' ? [owner] : Promise.reject(Object.assign(new Error('unsupported'), { code: 4200 }))),
      tronWeb: { defaultAddress: { base58: owner }, contract: () => ({ at: async (address) => contract(address) }) },
    };
  }, payer);
  await page.goto(`${host.url}/page?s=tron-pay`);
  const widget = page.locator('stablegate-checkout');
  await widget.and(page.locator('[data-state="new"]')).waitFor();
  await widget.getByRole('button', { name: 'Pay with TronLink' }).click();
  await widget.locator('.note', { hasText: 'Sent from your wallet. Waiting for the network to confirm it.' }).waitFor();
  assert.deepEqual(calls.map((c) => c.call), ['balanceOf', 'transfer']);
  const receipt = await net.rpc('eth_getTransactionReceipt', [calls[1].result]);
  assert.equal(receipt.status, '0x1');
  const transfer = sg.decodeTransferLog(network, receipt.logs.find((l) => l.topics[0] === TRANSFER_TOPIC));
  assert.equal(transfer.token, token.contract);
  assert.equal(transfer.to, recipient);
  assert.equal(transfer.from, payer);
  assert.equal(transfer.amount, '7500000');
  await page.close();
});

test('TRON: a locked TronLink (no account) is told to unlock, and nothing is asked of the token', async () => {
  // FAKE, named as such: a TronLink-shaped window.tron in the state TronLink's docs describe
  // before login: eth_requestAccounts answers with no account, defaultAddress.base58 is false.
  const network = 'devnet-tron';
  const recipient = sg.parseAddress(network, net.accounts[11]).address;
  const story = invoiceStory({ base: host.url, name: 'tron-locked', network, recipient, amount: '1' });
  host.set('tron-locked', story.doc());
  const page = await browser.context.newPage();
  await page.addInitScript(() => {
    window.__tronCalls = [];
    window.tron = {
      isTronLink: true,
      request: async ({ method }) => (method === 'eth_requestAccounts' ? [] : Promise.reject(Object.assign(new Error('unsupported'), { code: 4200 }))),
      tronWeb: { defaultAddress: { base58: false }, contract: () => ({ at: async (address) => {
        window.__tronCalls.push(address);
        return { balanceOf: () => ({ call: async () => { throw new Error('Invalid address provided'); } }) };
      } }) },
    };
  });
  await page.goto(`${host.url}/page?s=tron-locked`);
  const widget = page.locator('stablegate-checkout');
  await widget.and(page.locator('[data-state="new"]')).waitFor();
  await widget.getByRole('button', { name: 'Pay with TronLink' }).click();
  const alert = widget.getByRole('alert');
  await alert.waitFor();
  assert.equal(await alert.innerText(), 'TronLink gave no account. Unlock it, allow this site, and try again, or pay with the QR code.');
  assert.deepEqual(await page.evaluate(() => window.__tronCalls), []);
  await page.close();
});
