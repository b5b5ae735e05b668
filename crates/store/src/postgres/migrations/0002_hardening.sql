-- revtrace PostgreSQL schema, version 2: idempotency ids scoped to their
-- call, rate limits. (Totals: a counter that would leave BIGINT fails its
-- statement, which the store answers as a rejected call; reports sum the
-- shards as NUMERIC.)

-- An idempotency id belongs to (company, call). Stored answers are assigned
-- to the call that made them; a 204 (cart token or visit) to both.
ALTER TABLE idempotency_keys ADD COLUMN endpoint TEXT NOT NULL DEFAULT '';
UPDATE idempotency_keys k SET endpoint = CASE
    WHEN k.status = 200 THEN 'tickets'
    WHEN k.status = 204 THEN 'cart_tokens'
    WHEN (k.body::jsonb) ? 'refund_id' THEN 'refunds'
    WHEN (SELECT e.cart_type FROM events e WHERE e.event_id = (k.body::jsonb ->> 'event_id')) = 'CART_EVENT'
        THEN 'cart_events'
    ELSE 'checkout_events'
END;
INSERT INTO idempotency_keys (company_id, endpoint, idempotency_id, request_sha256, status, body, created_at_ms)
SELECT company_id, 'visits', idempotency_id, request_sha256, status, body, created_at_ms
FROM idempotency_keys WHERE status = 204;
ALTER TABLE idempotency_keys ALTER COLUMN endpoint DROP DEFAULT;
ALTER TABLE idempotency_keys DROP CONSTRAINT idempotency_keys_pkey;
ALTER TABLE idempotency_keys ADD PRIMARY KEY (company_id, endpoint, idempotency_id);

-- Requests per minute per client address: the public key's (NULL: the
-- server's default; 0: none) and, optionally, each secret key's.
ALTER TABLE companies ADD COLUMN public_rate_per_minute INTEGER CHECK (public_rate_per_minute >= 0);
ALTER TABLE api_keys ADD COLUMN rate_per_minute INTEGER CHECK (rate_per_minute >= 0);
