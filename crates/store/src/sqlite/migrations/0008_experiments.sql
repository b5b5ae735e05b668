-- Revenue experiments (SPEC §11): definitions, their arms in order, and each
-- exposed visitor's arm with the earliest time it was assigned.

CREATE TABLE experiments (
    company_id        TEXT NOT NULL REFERENCES companies (company_id),
    experiment_key    TEXT NOT NULL,
    name              TEXT NOT NULL,
    kind              TEXT NOT NULL CHECK (kind IN ('holdout', 'ab')),
    control           TEXT NOT NULL,
    starts_at_ms      INTEGER NOT NULL,
    ends_at_ms        INTEGER CHECK (ends_at_ms > starts_at_ms),
    revenue_cap_cents INTEGER CHECK (revenue_cap_cents > 0),
    created_at_ms     INTEGER NOT NULL,
    PRIMARY KEY (company_id, experiment_key)
) WITHOUT ROWID;

CREATE TABLE experiment_arms (
    company_id     TEXT NOT NULL,
    experiment_key TEXT NOT NULL,
    position       INTEGER NOT NULL,
    name           TEXT NOT NULL,
    weight         INTEGER NOT NULL CHECK (weight > 0),
    assistant      INTEGER NOT NULL,
    ai_profile_id  TEXT,
    PRIMARY KEY (company_id, experiment_key, name),
    UNIQUE (company_id, experiment_key, position),
    FOREIGN KEY (company_id, experiment_key) REFERENCES experiments (company_id, experiment_key)
) WITHOUT ROWID;

CREATE TABLE exposures (
    company_id     TEXT NOT NULL,
    experiment_key TEXT NOT NULL,
    fingerprint    TEXT NOT NULL,
    arm            TEXT NOT NULL,
    exposed_at_ms  INTEGER NOT NULL,
    -- The visitor's outcome so far (SPEC §11), kept in step with its events
    -- from exposed_at_ms to the experiment's end: net revenue in USD cents
    -- (uncapped; the cap applies when results are read), cart GMV, the
    -- attributed part of the revenue, events without a rate.
    orders           INTEGER NOT NULL DEFAULT 0,
    revenue_cents    INTEGER NOT NULL DEFAULT 0,
    cart_cents       INTEGER NOT NULL DEFAULT 0,
    attributed_cents INTEGER NOT NULL DEFAULT 0,
    unconverted      INTEGER NOT NULL DEFAULT 0,
    -- Any ticket is stored under the fingerprint.
    with_ticket      INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (company_id, experiment_key, fingerprint),
    FOREIGN KEY (company_id, experiment_key, arm) REFERENCES experiment_arms (company_id, experiment_key, name)
) WITHOUT ROWID;

-- A visitor's exposures, moved by each of its events, refunds and tickets.
CREATE INDEX exposures_by_fingerprint ON exposures (company_id, fingerprint);
