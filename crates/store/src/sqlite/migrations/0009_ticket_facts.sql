-- What the funnel reads per conversation, kept by the engine as messages
-- and events arrive: the first message's instant, the message source,
-- whether a grounded AI answer is among the messages, and the first credited
-- (non-test) cart add and checkout. Stored tickets get theirs from
-- ticket_facts.sql (the migration's backfill).
ALTER TABLE tickets ADD COLUMN first_message_ms INTEGER;
ALTER TABLE tickets ADD COLUMN message_source TEXT
    CHECK (message_source IN ('CHAT_WIDGET', 'FAQ', 'NUDGE_CLICK'));
ALTER TABLE tickets ADD COLUMN grounded INTEGER NOT NULL DEFAULT 0;
ALTER TABLE tickets ADD COLUMN first_cart_ms INTEGER;
ALTER TABLE tickets ADD COLUMN first_checkout_ms INTEGER;

-- Covering: the funnel of a range is one index range scan.
CREATE INDEX tickets_by_first_message ON tickets
    (company_id, first_message_ms, message_source, ai_profile_id, grounded, first_cart_ms, first_checkout_ms);
