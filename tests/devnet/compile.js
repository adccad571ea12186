"use strict";
// Compiles tests/devnet/contracts/*.sol with the npm `solc` package (solc-js,
// standard-JSON, fully offline) into tests/devnet/build/<Name>.json = {abi, bytecode}.
//
//   node tests/devnet/compile.js [--force] [--evm-version shanghai]
//
// Work is skipped when every expected build file is newer than every source
// (the .sol files and this script) and was built for the same evmVersion
// (solc's default, osaka, unless --evm-version is given).

const fs = require("node:fs");
const path = require("node:path");

const CONTRACTS_DIR = path.join(__dirname, "contracts");
const BUILD_DIR = path.join(__dirname, "build");
/** The deployable contracts; build/<Name>.json must exist for each. */
const CONTRACT_NAMES = ["UsdtLike", "BscUsdLike", "TronUsdtLike", "FakeUsdt"];

function sourceFiles() {
  return fs
    .readdirSync(CONTRACTS_DIR)
    .filter((f) => f.endsWith(".sol"))
    .sort();
}

function artifactPath(name, buildDir = BUILD_DIR) {
  return path.join(buildDir, `${name}.json`);
}

// build/.evm-version records the evmVersion the current artifacts were built for.
const evmMarker = (buildDir) => path.join(buildDir, ".evm-version");

/** True when all build outputs exist, are newer than all inputs and match `evmVersion`. */
function isUpToDate(buildDir = BUILD_DIR, evmVersion = "default") {
  try {
    if (fs.readFileSync(evmMarker(buildDir), "utf8").trim() !== evmVersion) return false;
  } catch {
    return false;
  }
  const inputs = [__filename, ...sourceFiles().map((f) => path.join(CONTRACTS_DIR, f))];
  const newestInput = Math.max(...inputs.map((f) => fs.statSync(f).mtimeMs));
  for (const name of CONTRACT_NAMES) {
    let st;
    try {
      st = fs.statSync(artifactPath(name, buildDir));
    } catch {
      return false;
    }
    if (st.mtimeMs <= newestInput) return false;
  }
  return true;
}

/**
 * Compile if needed.
 * @param {{force?: boolean, evmVersion?: string, buildDir?: string, quiet?: boolean}} [opts]
 * @returns {{compiled: boolean, buildDir: string, artifacts: string[]}}
 */
function compile(opts = {}) {
  const buildDir = opts.buildDir || BUILD_DIR;
  const artifacts = CONTRACT_NAMES.map((n) => artifactPath(n, buildDir));
  if (!opts.force && isUpToDate(buildDir, opts.evmVersion || "default")) {
    return { compiled: false, buildDir, artifacts };
  }

  const solc = require("solc");
  const sources = {};
  for (const f of sourceFiles()) {
    sources[f] = { content: fs.readFileSync(path.join(CONTRACTS_DIR, f), "utf8") };
  }
  const input = {
    language: "Solidity",
    sources,
    settings: {
      optimizer: { enabled: true, runs: 200 },
      ...(opts.evmVersion ? { evmVersion: opts.evmVersion } : {}),
      outputSelection: { "*": { "*": ["abi", "evm.bytecode.object"] } },
    },
  };
  // Imports are resolved only inside contracts/ (no node_modules, no network).
  const findImports = (p) => {
    const f = path.join(CONTRACTS_DIR, path.basename(p));
    return fs.existsSync(f)
      ? { contents: fs.readFileSync(f, "utf8") }
      : { error: `import not found in ${CONTRACTS_DIR}: ${p}` };
  };
  const output = JSON.parse(solc.compile(JSON.stringify(input), { import: findImports }));

  const diagnostics = output.errors || [];
  const errors = diagnostics.filter((e) => e.severity === "error");
  if (!opts.quiet) {
    for (const e of diagnostics) if (e.severity !== "error") process.stderr.write(e.formattedMessage);
  }
  if (errors.length) {
    throw new Error(
      `solc ${solc.version()} failed:\n` + errors.map((e) => e.formattedMessage).join("\n"),
    );
  }

  const found = {};
  for (const file of Object.keys(output.contracts || {})) {
    for (const [name, c] of Object.entries(output.contracts[file])) {
      if (c.evm && c.evm.bytecode && c.evm.bytecode.object) found[name] = c; // skip abstract
    }
  }
  fs.mkdirSync(buildDir, { recursive: true });
  for (const name of CONTRACT_NAMES) {
    const c = found[name];
    if (!c) throw new Error(`solc output has no deployable contract ${name}`);
    // Write atomically so a concurrent reader never sees a half-written file.
    const dest = artifactPath(name, buildDir);
    const tmp = `${dest}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, JSON.stringify({ abi: c.abi, bytecode: "0x" + c.evm.bytecode.object }, null, 1));
    fs.renameSync(tmp, dest);
  }
  fs.writeFileSync(evmMarker(buildDir), (opts.evmVersion || "default") + "\n");
  return { compiled: true, buildDir, artifacts };
}

/** Load build/<name>.json ({abi, bytecode}), compiling first if needed. */
function loadArtifact(name, opts = {}) {
  compile({ quiet: true, ...opts });
  return JSON.parse(fs.readFileSync(artifactPath(name, opts.buildDir), "utf8"));
}

module.exports = { compile, isUpToDate, loadArtifact, CONTRACT_NAMES, BUILD_DIR, CONTRACTS_DIR };

if (require.main === module) {
  const args = process.argv.slice(2);
  const force = args.includes("--force");
  const i = args.indexOf("--evm-version");
  const evmVersion = i >= 0 ? args[i + 1] : undefined;
  try {
    const t0 = Date.now();
    const r = compile({ force, evmVersion });
    console.log(
      r.compiled
        ? `compiled ${CONTRACT_NAMES.join(", ")} into ${path.relative(process.cwd(), r.buildDir) || "."} in ${Date.now() - t0} ms`
        : "build/ is up to date (use --force to recompile)",
    );
  } catch (e) {
    console.error(e.message);
    process.exit(1);
  }
}
