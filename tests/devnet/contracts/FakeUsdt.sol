// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;

import "./StdToken.sol";

/// @notice A standard, well-behaved token that merely CLAIMS to be USDT
/// (same name, symbol and decimals). Payment code must reject it by contract
/// address, never accept a token by its symbol.
contract FakeUsdt is StdToken {
    constructor() StdToken("Tether USD", "USDT", 6) {}
}
