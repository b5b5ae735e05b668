-- Derives every ticket's funnel facts from its messages: migration 9's backfill,
-- and bench generators that write rows directly (with sql/ticket_firsts.sql). This mirrors
-- revtrace_core::classify and MessageFact::is_grounded_answer; from then on
-- the engine writes them with every ticket ingest.
UPDATE tickets SET
    first_message_ms = (SELECT min(m.sent_at_ms) FROM messages m WHERE m.ticket_pk = tickets.ticket_pk),
    grounded = EXISTS (SELECT 1 FROM messages m
                       WHERE m.ticket_pk = tickets.ticket_pk AND m.role = 'ai' AND m.has_answer_found = 1),
    message_source = CASE
        WHEN channel = 'faq' THEN 'FAQ'
        WHEN (SELECT m.nudge_id FROM messages m WHERE m.ticket_pk = tickets.ticket_pk
              ORDER BY m.sent_at_ms, m.message_id LIMIT 1) IS NOT NULL THEN 'NUDGE_CLICK'
        ELSE 'CHAT_WIDGET' END;
