//! The ids revtrace passes around, one type each, so that an order id can
//! never be handed where a ticket id belongs. The text inside is private:
//! it is made here and read through `as_str`.

use std::fmt;

use serde::{Deserialize, Serialize};

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(value_type = String))]
        pub struct $name(String);

        impl $name {
            pub fn new(id: impl Into<String>) -> Self {
                Self(id.into())
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }

            pub fn into_string(self) -> String {
                self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl From<String> for $name {
            fn from(id: String) -> Self {
                Self(id)
            }
        }

        impl From<&str> for $name {
            fn from(id: &str) -> Self {
                Self(id.to_owned())
            }
        }

        impl From<$name> for String {
            fn from(id: $name) -> String {
                id.0
            }
        }

        impl PartialEq<str> for $name {
            fn eq(&self, other: &str) -> bool {
                self.0 == other
            }
        }

        impl PartialEq<&str> for $name {
            fn eq(&self, other: &&str) -> bool {
                self.0 == *other
            }
        }
    };
}

id_type!(
    /// A tenant, `co_…`.
    CompanyId
);
id_type!(
    /// A stored commerce event, `evt_…` (time-ordered).
    EventId
);
id_type!(
    /// A conversation, as the assistant vendor names it.
    TicketId
);
id_type!(
    /// An order, unique per company.
    OrderId
);
id_type!(
    /// A catalog product.
    ProductId
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_serialize_as_their_text() {
        let id = OrderId::new("1001");
        assert_eq!(serde_json::to_string(&id).unwrap(), "\"1001\"");
        assert_eq!(serde_json::from_str::<OrderId>("\"1001\"").unwrap(), id);
        assert_eq!(id.to_string(), "1001");
        assert_eq!(id, "1001");
    }
}
