// The peer page of the navigation → QR benchmark: the same status document, drawn with the npm
// `qrcode` library (bundled by esbuild at bench time) instead of the widget. It does what the
// widget does before its QR shows: fetch the document, encode payment_uri, insert the SVG.
import QRCode from 'qrcode';

const url = document.querySelector('[data-status-url]').dataset.statusUrl;
const doc = await (await fetch(url, { cache: 'no-store' })).json();
const svg = await QRCode.toString(doc.payment_uri, { type: 'svg', errorCorrectionLevel: 'M', margin: 4 });
const target = document.querySelector('#qr');
target.innerHTML = svg;
window.__qrAt = performance.now();
