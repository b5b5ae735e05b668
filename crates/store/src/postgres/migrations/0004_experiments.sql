-- Revenue experiments (SPEC §11): definitions, their arms in order, and each
-- exposed visitor's arm with the earliest time it was assigned.

CREATE TABLE experiments (
    company_id        TEXT NOT NULL REFERENCES companies (company_id),
    experiment_key    TEXT NOT NULL,
    name              TEXT NOT NULL,
    kind              TEXT NOT NULL CHECK (kind IN ('holdout', 'ab')),
    control           TEXT NOT NULL,
    starts_at_ms      BIGINT NOT NULL,
    ends_at_ms        BIGINT CHECK (ends_at_ms > starts_at_ms),
    revenue_cap_cents BIGINT CHECK (revenue_cap_cents > 0),
    created_at_ms     BIGINT NOT NULL,
    PRIMARY KEY (company_id, experiment_key)
);

CREATE TABLE experiment_arms (
    company_id     TEXT NOT NULL,
    experiment_key TEXT NOT NULL,
    position       INTEGER NOT NULL,
    name           TEXT NOT NULL,
    weight         INTEGER NOT NULL CHECK (weight > 0),
    assistant      BOOLEAN NOT NULL,
    ai_profile_id  TEXT,
    PRIMARY KEY (company_id, experiment_key, name),
    UNIQUE (company_id, experiment_key, position),
    FOREIGN KEY (company_id, experiment_key) REFERENCES experiments (company_id, experiment_key)
);

CREATE TABLE exposures (
    company_id     TEXT NOT NULL,
    experiment_key TEXT NOT NULL,
    fingerprint    TEXT NOT NULL,
    arm            TEXT NOT NULL,
    exposed_at_ms  BIGINT NOT NULL,
    PRIMARY KEY (company_id, experiment_key, fingerprint),
    FOREIGN KEY (company_id, experiment_key, arm) REFERENCES experiment_arms (company_id, experiment_key, name)
);

-- An exposed visitor's outcome events: its own events from its exposure on.
CREATE INDEX events_by_fingerprint ON events (company_id, user_fingerprint, occurred_at_ms)
    WHERE user_fingerprint IS NOT NULL;
