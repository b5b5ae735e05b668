//! The write side of ingest: each function runs inside the writer's batch
//! transaction (under its own savepoint) and either writes everything of one
//! call or returns a rejection having written nothing.

use revtrace_core::{
    AttributionInput, Currency, Decision, Multiplier, Role, attribute, classify, qualifies, signed_quantity,
    ticket::nudge_id_of, time::to_rfc3339, usd_cents,
};
use rusqlite::{Connection, OptionalExtension, params};
use rust_decimal::Decimal;

use super::{
    history::{self, Companies},
    refunds, rollups,
    writer::Call,
};
use crate::{
    Rejection, StoreError,
    model::{
        CartTokenInput, CompanyId, EventInput, EventKind, EventReceipt, IdempotencyKey, TicketInput, TicketSummary,
    },
    rows::{self as shared, Contribution, EventColumns, Ingested, Rate, RollupKey, VisitorFlags, parse_multiplier},
};

/// Runs one ingest call, honouring its idempotency key: a known id with the
/// same body returns the stored answer, with another body a rejection; a new
/// id stores the answer with the call, under the same savepoint.
pub(super) fn call(
    conn: &Connection,
    companies: &mut Companies,
    company: &CompanyId,
    idempotency: Option<IdempotencyKey>,
    call: Call,
    now_ms: i64,
) -> Result<Ingested, StoreError> {
    if let Some(key) = &idempotency
        && let Some((status, body)) = replay(conn, company, key)?
    {
        return Ok(Ingested::Replayed { status, body });
    }
    let answer = match call {
        Call::Ticket(input) => Ingested::Ticket(ticket(conn, companies, company, input, now_ms)?),
        Call::Event(input) => Ingested::Event(event(conn, companies, company, *input, now_ms)?),
        Call::CartToken(input) => {
            cart_token(conn, companies, company, input, now_ms)?;
            Ingested::NoContent
        }
        Call::Refund(input) => Ingested::Refund(refunds::record(conn, companies, company, input, now_ms)?),
        Call::Visit { fingerprint, at_ms } => {
            visit(conn, companies, company, &fingerprint, at_ms)?;
            Ingested::NoContent
        }
    };
    if let Some(key) = idempotency {
        let (status, body) = answer.to_stored()?;
        conn.prepare_cached(
            "INSERT INTO idempotency_keys (company_id, endpoint, idempotency_id, request_sha256, status, body,
                                           created_at_ms)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        )?
        .execute(params![
            company.0,
            key.endpoint,
            key.id,
            key.request_sha256.as_slice(),
            status,
            body,
            now_ms
        ])?;
    }
    Ok(answer)
}

/// The stored answer for a retry, or a rejection for a reused id.
fn replay(conn: &Connection, company: &CompanyId, key: &IdempotencyKey) -> Result<Option<(u16, String)>, StoreError> {
    let stored: Option<(Vec<u8>, u16, String)> = conn
        .prepare_cached(
            "SELECT request_sha256, status, body FROM idempotency_keys
             WHERE company_id = ?1 AND endpoint = ?2 AND idempotency_id = ?3",
        )?
        .query_row(params![company.0, key.endpoint, key.id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .optional()?;
    match stored {
        None => Ok(None),
        Some((digest, status, body)) if digest == key.request_sha256 => Ok(Some((status, body))),
        Some(_) => Err(Rejection::IdempotencyMismatch.into()),
    }
}

pub(super) fn ticket(
    conn: &Connection,
    companies: &mut Companies,
    company: &CompanyId,
    input: TicketInput,
    now_ms: i64,
) -> Result<TicketSummary, StoreError> {
    let existing: Option<(i64, String, String, String)> = conn
        .prepare_cached(
            "SELECT ticket_pk, ai_profile_id, channel, fingerprint FROM tickets WHERE company_id = ?1 AND ticket_id = ?2",
        )?
        .query_row(params![company.0, input.ticket_id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
        .optional()?;
    let conflict = |field| Rejection::TicketConflict { ticket_id: input.ticket_id.clone(), field };
    let ticket_pk = match existing {
        Some((pk, profile, channel, fingerprint)) => {
            // A ticket's identity is fixed at first sight: changing it later
            // would silently rewrite the history that past decisions used.
            if channel != input.channel.as_str() {
                return Err(conflict("channel").into());
            }
            if fingerprint != input.fingerprint.as_str() {
                return Err(conflict("fingerprint").into());
            }
            if input.ai_profile_id.as_ref().is_some_and(|p| *p != profile) {
                return Err(conflict("ai_profile_id").into());
            }
            pk
        }
        None => {
            companies.get(conn, company)?;
            conn.prepare_cached(
                "INSERT INTO tickets (company_id, ticket_id, ai_profile_id, channel, fingerprint, created_at_ms)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )?
            .execute(params![
                company.0,
                input.ticket_id,
                input.ai_profile_id.as_deref().unwrap_or("default"),
                input.channel.as_str(),
                input.fingerprint.as_str(),
                now_ms
            ])?;
            conn.last_insert_rowid()
        }
    };

    let mut insert = conn.prepare_cached(
        "INSERT INTO messages (ticket_pk, message_id, sent_at_ms, role, has_answer_found, nudge_id, text, metadata, product_ids)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9) ON CONFLICT (ticket_pk, message_id) DO NOTHING",
    )?;
    let timezone = companies.get(conn, company)?.timezone.clone();
    for m in &input.messages {
        let product_ids = if m.product_ids.is_empty() {
            None
        } else {
            Some(serde_json::Value::from(m.product_ids.clone()).to_string())
        };
        let inserted = insert.execute(params![
            ticket_pk,
            m.message_id,
            m.sent_at_ms,
            m.role.as_str(),
            m.has_answer_found,
            nudge_id_of(m.metadata.as_ref()),
            m.text,
            m.metadata.as_ref().map(|v| v.to_string()),
            product_ids
        ])?;
        if inserted > 0 && m.role == Role::Ai && m.has_answer_found == Some(true) {
            let day = revtrace_core::time::reporting_day(m.sent_at_ms, &timezone).to_string();
            let flags = VisitorFlags { assisted: true, ..VisitorFlags::default() };
            rollups::mark_visitor(conn, company, &day, input.fingerprint.as_str(), flags)?;
        }
    }

    let facts = history::messages_of(conn, ticket_pk)?;
    Ok(TicketSummary {
        ticket_id: input.ticket_id,
        message_source: classify(input.channel, &facts),
        qualifies: qualifies(&facts, i64::MAX),
        first_message_at: facts.iter().map(|m| m.sent_at_ms).min().map(to_rfc3339),
        last_message_at: facts.iter().map(|m| m.sent_at_ms).max().map(to_rfc3339),
    })
}

/// The USD multiplier in force for a currency on a reporting day.
pub(super) fn rate_for(conn: &Connection, currency: Currency, day: &str) -> Result<Option<Rate>, StoreError> {
    if currency == Currency::USD {
        return Ok(Some(Rate { multiplier: Multiplier::ONE, effective_from: None, source: None }));
    }
    let row: Option<(String, String, String)> = conn
        .prepare_cached(
            "SELECT usd_multiplier, effective_from, source FROM currency_rates
             WHERE currency = ?1 AND effective_from <= ?2 ORDER BY effective_from DESC LIMIT 1",
        )?
        .query_row(params![currency.as_str(), day], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .optional()?;
    row.map(|(m, from, source)| {
        Ok(Rate { multiplier: parse_multiplier(&m)?, effective_from: Some(from), source: Some(source) })
    })
    .transpose()
}

pub(super) fn event(
    conn: &Connection,
    companies: &mut Companies,
    company: &CompanyId,
    input: EventInput,
    now_ms: i64,
) -> Result<EventReceipt, StoreError> {
    let settings = companies.get(conn, company)?.clone();

    // The rule checks that can refuse the event come before any write.
    let (amount, quantity_signed) = match &input.kind {
        EventKind::Cart { event_type, product_id, variant_id, quantity, unit_price, .. } => {
            let fingerprint = input.user_fingerprint.as_ref().map(|f| f.as_str()).unwrap_or_default();
            // Adds need no history; only removals read the current net.
            let net = if event_type.adds() {
                None
            } else {
                cart_net(conn, company, fingerprint, product_id, variant_id.as_deref())?
            };
            let signed = signed_quantity(*event_type, *quantity, net).map_err(Rejection::from)?;
            let amount = Decimal::from(signed)
                .checked_mul(*unit_price)
                .ok_or_else(|| Rejection::Invalid("quantity × unit_price is too large".into()))?;
            (amount, Some(signed))
        }
        EventKind::Checkout { order_id, order_value, .. } => {
            if let Some(event_id) = stored_order(conn, company, order_id)? {
                return Err(Rejection::DuplicateOrder { order_id: order_id.clone(), event_id }.into());
            }
            (*order_value, None)
        }
    };

    let day = revtrace_core::time::reporting_day(input.occurred_at_ms, &settings.timezone).to_string();
    let rate = rate_for(conn, input.currency, &day)?;
    let usd = rate
        .as_ref()
        .map(|r| usd_cents(amount, r.multiplier))
        .transpose()
        .map_err(|e| Rejection::Invalid(e.to_string()))?;

    let identity = input.identity();
    let histories = history::for_identity(conn, company, &identity, input.occurred_at_ms)?;
    let decision = attribute(
        AttributionInput { at_ms: input.occurred_at_ms, identity: &identity, window_ms: settings.window_ms },
        &histories,
    );

    let event_id = crate::keys::time_ordered_id("evt_");
    let event_pk = insert_event(
        conn,
        company,
        &input,
        &InsertFacts {
            event_id: &event_id,
            day: &day,
            amount,
            quantity_signed,
            rate: rate.as_ref(),
            usd_cents: usd.map(|c| c.0),
            decision: &decision,
            window_ms: settings.window_ms,
            now_ms,
        },
    )?;

    let winner = decision.winner.as_ref();
    let key = RollupKey {
        day: day.clone(),
        cart_type: shared::cart_type_str(matches!(input.kind, EventKind::Checkout { .. })),
        attributed: decision.attributed(),
        ai_profile_id: winner.map(|w| w.ai_profile_id.clone()).unwrap_or_default(),
        message_source: winner.map(|w| w.message_source.as_str().to_owned()).unwrap_or_default(),
        is_test: input.is_test,
    };
    let contribution =
        Contribution { usd_cents: usd.map(|c| c.0), quantity: quantity_signed.unwrap_or_default(), refunded_cents: 0 };
    rollups::apply(conn, company, &key, contribution, 1)?;
    // A test order sets no flag, but its row lets privacy requests find it.
    let checkout = matches!(input.kind, EventKind::Checkout { .. });
    let flags = VisitorFlags { seen: !input.is_test, converted: checkout && !input.is_test, assisted: false };
    for fingerprint in &identity {
        rollups::mark_visitor(conn, company, &day, fingerprint, flags)?;
    }
    if let EventKind::Checkout { order_id, .. } = &input.kind {
        let multiplier = rate.as_ref().map(|r| r.multiplier);
        refunds::apply_pending(conn, company, order_id, event_pk, multiplier, &key)?;
    }

    if let EventKind::Cart { product_id, variant_id, .. } = &input.kind {
        let fingerprint = input.user_fingerprint.as_ref().map(|f| f.as_str()).unwrap_or_default();
        // Adds create the position; removals only ever update an existing one
        // (a CHECK would refuse a negative row even on the conflict path).
        let sql = if quantity_signed.unwrap_or_default() >= 0 {
            "INSERT INTO cart_positions (company_id, user_fingerprint, product_id, variant_key, net_quantity)
             VALUES (?1, ?2, ?3, ?4, ?5)
             ON CONFLICT (company_id, user_fingerprint, product_id, variant_key)
             DO UPDATE SET net_quantity = net_quantity + excluded.net_quantity"
        } else {
            "UPDATE cart_positions SET net_quantity = net_quantity + ?5
             WHERE company_id = ?1 AND user_fingerprint = ?2 AND product_id = ?3 AND variant_key = ?4"
        };
        conn.prepare_cached(sql)?.execute(params![
            company.0,
            fingerprint,
            product_id,
            variant_id.as_deref().unwrap_or(""),
            quantity_signed
        ])?;
    }

    let receipt = EventReceipt {
        event_id,
        attributed: decision.attributed(),
        ticket_id: decision.winner.as_ref().map(|w| w.ticket_id.clone()),
        message_source: decision.winner.as_ref().map(|w| w.message_source),
        reason: decision.reason,
        usd_value: usd.map(|c| c.to_string()),
    };
    Ok(receipt)
}

fn cart_net(
    conn: &Connection,
    company: &CompanyId,
    fingerprint: &str,
    product_id: &str,
    variant_id: Option<&str>,
) -> Result<Option<i64>, StoreError> {
    Ok(conn
        .prepare_cached(
            "SELECT net_quantity FROM cart_positions
             WHERE company_id = ?1 AND user_fingerprint = ?2 AND product_id = ?3 AND variant_key = ?4",
        )?
        .query_row(params![company.0, fingerprint, product_id, variant_id.unwrap_or("")], |r| r.get(0))
        .optional()?)
}

fn stored_order(conn: &Connection, company: &CompanyId, order_id: &str) -> Result<Option<String>, StoreError> {
    Ok(conn
        .prepare_cached("SELECT event_id FROM events WHERE company_id = ?1 AND order_id = ?2")?
        .query_row(params![company.0, order_id], |r| r.get(0))
        .optional()?)
}

struct InsertFacts<'a> {
    event_id: &'a str,
    day: &'a str,
    amount: Decimal,
    quantity_signed: Option<i64>,
    rate: Option<&'a Rate>,
    usd_cents: Option<i64>,
    decision: &'a Decision,
    window_ms: i64,
    now_ms: i64,
}

fn insert_event(
    conn: &Connection,
    company: &CompanyId,
    input: &EventInput,
    f: &InsertFacts<'_>,
) -> Result<i64, StoreError> {
    let EventColumns { cart_type, event_type, product_id, variant_id, unit_price, order_id, cart_token } =
        EventColumns::of(&input.kind);
    let winner = f.decision.winner.as_ref();
    let candidates = serde_json::to_string(&f.decision.candidates).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    conn.prepare_cached(
        "INSERT INTO events (event_id, company_id, cart_type, source_category, occurred_at_ms, day, received_at_ms,
            user_fingerprint, user_faq_fingerprint, event_type, product_id, variant_id, quantity_signed, unit_price,
            order_id, cart_token, amount, currency, usd_multiplier, rate_effective_from, usd_cents, is_test,
            reason, attributed, ticket_id, ai_profile_id, message_source, window_ms, candidates, decided_at_ms, decided_by,
            rate_source)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21, ?22,
            ?23, ?24, ?25, ?26, ?27, ?28, ?29, ?30, 'ingest', ?31)",
    )?
    .execute(params![
        f.event_id,
        company.0,
        cart_type,
        input.source.as_str(),
        input.occurred_at_ms,
        f.day,
        input.received_at_ms,
        input.user_fingerprint.as_ref().map(|x| x.as_str()),
        input.user_faq_fingerprint.as_ref().map(|x| x.as_str()),
        event_type,
        product_id,
        variant_id,
        f.quantity_signed,
        unit_price,
        order_id,
        cart_token,
        f.amount.to_string(),
        input.currency.as_str(),
        f.rate.map(|r| r.multiplier.value().to_string()),
        f.rate.and_then(|r| r.effective_from.as_deref()),
        f.usd_cents,
        input.is_test,
        f.decision.reason.as_str(),
        f.decision.attributed(),
        winner.map(|w| w.ticket_id.as_str()),
        winner.map(|w| w.ai_profile_id.as_str()),
        winner.map(|w| w.message_source.as_str()),
        f.window_ms,
        candidates,
        f.now_ms,
        f.rate.and_then(|r| r.source.as_deref()),
    ])?;
    let event_pk = conn.last_insert_rowid();

    if let EventKind::Checkout { line_items, .. } = &input.kind {
        let mut insert = conn.prepare_cached(
            "INSERT INTO line_items (event_pk, position, product_id, variant_id, sku, title, quantity, unit_price)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        )?;
        for (position, item) in line_items.iter().enumerate() {
            insert.execute(params![
                event_pk,
                position as i64,
                item.product_id,
                item.variant_id,
                item.sku,
                item.title,
                item.quantity,
                item.unit_price.to_string()
            ])?;
        }
    }
    Ok(event_pk)
}

pub(super) fn cart_token(
    conn: &Connection,
    companies: &mut Companies,
    company: &CompanyId,
    input: CartTokenInput,
    now_ms: i64,
) -> Result<(), StoreError> {
    companies.get(conn, company)?;
    conn.prepare_cached(
        "INSERT INTO cart_tokens (company_id, cart_token, user_fingerprint, updated_at_ms) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (company_id, cart_token) DO UPDATE SET user_fingerprint = excluded.user_fingerprint,
            updated_at_ms = excluded.updated_at_ms",
    )?
    .execute(params![company.0, input.cart_token, input.user_fingerprint.as_str(), now_ms])?;
    Ok(())
}

pub(super) fn visit(
    conn: &Connection,
    companies: &mut Companies,
    company: &CompanyId,
    fingerprint: &str,
    at_ms: i64,
) -> Result<(), StoreError> {
    let settings = companies.get(conn, company)?;
    let day = revtrace_core::time::reporting_day(at_ms, &settings.timezone).to_string();
    rollups::mark_visitor(conn, company, &day, fingerprint, VisitorFlags { seen: true, ..VisitorFlags::default() })
}
