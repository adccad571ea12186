// The Thank-you page's block (purchase.thank-you.block.render): the order's id and the type of
// the payment option the customer chose (the server's URL is built in: shared/server-url.mjs).
import '@shopify/ui-extensions/preact';
import { render } from 'preact';
import { Block } from '../../shared/Block.jsx';
import { THANK_YOU } from '../../shared/block.mjs';

function ThankYou() {
  // Reading .value subscribes the component: it renders again when Shopify changes the value.
  return (
    <Block
      target={THANK_YOU}
      orderId={shopify.orderConfirmation.value?.order?.id}
      paymentTypes={shopify.selectedPaymentOptions.value.map((option) => option.type)}
    />
  );
}

export default async () => {
  render(<ThankYou />, document.body);
};
