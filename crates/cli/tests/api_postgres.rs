//! The integration suite again, on PostgreSQL: the same modules as `api`
//! (tests/api), each test on a schema of its own on the server of
//! `REVTRACE_TEST_POSTGRES_URL` (default: this machine's). Without a
//! PostgreSQL each test says it skipped; `REVTRACE_REQUIRE_POSTGRES=1` (CI)
//! makes that a failure. The CLI module stays on SQLite (it tests the
//! binary's commands on files); `servers` is PostgreSQL's own: several
//! `revtrace serve` processes on one database.

#![recursion_limit = "256"]

const BACKEND: helpers::Backend = helpers::Backend::Postgres;

#[path = "api/browser.rs"]
mod browser;
#[path = "api/experiments.rs"]
mod experiments;
#[path = "api/exports.rs"]
mod exports;
#[path = "api/hardening.rs"]
mod hardening;
// Shared with `api`, which uses the SQLite-only helpers this binary does not.
#[allow(dead_code)]
#[path = "api/helpers.rs"]
mod helpers;
#[path = "api/journey.rs"]
mod journey;
#[path = "api/operations.rs"]
mod operations;
#[path = "api/rejections.rs"]
mod rejections;
#[path = "api/replay.rs"]
mod replay;
#[path = "api/reports.rs"]
mod reports;
#[path = "api/robustness.rs"]
mod robustness;
#[path = "api/rules.rs"]
mod rules;
#[path = "api/servers.rs"]
mod servers;
#[path = "api/shopify.rs"]
mod shopify;
#[path = "api/tenancy.rs"]
mod tenancy;
