-- revtrace PostgreSQL schema, version 1: the same tables and meaning as the
-- SQLite schema at its version 4 (see ../../sqlite/migrations), with two
-- changes for many writers at once:
--  * the counters every write touches (`rollups`, `visitor_counts`) carry a
--    `shard` in their key, so concurrent transactions add to different rows
--    instead of queueing on one; reports sum the shards;
--  * multi-day visitors are folded in SQL from `multi_visitor_days` (no
--    per-day packed text, which would be one more row every writer of a day
--    rewrites).
-- Instants are epoch milliseconds (UTC); USD values are integer cents after
-- one round-half-even; original amounts and multipliers are exact decimal
-- text; days are the company's reporting days as YYYY-MM-DD.
-- Every uniqueness rule of the SPEC is a constraint here.

CREATE TABLE companies (
    company_id    TEXT PRIMARY KEY,
    name          TEXT NOT NULL,
    timezone      TEXT NOT NULL DEFAULT 'UTC',
    window_ms     BIGINT NOT NULL DEFAULT 86400000 CHECK (window_ms >= 0),
    company_key   TEXT NOT NULL UNIQUE,
    created_at_ms BIGINT NOT NULL
);

-- Secret keys are kept only as SHA-256 digests.
CREATE TABLE api_keys (
    key_sha256    TEXT PRIMARY KEY,
    company_id    TEXT NOT NULL REFERENCES companies (company_id),
    key_prefix    TEXT NOT NULL,
    created_at_ms BIGINT NOT NULL
);

CREATE TABLE currency_rates (
    currency       TEXT NOT NULL,
    effective_from TEXT NOT NULL,
    usd_multiplier TEXT NOT NULL,
    source         TEXT NOT NULL,
    PRIMARY KEY (currency, effective_from)
);

CREATE TABLE tickets (
    ticket_pk     BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    company_id    TEXT NOT NULL REFERENCES companies (company_id),
    ticket_id     TEXT NOT NULL,
    ai_profile_id TEXT NOT NULL,
    channel       TEXT NOT NULL CHECK (channel IN ('chat', 'faq')),
    fingerprint   TEXT NOT NULL,
    created_at_ms BIGINT NOT NULL,
    UNIQUE (company_id, ticket_id)
);
CREATE INDEX tickets_by_fingerprint ON tickets (company_id, fingerprint);

CREATE TABLE messages (
    ticket_pk        BIGINT NOT NULL REFERENCES tickets (ticket_pk),
    message_id       TEXT NOT NULL,
    sent_at_ms       BIGINT NOT NULL,
    role             TEXT NOT NULL CHECK (role IN ('shopper', 'ai', 'human_agent')),
    has_answer_found BOOLEAN,
    nudge_id         TEXT,
    text             TEXT,
    metadata         TEXT,
    product_ids      TEXT,
    PRIMARY KEY (ticket_pk, message_id)
);

CREATE TABLE events (
    event_pk             BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    event_id             TEXT NOT NULL UNIQUE,
    company_id           TEXT NOT NULL REFERENCES companies (company_id),
    cart_type            TEXT NOT NULL CHECK (cart_type IN ('CART_EVENT', 'CHECKOUT')),
    source_category      TEXT NOT NULL CHECK (source_category IN ('SHOPIFY', 'SDK', 'API')),
    occurred_at_ms       BIGINT NOT NULL,
    day                  TEXT NOT NULL,
    received_at_ms       BIGINT NOT NULL,
    user_fingerprint     TEXT,
    user_faq_fingerprint TEXT,
    event_type           TEXT,
    product_id           TEXT,
    variant_id           TEXT,
    quantity_signed      BIGINT,
    unit_price           TEXT,
    order_id             TEXT,
    cart_token           TEXT,
    amount               TEXT NOT NULL,
    currency             TEXT NOT NULL,
    usd_multiplier       TEXT,
    rate_effective_from  TEXT,
    rate_source          TEXT,
    usd_cents            BIGINT,
    refunded_cents       BIGINT NOT NULL DEFAULT 0,
    is_test              BOOLEAN NOT NULL DEFAULT false,
    reason               TEXT NOT NULL,
    attributed           BOOLEAN NOT NULL,
    ticket_id            TEXT,
    ai_profile_id        TEXT,
    message_source       TEXT,
    window_ms            BIGINT NOT NULL,
    candidates           TEXT NOT NULL,
    decided_at_ms        BIGINT NOT NULL,
    decided_by           TEXT NOT NULL,
    shop_domain          TEXT,
    presentment_currency TEXT,
    presentment_amount   TEXT
);
CREATE UNIQUE INDEX events_order_per_company ON events (company_id, order_id) WHERE order_id IS NOT NULL;
CREATE INDEX events_by_company_time ON events (company_id, occurred_at_ms);
CREATE INDEX events_by_ticket ON events (company_id, ticket_id, occurred_at_ms) WHERE ticket_id IS NOT NULL;
CREATE INDEX events_by_shop ON events (shop_domain) WHERE shop_domain IS NOT NULL;

CREATE TABLE line_items (
    event_pk   BIGINT NOT NULL REFERENCES events (event_pk),
    position   BIGINT NOT NULL,
    product_id TEXT NOT NULL,
    variant_id TEXT,
    sku        TEXT,
    title      TEXT,
    quantity   BIGINT NOT NULL,
    unit_price TEXT NOT NULL,
    PRIMARY KEY (event_pk, position)
);

CREATE TABLE cart_positions (
    company_id       TEXT NOT NULL,
    user_fingerprint TEXT NOT NULL,
    product_id       TEXT NOT NULL,
    variant_key      TEXT NOT NULL,
    net_quantity     BIGINT NOT NULL CHECK (net_quantity >= 0),
    PRIMARY KEY (company_id, user_fingerprint, product_id, variant_key)
);

CREATE TABLE idempotency_keys (
    company_id     TEXT NOT NULL,
    idempotency_id TEXT NOT NULL,
    request_sha256 BYTEA NOT NULL,
    status         INTEGER NOT NULL,
    body           TEXT NOT NULL,
    created_at_ms  BIGINT NOT NULL,
    PRIMARY KEY (company_id, idempotency_id)
);

CREATE TABLE cart_tokens (
    company_id       TEXT NOT NULL,
    cart_token       TEXT NOT NULL,
    user_fingerprint TEXT NOT NULL,
    updated_at_ms    BIGINT NOT NULL,
    PRIMARY KEY (company_id, cart_token)
);

CREATE TABLE rollups (
    company_id     TEXT NOT NULL,
    day            TEXT NOT NULL,
    cart_type      TEXT NOT NULL CHECK (cart_type IN ('CART_EVENT', 'CHECKOUT')),
    attributed     BOOLEAN NOT NULL,
    ai_profile_id  TEXT NOT NULL,
    message_source TEXT NOT NULL,
    is_test        BOOLEAN NOT NULL,
    shard          SMALLINT NOT NULL,
    events         BIGINT NOT NULL,
    unconverted    BIGINT NOT NULL,
    usd_cents      BIGINT NOT NULL,
    quantity       BIGINT NOT NULL,
    refunded_cents BIGINT NOT NULL,
    PRIMARY KEY (company_id, day, cart_type, attributed, ai_profile_id, message_source, is_test, shard)
);

CREATE TABLE refunds (
    company_id    TEXT NOT NULL,
    refund_id     TEXT NOT NULL,
    order_id      TEXT NOT NULL,
    amount        TEXT NOT NULL,
    currency      TEXT,
    usd_cents     BIGINT,
    applied       BOOLEAN NOT NULL DEFAULT false,
    created_at_ms BIGINT NOT NULL,
    PRIMARY KEY (company_id, refund_id)
);
CREATE INDEX refunds_by_order ON refunds (company_id, order_id);

CREATE TABLE products (
    company_id    TEXT NOT NULL REFERENCES companies (company_id),
    product_id    TEXT NOT NULL,
    title         TEXT,
    image_url     TEXT,
    url           TEXT,
    updated_at_ms BIGINT NOT NULL,
    PRIMARY KEY (company_id, product_id)
);

CREATE TABLE visitor_days (
    company_id       TEXT NOT NULL,
    user_fingerprint TEXT NOT NULL,
    day              TEXT NOT NULL,
    seen             BOOLEAN NOT NULL DEFAULT false,
    assisted         BOOLEAN NOT NULL DEFAULT false,
    converted        BOOLEAN NOT NULL DEFAULT false,
    multi            BOOLEAN NOT NULL DEFAULT false,
    PRIMARY KEY (company_id, user_fingerprint, day)
);

CREATE TABLE multi_visitors (
    visitor_id  BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    company_id  TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    UNIQUE (company_id, fingerprint)
);
CREATE TABLE multi_visitor_days (
    company_id TEXT NOT NULL,
    day        TEXT NOT NULL,
    visitor_id BIGINT NOT NULL,
    flags      SMALLINT NOT NULL,
    PRIMARY KEY (company_id, day, visitor_id)
);
CREATE TABLE visitor_counts (
    company_id TEXT NOT NULL,
    day        TEXT NOT NULL,
    seen       BOOLEAN NOT NULL,
    assisted   BOOLEAN NOT NULL,
    converted  BOOLEAN NOT NULL,
    shard      SMALLINT NOT NULL,
    visitors   BIGINT NOT NULL,
    PRIMARY KEY (company_id, day, seen, assisted, converted, shard)
);

CREATE TABLE shopify_stores (
    shop_domain          TEXT PRIMARY KEY,
    company_id           TEXT NOT NULL REFERENCES companies (company_id),
    ai_profile_id        TEXT NOT NULL DEFAULT 'default',
    fingerprint_property TEXT NOT NULL DEFAULT '_revtrace_fingerprint',
    revenue_basis        TEXT NOT NULL DEFAULT 'total_price' CHECK (revenue_basis IN ('total_price', 'subtotal_price')),
    connected_at_ms      BIGINT NOT NULL
);

CREATE TABLE shopify_secrets (
    shop_domain TEXT NOT NULL REFERENCES shopify_stores (shop_domain),
    secret      TEXT NOT NULL,
    added_at_ms BIGINT NOT NULL,
    PRIMARY KEY (shop_domain, secret)
);

CREATE TABLE shopify_deliveries (
    shop_domain    TEXT NOT NULL,
    webhook_id     TEXT NOT NULL,
    topic          TEXT NOT NULL,
    outcome        TEXT NOT NULL,
    received_at_ms BIGINT NOT NULL,
    PRIMARY KEY (shop_domain, webhook_id)
);

CREATE TABLE cancellations (
    company_id      TEXT NOT NULL,
    order_id        TEXT NOT NULL,
    cancelled_at_ms BIGINT NOT NULL,
    PRIMARY KEY (company_id, order_id)
);

CREATE TABLE privacy_requests (
    request_pk     BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    company_id     TEXT NOT NULL,
    shop_domain    TEXT,
    kind           TEXT NOT NULL,
    payload        TEXT NOT NULL,
    received_at_ms BIGINT NOT NULL
);

CREATE TABLE allowed_origins (
    company_id TEXT NOT NULL REFERENCES companies (company_id),
    origin     TEXT NOT NULL,
    PRIMARY KEY (company_id, origin)
);
