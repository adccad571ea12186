// The Thank-you page's block (purchase.thank-you.block.render): the order's id, the checkout's
// token (a guest's session token names no customer: the server shows a guest only the order of the
// checkout it names) and the type of the payment option the customer chose (the server's URL is
// built in: shared/server-url.mjs).
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
      checkoutToken={shopify.checkoutToken.value}
      paymentTypes={shopify.selectedPaymentOptions.value.map((option) => option.type)}
    />
  );
}

export default async () => {
  render(<ThankYou />, document.body);
};
