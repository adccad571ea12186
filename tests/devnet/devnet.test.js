"use strict";
// node --test tests/devnet/
// Starts a real Hardhat devnet (own state dir, so a CLI-started devnet is not
// touched), checks the token quirks and eth_getLogs OR filters, runs pay.js as
// a CLI, and proves the node process is gone after `after()`.

const { describe, test, before, after } = require("node:test");
const assert = require("node:assert/strict");
const fs = require("node:fs");
const path = require("node:path");
const { execFile } = require("node:child_process");

const devnet = require("./devnet");
const { call, addressTopic, padWord } = require("./rpc");
const { pay } = require("./pay");

const { TOKENS, TRANSFER_TOPIC, SELECTORS } = devnet;
const PAY_CLI = path.join(__dirname, "pay.js");
const STATE_DIR = path.join(__dirname, ".state", `test-${process.pid}`);

// Fresh recipients that hold nothing yet.
const R1 = "0x1000000000000000000000000000000000000001";
const R2 = "0x2000000000000000000000000000000000000002";
const R3 = "0x3000000000000000000000000000000000000003";

let net;
let pid;

function runCli(args) {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, args, { timeout: 20000 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${args.join(" ")} failed: ${err.message}\n${stderr}`));
      else resolve(stdout);
    });
  });
}

async function balanceOf(token, who) {
  return BigInt(await net.rpc("eth_call", [{ to: token, data: SELECTORS.balanceOf + padWord(who) }, "latest"]));
}

function transferData(to, amount) {
  return SELECTORS.transfer + padWord(to) + padWord(BigInt(amount).toString(16));
}

describe("devnet", () => {
  before(async () => {
    net = await devnet.start({ dir: STATE_DIR });
    pid = net.pid;
  });

  after(async () => {
    if (net) await net.stop();
    fs.rmSync(STATE_DIR, { recursive: true, force: true });
  });

  test("state file, chain id and deterministic token addresses", async () => {
    const state = JSON.parse(fs.readFileSync(path.join(STATE_DIR, "devnet.json"), "utf8"));
    assert.equal(state.pid, pid);
    assert.equal(state.url, net.url);
    assert.match(net.url, /^http:\/\/127\.0\.0\.1:\d+$/);
    assert.equal(net.chainId, 31337);
    assert.equal(await net.rpc("eth_chainId"), "0x7a69");
    assert.deepEqual(net.tokens, {
      UsdtLike: "0x5FbDB2315678afecb367f032d93F642f64180aa3",
      BscUsdLike: "0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512",
      TronUsdtLike: "0x9fE46736679d2D9a65F0992F2272dE9f3c7fa6e0",
      FakeUsdt: "0xCf7Ed3AccA5a467e9e704C703E8D87F634fB0Fc9",
    });
    for (const addr of Object.values(net.tokens)) {
      assert.notEqual(await net.rpc("eth_getCode", [addr, "latest"]), "0x");
    }
  });

  test("decimals 6/18/6/6 and 1,000,000 tokens minted to accounts #0-#4", async () => {
    const expected = { UsdtLike: 6n, BscUsdLike: 18n, TronUsdtLike: 6n, FakeUsdt: 6n };
    for (const [name, dec] of Object.entries(expected)) {
      const got = BigInt(await net.rpc("eth_call", [{ to: net.tokens[name], data: SELECTORS.decimals }, "latest"]));
      assert.equal(got, dec, `${name} decimals`);
      assert.equal(await balanceOf(net.tokens[name], net.accounts[4]), 1_000_000n * 10n ** dec, `${name} balance of #4`);
      assert.equal(await balanceOf(net.tokens[name], net.accounts[5]), 0n, `${name} balance of #5`);
    }
  });

  test("UsdtLike returns nothing, TronUsdtLike returns false, both really transfer", async () => {
    const from = net.accounts[1];
    const cases = [
      { name: "UsdtLike", callResult: "0x", amount: 1_500_000n },
      { name: "TronUsdtLike", callResult: "0x" + "0".repeat(64), amount: 2_000_000n },
      { name: "BscUsdLike", callResult: "0x" + "0".repeat(63) + "1", amount: 3n * 10n ** 18n },
    ];
    for (const c of cases) {
      const token = net.tokens[c.name];
      const tx = { from, to: token, data: transferData(R3, c.amount), gas: "0x30d40" };
      assert.equal(await net.rpc("eth_call", [tx, "latest"]), c.callResult, `${c.name} eth_call(transfer)`);

      const before = await balanceOf(token, from);
      const hash = await net.rpc("eth_sendTransaction", [tx]);
      const receipt = await net.rpc("eth_getTransactionReceipt", [hash]);
      assert.equal(receipt.status, "0x1", `${c.name} status`);
      const transfers = receipt.logs.filter((l) => l.topics[0] === TRANSFER_TOPIC);
      assert.equal(transfers.length, 1, `${c.name} emits exactly one Transfer`);
      assert.equal(receipt.logs.length, 1);
      assert.equal(transfers[0].address.toLowerCase(), token.toLowerCase());
      assert.equal(transfers[0].topics[1], addressTopic(from));
      assert.equal(transfers[0].topics[2], addressTopic(R3));
      assert.equal(BigInt(transfers[0].data), c.amount);
      assert.equal(await balanceOf(token, R3), c.amount, `${c.name} recipient balance`);
      assert.equal(await balanceOf(token, from), before - c.amount, `${c.name} sender balance`);
    }
  });

  test("a failing transfer reverts with 'balance'", async () => {
    const tx = { from: net.accounts[6], to: net.tokens.UsdtLike, data: transferData(R3, 1n), gas: "0x30d40" };
    await assert.rejects(net.rpc("eth_call", [tx, "latest"]), /eth_call: .*balance/);
  });

  test("eth_getLogs: address [UsdtLike, FakeUsdt] + OR on the recipient topic", async () => {
    const fromBlock = await net.rpc("eth_blockNumber");
    const sent = [
      { token: "UsdtLike", to: R1, amount: "1000001" },
      { token: "FakeUsdt", to: R2, amount: "1000002" },
      { token: "BscUsdLike", to: R1, amount: "1000003" }, // other token: must not match
      { token: "UsdtLike", to: R3, amount: "1000004" }, // other recipient: must not match
      { token: "TronUsdtLike", to: R2, amount: "1000005" }, // other token: must not match
      { token: "UsdtLike", to: R2, amount: "1000006" },
    ];
    const results = [];
    for (const s of sent) results.push(await pay({ url: net.url, token: s.token, to: s.to, amount: s.amount, fromIndex: 2 }));

    const logs = await net.rpc("eth_getLogs", [
      {
        fromBlock,
        toBlock: "latest",
        address: [net.tokens.UsdtLike, net.tokens.FakeUsdt],
        topics: [TRANSFER_TOPIC, null, [addressTopic(R1), addressTopic(R2)]],
      },
    ]);
    const got = logs.map((l) => ({ tx: l.transactionHash, address: l.address.toLowerCase(), to: l.topics[2], value: BigInt(l.data) }));
    const want = [0, 1, 5].map((i) => ({
      tx: results[i].tx,
      address: TOKENS[sent[i].token].address.toLowerCase(),
      to: addressTopic(sent[i].to),
      value: BigInt(sent[i].amount),
    }));
    assert.deepEqual(got, want);
    // pay() reports where the log is.
    for (const [i, l] of [0, 1, 5].map((i, k) => [i, logs[k]])) {
      assert.equal(Number(l.blockNumber), results[i].blockNumber);
      assert.equal(l.blockHash, results[i].blockHash);
      assert.equal(Number(l.logIndex), results[i].logIndex);
    }
  });

  test("pay.js CLI transfers, reports the log and mines extra blocks", async () => {
    const token = TOKENS.BscUsdLike.address;
    const amount = "123456789012345678901"; // > 2^64, 18 decimals: must stay exact
    const head0 = Number(await net.rpc("eth_blockNumber"));
    const t0 = Math.floor(Date.now() / 1000);
    const out = await runCli([PAY_CLI, "--url", net.url, "--token", "BscUsdLike", "--to", R1, "--amount", amount, "--from-index", "3", "--mine", "5"]);
    const r = JSON.parse(out);
    assert.deepEqual(Object.keys(r).sort(), ["blockHash", "blockNumber", "logIndex", "tx"]);
    assert.match(r.tx, /^0x[0-9a-f]{64}$/);
    assert.equal(r.blockNumber, head0 + 1);
    assert.equal(Number(await net.rpc("eth_blockNumber")), head0 + 6);

    const receipt = await net.rpc("eth_getTransactionReceipt", [r.tx]);
    assert.equal(receipt.status, "0x1");
    assert.equal(receipt.blockHash, r.blockHash);
    const log = receipt.logs[0];
    assert.equal(Number(log.logIndex), r.logIndex);
    assert.equal(log.topics[1], addressTopic(net.accounts[3]));
    assert.equal(BigInt(log.data), BigInt(amount));
    assert.equal(await balanceOf(token, R1), 1000003n + BigInt(amount));

    // Extra blocks are mined with interval 0: block time stays near the wall clock.
    const head = await net.rpc("eth_getBlockByNumber", ["latest", false]);
    assert.ok(Number(head.timestamp) - t0 < 5, `head timestamp ${Number(head.timestamp)} vs wall ${t0}`);
  });

  test("mine(n) uses interval 0 by default", async () => {
    const b0 = await net.rpc("eth_getBlockByNumber", ["latest", false]);
    const n = await net.mine(1000);
    assert.equal(n, Number(b0.number) + 1000);
    const b1 = await net.rpc("eth_getBlockByNumber", ["latest", false]);
    assert.ok(Number(b1.timestamp) - Number(b0.timestamp) < 5, "1000 blocks must not add 1000 s");
  });

  test("deploying again fails loudly (chain is no longer fresh)", async () => {
    await assert.rejects(devnet.deployTokens(net.url, net.accounts), /not a fresh chain/);
  });

  test("rpc errors name the method", async () => {
    await assert.rejects(call(net.url, "eth_noSuchMethod"), /^RpcError: eth_noSuchMethod: /);
    await assert.rejects(call("http://127.0.0.1:9", "eth_chainId", [], { timeoutMs: 2000 }), /eth_chainId: request to http:\/\/127\.0\.0\.1:9 failed/);
  });
});

test("CLI: start (detached) / status / stop", async () => {
  const dir = path.join(__dirname, ".state", `test-cli-${process.pid}`);
  const cli = path.join(__dirname, "devnet.js");
  let state;
  try {
    state = JSON.parse(await runCli([cli, "start", "--dir", dir]));
    assert.equal(state.tokens.UsdtLike, TOKENS.UsdtLike.address);
    assert.doesNotThrow(() => process.kill(state.pid, 0), "server outlives the CLI process");
    const st = JSON.parse(await runCli([cli, "status", "--dir", dir]));
    assert.equal(st.running, true);
    assert.equal(st.blockNumber, 24); // 4 deploys + 4 x 5 mints, one block each
    const stop = JSON.parse(await runCli([cli, "stop", "--dir", dir]));
    assert.equal(stop.stopped, true);
    assert.equal(devnet.isAlive(state.pid), false);
    assert.equal(fs.existsSync(path.join(dir, "devnet.json")), false);
  } finally {
    if (state) await devnet.stopFromState(path.join(dir, "devnet.json")).catch(() => {});
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test("after(): the devnet process is gone", () => {
  assert.ok(Number.isInteger(pid) && pid > 0, "devnet was started");
  assert.throws(() => process.kill(pid, 0), { code: "ESRCH" });
  assert.equal(fs.existsSync(path.join(STATE_DIR, "devnet.json")), false);
});
