//! Payment requests for QR codes and wallet links.

use crate::address::Address;
use crate::amount::Amount;
use crate::error::{Error, ErrorKind, Result};
use crate::network::{Network, QrStyle, Token};

/// Builds the payment request of `network` from its parts as hosts and the widget hold them: an
/// optional token id, the recipient's text and the amount as a decimal string of the token.
///
/// # Errors
/// `unknown_token`, an address error for the recipient, an amount error for the amount, or what
/// [`payment_uri`] refuses.
pub fn payment_uri_from_text(
    network: &Network,
    token: Option<&str>,
    recipient: &str,
    amount: &str,
) -> Result<String> {
    let token = network.token(token)?;
    let recipient = network.parse_address(recipient)?;
    let amount = Amount::from_decimal(amount, token.decimals)?;
    payment_uri(network, token, &recipient, amount)
}

/// Builds the payment request that the QR code of `network` holds.
///
/// EVM networks get an EIP-681 transfer request with the chain id and a plain-integer `uint256`
/// (wallets misread scientific notation). TRON gets the bare base58 recipient, because TronLink
/// rejects `tron:` URIs; the amount is shown beside the QR instead.
///
/// ```
/// use stablegate_core::{network, uri::payment_uri, Amount};
/// let ethereum = network("ethereum").unwrap();
/// let usdt = ethereum.token(None).unwrap();
/// let to = ethereum.parse_address("0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed").unwrap();
/// assert_eq!(
///     payment_uri(ethereum, usdt, &to, Amount::from_base_units(12_500_000)).unwrap(),
///     "ethereum:0xdAC17F958D2ee523a2206206994597C13D831ec7@1/transfer?address=0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed&uint256=12500000"
/// );
/// ```
///
/// EIP-681: <https://eips.ethereum.org/EIPS/eip-681>
///
/// # Errors
/// `invalid_amount` for a zero amount.
pub fn payment_uri(
    network: &Network,
    token: &Token,
    recipient: &Address,
    amount: Amount,
) -> Result<String> {
    if amount.is_zero() {
        return Err(Error::new(
            ErrorKind::InvalidAmount,
            "0",
            "a payment request needs an amount above zero",
        ));
    }
    let recipient = recipient.with_family(network.family);
    Ok(match network.qr {
        QrStyle::Address => recipient.to_string(),
        QrStyle::Eip681 => format!(
            "ethereum:{}@{}/transfer?address={}&uint256={}",
            token.contract, network.chain_id, recipient, amount
        ),
    })
}

/// Returns the calldata of ERC-20 `transfer(recipient, amount)` as `0x`-prefixed hex, for a
/// browser wallet to send.
pub fn transfer_calldata(recipient: &Address, amount: Amount) -> String {
    format!(
        "0xa9059cbb{}{:064x}",
        &recipient.to_topic()[2..],
        amount.base_units()
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::network::network;

    /// The calldata of standards.md's example: 12.5 USDT to 0x5aAe…BeAed.
    #[test]
    fn calldata_matches_the_reference_example() {
        let to = network("ethereum")
            .unwrap()
            .parse_address("0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed")
            .unwrap();
        assert_eq!(
            transfer_calldata(&to, Amount::from_base_units(12_500_000)),
            "0xa9059cbb0000000000000000000000005aaeb6053f3e94c9b9a09f33669435e7ef1beaed0000000000000000000000000000000000000000000000000000000000bebc20"
        );
    }
}
