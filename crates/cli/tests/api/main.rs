//! The integration suite: the real server over HTTP on a temporary SQLite
//! file, and the real `revtrace` binary for the CLI.

mod cli;
mod exports;
mod helpers;
mod journey;
mod operations;
mod rejections;
mod replay;
mod reports;
mod robustness;
mod rules;
mod tenancy;
