-- revtrace SQLite schema, version 3: connected Shopify stores.

-- A shop domain belongs to one company. The webhook signing secret must be
-- kept as is (it is an HMAC key); up to two are live at once, for rotation.
CREATE TABLE shopify_stores (
    shop_domain          TEXT PRIMARY KEY,
    company_id           TEXT NOT NULL REFERENCES companies (company_id),
    ai_profile_id        TEXT NOT NULL DEFAULT 'default',
    fingerprint_property TEXT NOT NULL DEFAULT '_revtrace_fingerprint',
    revenue_basis        TEXT NOT NULL DEFAULT 'total_price' CHECK (revenue_basis IN ('total_price', 'subtotal_price')),
    connected_at_ms      INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TABLE shopify_secrets (
    shop_domain   TEXT NOT NULL REFERENCES shopify_stores (shop_domain),
    secret        TEXT NOT NULL,
    added_at_ms   INTEGER NOT NULL,
    PRIMARY KEY (shop_domain, secret)
) WITHOUT ROWID;

-- Every processed delivery, so a repeat (Shopify delivers at least once) is
-- answered without doing anything again.
CREATE TABLE shopify_deliveries (
    shop_domain   TEXT NOT NULL,
    webhook_id    TEXT NOT NULL,
    topic         TEXT NOT NULL,
    outcome       TEXT NOT NULL,
    received_at_ms INTEGER NOT NULL,
    PRIMARY KEY (shop_domain, webhook_id)
) WITHOUT ROWID;

-- Which shop an order came from (shop/redact erases a shop's orders), and
-- the amount in the buyer's currency as Shopify presented it.
ALTER TABLE events ADD COLUMN shop_domain TEXT;
ALTER TABLE events ADD COLUMN presentment_currency TEXT;
ALTER TABLE events ADD COLUMN presentment_amount TEXT;
CREATE INDEX events_by_shop ON events (shop_domain) WHERE shop_domain IS NOT NULL;

-- Cancelled orders (orders/cancelled), whether or not the order is stored yet.
CREATE TABLE cancellations (
    company_id      TEXT NOT NULL,
    order_id        TEXT NOT NULL,
    cancelled_at_ms INTEGER NOT NULL,
    PRIMARY KEY (company_id, order_id)
) WITHOUT ROWID;

-- customers/data_request and the redactions done, for `revtrace privacy`.
CREATE TABLE privacy_requests (
    request_pk     INTEGER PRIMARY KEY,
    company_id     TEXT NOT NULL,
    shop_domain    TEXT,
    kind           TEXT NOT NULL,         -- data_request, customer_redact, shop_redact, erase
    payload        TEXT NOT NULL,
    received_at_ms INTEGER NOT NULL
);
