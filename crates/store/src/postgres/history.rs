//! Loading conversation history and company settings for the attribution
//! decision (the PostgreSQL twin of `sqlite::history`).

use std::collections::HashMap;

use deadpool_postgres::GenericClient;
use revtrace_core::{Channel, MessageFact, Role, TicketHistory};

use tokio_postgres::Row;

use super::{all, opt};
use crate::{StoreError, model::CompanyId};

fn channel(raw: &str) -> Result<Channel, StoreError> {
    Channel::parse(raw).ok_or_else(|| StoreError::Corrupt(format!("channel {raw}")))
}

fn role(raw: &str) -> Result<Role, StoreError> {
    Role::parse(raw).ok_or_else(|| StoreError::Corrupt(format!("role {raw}")))
}

/// The tickets of one fingerprint (`$2`) with their messages sent at or
/// before `$3`: read with an event's other reads, once per fingerprint of
/// its identity, see [`from_rows`]. Equalities on both columns of the index,
/// so even a plan made while the table was small looks the fingerprint up.
pub(super) const FOR_FINGERPRINT: &str = "SELECT t.ticket_pk, t.ticket_id, t.ai_profile_id, t.channel, t.fingerprint,
            m.message_id, m.sent_at_ms, m.role, m.has_answer_found, m.nudge_id
     FROM tickets t JOIN messages m ON m.ticket_pk = t.ticket_pk
     WHERE t.company_id = $1 AND t.fingerprint = $2 AND m.sent_at_ms <= $3
     ORDER BY t.ticket_pk";

/// Ticket histories from the rows of [`FOR_FINGERPRINT`].
pub(super) fn from_rows(rows: &[Row]) -> Result<Vec<TicketHistory>, StoreError> {
    let mut out: Vec<TicketHistory> = Vec::new();
    let mut current_pk = None;
    for r in rows {
        let pk: i64 = r.get(0);
        if current_pk != Some(pk) {
            current_pk = Some(pk);
            out.push(TicketHistory {
                ticket_id: r.get(1),
                ai_profile_id: r.get(2),
                channel: channel(r.get(3))?,
                fingerprint: r.get(4),
                messages: Vec::new(),
            });
        }
        let message = MessageFact {
            message_id: r.get(5),
            sent_at_ms: r.get(6),
            role: role(r.get(7))?,
            has_answer_found: r.get(8),
            nudge_id: r.get(9),
        };
        if let Some(ticket) = out.last_mut() {
            ticket.messages.push(message);
        }
    }
    Ok(out)
}

/// Every ticket of a company with all its messages, grouped by fingerprint
/// (the replay path: one pass instead of a look-up per event).
pub(super) async fn all_by_fingerprint(
    c: &impl GenericClient,
    company: &CompanyId,
) -> Result<HashMap<String, Vec<TicketHistory>>, StoreError> {
    let mut by_pk: HashMap<i64, TicketHistory> = HashMap::new();
    let tickets = all(
        c,
        "SELECT ticket_pk, ticket_id, ai_profile_id, channel, fingerprint FROM tickets WHERE company_id = $1",
        &[&company.0],
    )
    .await?;
    for r in tickets {
        by_pk.insert(
            r.get(0),
            TicketHistory {
                ticket_id: r.get(1),
                ai_profile_id: r.get(2),
                channel: channel(r.get(3))?,
                fingerprint: r.get(4),
                messages: Vec::new(),
            },
        );
    }
    let messages = all(
        c,
        "SELECT m.ticket_pk, m.message_id, m.sent_at_ms, m.role, m.has_answer_found, m.nudge_id
         FROM messages m JOIN tickets t ON t.ticket_pk = m.ticket_pk WHERE t.company_id = $1",
        &[&company.0],
    )
    .await?;
    for r in messages {
        if let Some(ticket) = by_pk.get_mut(&r.get::<_, i64>(0)) {
            ticket.messages.push(MessageFact {
                message_id: r.get(1),
                sent_at_ms: r.get(2),
                role: role(r.get(3))?,
                has_answer_found: r.get(4),
                nudge_id: r.get(5),
            });
        }
    }
    let mut grouped: HashMap<String, Vec<TicketHistory>> = HashMap::new();
    for ticket in by_pk.into_values() {
        grouped.entry(ticket.fingerprint.clone()).or_default().push(ticket);
    }
    Ok(grouped)
}

/// Every stored message of one ticket.
pub(super) async fn messages_of(c: &impl GenericClient, ticket_pk: i64) -> Result<Vec<MessageFact>, StoreError> {
    all(
        c,
        "SELECT message_id, sent_at_ms, role, has_answer_found, nudge_id FROM messages WHERE ticket_pk = $1",
        &[&ticket_pk],
    )
    .await?
    .into_iter()
    .map(|r| {
        Ok(MessageFact {
            message_id: r.get(0),
            sent_at_ms: r.get(1),
            role: role(r.get(2))?,
            has_answer_found: r.get(3),
            nudge_id: r.get(4),
        })
    })
    .collect()
}

/// The company's attribution window and time zone.
pub(super) use crate::engine::Settings as CompanySettings;

/// Read in every call's own transaction, so a window changed by the CLI
/// applies to the next call of every server.
pub(super) async fn company_settings(
    c: &impl GenericClient,
    company: &CompanyId,
) -> Result<CompanySettings, StoreError> {
    let row = opt(c, "SELECT window_ms, timezone FROM companies WHERE company_id = $1", &[&company.0]).await?;
    settings_of(&row.ok_or_else(|| crate::Rejection::UnknownCompany(company.0.clone()))?)
}

/// Settings from a `(window_ms, timezone)` row.
pub(super) fn settings_of(row: &Row) -> Result<CompanySettings, StoreError> {
    let tz: &str = row.get(1);
    let timezone = jiff::tz::TimeZone::get(tz).map_err(|e| StoreError::Corrupt(format!("time zone {tz}: {e}")))?;
    Ok(CompanySettings { window_ms: row.get(0), timezone })
}
