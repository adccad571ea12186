"use strict";
// Send one ERC-20 `transfer(to, amount)` on the devnet from an unlocked account.
//
//   node tests/devnet/pay.js --url URL --token UsdtLike|BscUsdLike|TronUsdtLike|FakeUsdt|0xADDR \
//        --to 0xADDR --amount <base-unit integer> [--from-index N] [--mine N]
//
// Prints {"tx","blockNumber","blockHash","logIndex"} as JSON. `--url` defaults
// to the URL in tests/devnet/.state/devnet.json (a CLI-started devnet).
// Amounts are integers in the token's base units (USDT 6 decimals: "1500000" = 1.5 USDT);
// they are handled as BigInt, never as floating point.

const { call, padWord, toBigInt, waitForReceipt } = require("./rpc");
const { resolveToken, mine: mineBlocks, readState, TRANSFER_TOPIC, SELECTORS } = require("./devnet");

const TRANSFER_GAS = "0x30d40"; // 200,000; a transfer uses ~35-52k
const MAX_UINT256 = (1n << 256n) - 1n;

/** Parse a base-unit amount: bigint or decimal-digit string (no floats, signs or exponents). */
function parseAmount(amount) {
  let v;
  if (typeof amount === "bigint") v = amount;
  else if (typeof amount === "string" && /^\d+$/.test(amount)) v = BigInt(amount);
  else throw new TypeError(`amount must be a base-unit integer string or bigint, got ${JSON.stringify(String(amount))}`);
  if (v < 0n || v > MAX_UINT256) throw new RangeError(`amount out of uint256 range: ${v}`);
  return v;
}

function checkAddress(label, a) {
  if (typeof a !== "string" || !/^0x[0-9a-fA-F]{40}$/.test(a)) throw new TypeError(`${label} must be a 0x-prefixed 20-byte address, got ${JSON.stringify(a)}`);
  return a;
}

/** Calldata of transfer(address,uint256), built by hand: a9059cbb ‖ to ‖ amount. */
function encodeTransfer(to, amount) {
  return SELECTORS.transfer + padWord(checkAddress("to", to)) + padWord(parseAmount(amount).toString(16));
}

/**
 * @param {{url: string, token: string, to: string, amount: string|bigint, fromIndex?: number, mine?: number,
 *          timeoutMs?: number}} p
 * @returns {Promise<{tx: string, blockNumber: number, blockHash: string, logIndex: number}>}
 *   blockNumber/blockHash of the block that includes the transfer (not the
 *   head after --mine); logIndex of its Transfer log within that block.
 */
async function pay(p) {
  const { url } = p;
  if (!url) throw new Error("pay: url is required");
  const token = resolveToken(p.token);
  const data = encodeTransfer(p.to, p.amount);
  const fromIndex = p.fromIndex === undefined ? 0 : Number(p.fromIndex);
  if (!Number.isInteger(fromIndex) || fromIndex < 0) throw new RangeError(`fromIndex must be a non-negative integer, got ${p.fromIndex}`);
  const extra = p.mine === undefined ? 0 : Number(p.mine);
  if (!Number.isInteger(extra) || extra < 0) throw new RangeError(`mine must be a non-negative integer, got ${p.mine}`);

  const accounts = await call(url, "eth_accounts");
  const from = accounts[fromIndex];
  if (!from) throw new RangeError(`fromIndex ${fromIndex} out of range: the devnet has ${accounts.length} unlocked accounts`);

  // Hardhat reports a reverting tx as a JSON-RPC error ("... reverted with
  // reason string 'balance'") even though it still mines it; RpcError carries the message.
  const tx = await call(url, "eth_sendTransaction", [{ from, to: token, data, gas: TRANSFER_GAS }]);
  const receipt = await waitForReceipt(url, tx, { timeoutMs: p.timeoutMs });
  if (receipt.status !== "0x1") throw new Error(`pay: transfer ${tx} failed with receipt status ${receipt.status}`);

  const log = receipt.logs.find(
    (l) => l.address.toLowerCase() === token.toLowerCase() && l.topics[0] === TRANSFER_TOPIC,
  );
  if (!log) throw new Error(`pay: tx ${tx} succeeded but emitted no Transfer log from ${token}`);

  if (extra > 0) await mineBlocks(url, extra, { interval: 0 });

  return {
    tx,
    blockNumber: Number(toBigInt(receipt.blockNumber)),
    blockHash: receipt.blockHash,
    logIndex: Number(toBigInt(log.logIndex)),
  };
}

function parseArgs(argv) {
  const names = { "--url": "url", "--token": "token", "--to": "to", "--amount": "amount", "--from-index": "fromIndex", "--mine": "mine" };
  const out = {};
  for (let i = 0; i < argv.length; i++) {
    let a = argv[i];
    let v;
    const eq = a.indexOf("=");
    if (a.startsWith("--") && eq > 0) {
      v = a.slice(eq + 1);
      a = a.slice(0, eq);
    }
    if (a === "-h" || a === "--help") return { help: true };
    const key = names[a];
    if (!key) throw new Error(`unknown argument ${a}`);
    if (v === undefined) {
      v = argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value`);
    }
    out[key] = v;
  }
  for (const k of ["fromIndex", "mine"]) {
    if (out[k] !== undefined) {
      if (!/^\d+$/.test(out[k])) throw new Error(`--${k === "fromIndex" ? "from-index" : k} must be a non-negative integer`);
      out[k] = Number(out[k]);
    }
  }
  return out;
}

const USAGE =
  "usage: node tests/devnet/pay.js --url URL --token UsdtLike|BscUsdLike|TronUsdtLike|FakeUsdt|0xADDR " +
  "--to 0xADDR --amount <base-unit integer> [--from-index N] [--mine N]";

async function main(argv) {
  let args;
  try {
    args = parseArgs(argv);
  } catch (e) {
    console.error(`pay: ${e.message}\n${USAGE}`);
    return 2;
  }
  if (args.help) {
    console.log(USAGE);
    return 0;
  }
  if (!args.url) {
    const st = readState();
    if (st && st.url) args.url = st.url;
  }
  for (const k of ["url", "token", "to", "amount"]) {
    if (args[k] === undefined) {
      console.error(`pay: --${k} is required${k === "url" ? " (no running CLI devnet found)" : ""}\n${USAGE}`);
      return 2;
    }
  }
  const r = await pay(args);
  process.stdout.write(JSON.stringify(r) + "\n");
  return 0;
}

module.exports = { pay, encodeTransfer, parseAmount, TRANSFER_GAS };

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (e) => {
      console.error(`pay: ${e.message}`);
      process.exitCode = 1;
    },
  );
}
