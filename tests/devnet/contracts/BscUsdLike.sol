// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;

import "./StdToken.sol";

/// @notice Mimics BSC's "BSC-USD" (Binance-Peg USDT): symbol USDT but
/// 18 decimals, standard `bool` returns.
contract BscUsdLike is StdToken {
    constructor() StdToken("Binance-Peg BSC-USD", "USDT", 18) {}
}
