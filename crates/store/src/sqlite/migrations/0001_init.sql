-- revtrace SQLite schema, version 1.
-- Instants are epoch milliseconds (UTC); USD values are integer cents after one
-- round-half-even; original amounts and multipliers are exact decimal text.
-- Every uniqueness rule of the SPEC is a constraint here.

CREATE TABLE companies (
    company_id    TEXT PRIMARY KEY,
    name          TEXT NOT NULL,
    timezone      TEXT NOT NULL DEFAULT 'UTC',
    window_ms     INTEGER NOT NULL DEFAULT 86400000 CHECK (window_ms >= 0),
    company_key   TEXT NOT NULL UNIQUE,
    created_at_ms INTEGER NOT NULL
);

-- Secret keys are kept only as SHA-256 digests.
CREATE TABLE api_keys (
    key_sha256    TEXT PRIMARY KEY,
    company_id    TEXT NOT NULL REFERENCES companies (company_id),
    key_prefix    TEXT NOT NULL,
    created_at_ms INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TABLE currency_rates (
    currency       TEXT NOT NULL,
    effective_from TEXT NOT NULL,          -- YYYY-MM-DD, first reporting day it applies to
    usd_multiplier TEXT NOT NULL,
    source         TEXT NOT NULL,
    PRIMARY KEY (currency, effective_from)
) WITHOUT ROWID;

CREATE TABLE tickets (
    ticket_pk     INTEGER PRIMARY KEY,
    company_id    TEXT NOT NULL REFERENCES companies (company_id),
    ticket_id     TEXT NOT NULL,
    ai_profile_id TEXT NOT NULL,
    channel       TEXT NOT NULL CHECK (channel IN ('chat', 'faq')),
    fingerprint   TEXT NOT NULL,
    created_at_ms INTEGER NOT NULL,
    UNIQUE (company_id, ticket_id)
);
CREATE INDEX tickets_by_fingerprint ON tickets (company_id, fingerprint);

CREATE TABLE messages (
    ticket_pk        INTEGER NOT NULL REFERENCES tickets (ticket_pk),
    message_id       TEXT NOT NULL,
    sent_at_ms       INTEGER NOT NULL,
    role             TEXT NOT NULL CHECK (role IN ('shopper', 'ai', 'human_agent')),
    has_answer_found INTEGER,
    nudge_id         TEXT,
    text             TEXT,
    metadata         TEXT,
    product_ids      TEXT,
    PRIMARY KEY (ticket_pk, message_id)
) WITHOUT ROWID;

-- Every commerce event, attributed or not, with its decision.
CREATE TABLE events (
    event_pk             INTEGER PRIMARY KEY,
    event_id             TEXT NOT NULL UNIQUE,
    company_id           TEXT NOT NULL REFERENCES companies (company_id),
    cart_type            TEXT NOT NULL CHECK (cart_type IN ('CART_EVENT', 'CHECKOUT')),
    source_category      TEXT NOT NULL CHECK (source_category IN ('SHOPIFY', 'SDK', 'API')),
    occurred_at_ms       INTEGER NOT NULL,
    day                  TEXT NOT NULL,
    received_at_ms       INTEGER NOT NULL,
    user_fingerprint     TEXT,
    user_faq_fingerprint TEXT,
    event_type           TEXT,
    product_id           TEXT,
    variant_id           TEXT,
    quantity_signed      INTEGER,
    unit_price           TEXT,
    order_id             TEXT,
    cart_token           TEXT,
    amount               TEXT NOT NULL,
    currency             TEXT NOT NULL,
    usd_multiplier       TEXT,
    rate_effective_from  TEXT,
    usd_cents            INTEGER,
    is_test              INTEGER NOT NULL DEFAULT 0,
    reason               TEXT NOT NULL,
    attributed           INTEGER NOT NULL,
    ticket_id            TEXT,
    ai_profile_id        TEXT,
    message_source       TEXT,
    window_ms            INTEGER NOT NULL,
    candidates           TEXT NOT NULL,
    decided_at_ms        INTEGER NOT NULL,
    decided_by           TEXT NOT NULL
);
CREATE UNIQUE INDEX events_order_per_company ON events (company_id, order_id) WHERE order_id IS NOT NULL;
CREATE INDEX events_by_company_time ON events (company_id, occurred_at_ms);

CREATE TABLE line_items (
    event_pk   INTEGER NOT NULL REFERENCES events (event_pk),
    position   INTEGER NOT NULL,
    product_id TEXT NOT NULL,
    variant_id TEXT,
    sku        TEXT,
    title      TEXT,
    quantity   INTEGER NOT NULL,
    unit_price TEXT NOT NULL,
    PRIMARY KEY (event_pk, position)
) WITHOUT ROWID;

-- Net cart quantity per (company, fingerprint, product, variant); a row
-- exists once an add or increase was stored for the key.
CREATE TABLE cart_positions (
    company_id       TEXT NOT NULL,
    user_fingerprint TEXT NOT NULL,
    product_id       TEXT NOT NULL,
    variant_key      TEXT NOT NULL,        -- variant id, '' when none
    net_quantity     INTEGER NOT NULL CHECK (net_quantity >= 0),
    PRIMARY KEY (company_id, user_fingerprint, product_id, variant_key)
) WITHOUT ROWID;

CREATE TABLE idempotency_keys (
    company_id     TEXT NOT NULL,
    idempotency_id TEXT NOT NULL,
    request_sha256 BLOB NOT NULL,
    status         INTEGER NOT NULL,
    body           TEXT NOT NULL,
    created_at_ms  INTEGER NOT NULL,
    PRIMARY KEY (company_id, idempotency_id)
) WITHOUT ROWID;

CREATE TABLE cart_tokens (
    company_id       TEXT NOT NULL,
    cart_token       TEXT NOT NULL,        -- without any ?key= suffix
    user_fingerprint TEXT NOT NULL,
    updated_at_ms    INTEGER NOT NULL,
    PRIMARY KEY (company_id, cart_token)
) WITHOUT ROWID;

-- Distinct visitors per reporting day, for conversion rates.
CREATE TABLE visitor_days (
    company_id       TEXT NOT NULL,
    day              TEXT NOT NULL,
    user_fingerprint TEXT NOT NULL,
    PRIMARY KEY (company_id, day, user_fingerprint)
) WITHOUT ROWID;
