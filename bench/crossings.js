// Counts the calls a host makes across the wasm boundary: `counting(module)` returns a Proxy of
// the core's Node build whose functions count every call by name, for bench/engine.js and the
// server's benchmark (shopify-app/bench/server.bench.js, which puts it in place of the export of
// shopify-app/src/core.ts before the server loads). Benchmarks only: nothing in the server uses it.
'use strict';

function counting(module) {
  const counts = new Map();
  const wrapped = new Map();
  const sg = new Proxy(module, {
    get(target, name, receiver) {
      const value = Reflect.get(target, name, receiver);
      if (typeof value !== 'function' || typeof name !== 'string') return value;
      if (!wrapped.has(name)) {
        wrapped.set(name, function crossing(...args) {
          counts.set(name, (counts.get(name) ?? 0) + 1);
          return value.apply(this, args);
        });
      }
      return wrapped.get(name);
    },
  });
  /** The counts so far, `{ name: calls }`. */
  const snapshot = () => Object.fromEntries(counts);
  /** The calls since `before` (a snapshot): `{ total, by: { name: calls } }`, most called first. */
  const since = (before) => {
    const by = {};
    for (const [name, n] of counts) if (n - (before[name] ?? 0) > 0) by[name] = n - (before[name] ?? 0);
    const sorted = Object.fromEntries(Object.entries(by).sort((a, b) => b[1] - a[1]));
    return { total: Object.values(by).reduce((a, b) => a + b, 0), by: sorted };
  };
  return {
    sg,
    snapshot,
    since,
    /** Runs `run()` and returns `{ result, total, by }`: the calls it made. */
    count(run) {
      const before = snapshot();
      const result = run();
      return { result, ...since(before) };
    },
  };
}

/** `{ name: n }` as "name n, other m" (each divided by `per`, for rates). */
function describe(by, per = 1) {
  const fmt = (n) => (Number.isInteger(n / per) ? String(n / per) : (n / per).toFixed(2));
  return Object.entries(by).map(([name, n]) => `${name} ${fmt(n)}`).join(', ') || 'none';
}

module.exports = { counting, describe };
