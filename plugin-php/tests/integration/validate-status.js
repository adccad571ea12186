// Validates an array of status documents (JSON file given as argv[2]) against the shared schema.
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const root = path.resolve(__dirname, '../../..');
const Ajv2020 = require(path.join(root, 'node_modules/ajv/dist/2020'));
const ajv = new Ajv2020({ allErrors: true, strict: true, strictTypes: false });
const validate = ajv.compile(JSON.parse(fs.readFileSync(path.join(root, 'tests/vectors/schema/status.schema.json'), 'utf8')));
const docs = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
let bad = 0;
docs.forEach((doc, i) => {
  if (!validate(doc)) {
    bad++;
    console.log(`document ${i} (${doc.invoice}, ${doc.state}): ${ajv.errorsText(validate.errors)}`);
  }
});
if (docs.length === 0) { console.log('no documents'); process.exit(1); }
process.exit(bad ? 1 : 0);
