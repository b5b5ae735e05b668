//! The parts of Shopify's REST payloads revtrace reads. Money arrives as
//! decimal strings (refund line subtotals as JSON numbers), ids as integers
//! beyond 2^53: both are read without ever passing through a float.

use serde::Deserialize;

use crate::wire::{Amount, IdText};

#[derive(Deserialize)]
pub struct NameValue {
    pub name: String,
    #[serde(default)]
    pub value: serde_json::Value,
}

#[derive(Deserialize)]
pub struct Money {
    pub amount: Amount,
    pub currency_code: String,
}

#[derive(Deserialize)]
pub struct MoneyBag {
    pub shop_money: Option<Money>,
    pub presentment_money: Option<Money>,
}

#[derive(Deserialize)]
pub struct LineItem {
    pub product_id: Option<IdText>,
    pub variant_id: Option<IdText>,
    pub sku: Option<String>,
    pub title: Option<String>,
    pub name: Option<String>,
    pub quantity: i64,
    pub price: Amount,
    #[serde(default)]
    pub properties: Vec<NameValue>,
}

#[derive(Deserialize)]
pub struct Order {
    pub id: IdText,
    pub cart_token: Option<String>,
    pub total_price: Option<Amount>,
    pub subtotal_price: Option<Amount>,
    pub total_price_set: Option<MoneyBag>,
    pub subtotal_price_set: Option<MoneyBag>,
    pub currency: String,
    pub processed_at: Option<String>,
    pub created_at: Option<String>,
    pub cancelled_at: Option<String>,
    #[serde(default)]
    pub test: bool,
    #[serde(default)]
    pub note_attributes: Vec<NameValue>,
    #[serde(default)]
    pub line_items: Vec<LineItem>,
}

#[derive(Deserialize)]
pub struct Transaction {
    pub amount: Amount,
    pub kind: Option<String>,
    pub status: Option<String>,
}

#[derive(Deserialize)]
pub struct RefundLine {
    pub subtotal: Option<Amount>,
    pub subtotal_set: Option<MoneyBag>,
}

#[derive(Deserialize)]
pub struct Refund {
    pub id: IdText,
    pub order_id: IdText,
    pub created_at: Option<String>,
    pub processed_at: Option<String>,
    #[serde(default)]
    pub transactions: Vec<Transaction>,
    #[serde(default)]
    pub refund_line_items: Vec<RefundLine>,
}

/// `customers/redact` and `customers/data_request`.
#[derive(Deserialize)]
pub struct CustomerRequest {
    #[serde(default)]
    pub orders_to_redact: Vec<IdText>,
}

/// The first non-empty string value of the entry named `name`.
pub fn named<'a>(entries: &'a [NameValue], name: &str) -> Option<&'a str> {
    entries.iter().filter(|e| e.name == name).find_map(|e| e.value.as_str().map(str::trim).filter(|v| !v.is_empty()))
}
