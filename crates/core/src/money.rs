//! Exact money: decimal amounts, currencies, USD multipliers and cents.
//!
//! Amounts stay `rust_decimal::Decimal` at the edges; USD values become
//! integer cents after one round-half-even, so sums are exact and fast.

use std::fmt;

use rust_decimal::{Decimal, RoundingStrategy, prelude::ToPrimitive};

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum InvalidMoney {
    #[error("a currency is a three-letter ISO 4217 code such as USD")]
    Currency,
    #[error("a USD multiplier is a positive decimal")]
    Multiplier,
    #[error("the amount is too large")]
    Overflow,
}

/// An ISO 4217 currency code, upper case.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Currency([u8; 3]);

impl Currency {
    pub const USD: Currency = Currency(*b"USD");

    /// Accepts three ASCII letters in either case and keeps them upper case.
    pub fn parse(raw: &str) -> Result<Self, InvalidMoney> {
        let bytes = raw.as_bytes();
        if bytes.len() != 3 || !bytes.iter().all(u8::is_ascii_alphabetic) {
            return Err(InvalidMoney::Currency);
        }
        Ok(Self([bytes[0].to_ascii_uppercase(), bytes[1].to_ascii_uppercase(), bytes[2].to_ascii_uppercase()]))
    }

    pub fn as_str(&self) -> &str {
        // Only ASCII letters are ever stored.
        std::str::from_utf8(&self.0).unwrap_or("XXX")
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How many US dollars one unit of a currency is worth.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Multiplier(Decimal);

impl Multiplier {
    pub const ONE: Multiplier = Multiplier(Decimal::ONE);

    pub fn new(value: Decimal) -> Result<Self, InvalidMoney> {
        if value > Decimal::ZERO { Ok(Self(value.normalize())) } else { Err(InvalidMoney::Multiplier) }
    }

    pub fn value(&self) -> Decimal {
        self.0
    }
}

/// A signed USD value in integer cents.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Default, Hash)]
pub struct UsdCents(i64);

impl UsdCents {
    pub const ZERO: Self = Self(0);

    pub const fn new(cents: i64) -> Self {
        Self(cents)
    }

    pub const fn cents(self) -> i64 {
        self.0
    }

    /// `None` when the sum would leave `i64`: callers refuse the call.
    pub fn checked_add(self, other: Self) -> Option<Self> {
        self.0.checked_add(other.0).map(Self)
    }

    /// The same amount with the other sign (`None` only for `i64::MIN`).
    pub fn checked_neg(self) -> Option<Self> {
        self.0.checked_neg().map(Self)
    }

    pub fn to_decimal(self) -> Decimal {
        Decimal::new(self.0, 2)
    }
}

impl fmt::Display for UsdCents {
    /// Always two decimals: `23.12`, `-4.00`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:.2}", self.to_decimal())
    }
}

/// A sum of cents, wide enough that no count of `i64` amounts overflows it
/// (2^64 of them would be needed), and shown exactly.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord)]
pub struct UsdTotal(pub i128);

impl UsdTotal {
    pub fn add(&mut self, cents: UsdCents) {
        self.0 += i128::from(cents.0);
    }

    pub fn to_decimal(self) -> Decimal {
        // 96 bits hold 4·10^28 cents: more than any sum of stored rows.
        Decimal::try_from_i128_with_scale(self.0, 2).unwrap_or(if self.0 < 0 { Decimal::MIN } else { Decimal::MAX })
    }
}

impl std::ops::Sub for UsdTotal {
    type Output = Self;
    fn sub(self, other: Self) -> Self {
        Self(self.0 - other.0)
    }
}

impl fmt::Display for UsdTotal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:.2}", self.to_decimal())
    }
}

/// `round_half_even(amount × multiplier, 2)` as cents.
pub fn usd_cents(amount: Decimal, multiplier: Multiplier) -> Result<UsdCents, InvalidMoney> {
    let usd = amount.checked_mul(multiplier.0).ok_or(InvalidMoney::Overflow)?;
    let cents = usd
        .round_dp_with_strategy(2, RoundingStrategy::MidpointNearestEven)
        .checked_mul(Decimal::ONE_HUNDRED)
        .ok_or(InvalidMoney::Overflow)?;
    cents.to_i64().map(UsdCents).ok_or(InvalidMoney::Overflow)
}

#[cfg(test)]
mod tests {
    use std::str::FromStr;

    use super::*;

    fn dec(s: &str) -> Decimal {
        Decimal::from_str(s).unwrap()
    }

    #[test]
    fn totals_do_not_overflow() {
        let mut total = UsdTotal::default();
        for _ in 0..11 {
            total.add(UsdCents(900_000_000_000_000_000));
        }
        assert_eq!(total.to_string(), "99000000000000000.00");
    }

    #[test]
    fn cents_refuse_to_wrap() {
        assert_eq!(UsdCents(i64::MAX).checked_add(UsdCents(1)), None);
        assert_eq!(UsdCents(i64::MIN).checked_neg(), None);
        assert_eq!(UsdCents(-5).checked_add(UsdCents(7)), Some(UsdCents(2)));
    }

    #[test]
    fn converts_the_product_once_not_the_unit_price() {
        // SPEC §4: 3 × 1150 JPY at 0.0067 is 23.115 → 23.12, not 3 × 7.70.
        let m = Multiplier::new(dec("0.0067")).unwrap();
        assert_eq!(usd_cents(dec("3450"), m).unwrap(), UsdCents(2312));
        assert_eq!(usd_cents(dec("3450"), m).unwrap().to_string(), "23.12");
    }

    #[test]
    fn rounds_half_to_even() {
        assert_eq!(usd_cents(dec("0.125"), Multiplier::ONE).unwrap(), UsdCents(12));
        assert_eq!(usd_cents(dec("0.135"), Multiplier::ONE).unwrap(), UsdCents(14));
        assert_eq!(usd_cents(dec("-0.125"), Multiplier::ONE).unwrap(), UsdCents(-12));
    }

    #[test]
    fn overflow_is_an_error_not_a_panic() {
        let max = Decimal::MAX;
        assert_eq!(usd_cents(max, Multiplier::ONE), Err(InvalidMoney::Overflow));
        assert_eq!(usd_cents(max, Multiplier::new(dec("2")).unwrap()), Err(InvalidMoney::Overflow));
        assert_eq!(usd_cents(dec("100000000000000000"), Multiplier::ONE), Err(InvalidMoney::Overflow));
    }

    #[test]
    fn formats_cents_with_two_decimals() {
        assert_eq!(UsdCents(4800).to_string(), "48.00");
        assert_eq!(UsdCents(-5).to_string(), "-0.05");
        assert_eq!(UsdCents(0).to_string(), "0.00");
    }

    #[test]
    fn currency_codes_are_three_letters() {
        assert_eq!(Currency::parse("eur").unwrap().as_str(), "EUR");
        assert!(Currency::parse("EURO").is_err());
        assert!(Currency::parse("U1D").is_err());
    }

    #[test]
    fn multipliers_are_positive() {
        assert!(Multiplier::new(Decimal::ZERO).is_err());
        assert!(Multiplier::new(dec("-1")).is_err());
        assert_eq!(Multiplier::new(dec("1.0800")).unwrap().value().to_string(), "1.08");
    }
}
