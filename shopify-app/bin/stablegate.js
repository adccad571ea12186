#!/usr/bin/env node
// The `stablegate` command: serve, doctor, migrate, api-key, webhooks (see `stablegate help`).
'use strict';
require('../dist/cli.js')
  .main(process.argv.slice(2))
  .then((code) => { if (typeof code === 'number') process.exitCode = code; })
  .catch((error) => { console.error(`stablegate: ${error && error.message ? error.message : error}`); process.exitCode = 1; });
