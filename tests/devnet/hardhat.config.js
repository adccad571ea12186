"use strict";
// Hardhat 2 config for the test devnet (a bare JSON-RPC chain; Solidity is
// compiled separately by compile.js with npm solc). Used by server.js only.
const path = require("node:path");

module.exports = {
  networks: {
    hardhat: {
      chainId: 31337,
      // Automined blocks may share a timestamp, so the ~25 deploy/mint blocks
      // (and fast test traffic) do not push block time ahead of the wall
      // clock by 1 s per block.
      allowBlocksWithSameTimestamp: true,
      // Default: automine on, 20 unlocked accounts with 10,000 ETH each,
      // from the well-known "test test ... junk" mnemonic.
    },
  },
  // Hardhat never compiles here, but keep any files it might create out of
  // the source tree (.state/ is git-ignored).
  paths: {
    cache: path.join(__dirname, ".state", "hardhat-cache"),
    artifacts: path.join(__dirname, ".state", "hardhat-artifacts"),
  },
};
