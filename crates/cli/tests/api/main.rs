//! The integration suite: the real server over HTTP on a temporary SQLite
//! file, and the real `revtrace` binary for the CLI.

// Shopify payloads are deep `json!` literals.
#![recursion_limit = "256"]

/// This binary's database; `api_postgres` runs the same modules on PostgreSQL.
const BACKEND: helpers::Backend = helpers::Backend::Sqlite;

mod browser;
mod cli;
mod experiments;
mod exports;
mod hardening;
mod helpers;
mod journey;
mod operations;
mod rejections;
mod replay;
mod reports;
mod robustness;
mod rules;
mod shopify;
mod tenancy;
