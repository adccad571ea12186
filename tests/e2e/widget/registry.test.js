// The widget's wasm is a build of its own (crates/wasm without the `server` feature) whose
// registry table build.rs compiles from crates/core/data/networks.json with fields left out.
// `cargo test --workspace` checks only the server build's table; this checks the built widget
// wasm, as shipped, against the Node build on every network and token of the registry: the
// functions the widget calls give the same answers. scripts/test-widget.sh also runs the widget
// build's unit test (cargo test -p stablegate-wasm --no-default-features).
'use strict';
const { test } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const node = require('../../../crates/wasm/pkg/node');
const { WIDGET_DIR } = require('./host');

// The glue that scripts/build-wasm.sh bundled into the widget's module, and the wasm it shipped.
const GLUE = path.resolve(__dirname, '../../../target/wasm-widget/pkg/stablegate_wasm.js');

test('the widget wasm agrees with the Node build on every network and token of the registry', async () => {
  const widget = await import(GLUE);
  widget.initSync({ module: fs.readFileSync(path.join(WIDGET_DIR, 'stablegate_wasm_bg.wasm')) });
  const networks = node.networks();
  assert.ok(networks.length >= 10);
  let checked = 0;
  for (const network of networks) {
    for (const token of network.tokens) {
      for (const amount of ['1', '0.000001', '19.99']) {
        assert.equal(widget.toBaseUnits(network.id, amount, token.id), node.toBaseUnits(network.id, amount, token.id), `${network.id}/${token.id} ${amount}`);
      }
      // Any valid address of the network serves as a recipient: the token's own contract.
      assert.equal(widget.transferCalldata(network.id, token.contract, '12340000'), node.transferCalldata(network.id, token.contract, '12340000'), network.id);
      assert.equal(widget.balanceOfCalldata(network.id, token.contract), node.balanceOfCalldata(network.id, token.contract), network.id);
      checked += 1;
    }
    const hash = network.family === 'tron' ? 'AB'.repeat(32) : `0x${'AB'.repeat(32)}`;
    assert.equal(widget.normalizeTxHash(network.id, hash), node.normalizeTxHash(network.id, hash), network.id);
  }
  assert.equal(checked, networks.reduce((n, net) => n + net.tokens.length, 0));
  for (const [call, args] of [['toBaseUnits', ['no-such-network', '1']], ['toBaseUnits', ['ethereum', '1', 'no-such-token']]]) {
    const code = (fn) => {
      try {
        fn(...args);
      } catch (e) {
        return e.code;
      }
      return 'no error';
    };
    assert.equal(code(widget[call]), code(node[call]), `${call}(${args})`);
  }
});

test('the full web build (pkg/web, for pages that use the core directly) has the same registry as pkg/node', async () => {
  const web = await import(path.join(WIDGET_DIR, '../web/stablegate_wasm.js'));
  web.initSync({ module: fs.readFileSync(path.join(WIDGET_DIR, '../web/stablegate_wasm_bg.wasm')) });
  assert.deepEqual(web.networks(), node.networks());
  assert.equal(web.parseAddress('tron', 'TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t').hex, '0xa614f803b6fd780986a42c78ec9c7f77e6ded13c');
});
