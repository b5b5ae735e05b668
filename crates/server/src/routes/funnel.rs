//! `GET /v1/funnel` (SPEC §12): where shoppers drop between conversation,
//! grounded answer, cart and checkout.

use axum::{Json, extract::State};
use revtrace_core::funnel::{self, FunnelBySource, FunnelSteps};
use serde::Serialize;
use utoipa::ToSchema;

use crate::{
    AppState,
    error::{ApiError, ErrorBody},
    routes::reports::{ReportParams, ReportQuery, ReportRequest},
};

/// The funnel of the conversations whose first message falls in the range.
#[derive(Serialize, ToSchema)]
pub struct FunnelReport {
    pub from: String,
    pub to: String,
    pub timezone: String,
    #[serde(flatten)]
    pub steps: FunnelSteps,
    pub by_source: FunnelBySource,
}

/// Conversations (first message on a day of the range) → grounded (a
/// grounded AI answer) → with a credited cart add → with a credited
/// checkout, each rate a share of the step before, and the median minutes
/// from first message to first credited checkout; the same per source.
/// `ai_profile` and `source` narrow the conversations; test events never
/// count (`include_test=true` is refused).
#[utoipa::path(get, path = "/v1/funnel", tag = "reports", params(ReportParams),
    security(("secret_key" = [])),
    responses((status = 200, body = FunnelReport), (status = 401, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn funnel(State(state): State<AppState>, request: ReportRequest) -> Result<Json<FunnelReport>, ApiError> {
    let ReportRequest { company, timezone, query: ReportQuery { range, filter }, .. } = request.taking(&[])?;
    if filter.include_test {
        return Err(ApiError::invalid_field("include_test", "the funnel counts non-test events only"));
    }
    let tickets = state.store.funnel_tickets(&company, range, filter).await?;
    let (steps, by_source) = funnel::funnel(&tickets);
    Ok(Json(FunnelReport { from: range.from.to_string(), to: range.to.to_string(), timezone, steps, by_source }))
}
