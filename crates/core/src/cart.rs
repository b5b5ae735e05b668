//! Cart events and net cart positions (SPEC §4).

use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum CartEventType {
    ItemAdded,
    QuantityIncreased,
    QuantityDecreased,
    ItemRemoved,
}

impl CartEventType {
    pub const ALL: [CartEventType; 4] =
        [Self::ItemAdded, Self::QuantityIncreased, Self::QuantityDecreased, Self::ItemRemoved];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::ItemAdded => "ITEM_ADDED",
            Self::QuantityIncreased => "QUANTITY_INCREASED",
            Self::QuantityDecreased => "QUANTITY_DECREASED",
            Self::ItemRemoved => "ITEM_REMOVED",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.as_str() == raw)
    }

    pub fn adds(self) -> bool {
        matches!(self, Self::ItemAdded | Self::QuantityIncreased)
    }
}

/// Why a cart event cannot be stored.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum CartRejection {
    #[error("nothing was added to the cart for this product before it was removed")]
    OrphanRemoval,
    #[error("the removal takes more than the cart holds for this product")]
    ExceedsNetQuantity,
    #[error("quantity is required for this event type")]
    QuantityRequired,
}

impl CartRejection {
    pub fn code(self) -> &'static str {
        match self {
            Self::OrphanRemoval => "orphan_removal",
            Self::ExceedsNetQuantity => "exceeds_net_quantity",
            Self::QuantityRequired => "invalid_field",
        }
    }
}

/// The signed quantity of a cart event against the key's current net.
///
/// `net` is `None` when no add or increase was ever stored for the
/// (company, fingerprint, product, variant) key. `ITEM_REMOVED` without a
/// quantity removes the whole net.
pub fn signed_quantity(event: CartEventType, quantity: Option<i64>, net: Option<i64>) -> Result<i64, CartRejection> {
    if event.adds() {
        return quantity.ok_or(CartRejection::QuantityRequired);
    }
    let net = net.ok_or(CartRejection::OrphanRemoval)?;
    let take = match (event, quantity) {
        (_, Some(q)) => q,
        (CartEventType::ItemRemoved, None) if net > 0 => net,
        (CartEventType::ItemRemoved, None) => return Err(CartRejection::ExceedsNetQuantity),
        (_, None) => return Err(CartRejection::QuantityRequired),
    };
    if take > net {
        return Err(CartRejection::ExceedsNetQuantity);
    }
    Ok(-take)
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::{CartEventType::*, *};

    #[test]
    fn adds_and_increases_are_positive_and_need_no_history() {
        assert_eq!(signed_quantity(ItemAdded, Some(2), None), Ok(2));
        assert_eq!(signed_quantity(QuantityIncreased, Some(1), None), Ok(1));
    }

    #[test]
    fn removal_without_an_add_is_an_orphan() {
        assert_eq!(signed_quantity(ItemRemoved, Some(1), None), Err(CartRejection::OrphanRemoval));
        assert_eq!(signed_quantity(QuantityDecreased, Some(1), None), Err(CartRejection::OrphanRemoval));
    }

    #[test]
    fn removal_beyond_the_net_is_rejected() {
        assert_eq!(signed_quantity(QuantityDecreased, Some(3), Some(2)), Err(CartRejection::ExceedsNetQuantity));
        assert_eq!(signed_quantity(ItemRemoved, None, Some(0)), Err(CartRejection::ExceedsNetQuantity));
    }

    #[test]
    fn item_removed_without_quantity_takes_the_whole_net() {
        assert_eq!(signed_quantity(ItemRemoved, None, Some(5)), Ok(-5));
        assert_eq!(signed_quantity(QuantityDecreased, None, Some(5)), Err(CartRejection::QuantityRequired));
    }

    proptest! {
        #[test]
        fn the_net_position_never_goes_negative(ops in proptest::collection::vec((0usize..4, proptest::option::of(1i64..5)), 0..40)) {
            let mut net: Option<i64> = None;
            for (kind, qty) in ops {
                let event = CartEventType::ALL[kind];
                if let Ok(delta) = signed_quantity(event, qty, net) {
                    let next = net.unwrap_or(0) + delta;
                    prop_assert!(next >= 0);
                    net = Some(next);
                }
            }
        }
    }
}
