//! `GET /v1/company`: who the secret key belongs to, for the dashboard.

use axum::{Json, extract::State};
use revtrace_store::CompanyOverview;

use crate::{
    AppState,
    error::{ApiError, ErrorBody},
    extract::SecretKey,
};

/// The company's name and time zone, its AI profiles, and whether it has
/// checkout data (the dashboard shows checkout views only then).
#[utoipa::path(get, path = "/v1/company", tag = "reports", security(("secret_key" = [])),
    responses((status = 200, body = CompanyOverview), (status = 401, body = ErrorBody)))]
pub async fn company(
    State(state): State<AppState>,
    SecretKey(principal): SecretKey,
) -> Result<Json<CompanyOverview>, ApiError> {
    state
        .store
        .company_overview(&principal.company_id)
        .await?
        .map(Json)
        .ok_or_else(|| ApiError::unauthorized("unknown company"))
}
