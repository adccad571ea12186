// The Admin GraphQL documents the app sends, and the one way they are sent: the library's
// GraphQL client with the shop's offline token. Every document is here, named, so that the
// tests validate each against Shopify's Admin schema (the fake Shopify validates every request too).
import { Session, Shopify } from '@shopify/shopify-api';
import { ApiError } from '../errors';
import type { Shops } from './shops';

/** The app's metafields on an order: reserved to this app by Shopify's `$app:` prefix. */
export const METAFIELD_NAMESPACE = '$app:stablegate';

export const DOCUMENTS = {
  order: `query StablegateOrder($id: ID!) {
  order(id: $id) {
    id name cancelledAt displayFinancialStatus paymentGatewayNames presentmentCurrencyCode note checkoutToken
    customer { id }
    totalOutstandingSet { presentmentMoney { amount currencyCode } }
    transactions(first: 100) {
      id kind status gateway manualPaymentGateway manuallyCapturable
      amountSet { presentmentMoney { amount currencyCode } }
      parentTransaction { id }
    }
    invoice: metafield(namespace: "${METAFIELD_NAMESPACE}", key: "invoice_id") { value }
  }
}`,
  /** What a known order's guest is checked against on every later look: its checkout token alone. */
  orderCheckout: `query StablegateOrderCheckout($id: ID!) {
  order(id: $id) { id checkoutToken }
}`,
  orderUpdate: `mutation StablegateOrderUpdate($input: OrderInput!) {
  orderUpdate(input: $input) { order { id } userErrors { field message } }
}`,
  orderCapture: `mutation StablegateOrderCapture($input: OrderCaptureInput!) {
  orderCapture(input: $input) {
    transaction { id kind status amountSet { presentmentMoney { amount currencyCode } } }
    userErrors { field message }
  }
}`,
  orderCancel: `mutation StablegateOrderCancel($orderId: ID!, $reason: OrderCancelReason!, $refund: Boolean!, $restock: Boolean!, $notifyCustomer: Boolean, $staffNote: String) {
  orderCancel(orderId: $orderId, reason: $reason, refund: $refund, restock: $restock, notifyCustomer: $notifyCustomer, staffNote: $staffNote) {
    job { id }
    orderCancelUserErrors { code field message }
  }
}`,
} as const;

export interface Money {
  amount: string;
  currencyCode: string;
}

export interface OrderTransaction {
  id: string;
  kind: string;
  status: string;
  gateway: string | null;
  manualPaymentGateway: boolean;
  manuallyCapturable: boolean;
  amountSet: { presentmentMoney: Money };
  parentTransaction: { id: string } | null;
}

export interface ShopifyOrder {
  id: string;
  name: string;
  cancelledAt: string | null;
  displayFinancialStatus: string | null;
  paymentGatewayNames: string[];
  presentmentCurrencyCode: string;
  note: string | null;
  /** The token of the checkout the order came from (API 2026-07); null for an order made without one (admin, API). */
  checkoutToken: string | null;
  customer: { id: string } | null;
  totalOutstandingSet: { presentmentMoney: Money };
  transactions: OrderTransaction[];
  invoice: { value: string } | null;
}

interface UserError {
  field: string[] | null;
  message: string;
}

/** A mutation Shopify refused (its userErrors): retried later by the caller, never taken as done. */
export class ShopifyUserError extends Error {
  constructor(
    readonly mutation: string,
    readonly userErrors: UserError[],
  ) {
    super(`${mutation} refused: ${userErrors.map((e) => `${(e.field ?? []).join('.') || '(order)'}: ${e.message}`).join('; ')}`);
  }
}

/** An order id as the extension sends it (its GID, or the number in it), as a GID. */
export function orderGid(input: unknown): string | null {
  if (typeof input !== 'string') return null;
  const m = /^(?:gid:\/\/shopify\/Order\/)?([1-9][0-9]{0,19})$/.exec(input);
  return m ? `gid://shopify/Order/${m[1]}` : null;
}

/** The Admin API of one shop, as the app's offline token allows. */
export class Admin {
  constructor(
    private readonly shopify: Shopify,
    readonly shop: string,
    private readonly accessToken: string,
  ) {}

  /** The admin of an installed shop; `shop_not_installed` (409) when it has no usable token. */
  static async of(shopify: Shopify, shops: Shops, shop: string): Promise<Admin> {
    const token = await shops.token(shop);
    if (token === null) throw new ApiError('shop_not_installed', `${shop} has no access token here: the merchant opens the app in the Shopify admin to install it`);
    return new Admin(shopify, shop, token);
  }

  private async request<T>(document: string, variables: Record<string, unknown>): Promise<T> {
    const session = new Session({ id: this.shopify.session.getOfflineId(this.shop), shop: this.shop, state: '', isOnline: false, accessToken: this.accessToken });
    const client = new this.shopify.clients.Graphql({ session });
    // The library throws on transport errors, non-2xx answers and GraphQL `errors`.
    const response = await client.request<T>(document, { variables, retries: 1 });
    return response.data as T;
  }

  async order(id: string): Promise<ShopifyOrder | null> {
    return (await this.request<{ order: ShopifyOrder | null }>(DOCUMENTS.order, { id })).order;
  }

  /** The order's checkout token: null for an order without one, or no such order. */
  async checkoutToken(id: string): Promise<string | null> {
    return (await this.request<{ order: { checkoutToken: string | null } | null }>(DOCUMENTS.orderCheckout, { id })).order?.checkoutToken ?? null;
  }

  async updateOrder(input: Record<string, unknown>): Promise<void> {
    const data = await this.request<{ orderUpdate: { userErrors: UserError[] } }>(DOCUMENTS.orderUpdate, { input });
    if (data.orderUpdate.userErrors.length) throw new ShopifyUserError('orderUpdate', data.orderUpdate.userErrors);
  }

  async capture(input: { id: string; parentTransactionId: string; amount: string; currency: string }): Promise<OrderTransaction> {
    const data = await this.request<{ orderCapture: { transaction: OrderTransaction | null; userErrors: UserError[] } }>(DOCUMENTS.orderCapture, { input });
    if (data.orderCapture.userErrors.length || !data.orderCapture.transaction) throw new ShopifyUserError('orderCapture', data.orderCapture.userErrors);
    return data.orderCapture.transaction;
  }

  async cancel(orderId: string, restock: boolean, staffNote: string): Promise<void> {
    const data = await this.request<{ orderCancel: { orderCancelUserErrors: UserError[] } }>(DOCUMENTS.orderCancel, {
      orderId,
      reason: 'DECLINED',
      refund: false,
      restock,
      notifyCustomer: false,
      staffNote,
    });
    if (data.orderCancel.orderCancelUserErrors.length) throw new ShopifyUserError('orderCancel', data.orderCancel.orderCancelUserErrors);
  }
}
