//! A bare axum JSON echo server: the ceiling that `bench/ingest` compares
//! revtrace against on the same machine and in the same run.
//!
//! `cargo run --release -p revtrace-server --example echo -- 127.0.0.1:18182`

use axum::{Json, Router, http::StatusCode, routing::post};

async fn echo(Json(body): Json<serde_json::Value>) -> (StatusCode, Json<serde_json::Value>) {
    (StatusCode::CREATED, Json(body))
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let address = std::env::args().nth(1).unwrap_or_else(|| "127.0.0.1:18182".into());
    let app = Router::new().fallback(post(echo));
    let listener = tokio::net::TcpListener::bind(&address).await?;
    axum::serve(listener, app).await
}
