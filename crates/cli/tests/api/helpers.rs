//! Spawns the real server on an ephemeral port over a fresh database: a
//! SQLite file in the `api` binary, a PostgreSQL schema of its own in the
//! `api_postgres` binary (which skips, saying so, when no PostgreSQL answers,
//! unless `REVTRACE_REQUIRE_POSTGRES=1`).

use std::{
    path::{Path, PathBuf},
    process::Output,
    sync::Arc,
};

use revtrace_server::AppState;
use revtrace_store::{NewCompany, Store, postgres::PgStore, sqlite::SqliteStore};
use serde_json::{Value, json};

/// Which database the binary's tests run on (`crate::BACKEND`); each binary
/// names one variant.
#[allow(dead_code)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// A test's database, looked at past the service.
#[derive(Clone, Debug)]
pub enum TestDb {
    Sqlite(PathBuf),
    Postgres(String),
}

impl TestDb {
    /// A fresh, empty database on the binary's backend; `None` when that is
    /// PostgreSQL and none answers (the test then skips).
    pub async fn fresh(dir: &Path) -> Option<Self> {
        match crate::BACKEND {
            Backend::Sqlite => Some(Self::Sqlite(dir.join("revtrace.db"))),
            Backend::Postgres => {
                let test = std::thread::current().name().unwrap_or("a test").to_owned();
                revtrace_store::postgres::scratch::test_database(&test).await.map(Self::Postgres)
            }
        }
    }

    pub fn url(&self) -> String {
        match self {
            Self::Sqlite(path) => format!("sqlite://{}", path.display()),
            Self::Postgres(url) => url.clone(),
        }
    }

    pub async fn open(&self) -> Arc<dyn Store> {
        match self {
            Self::Sqlite(path) => Arc::new(SqliteStore::open(path).expect("open store")),
            Self::Postgres(url) => Arc::new(PgStore::connect(url, 8).await.expect("open store")),
        }
    }

    pub async fn count(&self, table: &str) -> i64 {
        self.counts(&[table]).await[0]
    }

    /// Row counts of several tables, in one query.
    pub async fn counts(&self, tables: &[&str]) -> Vec<i64> {
        let each: Vec<String> = tables.iter().map(|t| format!("(SELECT count(*) FROM {t})")).collect();
        let row = self.rows(&format!("SELECT {}", each.join(", "))).await.remove(0);
        row.iter().map(|n| n.as_i64().expect("a count")).collect()
    }

    /// Every row of a query, each as a JSON array in column order (booleans
    /// as 0 and 1 on both backends, so the same SQL compares the same).
    pub async fn rows(&self, sql: &str) -> Vec<Vec<Value>> {
        match self {
            Self::Sqlite(path) => {
                let conn = rusqlite::Connection::open(path).expect("open sqlite");
                let mut stmt = conn.prepare(sql).expect("prepare");
                let columns = stmt.column_count();
                let mut rows = stmt.query([]).expect("query");
                let mut out = Vec::new();
                while let Some(r) = rows.next().expect("row") {
                    out.push(
                        (0..columns)
                            .map(|i| match r.get_ref(i).expect("column") {
                                rusqlite::types::ValueRef::Null => Value::Null,
                                rusqlite::types::ValueRef::Integer(n) => json!(n),
                                rusqlite::types::ValueRef::Real(f) => json!(f),
                                rusqlite::types::ValueRef::Text(t) => json!(String::from_utf8_lossy(t)),
                                rusqlite::types::ValueRef::Blob(b) => json!(b),
                            })
                            .collect(),
                    );
                }
                out
            }
            Self::Postgres(url) => {
                use tokio_postgres::types::Type;
                let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls).await.expect("connect");
                tokio::spawn(connection);
                let rows = client.query(sql, &[]).await.unwrap_or_else(|e| panic!("{sql}: {e}"));
                rows.iter()
                    .map(|r| {
                        (0..r.len())
                            .map(|i| match *r.columns()[i].type_() {
                                Type::BOOL => r.get::<_, Option<bool>>(i).map_or(Value::Null, |b| json!(i64::from(b))),
                                Type::INT2 => json!(r.get::<_, Option<i16>>(i)),
                                Type::INT4 => json!(r.get::<_, Option<i32>>(i)),
                                Type::INT8 => json!(r.get::<_, Option<i64>>(i)),
                                Type::FLOAT8 => json!(r.get::<_, Option<f64>>(i)),
                                Type::TEXT | Type::VARCHAR | Type::NAME => json!(r.get::<_, Option<String>>(i)),
                                ref other => panic!("{sql}: column {i} has type {other}; cast it"),
                            })
                            .collect()
                    })
                    .collect()
            }
        }
    }
}

pub struct TestApp {
    pub base: String,
    pub client: reqwest::Client,
    pub company_id: String,
    pub company_key: String,
    pub secret_key: String,
    pub db: TestDb,
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

pub async fn spawn_app() -> Option<TestApp> {
    spawn_app_with("UTC", 24).await
}

pub async fn spawn_app_with(timezone: &str, window_hours: i64) -> Option<TestApp> {
    // The suite sends many calls from one address: no rate limits by default.
    spawn_app_limited(timezone, window_hours, revtrace_server::net::limits::Limits::unmetered()).await
}

pub async fn spawn_app_limited(
    timezone: &str,
    window_hours: i64,
    limits: revtrace_server::net::limits::Limits,
) -> Option<TestApp> {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = TestDb::fresh(dir.path()).await?;
    let store = db.open().await;
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
    let state = AppState::with_limits(store.clone(), limits);
    tokio::spawn(revtrace_server::serve(listener, state, async move {
        let _ = stop.await;
    }));
    Some(TestApp {
        base,
        client: reqwest::Client::new(),
        company_id: credentials.company_id,
        company_key: credentials.company_key,
        secret_key: credentials.secret_key,
        db,
        store,
        _dir: dir,
        _shutdown: shutdown,
    })
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

    /// Counts rows straight from the database, past the service.
    pub async fn count(&self, table: &str) -> i64 {
        self.db.count(table).await
    }

    /// Runs the real `revtrace` binary against this app's database.
    pub fn cli(&self, args: &[&str]) -> Output {
        run_cli_on(&self.db.url(), args)
    }
}

pub fn count_rows(db: &Path, table: &str) -> i64 {
    let conn = rusqlite::Connection::open(db).expect("open sqlite");
    conn.query_row(&format!("SELECT count(*) FROM {table}"), [], |r| r.get(0)).expect("count")
}

pub fn run_cli(db: &Path, args: &[&str]) -> Output {
    run_cli_on(&format!("sqlite://{}", db.display()), args)
}

pub fn run_cli_on(url: &str, args: &[&str]) -> Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_revtrace"))
        .args(args)
        .env("REVTRACE_DATABASE_URL", url)
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

/// The rollups that reports read equal a recomputation from raw events, and
/// the visitor counts and multi-day mirror equal theirs from visitor days.
pub async fn assert_rollups_match_events(db: &TestDb) {
    let postgres = matches!(db, TestDb::Postgres(_));
    // PostgreSQL keeps the counters in shards (summed here) and sums
    // BIGINTs as NUMERIC (cast back).
    let rolled = if postgres {
        "SELECT company_id, day, cart_type, attributed, ai_profile_id, message_source, is_test, sum(events)::int8,
                sum(unconverted)::int8, sum(usd_cents)::int8, sum(quantity)::int8, sum(refunded_cents)::int8
         FROM rollups GROUP BY 1, 2, 3, 4, 5, 6, 7
         HAVING NOT (sum(events) = 0 AND sum(unconverted) = 0 AND sum(usd_cents) = 0 AND sum(quantity) = 0
                     AND sum(refunded_cents) = 0)
         ORDER BY 1, 2, 3, 4, 5, 6, 7"
    } else {
        "SELECT company_id, day, cart_type, attributed, ai_profile_id, message_source, is_test, events, unconverted,
                usd_cents, quantity, refunded_cents
         FROM rollups
         WHERE NOT (events = 0 AND unconverted = 0 AND usd_cents = 0 AND quantity = 0 AND refunded_cents = 0)
         ORDER BY 1, 2, 3, 4, 5, 6, 7"
    };
    let recomputed = "SELECT company_id, day, cart_type, attributed, coalesce(ai_profile_id, ''),
                coalesce(message_source, ''), is_test, count(*),
                sum(CASE WHEN usd_cents IS NULL THEN 1 ELSE 0 END), CAST(coalesce(sum(usd_cents), 0) AS BIGINT),
                CAST(coalesce(sum(quantity_signed), 0) AS BIGINT), CAST(sum(refunded_cents) AS BIGINT)
         FROM events GROUP BY 1, 2, 3, 4, 5, 6, 7 ORDER BY 1, 2, 3, 4, 5, 6, 7";
    assert_eq!(db.rows(rolled).await, db.rows(recomputed).await, "rollups drifted from the events they sum");

    // The funnel's per-ticket facts, against their messages and credited events.
    let kept = "SELECT company_id, ticket_id, first_message_ms, CASE WHEN grounded THEN 1 ELSE 0 END,
                first_cart_ms, first_checkout_ms FROM tickets ORDER BY 1, 2";
    let derived = "SELECT t.company_id, t.ticket_id,
                (SELECT min(m.sent_at_ms) FROM messages m WHERE m.ticket_pk = t.ticket_pk),
                CASE WHEN EXISTS (SELECT 1 FROM messages m WHERE m.ticket_pk = t.ticket_pk AND m.role = 'ai'
                                  AND m.has_answer_found) THEN 1 ELSE 0 END,
                (SELECT min(e.occurred_at_ms) FROM events e WHERE e.company_id = t.company_id
                   AND e.ticket_id = t.ticket_id AND e.cart_type = 'CART_EVENT'
                   AND e.event_type IN ('ITEM_ADDED', 'QUANTITY_INCREASED') AND NOT e.is_test),
                (SELECT min(e.occurred_at_ms) FROM events e WHERE e.company_id = t.company_id
                   AND e.ticket_id = t.ticket_id AND e.cart_type = 'CHECKOUT' AND NOT e.is_test)
         FROM tickets t ORDER BY 1, 2";
    assert_eq!(db.rows(kept).await, db.rows(derived).await, "the funnel's ticket facts drifted from their rows");

    let misfiled = db
        .rows(
            "SELECT count(*) FROM visitor_days v
             WHERE multi != ((SELECT count(*) FROM visitor_days w
                              WHERE w.company_id = v.company_id AND w.user_fingerprint = v.user_fingerprint) > 1)",
        )
        .await;
    assert_eq!(misfiled[0][0], json!(0), "a visitor active on several days is marked multi, and only such a visitor");
    let counted = if postgres {
        "SELECT company_id, day, seen, assisted, converted, sum(visitors)::int8 FROM visitor_counts
         GROUP BY 1, 2, 3, 4, 5 HAVING sum(visitors) != 0 ORDER BY 1, 2, 3, 4, 5"
    } else {
        "SELECT * FROM visitor_counts WHERE visitors != 0 ORDER BY 1, 2, 3, 4, 5"
    };
    assert_eq!(
        db.rows(counted).await,
        db.rows(
            "SELECT company_id, day, seen, assisted, converted, count(*) FROM visitor_days WHERE NOT multi
             GROUP BY 1, 2, 3, 4, 5 ORDER BY 1, 2, 3, 4, 5"
        )
        .await,
        "single-day visitor counts drifted from the visitor days"
    );
    let bits = if postgres {
        "CAST(seen AS INT) | (CAST(assisted AS INT) << 1) | (CAST(converted AS INT) << 2)"
    } else {
        "seen | (assisted << 1) | (converted << 2)"
    };
    assert_eq!(
        db.rows(
            "SELECT d.company_id, d.day, m.fingerprint, CAST(d.flags AS INT) FROM multi_visitor_days d
             JOIN multi_visitors m ON m.visitor_id = d.visitor_id ORDER BY 1, 2, 3"
        )
        .await,
        db.rows(&format!(
            "SELECT company_id, day, user_fingerprint, {bits} FROM visitor_days WHERE multi ORDER BY 1, 2, 3"
        ))
        .await,
        "the multi-day mirror drifted from the visitor days"
    );
    if !postgres {
        assert_eq!(
            db.rows("SELECT company_id, day, pack FROM multi_visitor_packs WHERE pack != '' ORDER BY 1, 2").await,
            db.rows(
                "SELECT company_id, day, group_concat(printf('%08X%02X', visitor_id, flags), '')
                 FROM (SELECT * FROM multi_visitor_days ORDER BY company_id, day, visitor_id) GROUP BY 1, 2
                 ORDER BY 1, 2"
            )
            .await,
            "the day packs drifted from the mirrored days"
        );
    }
}
