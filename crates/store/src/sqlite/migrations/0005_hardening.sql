-- revtrace SQLite schema, version 5: exact totals, idempotency ids scoped to
-- their call, rate limits.

-- Rollup rows gain a `shard`, as on PostgreSQL: one key may span several
-- rows, each within i64, and reports add them up exactly (in i128). Writes
-- go to shard 0; one that would take a sum past i64 (which SQLite would
-- silently turn into a float) is refused by a trigger and goes to the next
-- shard (rollups.rs). Rows that already hold a float are rebuilt from their
-- events in migrate.rs; the triggers come after that.
CREATE TABLE rollups_v5 (
    company_id     TEXT NOT NULL,
    day            TEXT NOT NULL,
    cart_type      TEXT NOT NULL CHECK (cart_type IN ('CART_EVENT', 'CHECKOUT')),
    attributed     INTEGER NOT NULL,
    ai_profile_id  TEXT NOT NULL,
    message_source TEXT NOT NULL,
    is_test        INTEGER NOT NULL,
    shard          INTEGER NOT NULL DEFAULT 0,
    events         INTEGER NOT NULL,
    unconverted    INTEGER NOT NULL,
    usd_cents      INTEGER NOT NULL,
    quantity       INTEGER NOT NULL,
    refunded_cents INTEGER NOT NULL,
    PRIMARY KEY (company_id, day, cart_type, attributed, ai_profile_id, message_source, is_test, shard)
) WITHOUT ROWID;
INSERT INTO rollups_v5 (company_id, day, cart_type, attributed, ai_profile_id, message_source, is_test, shard,
                        events, unconverted, usd_cents, quantity, refunded_cents)
SELECT company_id, day, cart_type, attributed, ai_profile_id, message_source, is_test, 0,
       events, unconverted, usd_cents, quantity, refunded_cents
FROM rollups;
DROP TABLE rollups;
ALTER TABLE rollups_v5 RENAME TO rollups;

-- An idempotency id belongs to (company, call): the same id on another call
-- is another key, never another call's answer. Stored answers are assigned
-- to the call that made them; a 204 (cart token or visit) to both.
CREATE TABLE idempotency_keys_v5 (
    company_id     TEXT NOT NULL,
    endpoint       TEXT NOT NULL,         -- tickets, cart_events, checkout_events, cart_tokens, visits, refunds
    idempotency_id TEXT NOT NULL,
    request_sha256 BLOB NOT NULL,
    status         INTEGER NOT NULL,
    body           TEXT NOT NULL,
    created_at_ms  INTEGER NOT NULL,
    PRIMARY KEY (company_id, endpoint, idempotency_id)
) WITHOUT ROWID;
INSERT INTO idempotency_keys_v5
SELECT k.company_id,
       CASE
           WHEN k.status = 200 THEN 'tickets'
           WHEN json_extract(k.body, '$.refund_id') IS NOT NULL THEN 'refunds'
           WHEN (SELECT e.cart_type FROM events e WHERE e.event_id = json_extract(k.body, '$.event_id')) = 'CART_EVENT'
               THEN 'cart_events'
           ELSE 'checkout_events'
       END,
       k.idempotency_id, k.request_sha256, k.status, k.body, k.created_at_ms
FROM idempotency_keys k WHERE k.status <> 204;
INSERT INTO idempotency_keys_v5
SELECT company_id, e.endpoint, idempotency_id, request_sha256, status, body, created_at_ms
FROM idempotency_keys, (SELECT 'cart_tokens' AS endpoint UNION ALL SELECT 'visits') e WHERE status = 204;
DROP TABLE idempotency_keys;
ALTER TABLE idempotency_keys_v5 RENAME TO idempotency_keys;

-- Rate limits, in requests per minute per client address: the public key's
-- (NULL: the server's default; 0: none) and, optionally, each secret key's.
ALTER TABLE companies ADD COLUMN public_rate_per_minute INTEGER CHECK (public_rate_per_minute >= 0);
ALTER TABLE api_keys ADD COLUMN rate_per_minute INTEGER CHECK (rate_per_minute >= 0);
