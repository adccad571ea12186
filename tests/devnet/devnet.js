"use strict";
// Local EVM devnet for tests: Hardhat 2 (in-process server in a child
// process, see server.js) + four USDT-like mock tokens at deterministic
// addresses.
//
// Module:
//   const devnet = require("./tests/devnet/devnet");
//   const net = await devnet.start({ dir });   // { url, pid, chainId, tokens, accounts, stop(), ... }
//   await net.stop();
//
// CLI (from the repo root):
//   node tests/devnet/devnet.js start  [--dir DIR]   prints the state JSON, leaves the node running (detached)
//   node tests/devnet/devnet.js stop   [--dir DIR | --state FILE]
//   node tests/devnet/devnet.js status [--dir DIR | --state FILE]   exit 0 = running, 3 = not running

const fs = require("node:fs");
const path = require("node:path");
const { spawn } = require("node:child_process");
const { compile, loadArtifact } = require("./compile");
const { call, toQuantity, padWord, waitForReceipt } = require("./rpc");

const DEVNET_DIR = __dirname;
const SERVER_SCRIPT = path.join(DEVNET_DIR, "server.js");
const HARDHAT_CONFIG = path.join(DEVNET_DIR, "hardhat.config.js");
const DEFAULT_DIR = path.join(DEVNET_DIR, ".state");
const DEFAULT_STATE_FILE = path.join(DEFAULT_DIR, "devnet.json");

const CHAIN_ID = 31337;
const TRANSFER_TOPIC = "0xddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef";
const APPROVAL_TOPIC = "0x8c5be1e5ebec7d5bd14f71427d1e84f3dd0314c0f7b2291e5b200ac8c7c3b925";
const SELECTORS = Object.freeze({
  transfer: "0xa9059cbb",
  transferFrom: "0x23b872dd",
  approve: "0x095ea7b3",
  balanceOf: "0x70a08231",
  mint: "0x40c10f19",
  decimals: "0x313ce567",
  symbol: "0x95d89b41",
});

/** Account #0 of the default Hardhat mnemonic (unlocked on the devnet). */
const ACCOUNT0 = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266";

/**
 * The tokens IN DEPLOY ORDER. Deploying them from account #0 with nonces 0..3
 * on a fresh chain yields these CREATE addresses.
 */
const TOKENS = Object.freeze({
  UsdtLike: Object.freeze({ nonce: 0, address: "0x5FbDB2315678afecb367f032d93F642f64180aa3", decimals: 6, symbol: "USDT", name: "Tether USD" }),
  BscUsdLike: Object.freeze({ nonce: 1, address: "0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512", decimals: 18, symbol: "USDT", name: "Binance-Peg BSC-USD" }),
  TronUsdtLike: Object.freeze({ nonce: 2, address: "0x9fE46736679d2D9a65F0992F2272dE9f3c7fa6e0", decimals: 6, symbol: "USDT", name: "Tether USD" }),
  FakeUsdt: Object.freeze({ nonce: 3, address: "0xCf7Ed3AccA5a467e9e704C703E8D87F634fB0Fc9", decimals: 6, symbol: "USDT", name: "Tether USD" }),
});
const TOKEN_NAMES = Object.freeze(Object.keys(TOKENS));
/** 1,000,000 whole tokens are minted to accounts #0..#4 of every token. */
const MINT_WHOLE_TOKENS = 1_000_000n;
const MINT_ACCOUNT_COUNT = 5;
const DEPLOY_GAS = "0x1e8480"; // 2,000,000 (deploys use ~0.5M)
const CALL_GAS = "0x30d40"; // 200,000 (mint/transfer use ~35-70k)

// ---------------------------------------------------------------- processes

/** True if `pid` exists and is not a zombie. */
function isAlive(pid) {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
  } catch (e) {
    if (e.code === "ESRCH") return false;
    if (e.code !== "EPERM") throw e;
  }
  try {
    // "pid (comm) S ..." - the state letter follows the last ')'.
    const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
    const state = stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3);
    if (state === "Z" || state === "X") return false;
  } catch {
    /* no /proc (or it vanished meanwhile): trust kill(0) */
  }
  return true;
}

/** Guard against PID reuse: is `pid` running our server.js? (true if unknowable) */
function isDevnetProcess(pid) {
  try {
    const argv = fs.readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0");
    return argv.includes(SERVER_SCRIPT);
  } catch (e) {
    return e.code !== "ENOENT"; // no /proc at all -> cannot tell, assume yes
  }
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms)); // ref'd on purpose: keeps waits alive

async function waitGone(pid, timeoutMs, child) {
  const deadline = Date.now() + timeoutMs;
  const gone = () =>
    child ? child.exitCode !== null || child.signalCode !== null || !isAliveRaw(pid) : !isAlive(pid);
  while (!gone()) {
    if (Date.now() >= deadline) return false;
    await sleep(20);
  }
  return true;
}

// For our own child we wait for the 'exit' bookkeeping (the child is reaped
// by then), so that afterwards process.kill(pid, 0) reliably throws ESRCH.
function isAliveRaw(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return e.code !== "ESRCH";
  }
}

/**
 * SIGTERM `pid`, wait up to `timeoutMs`, then SIGKILL and wait again.
 * Resolves once the process is gone; rejects if it cannot be killed.
 * @returns {Promise<{pid: number, signal: "SIGTERM"|"SIGKILL"|null, ms: number}>}
 */
async function stopPid(pid, opts = {}) {
  const timeoutMs = opts.timeoutMs ?? 5000;
  const child = opts.child;
  const t0 = Date.now();
  if (child ? child.exitCode !== null || child.signalCode !== null : !isAlive(pid)) {
    if (child) await waitGone(pid, 2000, child);
    return { pid, signal: null, ms: 0 };
  }
  const send = (sig) => {
    try {
      process.kill(pid, sig);
    } catch (e) {
      if (e.code !== "ESRCH") throw e;
    }
  };
  send("SIGTERM");
  if (await waitGone(pid, timeoutMs, child)) return { pid, signal: "SIGTERM", ms: Date.now() - t0 };
  send("SIGKILL");
  if (await waitGone(pid, 3000, child)) return { pid, signal: "SIGKILL", ms: Date.now() - t0 };
  throw new Error(`devnet pid ${pid} is still alive after SIGTERM and SIGKILL`);
}

// ---------------------------------------------------------------- state file

function readState(stateFile = DEFAULT_STATE_FILE) {
  try {
    return JSON.parse(fs.readFileSync(stateFile, "utf8"));
  } catch (e) {
    if (e.code === "ENOENT") return null;
    throw new Error(`cannot read devnet state ${stateFile}: ${e.message}`);
  }
}

function writeState(stateFile, state) {
  fs.mkdirSync(path.dirname(stateFile), { recursive: true });
  const tmp = `${stateFile}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, JSON.stringify(state, null, 2) + "\n");
  fs.renameSync(tmp, stateFile);
}

function removeState(stateFile) {
  try {
    fs.unlinkSync(stateFile);
  } catch (e) {
    if (e.code !== "ENOENT") throw e;
  }
}

function logTail(logFile, lines = 30) {
  try {
    return fs.readFileSync(logFile, "utf8").trimEnd().split("\n").slice(-lines).join("\n");
  } catch {
    return "(no log)";
  }
}

// ---------------------------------------------------------------- chain ops

/**
 * Mine `n` blocks at once with hardhat_mine. `interval` is the timestamp step
 * in SECONDS between them; it defaults to 0 because Hardhat's own default (1 s
 * per block) pushes block time far ahead of the wall clock.
 * @returns {Promise<number>} the new head block number
 */
async function mine(url, n = 1, opts = {}) {
  const count = BigInt(n);
  if (count < 0n) throw new RangeError(`mine: negative block count ${n}`);
  if (count === 0n) return Number(BigInt(await call(url, "eth_blockNumber")));
  await call(url, "hardhat_mine", [toQuantity(count), toQuantity(opts.interval ?? 0)]);
  return Number(BigInt(await call(url, "eth_blockNumber")));
}

async function sendAndConfirm(url, tx, what) {
  let hash;
  try {
    hash = await call(url, "eth_sendTransaction", [tx]);
  } catch (e) {
    throw new Error(`${what} failed: ${e.message}`);
  }
  const receipt = await waitForReceipt(url, hash);
  if (receipt.status !== "0x1") throw new Error(`${what} failed: receipt status ${receipt.status} (tx ${hash})`);
  return receipt;
}

/** Deploy the four tokens from account #0 (nonces 0..3) and mint to #0..#4. */
async function deployTokens(url, accounts) {
  const from = accounts[0];
  if (from.toLowerCase() !== ACCOUNT0.toLowerCase()) {
    throw new Error(`devnet account #0 is ${from}, expected ${ACCOUNT0} (non-default mnemonic?)`);
  }
  const nonce = await call(url, "eth_getTransactionCount", [from, "latest"]);
  if (nonce !== "0x0") {
    throw new Error(`devnet is not a fresh chain: account #0 nonce is ${nonce}, token addresses would differ`);
  }
  const tokens = {};
  for (const name of TOKEN_NAMES) {
    const spec = TOKENS[name];
    const { bytecode } = loadArtifact(name);
    const receipt = await sendAndConfirm(
      url,
      { from, data: bytecode, gas: DEPLOY_GAS, nonce: toQuantity(spec.nonce) },
      `deploy ${name}`,
    );
    const got = receipt.contractAddress || "(none)";
    if (got.toLowerCase() !== spec.address.toLowerCase()) {
      throw new Error(
        `DEVNET ADDRESS MISMATCH: ${name} deployed at ${got}, expected ${spec.address} ` +
          `(nonce ${spec.nonce} from ${from}); the deploy order or chain state changed`,
      );
    }
    const code = await call(url, "eth_getCode", [spec.address, "latest"]);
    if (!code || code === "0x") throw new Error(`${name}: no code at ${spec.address} after deploy`);
    tokens[name] = spec.address;
  }
  for (const name of TOKEN_NAMES) {
    const amount = MINT_WHOLE_TOKENS * 10n ** BigInt(TOKENS[name].decimals);
    for (const to of accounts.slice(0, MINT_ACCOUNT_COUNT)) {
      await sendAndConfirm(
        url,
        { from, to: tokens[name], gas: CALL_GAS, data: SELECTORS.mint + padWord(to) + padWord(amount.toString(16)) },
        `mint ${name} to ${to}`,
      );
    }
    const last = accounts[MINT_ACCOUNT_COUNT - 1];
    const bal = BigInt(await call(url, "eth_call", [{ to: tokens[name], data: SELECTORS.balanceOf + padWord(last) }, "latest"]));
    if (bal !== amount) throw new Error(`${name}: balance of ${last} is ${bal} after mint, expected ${amount}`);
  }
  return tokens;
}

// ---------------------------------------------------------------- start/stop

/**
 * Start a fresh Hardhat devnet and deploy + mint the tokens.
 * @param {{dir?: string, stateFile?: string, detached?: boolean, timeoutMs?: number, stopTimeoutMs?: number}} [opts]
 *   dir:       folder for the state file, log and Hardhat's XDG/HOME dirs (default tests/devnet/.state)
 *   stateFile: default <dir>/devnet.json
 *   detached:  true = own session, survives this process (CLI); false = dies with this process (tests)
 * @returns {Promise<{url: string, pid: number, chainId: number, tokens: Record<string,string>,
 *   accounts: string[], dir: string, stateFile: string, logFile: string,
 *   rpc(method: string, params?: unknown[]): Promise<any>, mine(n?: number, opts?: {interval?: number}): Promise<number>,
 *   stop(): Promise<{pid: number, signal: string|null, ms: number}>}>}
 */
async function start(opts = {}) {
  const dir = path.resolve(opts.dir || DEFAULT_DIR);
  const stateFile = path.resolve(opts.stateFile || path.join(dir, "devnet.json"));
  const logFile = path.join(dir, "hardhat.log");
  const timeoutMs = opts.timeoutMs ?? 30000;
  const detached = !!opts.detached;

  const prev = readState(stateFile);
  if (prev && isAlive(prev.pid) && isDevnetProcess(prev.pid)) {
    throw new Error(`a devnet is already running (pid ${prev.pid}, ${prev.url}) for ${stateFile}; stop it first`);
  }
  removeState(stateFile);

  compile({ quiet: true });

  // Keep everything Hardhat writes (vars.json, analytics, caches) out of $HOME.
  const home = path.join(dir, "home");
  const xdg = { XDG_CONFIG_HOME: "config", XDG_DATA_HOME: "data", XDG_CACHE_HOME: "cache" };
  const env = { ...process.env };
  delete env.NODE_TEST_CONTEXT; // set by `node --test`; irrelevant for the server
  delete env.NODE_OPTIONS;
  delete env.FORCE_COLOR;
  for (const [k, sub] of Object.entries(xdg)) {
    env[k] = path.join(dir, "xdg", sub);
    fs.mkdirSync(env[k], { recursive: true });
  }
  fs.mkdirSync(home, { recursive: true });
  Object.assign(env, {
    HOME: home,
    HARDHAT_DISABLE_TELEMETRY_PROMPT: "true",
    HARDHAT_CONFIG,
    NO_COLOR: "1", // plain-text log file
    DEVNET_HOST: "127.0.0.1",
    DEVNET_PORT: "0",
    DEVNET_EXIT_ON_DISCONNECT: detached ? "0" : "1",
  });

  const logFd = fs.openSync(logFile, "w");
  let child;
  try {
    child = spawn(process.execPath, [SERVER_SCRIPT], {
      cwd: DEVNET_DIR,
      env,
      detached,
      stdio: ["ignore", logFd, logFd, "ipc"],
    });
  } finally {
    fs.closeSync(logFd);
  }
  const pid = child.pid;

  let url;
  try {
    url = await new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`devnet did not start within ${timeoutMs} ms`)),
        timeoutMs,
      );
      timer.unref();
      const done = (fn, v) => {
        clearTimeout(timer);
        child.removeAllListeners("message");
        child.removeAllListeners("exit");
        child.removeAllListeners("error");
        fn(v);
      };
      child.on("message", (m) => {
        if (m && m.type === "ready") done(resolve, m.url);
        else if (m && m.type === "error") done(reject, new Error(`devnet failed to start: ${m.message}`));
      });
      child.on("error", (e) => done(reject, new Error(`cannot spawn devnet: ${e.message}`)));
      child.on("exit", (code, sig) => done(reject, new Error(`devnet exited during start (code ${code}, signal ${sig})`)));
    });
    const chainIdHex = await call(url, "eth_chainId");
    if (Number(chainIdHex) !== CHAIN_ID) throw new Error(`devnet chainId is ${chainIdHex}, expected ${CHAIN_ID}`);
    const accounts = await call(url, "eth_accounts");
    const tokens = await deployTokens(url, accounts);

    const state = {
      url,
      pid,
      chainId: CHAIN_ID,
      tokens,
      accounts,
      logFile,
      stateFile,
      detached,
      startedAt: new Date().toISOString(),
    };
    writeState(stateFile, state);

    let exitGuard = null;
    if (detached) {
      child.disconnect(); // the server keeps running on its own
      child.unref();
    } else {
      // Do not hold the event loop open; if this process dies, the IPC
      // channel closes and the server shuts itself down (DEVNET_EXIT_ON_DISCONNECT).
      if (child.channel) child.channel.unref();
      child.unref();
      exitGuard = () => {
        try {
          process.kill(pid, "SIGKILL");
        } catch {}
      };
      process.once("exit", exitGuard);
    }

    let stopping = null;
    return {
      ...state,
      rpc: (method, params) => call(url, method, params),
      mine: (n, o) => mine(url, n, o),
      stop: () => {
        if (!stopping) {
          stopping = (async () => {
            const r = await stopPid(pid, { child, timeoutMs: opts.stopTimeoutMs });
            if (exitGuard) process.removeListener("exit", exitGuard);
            const cur = readState(stateFile);
            if (cur && cur.pid === pid) removeState(stateFile);
            return r;
          })();
        }
        return stopping;
      },
    };
  } catch (e) {
    try {
      await stopPid(pid, { child, timeoutMs: 2000 });
    } catch {}
    removeState(stateFile);
    e.message += `\n--- last lines of ${logFile} ---\n${logTail(logFile)}`;
    throw e;
  }
}

/**
 * Stop the devnet recorded in `stateFile` (SIGTERM, wait, SIGKILL) and remove the file.
 * @returns {Promise<{stopped: boolean, pid?: number, signal?: string|null, ms?: number, reason?: string}>}
 */
async function stopFromState(stateFile = DEFAULT_STATE_FILE, opts = {}) {
  const state = readState(stateFile);
  if (!state) return { stopped: false, reason: `no state file ${stateFile}` };
  const { pid } = state;
  if (!isAlive(pid)) {
    removeState(stateFile);
    return { stopped: false, pid, reason: "not running (stale state file removed)" };
  }
  if (!isDevnetProcess(pid)) {
    removeState(stateFile);
    return { stopped: false, pid, reason: `pid ${pid} is not a devnet server (stale state file removed)` };
  }
  const r = await stopPid(pid, opts);
  removeState(stateFile);
  return { stopped: true, ...r };
}

/**
 * @returns {Promise<{running: boolean, stateFile: string, reason?: string, blockNumber?: number} & object>}
 */
async function status(stateFile = DEFAULT_STATE_FILE) {
  const state = readState(stateFile);
  if (!state) return { running: false, stateFile, reason: "no state file" };
  if (!isAlive(state.pid) || !isDevnetProcess(state.pid)) {
    return { running: false, ...state, stateFile, reason: `pid ${state.pid} is gone` };
  }
  try {
    const blockNumber = Number(BigInt(await call(state.url, "eth_blockNumber", [], { timeoutMs: 3000 })));
    return { running: true, ...state, stateFile, blockNumber };
  } catch (e) {
    return { running: false, ...state, stateFile, reason: `pid alive but RPC fails: ${e.message}` };
  }
}

/** "UsdtLike" | ... | "0x…" -> checksummed/raw address. */
function resolveToken(nameOrAddress) {
  if (TOKENS[nameOrAddress]) return TOKENS[nameOrAddress].address;
  if (/^0x[0-9a-fA-F]{40}$/.test(nameOrAddress)) return nameOrAddress;
  throw new Error(`unknown token ${JSON.stringify(nameOrAddress)}: use ${TOKEN_NAMES.join("|")} or a 0x address`);
}

module.exports = {
  start,
  stopFromState,
  stopPid,
  status,
  readState,
  mine,
  isAlive,
  resolveToken,
  deployTokens,
  CHAIN_ID,
  TOKENS,
  TOKEN_NAMES,
  TRANSFER_TOPIC,
  APPROVAL_TOPIC,
  SELECTORS,
  ACCOUNT0,
  MINT_WHOLE_TOKENS,
  MINT_ACCOUNT_COUNT,
  DEFAULT_DIR,
  DEFAULT_STATE_FILE,
};

// ---------------------------------------------------------------- CLI

function parseCliArgs(argv) {
  const out = { cmd: argv[0] };
  for (let i = 1; i < argv.length; i++) {
    const a = argv[i];
    if (a === "--dir" || a === "--state") {
      if (argv[i + 1] === undefined) throw new Error(`${a} needs a value`);
      out[a.slice(2)] = argv[++i];
    } else throw new Error(`unknown argument ${a}`);
  }
  return out;
}

async function main(argv) {
  const usage = "usage: node tests/devnet/devnet.js start|stop|status [--dir DIR] [--state FILE]";
  let args;
  try {
    args = parseCliArgs(argv);
  } catch (e) {
    console.error(`${e.message}\n${usage}`);
    return 2;
  }
  const dir = args.dir ? path.resolve(args.dir) : DEFAULT_DIR;
  const stateFile = args.state ? path.resolve(args.state) : path.join(dir, "devnet.json");
  const print = (o) => process.stdout.write(JSON.stringify(o, null, 2) + "\n");
  switch (args.cmd) {
    case "start": {
      const net = await start({ dir, stateFile, detached: true });
      print(readState(net.stateFile));
      return 0;
    }
    case "stop":
      print(await stopFromState(stateFile));
      return 0;
    case "status": {
      const s = await status(stateFile);
      print(s);
      return s.running ? 0 : 3;
    }
    default:
      console.error(usage);
      return 2;
  }
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (e) => {
      console.error(`devnet: ${e.message}`);
      process.exitCode = 1;
    },
  );
}
