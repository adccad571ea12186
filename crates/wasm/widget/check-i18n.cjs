// Checks a language file of the widget against en.json and writes it minified:
//   node check-i18n.cjs <i18n/xx.json> <out.json> <i18n/en.json>
// Every key of en.json must be a string, with the same {placeholders}: a translation that drops
// {amount} would show the customer advice without the amount. A bad catalogue fails the build,
// not the customer's page. Run by scripts/build-wasm.sh for each file in i18n/.
'use strict';
const fs = require('node:fs');

const [source, target, english] = process.argv.slice(2);
const strings = JSON.parse(fs.readFileSync(source, 'utf8'));
const reference = JSON.parse(fs.readFileSync(english, 'utf8'));
const placeholders = (text) => [...new Set(text.match(/\{\w+\}/g) ?? [])].sort().join(' ');
const problems = [];
for (const [key, text] of Object.entries(reference)) {
  if (typeof strings[key] !== 'string') problems.push(`missing ${key}`);
  else if (placeholders(strings[key]) !== placeholders(text)) {
    problems.push(`${key} has placeholders "${placeholders(strings[key])}", en.json "${placeholders(text)}"`);
  }
}
if (problems.length) {
  console.error(`${source}: ${problems.join('; ')}`);
  process.exit(1);
}
fs.writeFileSync(target, JSON.stringify(strings));
