// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;

import "./StdToken.sol";

/// @notice Mimics TRON's USDT (TRC-20): `transfer` really moves the funds and
/// emits Transfer, but returns `false`. Success must be judged from the
/// receipt status and the Transfer log, never from the return value.
contract TronUsdtLike is StdToken {
    constructor() StdToken("Tether USD", "USDT", 6) {}

    function transfer(address to, uint256 value) public override returns (bool) {
        _move(msg.sender, to, value);
        return false;
    }
}
