//! `revtrace serve`

use std::{net::SocketAddr, time::Duration};

use anyhow::Context;
use revtrace_server::{AppState, net::limits::Limits};

use crate::database::DatabaseArg;

#[derive(clap::Args)]
pub struct Args {
    /// Address to listen on.
    #[arg(long, env = "REVTRACE_LISTEN", default_value = "127.0.0.1:8080", value_name = "ADDR")]
    listen: SocketAddr,
    #[command(flatten)]
    database: DatabaseArg,
    #[command(flatten)]
    limits: LimitArgs,
}

/// What one client may take (see docs/deploy.md, "Limits").
#[derive(clap::Args)]
pub struct LimitArgs {
    /// Seconds a client has to send a request's headers; slower ones are disconnected.
    #[arg(long, env = "REVTRACE_HEADER_READ_TIMEOUT", default_value_t = 10, value_name = "SECONDS",
          value_parser = clap::value_parser!(u64).range(1..=600))]
    header_read_timeout: u64,
    /// Seconds a keep-alive connection may stay silent before it is closed.
    #[arg(long, env = "REVTRACE_IDLE_TIMEOUT", default_value_t = 60, value_name = "SECONDS",
          value_parser = clap::value_parser!(u64).range(31..=3600))]
    idle_timeout: u64,
    /// Open connections at most (also kept below the process's open-file limit).
    #[arg(long, env = "REVTRACE_MAX_CONNECTIONS", default_value_t = 16_384, value_name = "N")]
    max_connections: usize,
    /// Open connections at most from one client address (trusted proxies excepted).
    #[arg(long, env = "REVTRACE_MAX_CONNECTIONS_PER_CLIENT", default_value_t = 512, value_name = "N")]
    max_connections_per_client: usize,
    /// A proxy (address or CIDR, repeatable) whose X-Forwarded-For names the client.
    #[arg(long = "trusted-proxy", env = "REVTRACE_TRUSTED_PROXIES", value_delimiter = ',', value_name = "CIDR")]
    trusted_proxies: Vec<ipnet::IpNet>,
    /// Public-key calls per minute per company and client address, for companies
    /// without their own setting (`revtrace company keys public-rate`); 0: no limit.
    #[arg(long, env = "REVTRACE_PUBLIC_RATE_PER_MINUTE", default_value_t = 1_200, value_name = "N")]
    public_rate_per_minute: u32,
    /// Calls per minute per client address with a missing or unknown key; 0: no limit.
    #[arg(long, env = "REVTRACE_UNKNOWN_KEY_RATE_PER_MINUTE", default_value_t = 120, value_name = "N")]
    unknown_key_rate_per_minute: u32,
}

impl LimitArgs {
    pub fn limits(&self) -> Limits {
        Limits {
            header_read_timeout: Duration::from_secs(self.header_read_timeout),
            idle_timeout: Duration::from_secs(self.idle_timeout),
            max_connections: self.max_connections.max(1),
            max_connections_per_client: self.max_connections_per_client.max(1),
            trusted_proxies: self.trusted_proxies.clone(),
            public_rate_per_minute: self.public_rate_per_minute,
            unknown_key_rate_per_minute: self.unknown_key_rate_per_minute,
        }
    }
}

pub async fn run(args: Args) -> anyhow::Result<()> {
    init_logging();
    let store = args.database.open().await?;
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .with_context(|| format!("cannot listen on {}", args.listen))?;
    tracing::info!(address = %listener.local_addr()?, database = %crate::database::redacted(&args.database.url), "revtrace is serving");
    let state = AppState::with_limits(store, args.limits.limits());
    revtrace_server::serve(listener, state, shutdown_signal()).await.context("the server stopped")
}

/// Text logs by default; `REVTRACE_LOG_FORMAT=json` for JSON lines. `RUST_LOG` filters.
pub fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,tower_http=warn"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_writer(std::io::stderr);
    let _ = if std::env::var("REVTRACE_LOG_FORMAT").as_deref() == Ok("json") {
        builder.json().try_init()
    } else {
        builder.try_init()
    };
}

/// Resolves on ctrl-c or SIGTERM; in-flight requests then finish.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down");
}
