#!/usr/bin/env node
// The configuration of one instance of stablegate@.service: the shared configuration file with
// this instance's port, so that every instance reads the same settings and only its port differs.
//
//   node instance-config.js SHARED_CONFIG PORT OUT
//
// Paths the shared file gives relative to itself (widget_dir) are made absolute, since OUT lives
// elsewhere. A SQLite database is refused: SQLite serves one server process, and several
// instances need PostgreSQL (database.url_env).
'use strict';
const fs = require('node:fs');
const path = require('node:path');

function main([source, port, out]) {
  if (!source || !/^[0-9]+$/.test(port ?? '') || !out) throw new Error('usage: instance-config.js SHARED_CONFIG PORT OUT');
  const config = JSON.parse(fs.readFileSync(source, 'utf8'));
  if (config.database?.url_env === undefined) {
    throw new Error(`${source} names no PostgreSQL (database.url_env): SQLite serves one server process, so run one plain \`stablegate serve\` instead of instances`);
  }
  config.listen = { ...config.listen, port: Number(port) };
  if (typeof config.widget_dir === 'string') config.widget_dir = path.resolve(path.dirname(source), config.widget_dir);
  fs.writeFileSync(out, JSON.stringify(config, null, 2) + '\n', { mode: 0o600 });
}

try {
  main(process.argv.slice(2));
} catch (error) {
  console.error(`stablegate instance config: ${error.message}`);
  process.exitCode = 1;
}
