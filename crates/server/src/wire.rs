//! Wire formats that clients send in more than one shape: money as a string
//! or a number, ids as a string or an integer. Parsed once, here.

use std::fmt;

use rust_decimal::Decimal;
use serde::{Deserialize, Deserializer, de};
use utoipa::{
    PartialSchema, ToSchema,
    openapi::{
        RefOr,
        schema::{ObjectBuilder, OneOfBuilder, Schema, Type},
    },
};

/// An exact decimal amount: `"48.00"` or `48`, in plain decimal notation
/// (no sign, exponent or digit separators; at most 15 digits before the point
/// and 10 after). A JSON number is read through its shortest decimal form,
/// never through binary arithmetic, and refused when that form is not plain
/// (`5e-324`, `1e21`) or has more digits than a double keeps exactly.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Amount(pub Decimal);

/// Digits a double is guaranteed to carry exactly (DBL_DIG).
const EXACT_NUMBER_DIGITS: usize = 15;

/// The pattern the OpenAPI document states for amounts sent as strings.
pub const AMOUNT_PATTERN: &str = r"^[0-9]{1,15}(\.[0-9]{1,10})?$";

impl Amount {
    /// Plain decimal text: `digits[.digits]`, 1–15 digits before the point, 1–10 after.
    pub fn parse_plain(text: &str) -> Option<Decimal> {
        let (whole, fraction) = match text.split_once('.') {
            Some((w, f)) => (w, Some(f)),
            None => (text, None),
        };
        let digits = |s: &str, max: usize| (1..=max).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_digit());
        if !digits(whole, 15) || !fraction.is_none_or(|f| digits(f, 10)) {
            return None;
        }
        Decimal::from_str_exact(text).ok()
    }
}

impl PartialSchema for Amount {
    fn schema() -> RefOr<Schema> {
        OneOfBuilder::new()
            .item(ObjectBuilder::new().schema_type(Type::String).pattern(Some(AMOUNT_PATTERN)))
            .item(
                ObjectBuilder::new()
                    .schema_type(Type::Number)
                    .minimum(Some(0))
                    .exclusive_maximum(Some(1e15))
                    .multiple_of(Some(1e-10)),
            )
            .description(Some(
                "an exact decimal amount, as a string in plain notation (\"48.00\") or a number \
                 (at most 15 significant digits; send longer amounts as strings)",
            ))
            .examples(["48.00"])
            .into()
    }
}

impl ToSchema for Amount {}

impl<'de> Deserialize<'de> for Amount {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl de::Visitor<'_> for Visitor {
            type Value = Amount;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a decimal amount as a string (\"48.00\") or a number")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Amount, E> {
                Amount::parse_plain(v).map(Amount).ok_or_else(|| {
                    E::custom(format!(
                        "{v:?} is not a plain decimal amount (digits, an optional point, at most 15 digits before it \
                         and 10 after; no sign, exponent or separators)"
                    ))
                })
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Amount, E> {
                self.visit_str(&v.to_string())
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Amount, E> {
                if v < 0 {
                    return Err(E::custom("the amount must not be negative"));
                }
                self.visit_str(&v.to_string())
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Amount, E> {
                if !v.is_finite() {
                    return Err(E::custom("the amount is not a finite number"));
                }
                if v < 0.0 {
                    return Err(E::custom("the amount must not be negative"));
                }
                // `Display` of f64 is the shortest text that reads back as the same
                // number: what the client wrote when it had at most 15 digits.
                let text = v.to_string();
                let significant = text.bytes().filter(u8::is_ascii_digit).collect::<Vec<_>>();
                let significant = significant.iter().skip_while(|&&b| b == b'0').count();
                if text.contains(['e', 'E']) || significant > EXACT_NUMBER_DIGITS {
                    return Err(E::custom(
                        "this number cannot be read exactly (too small, too large or too many digits); \
                         send the amount as a decimal string",
                    ));
                }
                self.visit_str(&text)
            }
        }
        deserializer.deserialize_any(Visitor)
    }
}

/// An RFC 3339 instant with an offset (`2026-09-14T15:02:11Z`,
/// `2026-09-14T11:02:11.5-04:00`): offsets within ±23:59, years 1970–9999,
/// at most nanosecond fractions. Anything looser is refused, not guessed at.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Instant(pub jiff::Timestamp);

/// The pattern the OpenAPI document states for instants.
pub const INSTANT_PATTERN: &str = r"^(19[7-9][0-9]|[2-9][0-9]{3})-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])[Tt]([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\.[0-9]{1,9})?([Zz]|[+-]([01][0-9]|2[0-3]):[0-5][0-9])$";

impl Instant {
    pub fn parse(text: &str) -> Option<Self> {
        let b = text.as_bytes();
        let digits = |range: std::ops::Range<usize>| b.get(range).is_some_and(|s| s.iter().all(u8::is_ascii_digit));
        let number = |range: std::ops::Range<usize>| text[range].parse::<u32>().ok();
        if b.len() < 20 || !digits(0..4) || b[4] != b'-' || !digits(5..7) || b[7] != b'-' || !digits(8..10) {
            return None;
        }
        if !matches!(b[10], b'T' | b't') || !digits(11..13) || b[13] != b':' || !digits(14..16) || b[16] != b':' {
            return None;
        }
        if !digits(17..19) || !(1970..=9999).contains(&number(0..4)?) || number(11..13)? > 23 {
            return None;
        }
        let mut rest = &text[19..];
        if let Some(fraction) = rest.strip_prefix('.') {
            let n = fraction.bytes().take_while(u8::is_ascii_digit).count();
            if !(1..=9).contains(&n) {
                return None;
            }
            rest = &fraction[n..];
        }
        match rest.as_bytes() {
            [b'Z' | b'z'] => {}
            [b'+' | b'-', h1, h2, b':', m1, m2] if [h1, h2, m1, m2].iter().all(|d| d.is_ascii_digit()) => {
                if rest[1..3].parse::<u32>().ok()? > 23 || rest[4..6].parse::<u32>().ok()? > 59 {
                    return None;
                }
            }
            _ => return None,
        }
        // jiff checks the calendar (February 30th) and the seconds' range.
        let at = text.parse::<jiff::Timestamp>().ok()?;
        (at.as_second() >= 0).then_some(Self(at))
    }

    pub fn as_millisecond(self) -> i64 {
        self.0.as_millisecond()
    }
}

impl PartialSchema for Instant {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .format(Some(utoipa::openapi::SchemaFormat::KnownFormat(utoipa::openapi::KnownFormat::DateTime)))
            .pattern(Some(INSTANT_PATTERN))
            .description(Some("an RFC 3339 instant with an offset, years 1970–9999"))
            .examples(["2026-09-14T15:02:11Z"])
            .into()
    }
}

impl ToSchema for Instant {}

impl<'de> Deserialize<'de> for Instant {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = std::borrow::Cow::<str>::deserialize(deserializer)?;
        Instant::parse(&text).ok_or_else(|| {
            de::Error::custom(format!(
                "{text:?} is not an RFC 3339 instant with an offset (e.g. 2026-09-14T15:02:11Z; \
                 offsets within ±23:59, years 1970–9999)"
            ))
        })
    }
}

/// An external id sent as a string or an integer (Shopify ids exceed 2^53,
/// so integers are kept as their exact digits).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IdText(pub String);

impl PartialSchema for IdText {
    fn schema() -> RefOr<Schema> {
        OneOfBuilder::new()
            .item(ObjectBuilder::new().schema_type(Type::String).min_length(Some(1)).max_length(Some(255)))
            .item(ObjectBuilder::new().schema_type(Type::Integer).minimum(Some(0)))
            .description(Some("an id, as a string or an integer (kept as exact digits)"))
            .examples(["5921371455677"])
            .into()
    }
}

impl ToSchema for IdText {}

impl<'de> Deserialize<'de> for IdText {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl de::Visitor<'_> for Visitor {
            type Value = IdText;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an id as a string or an integer")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<IdText, E> {
                if v.is_empty() || v.len() > 255 {
                    return Err(E::custom("an id is 1 to 255 characters"));
                }
                Ok(IdText(v.to_owned()))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<IdText, E> {
                Ok(IdText(v.to_string()))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<IdText, E> {
                // Ids are never negative numbers (the schema says minimum 0).
                u64::try_from(v).map(|v| IdText(v.to_string())).map_err(|_| E::custom("an id is not a negative number"))
            }
        }
        deserializer.deserialize_any(Visitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn amount(json: &str) -> Result<String, serde_json::Error> {
        serde_json::from_str::<Amount>(json).map(|a| a.0.to_string())
    }

    #[test]
    fn amounts_from_strings_and_numbers_are_exact() {
        assert_eq!(amount(r#""48.00""#).unwrap(), "48.00");
        assert_eq!(amount("48").unwrap(), "48");
        assert_eq!(amount("0.1").unwrap(), "0.1");
        assert_eq!(amount("19.99").unwrap(), "19.99");
        assert_eq!(amount("1150").unwrap(), "1150");
        assert!(amount(r#""abc""#).is_err());
        assert!(amount("true").is_err());
    }

    #[test]
    fn amounts_are_plain_decimals_or_exact_numbers() {
        for bad in [
            r#""1_000""#,
            r#""+5""#,
            r#""5.""#,
            r#"".5""#,
            r#""-5""#,
            r#""1e3""#,
            r#""1e-29""#,
            r#"" 5""#,
            r#""1000000000000000""#,
            r#""0.12345678901""#,
            "5e-324",
            "1e21",
            "-1",
            "-0.5",
            "0.30000000000000004",
        ] {
            assert!(amount(bad).is_err(), "{bad} was accepted");
        }
        assert_eq!(amount(r#""999999999999999.9999999999""#).unwrap(), "999999999999999.9999999999");
        assert_eq!(amount("0.0000001").unwrap(), "0.0000001");
        assert_eq!(amount("0").unwrap(), "0");
        assert_eq!(amount("12.5").unwrap(), "12.5");
    }

    #[test]
    fn instants_are_strict_rfc_3339() {
        let ok = |s: &str| Instant::parse(s).map(|i| i.as_millisecond());
        assert_eq!(ok("2026-09-14T15:02:11Z"), Some(1_789_398_131_000));
        assert_eq!(ok("2026-09-14T11:02:11.000-04:00"), Some(1_789_398_131_000));
        assert_eq!(ok("2026-09-14t15:02:11.5z"), Some(1_789_398_131_500));
        assert_eq!(ok("2026-09-15T14:59:11+23:57"), Some(1_789_398_131_000));
        for bad in [
            "2026-09-14T15:02:11+24:00",
            "2026-09-14T15:02:11+25:00",
            "2026-09-14T15:02:11+05:60",
            "0001-01-01T00:00:00Z",
            "-000001-01-01T00:00:00Z",
            "1969-12-31T23:59:59Z",
            "1970-01-01T00:30:00+01:00",
            "10000-01-01T00:00:00Z",
            "2026-09-14T15:02:11",
            "2026-09-14 15:02:11Z",
            "2026-02-30T00:00:00Z",
            "2026-09-14T15:02Z",
            "2026-09-14T15:02:11.Z",
            "2026-09-14T15:02:11.1234567890Z",
            "2026-09-14T15:02:11+0500",
            "2026-09-14T24:00:00Z",
            "",
        ] {
            assert_eq!(ok(bad), None, "{bad} was accepted");
        }
    }

    #[test]
    fn ids_keep_every_digit() {
        let id: IdText = serde_json::from_str("820982911946154508").unwrap();
        assert_eq!(id.0, "820982911946154508");
        let id: IdText = serde_json::from_str(r#""gid-1""#).unwrap();
        assert_eq!(id.0, "gid-1");
        assert!(serde_json::from_str::<IdText>(r#""""#).is_err());
        assert!(serde_json::from_str::<IdText>("1.5").is_err());
        assert!(serde_json::from_str::<IdText>("-1").is_err());
    }
}
