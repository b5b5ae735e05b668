-- What the funnel reads per conversation, kept by the engine as messages
-- and events arrive: the first message's instant, the message source,
-- whether a grounded AI answer is among the messages, and the first credited
-- (non-test) cart add and checkout.
ALTER TABLE tickets ADD COLUMN first_message_ms BIGINT;
ALTER TABLE tickets ADD COLUMN message_source TEXT
    CHECK (message_source IN ('CHAT_WIDGET', 'FAQ', 'NUDGE_CLICK'));
ALTER TABLE tickets ADD COLUMN grounded BOOLEAN NOT NULL DEFAULT false;
ALTER TABLE tickets ADD COLUMN first_cart_ms BIGINT;
ALTER TABLE tickets ADD COLUMN first_checkout_ms BIGINT;

-- The stored tickets, once. This mirrors revtrace_core::classify and
-- MessageFact::is_grounded_answer (ties by message_id bytewise: COLLATE "C");
-- from now on the engine writes them. The firsts follow (sql/ticket_firsts.sql,
-- appended by migrate.rs).
UPDATE tickets SET
    first_message_ms = (SELECT min(m.sent_at_ms) FROM messages m WHERE m.ticket_pk = tickets.ticket_pk),
    grounded = EXISTS (SELECT 1 FROM messages m
                       WHERE m.ticket_pk = tickets.ticket_pk AND m.role = 'ai' AND m.has_answer_found),
    message_source = CASE
        WHEN channel = 'faq' THEN 'FAQ'
        WHEN (SELECT m.nudge_id FROM messages m WHERE m.ticket_pk = tickets.ticket_pk
              ORDER BY m.sent_at_ms, m.message_id COLLATE "C" LIMIT 1) IS NOT NULL THEN 'NUDGE_CLICK'
        ELSE 'CHAT_WIDGET' END;

-- Covering: the funnel of a range is one index range scan.
CREATE INDEX tickets_by_first_message ON tickets
    (company_id, first_message_ms, message_source, ai_profile_id, grounded, first_cart_ms, first_checkout_ms);
