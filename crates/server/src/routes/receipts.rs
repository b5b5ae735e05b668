//! Decision receipts: why an event was or was not attributed.

use axum::{
    Json,
    extract::{Path, State},
};
use revtrace_store::AttributionReceipt;

use crate::{
    AppState,
    error::{ApiError, ErrorBody},
    extract::SecretKey,
};

/// The decision of one event: reason, candidate tickets with their last touch
/// and distance to the event, and the winner.
#[utoipa::path(get, path = "/v1/events/{event_id}/attribution", tag = "reports",
    params(("event_id" = String, Path, description = "the id returned at ingest, `evt_…`")),
    security(("secret_key" = [])),
    responses((status = 200, body = AttributionReceipt), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn event_attribution(
    State(state): State<AppState>,
    SecretKey(principal): SecretKey,
    Path(event_id): Path<revtrace_store::EventId>,
) -> Result<Json<AttributionReceipt>, ApiError> {
    crate::extract::refuse_nul_text("event_id", event_id.as_str())?;
    state
        .store
        .event_attribution(&principal.company_id, &event_id)
        .await?
        .map(Json)
        .ok_or_else(|| ApiError::not_found(format!("no event {event_id} in this company")))
}
