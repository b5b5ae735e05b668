//! The per-conversation view: one ticket, the events it earned, its totals.

use axum::{
    Json,
    extract::{Path, State},
    http::HeaderMap,
};
use revtrace_store::TicketRevenue;

use crate::{
    AppState,
    error::{ApiError, ErrorBody},
    extract::secret_principal,
};

/// A conversation with its message source and its attributed cart and
/// checkout events in time order, each product enriched from the catalog
/// (title, image, link), and totals over its non-test events.
#[utoipa::path(get, path = "/v1/tickets/{ticket_id}/revenue", tag = "reports",
    params(("ticket_id" = String, Path, description = "the ticket id the assistant sent")),
    security(("secret_key" = [])),
    responses((status = 200, body = TicketRevenue), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn ticket_revenue(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(ticket_id): Path<String>,
) -> Result<Json<TicketRevenue>, ApiError> {
    let principal = secret_principal(&*state.store, &headers).await?;
    state
        .store
        .ticket_revenue(&principal.company_id, &ticket_id)
        .await?
        .map(Json)
        .ok_or_else(|| ApiError::not_found(format!("no ticket {ticket_id} in this company")))
}
