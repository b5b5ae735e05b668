-- `events.refunds_pending` (migration 2) was never read or written: refunds
-- that wait for their order live in `refunds` (applied = 0). PostgreSQL's
-- schema never had it; the schema guard test found the difference.
ALTER TABLE events DROP COLUMN refunds_pending;
