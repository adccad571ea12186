// The `stablegate` command.
import crypto = require('node:crypto');
import fs = require('node:fs');
import path = require('node:path');
import { createApiKey, ENV_KEY_NAME, revokeApiKey } from './apikeys';
import { startApp } from './app';
import { createCompat } from './compat';
import { base32, checkPasswordStrength, otpauthUri, setAdmin } from './console/auth';
import { parseAllowList } from './compat/credentials';
import { loadConfig } from './config';
import { openDb } from './db';
import { doctor } from './doctor';
import { ENV_FILE, init, readEnvFile, terminalIo } from './init';
import { Invoices } from './invoices';
import { createLogger } from './log';
import { Rates } from './rates';
import { createTestInvoice } from './testinvoice';
import { Webhooks } from './webhooks';

const HELP = `usage: stablegate <command> [--config FILE]

  init [--sandbox]            write a working config: asks for the networks and receiving
                              addresses (or takes --network ID --address ADDR …), then runs doctor;
                              --sandbox: test networks only, with their faucet links
  test-invoice [--amount 1.00] [--network ID] [--live]
                              create a test invoice (metadata test: true; the same events and
                              webhooks as an order) and print its pay page, to pay from your own
                              wallet; on a mainnet outside the sandbox only with --live
  serve                       run the server (the watcher and webhook worker included)
  doctor                      check the configuration: addresses, RPCs, getLogs limits, rates, webhooks
  migrate                     bring the database schema up to date and exit
  api-key create NAME         create a merchant API key (printed once; stored hashed)
  api-key revoke ID           revoke a key by its id (key_…), e.g. one that leaked
  webhooks dead-letters       list dead-lettered webhook deliveries
  webhooks resend ID          queue a delivery again (the running server sends it)
  console set-password [--totp | --no-totp]
                              set the merchant console's password (read from the terminal, or
                              the first line of stdin); --totp adds a new authenticator secret
                              (printed once), --no-totp removes it; every session is signed out
  compat create NAME --protocol epusdt|epay [--allow-ip IP,CIDR…] [--allow-private-callbacks]
                              a panel's Epusdt token, or EPay pid and key (printed once; stored encrypted)
  compat list                 list the compatibility credentials (never their secrets)
  compat revoke ID            revoke a credential (cc_…) for good
  compat callbacks dead-letters | compat callbacks resend ID
                              dead-lettered Epusdt/EPay callbacks; queue one again

The config file defaults to $STABLEGATE_CONFIG or ./stablegate.config.json.`;

function configPath(args: string[]): string {
  const i = args.indexOf('--config');
  if (i >= 0) {
    const file = args[i + 1];
    args.splice(i, 2);
    if (!file) throw new Error('--config needs a file');
    return file;
  }
  return process.env.STABLEGATE_CONFIG || 'stablegate.config.json';
}

/** Takes `--name VALUE` (or a bare `--name` flag, `true`) out of `args`. */
function option(args: string[], name: string, flag = false): string | true | undefined {
  const i = args.indexOf(`--${name}`);
  if (i < 0) return undefined;
  const [, value] = args.splice(i, flag ? 1 : 2);
  if (flag) return true;
  if (value === undefined) throw new Error(`--${name} needs a value`);
  return value;
}

/** `stablegate compat …`: the Epusdt and EPay credentials, and their callbacks. */
async function compatCommand(config: ReturnType<typeof loadConfig>, args: string[]): Promise<number> {
  if (!config.compat) throw new Error('the config has no "compat" section: add one to use the Epusdt and EPay endpoints');
  const protocol = option(args, 'protocol');
  const allowIps = option(args, 'allow-ip');
  const allowPrivate = option(args, 'allow-private-callbacks', true) === true;
  const [sub, arg, arg2] = args;
  const { db } = await openDb(config.database);
  try {
    const log = createLogger('silent');
    const clock = () => Math.floor(Date.now() / 1000);
    const compat = createCompat({ ...config, compat: config.compat }, db, new Invoices(db, config, clock, log, new Rates(config.rates, clock, log)), log);
    if (sub === 'create' && arg) {
      if (protocol !== 'epusdt' && protocol !== 'epay') throw new Error('--protocol must be epusdt or epay');
      const made = await compat.credentials.create({ name: arg, protocol, allowIps: parseAllowList(typeof allowIps === 'string' ? allowIps : undefined), allowPrivate });
      const base = config.publicUrl ?? `http://${config.listen.host}:${config.listen.port}`;
      if (protocol === 'epusdt') {
        console.log(`created ${made.id}\nAPI URL: ${base}/api/v1/order/create-transaction\ntoken (shown once, store it now): ${made.secret}`);
      } else {
        console.log(`created ${made.id}\nEPay URL: ${base}/\npid: ${made.pid}\nkey (shown once, store it now): ${made.secret}`);
      }
      return 0;
    }
    if (sub === 'list') {
      for (const c of await compat.credentials.list()) {
        const ips = c.allow_ips ? (JSON.parse(c.allow_ips) as string[]).join(',') : 'any';
        console.log(`${c.id}  ${c.protocol}${c.pid !== null ? ` pid=${c.pid}` : ''}  ${c.name}  from=${ips}${Number(c.allow_private) ? '  private-callbacks' : ''}${Number(c.revoked) ? '  REVOKED' : ''}`);
      }
      return 0;
    }
    if (sub === 'revoke' && arg) {
      if (!(await compat.credentials.revoke(arg))) throw new Error(`no live compat credential has the id ${arg}`);
      console.log(`revoked ${arg}`);
      return 0;
    }
    if (sub === 'callbacks' && arg === 'dead-letters') {
      for (const c of await compat.callbacks.deadLetters()) console.log(`${c.id}  ${c.invoice_id}  attempts=${c.attempts}  ${c.last_error ?? ''}`);
      return 0;
    }
    if (sub === 'callbacks' && arg === 'resend' && arg2) {
      const c = await compat.callbacks.resend(arg2);
      console.log(`queued ${c.id} (invoice ${c.invoice_id})`);
      return 0;
    }
    throw new Error('usage: stablegate compat create NAME --protocol epusdt|epay | list | revoke ID | callbacks dead-letters | callbacks resend ID');
  } finally {
    await db.close();
  }
}

/** Reads a password: from the terminal without echo, or the first line of a pipe. */
async function readPassword(prompt: string): Promise<string> {
  const stdin = process.stdin;
  if (!stdin.isTTY) {
    const chunks: Buffer[] = [];
    for await (const chunk of stdin) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks).toString('utf8').split(/\r?\n/)[0];
  }
  process.stdout.write(prompt);
  stdin.setRawMode(true);
  stdin.resume();
  return new Promise((resolve, reject) => {
    let text = '';
    const done = (error: Error | null) => {
      stdin.setRawMode(false);
      stdin.pause();
      stdin.off('data', onData);
      process.stdout.write('\n');
      if (error) reject(error);
      else resolve(text);
    };
    const onData = (data: Buffer) => {
      for (const c of data.toString('utf8')) {
        if (c === '\r' || c === '\n') return done(null);
        if (c === '\u0003') return done(new Error('cancelled'));
        if (c === '\u007f' || c === '\b') text = text.slice(0, -1);
        else text += c;
      }
    };
    stdin.on('data', onData);
  });
}

/** `stablegate console set-password`: the merchant console's admin password and TOTP secret. */
async function consoleCommand(config: ReturnType<typeof loadConfig>, args: string[]): Promise<number> {
  const withTotp = option(args, 'totp', true) === true;
  const withoutTotp = option(args, 'no-totp', true) === true;
  if (args[0] !== 'set-password' || args.length > 1 || (withTotp && withoutTotp)) throw new Error('usage: stablegate console set-password [--totp | --no-totp]');
  const password = await readPassword('New console password: ');
  const weak = checkPasswordStrength(password);
  if (weak) throw new Error(weak);
  if (process.stdin.isTTY && (await readPassword('Again: ')) !== password) throw new Error('the two passwords differ');
  const secret = withTotp ? base32(crypto.randomBytes(20)) : withoutTotp ? null : undefined;
  const { db } = await openDb(config.database);
  try {
    await setAdmin(db, password, secret);
  } finally {
    await db.close();
  }
  console.log('console password set; every console session is signed out');
  if (secret) console.log(`TOTP secret (shown once; add it to an authenticator app): ${secret}\n${otpauthUri(secret)}`);
  return 0;
}

export async function main(argv: string[]): Promise<number> {
  const args = [...argv];
  if (args.length === 0 || args[0] === 'help' || args[0] === '--help') {
    console.log(HELP);
    return args.length === 0 ? 1 : 0;
  }
  const file = configPath(args);
  const [command, sub, arg] = args;
  if (command === 'init') {
    const io = terminalIo();
    try {
      return await init(file, args.slice(1), io);
    } finally {
      io.close();
    }
  }
  // The secrets init generated, beside the config; the environment (a systemd EnvironmentFile,
  // a container's variables) wins over the file.
  const envFile = path.join(path.dirname(path.resolve(file)), ENV_FILE);
  const fileEnv = fs.existsSync(envFile) ? readEnvFile(envFile) : {};
  const config = loadConfig(file, { ...fileEnv, ...process.env });
  switch (command) {
    case 'serve': {
      const app = await startApp(config);
      const stop = (signal: string) => {
        createLogger(config.log).info('stopping', { signal });
        void app.stop().then(() => process.exit(0));
      };
      process.once('SIGINT', () => stop('SIGINT'));
      process.once('SIGTERM', () => stop('SIGTERM'));
      return new Promise<number>(() => undefined);
    }
    case 'doctor': {
      const findings = await doctor(config);
      for (const f of findings) console.log(`${f.ok ? 'ok     ' : 'PROBLEM'} ${f.message}`);
      const problems = findings.filter((f) => !f.ok).length;
      console.log(problems ? `${problems} problem(s) found.` : 'No problems found.');
      return problems ? 1 : 0;
    }
    case 'migrate': {
      const { db, applied } = await openDb(config.database);
      await db.close();
      console.log(applied.length ? `applied migrations ${applied.join(', ')}` : 'schema already current');
      return 0;
    }
    case 'api-key': {
      if ((sub !== 'create' && sub !== 'revoke') || !arg) throw new Error('usage: stablegate api-key create NAME | api-key revoke ID');
      const { db } = await openDb(config.database);
      try {
        if (sub === 'revoke') {
          if (!(await revokeApiKey(db, arg))) throw new Error(`no live API key has the id ${arg}`);
          console.log(`revoked ${arg}`);
          return 0;
        }
        // That name marks the keys of api_keys_env, which the server revokes once they leave it.
        if (arg === ENV_KEY_NAME) throw new Error(`"${ENV_KEY_NAME}" is the name of the keys from api_keys_env; choose another name`);
        const { id, key } = await createApiKey(db, arg);
        console.log(`created ${id}; the key (shown once, store it now):\n${key}`);
        return 0;
      } finally {
        await db.close();
      }
    }
    case 'webhooks': {
      const { db } = await openDb(config.database);
      try {
        const hooks = new Webhooks(config, db, createLogger('silent'));
        if (sub === 'dead-letters') {
          for (const d of await hooks.deadLetters()) console.log(`${d.id}  ${d.event_id}  ${d.endpoint}  attempts=${d.attempts}  ${d.last_error ?? ''}`);
          return 0;
        }
        if (sub === 'resend' && arg) {
          const d = await hooks.resend(arg);
          console.log(`queued ${d.id} (${d.event_id} to ${d.endpoint})`);
          return 0;
        }
        throw new Error('usage: stablegate webhooks dead-letters | webhooks resend ID');
      } finally {
        await db.close();
      }
    }
    case 'test-invoice': {
      const rest = args.slice(1);
      const amount = option(rest, 'amount');
      const network = option(rest, 'network');
      const live = option(rest, 'live', true) === true;
      if (rest.length || amount === true || network === true) throw new Error('usage: stablegate test-invoice [--amount 1.00] [--network ID] [--live]');
      const { db } = await openDb(config.database);
      try {
        const clock = () => Math.floor(Date.now() / 1000);
        const log = createLogger('silent');
        const invoices = new Invoices(db, config, clock, log, new Rates(config.rates, clock, log));
        const made = await createTestInvoice(invoices, config, { amount: amount ?? null, network: network ?? null, live }, 'cli:test-invoice', config.publicUrl ?? `http://${config.listen.host}:${config.listen.port}`);
        console.log(`created test invoice ${made.id} on ${made.networks.join(', ')} (metadata test: true)${config.sandbox ? '; sandbox: test money' : live ? '; LIVE: real USDT' : ''}`);
        console.log(`Pay it from your own wallet: ${made.payUrl}`);
        console.log('The running server watches for the payment; the console shows its events and webhook deliveries.');
        return 0;
      } finally {
        await db.close();
      }
    }
    case 'compat':
      return compatCommand(config, args.slice(1));
    case 'console':
      return consoleCommand(config, args.slice(1));
    default:
      console.error(HELP);
      return 1;
  }
}
