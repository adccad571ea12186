// Checks the vector files against their JSON Schema, and every status document the vectors
// expect (and the JS API produces) against the status document schema, with ajv.
'use strict';
const { test } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const Ajv2020 = require('ajv/dist/2020');
const sg = require('../../crates/wasm/pkg/node');

const VECTORS = __dirname;
const ajv = new Ajv2020({ allErrors: true, strict: true, strictTypes: false });
const load = (p) => JSON.parse(fs.readFileSync(path.join(VECTORS, p), 'utf8'));
const explain = (validate) => ajv.errorsText(validate.errors, { separator: '\n' });

test('every vector file follows vectors.schema.json', () => {
  const validate = ajv.compile(load('schema/vectors.schema.json'));
  let files = 0;
  for (const area of fs.readdirSync(VECTORS)) {
    if (area === 'schema' || area === 'tools' || !fs.statSync(path.join(VECTORS, area)).isDirectory()) continue;
    for (const f of fs.readdirSync(path.join(VECTORS, area)).filter((f) => f.endsWith('.json'))) {
      assert.ok(validate(load(path.join(area, f))), `${area}/${f}:\n${explain(validate)}`);
      files++;
    }
  }
  assert.ok(files >= 14, `only ${files} vector files`);
});

test('status documents follow status.schema.json', () => {
  const validate = ajv.compile(load('schema/status.schema.json'));
  const doc = load('status/status_document.json');
  assert.ok(doc.valid.length > 0);
  for (const c of doc.valid) {
    assert.ok(validate(c.output), `${c.description} (expected output):\n${explain(validate)}`);
    const produced = sg.statusDocument(c.input.invoice, {
      now: Number(c.input.context.now),
      head: c.input.context.head == null ? undefined : Number(c.input.context.head),
      return_url: c.input.context.return_url,
      poll_after_ms: Number(c.input.context.poll_after_ms),
      links: c.input.context.links,
    });
    assert.ok(validate(produced), `${c.description} (JS API):\n${explain(validate)}`);
  }
  // The schema rejects what it must: a float amount and an unknown state.
  const bad = { ...doc.valid[0].output, amount_due: 19.99 };
  assert.equal(validate(bad), false);
  assert.equal(validate({ ...doc.valid[0].output, state: 'paid' }), false);
});
