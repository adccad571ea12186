// "Pay a test invoice" (issue 18): an invoice the merchant pays from their own wallet, created by
// the production path (Invoices.create: the same events, the same webhooks to the configured
// endpoints), marked `metadata.test: true` so the merchant's system can tell it from an order.
// `stablegate test-invoice` and the console's button both call createTestInvoice.
import type { Config } from './config';
import { ApiError } from './errors';
import type { Invoices } from './invoices';
import { network as registryNetwork } from './registry';

/** The amount of a test invoice when none is given, in USDT. */
export const TEST_AMOUNT = '1.00';

/** What the merchant asks for: an amount, one network (all configured ones when absent), live. */
export interface TestInvoiceRequest {
  amount?: string | null;
  network?: string | null;
  /** Allows mainnets outside the sandbox: a live test with real USDT, made deliberately. */
  live?: boolean;
}

/** A test invoice the server refuses, with the sentence that says why and what to do. */
export class TestInvoiceRefused extends ApiError {
  constructor(message: string) {
    super('test_invoice_refused', message);
  }
}

/**
 * The networks a test invoice offers, or the refusal: outside the sandbox a mainnet takes real
 * USDT, so it needs `live`.
 */
export function testNetworks(config: Config, request: TestInvoiceRequest): string[] {
  const configured = config.networks.map((n) => n.id);
  if (request.network && !configured.includes(request.network)) {
    throw new TestInvoiceRefused(`${request.network} is not a network of this server (configured: ${configured.join(', ')})`);
  }
  const chosen = request.network ? [request.network] : configured;
  const mainnets = chosen.filter((id) => !registryNetwork(id)?.testnet);
  if (!config.sandbox && mainnets.length && !request.live) {
    throw new TestInvoiceRefused(
      `This server is not in sandbox and ${mainnets.join(', ')} ${mainnets.length > 1 ? 'are mainnets' : 'is a mainnet'}: ` +
        'the test invoice would be paid with real USDT. Give --live (in the console: tick "live test") to pay one deliberately, ' +
        'or try it on a testnet first with stablegate init --sandbox.',
    );
  }
  return chosen;
}

/** Creates a test invoice (links under `baseUrl`); returns its id and its pay page. */
export async function createTestInvoice(invoices: Invoices, config: Config, request: TestInvoiceRequest, by: string, baseUrl: string): Promise<{ id: string; payUrl: string; networks: string[] }> {
  const networks = testNetworks(config, request);
  const created = await invoices.create(
    {
      amount: request.amount || TEST_AMOUNT,
      order_id: `test-${Math.floor(Date.now() / 1000)}`,
      networks: networks.map((network) => ({ network })),
      metadata: { test: true, sandbox: config.sandbox, created_by: by },
    },
    by,
    null,
    baseUrl,
  );
  const body = created.body as { id: string; pay_url: string };
  return { id: body.id, payUrl: body.pay_url, networks };
}
