//! The one error type of the core, with the stable kinds that the conformance vectors use.

use core::fmt;

/// What went wrong, as a stable code shared by the Rust core, the JS build and the PHP plugin.
///
/// The codes (see [`ErrorKind::code`]) are the error kinds of the conformance vectors in
/// `tests/vectors/`; messages may change, codes may not. One kind set serves every module so that
/// the three implementations agree on a single list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// A decimal or integer amount is malformed (sign, spaces, exponent, empty, zero where not allowed).
    InvalidAmount,
    /// A decimal amount has more non-zero fractional digits than the token has decimals.
    TooManyDecimals,
    /// An amount does not fit in 128 bits.
    AmountOverflow,
    /// A conversion rate is malformed or zero.
    InvalidRate,
    /// Every slot of the unique-amount band is taken.
    AmountBandFull,
    /// The network id is not in the registry.
    UnknownNetwork,
    /// The token id is not in the registry for that network.
    UnknownToken,
    /// An address has the wrong length, characters or version byte.
    InvalidAddress,
    /// An address is well formed but its checksum (EIP-55 or base58check) is wrong.
    AddressChecksum,
    /// A log is missing a field or a field is malformed.
    InvalidLog,
    /// A log is not an ERC-20 `Transfer` event.
    NotATransfer,
    /// A webhook signature header is malformed.
    InvalidSignatureHeader,
    /// A webhook timestamp is outside the accepted window.
    TimestampOutOfWindow,
    /// No webhook signature matches the body.
    SignatureMismatch,
    /// A transfer is of a token that is not the registry's contract for the invoice.
    WrongToken,
    /// A transfer went to another address than the invoice's recipient.
    WrongRecipient,
    /// A transfer happened before the invoice existed (beyond the allowed clock skew).
    TransferBeforeInvoice,
    /// A transfer arrived after the invoice's monitoring window.
    TransferAfterWindow,
    /// The transfer (network, tx hash, log index) has already credited an invoice.
    AlreadyCredited,
    /// The invoice is not watched any more (cancelled, or past its monitoring window).
    InvoiceClosed,
    /// A transfer has no block time, which matching needs.
    MissingBlockTime,
    /// A transaction hash is malformed.
    InvalidTxHash,
    /// An invoice record is inconsistent (for example its deadlines are out of order).
    InvalidInvoice,
    /// A claimed transfer is exactly the reserved amount of another watched invoice, which owns it.
    ReservedForAnotherInvoice,
    /// A review resolution was asked of an invoice that is not in review.
    NotInReview,
    /// Only an open invoice with nothing paid can be cancelled.
    NotCancellable,
    /// A provider's notification body or status is malformed or unknown (feature `providers`:
    /// the widget's build has no provider code, so not these codes either).
    #[cfg(feature = "providers")]
    InvalidProviderPayload,
    /// A provider's public key (certificate) is not an RSA public key of 2048 bits or more.
    #[cfg(feature = "providers")]
    InvalidPublicKey,
}

impl ErrorKind {
    /// Returns the stable snake_case code of this kind, as used in the vectors and in JS `Error.code`.
    pub const fn code(self) -> &'static str {
        match self {
            Self::InvalidAmount => "invalid_amount",
            Self::TooManyDecimals => "too_many_decimals",
            Self::AmountOverflow => "amount_overflow",
            Self::InvalidRate => "invalid_rate",
            Self::AmountBandFull => "amount_band_full",
            Self::UnknownNetwork => "unknown_network",
            Self::UnknownToken => "unknown_token",
            Self::InvalidAddress => "invalid_address",
            Self::AddressChecksum => "address_checksum",
            Self::InvalidLog => "invalid_log",
            Self::NotATransfer => "not_a_transfer",
            Self::InvalidSignatureHeader => "invalid_signature_header",
            Self::TimestampOutOfWindow => "timestamp_out_of_window",
            Self::SignatureMismatch => "signature_mismatch",
            Self::WrongToken => "wrong_token",
            Self::WrongRecipient => "wrong_recipient",
            Self::TransferBeforeInvoice => "transfer_before_invoice",
            Self::TransferAfterWindow => "transfer_after_window",
            Self::AlreadyCredited => "already_credited",
            Self::InvoiceClosed => "invoice_closed",
            Self::MissingBlockTime => "missing_block_time",
            Self::InvalidTxHash => "invalid_tx_hash",
            Self::InvalidInvoice => "invalid_invoice",
            Self::ReservedForAnotherInvoice => "reserved_for_another_invoice",
            Self::NotInReview => "not_in_review",
            Self::NotCancellable => "invoice_not_cancellable",
            #[cfg(feature = "providers")]
            Self::InvalidProviderPayload => "invalid_provider_payload",
            #[cfg(feature = "providers")]
            Self::InvalidPublicKey => "invalid_public_key",
        }
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// An error of the core: a stable [`ErrorKind`], the offending input and a short explanation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    kind: ErrorKind,
    input: String,
    detail: String,
}

impl Error {
    /// Creates an error of `kind` about `input`, explained by `detail` (lower case, no final period).
    pub fn new(kind: ErrorKind, input: impl Into<String>, detail: impl Into<String>) -> Self {
        Self {
            kind,
            input: input.into(),
            detail: detail.into(),
        }
    }

    /// Returns the stable kind of the error.
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// Returns the input that was rejected, as given.
    pub fn input(&self) -> &str {
        &self.input
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Long inputs (a whole log, a body) are cut so that messages stay readable.
        let input: String = self.input.chars().take(80).collect();
        let ellipsis = if self.input.chars().count() > 80 {
            "…"
        } else {
            ""
        };
        write!(
            f,
            "{}: {} (input {:?}{})",
            self.kind, self.detail, input, ellipsis
        )
    }
}

impl std::error::Error for Error {}

/// The result type of the core.
pub type Result<T, E = Error> = core::result::Result<T, E>;
