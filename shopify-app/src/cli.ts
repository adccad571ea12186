// The `stablegate` command.
import { createApiKey, ENV_KEY_NAME, revokeApiKey } from './apikeys';
import { startApp } from './app';
import { loadConfig } from './config';
import { openDb } from './db';
import { doctor } from './doctor';
import { createLogger } from './log';
import { Webhooks } from './webhooks';

const HELP = `usage: stablegate <command> [--config FILE]

  serve                       run the server (the watcher and webhook worker included)
  doctor                      check the configuration: addresses, RPCs, getLogs limits, rates, webhooks
  migrate                     bring the database schema up to date and exit
  api-key create NAME         create a merchant API key (printed once; stored hashed)
  api-key revoke ID           revoke a key by its id (key_…), e.g. one that leaked
  webhooks dead-letters       list dead-lettered webhook deliveries
  webhooks resend ID          queue a delivery again (the running server sends it)

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

export async function main(argv: string[]): Promise<number> {
  const args = [...argv];
  if (args.length === 0 || args[0] === 'help' || args[0] === '--help') {
    console.log(HELP);
    return args.length === 0 ? 1 : 0;
  }
  const file = configPath(args);
  const [command, sub, arg] = args;
  const config = loadConfig(file);
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
    default:
      console.error(HELP);
      return 1;
  }
}
