//! The read side: key look-ups and decision receipts, on pooled readers.

use revtrace_core::{Candidate, MessageSource, Reason, Winner, time::to_rfc3339};
use rusqlite::{Connection, OptionalExtension, params};

use crate::{
    StoreError,
    keys::sha256_hex,
    model::{AttributionReceipt, CompanyId, KeyKind, Principal, SourceCategory},
    rows::candidate_views,
};

pub(super) fn principal(conn: &Connection, key: &str) -> Result<Option<Principal>, StoreError> {
    let (sql, lookup, kind) = if key.starts_with("sk_") {
        ("SELECT company_id, rate_per_minute FROM api_keys WHERE key_sha256 = ?1", sha256_hex(key), KeyKind::Secret)
    } else {
        (
            "SELECT company_id, public_rate_per_minute FROM companies WHERE company_key = ?1",
            key.to_owned(),
            KeyKind::Public,
        )
    };
    let company: Option<(String, Option<u32>)> =
        conn.prepare_cached(sql)?.query_row(params![lookup], |r| Ok((r.get(0)?, r.get(1)?))).optional()?;
    Ok(company.map(|(id, rate_per_minute)| Principal { company_id: CompanyId(id), kind, rate_per_minute }))
}

fn corrupt(what: &str, raw: &str) -> StoreError {
    StoreError::Corrupt(format!("{what} {raw}"))
}

pub(super) fn attribution(
    conn: &Connection,
    company: &CompanyId,
    event_id: &str,
) -> Result<Option<AttributionReceipt>, StoreError> {
    let mut stmt = conn.prepare_cached(
        "SELECT event_id, cart_type, source_category, occurred_at_ms, user_fingerprint, user_faq_fingerprint, order_id,
                reason, ticket_id, ai_profile_id, message_source, window_ms, candidates, decided_at_ms, decided_by
         FROM events WHERE company_id = ?1 AND event_id = ?2",
    )?;
    let mut rows = stmt.query(params![company.0, event_id])?;
    let Some(r) = rows.next()? else {
        return Ok(None);
    };

    let reason_text: String = r.get(7)?;
    let reason = Reason::parse(&reason_text).ok_or_else(|| corrupt("reason", &reason_text))?;
    let source_text: String = r.get(2)?;
    let source_category =
        SourceCategory::parse(&source_text).ok_or_else(|| corrupt("source category", &source_text))?;
    let winner = match (r.get::<_, Option<String>>(8)?, r.get::<_, Option<String>>(9)?, r.get::<_, Option<String>>(10)?)
    {
        (Some(ticket_id), Some(ai_profile_id), Some(source)) => Some(Winner {
            ticket_id,
            ai_profile_id,
            message_source: MessageSource::parse(&source).ok_or_else(|| corrupt("message source", &source))?,
        }),
        _ => None,
    };
    let candidates_json: String = r.get(12)?;
    let candidates: Vec<Candidate> =
        serde_json::from_str(&candidates_json).map_err(|e| StoreError::Corrupt(format!("candidates: {e}")))?;
    let winning_ticket = winner.as_ref().map(|w| w.ticket_id.clone());
    Ok(Some(AttributionReceipt {
        event_id: r.get(0)?,
        cart_type: r.get(1)?,
        source_category,
        occurred_at: to_rfc3339(r.get(3)?),
        user_fingerprint: r.get(4)?,
        user_faq_fingerprint: r.get(5)?,
        order_id: r.get(6)?,
        attributed: winner.is_some(),
        reason,
        winner,
        window_ms: r.get(11)?,
        candidates: candidate_views(candidates, winning_ticket.as_deref()),
        decided_at: to_rfc3339(r.get(13)?),
        decided_by: r.get(14)?,
    }))
}
