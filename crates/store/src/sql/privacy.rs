//! Privacy, written once: what erasing a fingerprint touches (the erase
//! list), what a shop's redaction removes, and what an export contains.
//!
//! Erasing a fingerprint replaces it everywhere with a fresh random token and
//! drops what the shopper wrote (message text, metadata, products shown), the
//! cart tokens and the order's cart token. Amounts, decisions and counts stay,
//! so totals do not move and `reattribute` still replays to the same result,
//! but nothing links the history back to the browser or the person.
//!
//! Each step is a query (or a batch of them) and a pure function over its
//! rows; a backend runs them in its transaction, holding its locks.

use serde_json::{Value, json};

use super::{Arg, Cells, args, reads::Batch};
use crate::{
    StoreError,
    model::CompanyId,
    rows::{Contribution, RollupKey},
};

/// Records a privacy request or a redaction done; answers its number.
pub(crate) fn record(
    company: &CompanyId,
    shop_domain: Option<&str>,
    kind: &str,
    payload: &Value,
    now_ms: i64,
) -> (&'static str, Vec<Arg>) {
    (
        "INSERT INTO privacy_requests (company_id, shop_domain, kind, payload, received_at_ms)
         VALUES ($1, $2, $3, $4, $5) RETURNING request_pk",
        args![company.to_string(), shop_domain, kind, payload.to_string(), now_ms],
    )
}

pub(crate) fn recorded<R: Cells>(rows: &[R]) -> Result<i64, StoreError> {
    rows.first().ok_or_else(|| StoreError::corrupt("a privacy request got no number"))?.int(0)
}

pub(crate) fn request_query(company: &CompanyId, request: i64) -> (&'static str, Vec<Arg>) {
    (
        "SELECT payload FROM privacy_requests WHERE request_pk = $1 AND company_id = $2 AND kind = 'data_request'",
        args![request, company.to_string()],
    )
}

/// The order ids of a recorded `customers/data_request`.
pub(crate) fn requested_orders<R: Cells>(rows: &[R]) -> Result<Option<Vec<revtrace_core::OrderId>>, StoreError> {
    let Some(r) = rows.first() else {
        return Ok(None);
    };
    let value: Value = serde_json::from_str(&r.text(0)?).unwrap_or_default();
    Ok(Some(
        value["orders_requested"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|id| id.to_string().trim_matches('"').to_owned().into())
            .collect(),
    ))
}

/// One query per order: the fingerprints it was stored under.
pub(crate) fn orders_fingerprints(company: &CompanyId, order_ids: &[revtrace_core::OrderId]) -> Batch {
    Batch::repeated(
        "SELECT user_fingerprint, user_faq_fingerprint FROM events WHERE company_id = $1 AND order_id = $2",
        order_ids.iter().map(|order_id| args![company.to_string(), order_id]),
    )
}

/// The distinct fingerprints of [`orders_fingerprints`]' rows, sorted.
pub(crate) fn fingerprints<R: Cells>(rows: &[Vec<R>]) -> Result<Vec<String>, StoreError> {
    let mut found = Vec::new();
    for r in rows.iter().flatten() {
        found.extend([r.opt_text(0)?, r.opt_text(1)?].into_iter().flatten());
    }
    found.sort();
    found.dedup();
    Ok(found)
}

/// `customers/redact` drops the orders' cart tokens (then erases their
/// fingerprints).
pub(crate) fn clear_cart_tokens(company: &CompanyId, order_ids: &[revtrace_core::OrderId]) -> Batch {
    Batch::repeated(
        "UPDATE events SET cart_token = NULL WHERE company_id = $1 AND order_id = $2",
        order_ids.iter().map(|order_id| args![company.to_string(), order_id]),
    )
}

pub(crate) const DAYS_OF: &str = "SELECT day FROM visitor_days WHERE company_id = $1 AND user_fingerprint = $2";

pub(crate) fn days_args(company: &CompanyId, fingerprint: &str) -> Vec<Arg> {
    args![company.to_string(), fingerprint]
}

/// The events stored under a fingerprint (as user or FAQ fingerprint), found
/// day by day through its visitor days: every event gives its fingerprints a
/// row there, so no index of events by fingerprint is needed (it would cost
/// every ingest). One query per day of [`DAYS_OF`]'s rows, each answering
/// `event_pk, candidates, occurred_at_ms`.
pub(crate) fn events_on_days<R: Cells>(
    company: &CompanyId,
    timezone: &jiff::tz::TimeZone,
    fingerprint: &str,
    days: &[R],
) -> Result<Batch, StoreError> {
    let mut batch = Batch::default();
    for r in days {
        let day = r.text(0)?;
        let date: jiff::civil::Date = day.parse().map_err(|_| StoreError::corrupt(format!("day {day}")))?;
        let (from, to) = revtrace_core::time::day_bounds(date, timezone);
        batch.push(
            "SELECT event_pk, candidates, occurred_at_ms FROM events
             WHERE company_id = $1 AND occurred_at_ms >= $2 AND occurred_at_ms < $3
               AND (user_fingerprint = $4 OR user_faq_fingerprint = $4)",
            args![company.to_string(), from, to, fingerprint],
        );
    }
    Ok(batch)
}

/// A fresh token to replace a fingerprint with.
pub(crate) fn erased_token() -> String {
    format!("erased-{}", uuid::Uuid::new_v4().simple())
}

/// Everything that erasing `fingerprint` as `token` writes, given its events
/// (the rows of [`events_on_days`]): the events, with the receipts that name
/// it among their candidates; what the conversations said (that they
/// happened, and when, stays); every table that keys on a fingerprint.
pub(crate) fn erase<R: Cells>(
    company: &CompanyId,
    fingerprint: &str,
    token: &str,
    events: &[Vec<R>],
) -> Result<Batch, StoreError> {
    let mut batch = Batch::default();
    for r in events.iter().flatten() {
        let mut candidates: Value =
            serde_json::from_str(&r.text(1)?).map_err(|e| StoreError::corrupt(e.to_string()))?;
        for candidate in candidates.as_array_mut().into_iter().flatten() {
            if candidate["fingerprint"] == fingerprint {
                candidate["fingerprint"] = json!(token);
            }
        }
        batch.push(EVENT_ERASE, args![r.int(0)?, fingerprint, token, candidates.to_string()]);
    }
    let key = || args![company.to_string(), fingerprint, token];
    batch.push(
        "UPDATE messages SET text = NULL, metadata = NULL, product_ids = NULL
         WHERE ticket_pk IN (SELECT ticket_pk FROM tickets WHERE company_id = $1 AND fingerprint = $2)",
        args![company.to_string(), fingerprint],
    );
    for sql in RENAMES {
        batch.push(sql, key());
    }
    batch.push(
        "DELETE FROM cart_tokens WHERE company_id = $1 AND user_fingerprint = $2",
        args![company.to_string(), fingerprint],
    );
    Ok(batch)
}

/// An event of the erased fingerprint: its cart token goes, its
/// fingerprints and the candidates of its receipt are renamed.
pub(crate) const EVENT_ERASE: &str = "UPDATE events SET cart_token = NULL, candidates = $4,
        user_fingerprint = CASE WHEN user_fingerprint = $2 THEN $3 ELSE user_fingerprint END,
        user_faq_fingerprint = CASE WHEN user_faq_fingerprint = $2 THEN $3 ELSE user_faq_fingerprint END
     WHERE event_pk = $1";

/// Every column that holds a fingerprint outside `events`, renamed on erase.
pub(crate) const RENAMES: [&str; 5] = [
    "UPDATE tickets SET fingerprint = $3 WHERE company_id = $1 AND fingerprint = $2",
    "UPDATE visitor_days SET user_fingerprint = $3 WHERE company_id = $1 AND user_fingerprint = $2",
    "UPDATE multi_visitors SET fingerprint = $3 WHERE company_id = $1 AND fingerprint = $2",
    "UPDATE cart_positions SET user_fingerprint = $3 WHERE company_id = $1 AND user_fingerprint = $2",
    "UPDATE exposures SET fingerprint = $3 WHERE company_id = $1 AND fingerprint = $2",
];

/// A shop's order, as `shop/redact` reads it: `event_pk, order_id,
/// user_fingerprint, user_faq_fingerprint, day, attributed, ai_profile_id,
/// message_source, is_test, usd_cents, refunded_cents`.
pub(crate) struct ShopOrder {
    pub event_pk: i64,
    pub order_id: Option<String>,
    pub fingerprints: Vec<String>,
    pub user_fingerprint: Option<String>,
    pub occurred_at_ms: i64,
    pub key: RollupKey,
    pub contribution: Contribution,
    /// The ticket it was credited to: its funnel firsts are read again.
    pub ticket_id: Option<String>,
}

pub(crate) fn shop_order<R: Cells>(r: &R) -> Result<ShopOrder, StoreError> {
    Ok(ShopOrder {
        event_pk: r.int(0)?,
        order_id: r.opt_text(1)?,
        fingerprints: [r.opt_text(2)?, r.opt_text(3)?].into_iter().flatten().collect(),
        user_fingerprint: r.opt_text(2)?,
        occurred_at_ms: r.int(11)?,
        key: super::reads::order_key(r, 4)?,
        contribution: Contribution {
            usd_cents: r.opt_int(9)?.map(revtrace_core::UsdCents::new),
            quantity: 0,
            refunded_cents: revtrace_core::UsdCents::new(r.int(10)?),
        },
        ticket_id: r.opt_text(12)?,
    })
}

/// What removing a shop's order deletes (its rollup sums are taken away
/// by the backend, which knows its shards).
pub(crate) fn delete_order(company: &CompanyId, order: &ShopOrder) -> Batch {
    let mut batch = Batch::default();
    batch.push("DELETE FROM line_items WHERE event_pk = $1", args![order.event_pk]);
    batch.push(
        "DELETE FROM refunds WHERE company_id = $1 AND order_id = $2",
        args![company.to_string(), order.order_id.clone()],
    );
    batch.push(
        "DELETE FROM cancellations WHERE company_id = $1 AND order_id = $2",
        args![company.to_string(), order.order_id.clone()],
    );
    batch.push("DELETE FROM events WHERE event_pk = $1", args![order.event_pk]);
    if let Some(ticket_id) = &order.ticket_id {
        batch.push(super::writes::TICKET_FIRSTS, args![company.to_string(), ticket_id.clone()]);
    }
    batch
}

/// The shop itself goes last.
pub(crate) fn delete_shop(shop_domain: &str) -> Batch {
    let mut batch = Batch::default();
    batch.push("DELETE FROM shopify_secrets WHERE shop_domain = $1", args![shop_domain]);
    batch.push("DELETE FROM shopify_stores WHERE shop_domain = $1", args![shop_domain]);
    batch
}

/// How an export column becomes JSON.
#[derive(Clone, Copy)]
enum Kind {
    Text,
    Int,
    /// A flag, exported as 0 or 1 (null stays null).
    Flag,
}

const MESSAGE_COLUMNS: [(&str, Kind); 10] = [
    ("ticket_id", Kind::Text),
    ("channel", Kind::Text),
    ("ai_profile_id", Kind::Text),
    ("message_id", Kind::Text),
    ("sent_at_ms", Kind::Int),
    ("role", Kind::Text),
    ("has_answer_found", Kind::Flag),
    ("text", Kind::Text),
    ("metadata", Kind::Text),
    ("product_ids", Kind::Text),
];

const EVENT_COLUMNS: [(&str, Kind); 15] = [
    ("event_id", Kind::Text),
    ("cart_type", Kind::Text),
    ("source_category", Kind::Text),
    ("occurred_at_ms", Kind::Int),
    ("event_type", Kind::Text),
    ("product_id", Kind::Text),
    ("variant_id", Kind::Text),
    ("quantity_signed", Kind::Int),
    ("order_id", Kind::Text),
    ("amount", Kind::Text),
    ("currency", Kind::Text),
    ("usd_cents", Kind::Int),
    ("reason", Kind::Text),
    ("ticket_id", Kind::Text),
    ("is_test", Kind::Flag),
];

const TOKEN_COLUMNS: [(&str, Kind); 2] = [("cart_token", Kind::Text), ("updated_at_ms", Kind::Int)];

const DAY_COLUMNS: [(&str, Kind); 4] =
    [("day", Kind::Text), ("seen", Kind::Flag), ("assisted", Kind::Flag), ("converted", Kind::Flag)];

fn objects<R: Cells>(rows: &[R], columns: &[(&str, Kind)]) -> Result<Vec<Value>, StoreError> {
    rows.iter()
        .map(|r| {
            let mut object = serde_json::Map::new();
            for (i, (name, kind)) in columns.iter().enumerate() {
                let value = match kind {
                    Kind::Text => json!(r.opt_text(i)?),
                    Kind::Int => json!(r.opt_int(i)?),
                    Kind::Flag => json!(r.opt_flag(i)?.map(i64::from)),
                };
                object.insert((*name).to_owned(), value);
            }
            Ok(Value::Object(object))
        })
        .collect()
}

/// Where one fingerprint's export comes back.
pub(crate) struct ExportReads {
    messages: usize,
    tokens: usize,
    days: usize,
}

/// The export's reads of one fingerprint (its events come from
/// [`events_on_days`], then [`push_event`]).
pub(crate) fn push_export(batch: &mut Batch, company: &CompanyId, fingerprint: &str) -> ExportReads {
    let key = || args![company.to_string(), fingerprint];
    ExportReads {
        messages: batch.push(
            "SELECT t.ticket_id, t.channel, t.ai_profile_id, m.message_id, m.sent_at_ms, m.role, m.has_answer_found,
                    m.text, m.metadata, m.product_ids
             FROM tickets t JOIN messages m ON m.ticket_pk = t.ticket_pk
             WHERE t.company_id = $1 AND t.fingerprint = $2 ORDER BY t.ticket_id, m.sent_at_ms",
            key(),
        ),
        tokens: batch.push(
            "SELECT cart_token, updated_at_ms FROM cart_tokens WHERE company_id = $1 AND user_fingerprint = $2",
            key(),
        ),
        days: batch.push(
            "SELECT day, seen, assisted, converted FROM visitor_days
             WHERE company_id = $1 AND user_fingerprint = $2 ORDER BY day",
            key(),
        ),
    }
}

/// One event of an export, by the `event_pk`s the day reads found, in time
/// order.
pub(crate) fn push_events<R: Cells>(
    batch: &mut Batch,
    company: &CompanyId,
    found: &[Vec<R>],
) -> Result<(), StoreError> {
    let mut events: Vec<(i64, i64)> = Vec::new();
    for r in found.iter().flatten() {
        events.push((r.int(2)?, r.int(0)?));
    }
    events.sort_unstable();
    events.dedup();
    for (_, event_pk) in events {
        batch.push(
            "SELECT event_id, cart_type, source_category, occurred_at_ms, event_type, product_id, variant_id,
                    quantity_signed, order_id, amount, currency, usd_cents, reason, ticket_id, is_test
             FROM events WHERE company_id = $1 AND event_pk = $2",
            args![company.to_string(), event_pk],
        );
    }
    Ok(())
}

/// One fingerprint's part of the export document: the rows of
/// [`push_export`] and, after them in the same batch, of [`push_events`].
pub(crate) fn person<R: Cells>(
    fingerprint: &str,
    rows: &[Vec<R>],
    ix: &ExportReads,
    events_from: usize,
) -> Result<Value, StoreError> {
    let mut listed = Vec::new();
    for found in &rows[events_from..] {
        listed.extend(objects(found, &EVENT_COLUMNS)?);
    }
    Ok(json!({
        "fingerprint": fingerprint,
        "messages": objects(&rows[ix.messages], &MESSAGE_COLUMNS)?,
        "events": listed,
        "cart_tokens": objects(&rows[ix.tokens], &TOKEN_COLUMNS)?,
        "visitor_days": objects(&rows[ix.days], &DAY_COLUMNS)?,
    }))
}

pub(crate) fn document(company: &CompanyId, people: Vec<Value>) -> Value {
    json!({"company_id": company.as_str(), "fingerprints": people})
}

// --- the flows, over either backend ---------------------------------------

use super::db::{Db, Dialect, shopper_lock};

/// Records a privacy request or a redaction done; returns its number.
pub(crate) async fn record_request<D: Db>(
    db: &D,
    company: &CompanyId,
    shop_domain: Option<&str>,
    kind: &str,
    payload: &Value,
    now_ms: i64,
) -> Result<i64, StoreError> {
    let (sql, args) = record(company, shop_domain, kind, payload, now_ms);
    recorded(&db.rows(sql, args).await?)
}

/// The fingerprints a privacy export covers: one, or those of a recorded
/// `customers/data_request`'s orders (none for an unknown request).
pub(crate) async fn subject_fingerprints<D: Db>(
    db: &D,
    company: &CompanyId,
    subject: crate::model::PrivacySubject,
) -> Result<Option<Vec<String>>, StoreError> {
    match subject {
        crate::model::PrivacySubject::Fingerprint(f) => Ok(Some(vec![f])),
        crate::model::PrivacySubject::Request(n) => {
            let (sql, args) = request_query(company, n);
            match requested_orders(&db.rows(sql, args).await?)? {
                Some(orders) => Ok(Some(fingerprints(&db.all(orders_fingerprints(company, &orders)).await?)?)),
                None => Ok(None),
            }
        }
    }
}

/// `customers/redact`: drops the orders' cart tokens and erases their
/// fingerprints (each under its shopper's lock).
pub(crate) async fn redact_orders<D: Db>(
    db: &D,
    company: &CompanyId,
    order_ids: &[revtrace_core::OrderId],
) -> Result<u64, StoreError> {
    super::reads::company_settings(db, company).await?;
    db.exec(clear_cart_tokens(company, order_ids)).await?;
    let found = fingerprints(&db.all(orders_fingerprints(company, order_ids)).await?)?;
    db.lock(&found.iter().map(|f| shopper_lock(company, f)).collect::<Vec<_>>()).await?;
    for fingerprint in &found {
        erase_fingerprint(db, company, fingerprint).await?;
    }
    Ok(found.len() as u64)
}

/// The events of a fingerprint, one row set per day it was active.
async fn events_of<D: Db>(db: &D, company: &CompanyId, fingerprint: &str) -> Result<Vec<Vec<D::Row>>, StoreError> {
    let timezone = super::reads::company_settings(db, company).await?.timezone;
    let days = db.rows(DAYS_OF, days_args(company, fingerprint)).await?;
    db.all(events_on_days(company, &timezone, fingerprint, &days)?).await
}

/// Replaces a fingerprint with a fresh token everywhere, and drops what the
/// shopper wrote under it. Returns the token. The caller holds its lock.
pub(crate) async fn erase_fingerprint<D: Db>(
    db: &D,
    company: &CompanyId,
    fingerprint: &str,
) -> Result<String, StoreError> {
    let token = erased_token();
    let events = events_of(db, company, fingerprint).await?;
    db.exec(erase(company, fingerprint, &token, &events)?).await?;
    Ok(token)
}

/// `shop/redact`: the shop's orders (and what identified their shoppers) go,
/// leaving the reports as if they had never come; then the shop itself.
pub(crate) async fn redact_shop<D: Db>(
    db: &D,
    company: &CompanyId,
    shop_domain: &str,
    now_ms: i64,
) -> Result<u64, StoreError> {
    super::reads::company_settings(db, company).await?;
    let sql = match D::DIALECT {
        // The shop's partial index, which SQLite's planner may pass over.
        Dialect::Sqlite => {
            "SELECT event_pk, order_id, user_fingerprint, user_faq_fingerprint, day, attributed, ai_profile_id,
                    message_source, is_test, usd_cents, refunded_cents, occurred_at_ms, ticket_id
             FROM events INDEXED BY events_by_shop WHERE shop_domain = $1 AND company_id = $2"
        }
        Dialect::Postgres => {
            "SELECT event_pk, order_id, user_fingerprint, user_faq_fingerprint, day, attributed, ai_profile_id,
                    message_source, is_test, usd_cents, refunded_cents, occurred_at_ms, ticket_id
             FROM events WHERE shop_domain = $1 AND company_id = $2"
        }
    };
    let found = db.rows(sql, args![shop_domain, company.to_string()]).await?;
    let orders = found.iter().map(shop_order).collect::<Result<Vec<_>, _>>()?;
    let mut erased: Vec<(String, String)> = Vec::new();
    for order in &orders {
        for fingerprint in &order.fingerprints {
            if !erased.iter().any(|(f, _)| f == fingerprint) {
                db.lock(&[shopper_lock(company, fingerprint)]).await?;
                let token = erase_fingerprint(db, company, fingerprint).await?;
                erased.push((fingerprint.clone(), token));
            }
        }
        let mut writes =
            vec![crate::engine::Write::Rollup { key: order.key.clone(), sums: order.contribution.sums(-1)? }];
        // The order leaves its visitor's exposures (now under the erased name).
        let owner = order.user_fingerprint.as_ref().and_then(|f| erased.iter().find(|(old, _)| old == f));
        let outcome = crate::engine::experiments::OutcomeEvent {
            checkout: true,
            usd_cents: order.contribution.usd_cents.map(revtrace_core::UsdCents::cents),
            refunded_cents: order.contribution.refunded_cents.cents(),
            attributed: order.key.attributed,
            occurred_at_ms: order.occurred_at_ms,
        }
        .outcome()
        .negated();
        writes.extend(crate::engine::experiments::moved(
            owner.map(|(_, token)| token.as_str()),
            order.key.is_test,
            order.occurred_at_ms,
            outcome,
        ));
        db.apply(company, writes, now_ms).await?;
        db.exec(delete_order(company, order)).await?;
    }
    db.exec(delete_shop(shop_domain)).await?;
    Ok(orders.len() as u64)
}

/// Everything revtrace holds under these fingerprints, as one JSON document.
pub(crate) async fn export<D: Db>(db: &D, company: &CompanyId, fingerprints: &[String]) -> Result<Value, StoreError> {
    let mut people = Vec::new();
    for fingerprint in fingerprints {
        let found = events_of(db, company, fingerprint).await?;
        let mut batch = Batch::default();
        let ix = push_export(&mut batch, company, fingerprint);
        let events_from = batch.queries.len();
        push_events(&mut batch, company, &found)?;
        people.push(person(fingerprint, &db.all(batch).await?, &ix, events_from)?);
    }
    Ok(document(company, people))
}

/// `revtrace privacy erase`: erases one fingerprint under its lock and
/// records that it was done (with the token, not the fingerprint).
pub(crate) async fn erase_on_request<D: Db>(
    db: &D,
    company: &CompanyId,
    fingerprint: &str,
    now_ms: i64,
) -> Result<String, StoreError> {
    super::reads::company_settings(db, company).await?;
    db.lock(&[shopper_lock(company, fingerprint)]).await?;
    let token = erase_fingerprint(db, company, fingerprint).await?;
    record_request(db, company, None, "erase", &json!({ "erased_as": token }), now_ms).await?;
    Ok(token)
}

/// A privacy export of one fingerprint or of a recorded data request (none
/// for an unknown request).
pub(crate) async fn export_subject<D: Db>(
    db: &D,
    company: &CompanyId,
    subject: crate::model::PrivacySubject,
) -> Result<Option<Value>, StoreError> {
    match subject_fingerprints(db, company, subject).await? {
        Some(found) => export(db, company, &found).await.map(Some),
        None => Ok(None),
    }
}
