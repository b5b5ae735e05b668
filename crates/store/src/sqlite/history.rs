//! Loading conversation history for the attribution decision.

use std::collections::HashMap;

use revtrace_core::{Channel, MessageFact, Role, TicketHistory};
use rusqlite::{Connection, OptionalExtension, params};

use crate::{StoreError, model::CompanyId};

fn channel(raw: &str) -> Result<Channel, StoreError> {
    Channel::parse(raw).ok_or_else(|| StoreError::Corrupt(format!("channel {raw}")))
}

fn role(raw: &str) -> Result<Role, StoreError> {
    Role::parse(raw).ok_or_else(|| StoreError::Corrupt(format!("role {raw}")))
}

/// The tickets of these fingerprints, with their messages sent at or before
/// `upto_ms`: one indexed join per fingerprint (this runs on every event).
pub(super) fn for_identity(
    conn: &Connection,
    company: &CompanyId,
    identity: &[&str],
    upto_ms: i64,
) -> Result<Vec<TicketHistory>, StoreError> {
    let mut stmt = conn.prepare_cached(
        "SELECT t.ticket_pk, t.ticket_id, t.ai_profile_id, t.channel,
                m.message_id, m.sent_at_ms, m.role, m.has_answer_found, m.nudge_id
         FROM tickets t JOIN messages m ON m.ticket_pk = t.ticket_pk
         WHERE t.company_id = ?1 AND t.fingerprint = ?2 AND m.sent_at_ms <= ?3
         ORDER BY t.ticket_pk",
    )?;
    let mut out: Vec<TicketHistory> = Vec::new();
    for fingerprint in identity {
        let mut rows = stmt.query(params![company.0, fingerprint, upto_ms])?;
        let mut current_pk = None;
        while let Some(r) = rows.next()? {
            let pk: i64 = r.get(0)?;
            if current_pk != Some(pk) {
                current_pk = Some(pk);
                out.push(TicketHistory {
                    ticket_id: r.get(1)?,
                    ai_profile_id: r.get(2)?,
                    channel: channel(&r.get::<_, String>(3)?)?,
                    fingerprint: (*fingerprint).to_owned(),
                    messages: Vec::new(),
                });
            }
            let message = MessageFact {
                message_id: r.get(4)?,
                sent_at_ms: r.get(5)?,
                role: role(&r.get::<_, String>(6)?)?,
                has_answer_found: r.get(7)?,
                nudge_id: r.get(8)?,
            };
            if let Some(ticket) = out.last_mut() {
                ticket.messages.push(message);
            }
        }
    }
    Ok(out)
}

/// Every ticket of a company with all its messages, grouped by fingerprint
/// (the replay path: one pass instead of a look-up per event).
pub(super) fn all_by_fingerprint(
    conn: &Connection,
    company: &CompanyId,
) -> Result<HashMap<String, Vec<TicketHistory>>, StoreError> {
    let mut by_pk: HashMap<i64, TicketHistory> = HashMap::new();
    let mut stmt = conn.prepare(
        "SELECT ticket_pk, ticket_id, ai_profile_id, channel, fingerprint FROM tickets WHERE company_id = ?1",
    )?;
    let mut rows = stmt.query(params![company.0])?;
    while let Some(r) = rows.next()? {
        by_pk.insert(
            r.get(0)?,
            TicketHistory {
                ticket_id: r.get(1)?,
                ai_profile_id: r.get(2)?,
                channel: channel(&r.get::<_, String>(3)?)?,
                fingerprint: r.get(4)?,
                messages: Vec::new(),
            },
        );
    }
    let mut stmt = conn.prepare(
        "SELECT m.ticket_pk, m.message_id, m.sent_at_ms, m.role, m.has_answer_found, m.nudge_id
         FROM messages m JOIN tickets t ON t.ticket_pk = m.ticket_pk WHERE t.company_id = ?1",
    )?;
    let mut rows = stmt.query(params![company.0])?;
    while let Some(r) = rows.next()? {
        if let Some(ticket) = by_pk.get_mut(&r.get(0)?) {
            ticket.messages.push(MessageFact {
                message_id: r.get(1)?,
                sent_at_ms: r.get(2)?,
                role: role(&r.get::<_, String>(3)?)?,
                has_answer_found: r.get(4)?,
                nudge_id: r.get(5)?,
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
pub(super) fn messages_of(conn: &Connection, ticket_pk: i64) -> Result<Vec<MessageFact>, StoreError> {
    conn.prepare_cached(
        "SELECT message_id, sent_at_ms, role, has_answer_found, nudge_id FROM messages WHERE ticket_pk = ?1",
    )?
    .query_map(params![ticket_pk], |r| {
        Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?, r.get::<_, String>(2)?, r.get(3)?, r.get(4)?))
    })?
    .map(|row| {
        let (message_id, sent_at_ms, role_text, has_answer_found, nudge_id) = row?;
        Ok(MessageFact { message_id, sent_at_ms, role: role(&role_text)?, has_answer_found, nudge_id })
    })
    .collect()
}

/// The company's attribution window and time zone.
pub(super) use crate::engine::Settings as CompanySettings;

pub(super) fn company_settings(conn: &Connection, company: &CompanyId) -> Result<CompanySettings, StoreError> {
    let row: Option<(i64, String)> = conn
        .prepare_cached("SELECT window_ms, timezone FROM companies WHERE company_id = ?1")?
        .query_row(params![company.0], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?;
    let (window_ms, tz) = row.ok_or_else(|| crate::Rejection::UnknownCompany(company.0.clone()))?;
    let timezone = jiff::tz::TimeZone::get(&tz).map_err(|e| StoreError::Corrupt(format!("time zone {tz}: {e}")))?;
    Ok(CompanySettings { window_ms, timezone })
}

/// Company settings read once per write batch: every call of a batch sees
/// the same settings, and the next batch sees what a CLI command changed.
#[derive(Default)]
pub(super) struct Companies(HashMap<String, CompanySettings>);

impl Companies {
    pub fn get(&mut self, conn: &Connection, company: &CompanyId) -> Result<&CompanySettings, StoreError> {
        if !self.0.contains_key(&company.0) {
            let settings = company_settings(conn, company)?;
            self.0.insert(company.0.clone(), settings);
        }
        self.0.get(&company.0).ok_or_else(|| crate::Rejection::UnknownCompany(company.0.clone()).into())
    }
}
