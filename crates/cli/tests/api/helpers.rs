//! Spawns the real server on an ephemeral port over a fresh SQLite file.

use std::{
    path::{Path, PathBuf},
    process::Output,
    sync::Arc,
};

use revtrace_server::AppState;
use revtrace_store::{NewCompany, Store, sqlite::SqliteStore};
use serde_json::{Value, json};

pub struct TestApp {
    pub base: String,
    pub client: reqwest::Client,
    pub company_id: String,
    pub company_key: String,
    pub secret_key: String,
    pub db_path: PathBuf,
    pub store: Arc<dyn Store>,
    _dir: tempfile::TempDir,
    _shutdown: tokio::sync::oneshot::Sender<()>,
}

pub struct Answer {
    pub status: u16,
    pub body: Value,
}

impl Answer {
    pub fn error_code(&self) -> &str {
        self.body["error"]["code"].as_str().unwrap_or_default()
    }
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with("UTC", 24).await
}

pub async fn spawn_app_with(timezone: &str, window_hours: i64) -> TestApp {
    let dir = tempfile::tempdir().expect("temp dir");
    let db_path = dir.path().join("revtrace.db");
    let store: Arc<dyn Store> = Arc::new(SqliteStore::open(&db_path).expect("open store"));
    let credentials = store
        .create_company(NewCompany {
            name: "Glow Skincare".into(),
            timezone: timezone.into(),
            window_ms: window_hours * 3_600_000,
        })
        .await
        .expect("company");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    let (shutdown, stop) = tokio::sync::oneshot::channel::<()>();
    let state = AppState::new(store.clone());
    tokio::spawn(revtrace_server::serve(listener, state, async move {
        let _ = stop.await;
    }));
    TestApp {
        base,
        client: reqwest::Client::new(),
        company_id: credentials.company_id,
        company_key: credentials.company_key,
        secret_key: credentials.secret_key,
        db_path,
        store,
        _dir: dir,
        _shutdown: shutdown,
    }
}

impl TestApp {
    /// POSTs raw bytes with optional headers.
    pub async fn post_raw(&self, path: &str, body: impl Into<reqwest::Body>, headers: &[(&str, &str)]) -> Answer {
        let mut request = self.client.post(format!("{}{path}", self.base)).body(body);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        answer(request.send().await.expect("request")).await
    }

    /// POSTs JSON with the public company key added to the body.
    pub async fn ingest(&self, path: &str, mut body: Value) -> Answer {
        if body.get("company_key").is_none() {
            body["company_key"] = json!(self.company_key);
        }
        self.post_raw(path, body.to_string(), &[]).await
    }

    /// POSTs JSON authenticated with the secret key as Bearer.
    pub async fn ingest_secret(&self, path: &str, body: &Value, headers: &[(&str, &str)]) -> Answer {
        let bearer = format!("Bearer {}", self.secret_key);
        let mut all = vec![("authorization", bearer.as_str())];
        all.extend_from_slice(headers);
        self.post_raw(path, body.to_string(), &all).await
    }

    pub async fn get(&self, path: &str, key: Option<&str>) -> Answer {
        let mut request = self.client.get(format!("{}{path}", self.base));
        if let Some(key) = key {
            request = request.bearer_auth(key);
        }
        answer(request.send().await.expect("request")).await
    }

    pub async fn ticket(&self, body: Value) -> Answer {
        self.ingest("/analytics/tickets", body).await
    }

    pub async fn cart(&self, body: Value) -> Answer {
        self.ingest("/analytics/cart_events", body).await
    }

    pub async fn checkout(&self, body: Value) -> Answer {
        self.ingest("/analytics/checkout_events", body).await
    }

    pub async fn receipt(&self, event_id: &str) -> Answer {
        self.get(&format!("/v1/events/{event_id}/attribution"), Some(&self.secret_key)).await
    }

    /// Counts rows straight from the SQLite file, past the service.
    pub fn count(&self, table: &str) -> i64 {
        count_rows(&self.db_path, table)
    }

    /// Runs the real `revtrace` binary against this app's database.
    pub fn cli(&self, args: &[&str]) -> Output {
        run_cli(&self.db_path, args)
    }
}

pub fn count_rows(db: &Path, table: &str) -> i64 {
    let conn = rusqlite::Connection::open(db).expect("open sqlite");
    conn.query_row(&format!("SELECT count(*) FROM {table}"), [], |r| r.get(0)).expect("count")
}

pub fn run_cli(db: &Path, args: &[&str]) -> Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_revtrace"))
        .args(args)
        .env("REVTRACE_DATABASE_URL", format!("sqlite://{}", db.display()))
        .output()
        .expect("run revtrace")
}

async fn answer(response: reqwest::Response) -> Answer {
    let status = response.status().as_u16();
    let text = response.text().await.expect("body");
    let body = if text.is_empty() { Value::Null } else { serde_json::from_str(&text).unwrap_or(Value::String(text)) };
    Answer { status, body }
}

/// A ticket body: a shopper question, then an AI answer `answer_after_s` later.
pub fn grounded_ticket(ticket_id: &str, fingerprint: &str, asked_at: &str, answered_at: &str) -> Value {
    json!({
        "ticket_id": ticket_id,
        "channel": "chat",
        "fingerprint": fingerprint,
        "messages": [
            {"message_id": "q1", "sent_at": asked_at, "role": "shopper", "text": "Which moisturizer is best for dry skin?"},
            {"message_id": "a1", "sent_at": answered_at, "role": "ai", "text": "Hydra Barrier Cream.", "has_answer_found": true}
        ]
    })
}

pub fn add_to_cart(fingerprint: &str, product: &str, quantity: i64, price: &str, at: &str) -> Value {
    json!({
        "user_fingerprint": fingerprint,
        "event_type": "ITEM_ADDED",
        "product_id": product,
        "quantity": quantity,
        "unit_price": price,
        "currency": "USD",
        "occurred_at": at
    })
}

pub fn order(fingerprint: Option<&str>, order_id: &str, value: &str, at: &str) -> Value {
    let mut body = json!({
        "order_id": order_id,
        "order_value": value,
        "currency": "USD",
        "occurred_at": at,
        "line_items": [{"product_id": "hydra-barrier-cream", "quantity": 1, "unit_price": value, "title": "Hydra Barrier Cream"}]
    });
    if let Some(fp) = fingerprint {
        body["user_fingerprint"] = json!(fp);
    }
    body
}

impl TestApp {
    /// `GET /v1/revenue-impact?{query}` with the secret key.
    pub async fn report(&self, query: &str) -> Answer {
        self.get(&format!("/v1/revenue-impact?{query}"), Some(&self.secret_key)).await
    }

    /// The export as raw bytes, with its status and content type.
    pub async fn export_bytes(&self, query: &str) -> (u16, String, Vec<u8>) {
        let response = self
            .client
            .get(format!("{}/v1/export/revenue-impact?{query}", self.base))
            .bearer_auth(&self.secret_key)
            .send()
            .await
            .expect("request");
        let status = response.status().as_u16();
        let content_type =
            response.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
        (status, content_type, response.bytes().await.expect("body").to_vec())
    }
}

type RollupLine = (String, String, String, i64, String, String, i64, i64, i64, i64, i64, i64);

fn rollup_lines(conn: &rusqlite::Connection, sql: &str) -> Vec<RollupLine> {
    let mut stmt = conn.prepare(sql).expect("prepare");
    stmt.query_map([], |r| {
        Ok((
            r.get(0)?,
            r.get(1)?,
            r.get(2)?,
            r.get(3)?,
            r.get(4)?,
            r.get(5)?,
            r.get(6)?,
            r.get(7)?,
            r.get(8)?,
            r.get(9)?,
            r.get(10)?,
            r.get(11)?,
        ))
    })
    .expect("query")
    .collect::<Result<_, _>>()
    .expect("rows")
}

/// The rollups that reports read equal a recomputation from raw events.
pub fn assert_rollups_match_events(db: &Path) {
    let conn = rusqlite::Connection::open(db).expect("open sqlite");
    let rolled = rollup_lines(
        &conn,
        "SELECT company_id, day, cart_type, attributed, ai_profile_id, message_source, is_test, events, unconverted,
                usd_cents, quantity, refunded_cents
         FROM rollups
         WHERE NOT (events = 0 AND unconverted = 0 AND usd_cents = 0 AND quantity = 0 AND refunded_cents = 0)
         ORDER BY 1, 2, 3, 4, 5, 6, 7",
    );
    let recomputed = rollup_lines(
        &conn,
        "SELECT company_id, day, cart_type, attributed, coalesce(ai_profile_id, ''), coalesce(message_source, ''),
                is_test, count(*), sum(usd_cents IS NULL), coalesce(sum(usd_cents), 0),
                coalesce(sum(quantity_signed), 0), sum(refunded_cents)
         FROM events GROUP BY 1, 2, 3, 4, 5, 6, 7 ORDER BY 1, 2, 3, 4, 5, 6, 7",
    );
    assert_eq!(rolled, recomputed, "rollups drifted from the events they sum");

    let misfiled: i64 = conn
        .query_row(
            "SELECT count(*) FROM visitor_days v
             WHERE multi != ((SELECT count(*) FROM visitor_days w
                              WHERE w.company_id = v.company_id AND w.user_fingerprint = v.user_fingerprint) > 1)",
            [],
            |r| r.get(0),
        )
        .expect("multi");
    assert_eq!(misfiled, 0, "a visitor active on several days is marked multi, and only such a visitor");
    let counts = |sql: &str| -> Vec<(String, String, i64, i64, i64, i64)> {
        let mut stmt = conn.prepare(sql).expect("prepare");
        stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?)))
            .expect("query")
            .collect::<Result<_, _>>()
            .expect("rows")
    };
    assert_eq!(
        counts("SELECT * FROM visitor_counts WHERE visitors != 0 ORDER BY 1, 2, 3, 4, 5"),
        counts(
            "SELECT company_id, day, seen, assisted, converted, count(*) FROM visitor_days WHERE multi = 0
             GROUP BY 1, 2, 3, 4, 5 ORDER BY 1, 2, 3, 4, 5"
        ),
        "single-day visitor counts drifted from the visitor days"
    );
    let mirror = |sql: &str| -> Vec<(String, String, String, i64)> {
        let mut stmt = conn.prepare(sql).expect("prepare");
        stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
            .expect("query")
            .collect::<Result<_, _>>()
            .expect("rows")
    };
    assert_eq!(
        mirror(
            "SELECT d.company_id, d.day, m.fingerprint, d.flags FROM multi_visitor_days d
             JOIN multi_visitors m ON m.visitor_id = d.visitor_id ORDER BY 1, 2, 3"
        ),
        mirror(
            "SELECT company_id, day, user_fingerprint, seen | (assisted << 1) | (converted << 2) FROM visitor_days
             WHERE multi = 1 ORDER BY 1, 2, 3"
        ),
        "the multi-day mirror drifted from the visitor days"
    );
    let packs = |sql: &str| -> Vec<(String, String, String)> {
        let mut stmt = conn.prepare(sql).expect("prepare");
        stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .expect("query")
            .collect::<Result<_, _>>()
            .expect("rows")
    };
    assert_eq!(
        packs("SELECT company_id, day, pack FROM multi_visitor_packs WHERE pack != '' ORDER BY 1, 2"),
        packs(
            "SELECT company_id, day, group_concat(printf('%08X%02X', visitor_id, flags), '')
             FROM (SELECT * FROM multi_visitor_days ORDER BY company_id, day, visitor_id) GROUP BY 1, 2 ORDER BY 1, 2"
        ),
        "the day packs drifted from the mirrored days"
    );
}
