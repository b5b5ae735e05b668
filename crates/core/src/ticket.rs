//! Tickets and their messages: source classification (SPEC §2) and what
//! makes a ticket qualify (an AI message with a grounded answer).

use serde::{Deserialize, Serialize};

/// Where the conversation took place.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum Channel {
    Chat,
    Faq,
}

/// Who wrote a message.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Shopper,
    Ai,
    HumanAgent,
}

/// The surface a ticket is credited to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum MessageSource {
    ChatWidget,
    Faq,
    NudgeClick,
}

impl MessageSource {
    pub const ALL: [MessageSource; 3] = [Self::ChatWidget, Self::Faq, Self::NudgeClick];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::ChatWidget => "CHAT_WIDGET",
            Self::Faq => "FAQ",
            Self::NudgeClick => "NUDGE_CLICK",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == raw)
    }
}

impl Channel {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Chat => "chat",
            Self::Faq => "faq",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "chat" => Some(Self::Chat),
            "faq" => Some(Self::Faq),
            _ => None,
        }
    }
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Shopper => "shopper",
            Self::Ai => "ai",
            Self::HumanAgent => "human_agent",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "shopper" => Some(Self::Shopper),
            "ai" => Some(Self::Ai),
            "human_agent" => Some(Self::HumanAgent),
            _ => None,
        }
    }
}

/// What the rules need to know of one message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MessageFact {
    pub message_id: String,
    pub sent_at_ms: i64,
    pub role: Role,
    /// Only meaningful on AI messages; `None` when the field was absent.
    pub has_answer_found: Option<bool>,
    /// `metadata.nudge_id` when it is a non-empty string, else `None`.
    pub nudge_id: Option<String>,
}

impl MessageFact {
    /// Rule 2: an AI message with `has_answer_found = true`.
    pub fn is_grounded_answer(&self) -> bool {
        self.role == Role::Ai && self.has_answer_found == Some(true)
    }
}

/// The first message: earliest `sent_at`, ties by `message_id` bytewise.
pub fn first_message<'a>(messages: impl IntoIterator<Item = &'a MessageFact>) -> Option<&'a MessageFact> {
    messages
        .into_iter()
        .min_by(|a, b| (a.sent_at_ms, a.message_id.as_bytes()).cmp(&(b.sent_at_ms, b.message_id.as_bytes())))
}

/// SPEC §2: `FAQ` for the faq channel, else `NUDGE_CLICK` when the first
/// message carries a nudge id, else `CHAT_WIDGET`.
pub fn classify(channel: Channel, messages: &[MessageFact]) -> MessageSource {
    source_of(channel, first_message(messages))
}

/// SPEC §2, given the ticket's first message.
pub fn source_of(channel: Channel, first: Option<&MessageFact>) -> MessageSource {
    match (channel, first) {
        (Channel::Faq, _) => MessageSource::Faq,
        (Channel::Chat, Some(first)) if first.nudge_id.is_some() => MessageSource::NudgeClick,
        (Channel::Chat, _) => MessageSource::ChatWidget,
    }
}

/// Whether any message up to `at_ms` (inclusive) is a grounded AI answer.
pub fn qualifies(messages: &[MessageFact], at_ms: i64) -> bool {
    messages.iter().any(|m| m.sent_at_ms <= at_ms && m.is_grounded_answer())
}

/// `metadata.nudge_id` as the rules read it: only a non-empty string counts.
pub fn nudge_id_of(metadata: Option<&serde_json::Value>) -> Option<String> {
    match metadata?.get("nudge_id")? {
        serde_json::Value::String(s) if !s.is_empty() => Some(s.clone()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn msg(id: &str, at: i64, role: Role, answer: Option<bool>, nudge: Option<&str>) -> MessageFact {
        MessageFact {
            message_id: id.into(),
            sent_at_ms: at,
            role,
            has_answer_found: answer,
            nudge_id: nudge.map(str::to_owned),
        }
    }

    #[test]
    fn faq_channel_wins_over_a_nudge() {
        let m = [msg("a", 1, Role::Shopper, None, Some("n1"))];
        assert_eq!(classify(Channel::Faq, &m), MessageSource::Faq);
    }

    #[test]
    fn a_nudge_on_the_first_message_makes_a_nudge_click() {
        let m = [msg("b", 2, Role::Ai, Some(true), None), msg("a", 1, Role::Shopper, None, Some("n1"))];
        assert_eq!(classify(Channel::Chat, &m), MessageSource::NudgeClick);
    }

    #[test]
    fn a_nudge_on_a_later_message_does_not_count() {
        let m = [msg("a", 1, Role::Shopper, None, None), msg("b", 2, Role::Ai, Some(true), Some("n1"))];
        assert_eq!(classify(Channel::Chat, &m), MessageSource::ChatWidget);
    }

    #[test]
    fn first_message_ties_break_by_message_id_bytewise() {
        let m = [msg("m2", 5, Role::Shopper, None, None), msg("M9", 5, Role::Shopper, None, Some("n"))];
        // "M9" < "m2" bytewise (upper case sorts first).
        assert_eq!(first_message(&m).unwrap().message_id, "M9");
        assert_eq!(classify(Channel::Chat, &m), MessageSource::NudgeClick);
    }

    #[test]
    fn only_a_non_empty_string_is_a_nudge_id() {
        assert_eq!(nudge_id_of(Some(&json!({"nudge_id": "n-7"}))), Some("n-7".into()));
        assert_eq!(nudge_id_of(Some(&json!({"nudge_id": ""}))), None);
        assert_eq!(nudge_id_of(Some(&json!({"nudge_id": 7}))), None);
        assert_eq!(nudge_id_of(Some(&json!({"nudge_id": null}))), None);
        assert_eq!(nudge_id_of(None), None);
    }

    #[test]
    fn human_agents_and_unflagged_ai_messages_never_qualify() {
        let m = [
            msg("a", 1, Role::HumanAgent, Some(true), None),
            msg("b", 2, Role::Ai, None, None),
            msg("c", 3, Role::Ai, Some(false), None),
        ];
        assert!(!qualifies(&m, 10));
        let m2 = [msg("d", 4, Role::Ai, Some(true), None)];
        assert!(qualifies(&m2, 4));
        assert!(!qualifies(&m2, 3));
    }
}
