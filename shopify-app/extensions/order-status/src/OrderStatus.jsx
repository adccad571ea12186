// The Order status page's block (customer-account.order-status.block.render): the page exposes
// no payment option, so the server alone tells whether the order is the USDT method's.
import '@shopify/ui-extensions/preact';
import { render } from 'preact';
import { Block } from '../../shared/Block.jsx';
import { ORDER_STATUS } from '../../shared/block.mjs';

function OrderStatus() {
  const order = shopify.order.value;
  return <Block target={ORDER_STATUS} orderId={order?.id} cancelled={Boolean(order?.cancelledAt)} />;
}

export default async () => {
  render(<OrderStatus />, document.body);
};
