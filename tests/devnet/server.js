"use strict";
// In-process Hardhat 2 JSON-RPC server. Started by devnet.js as a child
// process (`node server.js`), so the PID devnet.js records IS the server.
//
// Env (set by devnet.js): DEVNET_HOST (127.0.0.1), DEVNET_PORT (0 = OS-chosen),
// DEVNET_EXIT_ON_DISCONNECT=1 (exit when the parent's IPC channel closes),
// HARDHAT_CONFIG, XDG_*_HOME, HOME, HARDHAT_DISABLE_TELEMETRY_PROMPT.
//
// Readiness is reported over the IPC channel as {type:"ready", url, pid}, and
// also printed as one JSON line on stdout (which devnet.js sends to the log).

process.env.HARDHAT_DISABLE_TELEMETRY_PROMPT = "true";
process.env.HARDHAT_CONFIG = process.env.HARDHAT_CONFIG || require("node:path").join(__dirname, "hardhat.config.js");
process.chdir(__dirname);

let server;
let stopping = false;

async function shutdown(reason, code = 0) {
  if (stopping) return;
  stopping = true;
  console.log(`[devnet] stopping (${reason})`);
  // Never hang on shutdown: force the exit if close() stalls.
  setTimeout(() => process.exit(code), 2000).unref();
  try {
    if (server) await server.close();
  } catch (e) {
    console.error("[devnet] error while closing:", e);
  }
  process.exit(code);
}

process.on("SIGTERM", () => shutdown("SIGTERM"));
process.on("SIGINT", () => shutdown("SIGINT"));
process.on("SIGHUP", () => shutdown("SIGHUP"));
if (process.env.DEVNET_EXIT_ON_DISCONNECT === "1") {
  process.on("disconnect", () => shutdown("parent disconnected"));
}

(async () => {
  const hre = require("hardhat");
  const { TASK_NODE_CREATE_SERVER } = require("hardhat/builtin-tasks/task-names");
  const provider = hre.network.provider;
  // Same as `hardhat node`: one log line per RPC call (goes to the log file).
  await provider.request({ method: "hardhat_setLoggingEnabled", params: [true] });
  const host = process.env.DEVNET_HOST || "127.0.0.1";
  server = await hre.run(TASK_NODE_CREATE_SERVER, {
    hostname: host,
    port: Number(process.env.DEVNET_PORT || 0),
    provider,
  });
  const { port } = await server.listen();
  const ready = { type: "ready", url: `http://${host}:${port}`, pid: process.pid };
  console.log(JSON.stringify(ready));
  if (process.send) process.send(ready);
})().catch((e) => {
  console.error("[devnet] failed to start:", e);
  if (process.send) {
    try {
      process.send({ type: "error", message: String((e && e.stack) || e) });
    } catch {}
  }
  shutdown("start failure", 1);
});
