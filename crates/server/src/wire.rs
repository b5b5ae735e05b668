//! Wire formats that clients send in more than one shape: money as a string
//! or a number, ids as a string or an integer. Parsed once, here.

use std::{fmt, str::FromStr};

use rust_decimal::Decimal;
use serde::{Deserialize, Deserializer, de};
use utoipa::{
    PartialSchema, ToSchema,
    openapi::{
        RefOr,
        schema::{ObjectBuilder, OneOfBuilder, Schema, Type},
    },
};

/// An exact decimal amount: `"48.00"` or `48`. A JSON number is read through
/// its shortest decimal form, never through binary arithmetic.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Amount(pub Decimal);

impl PartialSchema for Amount {
    fn schema() -> RefOr<Schema> {
        OneOfBuilder::new()
            .item(ObjectBuilder::new().schema_type(Type::String).pattern(Some(r"^[0-9]{1,15}(\.[0-9]{1,10})?$")))
            .item(ObjectBuilder::new().schema_type(Type::Number).minimum(Some(0)).maximum(Some(1e15)))
            .description(Some("an exact decimal amount, as a string (\"48.00\") or a number"))
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
                let trimmed = v.trim();
                Decimal::from_str_exact(trimmed)
                    .or_else(|_| Decimal::from_scientific(trimmed))
                    .map(Amount)
                    .map_err(|_| E::custom(format!("{v:?} is not a decimal amount")))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Amount, E> {
                Ok(Amount(Decimal::from(v)))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Amount, E> {
                Ok(Amount(Decimal::from(v)))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Amount, E> {
                if !v.is_finite() {
                    return Err(E::custom("the amount is not a finite number"));
                }
                // `Display` of f64 is the shortest text that reads back as the same
                // number, i.e. what the client wrote (up to 17 significant digits).
                let text = v.to_string();
                Decimal::from_str(&text)
                    .or_else(|_| Decimal::from_scientific(&text))
                    .map(Amount)
                    .map_err(|_| E::custom("the amount is out of range"))
            }
        }
        deserializer.deserialize_any(Visitor)
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
                Ok(IdText(v.to_string()))
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
    fn ids_keep_every_digit() {
        let id: IdText = serde_json::from_str("820982911946154508").unwrap();
        assert_eq!(id.0, "820982911946154508");
        let id: IdText = serde_json::from_str(r#""gid-1""#).unwrap();
        assert_eq!(id.0, "gid-1");
        assert!(serde_json::from_str::<IdText>(r#""""#).is_err());
        assert!(serde_json::from_str::<IdText>("1.5").is_err());
    }
}
