//! The facts the engine's rules need, read once for both backends: each use
//! case queues its queries on a [`Batch`] (SQLite runs them one after the
//! other, PostgreSQL sends them in one round trip) and maps the rows back,
//! whichever driver returned them.

use std::collections::HashMap;

use revtrace_core::{Channel, Currency, MessageFact, MessageSource, Role, TicketHistory};

use super::{Arg, Cells, args};
use crate::{
    Rejection, StoreError,
    engine::{
        FunnelFacts, RateRow, Settings, StoredDay, VisitorDays,
        ingest::{self, CreditedFirsts, EventFacts, StoredAnswer, StoredTicket, TicketFacts},
        refunds::{RefundFacts, StoredOrder},
    },
    model::{CompanyId, EventInput, EventKind, IdempotencyKey, RefundInput, TicketInput},
    rows::{RollupKey, VisitorFlags, parse_multiplier},
};

/// Queries to run together, in order.
#[derive(Clone, Default)]
pub(crate) struct Batch {
    pub queries: Vec<(&'static str, Vec<Arg>)>,
}

impl Batch {
    /// Queues a query; its rows come back at the returned index.
    pub fn push(&mut self, sql: &'static str, args: Vec<Arg>) -> usize {
        self.queries.push((sql, args));
        self.queries.len() - 1
    }

    /// One statement, once for each set of arguments.
    pub fn repeated(sql: &'static str, each: impl IntoIterator<Item = Vec<Arg>>) -> Self {
        Self { queries: each.into_iter().map(|args| (sql, args)).collect() }
    }
}

fn channel(raw: &str) -> Result<Channel, StoreError> {
    Channel::parse(raw).ok_or_else(|| StoreError::corrupt(format!("channel {raw}")))
}

fn role(raw: &str) -> Result<Role, StoreError> {
    Role::parse(raw).ok_or_else(|| StoreError::corrupt(format!("role {raw}")))
}

// --- the company and idempotency ids -------------------------------------

pub(crate) const SETTINGS: &str = "SELECT window_ms, timezone FROM companies WHERE company_id = $1";

/// The company's settings, read in the caller's transaction; an unknown
/// company is a rejection.
pub(crate) async fn company_settings<D: super::db::Db>(db: &D, company: &CompanyId) -> Result<Settings, StoreError> {
    settings(&db.rows(SETTINGS, args![company.to_string()]).await?, company)
}

/// Settings from a row of [`SETTINGS`]; none means the company is unknown.
pub(crate) fn settings<R: Cells>(rows: &[R], company: &CompanyId) -> Result<Settings, StoreError> {
    let r = rows.first().ok_or_else(|| Rejection::UnknownCompany(company.clone()))?;
    let tz = r.text(1)?;
    let timezone = jiff::tz::TimeZone::get(&tz).map_err(|e| StoreError::corrupt(format!("time zone {tz}: {e}")))?;
    Ok(Settings { window_ms: r.int(0)?, timezone })
}

pub(crate) fn push_replay(batch: &mut Batch, company: &CompanyId, key: &IdempotencyKey) -> usize {
    batch.push(
        "SELECT request_sha256, body FROM idempotency_keys
         WHERE company_id = $1 AND endpoint = $2 AND idempotency_id = $3",
        args![company.to_string(), key.endpoint, key.id.clone()],
    )
}

pub(crate) fn stored_answer<R: Cells>(rows: &[R]) -> Result<Option<StoredAnswer>, StoreError> {
    rows.first().map(|r| Ok(StoredAnswer { request_sha256: r.bytes(0)?, body: r.text(1)? })).transpose()
}

// --- conversations --------------------------------------------------------

/// The tickets of one fingerprint with their messages sent up to a time,
/// see [`histories`]. Equalities on both columns of the index, so even a
/// PostgreSQL plan made while the table was small looks the fingerprint up.
const HISTORY_OF: &str = "SELECT t.ticket_pk, t.ticket_id, t.ai_profile_id, t.channel, t.fingerprint,
        m.message_id, m.sent_at_ms, m.role, m.has_answer_found, m.nudge_id, t.first_cart_ms, t.first_checkout_ms
     FROM tickets t JOIN messages m ON m.ticket_pk = t.ticket_pk
     WHERE t.company_id = $1 AND t.fingerprint = $2 AND m.sent_at_ms <= $3
     ORDER BY t.ticket_pk";

pub(crate) fn push_history(batch: &mut Batch, company: &CompanyId, fingerprint: &str, upto_ms: i64) -> usize {
    batch.push(HISTORY_OF, args![company.to_string(), fingerprint, upto_ms])
}

/// Ticket histories from the rows of one [`push_history`] query, and each
/// ticket's first credited cart add and checkout so far.
pub(crate) fn histories<R: Cells>(
    rows: &[R],
    out: &mut Vec<TicketHistory>,
    firsts: &mut Vec<CreditedFirsts>,
) -> Result<(), StoreError> {
    let mut current_pk = None;
    for r in rows {
        let pk = r.int(0)?;
        if current_pk != Some(pk) {
            current_pk = Some(pk);
            firsts.push(CreditedFirsts { cart_ms: r.opt_int(10)?, checkout_ms: r.opt_int(11)? });
            out.push(TicketHistory {
                ticket_id: r.text(1)?,
                ai_profile_id: r.text(2)?,
                channel: channel(&r.text(3)?)?,
                fingerprint: r.text(4)?,
                messages: Vec::new(),
            });
        }
        let message = message_at(r, 5)?;
        if let Some(ticket) = out.last_mut() {
            ticket.messages.push(message);
        }
    }
    Ok(())
}

/// A message fact from `message_id, sent_at_ms, role, has_answer_found,
/// nudge_id` starting at column `at`.
fn message_at<R: Cells>(r: &R, at: usize) -> Result<MessageFact, StoreError> {
    Ok(MessageFact {
        message_id: r.text(at)?,
        sent_at_ms: r.int(at + 1)?,
        role: role(&r.text(at + 2)?)?,
        has_answer_found: r.opt_flag(at + 3)?,
        nudge_id: r.opt_text(at + 4)?,
    })
}

/// Every ticket of a company (`ticket_pk, ticket_id, ai_profile_id, channel,
/// fingerprint`), then every message of them: the replay path's one pass.
pub(crate) const ALL_TICKETS: &str =
    "SELECT ticket_pk, ticket_id, ai_profile_id, channel, fingerprint FROM tickets WHERE company_id = $1";
pub(crate) const ALL_MESSAGES: &str =
    "SELECT m.ticket_pk, m.message_id, m.sent_at_ms, m.role, m.has_answer_found, m.nudge_id
     FROM messages m JOIN tickets t ON t.ticket_pk = m.ticket_pk WHERE t.company_id = $1";

/// A company's tickets and messages as they are read, grouped by
/// fingerprint at the end: rows are added one at a time, so a backend can
/// map them while its driver steps through them.
#[derive(Default)]
pub(crate) struct AllHistories {
    by_pk: HashMap<i64, TicketHistory>,
}

impl AllHistories {
    /// A row of [`ALL_TICKETS`].
    pub fn ticket<R: Cells>(&mut self, r: &R) -> Result<(), StoreError> {
        self.by_pk.insert(
            r.int(0)?,
            TicketHistory {
                ticket_id: r.text(1)?,
                ai_profile_id: r.text(2)?,
                channel: channel(&r.text(3)?)?,
                fingerprint: r.text(4)?,
                messages: Vec::new(),
            },
        );
        Ok(())
    }

    /// A row of [`ALL_MESSAGES`], after every ticket row.
    pub fn message<R: Cells>(&mut self, r: &R) -> Result<(), StoreError> {
        if let Some(ticket) = self.by_pk.get_mut(&r.int(0)?) {
            ticket.messages.push(message_at(r, 1)?);
        }
        Ok(())
    }

    pub fn by_fingerprint(self) -> HashMap<String, Vec<TicketHistory>> {
        let mut grouped: HashMap<String, Vec<TicketHistory>> = HashMap::new();
        for ticket in self.by_pk.into_values() {
            grouped.entry(ticket.fingerprint.clone()).or_default().push(ticket);
        }
        grouped
    }
}

pub(crate) fn messages<R: Cells>(rows: &[R]) -> Result<Vec<MessageFact>, StoreError> {
    rows.iter().map(|r| message_at(r, 0)).collect()
}

// --- visitor days ---------------------------------------------------------

/// Every visitor day of one fingerprint: equalities on the key's leading
/// columns, so no cached plan can turn it into a scan.
const VISITOR_DAYS_OF: &str = "SELECT day, seen, assisted, converted, multi FROM visitor_days
     WHERE company_id = $1 AND user_fingerprint = $2";

pub(crate) fn push_visitor_days(batch: &mut Batch, company: &CompanyId, fingerprint: &str) -> usize {
    batch.push(VISITOR_DAYS_OF, args![company.to_string(), fingerprint])
}

pub(crate) fn visitor_days<R: Cells>(fingerprint: &str, rows: &[R]) -> Result<VisitorDays, StoreError> {
    let days = rows
        .iter()
        .map(|r| {
            Ok(StoredDay {
                day: r.text(0)?,
                flags: VisitorFlags { seen: r.flag(1)?, assisted: r.flag(2)?, converted: r.flag(3)? },
                multi: r.flag(4)?,
            })
        })
        .collect::<Result<_, StoreError>>()?;
    Ok(VisitorDays::new(fingerprint, days))
}

/// An order's rollup row from `day, attributed, ai_profile_id,
/// message_source, is_test` starting at column `at`.
pub(crate) fn order_key<R: Cells>(r: &R, at: usize) -> Result<RollupKey, StoreError> {
    Ok(RollupKey {
        day: r.text(at)?,
        cart_type: crate::rows::CartType::Checkout,
        attributed: r.flag(at + 1)?,
        ai_profile_id: r.opt_text(at + 2)?.unwrap_or_default(),
        message_source: crate::rows::message_source(r.opt_text(at + 3)?)?,
        is_test: r.flag(at + 4)?,
    })
}

// --- ingest calls ---------------------------------------------------------

/// Where a ticket's facts come back.
pub(crate) struct TicketReads {
    stored: usize,
    messages: usize,
    days: usize,
}

pub(crate) fn push_ticket(batch: &mut Batch, company: &CompanyId, input: &TicketInput) -> TicketReads {
    TicketReads {
        stored: batch.push(
            "SELECT ai_profile_id, channel, fingerprint, first_message_ms, message_source, grounded
             FROM tickets WHERE company_id = $1 AND ticket_id = $2",
            args![company.to_string(), input.ticket_id.clone()],
        ),
        messages: batch.push(
            "SELECT m.message_id, m.sent_at_ms, m.role, m.has_answer_found, m.nudge_id
             FROM messages m JOIN tickets t ON t.ticket_pk = m.ticket_pk WHERE t.company_id = $1 AND t.ticket_id = $2",
            args![company.to_string(), input.ticket_id.clone()],
        ),
        days: push_visitor_days(batch, company, input.fingerprint.as_str()),
    }
}

pub(crate) fn ticket<R: Cells>(
    input: &TicketInput,
    settings: Settings,
    rows: &[Vec<R>],
    ix: &TicketReads,
) -> Result<TicketFacts, StoreError> {
    let stored = rows[ix.stored]
        .first()
        .map(|r| {
            Ok::<_, StoreError>(StoredTicket {
                ai_profile_id: r.text(0)?,
                channel: r.text(1)?,
                fingerprint: r.text(2)?,
                facts: r
                    .opt_text(4)?
                    .map(|source| {
                        let message_source = MessageSource::parse(&source)
                            .ok_or_else(|| StoreError::corrupt(format!("message source {source}")))?;
                        Ok::<_, StoreError>(FunnelFacts {
                            first_message_ms: r.opt_int(3)?,
                            message_source,
                            grounded: r.flag(5)?,
                        })
                    })
                    .transpose()?,
            })
        })
        .transpose()?;
    Ok(TicketFacts {
        settings,
        stored,
        messages: messages(&rows[ix.messages])?,
        visitor: visitor_days(input.fingerprint.as_str(), &rows[ix.days])?,
    })
}

/// Where an event's facts come back.
pub(crate) struct EventReads {
    histories: Vec<usize>,
    /// Per fingerprint whose visitor days the event marks.
    days: Vec<(String, usize)>,
    rates: Option<usize>,
    net: Option<usize>,
    order: Option<usize>,
    waiting: Option<usize>,
}

pub(crate) fn push_event(batch: &mut Batch, company: &CompanyId, input: &EventInput) -> Result<EventReads, StoreError> {
    let histories =
        input.identity().into_iter().map(|f| push_history(batch, company, f, input.occurred_at_ms)).collect();
    let days = ingest::visitor_fingerprints(input)
        .into_iter()
        .map(|f| (f.to_owned(), push_visitor_days(batch, company, f)))
        .collect();
    let rates = match input.currency {
        Currency::USD => None,
        currency => Some(batch.push(
            "SELECT usd_multiplier, effective_from, source FROM currency_rates
             WHERE currency = $1 AND effective_from <= $2 ORDER BY effective_from DESC LIMIT $3",
            args![currency.as_str(), ingest::rate_horizon(input.occurred_at_ms)?, ingest::RATES_NEAR],
        )),
    };
    let (mut net, mut order, mut waiting) = (None, None, None);
    match &input.kind {
        // Additions need no history; only removals read the current net.
        EventKind::Cart { event_type, product_id, variant_id, .. } if !event_type.adds() => {
            let fingerprint = input.user_fingerprint.as_ref().map(|f| f.as_str()).unwrap_or_default();
            net = Some(batch.push(
                "SELECT net_quantity FROM cart_positions
                 WHERE company_id = $1 AND user_fingerprint = $2 AND product_id = $3 AND variant_key = $4",
                args![company.to_string(), fingerprint, product_id.clone(), variant_id.clone().unwrap_or_default()],
            ));
        }
        EventKind::Cart { .. } => {}
        EventKind::Checkout { order_id, .. } => {
            order = Some(batch.push(
                "SELECT event_id FROM events WHERE company_id = $1 AND order_id = $2",
                args![company.to_string(), order_id.clone()],
            ));
            waiting = Some(batch.push(
                "SELECT refund_id, amount FROM refunds WHERE company_id = $1 AND order_id = $2 AND NOT applied",
                args![company.to_string(), order_id.clone()],
            ));
        }
    }
    Ok(EventReads { histories, days, rates, net, order, waiting })
}

pub(crate) fn event<R: Cells>(settings: Settings, rows: &[Vec<R>], ix: &EventReads) -> Result<EventFacts, StoreError> {
    let (mut histories, mut credited_firsts) = (Vec::new(), Vec::new());
    for i in &ix.histories {
        self::histories(&rows[*i], &mut histories, &mut credited_firsts)?;
    }
    let rates = match ix.rates {
        Some(i) => rows[i]
            .iter()
            .map(|r| {
                Ok(RateRow {
                    multiplier: parse_multiplier(&r.text(0)?)?,
                    effective_from: r.text(1)?,
                    source: r.text(2)?,
                })
            })
            .collect::<Result<_, StoreError>>()?,
        None => Vec::new(),
    };
    let first = |i: Option<usize>| i.and_then(|i| rows[i].first());
    Ok(EventFacts {
        settings,
        cart_net: first(ix.net).map(|r| r.int(0)).transpose()?,
        stored_order: first(ix.order).map(|r| r.text(0)).transpose()?,
        rates,
        histories,
        credited_firsts,
        visitors: ix.days.iter().map(|(f, i)| visitor_days(f, &rows[*i])).collect::<Result<_, _>>()?,
        waiting_refunds: match ix.waiting {
            Some(i) => rows[i].iter().map(|r| Ok((r.text(0)?, r.decimal(1)?))).collect::<Result<_, StoreError>>()?,
            None => Vec::new(),
        },
    })
}

/// Where a refund's facts come back.
pub(crate) struct RefundReads {
    known: usize,
    order: usize,
    before: usize,
}

pub(crate) fn push_refund(batch: &mut Batch, company: &CompanyId, input: &RefundInput) -> RefundReads {
    RefundReads {
        known: batch.push(
            "SELECT 1 FROM refunds WHERE company_id = $1 AND refund_id = $2",
            args![company.to_string(), input.refund_id.clone()],
        ),
        order: batch.push(
            "SELECT event_id, amount, usd_multiplier, day, attributed, ai_profile_id, message_source, is_test,
                user_fingerprint, occurred_at_ms
             FROM events WHERE company_id = $1 AND order_id = $2",
            args![company.to_string(), input.order_id.clone()],
        ),
        before: batch.push(
            "SELECT amount FROM refunds WHERE company_id = $1 AND order_id = $2",
            args![company.to_string(), input.order_id.clone()],
        ),
    }
}

pub(crate) fn refund<R: Cells>(rows: &[Vec<R>], ix: &RefundReads) -> Result<RefundFacts, StoreError> {
    let known = !rows[ix.known].is_empty();
    let order = match rows[ix.order].first() {
        Some(r) if !known => Some(StoredOrder {
            event_id: r.text(0)?.into(),
            user_fingerprint: r.opt_text(8)?,
            occurred_at_ms: r.int(9)?,
            amount: r.decimal(1)?,
            multiplier: r.opt_text(2)?.as_deref().map(parse_multiplier).transpose()?,
            key: order_key(r, 3)?,
            refunded: rows[ix.before].iter().map(|r| r.decimal(0)).sum::<Result<_, _>>()?,
        }),
        _ => None,
    };
    Ok(RefundFacts { known, order })
}
