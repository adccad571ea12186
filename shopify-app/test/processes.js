// Real server processes for the cluster test and benchmarks: `stablegate serve --config FILE`
// started as a child (its own port, JSON logs captured line by line), a private PostgreSQL cluster
// started the way scripts/test-server.sh starts it (for `make bench`, which runs outside that
// script), and a fresh database in it per suite.
'use strict';
const { spawn, execFileSync } = require('node:child_process');
const crypto = require('node:crypto');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { API_KEY, WEBHOOK_SECRET } = require('./helpers');

const CLI = path.resolve(__dirname, '..', 'bin', 'stablegate.js');

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Polls `test` every 20 ms until it returns a truthy value; throws `what` after `ms`. */
async function until(test, ms, what) {
  const end = Date.now() + ms;
  for (;;) {
    const value = await test();
    if (value) return value;
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms: ${typeof what === 'function' ? what() : what}`);
    await sleep(20);
  }
}

/**
 * Starts `stablegate serve` on `configFile` with `env` added to this process's environment.
 * Resolves once the server logs `stablegate listening` (or rejects with its output if it exits
 * first). Every stdout line that is JSON is kept in `logs` with the process's `name`; `output` is
 * everything it wrote, stderr included.
 */
async function startServer({ name, configFile, env = {}, waitListening = true }) {
  const child = spawn(process.execPath, [CLI, 'serve', '--config', configFile], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const server = {
    name,
    pid: child.pid,
    child,
    url: null,
    logs: [],
    output: '',
    exitCode: undefined,
    signal: undefined,
    exited: null,
    /** The first log line after `since` (ms) that passes `test`, waiting up to `ms`. */
    waitLog(test, ms = 10000, since = 0) {
      return until(() => server.logs.find((l) => l.at >= since && test(l)), ms, () => `${name}: no such log line; output:\n${server.output.slice(-3000)}`);
    },
    kill(signal = 'SIGKILL') {
      if (server.exitCode === undefined) child.kill(signal);
      return server.exited;
    },
    /** SIGINT (a clean stop), then SIGKILL if it has not exited within `ms`. */
    async stop(ms = 5000) {
      if (server.exitCode !== undefined) return server.exited;
      child.kill('SIGINT');
      const timer = setTimeout(() => child.kill('SIGKILL'), ms);
      await server.exited;
      clearTimeout(timer);
      return server.exited;
    },
  };
  server.exited = new Promise((resolve) =>
    child.on('exit', (code, signal) => {
      server.exitCode = code;
      server.signal = signal;
      resolve({ code, signal });
    }),
  );
  let partial = '';
  child.stdout.on('data', (chunk) => {
    const text = chunk.toString('utf8');
    server.output += text;
    const lines = (partial + text).split('\n');
    partial = lines.pop();
    for (const line of lines) {
      let entry;
      try {
        entry = JSON.parse(line);
      } catch {
        continue;
      }
      entry.process = name;
      entry.at = Date.parse(entry.time);
      server.logs.push(entry);
      if (entry.msg === 'stablegate listening') server.url = entry.url;
    }
  });
  child.stderr.on('data', (chunk) => (server.output += chunk.toString('utf8')));
  if (waitListening) {
    await until(() => server.url || server.exitCode !== undefined, 30000, `${name} did not start listening`);
    if (!server.url) throw new Error(`${name} exited (${server.exitCode ?? server.signal}) before listening:\n${server.output}`);
  }
  return server;
}

/** The environment of every server process: the test API key and webhook secret. */
const SERVER_ENV = { SG_TEST_API_KEY: API_KEY, SG_TEST_WEBHOOK_SECRET: WEBHOOK_SECRET };

/**
 * The configuration the processes of a cluster share (each listens on a port the OS picks): the
 * devnet's USDT to accounts #5 and #6 through `rpc`, webhooks to `webhookUrl` (none when null),
 * JSON logs. Secrets come from SERVER_ENV, and the PostgreSQL URL from SG_TEST_DATABASE_URL
 * when `database` says `url_env`.
 */
function serverConfig({ database, rpc, addresses, webhookUrl = null, pollMs, claims = {} }) {
  const endpoints = webhookUrl ? [{ name: 'test', url: webhookUrl, secret_env: 'SG_TEST_WEBHOOK_SECRET', allow_private: true }] : [];
  return {
    listen: { host: '127.0.0.1', port: 0 },
    database,
    networks: { devnet: { rpc: [rpc], tokens: ['usdt'], addresses, poll_ms: pollMs } },
    invoice: { expires_in: 900, monitoring: 86400, step: '0.01', max_slots: 300 },
    rates: { USD: { fixed: '1' } },
    // Retries 0.2 s apart; an attempt times out after 5 s (and its claim is hidden for that and
    // the server's margin).
    webhooks: { endpoints, retry_schedule: [0.2, 0.2, 0.2], poll_ms: 50, timeout_ms: 5000 },
    claims: { per_invoice_per_minute: 5, per_client_per_minute: 1000, ...claims },
    api_keys_env: 'SG_TEST_API_KEY',
    log: 'json',
  };
}

/** A new empty database in the PostgreSQL that `adminUrl` reaches; returns its URL. */
async function createDatabase(adminUrl) {
  const { Client } = require('pg');
  const name = 'sg_' + crypto.randomBytes(6).toString('hex');
  const client = new Client({ connectionString: adminUrl });
  await client.connect();
  try {
    await client.query(`CREATE DATABASE ${name}`);
  } finally {
    await client.end();
  }
  const url = new URL(adminUrl);
  url.pathname = '/' + name;
  return url.toString();
}

/**
 * A private PostgreSQL cluster in a temporary folder on a free port, as scripts/test-server.sh
 * starts one (initdb and pg_ctl as the postgres user when run as root; no fsync). Returns its
 * admin URL and `stop()` (a fast shutdown, then the folder is removed).
 */
async function privatePostgres() {
  const bins = fs.readdirSync('/usr/lib/postgresql').sort((a, b) => Number(a) - Number(b));
  if (!bins.length) throw new Error('no PostgreSQL under /usr/lib/postgresql (make setup installs postgresql-15)');
  const bin = path.join('/usr/lib/postgresql', bins[bins.length - 1], 'bin');
  const work = fs.mkdtempSync('/tmp/sg-pg-'); // short: the socket path must stay under 108 bytes
  fs.chmodSync(work, 0o711);
  const root = process.getuid() === 0;
  const asPostgres = (file, args) =>
    root
      ? execFileSync('setpriv', ['--reuid=postgres', '--regid=postgres', '--init-groups', '--reset-env', file, ...args], { stdio: 'pipe' })
      : execFileSync(file, args, { stdio: 'pipe' });
  if (root) execFileSync('chown', ['postgres:postgres', work]);
  const port = await new Promise((resolve) => {
    const s = require('node:net').createServer().listen(0, '127.0.0.1', () => {
      const { port: p } = s.address();
      s.close(() => resolve(p));
    });
  });
  const data = path.join(work, 'data');
  asPostgres(path.join(bin, 'initdb'), ['-D', data, '-U', 'postgres', '--auth=trust', '--encoding=UTF8', '--locale=C.UTF-8', '--no-sync', '--no-instructions']);
  asPostgres(path.join(bin, 'pg_ctl'), ['-D', data, '-l', path.join(work, 'server.log'), '-w', '-t', '30', '-o',
    `-p ${port} -k ${work} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200`, 'start']);
  const pid = Number(fs.readFileSync(path.join(data, 'postmaster.pid'), 'utf8').split('\n')[0]);
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    async stop() {
      try {
        process.kill(pid, 'SIGINT'); // fast shutdown: SIGTERM would wait for every client
      } catch {
        // already gone
      }
      await until(() => {
        try {
          process.kill(pid, 0);
          return false;
        } catch {
          return true;
        }
      }, 10000, `PostgreSQL ${pid} did not stop`);
      fs.rmSync(work, { recursive: true, force: true });
    },
  };
}

/** A folder of its own for a suite's configuration files and SQLite databases. */
function tempDir(name) {
  return fs.mkdtempSync(path.join(os.tmpdir(), `sg-${name}-`));
}

module.exports = { startServer, serverConfig, SERVER_ENV, createDatabase, privatePostgres, tempDir, until, sleep, CLI };
