//! Shopify's rules: which fingerprint an order is credited to, who may
//! connect a shop, and what each topic's delivery answers.

use revtrace_core::Fingerprint;

use crate::{
    Rejection, StoreError,
    model::{
        DeliveryOutcome, DeliveryStatus, EventReceipt, FingerprintSource, RefundReceipt, ShopifyConnect, ShopifyOrder,
        ShopifyShop,
    },
};

/// The order's fingerprint, by the first source that has one: the cart
/// token the browser script linked (`recorded`), then the line-item
/// property, then the note attribute.
pub(crate) fn fingerprint(order: &ShopifyOrder, recorded: Option<String>) -> Option<(Fingerprint, FingerprintSource)> {
    if let Some(fingerprint) = recorded.and_then(|f| Fingerprint::parse(&f).ok()) {
        return Some((fingerprint, FingerprintSource::CartToken));
    }
    if let Some(fingerprint) = &order.property_fingerprint {
        return Some((fingerprint.clone(), FingerprintSource::LineItemProperty));
    }
    order.note_fingerprint.clone().map(|f| (f, FingerprintSource::NoteAttribute))
}

/// A shop belongs to one company: connecting it to another is refused.
pub(crate) fn may_connect(existing: Option<&ShopifyShop>, c: &ShopifyConnect) -> Result<(), Rejection> {
    match existing {
        Some(shop) if shop.company_id != c.company => Err(Rejection::invalid(
            Some("shop_domain"),
            format!("{} is connected to company {}; disconnect it there first", c.shop_domain, shop.company_id),
        )),
        _ => Ok(()),
    }
}

/// An `orders/paid` delivery's outcome. An order sent earlier through the
/// API (or by another shop's delivery) stands.
pub(crate) fn order_outcome(
    stored: Result<EventReceipt, StoreError>,
    source: Option<FingerprintSource>,
) -> Result<DeliveryOutcome, StoreError> {
    match stored {
        Ok(receipt) => Ok(DeliveryOutcome {
            event_id: Some(receipt.event_id),
            reason: Some(receipt.reason),
            fingerprint_source: source,
            ..DeliveryOutcome::status(DeliveryStatus::Processed)
        }),
        Err(StoreError::Rejected(Rejection::DuplicateOrder { event_id, .. })) => {
            Ok(DeliveryOutcome { event_id: Some(event_id), ..DeliveryOutcome::status(DeliveryStatus::AlreadyStored) })
        }
        Err(other) => Err(other),
    }
}

/// A `refunds/create` delivery's outcome: a refund id seen before stands.
pub(crate) fn refund_outcome(stored: Result<RefundReceipt, StoreError>) -> Result<DeliveryOutcome, StoreError> {
    match stored {
        Ok(_) => Ok(DeliveryOutcome::status(DeliveryStatus::Processed)),
        Err(StoreError::Rejected(Rejection::DuplicateRefund { .. })) => {
            Ok(DeliveryOutcome::status(DeliveryStatus::AlreadyStored))
        }
        Err(other) => Err(other),
    }
}
