// The Epusdt and EPay compatibility layer, assembled: credentials, the two protocols over the one
// order path (Invoices.create), and the callback worker. The server (app.ts) and the CLI build it
// here; the routes are http/routes/compat.ts.
import type { Config, CompatConfig } from '../config';
import type { Db } from '../db';
import type { Invoices } from '../invoices';
import type { Logger } from '../log';
import { CompatCallbacks } from './callbacks';
import { Credentials, SecretBox } from './credentials';
import { EPay } from './epay';
import { Epusdt } from './epusdt';
import { CompatOrders } from './orders';

export interface Compat {
  credentials: Credentials;
  epusdt: Epusdt;
  epay: EPay;
  callbacks: CompatCallbacks;
}

/** Builds the compatibility layer of `config` (its `compat` section must be present). */
export function createCompat(config: Config & { compat: CompatConfig }, db: Db, invoices: Invoices, log: Logger): Compat {
  const credentials = new Credentials(db, new SecretBox(config.compat.encryptionKey));
  const orders = new CompatOrders(db, invoices, config);
  return {
    credentials,
    epusdt: new Epusdt(orders, credentials),
    epay: new EPay(orders, credentials),
    callbacks: new CompatCallbacks(config.compat, db, invoices, orders, credentials, log),
  };
}
