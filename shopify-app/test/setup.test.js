// A merchant's first two minutes: a configuration with only an address watches through the
// registry's public endpoints, within their limits (the core's watch_settings); the RPC client
// keeps to an endpoint's batch limit; `stablegate init` writes a working configuration from its
// flags, or from answers typed on a terminal (driven through a real pseudo-terminal), creates the
// first API key and ends with doctor's checks.
'use strict';
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { execFile, spawnSync } = require('node:child_process');
const fs = require('node:fs');
const http = require('node:http');
const os = require('node:os');
const path = require('node:path');
const sg = require('../../crates/wasm/pkg/node/stablegate_wasm');
const { parseConfig, loadConfig } = require('../dist/config');
const { RpcClient } = require('../dist/rpc');
const { openDb } = require('../dist/db');
const { findApiKey } = require('../dist/apikeys');
const { startApp } = require('../dist/app');
const { doctor } = require('../dist/doctor');
const { startProxy } = require('./rpc-proxy');

const CLI = path.join(__dirname, '..', 'bin', 'stablegate.js');
const TRON = 'TJRyWwFs9wTFGZg3JbrVriFbNfCug5tDeC';
const EVM = '0xa0Ee7A142d267C1f36714E4a8F75612F20a79720';
let dir;

before(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sg-setup-'));
});
after(() => fs.rmSync(dir, { recursive: true, force: true }));

const cli = (args, env = {}) =>
  new Promise((resolve) => {
    execFile(process.execPath, [CLI, ...args], { env: { ...process.env, STABLEGATE_CONFIG: '', ...env }, timeout: 60000 }, (error, stdout, stderr) =>
      resolve({ code: error ? error.code : 0, stdout, stderr }),
    );
  });

test('only an address: the registry\'s public endpoints, polled within their published limits', () => {
  const config = parseConfig({ database: { sqlite: ':memory:' }, networks: { tron: { addresses: [TRON] }, ethereum: { addresses: [EVM] } } }, {});
  const [tron, ethereum] = config.networks;
  const registry = (id) => sg.networks().find((n) => n.id === id);
  assert.deepEqual(tron.rpc, registry('tron').rpc.map((e) => e.url));
  assert.ok(tron.rpc.length >= 2 && ethereum.rpc.length >= 2, 'several endpoints, for failover');
  assert.equal(tron.publicRpc, true);
  // TronGrid's 100,000 requests a day, 3 requests a poll, half of it: one poll every 5.184 s.
  assert.deepEqual([tron.pollMs, tron.maxRange, tron.maxBatch], [5184, 2000, 100]);
  // dRPC answers batches of at most 3 calls.
  assert.deepEqual([ethereum.pollMs, ethereum.maxBatch], [3000, 3]);
  // A faster poll than the endpoints allow is slowed; a wider range than java-tron's is narrowed.
  const eager = parseConfig({ database: { sqlite: ':memory:' }, networks: { tron: { addresses: [TRON], poll_ms: 500, max_range: 50000 } } }, {});
  assert.deepEqual([eager.networks[0].pollMs, eager.networks[0].maxRange], [5184, 5000]);
  // The merchant's own endpoint: their settings stand, nothing public.
  const own = parseConfig({ database: { sqlite: ':memory:' }, networks: { tron: { addresses: [TRON], rpc: ['https://tron.example/jsonrpc'], poll_ms: 500 } } }, {});
  assert.deepEqual([own.networks[0].rpc, own.networks[0].publicRpc, own.networks[0].pollMs, own.networks[0].maxBatch], [['https://tron.example/jsonrpc'], false, 500, null]);
});

test('the server says at start which networks it watches through public endpoints, and how often', async () => {
  const lines = [];
  const logger = { info: (msg, fields) => lines.push({ msg, ...fields }), warn: () => undefined, error: () => undefined };
  const config = parseConfig({ listen: { port: 0 }, database: { sqlite: path.join(dir, 'start.db') }, networks: { tron: { addresses: [TRON] }, devnet: { addresses: [EVM], rpc: ['http://127.0.0.1:9'] } } }, {});
  const app = await startApp(config, { logger, background: false });
  try {
    const said = lines.filter((l) => l.msg === 'watching through public RPC endpoints');
    assert.deepEqual(said.map((l) => [l.network, l.poll_ms, l.endpoints.length]), [['tron', 5184, 2]]);
    assert.match(said[0].advice, /for a busy one, add your own under networks\.tron\.rpc/);
    assert.match(lines.find((l) => l.msg === 'stablegate listening').networks[0], /^tron \(usdt\) via public endpoints https:\/\/api\.trongrid\.io/);
  } finally {
    await app.stop();
  }
});

test('the RPC client splits a batch longer than the endpoint allows, and keeps the answers in order', async () => {
  const sizes = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      const calls = [].concat(JSON.parse(body));
      sizes.push(calls.length);
      const answers = calls.map((c) => ({ jsonrpc: '2.0', id: c.id, result: c.params[0] }));
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(calls.length === 1 && !body.startsWith('[') ? answers[0] : answers));
    });
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  try {
    const rpc = new RpcClient([`http://127.0.0.1:${server.address().port}`], 5000, null, 3);
    const results = await rpc.batch([1, 2, 3, 4, 5, 6, 7].map((n) => ['echo', [n]]));
    assert.deepEqual(results, [1, 2, 3, 4, 5, 6, 7]);
    assert.deepEqual(sizes, [3, 3, 1]);
  } finally {
    server.close();
  }
});

test('TronGrid\'s rate limit (HTTP 200, {"Error": "lack of computing resources"}) fails over to the next endpoint', async () => {
  const limited = http.createServer((req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ Error: 'class org.tron.core.exception.TronException : lack of computing resources' })));
  const healthy = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ jsonrpc: '2.0', id: JSON.parse(body).id, result: '0x10' })));
  });
  await Promise.all([limited, healthy].map((s) => new Promise((r) => s.listen(0, '127.0.0.1', r))));
  try {
    const rpc = new RpcClient([limited, healthy].map((s) => `http://127.0.0.1:${s.address().port}`), 5000);
    assert.equal(await rpc.call('eth_blockNumber'), '0x10');
    const [first] = rpc.health();
    assert.equal(first.healthy, false);
    assert.match(first.last_error, /^rate-limited: .*lack of computing resources/);
  } finally {
    limited.close();
    healthy.close();
  }
});

test('stablegate init from flags: a config with public endpoints, an API key printed once, doctor at the end', async () => {
  const file = path.join(dir, 'flags', 'stablegate.config.json');
  const r = await cli(['init', '--config', file, '--network', 'tron', '--address', TRON, '--network', 'devnet', '--address', EVM.toLowerCase(), '--listen', '127.0.0.1:0', '--webhook-url', 'https://shop.example/hooks/stablegate']);
  // doctor ran: the devnet's default endpoint (127.0.0.1:8545) is not running here, so it says so.
  assert.match(r.stdout, /Checking the configuration \(stablegate doctor\):/);
  assert.match(r.stdout, /devnet: no RPC of your own is configured, so the registry's public endpoints are in use/);
  assert.match(r.stdout, /devnet: (the public endpoint http:\/\/127\.0\.0\.1:8545 cannot be reached \(|the RPC at http:\/\/127\.0\.0\.1:8545 (answers|is on chain))/);
  // The public endpoints cannot be reached from here (no internet): doctor says what that means.
  assert.match(r.stdout, /tron: the public endpoint https:\/\/api\.trongrid\.io (cannot be reached \(.+\)\. This server may have no internet access|is limiting|answers)/);
  // The webhook URL is a name no resolver here knows: doctor says so, and init exits 1.
  assert.equal(r.code, 1, r.stderr);
  const written = JSON.parse(fs.readFileSync(file, 'utf8'));
  // The address as the core writes it (EIP-55), no rpc: the registry's endpoints.
  assert.deepEqual(written.networks, { tron: { addresses: [TRON] }, devnet: { addresses: [EVM] } });
  assert.deepEqual(written.rates, { USD: { fixed: '1' } });
  assert.equal(written.webhooks.endpoints[0].secret_env, 'STABLEGATE_WEBHOOK_SECRET');
  const envFile = path.join(dir, 'flags', 'stablegate.env');
  assert.equal(fs.statSync(envFile).mode & 0o777, 0o600);
  assert.match(fs.readFileSync(envFile, 'utf8'), /^STABLEGATE_WEBHOOK_SECRET=[0-9a-f]{64}$/m);
  // The CLI reads the secret beside the config: the config loads as the server will load it.
  const key = /API key for your shop[^\n]*\n(sg_\S+)/.exec(r.stdout)?.[1];
  assert.ok(key, r.stdout);
  const { db } = await openDb({ sqlite: path.join(dir, 'flags', 'stablegate.db') });
  try {
    assert.ok(await findApiKey(db, key), 'the printed key is live, stored hashed');
    const stored = fs.readFileSync(path.join(dir, 'flags', 'stablegate.db'));
    assert.equal(stored.includes(Buffer.from(key)), false, 'the key itself is not stored');
  } finally {
    await db.close();
  }
  const doctor = await cli(['doctor', '--config', file]);
  assert.match(doctor.stdout, /tron: no RPC of your own is configured/);
  // Not twice: an existing config is kept unless --force.
  const again = await cli(['init', '--config', file, '--network', 'tron', '--address', TRON]);
  assert.equal(again.code, 1);
  assert.match(again.stderr, /already exists; use --force/);
});

test('stablegate init refuses an address the core rejects, and a network it does not know, in one sentence', async () => {
  const file = path.join(dir, 'bad', 'stablegate.config.json');
  const bad = await cli(['init', '--config', file, '--network', 'tron', '--address', 'TJRyWwFs9wTFGZg3JbrVriFbNfCug5tDeD']);
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /is not a TRON \(TRC-20\) address .*a TRON address starts with T and has 34 characters/);
  const unknown = await cli(['init', '--config', file, '--network', 'solana', '--address', 'x']);
  assert.match(unknown.stderr, /unknown network solana \(known: tron, ethereum/);
  const none = await cli(['init', '--config', file]);
  assert.match(none.stderr, /name at least one network and its receiving address/);
  assert.equal(fs.existsSync(file), false);
});

test('stablegate init on a terminal: asks for networks and addresses, asks again after a wrong one', () => {
  const file = path.join(dir, 'tty', 'stablegate.config.json');
  // A real pseudo-terminal (Python's pty): the answers are typed when each question shows.
  const driver = `
import os, pty, sys, time
steps = [(b"(sandbox)?", b"\\r"),
         (b"Which networks?", b"tron, sepolia\\r"),
         (b"Receiving address on TRON", b"TJRyWwFs9wTFGZg3JbrVriFbNfCug5tDeD\\r"),
         (b"not a TRON", None),
         (b"Receiving address on TRON", b"${TRON}\\r"),
         (b"Receiving address on Sepolia", b"${EVM}\\r"),
         (b"Listen on", b"127.0.0.1:0\\r"),
         (b"customers reach", b"https://pay.shop.example\\r"),
         (b"webhook URL", b"\\r")]
pid, fd = pty.fork()
if pid == 0:
    os.execv(sys.argv[1], [sys.argv[1], sys.argv[2], "init", "--config", sys.argv[3], "--skip-doctor"])
seen, at = b"", 0
deadline = time.time() + 60
while time.time() < deadline:
    try:
        chunk = os.read(fd, 4096)
    except OSError:
        break
    if not chunk:
        break
    seen += chunk
    # Each answer is typed only once its question shows (readline drops a line typed earlier).
    while steps and seen.find(steps[0][0], at) >= 0:
        marker, answer = steps.pop(0)
        at = seen.find(marker, at) + len(marker)
        if answer is not None:
            os.write(fd, answer)
sys.stdout.buffer.write(seen)
_, status = os.waitpid(pid, 0)
sys.exit(os.waitstatus_to_exitcode(status))
`;
  const run = spawnSync('python3', ['-c', driver, process.execPath, CLI, file], { encoding: 'utf8', timeout: 90000 });
  assert.equal(run.status, 0, `${run.stdout}\n${run.stderr}`);
  const written = JSON.parse(fs.readFileSync(file, 'utf8'));
  assert.deepEqual(written.networks, { tron: { addresses: [TRON] }, sepolia: { addresses: [EVM] } });
  assert.equal(written.public_url, 'https://pay.shop.example');
  assert.equal(written.webhooks, undefined);
  const config = loadConfig(file, {});
  assert.deepEqual(config.networks.map((n) => [n.id, n.publicRpc]), [['tron', true], ['sepolia', true]]);
});

test('doctor says in words when a public endpoint rate-limits (HTTP 429, JSON-RPC "limit exceeded") or cannot be reached', { timeout: 30000 }, async () => {
  // Public endpoints cannot be reached from here (no internet): the registry's devnet endpoint is
  // pointed at a local proxy that answers as an endpoint over its allowance, then at a dead port.
  const proxy = await startProxy('http://127.0.0.1:9');
  const run = async (rpc) => {
    const config = parseConfig({ database: { sqlite: ':memory:' }, networks: { devnet: { addresses: [EVM] } } }, {});
    assert.equal(config.networks[0].publicRpc, true);
    config.networks[0].rpc = [rpc];
    return (await doctor(config)).filter((f) => !f.ok && f.message.startsWith('devnet:')).map((f) => f.message);
  };
  try {
    for (const [limited, detail] of [['http', 'HTTP 429'], ['rpc', 'limit exceeded']]) {
      proxy.state.limited = limited;
      const [problem, ...others] = await run(proxy.url);
      assert.deepEqual(others, [], limited);
      assert.match(problem, /^devnet: the public endpoint http:\/\/127\.0\.0\.1:\d+ is limiting how often it may be asked \(/, limited);
      assert.ok(problem.includes(detail), problem);
      assert.match(problem, /payments are seen later, not lost; for a busy shop add your own under networks\.devnet\.rpc\.$/);
    }
  } finally {
    await proxy.close();
  }
  const [down] = await run('http://127.0.0.1:9');
  assert.match(down, /^devnet: the public endpoint http:\/\/127\.0\.0\.1:9 cannot be reached \(.+\)\. This server may have no internet access/);
});
