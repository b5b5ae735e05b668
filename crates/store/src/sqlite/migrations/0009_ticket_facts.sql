-- What the funnel reads per conversation, kept by the engine as messages
-- arrive: the first message's instant, the message source, whether a
-- grounded AI answer is among the messages.
ALTER TABLE tickets ADD COLUMN first_message_ms INTEGER;
ALTER TABLE tickets ADD COLUMN message_source TEXT
    CHECK (message_source IN ('CHAT_WIDGET', 'FAQ', 'NUDGE_CLICK'));
ALTER TABLE tickets ADD COLUMN grounded INTEGER NOT NULL DEFAULT 0;

-- The stored tickets, once. This mirrors revtrace_core::classify and
-- MessageFact::is_grounded_answer; from now on the engine writes them.
UPDATE tickets SET
    first_message_ms = (SELECT min(m.sent_at_ms) FROM messages m WHERE m.ticket_pk = tickets.ticket_pk),
    grounded = EXISTS (SELECT 1 FROM messages m
                       WHERE m.ticket_pk = tickets.ticket_pk AND m.role = 'ai' AND m.has_answer_found = 1),
    message_source = CASE
        WHEN channel = 'faq' THEN 'FAQ'
        WHEN (SELECT m.nudge_id FROM messages m WHERE m.ticket_pk = tickets.ticket_pk
              ORDER BY m.sent_at_ms, m.message_id LIMIT 1) IS NOT NULL THEN 'NUDGE_CLICK'
        ELSE 'CHAT_WIDGET' END;

CREATE INDEX tickets_by_first_message ON tickets (company_id, first_message_ms);
