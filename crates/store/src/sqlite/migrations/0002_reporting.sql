-- revtrace SQLite schema, version 2: what reports read.
-- Reports never scan raw events: they read `rollups` (sums per day and
-- decision) and `visitor_days` (distinct visitors), both written in the same
-- transaction as the event, the ticket message or the refund they count.

-- Where each event's USD multiplier came from (`manual`, `ecb`, ...; NULL for
-- USD and for events without a rate), and the refunds applied to it.
ALTER TABLE events ADD COLUMN rate_source TEXT;
ALTER TABLE events ADD COLUMN refunded_cents INTEGER NOT NULL DEFAULT 0;
ALTER TABLE events ADD COLUMN refunds_pending INTEGER NOT NULL DEFAULT 0;

-- Attributed events of one ticket, for the per-conversation view.
CREATE INDEX events_by_ticket ON events (company_id, ticket_id, occurred_at_ms) WHERE ticket_id IS NOT NULL;

-- One row per (company, reporting day, decision, test flag, event type).
-- Unattributed rows carry '' as profile and source.
CREATE TABLE rollups (
    company_id     TEXT NOT NULL,
    day            TEXT NOT NULL,
    cart_type      TEXT NOT NULL CHECK (cart_type IN ('CART_EVENT', 'CHECKOUT')),
    attributed     INTEGER NOT NULL,
    ai_profile_id  TEXT NOT NULL,
    message_source TEXT NOT NULL,
    is_test        INTEGER NOT NULL,
    events         INTEGER NOT NULL,       -- for checkouts, the number of orders
    unconverted    INTEGER NOT NULL,       -- events whose currency had no rate
    usd_cents      INTEGER NOT NULL,       -- signed, converted events only
    quantity       INTEGER NOT NULL,       -- signed cart quantity
    refunded_cents INTEGER NOT NULL,
    PRIMARY KEY (company_id, day, cart_type, attributed, ai_profile_id, message_source, is_test)
) WITHOUT ROWID;

-- Refunds by order. A refund may arrive before its order: it waits here with
-- `applied = 0` and is applied (in USD at the order's rate) when the order is
-- stored.
CREATE TABLE refunds (
    company_id    TEXT NOT NULL,
    refund_id     TEXT NOT NULL,
    order_id      TEXT NOT NULL,
    amount        TEXT NOT NULL,           -- in the order's currency
    currency      TEXT,
    usd_cents     INTEGER,                 -- NULL until applied, or when the order has no rate
    applied       INTEGER NOT NULL DEFAULT 0,
    created_at_ms INTEGER NOT NULL,
    PRIMARY KEY (company_id, refund_id)
) WITHOUT ROWID;
CREATE INDEX refunds_by_order ON refunds (company_id, order_id);

-- The product catalog, for the per-conversation view.
CREATE TABLE products (
    company_id    TEXT NOT NULL REFERENCES companies (company_id),
    product_id    TEXT NOT NULL,
    title         TEXT,
    image_url     TEXT,
    url           TEXT,
    updated_at_ms INTEGER NOT NULL,
    PRIMARY KEY (company_id, product_id)
) WITHOUT ROWID;

-- Visitor days now record what a conversion rate needs: whether the visitor
-- was seen that day (a visit or a non-test commerce event), was in a non-test
-- checkout's identity set, and had a grounded AI answer in a ticket. They are
-- rebuilt keyed by fingerprint first: writes look a fingerprint's days up (is
-- it active on another day?), and privacy requests find a fingerprint's
-- events through its days, so every event's fingerprints get a row, test
-- orders too (with no flag set).
CREATE TABLE visitor_days_v2 (
    company_id       TEXT NOT NULL,
    user_fingerprint TEXT NOT NULL,
    day              TEXT NOT NULL,
    seen             INTEGER NOT NULL DEFAULT 0,
    assisted         INTEGER NOT NULL DEFAULT 0,
    converted        INTEGER NOT NULL DEFAULT 0,
    -- Distinct visitors over any day range, without scanning every visitor:
    -- a fingerprint active on a single day (the common case: a fingerprint is
    -- one browser session) is only counted in `visitor_counts`, per day and
    -- flags; one active on several days is marked `multi` and mirrored below.
    multi            INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (company_id, user_fingerprint, day)
) WITHOUT ROWID;
INSERT INTO visitor_days_v2 (company_id, user_fingerprint, day, seen)
SELECT company_id, user_fingerprint, day, 1 FROM visitor_days;
DROP TABLE visitor_days;
ALTER TABLE visitor_days_v2 RENAME TO visitor_days;

-- Multi-day visitors get a small integer id, and their days are mirrored
-- as (day, id, flag bits), so a report folds a few integers per row.
CREATE TABLE multi_visitors (
    visitor_id  INTEGER PRIMARY KEY,
    company_id  TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    UNIQUE (company_id, fingerprint)
);
CREATE TABLE multi_visitor_days (
    company_id TEXT NOT NULL,
    day        TEXT NOT NULL,
    visitor_id INTEGER NOT NULL,
    flags      INTEGER NOT NULL,             -- 1 seen, 2 assisted, 4 converted
    PRIMARY KEY (company_id, day, visitor_id)
) WITHOUT ROWID;
-- The same, one text row per day: 10 hex digits per visitor (8 for its id,
-- 2 for its flags), in id order. A 90-day report reads 90 rows instead of
-- tens of thousands.
CREATE TABLE multi_visitor_packs (
    company_id TEXT NOT NULL,
    day        TEXT NOT NULL,
    pack       TEXT NOT NULL,
    PRIMARY KEY (company_id, day)
) WITHOUT ROWID;
CREATE TABLE visitor_counts (
    company_id TEXT NOT NULL,
    day        TEXT NOT NULL,
    seen       INTEGER NOT NULL,
    assisted   INTEGER NOT NULL,
    converted  INTEGER NOT NULL,
    visitors   INTEGER NOT NULL,
    PRIMARY KEY (company_id, day, seen, assisted, converted)
) WITHOUT ROWID;

-- Existing data, brought up to the new tables.
INSERT INTO rollups
SELECT company_id, day, cart_type, attributed, coalesce(ai_profile_id, ''), coalesce(message_source, ''), is_test,
       count(*), sum(usd_cents IS NULL), coalesce(sum(usd_cents), 0), coalesce(sum(quantity_signed), 0), 0
FROM events GROUP BY 1, 2, 3, 4, 5, 6, 7;

INSERT INTO visitor_days (company_id, day, user_fingerprint, seen, converted)
SELECT company_id, day, fp, max(is_test = 0), max(checkout AND is_test = 0)
FROM (SELECT company_id, day, user_fingerprint AS fp, cart_type = 'CHECKOUT' AS checkout, is_test
      FROM events WHERE user_fingerprint IS NOT NULL
      UNION ALL
      SELECT company_id, day, user_faq_fingerprint, cart_type = 'CHECKOUT', is_test
      FROM events WHERE user_faq_fingerprint IS NOT NULL)
WHERE true
GROUP BY 1, 2, 3
ON CONFLICT (company_id, user_fingerprint, day)
DO UPDATE SET seen = max(seen, excluded.seen), converted = max(converted, excluded.converted);
-- Assisted days need each company's time zone, and visitor counts need them:
-- see migrate.rs.
