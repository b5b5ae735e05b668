//! The attribution decision (SPEC §3): the one place the rules live.

use serde::{Deserialize, Serialize};

use crate::ticket::{Channel, MessageFact, MessageSource, first_message, source_of};

/// Everything known of one ticket: its identity and its messages.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TicketHistory {
    pub ticket_id: String,
    pub ai_profile_id: String,
    pub channel: Channel,
    pub fingerprint: String,
    pub messages: Vec<MessageFact>,
}

/// The event being decided: its time, identity set and the company's window.
#[derive(Clone, Copy, Debug)]
pub struct AttributionInput<'a> {
    pub at_ms: i64,
    /// `user_fingerprint` plus `user_faq_fingerprint` when given.
    pub identity: &'a [&'a str],
    pub window_ms: i64,
}

/// Why an event was or was not attributed; the first that applies wins.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Reason {
    NoFingerprint,
    NoTicket,
    NoAnswerFound,
    OutsideWindow,
    Attributed,
}

impl Reason {
    pub const ALL: [Reason; 5] =
        [Self::NoFingerprint, Self::NoTicket, Self::NoAnswerFound, Self::OutsideWindow, Self::Attributed];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::NoFingerprint => "NO_FINGERPRINT",
            Self::NoTicket => "NO_TICKET",
            Self::NoAnswerFound => "NO_ANSWER_FOUND",
            Self::OutsideWindow => "OUTSIDE_WINDOW",
            Self::Attributed => "ATTRIBUTED",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.as_str() == raw)
    }
}

/// One candidate ticket as the decision saw it: the audit trail of a decision.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Candidate {
    pub ticket_id: String,
    pub fingerprint: String,
    pub message_source: MessageSource,
    pub first_message_at_ms: i64,
    /// Latest message at or before the event.
    pub last_touch_at_ms: i64,
    /// Event time minus last touch.
    pub distance_ms: i64,
    /// Has a grounded AI answer at or before the event.
    pub qualifies: bool,
    pub in_window: bool,
}

/// The ticket an attributed event is credited to.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Winner {
    pub ticket_id: String,
    pub ai_profile_id: String,
    pub message_source: MessageSource,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Decision {
    pub reason: Reason,
    pub winner: Option<Winner>,
    /// Candidate tickets in first-touch order (the winner, when any, is among them).
    pub candidates: Vec<Candidate>,
}

impl Decision {
    pub fn attributed(&self) -> bool {
        self.winner.is_some()
    }
}

/// Decides one commerce event against the conversation history.
///
/// A pure function of the event and the messages sent at or before it, so
/// ingesting in time order and replaying stored history agree. `tickets` may
/// hold tickets of other fingerprints; they are ignored.
pub fn attribute<'t>(input: AttributionInput<'_>, tickets: impl IntoIterator<Item = &'t TicketHistory>) -> Decision {
    if input.identity.is_empty() {
        return Decision { reason: Reason::NoFingerprint, winner: None, candidates: Vec::new() };
    }

    let mut seen: Vec<(&TicketHistory, Candidate)> = Vec::new();
    for ticket in tickets {
        if !input.identity.contains(&ticket.fingerprint.as_str()) {
            continue;
        }
        // Only messages at or before the event count; a candidate has one (rule 1).
        let known = || ticket.messages.iter().filter(|m| m.sent_at_ms <= input.at_ms);
        let Some(first) = first_message(known()) else {
            continue;
        };
        let last_touch = known().map(|m| m.sent_at_ms).max().unwrap_or(first.sent_at_ms);
        let distance_ms = input.at_ms - last_touch;
        let qualifies = known().any(MessageFact::is_grounded_answer);
        seen.push((
            ticket,
            Candidate {
                ticket_id: ticket.ticket_id.clone(),
                fingerprint: ticket.fingerprint.clone(),
                message_source: source_of(ticket.channel, Some(first)),
                first_message_at_ms: first.sent_at_ms,
                last_touch_at_ms: last_touch,
                distance_ms,
                qualifies,
                in_window: qualifies && distance_ms <= input.window_ms,
            },
        ));
    }
    // First touch: earliest first message, ties by ticket id bytewise (rule 3).
    seen.sort_by(|(_, a), (_, b)| {
        (a.first_message_at_ms, a.ticket_id.as_bytes()).cmp(&(b.first_message_at_ms, b.ticket_id.as_bytes()))
    });

    let reason = if seen.is_empty() {
        Reason::NoTicket
    } else if !seen.iter().any(|(_, c)| c.qualifies) {
        Reason::NoAnswerFound
    } else if !seen.iter().any(|(_, c)| c.in_window) {
        Reason::OutsideWindow
    } else {
        Reason::Attributed
    };
    let winner = seen.iter().find(|(_, c)| c.in_window).map(|(ticket, c)| Winner {
        ticket_id: c.ticket_id.clone(),
        ai_profile_id: ticket.ai_profile_id.clone(),
        message_source: c.message_source,
    });
    Decision { reason, winner, candidates: seen.into_iter().map(|(_, c)| c).collect() }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ticket::Role;

    const HOUR: i64 = 3_600_000;
    const WINDOW: i64 = 24 * HOUR;

    fn m(id: &str, at: i64, role: Role, answer: Option<bool>) -> MessageFact {
        MessageFact { message_id: id.into(), sent_at_ms: at, role, has_answer_found: answer, nudge_id: None }
    }

    fn grounded_ticket(id: &str, fp: &str, asked: i64, answered: i64) -> TicketHistory {
        TicketHistory {
            ticket_id: id.into(),
            ai_profile_id: "default".into(),
            channel: Channel::Chat,
            fingerprint: fp.into(),
            messages: vec![m("q", asked, Role::Shopper, None), m("a", answered, Role::Ai, Some(true))],
        }
    }

    fn decide(at: i64, identity: &[&str], tickets: &[TicketHistory]) -> Decision {
        attribute(AttributionInput { at_ms: at, identity, window_ms: WINDOW }, tickets)
    }

    #[test]
    fn no_fingerprint() {
        let t = [grounded_ticket("T1", "fp", 0, 1)];
        assert_eq!(decide(10, &[], &t).reason, Reason::NoFingerprint);
    }

    #[test]
    fn no_ticket_when_no_ticket_shares_the_fingerprint() {
        let t = [grounded_ticket("T1", "other", 0, 1)];
        let d = decide(10, &["fp"], &t);
        assert_eq!(d.reason, Reason::NoTicket);
        assert!(d.candidates.is_empty());
    }

    #[test]
    fn a_ticket_that_starts_after_the_event_is_no_candidate() {
        let t = [grounded_ticket("T1", "fp", 20, 21)];
        assert_eq!(decide(10, &["fp"], &t).reason, Reason::NoTicket);
    }

    #[test]
    fn no_answer_found_when_the_answer_comes_after_the_event() {
        let t = [grounded_ticket("T1", "fp", 0, 20)];
        let d = decide(10, &["fp"], &t);
        assert_eq!(d.reason, Reason::NoAnswerFound);
        assert_eq!(d.candidates[0].last_touch_at_ms, 0, "messages after the event are ignored");
    }

    #[test]
    fn the_window_boundary_is_inclusive() {
        let t = [grounded_ticket("T1", "fp", 0, HOUR)];
        let at_edge = decide(HOUR + WINDOW, &["fp"], &t);
        assert_eq!(at_edge.reason, Reason::Attributed);
        assert_eq!(at_edge.winner.unwrap().ticket_id, "T1");
        assert_eq!(decide(HOUR + WINDOW + 1, &["fp"], &t).reason, Reason::OutsideWindow);
    }

    #[test]
    fn the_faq_fingerprint_is_part_of_the_identity() {
        let mut faq = grounded_ticket("F1", "faq-fp", 0, 1);
        faq.channel = Channel::Faq;
        let d = decide(10, &["web-fp", "faq-fp"], &[faq]);
        assert_eq!(d.reason, Reason::Attributed);
        assert_eq!(d.winner.unwrap().message_source, MessageSource::Faq);
    }

    #[test]
    fn first_touch_wins_across_surfaces() {
        let mut faq = grounded_ticket("F1", "faq-fp", 100, 101);
        faq.channel = Channel::Faq;
        let chat = grounded_ticket("C1", "fp", 50, 200);
        let d = decide(300, &["fp", "faq-fp"], &[faq, chat]);
        assert_eq!(d.winner.unwrap().ticket_id, "C1");
        assert_eq!(d.candidates.len(), 2);
    }

    #[test]
    fn first_touch_ties_break_by_ticket_id() {
        let d = decide(300, &["fp"], &[grounded_ticket("b", "fp", 50, 60), grounded_ticket("a", "fp", 50, 70)]);
        assert_eq!(d.winner.unwrap().ticket_id, "a");
    }

    #[test]
    fn an_early_ticket_outside_the_window_yields_to_a_later_one_inside() {
        let old = grounded_ticket("OLD", "fp", 0, 1);
        let new = grounded_ticket("NEW", "fp", 30 * HOUR, 30 * HOUR + 1);
        let d = decide(31 * HOUR, &["fp"], &[old, new]);
        assert_eq!(d.winner.unwrap().ticket_id, "NEW");
    }

    #[test]
    fn a_later_shopper_message_moves_the_last_touch() {
        let mut t = grounded_ticket("T1", "fp", 0, 1);
        t.messages.push(m("later", 20 * HOUR, Role::Shopper, None));
        assert_eq!(decide(40 * HOUR, &["fp"], &[t]).reason, Reason::Attributed);
    }

    #[test]
    fn human_agent_answers_never_qualify() {
        let mut t = grounded_ticket("T1", "fp", 0, 1);
        t.messages[1].role = Role::HumanAgent;
        assert_eq!(decide(10, &["fp"], &[t]).reason, Reason::NoAnswerFound);
    }

    #[test]
    fn reasons_round_trip_through_text() {
        for r in Reason::ALL {
            assert_eq!(Reason::parse(r.as_str()), Some(r));
        }
    }
}
