-- Derives every ticket's funnel facts from its messages: migration 9's backfill,
-- and bench generators that write rows directly. This mirrors
-- revtrace_core::classify and MessageFact::is_grounded_answer; from then on
-- the engine writes them with every ticket ingest.
UPDATE tickets SET
    first_cart_ms = (SELECT min(e.occurred_at_ms) FROM events e
                     WHERE e.company_id = tickets.company_id AND e.ticket_id = tickets.ticket_id
                       AND e.cart_type = 'CART_EVENT' AND e.event_type IN ('ITEM_ADDED', 'QUANTITY_INCREASED')
                       AND NOT e.is_test),
    first_checkout_ms = (SELECT min(e.occurred_at_ms) FROM events e
                         WHERE e.company_id = tickets.company_id AND e.ticket_id = tickets.ticket_id
                           AND e.cart_type = 'CHECKOUT' AND NOT e.is_test),
    first_message_ms = (SELECT min(m.sent_at_ms) FROM messages m WHERE m.ticket_pk = tickets.ticket_pk),
    grounded = EXISTS (SELECT 1 FROM messages m
                       WHERE m.ticket_pk = tickets.ticket_pk AND m.role = 'ai' AND m.has_answer_found = 1),
    message_source = CASE
        WHEN channel = 'faq' THEN 'FAQ'
        WHEN (SELECT m.nudge_id FROM messages m WHERE m.ticket_pk = tickets.ticket_pk
              ORDER BY m.sent_at_ms, m.message_id LIMIT 1) IS NOT NULL THEN 'NUDGE_CLICK'
        ELSE 'CHAT_WIDGET' END;
