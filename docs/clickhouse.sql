-- The revtrace reporting table in ClickHouse. ReplacingMergeTree keyed by
-- event: re-exporting a range after `revtrace reattribute` (or after late
-- refunds) replaces the rows it holds instead of adding to them.
CREATE TABLE IF NOT EXISTS revtrace_revenue_impact
(
    company_id          String,
    event_id            String,
    occurred_at         DateTime64(3, 'UTC'),
    day                 Date,
    cart_type           LowCardinality(String),
    source_category     LowCardinality(String),
    message_source      LowCardinality(Nullable(String)),
    ticket_id           Nullable(String),
    ai_profile_id       LowCardinality(Nullable(String)),
    user_fingerprint    Nullable(String),
    event_type          LowCardinality(Nullable(String)),
    product_id          Nullable(String),
    variant_id          Nullable(String),
    quantity_signed     Nullable(Int64),
    order_id            Nullable(String),
    cart_value          Decimal(38, 9),
    currency            LowCardinality(String),
    currency_multiplier Nullable(Decimal(38, 18)),
    usd_cart_value      Nullable(Decimal(18, 2)),
    attributed          Bool,
    reason              LowCardinality(String),
    is_test             Bool,
    refunded_usd        Decimal(18, 2)
)
ENGINE = ReplacingMergeTree
PARTITION BY toYYYYMM(day)
ORDER BY (company_id, day, event_id);

-- Load an export:
--   clickhouse-client --query "INSERT INTO revtrace_revenue_impact FORMAT Parquet" < revenue-impact.parquet
