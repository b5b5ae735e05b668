//! Conversations: the list of those that earned the most, and the
//! per-conversation view (one ticket, the events it earned, its totals).

use axum::{
    Json,
    extract::{Path, State},
};
use revtrace_store::{ConversationRow, TicketRevenue};

use crate::{
    AppState,
    error::{ApiError, ErrorBody},
    extract::SecretKey,
    routes::reports::ReportRequest,
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
    SecretKey(principal): SecretKey,
    Path(ticket_id): Path<revtrace_store::TicketId>,
) -> Result<Json<TicketRevenue>, ApiError> {
    crate::extract::refuse_nul_text("ticket_id", ticket_id.as_str())?;
    state
        .store
        .ticket_revenue(&principal.company_id, &ticket_id)
        .await?
        .map(Json)
        .ok_or_else(|| ApiError::not_found(format!("no ticket {ticket_id} in this company")))
}

/// The query of `GET /v1/tickets`: the report's range and filters, and a limit.
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)] // documents the query; parsing is by hand for JSON errors
pub struct ConversationParams {
    /// First reporting day, `YYYY-MM-DD` (default: 29 days before `to`).
    from: Option<String>,
    /// Last reporting day, inclusive (default: today in the company's time zone).
    to: Option<String>,
    ai_profile: Option<String>,
    /// `CHAT_WIDGET`, `FAQ` or `NUDGE_CLICK`.
    source: Option<String>,
    include_test: Option<bool>,
    /// At most this many conversations, 1 to 200 (default 50).
    limit: Option<u32>,
}

/// The conversations that earned the most over a day range: attributed
/// events, orders, checkout revenue and cart GMV each, best first.
#[utoipa::path(get, path = "/v1/tickets", tag = "reports", params(ConversationParams),
    security(("secret_key" = [])),
    responses((status = 200, body = Vec<ConversationRow>), (status = 401, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn top_conversations(
    State(state): State<AppState>,
    request: ReportRequest,
) -> Result<Json<Vec<ConversationRow>>, ApiError> {
    let request = request.taking(&["limit"])?;
    let limit = match request.params.get("limit").map(String::as_str) {
        None => 50,
        Some(raw) => raw
            .parse::<u32>()
            .ok()
            .filter(|n| (1..=200).contains(n))
            .ok_or_else(|| ApiError::invalid_field("limit", "limit is 1 to 200"))?,
    };
    let rows =
        state.store.top_conversations(&request.company, request.query.range, request.query.filter, limit).await?;
    Ok(Json(rows))
}
