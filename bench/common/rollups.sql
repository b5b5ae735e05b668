-- Rebuilds what reports read from the raw tables, for bench generators that
-- write events straight into SQLite (the service keeps these in step itself).
-- Assisted days use UTC days: the bench companies are in UTC.
DELETE FROM rollups;
-- One shard per key: generated sums stay far inside i64.
INSERT INTO rollups (company_id, day, cart_type, attributed, ai_profile_id, message_source, is_test, shard,
                     events, unconverted, usd_cents, quantity, refunded_cents)
SELECT company_id, day, cart_type, attributed, coalesce(ai_profile_id, ''), coalesce(message_source, ''), is_test, 0,
       count(*), sum(usd_cents IS NULL), coalesce(sum(usd_cents), 0), coalesce(sum(quantity_signed), 0),
       sum(refunded_cents)
FROM events GROUP BY 1, 2, 3, 4, 5, 6, 7;

INSERT INTO visitor_days (company_id, day, user_fingerprint, seen, converted)
SELECT company_id, day, user_fingerprint, 1, max(cart_type = 'CHECKOUT')
FROM events WHERE is_test = 0 AND user_fingerprint IS NOT NULL
GROUP BY 1, 2, 3
ON CONFLICT (company_id, user_fingerprint, day) DO UPDATE SET seen = 1, converted = max(converted, excluded.converted);

INSERT INTO visitor_days (company_id, day, user_fingerprint, seen, assisted)
SELECT DISTINCT t.company_id, date(m.sent_at_ms / 1000, 'unixepoch'), t.fingerprint, 0, 1
FROM messages m JOIN tickets t ON t.ticket_pk = m.ticket_pk
WHERE m.role = 'ai' AND m.has_answer_found = 1
ON CONFLICT (company_id, user_fingerprint, day) DO UPDATE SET assisted = 1;
-- Then crates/store/src/sqlite/migrations/visitor_counts.sql derives the visitor counts.
