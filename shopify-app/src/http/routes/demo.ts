// Demo mode only (config.demo, devnet networks only; app.ts registers these in no other mode): the
// pay page's "pay from the demo wallet" button and the endpoint it calls.
import type { Config } from '../../config';
import sg = require('../../core');
import { ApiError } from '../../errors';
import type { Invoices } from '../../invoices';
import type { Logger } from '../../log';
import { DEMO_WALLET_JS } from '../../paypage';
import { token as registryToken } from '../../registry';
import type { Watcher } from '../../watcher';
import { Asset, Route, send } from '../router';

interface DemoServices {
  /** The demo settings: having them is being in demo mode. */
  demo: NonNullable<Config['demo']>;
  invoices: Invoices;
  watcher: Watcher;
  clock: () => number;
  log: Logger;
}

export function demoRoutes({ demo, invoices, watcher, clock, log }: DemoServices): Route[] {
  return [
    {
      method: 'POST',
      path: '/demo/pay/{id}',
      auth: 'public',
      handler: async (ctx) => {
        // Sends the invoice's remaining amount from an unlocked devnet account, as a customer's
        // wallet would. The server still learns of the payment only from the chain, like any other.
        const row = await invoices.require(ctx.params.id);
        const record = invoices.record(row);
        if (!record) throw new ApiError('network_not_chosen', 'choose a network first');
        const status = sg.invoiceStatus(record, clock());
        if (status.amount_remaining === '0') throw new ApiError('nothing_to_pay', 'this invoice needs no more payment');
        const token = registryToken(record.network, record.token)!;
        const tx = {
          from: demo.wallet,
          to: sg.parseAddress(record.network, token.contract).hex,
          gas: '0x30d40',
          data: sg.transferCalldata(record.network, record.recipient, status.amount_remaining),
        };
        const txHash = await watcher.rpc(record.network).call<string>('eth_sendTransaction', [tx]);
        log.info('demo wallet paid', { invoice: row.id, tx: txHash, amount: sg.formatAmount(record.network, status.amount_remaining, record.token) });
        send(ctx.res, 200, { tx_hash: txHash });
      },
    },
  ];
}

export const demoAssets: Asset[] = [
  {
    path: '/assets/demo-wallet.js',
    serve: (res) => {
      res.writeHead(200, { 'content-type': 'text/javascript; charset=utf-8' });
      res.end(DEMO_WALLET_JS);
    },
  },
];
