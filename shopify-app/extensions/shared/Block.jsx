// The block both extensions render: it asks the Stablegate server for the order's invoice with the
// extension's session token and draws the view that block.mjs decides, with Shopify's own
// components (the same tags exist on the Thank-you and the Order status surfaces).
import { useEffect, useState } from 'preact/hooks';
import { checkoutRequest, invoiceView, loadingView, next, NOT_CONFIGURED, serverUrl, shouldAsk } from './block.mjs';
import { SERVER_URL } from './server-url.mjs';

/** How long one request may take before it counts as no answer. */
const TIMEOUT_MS = 10000;

async function ask(base, orderId, checkoutToken) {
  const token = await shopify.sessionToken.get();
  const { url, init } = checkoutRequest(base, orderId, token, checkoutToken);
  try {
    const response = await fetch(url, { ...init, signal: AbortSignal.timeout(TIMEOUT_MS) });
    let body = null;
    try {
      body = await response.json();
    } catch {
      body = null;
    }
    return { status: response.status, body };
  } catch (error) {
    return { error: String(error) };
  }
}

/** The view for `inputs` ({ target, orderId, checkoutToken, paymentTypes, cancelled }), kept up to date. */
function useInvoiceView(inputs) {
  // The server's URL is built in from shopify.app.toml (extensions/configure.mjs): one place.
  const base = serverUrl(SERVER_URL);
  const wanted = shouldAsk(inputs);
  const [view, setView] = useState(() => /** @type {import('./block.mjs').View} */ (!wanted ? { kind: 'hidden' } : base ? loadingView() : { kind: 'message', tone: 'warning', heading: 'USDT payment', text: NOT_CONFIGURED }));
  useEffect(() => {
    if (!wanted || !base) return undefined;
    let stopped = false;
    let timer = null;
    /** @type {import('./block.mjs').View | null} */
    let shown = null;
    const turn = async (attempt) => {
      const step = next(await ask(base, inputs.orderId, inputs.checkoutToken), attempt, shown);
      if (stopped) return;
      shown = step.view;
      setView(step.view);
      if (step.retryInMs !== undefined) timer = setTimeout(() => turn(step.poll ? 0 : attempt + 1), step.retryInMs);
    };
    turn(0);
    return () => {
      stopped = true;
      if (timer) clearTimeout(timer);
    };
  }, [wanted, base, inputs.orderId, inputs.checkoutToken]);
  return view;
}

export function Block(inputs) {
  const view = useInvoiceView(inputs);
  if (view.kind === 'hidden') return null;
  if (view.kind === 'loading') {
    return (
      <s-stack direction="inline" gap="base" alignItems="center">
        <s-spinner accessibilityLabel="Loading" />
        <s-text>{view.text}</s-text>
      </s-stack>
    );
  }
  const button = view.payUrl && view.button ? <s-button href={view.payUrl} target="_blank" variant="primary">{view.button}</s-button> : null;
  if (view.kind === 'pay') {
    return (
      <s-stack direction="block" gap="base">
        <s-heading>{view.heading}</s-heading>
        <s-text type="strong">{view.amount}</s-text>
        <s-text>{view.text}</s-text>
        {view.qr ? <s-qr-code content={view.qr} accessibilityLabel={`Payment QR code: ${view.amount}`} /> : null}
        {button}
      </s-stack>
    );
  }
  return (
    <s-banner heading={view.heading} tone={view.tone}>
      <s-stack direction="block" gap="base">
        <s-text>{view.text}</s-text>
        {button}
      </s-stack>
    </s-banner>
  );
}
