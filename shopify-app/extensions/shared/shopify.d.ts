// The shared block runs in both extensions; it uses only what both targets' `shopify` have
// (the session token), typed here as the Thank-you target's (types only).
import '@shopify/ui-extensions';

//@ts-ignore
declare module './Block.jsx' {
  const shopify: import('@shopify/ui-extensions/purchase.thank-you.block.render').Api;
  const globalThis: { shopify: typeof shopify };
}
