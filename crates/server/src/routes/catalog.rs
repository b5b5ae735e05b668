//! The product catalog that enriches the per-conversation view.

use axum::{Json, extract::State};
use revtrace_store::Product;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::{
    AppState,
    error::{ApiError, ErrorBody},
    extract::{JsonBody, SecretKey},
    wire::IdText,
};

/// At most this many entries per call.
pub const MAX_PRODUCTS: usize = 1000;

#[derive(Deserialize, ToSchema)]
pub struct ProductBody {
    pub product_id: IdText,
    #[schema(max_length = 500)]
    pub title: Option<String>,
    /// An absolute http(s) URL (or a `data:image/` URL).
    #[schema(max_length = 32768, example = "https://cdn.example.com/moisturizer.jpg")]
    pub image_url: Option<String>,
    /// The product page, an absolute http(s) URL.
    #[schema(max_length = 2048, example = "https://shop.example.com/products/moisturizer")]
    pub url: Option<String>,
}

#[derive(Deserialize, ToSchema)]
pub struct ProductsBody {
    #[schema(max_items = 1000)]
    pub products: Vec<ProductBody>,
}

#[derive(Serialize, ToSchema)]
pub struct ProductsUpserted {
    pub upserted: u64,
}

fn link(field: String, raw: Option<String>, data_image: bool) -> Result<Option<String>, ApiError> {
    match raw.filter(|v| !v.is_empty()) {
        None => Ok(None),
        Some(url) if url.len() <= 2048 && (url.starts_with("https://") || url.starts_with("http://")) => Ok(Some(url)),
        // Inline images (an <img> never runs them) for catalogs without a CDN.
        Some(url) if data_image && url.len() <= 32_768 && url.starts_with("data:image/") => Ok(Some(url)),
        Some(_) => Err(ApiError::invalid_field(field, "an absolute http(s) URL of at most 2048 bytes")),
    }
}

/// Validates catalog entries as `POST /v1/products` and `revtrace products import` take them.
pub fn product(i: usize, p: ProductBody) -> Result<Product, ApiError> {
    let id = p.product_id.0;
    if id.is_empty() || id.len() > 255 {
        return Err(ApiError::invalid_field(format!("products[{i}].product_id"), "1 to 255 bytes"));
    }
    if p.title.as_ref().is_some_and(|t| t.len() > 500) {
        return Err(ApiError::invalid_field(format!("products[{i}].title"), "at most 500 bytes"));
    }
    Ok(Product {
        product_id: id.into(),
        title: p.title.filter(|t| !t.is_empty()),
        image_url: link(format!("products[{i}].image_url"), p.image_url, true)?,
        url: link(format!("products[{i}].url"), p.url, false)?,
    })
}

/// Insert or replace catalog entries (title, image, link) by product id.
#[utoipa::path(post, path = "/v1/products", tag = "reports", request_body = ProductsBody,
    security(("secret_key" = [])),
    responses((status = 200, body = ProductsUpserted), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 413, body = ErrorBody),
        (status = 422, body = ErrorBody), (status = 429, body = ErrorBody)))]
pub async fn upsert_products(
    State(state): State<AppState>,
    SecretKey(principal): SecretKey,
    JsonBody { value: body, .. }: JsonBody<ProductsBody>,
) -> Result<Json<ProductsUpserted>, ApiError> {
    if body.products.len() > MAX_PRODUCTS {
        return Err(ApiError::invalid_field("products", format!("at most {MAX_PRODUCTS} entries per call")));
    }
    let products = body.products.into_iter().enumerate().map(|(i, p)| product(i, p)).collect::<Result<_, _>>()?;
    let upserted = state.store.upsert_products(&principal.company_id, products).await?;
    Ok(Json(ProductsUpserted { upserted }))
}
