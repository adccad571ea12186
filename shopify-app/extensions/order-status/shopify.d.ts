// The `shopify` global of this extension's module, as Shopify CLI declares it (types only).
import '@shopify/ui-extensions';

//@ts-ignore
declare module './src/OrderStatus.jsx' {
  const shopify: import('@shopify/ui-extensions/customer-account.order-status.block.render').Api;
  const globalThis: { shopify: typeof shopify };
}
