//! The write side of ingest on PostgreSQL: each function runs inside the
//! call's own transaction, after its locks, and either writes everything of
//! the call or returns a rejection (the transaction then rolls back).

use revtrace_core::{
    AttributionInput, Currency, Decision, MessageFact, Multiplier, Role, attribute, classify, qualifies,
    signed_quantity, ticket::nudge_id_of, time::to_rfc3339, usd_cents,
};
use rust_decimal::Decimal;

use super::{
    Tx, exec, history,
    pipeline::{Pipeline, params},
    refunds, rollups,
};
use crate::{
    Rejection, StoreError,
    model::{
        CartTokenInput, CompanyId, EventInput, EventKind, EventReceipt, IdempotencyKey, TicketInput, TicketSummary,
    },
    rows::{
        Call, Contribution, EventColumns, Ingested, Rate, RollupKey, VisitorFlags, cart_type_str, parse_multiplier,
    },
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
    let mut keys: Vec<String> = idempotency
        .map(|k| format!("idempotency\u{0}{}\u{0}{}\u{0}{}", company.0, k.endpoint, k.id))
        .into_iter()
        .collect();
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

const LOCK: &str = "SELECT count(pg_advisory_xact_lock(k)) FROM (SELECT k FROM unnest($1::int8[]) k ORDER BY k) s";
const REPLAY: &str = "SELECT request_sha256, status, body FROM idempotency_keys WHERE company_id = $1 AND endpoint = $2 AND idempotency_id = $3";
const SETTINGS: &str = "SELECT window_ms, timezone FROM companies WHERE company_id = $1";

/// The first statements of every call, sent with its own reads: its locks
/// (so everything after them sees the writes of calls that held them), the
/// stored answer of its idempotency id, the company's settings.
struct Preamble {
    replay: Option<usize>,
    settings: usize,
}

fn preamble(p: &mut Pipeline, company: &CompanyId, keys: &[String], idempotency: Option<&IdempotencyKey>) -> Preamble {
    p.push(LOCK, params![super::lock_ids(keys)]);
    let replay = idempotency.map(|k| p.push(REPLAY, params![company.0.clone(), k.endpoint, k.id.clone()]));
    let settings = p.push(SETTINGS, params![company.0.clone()]);
    Preamble { replay, settings }
}

/// The call's settings, or the answer to replay (a known idempotency id).
fn settle(
    rows: &[Vec<tokio_postgres::Row>],
    pre: &Preamble,
    company: &CompanyId,
    idempotency: Option<&IdempotencyKey>,
) -> Result<Result<history::CompanySettings, Ingested>, StoreError> {
    if let (Some(ix), Some(key)) = (pre.replay, idempotency)
        && let Some(r) = rows[ix].first()
    {
        if r.get::<_, &[u8]>(0) != key.request_sha256.as_slice() {
            return Err(Rejection::IdempotencyMismatch.into());
        }
        let status: i32 = r.get(1);
        let status = u16::try_from(status).map_err(|_| StoreError::Corrupt(format!("status {status}")))?;
        return Ok(Err(Ingested::Replayed { status, body: r.get(2) }));
    }
    let r = rows[pre.settings].first().ok_or_else(|| Rejection::UnknownCompany(company.0.clone()))?;
    Ok(Ok(history::settings_of(r)?))
}

/// Queues the stored answer of a new idempotency id.
fn push_answer(
    p: &mut Pipeline,
    company: &CompanyId,
    idempotency: Option<&IdempotencyKey>,
    answer: &Ingested,
    now_ms: i64,
) -> Result<(), StoreError> {
    if let Some(key) = idempotency {
        let (status, body) = answer.to_stored()?;
        p.push(
            "INSERT INTO idempotency_keys (company_id, endpoint, idempotency_id, request_sha256, status, body, created_at_ms)
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
            params![
                company.0.clone(),
                key.endpoint,
                key.id.clone(),
                key.request_sha256.to_vec(),
                i32::from(status),
                body,
                now_ms
            ],
        );
    }
    Ok(())
}

/// Runs one ingest call, honouring its idempotency key (see
/// `sqlite::ingest::call`): a read batch (locks, stored answer, settings,
/// what the rules need), the decision in Rust, a write batch.
pub(super) async fn call(
    tx: &Tx<'_>,
    company: &CompanyId,
    idempotency: Option<&IdempotencyKey>,
    call: &Call,
    now_ms: i64,
) -> Result<Ingested, StoreError> {
    let keys = locks_of(company, idempotency, call);
    match call {
        Call::Event(input) => event(tx, company, input, &keys, idempotency, now_ms).await,
        Call::Ticket(input) => ticket(tx, company, input, &keys, idempotency, now_ms).await,
        Call::Visit { fingerprint, at_ms } => visit(tx, company, fingerprint, *at_ms, &keys, idempotency, now_ms).await,
        // Rare calls: the preamble, then their own statements.
        Call::CartToken(_) | Call::Refund(_) => {
            let mut reads = Pipeline::default();
            let pre = preamble(&mut reads, company, &keys, idempotency);
            let rows = reads.run(tx).await?;
            if let Err(replayed) = settle(&rows, &pre, company, idempotency)? {
                return Ok(replayed);
            }
            let answer = match call {
                Call::CartToken(input) => {
                    cart_token(tx, company, input, now_ms).await?;
                    Ingested::NoContent
                }
                Call::Refund(input) => Ingested::Refund(refunds::record(tx, company, input, now_ms).await?),
                _ => unreachable!("handled above"),
            };
            let mut writes = Pipeline::default();
            push_answer(&mut writes, company, idempotency, &answer, now_ms)?;
            writes.run(tx).await?;
            Ok(answer)
        }
    }
}

async fn ticket(
    tx: &Tx<'_>,
    company: &CompanyId,
    input: &TicketInput,
    keys: &[String],
    idempotency: Option<&IdempotencyKey>,
    now_ms: i64,
) -> Result<Ingested, StoreError> {
    let mut reads = Pipeline::default();
    let pre = preamble(&mut reads, company, keys, idempotency);
    let existing = reads.push(
        "SELECT ticket_pk, ai_profile_id, channel, fingerprint FROM tickets WHERE company_id = $1 AND ticket_id = $2",
        params![company.0.clone(), input.ticket_id.clone()],
    );
    let stored_messages = reads.push(
        "SELECT m.message_id, m.sent_at_ms, m.role, m.has_answer_found, m.nudge_id
         FROM messages m JOIN tickets t ON t.ticket_pk = m.ticket_pk WHERE t.company_id = $1 AND t.ticket_id = $2",
        params![company.0.clone(), input.ticket_id.clone()],
    );
    let days = reads.push(rollups::VISITOR_DAYS_OF, params![company.0.clone(), input.fingerprint.as_str().to_owned()]);
    let rows = reads.run(tx).await?;
    let settings = match settle(&rows, &pre, company, idempotency)? {
        Ok(settings) => settings,
        Err(replayed) => return Ok(replayed),
    };

    let mut writes = Pipeline::default();
    let conflict = |field| Rejection::TicketConflict { ticket_id: input.ticket_id.clone(), field };
    match rows[existing].first() {
        // A ticket's identity is fixed at first sight (see the SQLite twin).
        Some(r) => {
            if r.get::<_, &str>(2) != input.channel.as_str() {
                return Err(conflict("channel").into());
            }
            if r.get::<_, &str>(3) != input.fingerprint.as_str() {
                return Err(conflict("fingerprint").into());
            }
            if input.ai_profile_id.as_ref().is_some_and(|p| p != r.get::<_, &str>(1)) {
                return Err(conflict("ai_profile_id").into());
            }
        }
        None => {
            writes.push(
                "INSERT INTO tickets (company_id, ticket_id, ai_profile_id, channel, fingerprint, created_at_ms)
                 VALUES ($1, $2, $3, $4, $5, $6)",
                params![
                    company.0.clone(),
                    input.ticket_id.clone(),
                    input.ai_profile_id.clone().unwrap_or_else(|| "default".to_owned()),
                    input.channel.as_str(),
                    input.fingerprint.as_str().to_owned(),
                    now_ms
                ],
            );
        }
    }
    let mut facts: Vec<MessageFact> = rows[stored_messages]
        .iter()
        .map(|r| {
            Ok(MessageFact {
                message_id: r.get(0),
                sent_at_ms: r.get(1),
                role: Role::parse(r.get(2))
                    .ok_or_else(|| StoreError::Corrupt(format!("role {}", r.get::<_, &str>(2))))?,
                has_answer_found: r.get(3),
                nudge_id: r.get(4),
            })
        })
        .collect::<Result<_, StoreError>>()?;
    let mut visitor = rollups::VisitorDays::from_rows(company, input.fingerprint.as_str(), &rows[days]);
    for m in &input.messages {
        // A message id already stored keeps its first version.
        if facts.iter().any(|f| f.message_id == m.message_id) {
            continue;
        }
        let product_ids =
            (!m.product_ids.is_empty()).then(|| serde_json::Value::from(m.product_ids.clone()).to_string());
        writes.push(
            "INSERT INTO messages (ticket_pk, message_id, sent_at_ms, role, has_answer_found, nudge_id, text, metadata,
                product_ids)
             SELECT ticket_pk, $3, $4, $5, $6, $7, $8, $9, $10 FROM tickets WHERE company_id = $1 AND ticket_id = $2
             ON CONFLICT (ticket_pk, message_id) DO NOTHING",
            params![
                company.0.clone(),
                input.ticket_id.clone(),
                m.message_id.clone(),
                m.sent_at_ms,
                m.role.as_str(),
                m.has_answer_found,
                nudge_id_of(m.metadata.as_ref()),
                m.text.clone(),
                m.metadata.as_ref().map(|v| v.to_string()),
                product_ids
            ],
        );
        facts.push(MessageFact {
            message_id: m.message_id.clone(),
            sent_at_ms: m.sent_at_ms,
            role: m.role,
            has_answer_found: m.has_answer_found,
            nudge_id: nudge_id_of(m.metadata.as_ref()),
        });
        if m.role == Role::Ai && m.has_answer_found == Some(true) {
            let day = revtrace_core::time::reporting_day(m.sent_at_ms, &settings.timezone).to_string();
            visitor.mark(&mut writes, &day, VisitorFlags { assisted: true, ..VisitorFlags::default() });
        }
    }
    let answer = Ingested::Ticket(TicketSummary {
        ticket_id: input.ticket_id.clone(),
        message_source: classify(input.channel, &facts),
        qualifies: qualifies(&facts, i64::MAX),
        first_message_at: facts.iter().map(|m| m.sent_at_ms).min().map(to_rfc3339),
        last_message_at: facts.iter().map(|m| m.sent_at_ms).max().map(to_rfc3339),
    });
    push_answer(&mut writes, company, idempotency, &answer, now_ms)?;
    writes.run(tx).await?;
    Ok(answer)
}

/// Rates that may be in force on the event's reporting day, whatever the
/// company's zone (that day is within a day of the UTC date): the three
/// latest effective on or before the UTC date's next day, newest first.
const RATES_NEAR: &str = "SELECT usd_multiplier, effective_from, source FROM currency_rates
     WHERE currency = $1 AND effective_from <= $2 ORDER BY effective_from DESC LIMIT 3";

fn rate_on(currency: Currency, day: &str, near: &[tokio_postgres::Row]) -> Result<Option<Rate>, StoreError> {
    if currency == Currency::USD {
        return Ok(Some(Rate { multiplier: Multiplier::ONE, effective_from: None, source: None }));
    }
    near.iter()
        .find(|r| r.get::<_, &str>(1) <= day)
        .map(|r| {
            Ok(Rate { multiplier: parse_multiplier(r.get(0))?, effective_from: Some(r.get(1)), source: Some(r.get(2)) })
        })
        .transpose()
}

/// Stores a cart or checkout event with its decision. `keys` are the
/// call's locks (the shopper's, the order's, the idempotency id's).
pub(super) async fn event(
    tx: &Tx<'_>,
    company: &CompanyId,
    input: &EventInput,
    keys: &[String],
    idempotency: Option<&IdempotencyKey>,
    now_ms: i64,
) -> Result<Ingested, StoreError> {
    let identity = input.identity();
    let fingerprints: Vec<String> = identity.iter().map(|f| (*f).to_owned()).collect();
    let mut reads = Pipeline::default();
    let pre = preamble(&mut reads, company, keys, idempotency);
    let history_ix: Vec<usize> = fingerprints
        .iter()
        .map(|f| reads.push(history::FOR_FINGERPRINT, params![company.0.clone(), f.clone(), input.occurred_at_ms]))
        .collect();
    let days_ix: Vec<usize> = fingerprints
        .iter()
        .map(|f| reads.push(rollups::VISITOR_DAYS_OF, params![company.0.clone(), f.clone()]))
        .collect();
    let utc_next_day = revtrace_core::time::reporting_day(input.occurred_at_ms, &jiff::tz::TimeZone::UTC)
        .tomorrow()
        .map_err(|e| Rejection::Invalid(e.to_string()))?
        .to_string();
    let rates_ix = (input.currency != Currency::USD)
        .then(|| reads.push(RATES_NEAR, params![input.currency.as_str().to_owned(), utc_next_day]));
    let (net_ix, order_ix, waiting_ix) = match &input.kind {
        EventKind::Cart { event_type, product_id, variant_id, .. } if !event_type.adds() => {
            let fingerprint = input.user_fingerprint.as_ref().map(|f| f.as_str()).unwrap_or_default();
            let ix = reads.push(
                "SELECT net_quantity FROM cart_positions
                 WHERE company_id = $1 AND user_fingerprint = $2 AND product_id = $3 AND variant_key = $4",
                params![
                    company.0.clone(),
                    fingerprint.to_owned(),
                    product_id.clone(),
                    variant_id.clone().unwrap_or_default()
                ],
            );
            (Some(ix), None, None)
        }
        EventKind::Cart { .. } => (None, None, None),
        EventKind::Checkout { order_id, .. } => {
            let stored = reads.push(
                "SELECT event_id FROM events WHERE company_id = $1 AND order_id = $2",
                params![company.0.clone(), order_id.clone()],
            );
            let waiting = reads.push(refunds::WAITING, params![company.0.clone(), order_id.clone()]);
            (None, Some(stored), Some(waiting))
        }
    };
    let rows = reads.run(tx).await?;
    let settings = match settle(&rows, &pre, company, idempotency)? {
        Ok(settings) => settings,
        Err(replayed) => return Ok(replayed),
    };

    // The rule checks that can refuse the event come before any write.
    let (amount, quantity_signed) = match &input.kind {
        EventKind::Cart { event_type, quantity, unit_price, .. } => {
            let net = net_ix.and_then(|ix| rows[ix].first().map(|r| r.get::<_, i64>(0)));
            let signed = signed_quantity(*event_type, *quantity, net).map_err(Rejection::from)?;
            let amount = Decimal::from(signed)
                .checked_mul(*unit_price)
                .ok_or_else(|| Rejection::Invalid("quantity × unit_price is too large".into()))?;
            (amount, Some(signed))
        }
        EventKind::Checkout { order_id, order_value, .. } => {
            if let Some(r) = order_ix.and_then(|ix| rows[ix].first()) {
                return Err(Rejection::DuplicateOrder { order_id: order_id.clone(), event_id: r.get(0) }.into());
            }
            (*order_value, None)
        }
    };

    let day = revtrace_core::time::reporting_day(input.occurred_at_ms, &settings.timezone).to_string();
    let rate = rate_on(input.currency, &day, rates_ix.map(|ix| rows[ix].as_slice()).unwrap_or_default())?;
    let usd = rate
        .as_ref()
        .map(|r| usd_cents(amount, r.multiplier))
        .transpose()
        .map_err(|e| Rejection::Invalid(e.to_string()))?;

    let mut histories = Vec::new();
    for ix in history_ix {
        histories.extend(history::from_rows(&rows[ix])?);
    }
    let decision = attribute(
        AttributionInput { at_ms: input.occurred_at_ms, identity: &identity, window_ms: settings.window_ms },
        &histories,
    );

    let event_id = crate::keys::time_ordered_id("evt_");
    let mut writes = Pipeline::default();
    push_event(
        &mut writes,
        company,
        input,
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
        cart_type: cart_type_str(matches!(input.kind, EventKind::Checkout { .. })),
        attributed: decision.attributed(),
        ai_profile_id: winner.map(|w| w.ai_profile_id.clone()).unwrap_or_default(),
        message_source: winner.map(|w| w.message_source.as_str().to_owned()).unwrap_or_default(),
        is_test: input.is_test,
    };
    let checkout = matches!(input.kind, EventKind::Checkout { .. });
    // A test order sets no flag, but its row lets privacy requests find it.
    let flags = VisitorFlags { seen: !input.is_test, converted: checkout && !input.is_test, assisted: false };
    // Each fingerprint once: the same one as user and FAQ fingerprint would
    // otherwise plan its new day twice from the same rows read.
    let mut marked: Vec<&str> = Vec::with_capacity(identity.len());
    for (fingerprint, ix) in identity.iter().zip(&days_ix) {
        if !marked.contains(fingerprint) {
            rollups::VisitorDays::from_rows(company, fingerprint, &rows[*ix]).mark(&mut writes, &day, flags);
            marked.push(fingerprint);
        }
    }
    if let Some(ix) = waiting_ix {
        let multiplier = rate.as_ref().map(|r| r.multiplier);
        refunds::push_apply_pending(&mut writes, company, &event_id, multiplier, &key, &rows[ix])?;
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
        writes.push(
            sql,
            params![
                company.0.clone(),
                fingerprint.to_owned(),
                product_id.clone(),
                variant_id.clone().unwrap_or_default(),
                quantity_signed
            ],
        );
    }
    let contribution =
        Contribution { usd_cents: usd.map(|c| c.0), quantity: quantity_signed.unwrap_or_default(), refunded_cents: 0 };
    rollups::push_apply(&mut writes, company, &key, contribution, 1);

    let answer = Ingested::Event(EventReceipt {
        event_id,
        attributed: decision.attributed(),
        ticket_id: decision.winner.as_ref().map(|w| w.ticket_id.clone()),
        message_source: decision.winner.as_ref().map(|w| w.message_source),
        reason: decision.reason,
        usd_value: usd.map(|c| c.to_string()),
    });
    push_answer(&mut writes, company, idempotency, &answer, now_ms)?;
    writes.run(tx).await?;
    Ok(answer)
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

fn push_event(
    p: &mut Pipeline,
    company: &CompanyId,
    input: &EventInput,
    f: &InsertFacts<'_>,
) -> Result<(), StoreError> {
    let EventColumns { cart_type, event_type, product_id, variant_id, unit_price, order_id, cart_token } =
        EventColumns::of(&input.kind);
    let owned = |v: Option<&str>| v.map(str::to_owned);
    let (product_id, variant_id, order_id, cart_token) =
        (owned(product_id), owned(variant_id), owned(order_id), owned(cart_token));
    let winner = f.decision.winner.as_ref();
    let candidates = serde_json::to_string(&f.decision.candidates).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    p.push(
        "INSERT INTO events (event_id, company_id, cart_type, source_category, occurred_at_ms, day, received_at_ms,
            user_fingerprint, user_faq_fingerprint, event_type, product_id, variant_id, quantity_signed, unit_price,
            order_id, cart_token, amount, currency, usd_multiplier, rate_effective_from, usd_cents, is_test,
            reason, attributed, ticket_id, ai_profile_id, message_source, window_ms, candidates, decided_at_ms, decided_by,
            rate_source)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22,
            $23, $24, $25, $26, $27, $28, $29, $30, 'ingest', $31)",
        params![
            f.event_id.to_owned(),
            company.0.clone(),
            cart_type,
            input.source.as_str(),
            input.occurred_at_ms,
            f.day.to_owned(),
            input.received_at_ms,
            input.user_fingerprint.as_ref().map(|x| x.as_str().to_owned()),
            input.user_faq_fingerprint.as_ref().map(|x| x.as_str().to_owned()),
            event_type,
            product_id,
            variant_id,
            f.quantity_signed,
            unit_price,
            order_id,
            cart_token,
            f.amount.to_string(),
            input.currency.as_str().to_owned(),
            f.rate.map(|r| r.multiplier.value().to_string()),
            f.rate.and_then(|r| r.effective_from.clone()),
            f.usd_cents,
            input.is_test,
            f.decision.reason.as_str(),
            f.decision.attributed(),
            winner.map(|w| w.ticket_id.clone()),
            winner.map(|w| w.ai_profile_id.clone()),
            winner.map(|w| w.message_source.as_str()),
            f.window_ms,
            candidates,
            f.now_ms,
            f.rate.and_then(|r| r.source.clone())
        ],
    );

    if let EventKind::Checkout { line_items, .. } = &input.kind
        && !line_items.is_empty()
    {
        // One statement for every line, whatever the order's size; the
        // event is found by its id, written just before in the same batch.
        let positions: Vec<i64> = (0..line_items.len() as i64).collect();
        let products: Vec<String> = line_items.iter().map(|i| i.product_id.clone()).collect();
        let variants: Vec<Option<String>> = line_items.iter().map(|i| i.variant_id.clone()).collect();
        let skus: Vec<Option<String>> = line_items.iter().map(|i| i.sku.clone()).collect();
        let titles: Vec<Option<String>> = line_items.iter().map(|i| i.title.clone()).collect();
        let quantities: Vec<i64> = line_items.iter().map(|i| i.quantity).collect();
        let prices: Vec<String> = line_items.iter().map(|i| i.unit_price.to_string()).collect();
        p.push(
            "INSERT INTO line_items (event_pk, position, product_id, variant_id, sku, title, quantity, unit_price)
             SELECT (SELECT event_pk FROM events WHERE event_id = $1), *
             FROM unnest($2::int8[], $3::text[], $4::text[], $5::text[], $6::text[], $7::int8[], $8::text[])",
            params![f.event_id.to_owned(), positions, products, variants, skus, titles, quantities, prices],
        );
    }
    Ok(())
}

async fn cart_token(tx: &Tx<'_>, company: &CompanyId, input: &CartTokenInput, now_ms: i64) -> Result<(), StoreError> {
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

async fn visit(
    tx: &Tx<'_>,
    company: &CompanyId,
    fingerprint: &str,
    at_ms: i64,
    keys: &[String],
    idempotency: Option<&IdempotencyKey>,
    now_ms: i64,
) -> Result<Ingested, StoreError> {
    let mut reads = Pipeline::default();
    let pre = preamble(&mut reads, company, keys, idempotency);
    let days = reads.push(rollups::VISITOR_DAYS_OF, params![company.0.clone(), fingerprint.to_owned()]);
    let rows = reads.run(tx).await?;
    let settings = match settle(&rows, &pre, company, idempotency)? {
        Ok(settings) => settings,
        Err(replayed) => return Ok(replayed),
    };
    let day = revtrace_core::time::reporting_day(at_ms, &settings.timezone).to_string();
    let mut writes = Pipeline::default();
    rollups::VisitorDays::from_rows(company, fingerprint, &rows[days]).mark(
        &mut writes,
        &day,
        VisitorFlags { seen: true, ..VisitorFlags::default() },
    );
    let answer = Ingested::NoContent;
    push_answer(&mut writes, company, idempotency, &answer, now_ms)?;
    writes.run(tx).await?;
    Ok(answer)
}
