//! Token amounts as base-unit integers, decimal strings at the edges, fiat conversion and the
//! unique-amount band.

use core::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::error::{Error, ErrorKind, Result};

/// An amount of a token in its base units (for USDT with 6 decimals, 1 USDT is 1,000,000).
///
/// The integer carries no decimals of its own: [`Amount::to_decimal`] and [`Amount::from_decimal`]
/// take the token's decimals. `Display` and `FromStr` use the plain base-unit integer, as JSON
/// records do ("12500000"); serde does the same, always as a string so that no JSON number and no
/// float ever holds money.
///
/// ```
/// use stablegate_core::Amount;
/// let due = Amount::from_decimal("12.5", 6).unwrap();
/// assert_eq!(due.base_units(), 12_500_000);
/// assert_eq!(due.to_decimal(6), "12.5");
/// assert_eq!(due.to_string(), "12500000");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Amount(u128);

impl Amount {
    /// The zero amount.
    pub const ZERO: Amount = Amount(0);

    /// Creates an amount from base units.
    pub const fn from_base_units(units: u128) -> Self {
        Self(units)
    }

    /// Returns the amount in base units.
    pub const fn base_units(self) -> u128 {
        self.0
    }

    /// Returns true for the zero amount.
    pub const fn is_zero(self) -> bool {
        self.0 == 0
    }

    /// Adds, or returns `None` on overflow.
    pub fn checked_add(self, other: Amount) -> Option<Amount> {
        self.0.checked_add(other.0).map(Amount)
    }

    /// Subtracts, or returns `None` below zero.
    pub fn checked_sub(self, other: Amount) -> Option<Amount> {
        self.0.checked_sub(other.0).map(Amount)
    }

    /// Subtracts, stopping at zero.
    pub fn saturating_sub(self, other: Amount) -> Amount {
        Amount(self.0.saturating_sub(other.0))
    }

    /// Parses a base-unit integer string (`^[0-9]+$`).
    ///
    /// # Errors
    /// `invalid_amount` for anything but ASCII digits, `amount_overflow` above `u128::MAX`.
    pub fn from_base_units_str(text: &str) -> Result<Self> {
        if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
            return Err(Error::new(
                ErrorKind::InvalidAmount,
                text,
                "base units must be ASCII digits only",
            ));
        }
        let mut value: u128 = 0;
        for digit in text.bytes() {
            value = value
                .checked_mul(10)
                .and_then(|v| v.checked_add(u128::from(digit - b'0')))
                .ok_or_else(|| {
                    Error::new(
                        ErrorKind::AmountOverflow,
                        text,
                        "amount does not fit in 128 bits",
                    )
                })?;
        }
        Ok(Self(value))
    }

    /// Parses a decimal string such as `"12.5"` for a token with `decimals` decimals.
    ///
    /// The grammar is `^[0-9]+(\.[0-9]+)?$`: no sign, no exponent, no spaces, no thousands separator.
    /// Fractional digits beyond `decimals` are accepted only when they are zeros, since the value is
    /// then exact.
    ///
    /// # Errors
    /// `invalid_amount`, `too_many_decimals`, or `amount_overflow`.
    pub fn from_decimal(text: &str, decimals: u8) -> Result<Self> {
        let (whole, fraction) = split_decimal(text)?;
        let fraction = fraction.trim_end_matches('0');
        if fraction.len() > usize::from(decimals) {
            return Err(Error::new(
                ErrorKind::TooManyDecimals,
                text,
                format!("the token has {decimals} decimals"),
            ));
        }
        let padding = usize::from(decimals) - fraction.len();
        let digits = format!("{whole}{fraction}{}", "0".repeat(padding));
        Self::from_base_units_str(&digits)
            .map_err(|e| Error::new(e.kind(), text, "amount does not fit in 128 bits"))
    }

    /// Formats the amount as a canonical decimal string for a token with `decimals` decimals:
    /// no leading zeros, no trailing fractional zeros, no `.` when the fraction is empty.
    pub fn to_decimal(self, decimals: u8) -> String {
        let digits = self.0.to_string();
        let decimals = usize::from(decimals);
        let (whole, fraction) = if digits.len() > decimals {
            let (w, f) = digits.split_at(digits.len() - decimals);
            (w.to_string(), f.to_string())
        } else {
            (
                "0".to_string(),
                format!("{}{}", "0".repeat(decimals - digits.len()), digits),
            )
        };
        let fraction = fraction.trim_end_matches('0');
        if fraction.is_empty() {
            whole
        } else {
            format!("{whole}.{fraction}")
        }
    }
}

/// Splits `text` into whole and fractional digit strings, checking the decimal grammar.
fn split_decimal(text: &str) -> Result<(&str, &str)> {
    let (whole, fraction) = match text.split_once('.') {
        Some((w, f)) => (w, f),
        None => (text, ""),
    };
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if !digits(whole) || (text.contains('.') && !digits(fraction)) {
        return Err(Error::new(
            ErrorKind::InvalidAmount,
            text,
            "expected digits with an optional fraction, like 12.5",
        ));
    }
    Ok((whole, fraction))
}

impl fmt::Display for Amount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

impl core::str::FromStr for Amount {
    type Err = Error;
    fn from_str(text: &str) -> Result<Self> {
        Self::from_base_units_str(text)
    }
}

impl Serialize for Amount {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Amount {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

/// A positive decimal with its scale: `mantissa / 10^scale`. Used for rates and precisions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Decimal {
    mantissa: u128,
    scale: u32,
}

impl Decimal {
    fn parse(text: &str, kind: ErrorKind) -> Result<Self> {
        let (whole, fraction) =
            split_decimal(text).map_err(|e| Error::new(kind, text, e.to_string()))?;
        let fraction = fraction.trim_end_matches('0');
        let mantissa = Amount::from_base_units_str(&format!("{whole}{fraction}"))
            .map_err(|e| Error::new(e.kind(), text, "number does not fit in 128 bits"))?
            .base_units();
        Ok(Self {
            mantissa,
            scale: fraction.len() as u32,
        })
    }
}

/// The fewest fractional digits an amount shows to a person: "20.00", never "20".
pub const DISPLAY_MIN_FRACTION: usize = 2;

/// Formats a decimal amount (`"20"`, `"19.5"`, `"0.000001"`) for a person: its canonical digits
/// (no leading zeros, no trailing fractional zeros beyond the minimum), with at least
/// [`DISPLAY_MIN_FRACTION`] fractional digits, and every significant digit kept, so the amount a
/// customer reads is exactly the amount to send.
///
/// ```
/// use stablegate_core::amount::display_amount;
/// assert_eq!(display_amount("20").unwrap(), "20.00");
/// assert_eq!(display_amount("19.991").unwrap(), "19.991");
/// ```
///
/// # Errors
/// `invalid_amount` for text that is not a plain decimal.
pub fn display_amount(text: &str) -> Result<String> {
    let (whole, fraction) = split_decimal(text)?;
    let whole = whole.trim_start_matches('0');
    let fraction = fraction.trim_end_matches('0');
    let padding = DISPLAY_MIN_FRACTION.saturating_sub(fraction.len());
    Ok(format!(
        "{}.{fraction}{}",
        if whole.is_empty() { "0" } else { whole },
        "0".repeat(padding)
    ))
}

/// Converts a fiat amount to token base units at a locked `rate` (tokens per one unit of fiat),
/// rounded up (never down) to a multiple of `precision` (in tokens, for example `"0.01"`).
///
/// ```
/// use stablegate_core::amount::fiat_to_token;
/// // 10 EUR at 1.0834 USDT/EUR is 10.834 USDT, rounded up to 10.84.
/// assert_eq!(fiat_to_token("10", "1.0834", "0.01", 6).unwrap().base_units(), 10_840_000);
/// ```
///
/// # Errors
/// `invalid_amount` for a malformed fiat amount or precision (or a precision finer than the
/// token's decimals, or zero), `invalid_rate` for a malformed or zero rate, `amount_overflow`.
pub fn fiat_to_token(
    fiat_amount: &str,
    rate: &str,
    precision: &str,
    decimals: u8,
) -> Result<Amount> {
    let fiat = Decimal::parse(fiat_amount, ErrorKind::InvalidAmount)?;
    let rate_value = Decimal::parse(rate, ErrorKind::InvalidRate)?;
    if rate_value.mantissa == 0 {
        return Err(Error::new(
            ErrorKind::InvalidRate,
            rate,
            "the rate must be above zero",
        ));
    }
    let step = Amount::from_decimal(precision, decimals).map_err(|e| {
        Error::new(
            ErrorKind::InvalidAmount,
            precision,
            format!("precision: {e}"),
        )
    })?;
    if step.is_zero() {
        return Err(Error::new(
            ErrorKind::InvalidAmount,
            precision,
            "the precision must be above zero",
        ));
    }
    let overflow = || {
        Error::new(
            ErrorKind::AmountOverflow,
            fiat_amount,
            "converted amount does not fit in 128 bits",
        )
    };
    // exact = fiat × rate × 10^decimals / 10^(fiat.scale + rate.scale), in base units, rounded
    // up. The product of the digits may exceed 128 bits even when the result fits (a rate given
    // to 37 places), so it is computed in 256 bits.
    let mut exact = U256::product(fiat.mantissa, rate_value.mantissa);
    let scale = fiat.scale + rate_value.scale;
    let decimals = u32::from(decimals);
    for _ in scale..decimals {
        exact.mul_small(10).ok_or_else(overflow)?;
    }
    let units = if scale > decimals && !exact.is_zero() {
        // ceil(n / 10^k) = floor((n - 1) / 10^k) + 1 for n > 0; floor divisions compose.
        exact.sub_one();
        for _ in decimals..scale {
            exact.div_small(10);
        }
        exact
            .to_u128()
            .and_then(|q| q.checked_add(1))
            .ok_or_else(overflow)?
    } else {
        exact.to_u128().ok_or_else(overflow)?
    };
    let step = step.base_units();
    let rounded = match units % step {
        0 => units,
        rest => units.checked_add(step - rest).ok_or_else(overflow)?,
    };
    Ok(Amount(rounded))
}

/// A 256-bit unsigned integer, just enough for exact fiat conversion: four 64-bit limbs, least
/// significant first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct U256([u64; 4]);

impl U256 {
    /// Returns `a × b`, which always fits in 256 bits.
    fn product(a: u128, b: u128) -> U256 {
        let (a, b) = ([a as u64, (a >> 64) as u64], [b as u64, (b >> 64) as u64]);
        let mut limbs = [0u64; 4];
        for (i, &x) in a.iter().enumerate() {
            let mut carry = 0u128;
            for (j, &y) in b.iter().enumerate() {
                let t = u128::from(x) * u128::from(y) + u128::from(limbs[i + j]) + carry;
                limbs[i + j] = t as u64;
                carry = t >> 64;
            }
            limbs[i + 2] = carry as u64;
        }
        U256(limbs)
    }

    /// Multiplies in place; `None` (and a meaningless value) on overflow.
    fn mul_small(&mut self, factor: u64) -> Option<()> {
        let mut carry = 0u128;
        for limb in &mut self.0 {
            let t = u128::from(*limb) * u128::from(factor) + carry;
            *limb = t as u64;
            carry = t >> 64;
        }
        (carry == 0).then_some(())
    }

    /// Divides in place, rounding down.
    fn div_small(&mut self, divisor: u64) {
        let mut rest = 0u128;
        for limb in self.0.iter_mut().rev() {
            let t = (rest << 64) | u128::from(*limb);
            *limb = (t / u128::from(divisor)) as u64;
            rest = t % u128::from(divisor);
        }
    }

    fn is_zero(&self) -> bool {
        self.0.iter().all(|&l| l == 0)
    }

    /// Subtracts one; the caller has checked that the value is not zero.
    fn sub_one(&mut self) {
        for limb in &mut self.0 {
            let (value, borrow) = limb.overflowing_sub(1);
            *limb = value;
            if !borrow {
                break;
            }
        }
    }

    fn to_u128(self) -> Option<u128> {
        (self.0[2] == 0 && self.0[3] == 0)
            .then(|| u128::from(self.0[0]) | (u128::from(self.0[1]) << 64))
    }
}

/// How many steps around each reserved amount stay free: a payment that misses its own amount
/// by up to this many steps, either way (a typo, an exchange's rounding), lands on no other open
/// invoice (DESIGN §5).
pub const AMOUNT_GAP_STEPS: u64 = 2;

/// A free amount in the unique-amount band: `base + slot × step`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Allocation {
    /// The amount to ask for.
    pub amount: Amount,
    /// Which slot of the band it is (0 is the base amount itself).
    #[serde(with = "crate::serde_int")]
    pub slot: u64,
}

/// The candidate `base + slot × step`, or `amount_overflow`.
fn band_amount(base: Amount, step: Amount, slot: u64) -> Result<Amount> {
    u128::from(slot)
        .checked_mul(step.0)
        .and_then(|offset| base.0.checked_add(offset))
        .map(Amount)
        .ok_or_else(|| {
            Error::new(
                ErrorKind::AmountOverflow,
                base.to_string(),
                "the amount band runs past 128 bits",
            )
        })
}

/// True when no amount of `taken` (sorted) lies within [`AMOUNT_GAP_STEPS`] steps of `amount`.
fn clear_of(taken: &[u128], amount: Amount, step: Amount) -> bool {
    let reach = step.0.saturating_mul(u128::from(AMOUNT_GAP_STEPS));
    let low = amount.0.saturating_sub(reach);
    let high = amount.0.saturating_add(reach);
    let first = taken.partition_point(|t| *t < low);
    taken.get(first).map_or(true, |t| *t > high)
}

/// Finds the smallest slot `k` in `0..max_slots` such that `base + k × step` is at least
/// [`AMOUNT_GAP_STEPS`] + 1 steps away from every amount in `taken`.
///
/// `taken` holds the reserved amounts of the invoices still watched on the same (network, token,
/// recipient), whatever their base: an invoice at another price one step away is a neighbour too.
/// A database unique index is what makes the choice safe under concurrency; this function only
/// proposes the first candidate.
///
/// ```
/// use stablegate_core::{Amount, amount::allocate_amount};
/// let base = Amount::from_base_units(19_990_000);
/// let step = Amount::from_base_units(10_000);
/// let taken = [Amount::from_base_units(19_990_000)];
/// // 20.00 and 20.01 are within two steps of 19.99: a payment short by a step must not land there.
/// assert_eq!(allocate_amount(base, step, 100, &taken).unwrap().amount.base_units(), 20_020_000);
/// ```
///
/// # Errors
/// `invalid_amount` for a zero step, `amount_band_full` when every slot is too close to a taken
/// amount, `amount_overflow` when the band runs past `u128::MAX`.
pub fn allocate_amount(
    base: Amount,
    step: Amount,
    max_slots: u64,
    taken: &[Amount],
) -> Result<Allocation> {
    if step.is_zero() {
        return Err(Error::new(
            ErrorKind::InvalidAmount,
            "0",
            "the amount step must be above zero",
        ));
    }
    let mut taken: Vec<u128> = taken.iter().map(|a| a.0).collect();
    taken.sort_unstable();
    for slot in 0..max_slots {
        let amount = band_amount(base, step, slot)?;
        if clear_of(&taken, amount, step) {
            return Ok(Allocation { amount, slot });
        }
    }
    Err(Error::new(
        ErrorKind::AmountBandFull,
        base.to_string(),
        format!("no amount of the {max_slots} in the band is clear of the open invoices; use another receiving address or retry later"),
    ))
}

/// An amount reserved on a receiving address by a watched invoice.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reservation {
    /// The invoice holding it.
    pub invoice: String,
    /// Its unique amount.
    pub amount: Amount,
    /// When it expired unpaid (unix seconds); `None` while it is open or once anything paid it.
    /// Only an expired, unpaid reservation may be given to a newer invoice.
    #[serde(default, with = "crate::serde_int::option")]
    pub expired_unpaid_at: Option<u64>,
}

/// One receiving address of the merchant's pool and what is reserved on it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PoolAddress {
    /// The receiving address, as the host stores it.
    pub recipient: String,
    /// The reservations of the invoices watched on it (all of them near the band suffice).
    #[serde(default)]
    pub reserved: Vec<Reservation>,
}

/// The unique amount chosen for a new invoice, and where.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PoolAllocation {
    /// The receiving address.
    pub recipient: String,
    /// The amount to ask for.
    pub amount: Amount,
    /// The band slot.
    #[serde(with = "crate::serde_int")]
    pub slot: u64,
    /// The expired, unpaid invoice whose reservation this takes over, if any: the host marks it
    /// `released` in the same transaction (a later transfer of the amount goes to review).
    pub reuses: Option<String>,
}

fn band_full(base: Amount) -> Error {
    Error::new(
        ErrorKind::AmountBandFull,
        base.to_string(),
        "the merchant's pool has no receiving address with a free amount",
    )
}

/// Chooses the receiving address and unique amount of a new invoice over the merchant's `pool`.
///
/// The first address, in pool order, with a clear slot (see [`allocate_amount`]) wins. When every
/// band is full, the reservation of the invoice that expired unpaid longest ago is reused, so that
/// a burst of abandoned checkouts never locks a price out for the monitoring window; such a
/// reservation still has to be clear of every other reservation.
///
/// # Errors
/// `invalid_amount` for a zero step, `amount_band_full` when no address has a clear slot and none
/// has a reusable one, `amount_overflow`.
pub fn allocate_in_pool(
    base: Amount,
    step: Amount,
    max_slots: u64,
    pool: &[PoolAddress],
) -> Result<PoolAllocation> {
    let mut full = None;
    for address in pool {
        let taken: Vec<Amount> = address.reserved.iter().map(|r| r.amount).collect();
        match allocate_amount(base, step, max_slots, &taken) {
            Ok(found) => {
                return Ok(PoolAllocation {
                    recipient: address.recipient.clone(),
                    amount: found.amount,
                    slot: found.slot,
                    reuses: None,
                })
            }
            Err(e) if e.kind() == ErrorKind::AmountBandFull => full = Some(e),
            Err(e) => return Err(e),
        }
    }
    if max_slots == 0 {
        return Err(full.unwrap_or_else(|| band_full(base)));
    }
    let top = band_amount(base, step, max_slots - 1)?;
    let mut best: Option<(u64, &PoolAddress, &Reservation, u64)> = None;
    for address in pool {
        for candidate in &address.reserved {
            let Some(at) = candidate.expired_unpaid_at else {
                continue;
            };
            let in_band = candidate.amount >= base
                && candidate.amount <= top
                && (candidate.amount.0 - base.0) % step.0 == 0;
            let others: Vec<u128> = {
                let mut v: Vec<u128> = address
                    .reserved
                    .iter()
                    .filter(|r| r.invoice != candidate.invoice)
                    .map(|r| r.amount.0)
                    .collect();
                v.sort_unstable();
                v
            };
            if !in_band || !clear_of(&others, candidate.amount, step) {
                continue;
            }
            let slot = u64::try_from((candidate.amount.0 - base.0) / step.0).unwrap_or(u64::MAX);
            let older = best.map_or(true, |(t, _, r, _)| {
                at < t || (at == t && candidate.invoice < r.invoice)
            });
            if older {
                best = Some((at, address, candidate, slot));
            }
        }
    }
    match best {
        Some((_, address, reservation, slot)) => Ok(PoolAllocation {
            recipient: address.recipient.clone(),
            amount: reservation.amount,
            slot,
            reuses: Some(reservation.invoice.clone()),
        }),
        None => Err(full.unwrap_or_else(|| band_full(base))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimal_round_trip_examples() {
        assert_eq!(
            Amount::from_decimal("1", 18).unwrap().base_units(),
            10u128.pow(18)
        );
        assert_eq!(Amount::from_decimal("0.000001", 6).unwrap().base_units(), 1);
        assert_eq!(
            Amount::from_decimal("1.5000000", 6).unwrap().base_units(),
            1_500_000
        );
        assert_eq!(
            Amount::from_decimal("1.0000001", 6).unwrap_err().kind(),
            ErrorKind::TooManyDecimals
        );
        for bad in ["", ".5", "5.", "-1", "+1", "1e6", " 1", "1,5", "1.2.3"] {
            assert_eq!(
                Amount::from_decimal(bad, 6).unwrap_err().kind(),
                ErrorKind::InvalidAmount,
                "{bad:?}"
            );
        }
        assert_eq!(Amount::from_base_units(20_000_000).to_decimal(6), "20");
        assert_eq!(Amount::ZERO.to_decimal(6), "0");
    }

    #[test]
    fn fiat_rounds_up_to_precision() {
        assert_eq!(
            fiat_to_token("19.99", "1", "0.01", 6).unwrap().base_units(),
            19_990_000
        );
        assert_eq!(
            fiat_to_token("0.001", "1", "0.01", 6).unwrap().base_units(),
            10_000
        );
        assert_eq!(
            fiat_to_token("1", "0", "0.01", 6).unwrap_err().kind(),
            ErrorKind::InvalidRate
        );
        assert_eq!(
            fiat_to_token("1", "1", "0.0000001", 6).unwrap_err().kind(),
            ErrorKind::InvalidAmount
        );
    }
}
