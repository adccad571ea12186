// Writes the Stablegate server's URL into the extensions before `shopify app deploy` bundles them:
// the single source is `application_url` in shopify.app.toml (the embedded page's URL, which the
// merchant sets once to https://<their server>/shopify); the extensions ask the server at its
// origin and path without the trailing /shopify. Checkout UI extensions cannot read the app's URL
// at run time, so it is built in. `node extensions/configure.mjs --check` exits 1 when
// shared/server-url.mjs does not say what the toml says (the test suite runs it).
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const TOML = path.join(HERE, '..', 'shopify.app.toml');
const OUT = path.join(HERE, 'shared', 'server-url.mjs');
/** The toml's placeholder: an app deployed with it has no server yet (the block tells the merchant). */
const PLACEHOLDER_HOST = 'pay.example.com';

/** The server URL the toml's application_url names, or null for the placeholder. */
export function serverUrlOf(toml) {
  const m = /^application_url\s*=\s*"([^"]+)"\s*$/m.exec(toml);
  if (!m) throw new Error('shopify.app.toml: no application_url = "https://…" line');
  const url = new URL(m[1]);
  if (url.protocol !== 'https:') throw new Error(`shopify.app.toml: application_url must be https, got ${m[1]}`);
  if (url.hostname === PLACEHOLDER_HOST) return null;
  return `${url.origin}${url.pathname.replace(/\/+$/, '').replace(/\/shopify$/, '')}`;
}

export function moduleText(serverUrl) {
  return `// Written by extensions/configure.mjs from shopify.app.toml's application_url: do not edit by hand.
// null: the app is not configured yet (the toml still names the placeholder ${PLACEHOLDER_HOST}).
export const SERVER_URL = ${JSON.stringify(serverUrl)};
`;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  const text = moduleText(serverUrlOf(fs.readFileSync(TOML, 'utf8')));
  if (process.argv.includes('--check')) {
    if (fs.readFileSync(OUT, 'utf8') !== text) {
      process.stderr.write('extensions/shared/server-url.mjs does not match shopify.app.toml: run `npm run extensions:configure`\n');
      process.exit(1);
    }
  } else {
    fs.writeFileSync(OUT, text);
    process.stdout.write(`extensions/shared/server-url.mjs: ${text.split('\n')[2]}\n`);
  }
}
