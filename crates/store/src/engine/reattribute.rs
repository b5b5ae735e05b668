//! Replaying history: a stored event decided again from the company's
//! tickets, with the same `revtrace_core::attribute` ingest uses (after
//! late data, or when the window changes), and what a changed decision
//! writes: the event leaves its rollup row for its new one.

use super::Write;
use crate::{
    StoreError,
    rows::{Contribution, RollupKey},
    sql::Cells,
};

/// A stored event as `reattribute` reads it back.
pub(crate) struct StoredDecision<'a> {
    pub event_pk: i64,
    pub at_ms: i64,
    pub fingerprint: Option<&'a str>,
    pub faq_fingerprint: Option<&'a str>,
    pub reason: &'a str,
    pub ticket_id: Option<&'a str>,
    pub candidates: &'a str,
    pub window_ms: i64,
}

/// A changed receipt to write back.
#[derive(Clone, Debug)]
pub(crate) struct Rewrite {
    pub event_pk: i64,
    pub reason: &'static str,
    pub attributed: bool,
    pub ticket_id: Option<String>,
    pub ai_profile_id: Option<String>,
    pub message_source: Option<revtrace_core::MessageSource>,
    pub candidates: String,
    /// The ticket it was credited to before.
    pub previous_ticket_id: Option<String>,
}

/// Decides a stored event again from the company's tickets (grouped by
/// fingerprint), counts it in `report`, and returns what to write when its
/// receipt changed (decision, candidates or window).
pub(crate) fn redecide(
    stored: StoredDecision<'_>,
    tickets: &std::collections::HashMap<String, Vec<revtrace_core::TicketHistory>>,
    window_ms: i64,
    report: &mut crate::model::ReattributeReport,
) -> Result<Option<Rewrite>, StoreError> {
    let identity: Vec<&str> = stored.fingerprint.into_iter().chain(stored.faq_fingerprint).collect();
    let histories = identity.iter().flat_map(|fp| tickets.get(*fp).into_iter().flatten());
    let decision = revtrace_core::attribute(
        revtrace_core::AttributionInput { at_ms: stored.at_ms, identity: &identity, window_ms },
        histories,
    );
    // Compared as text: serializing is cheaper than parsing, and the stored
    // text was written by the same serializer.
    let candidates = serde_json::to_string(&decision.candidates).map_err(|e| StoreError::corrupt(e.to_string()))?;
    let winner = decision.winner.as_ref();
    let decision_changed =
        stored.reason != decision.reason.as_str() || stored.ticket_id != winner.map(|w| w.ticket_id.as_str());
    report.events += 1;
    if decision_changed {
        report.decisions_changed += 1;
    }
    if !(decision_changed || stored.candidates != candidates || stored.window_ms != window_ms) {
        return Ok(None);
    }
    report.receipts_rewritten += 1;
    Ok(Some(Rewrite {
        event_pk: stored.event_pk,
        reason: decision.reason.as_str(),
        attributed: decision.attributed(),
        ticket_id: winner.map(|w| w.ticket_id.clone()),
        ai_profile_id: winner.map(|w| w.ai_profile_id.clone()),
        message_source: winner.map(|w| w.message_source),
        candidates,
        previous_ticket_id: stored.ticket_id.map(str::to_owned),
    }))
}

/// The rollup row of one event, read again when its decision is written.
pub(crate) const ROLLUP_OF: &str =
    "SELECT day, cart_type, attributed, ai_profile_id, message_source, is_test, usd_cents,
        quantity_signed, refunded_cents, user_fingerprint, occurred_at_ms FROM events WHERE event_pk = $1";

/// A company's replay as it scans its events: decides each again, counts it
/// and collects the changed ones until a chunk is ready to write.
pub(crate) struct Replay<'a> {
    pub tickets: &'a std::collections::HashMap<String, Vec<revtrace_core::TicketHistory>>,
    pub window_ms: i64,
    pub dry_run: bool,
    pub total: u64,
    pub pending: Vec<Rewrite>,
}

impl Replay<'_> {
    /// Decides one stored event again; true when a chunk is ready to write.
    pub fn event(
        &mut self,
        stored: StoredDecision<'_>,
        report: &mut crate::model::ReattributeReport,
        progress: &dyn Fn(crate::model::Progress),
    ) -> Result<bool, StoreError> {
        let changed = redecide(stored, self.tickets, self.window_ms, report)?;
        if !self.dry_run {
            self.pending.extend(changed);
        }
        if report.events.is_multiple_of(10_000) {
            progress(crate::model::Progress { done: report.events, total: self.total });
        }
        Ok(self.pending.len() >= crate::sql::reattribute::CHUNK)
    }

    /// The changed decisions collected so far (none in a dry run).
    pub fn take(&mut self) -> Vec<Rewrite> {
        std::mem::take(&mut self.pending)
    }
}

/// What a changed decision writes, given the event's rollup row as it is
/// now (read in the writing transaction, so a refund that landed during the
/// replay moves with it).
pub(crate) fn rewrite(
    w: Rewrite,
    (was, contribution, owner): (RollupKey, Contribution, Owner),
    window_ms: i64,
    now_ms: i64,
) -> Result<Vec<Write>, crate::Rejection> {
    let now_key = RollupKey {
        attributed: w.attributed,
        ai_profile_id: w.ai_profile_id.clone().unwrap_or_default(),
        message_source: w.message_source,
        ..was.clone()
    };
    let mut writes = Vec::with_capacity(3);
    // A checkout that changed sides moves its net revenue in the
    // attributed part of the visitor's exposures.
    if was.attributed != now_key.attributed && was.cart_type == crate::rows::CartType::Checkout {
        let net =
            contribution.usd_cents.map_or(0, revtrace_core::UsdCents::cents) - contribution.refunded_cents.cents();
        let outcome = super::experiments::Outcome {
            attributed_cents: if now_key.attributed { net } else { -net },
            ..Default::default()
        };
        writes.extend(super::experiments::moved(
            owner.fingerprint.as_deref(),
            was.is_test,
            owner.occurred_at_ms,
            outcome,
        ));
    }
    if now_key != was {
        writes.push(Write::Rollup { key: was, sums: contribution.sums(-1)? });
        writes.push(Write::Rollup { key: now_key, sums: contribution.sums(1)? });
    }
    // The tickets that gained or lost the event read their firsts again,
    // after the event's new ticket is written.
    let moved: Vec<String> = if w.previous_ticket_id == w.ticket_id {
        Vec::new()
    } else {
        w.previous_ticket_id.iter().chain(&w.ticket_id).cloned().collect()
    };
    writes.push(Write::Redecided { rewrite: w, window_ms, decided_at_ms: now_ms });
    writes.extend(moved.into_iter().map(|ticket_id| Write::TicketFirsts { ticket_id }));
    Ok(writes)
}

/// Whose event it is and when, for the exposures it counts in.
pub(crate) struct Owner {
    pub fingerprint: Option<String>,
    pub occurred_at_ms: i64,
}

/// The rollup row an event counts in, what it adds there and whose it is,
/// from `day, cart_type, attributed, ai_profile_id, message_source,
/// is_test, usd_cents, quantity_signed, refunded_cents, user_fingerprint,
/// occurred_at_ms`.
pub(crate) fn rollup_of<R: Cells>(r: &R) -> Result<(RollupKey, Contribution, Owner), StoreError> {
    Ok((
        RollupKey {
            day: r.text(0)?,
            cart_type: crate::rows::CartType::parse(&r.text(1)?)?,
            attributed: r.flag(2)?,
            ai_profile_id: r.opt_text(3)?.unwrap_or_default(),
            message_source: crate::rows::message_source(r.opt_text(4)?)?,
            is_test: r.flag(5)?,
        },
        Contribution {
            usd_cents: r.opt_int(6)?.map(revtrace_core::UsdCents::new),
            quantity: r.opt_int(7)?.unwrap_or_default(),
            refunded_cents: revtrace_core::UsdCents::new(r.int(8)?),
        },
        Owner { fingerprint: r.opt_text(9)?, occurred_at_ms: r.int(10)? },
    ))
}
