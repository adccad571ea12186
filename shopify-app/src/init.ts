// `stablegate init`: from nothing to a server watching the chain. It asks (on a terminal) or takes
// flags (in scripts) for the networks and receiving addresses, checks each address with the core,
// writes a configuration that needs nothing else (the registry's public RPC endpoints, a SQLite
// database beside it, a generated webhook secret in stablegate.env), creates the first API key
// (printed once, stored hashed), and ends with `doctor`'s checks.
import crypto = require('node:crypto');
import fs = require('node:fs');
import path = require('node:path');
import readline = require('node:readline/promises');
import { createApiKey } from './apikeys';
import { loadConfig } from './config';
import sg = require('./core');
import { openDb } from './db';
import { doctor } from './doctor';
import { network as registryNetwork } from './registry';

/** The environment file beside the configuration (the systemd unit's EnvironmentFile). */
export const ENV_FILE = 'stablegate.env';

export interface InitAnswers {
  /** Network id → receiving addresses, in the order asked. */
  networks: Map<string, string[]>;
  listen: { host: string; port: number };
  publicUrl: string | null;
  webhookUrl: string | null;
  /** The currency prices are given in, and its fixed rate in USDT (null: prices in USDT only). */
  currency: { code: string; fixed: string } | null;
  /** A sandbox: test networks only (the config's `sandbox: true`). */
  sandbox: boolean;
}

interface Io {
  out: (line: string) => void;
  ask: ((question: string) => Promise<string>) | null;
}

const usage = `usage: stablegate init [--config FILE] [--sandbox] [--network ID --address ADDR[,ADDR…]]… [--listen HOST:PORT]
                       [--public-url URL] [--webhook-url URL] [--currency CODE --rate RATE | --no-fiat]
                       [--force] [--skip-doctor]
  On a terminal, init asks for what the flags do not give; in a script, --network and --address are enough.
  --sandbox: test networks only (${testnetIds().join(', ')}), test money, with the faucets' links.`;

/** The public test networks a sandbox offers (the devnet is for this project's own tests). */
function testnetIds(): string[] {
  return sg.networks().filter((n) => n.testnet && !n.id.startsWith('devnet')).map((n) => n.id);
}

/** Reads the flags of `init`; each --address belongs to the --network before it. */
function parseFlags(args: string[]) {
  const flags = { networks: new Map<string, string[]>(), listen: null as string | null, publicUrl: null as string | null, webhookUrl: null as string | null, currency: null as string | null, rate: null as string | null, noFiat: false, force: false, skipDoctor: false, sandbox: false };
  let current: string | null = null;
  for (let i = 0; i < args.length; i++) {
    const name = args[i];
    const value = () => {
      const v = args[++i];
      if (v === undefined) throw new Error(`${name} needs a value\n${usage}`);
      return v;
    };
    switch (name) {
      case '--network':
        current = value();
        if (!flags.networks.has(current)) flags.networks.set(current, []);
        break;
      case '--address':
        if (current === null) throw new Error(`--address comes after the --network it belongs to\n${usage}`);
        flags.networks.get(current)!.push(...value().split(',').map((a) => a.trim()).filter(Boolean));
        break;
      case '--listen': flags.listen = value(); break;
      case '--public-url': flags.publicUrl = value(); break;
      case '--webhook-url': flags.webhookUrl = value(); break;
      case '--currency': flags.currency = value().toUpperCase(); break;
      case '--rate': flags.rate = value(); break;
      case '--no-fiat': flags.noFiat = true; break;
      case '--force': flags.force = true; break;
      case '--skip-doctor': flags.skipDoctor = true; break;
      case '--sandbox': flags.sandbox = true; break;
      default: throw new Error(`unknown option ${name}\n${usage}`);
    }
  }
  return flags;
}

/** The core's verdict on an address, as a sentence for the merchant; null when it is valid. */
function addressProblem(networkId: string, address: string): string | null {
  try {
    sg.parseAddress(networkId, address);
    return null;
  } catch (error) {
    const net = registryNetwork(networkId)!;
    const example = net.family === 'tron' ? 'a TRON address starts with T and has 34 characters' : 'an address is 0x and 40 hexadecimal digits';
    return `${address} is not a ${net.names.en} address (${(error as Error).message}); ${example}`;
  }
}

function checkUrl(text: string, what: string): string {
  try {
    const url = new URL(text);
    if (url.protocol === 'http:' || url.protocol === 'https:') return text.replace(/\/$/, '');
  } catch {
    // said below
  }
  throw new Error(`${what} must be an http(s) URL, got ${JSON.stringify(text)}`);
}

function parseListen(text: string): { host: string; port: number } {
  const match = /^(?:(.+):)?(\d{1,5})$/.exec(text);
  const port = match ? Number(match[2]) : NaN;
  if (!match || port > 65535) throw new Error(`--listen must be HOST:PORT or PORT, got ${JSON.stringify(text)}`);
  return { host: match[1] ?? '127.0.0.1', port };
}

/** Asks until `accept` takes the answer (it returns an error sentence, or null). */
async function askUntil(io: Io, question: string, accept: (answer: string) => string | null): Promise<string> {
  for (;;) {
    const answer = (await io.ask!(question)).trim();
    const problem = accept(answer);
    if (problem === null) return answer;
    io.out(`  ${problem}`);
  }
}

/** Asks for an optional http(s) URL on a terminal (null: skipped, or no terminal). */
async function askUrl(io: Io, question: string): Promise<string | null> {
  if (!io.ask) return null;
  const answer = await askUntil(io, question, (text) => {
    if (!text) return null;
    try {
      checkUrl(text, 'It');
      return null;
    } catch (error) {
      return (error as Error).message;
    }
  });
  return answer ? checkUrl(answer, 'It') : null;
}

/** Completes the flags by asking on a terminal; without one, what is missing is an error. */
export async function gatherAnswers(args: string[], io: Io): Promise<InitAnswers & { force: boolean; skipDoctor: boolean }> {
  const flags = parseFlags(args);
  for (const [id, addresses] of flags.networks) {
    if (!registryNetwork(id)) throw new Error(`unknown network ${id} (known: ${sg.networks().map((n) => n.id).join(', ')})`);
    if (addresses.length === 0 && !io.ask) throw new Error(`--network ${id} needs an --address`);
    for (const a of addresses) {
      const problem = addressProblem(id, a);
      if (problem) throw new Error(problem);
    }
  }
  if (flags.sandbox) {
    const mainnets = [...flags.networks.keys()].filter((id) => !registryNetwork(id)!.testnet);
    if (mainnets.length) throw new Error(`--sandbox takes test networks only, and ${mainnets.join(', ')} is a mainnet (test networks: ${testnetIds().join(', ')})`);
  }
  if (flags.networks.size === 0) {
    if (!io.ask) throw new Error(`name at least one network and its receiving address\n${usage}`);
    if (!flags.sandbox) {
      const answer = await askUntil(io, 'Try it on test networks first, with test money and faucet links (sandbox)? [y/N]: ', (text) =>
        /^(y|yes|n|no|)$/i.test(text) ? null : 'Answer y or n.',
      );
      flags.sandbox = /^y/i.test(answer);
    }
    const choosable = sg.networks().filter((n) => !n.id.startsWith('devnet') && (!flags.sandbox || n.testnet));
    io.out('Networks you can accept USDT on:');
    for (const n of choosable) io.out(`  ${n.id.padEnd(12)} ${n.names.en}${n.testnet ? ' (for testing)' : ''}`);
    const example = flags.sandbox ? 'tron-nile,sepolia' : 'tron,ethereum';
    const answer = await askUntil(io, `Which networks? (ids separated by commas, e.g. ${example}): `, (text) => {
      const ids = text.split(/[\s,]+/).filter(Boolean);
      if (ids.length === 0) return 'Name at least one network.';
      const unknown = ids.filter((id) => !choosable.some((n) => n.id === id));
      return unknown.length ? `Not a network here: ${unknown.join(', ')}.` : null;
    });
    for (const id of answer.split(/[\s,]+/).filter(Boolean)) flags.networks.set(id, []);
  }
  for (const [id, addresses] of flags.networks) {
    if (addresses.length) continue;
    const name = registryNetwork(id)!.names.en;
    const answer = await askUntil(io, `Receiving address on ${name} (your own wallet; several separated by commas): `, (text) => {
      const list = text.split(/[\s,]+/).filter(Boolean);
      if (list.length === 0) return 'Paste the address your wallet shows for receiving.';
      return list.map((a) => addressProblem(id, a)).find((p) => p !== null) ?? null;
    });
    addresses.push(...answer.split(/[\s,]+/).filter(Boolean));
  }
  let listen = flags.listen ? parseListen(flags.listen) : null;
  if (!listen && io.ask) {
    const answer = await askUntil(io, 'Listen on (HOST:PORT, Enter for 127.0.0.1:8080): ', (text) => {
      if (!text) return null;
      try {
        parseListen(text);
        return null;
      } catch (error) {
        return (error as Error).message.replace('--listen', 'The address');
      }
    });
    if (answer) listen = parseListen(answer);
  }
  listen ??= { host: '127.0.0.1', port: 8080 };
  const publicUrl = flags.publicUrl
    ? checkUrl(flags.publicUrl, '--public-url')
    : await askUrl(io, 'The URL customers reach this server at (Enter to use the listen address): ');
  const webhookUrl = flags.webhookUrl
    ? checkUrl(flags.webhookUrl, '--webhook-url')
    : await askUrl(io, 'Where your shop hears of payments: webhook URL (Enter to skip): ');
  // Prices in USD at 1 USDT each unless told otherwise: the usual case, and changed in one line.
  const currency: InitAnswers['currency'] = flags.noFiat ? null : { code: flags.currency ?? 'USD', fixed: flags.rate ?? '1' };
  if (currency && !/^[A-Z]{3}$/.test(currency.code)) throw new Error(`--currency must be a three-letter code like USD, got ${currency.code}`);
  if (currency && !/^(0|[1-9][0-9]*)(\.[0-9]+)?$/.test(currency.fixed)) throw new Error(`--rate must be a decimal like 1 or 0.14, got ${currency.fixed}`);
  if (currency && currency.code !== 'USD' && flags.rate === null) throw new Error(`--currency ${currency.code} needs --rate (USDT per ${currency.code})`);
  return { networks: flags.networks, listen, publicUrl, webhookUrl, currency, sandbox: flags.sandbox, force: flags.force, skipDoctor: flags.skipDoctor };
}

/** The configuration init writes, and the environment variables it generates. */
export function buildConfig(answers: InitAnswers): { config: Record<string, unknown>; env: Record<string, string> } {
  const env: Record<string, string> = {};
  const networks: Record<string, unknown> = {};
  for (const [id, addresses] of answers.networks) {
    // No rpc: the registry's public endpoints, within their limits (watch::watch_settings).
    networks[id] = { addresses: addresses.map((a) => sg.parseAddress(id, a).address) };
  }
  const config: Record<string, unknown> = {
    listen: answers.listen,
    ...(answers.publicUrl ? { public_url: answers.publicUrl } : {}),
    database: { sqlite: 'stablegate.db' },
    networks,
    log: 'pretty',
    ...(answers.sandbox ? { sandbox: true } : {}),
  };
  if (answers.currency) config.rates = { [answers.currency.code]: { fixed: answers.currency.fixed } };
  if (answers.webhookUrl) {
    env.STABLEGATE_WEBHOOK_SECRET = crypto.randomBytes(32).toString('hex');
    config.webhooks = { endpoints: [{ name: 'shop', url: answers.webhookUrl, secret_env: 'STABLEGATE_WEBHOOK_SECRET' }] };
  }
  return { config, env };
}

/** Reads KEY=VALUE lines (comments and blank lines skipped). */
export function readEnvFile(file: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
    const match = /^\s*([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(line);
    if (match) out[match[1]] = match[2].trim();
  }
  return out;
}

/** Runs `stablegate init`; returns the exit code (1 when doctor found a problem). */
export async function init(file: string, args: string[], io: Io): Promise<number> {
  const answers = await gatherAnswers(args, io);
  const target = path.resolve(file);
  const envFile = path.join(path.dirname(target), ENV_FILE);
  if (fs.existsSync(target) && !answers.force) throw new Error(`${target} already exists; use --force to replace it`);
  const { config, env } = buildConfig(answers);
  fs.mkdirSync(path.dirname(target), { recursive: true });
  // Checked as the server will read it, before anything is written.
  const temp = path.join(path.dirname(target), `.${path.basename(target)}.${process.pid}.tmp`);
  fs.writeFileSync(temp, JSON.stringify(config));
  let loaded;
  try {
    loaded = loadConfig(temp, { ...process.env, ...env });
  } finally {
    fs.rmSync(temp, { force: true });
  }
  fs.writeFileSync(target, `${JSON.stringify(config, null, 2)}\n`, { mode: 0o640 });
  if (Object.keys(env).length) {
    fs.writeFileSync(envFile, `# Secrets of ${path.basename(target)} (stablegate init). Keep this file private.\n${Object.entries(env).map(([k, v]) => `${k}=${v}`).join('\n')}\n`, { mode: 0o600 });
  }
  const { db } = await openDb({ ...loaded.database });
  let key: string;
  try {
    key = (await createApiKey(db, 'init')).key;
  } finally {
    await db.close();
  }
  io.out(`\nWrote ${target}${Object.keys(env).length ? ` and ${envFile} (the webhook secret; mode 600)` : ''}.`);
  for (const net of loaded.networks) {
    io.out(`  ${net.id}: receiving at ${net.addresses.join(', ')}; ${net.publicRpc ? `public RPC endpoints (${net.rpc.length}), polled every ${(net.pollMs / 1000).toFixed(1)} s` : 'your RPC'}`);
  }
  if (loaded.sandbox) {
    io.out('Sandbox: test networks only; what they carry is test money, worth nothing.');
    for (const net of loaded.networks) {
      const { faucets, names } = registryNetwork(net.id)!;
      io.out(`  ${names.en}: ${faucets.length ? `test USDT and the fee coin from ${faucets.join(' , ')}` : 'no public faucet'}`);
    }
    io.out('Then pay a test invoice from your wallet: stablegate test-invoice (or the console\'s "Pay a test invoice").');
  }
  if (env.STABLEGATE_WEBHOOK_SECRET) io.out(`Webhook secret (your shop verifies the Stablegate-Signature header with it): ${env.STABLEGATE_WEBHOOK_SECRET}`);
  io.out(`API key for your shop (shown once, store it now; stored here only as a hash):\n${key}`);
  if (answers.skipDoctor) {
    io.out(`\nStart the server with: stablegate serve --config ${file}`);
    return 0;
  }
  io.out('\nChecking the configuration (stablegate doctor):');
  const findings = await doctor(loaded);
  for (const f of findings) io.out(`${f.ok ? 'ok     ' : 'PROBLEM'} ${f.message}`);
  const problems = findings.filter((f) => !f.ok).length;
  io.out(problems ? `${problems} problem(s) found; fix them, then run stablegate doctor --config ${file} again.` : `No problems found. Start the server with: stablegate serve --config ${file}`);
  return problems ? 1 : 0;
}

/** The terminal's question-and-answer loop, or null when stdin is not a terminal. */
export function terminalIo(): Io & { close(): void } {
  const out = (line: string) => process.stdout.write(`${line}\n`);
  if (!process.stdin.isTTY) return { out, ask: null, close: () => undefined };
  const rl = readline.createInterface({ input: process.stdin, output: process.stdout });
  return { out, ask: (q) => rl.question(q), close: () => rl.close() };
}
