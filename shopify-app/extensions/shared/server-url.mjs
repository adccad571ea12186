// Written by extensions/configure.mjs from shopify.app.toml's application_url: do not edit by hand.
// null: the app is not configured yet (the toml still names the placeholder pay.example.com).
export const SERVER_URL = null;
