//! Key look-ups and decision receipts on PostgreSQL.

use deadpool_postgres::GenericClient;
use revtrace_core::{Candidate, MessageSource, Reason, Winner, time::to_rfc3339};

use super::opt;
use crate::{
    StoreError,
    keys::sha256_hex,
    model::{AttributionReceipt, CompanyId, KeyKind, Principal, SourceCategory},
    rows::candidate_views,
};

pub(super) async fn principal(c: &impl GenericClient, key: &str) -> Result<Option<Principal>, StoreError> {
    let (sql, lookup, kind) = if key.starts_with("sk_") {
        ("SELECT company_id, rate_per_minute FROM api_keys WHERE key_sha256 = $1", sha256_hex(key), KeyKind::Secret)
    } else {
        (
            "SELECT company_id, public_rate_per_minute FROM companies WHERE company_key = $1",
            key.to_owned(),
            KeyKind::Public,
        )
    };
    let company = opt(c, sql, &[&lookup]).await?;
    Ok(company.map(|r| Principal {
        company_id: CompanyId(r.get(0)),
        kind,
        rate_per_minute: r.get::<_, Option<i32>>(1).and_then(|n| u32::try_from(n).ok()),
    }))
}

fn corrupt(what: &str, raw: &str) -> StoreError {
    StoreError::Corrupt(format!("{what} {raw}"))
}

pub(super) async fn attribution(
    c: &impl GenericClient,
    company: &CompanyId,
    event_id: &str,
) -> Result<Option<AttributionReceipt>, StoreError> {
    let Some(r) = opt(
        c,
        "SELECT event_id, cart_type, source_category, occurred_at_ms, user_fingerprint, user_faq_fingerprint, order_id,
                reason, ticket_id, ai_profile_id, message_source, window_ms, candidates, decided_at_ms, decided_by
         FROM events WHERE company_id = $1 AND event_id = $2",
        &[&company.0, &event_id],
    )
    .await?
    else {
        return Ok(None);
    };
    let reason_text: &str = r.get(7);
    let reason = Reason::parse(reason_text).ok_or_else(|| corrupt("reason", reason_text))?;
    let source_text: &str = r.get(2);
    let source_category = SourceCategory::parse(source_text).ok_or_else(|| corrupt("source category", source_text))?;
    let winner = match (r.get::<_, Option<String>>(8), r.get::<_, Option<String>>(9), r.get::<_, Option<String>>(10)) {
        (Some(ticket_id), Some(ai_profile_id), Some(source)) => Some(Winner {
            ticket_id,
            ai_profile_id,
            message_source: MessageSource::parse(&source).ok_or_else(|| corrupt("message source", &source))?,
        }),
        _ => None,
    };
    let candidates: Vec<Candidate> =
        serde_json::from_str(r.get(12)).map_err(|e| StoreError::Corrupt(format!("candidates: {e}")))?;
    let winning_ticket = winner.as_ref().map(|w| w.ticket_id.clone());
    Ok(Some(AttributionReceipt {
        event_id: r.get(0),
        cart_type: r.get(1),
        source_category,
        occurred_at: to_rfc3339(r.get(3)),
        user_fingerprint: r.get(4),
        user_faq_fingerprint: r.get(5),
        order_id: r.get(6),
        attributed: winner.is_some(),
        reason,
        winner,
        window_ms: r.get(11),
        candidates: candidate_views(candidates, winning_ticket.as_deref()),
        decided_at: to_rfc3339(r.get(13)),
        decided_by: r.get(14),
    }))
}
