//! Key look-ups and decision receipts, written once: the query and the
//! mapping of its row, whichever backend ran it.

use revtrace_core::{Candidate, MessageSource, Reason, Winner, time::to_rfc3339};

use super::{Arg, Cells, args};
use crate::{
    StoreError,
    keys::sha256_hex,
    model::{AttributionReceipt, CandidateView, CompanyId, KeyKind, Principal, SourceCategory},
};

/// The query that finds a key's company, and which kind of key it is.
pub(crate) fn principal_query(key: &str) -> (&'static str, Vec<Arg>, KeyKind) {
    if key.starts_with("sk_") {
        (
            "SELECT company_id, rate_per_minute FROM api_keys WHERE key_sha256 = $1",
            args![sha256_hex(key)],
            KeyKind::Secret,
        )
    } else {
        ("SELECT company_id, public_rate_per_minute FROM companies WHERE company_key = $1", args![key], KeyKind::Public)
    }
}

pub(crate) fn principal<R: Cells>(rows: &[R], kind: KeyKind) -> Result<Option<Principal>, StoreError> {
    rows.first()
        .map(|r| {
            Ok(Principal {
                company_id: CompanyId::new(r.text(0)?),
                kind,
                rate_per_minute: r.opt_int(1)?.and_then(|n| u32::try_from(n).ok()),
            })
        })
        .transpose()
}

pub(crate) fn attribution_query(company: &CompanyId, event_id: &revtrace_core::EventId) -> (&'static str, Vec<Arg>) {
    (
        "SELECT event_id, cart_type, source_category, occurred_at_ms, user_fingerprint, user_faq_fingerprint, order_id,
                reason, ticket_id, ai_profile_id, message_source, window_ms, candidates, decided_at_ms, decided_by
         FROM events WHERE company_id = $1 AND event_id = $2",
        args![company.to_string(), event_id],
    )
}

fn corrupt(what: &str, raw: &str) -> StoreError {
    StoreError::corrupt(format!("{what} {raw}"))
}

/// A stored decision's receipt, from the row of [`attribution_query`].
pub(crate) fn attribution<R: Cells>(rows: &[R]) -> Result<Option<AttributionReceipt>, StoreError> {
    let Some(r) = rows.first() else {
        return Ok(None);
    };
    let reason_text = r.text(7)?;
    let reason = Reason::parse(&reason_text).ok_or_else(|| corrupt("reason", &reason_text))?;
    let source_text = r.text(2)?;
    let source_category =
        SourceCategory::parse(&source_text).ok_or_else(|| corrupt("source category", &source_text))?;
    let winner = match (r.opt_text(8)?, r.opt_text(9)?, r.opt_text(10)?) {
        (Some(ticket_id), Some(ai_profile_id), Some(source)) => Some(Winner {
            ticket_id,
            ai_profile_id,
            message_source: MessageSource::parse(&source).ok_or_else(|| corrupt("message source", &source))?,
        }),
        _ => None,
    };
    let candidates: Vec<Candidate> =
        serde_json::from_str(&r.text(12)?).map_err(|e| StoreError::corrupt(format!("candidates: {e}")))?;
    let winning_ticket = winner.as_ref().map(|w| w.ticket_id.clone());
    Ok(Some(AttributionReceipt {
        event_id: r.text(0)?.into(),
        cart_type: r.text(1)?,
        source_category,
        occurred_at: to_rfc3339(r.int(3)?),
        user_fingerprint: r.opt_text(4)?,
        user_faq_fingerprint: r.opt_text(5)?,
        order_id: r.opt_text(6)?.map(Into::into),
        attributed: winner.is_some(),
        reason,
        winner,
        window_ms: r.int(11)?,
        candidates: candidate_views(candidates, winning_ticket.as_deref()),
        decided_at: to_rfc3339(r.int(13)?),
        decided_by: {
            let raw = r.text(14)?;
            crate::model::DecidedBy::parse(&raw).ok_or_else(|| StoreError::corrupt(format!("decided_by {raw}")))?
        },
    }))
}

/// Who holds this key: a company's public key or one of its secret keys.
pub(crate) async fn find_principal<D: super::db::Db>(db: &D, key: &str) -> Result<Option<Principal>, StoreError> {
    let (sql, args, kind) = principal_query(key);
    principal(&db.rows(sql, args).await?, kind)
}

/// A stored decision's receipt.
pub(crate) async fn receipt<D: super::db::Db>(
    db: &D,
    company: &CompanyId,
    event_id: &revtrace_core::EventId,
) -> Result<Option<AttributionReceipt>, StoreError> {
    let (sql, args) = attribution_query(company, event_id);
    attribution(&db.rows(sql, args).await?)
}

/// A stored decision's candidates as its receipt shows them.
pub(crate) fn candidate_views(candidates: Vec<Candidate>, winning_ticket: Option<&str>) -> Vec<CandidateView> {
    candidates
        .into_iter()
        .map(|c| CandidateView {
            winner: winning_ticket == Some(c.ticket_id.as_str()),
            ticket_id: c.ticket_id.into(),
            fingerprint: c.fingerprint,
            message_source: c.message_source,
            first_message_at: to_rfc3339(c.first_message_at_ms),
            last_touch_at: to_rfc3339(c.last_touch_at_ms),
            distance_ms: c.distance_ms,
            qualifies: c.qualifies,
            in_window: c.in_window,
        })
        .collect()
}
