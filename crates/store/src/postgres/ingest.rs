//! The write side of ingest on PostgreSQL: each function runs inside the
//! call's own transaction, after its locks, and either writes everything of
//! the call or returns a rejection (the transaction then rolls back).

use deadpool_postgres::GenericClient;
use revtrace_core::{
    AttributionInput, Currency, Decision, Multiplier, Role, attribute, classify, qualifies, signed_quantity,
    ticket::nudge_id_of, time::to_rfc3339, usd_cents,
};
use rust_decimal::Decimal;

use super::{
    Tx, exec, history, lock, one, opt, refunds,
    rollups::{self},
};
use crate::{
    Rejection, StoreError,
    model::{
        CartTokenInput, CompanyId, EventInput, EventKind, EventReceipt, IdempotencyKey, TicketInput, TicketSummary,
    },
    rows::{Call, Contribution, Ingested, Rate, RollupKey, VisitorFlags, cart_type_str, parse_multiplier},
};

/// The lock every write about one shopper takes.
pub(super) fn shopper_lock(company: &CompanyId, fingerprint: &str) -> String {
    format!("shopper\u{0}{}\u{0}{fingerprint}", company.0)
}

/// The lock every write about one order takes (the order, its refunds).
pub(super) fn order_lock(company: &CompanyId, order_id: &str) -> String {
    format!("order\u{0}{}\u{0}{order_id}", company.0)
}

/// What a call must hold before it reads anything its rules depend on.
fn locks_of(company: &CompanyId, idempotency: Option<&IdempotencyKey>, call: &Call) -> Vec<String> {
    let mut keys: Vec<String> =
        idempotency.map(|k| format!("idempotency\u{0}{}\u{0}{}", company.0, k.id)).into_iter().collect();
    match call {
        Call::Ticket(t) => keys.push(shopper_lock(company, t.fingerprint.as_str())),
        Call::Event(e) => {
            keys.extend(e.identity().into_iter().map(|f| shopper_lock(company, f)));
            if let EventKind::Checkout { order_id, .. } = &e.kind {
                keys.push(order_lock(company, order_id));
            }
        }
        Call::Visit { fingerprint, .. } => keys.push(shopper_lock(company, fingerprint)),
        Call::Refund(r) => keys.push(order_lock(company, &r.order_id)),
        Call::CartToken(_) => {}
    }
    keys
}

/// Runs one ingest call, honouring its idempotency key (see `sqlite::ingest::call`).
pub(super) async fn call(
    tx: &Tx<'_>,
    company: &CompanyId,
    idempotency: Option<&IdempotencyKey>,
    call: &Call,
    now_ms: i64,
) -> Result<Ingested, StoreError> {
    lock(tx, &locks_of(company, idempotency, call)).await?;
    if let Some(key) = idempotency
        && let Some((status, body)) = replay(tx, company, key).await?
    {
        return Ok(Ingested::Replayed { status, body });
    }
    let answer = match call {
        Call::Ticket(input) => Ingested::Ticket(ticket(tx, company, input, now_ms).await?),
        Call::Event(input) => Ingested::Event(event(tx, company, input, now_ms).await?),
        Call::CartToken(input) => {
            cart_token(tx, company, input, now_ms).await?;
            Ingested::NoContent
        }
        Call::Refund(input) => Ingested::Refund(refunds::record(tx, company, input, now_ms).await?),
        Call::Visit { fingerprint, at_ms } => {
            visit(tx, company, fingerprint, *at_ms).await?;
            Ingested::NoContent
        }
    };
    if let Some(key) = idempotency {
        let (status, body) = answer.to_stored()?;
        exec(
            tx,
            "INSERT INTO idempotency_keys (company_id, idempotency_id, request_sha256, status, body, created_at_ms)
             VALUES ($1, $2, $3, $4, $5, $6)",
            &[&company.0, &key.id, &key.request_sha256.as_slice(), &i32::from(status), &body, &now_ms],
        )
        .await?;
    }
    Ok(answer)
}

async fn replay(tx: &Tx<'_>, company: &CompanyId, key: &IdempotencyKey) -> Result<Option<(u16, String)>, StoreError> {
    let stored = opt(
        tx,
        "SELECT request_sha256, status, body FROM idempotency_keys WHERE company_id = $1 AND idempotency_id = $2",
        &[&company.0, &key.id],
    )
    .await?;
    match stored {
        None => Ok(None),
        Some(r) if r.get::<_, &[u8]>(0) == key.request_sha256.as_slice() => {
            let status: i32 = r.get(1);
            Ok(Some((u16::try_from(status).map_err(|_| StoreError::Corrupt(format!("status {status}")))?, r.get(2))))
        }
        Some(_) => Err(Rejection::IdempotencyMismatch.into()),
    }
}

async fn ticket(
    tx: &Tx<'_>,
    company: &CompanyId,
    input: &TicketInput,
    now_ms: i64,
) -> Result<TicketSummary, StoreError> {
    let settings = history::company_settings(tx, company).await?;
    let existing = opt(
        tx,
        "SELECT ticket_pk, ai_profile_id, channel, fingerprint FROM tickets WHERE company_id = $1 AND ticket_id = $2",
        &[&company.0, &input.ticket_id],
    )
    .await?;
    let conflict = |field| Rejection::TicketConflict { ticket_id: input.ticket_id.clone(), field };
    let ticket_pk: i64 = match existing {
        Some(r) => {
            // A ticket's identity is fixed at first sight (see the SQLite twin).
            if r.get::<_, &str>(2) != input.channel.as_str() {
                return Err(conflict("channel").into());
            }
            if r.get::<_, &str>(3) != input.fingerprint.as_str() {
                return Err(conflict("fingerprint").into());
            }
            if input.ai_profile_id.as_ref().is_some_and(|p| p != r.get::<_, &str>(1)) {
                return Err(conflict("ai_profile_id").into());
            }
            r.get(0)
        }
        None => one(
            tx,
            "INSERT INTO tickets (company_id, ticket_id, ai_profile_id, channel, fingerprint, created_at_ms)
             VALUES ($1, $2, $3, $4, $5, $6) RETURNING ticket_pk",
            &[
                &company.0,
                &input.ticket_id,
                &input.ai_profile_id.as_deref().unwrap_or("default"),
                &input.channel.as_str(),
                &input.fingerprint.as_str(),
                &now_ms,
            ],
        )
        .await?
        .get(0),
    };

    for m in &input.messages {
        let product_ids =
            (!m.product_ids.is_empty()).then(|| serde_json::Value::from(m.product_ids.clone()).to_string());
        let inserted = exec(
            tx,
            "INSERT INTO messages (ticket_pk, message_id, sent_at_ms, role, has_answer_found, nudge_id, text, metadata,
                product_ids)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (ticket_pk, message_id) DO NOTHING",
            &[
                &ticket_pk,
                &m.message_id,
                &m.sent_at_ms,
                &m.role.as_str(),
                &m.has_answer_found,
                &nudge_id_of(m.metadata.as_ref()),
                &m.text,
                &m.metadata.as_ref().map(|v| v.to_string()),
                &product_ids,
            ],
        )
        .await?;
        if inserted > 0 && m.role == Role::Ai && m.has_answer_found == Some(true) {
            let day = revtrace_core::time::reporting_day(m.sent_at_ms, &settings.timezone).to_string();
            let flags = VisitorFlags { assisted: true, ..VisitorFlags::default() };
            rollups::mark_visitor(tx, company, &day, input.fingerprint.as_str(), flags).await?;
        }
    }

    let facts = history::messages_of(tx, ticket_pk).await?;
    Ok(TicketSummary {
        ticket_id: input.ticket_id.clone(),
        message_source: classify(input.channel, &facts),
        qualifies: qualifies(&facts, i64::MAX),
        first_message_at: facts.iter().map(|m| m.sent_at_ms).min().map(to_rfc3339),
        last_message_at: facts.iter().map(|m| m.sent_at_ms).max().map(to_rfc3339),
    })
}

/// The USD multiplier in force for a currency on a reporting day.
pub(super) async fn rate_for(
    c: &impl GenericClient,
    currency: Currency,
    day: &str,
) -> Result<Option<Rate>, StoreError> {
    if currency == Currency::USD {
        return Ok(Some(Rate { multiplier: Multiplier::ONE, effective_from: None, source: None }));
    }
    let row = opt(
        c,
        "SELECT usd_multiplier, effective_from, source FROM currency_rates
         WHERE currency = $1 AND effective_from <= $2 ORDER BY effective_from DESC LIMIT 1",
        &[&currency.as_str(), &day],
    )
    .await?;
    row.map(|r| {
        Ok(Rate { multiplier: parse_multiplier(r.get(0))?, effective_from: Some(r.get(1)), source: Some(r.get(2)) })
    })
    .transpose()
}

pub(super) async fn event(
    tx: &Tx<'_>,
    company: &CompanyId,
    input: &EventInput,
    now_ms: i64,
) -> Result<EventReceipt, StoreError> {
    let settings = history::company_settings(tx, company).await?;

    // The rule checks that can refuse the event come before any write.
    let (amount, quantity_signed) = match &input.kind {
        EventKind::Cart { event_type, product_id, variant_id, quantity, unit_price, .. } => {
            let fingerprint = input.user_fingerprint.as_ref().map(|f| f.as_str()).unwrap_or_default();
            let net = if event_type.adds() {
                None
            } else {
                opt(
                    tx,
                    "SELECT net_quantity FROM cart_positions
                     WHERE company_id = $1 AND user_fingerprint = $2 AND product_id = $3 AND variant_key = $4",
                    &[&company.0, &fingerprint, product_id, &variant_id.as_deref().unwrap_or("")],
                )
                .await?
                .map(|r| r.get::<_, i64>(0))
            };
            let signed = signed_quantity(*event_type, *quantity, net).map_err(Rejection::from)?;
            let amount = Decimal::from(signed)
                .checked_mul(*unit_price)
                .ok_or_else(|| Rejection::Invalid("quantity × unit_price is too large".into()))?;
            (amount, Some(signed))
        }
        EventKind::Checkout { order_id, order_value, .. } => {
            if let Some(r) =
                opt(tx, "SELECT event_id FROM events WHERE company_id = $1 AND order_id = $2", &[&company.0, order_id])
                    .await?
            {
                return Err(Rejection::DuplicateOrder { order_id: order_id.clone(), event_id: r.get(0) }.into());
            }
            (*order_value, None)
        }
    };

    let day = revtrace_core::time::reporting_day(input.occurred_at_ms, &settings.timezone).to_string();
    let rate = rate_for(tx, input.currency, &day).await?;
    let usd = rate
        .as_ref()
        .map(|r| usd_cents(amount, r.multiplier))
        .transpose()
        .map_err(|e| Rejection::Invalid(e.to_string()))?;

    let identity = input.identity();
    let histories = history::for_identity(tx, company, &identity, input.occurred_at_ms).await?;
    let decision = attribute(
        AttributionInput { at_ms: input.occurred_at_ms, identity: &identity, window_ms: settings.window_ms },
        &histories,
    );

    let event_id = crate::keys::time_ordered_id("evt_");
    let facts = InsertFacts {
        event_id: &event_id,
        day: &day,
        amount,
        quantity_signed,
        rate: rate.as_ref(),
        usd_cents: usd.map(|c| c.0),
        decision: &decision,
        window_ms: settings.window_ms,
        now_ms,
    };
    let event_pk = insert_event(tx, company, input, &facts).await?;

    let winner = decision.winner.as_ref();
    let key = RollupKey {
        day: day.clone(),
        cart_type: cart_type_str(matches!(input.kind, EventKind::Checkout { .. })),
        attributed: decision.attributed(),
        ai_profile_id: winner.map(|w| w.ai_profile_id.clone()).unwrap_or_default(),
        message_source: winner.map(|w| w.message_source.as_str().to_owned()).unwrap_or_default(),
        is_test: input.is_test,
    };
    let contribution =
        Contribution { usd_cents: usd.map(|c| c.0), quantity: quantity_signed.unwrap_or_default(), refunded_cents: 0 };
    let checkout = matches!(input.kind, EventKind::Checkout { .. });
    let flags = VisitorFlags { seen: !input.is_test, converted: checkout && !input.is_test, assisted: false };
    for fingerprint in &identity {
        rollups::mark_visitor(tx, company, &day, fingerprint, flags).await?;
    }
    if let EventKind::Checkout { order_id, .. } = &input.kind {
        let multiplier = rate.as_ref().map(|r| r.multiplier);
        refunds::apply_pending(tx, company, order_id, event_pk, multiplier, &key).await?;
    }

    if let EventKind::Cart { product_id, variant_id, .. } = &input.kind {
        let fingerprint = input.user_fingerprint.as_ref().map(|f| f.as_str()).unwrap_or_default();
        // Adds create the position; removals only ever update an existing one.
        let sql = if quantity_signed.unwrap_or_default() >= 0 {
            "INSERT INTO cart_positions (company_id, user_fingerprint, product_id, variant_key, net_quantity)
             VALUES ($1, $2, $3, $4, $5)
             ON CONFLICT (company_id, user_fingerprint, product_id, variant_key)
             DO UPDATE SET net_quantity = cart_positions.net_quantity + excluded.net_quantity"
        } else {
            "UPDATE cart_positions SET net_quantity = net_quantity + $5
             WHERE company_id = $1 AND user_fingerprint = $2 AND product_id = $3 AND variant_key = $4"
        };
        exec(tx, sql, &[&company.0, &fingerprint, product_id, &variant_id.as_deref().unwrap_or(""), &quantity_signed])
            .await?;
    }
    // Last: the shared counter row is held only from here to the commit.
    rollups::apply(tx, company, &key, contribution, 1).await?;

    Ok(EventReceipt {
        event_id,
        attributed: decision.attributed(),
        ticket_id: decision.winner.as_ref().map(|w| w.ticket_id.clone()),
        message_source: decision.winner.as_ref().map(|w| w.message_source),
        reason: decision.reason,
        usd_value: usd.map(|c| c.to_string()),
    })
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

async fn insert_event(
    tx: &Tx<'_>,
    company: &CompanyId,
    input: &EventInput,
    f: &InsertFacts<'_>,
) -> Result<i64, StoreError> {
    let (cart_type, event_type, product_id, variant_id, unit_price, order_id, cart_token) = match &input.kind {
        EventKind::Cart { event_type, product_id, variant_id, unit_price, cart_token, .. } => (
            "CART_EVENT",
            Some(event_type.as_str()),
            Some(product_id.as_str()),
            variant_id.as_deref(),
            Some(unit_price.to_string()),
            None,
            cart_token.as_deref(),
        ),
        EventKind::Checkout { order_id, .. } => ("CHECKOUT", None, None, None, None, Some(order_id.as_str()), None),
    };
    let winner = f.decision.winner.as_ref();
    let candidates = serde_json::to_string(&f.decision.candidates).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    let event_pk: i64 = one(
        tx,
        "INSERT INTO events (event_id, company_id, cart_type, source_category, occurred_at_ms, day, received_at_ms,
            user_fingerprint, user_faq_fingerprint, event_type, product_id, variant_id, quantity_signed, unit_price,
            order_id, cart_token, amount, currency, usd_multiplier, rate_effective_from, usd_cents, is_test,
            reason, attributed, ticket_id, ai_profile_id, message_source, window_ms, candidates, decided_at_ms, decided_by,
            rate_source)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22,
            $23, $24, $25, $26, $27, $28, $29, $30, 'ingest', $31)
         RETURNING event_pk",
        &[
            &f.event_id,
            &company.0,
            &cart_type,
            &input.source.as_str(),
            &input.occurred_at_ms,
            &f.day,
            &input.received_at_ms,
            &input.user_fingerprint.as_ref().map(|x| x.as_str()),
            &input.user_faq_fingerprint.as_ref().map(|x| x.as_str()),
            &event_type,
            &product_id,
            &variant_id,
            &f.quantity_signed,
            &unit_price,
            &order_id,
            &cart_token,
            &f.amount.to_string(),
            &input.currency.as_str(),
            &f.rate.map(|r| r.multiplier.value().to_string()),
            &f.rate.and_then(|r| r.effective_from.as_deref()),
            &f.usd_cents,
            &input.is_test,
            &f.decision.reason.as_str(),
            &f.decision.attributed(),
            &winner.map(|w| w.ticket_id.as_str()),
            &winner.map(|w| w.ai_profile_id.as_str()),
            &winner.map(|w| w.message_source.as_str()),
            &f.window_ms,
            &candidates,
            &f.now_ms,
            &f.rate.and_then(|r| r.source.as_deref()),
        ],
    )
    .await?
    .get(0);

    if let EventKind::Checkout { line_items, .. } = &input.kind
        && !line_items.is_empty()
    {
        // One statement for every line, whatever the order's size.
        let positions: Vec<i64> = (0..line_items.len() as i64).collect();
        let products: Vec<&str> = line_items.iter().map(|i| i.product_id.as_str()).collect();
        let variants: Vec<Option<&str>> = line_items.iter().map(|i| i.variant_id.as_deref()).collect();
        let skus: Vec<Option<&str>> = line_items.iter().map(|i| i.sku.as_deref()).collect();
        let titles: Vec<Option<&str>> = line_items.iter().map(|i| i.title.as_deref()).collect();
        let quantities: Vec<i64> = line_items.iter().map(|i| i.quantity).collect();
        let prices: Vec<String> = line_items.iter().map(|i| i.unit_price.to_string()).collect();
        exec(
            tx,
            "INSERT INTO line_items (event_pk, position, product_id, variant_id, sku, title, quantity, unit_price)
             SELECT $1, * FROM unnest($2::int8[], $3::text[], $4::text[], $5::text[], $6::text[], $7::int8[], $8::text[])",
            &[&event_pk, &positions, &products, &variants, &skus, &titles, &quantities, &prices],
        )
        .await?;
    }
    Ok(event_pk)
}

async fn cart_token(tx: &Tx<'_>, company: &CompanyId, input: &CartTokenInput, now_ms: i64) -> Result<(), StoreError> {
    history::company_settings(tx, company).await?;
    exec(
        tx,
        "INSERT INTO cart_tokens (company_id, cart_token, user_fingerprint, updated_at_ms) VALUES ($1, $2, $3, $4)
         ON CONFLICT (company_id, cart_token) DO UPDATE SET user_fingerprint = excluded.user_fingerprint,
            updated_at_ms = excluded.updated_at_ms",
        &[&company.0, &input.cart_token, &input.user_fingerprint.as_str(), &now_ms],
    )
    .await?;
    Ok(())
}

async fn visit(tx: &Tx<'_>, company: &CompanyId, fingerprint: &str, at_ms: i64) -> Result<(), StoreError> {
    let settings = history::company_settings(tx, company).await?;
    let day = revtrace_core::time::reporting_day(at_ms, &settings.timezone).to_string();
    rollups::mark_visitor(tx, company, &day, fingerprint, VisitorFlags { seen: true, ..VisitorFlags::default() }).await
}
