//! Several `revtrace serve` processes on one PostgreSQL database (the
//! deployment of docs/deploy.md): the same order, idempotency id, Shopify
//! webhook id and ticket message sent to both at once are stored once, and
//! the rollups still equal a recomputation from raw events.

use std::process::{Child, Command, Stdio};

use futures_util::future::join_all;
use serde_json::{Value, json};

use crate::{
    helpers::*,
    shopify::{SECRET, SHOP, paid_order, sign},
};

/// A `revtrace serve` process, killed when dropped.
struct Server {
    base: String,
    child: Child,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn start_server(url: &str) -> Server {
    start_server_with(url, &[]).await
}

async fn start_server_with(url: &str, extra: &[&str]) -> Server {
    // A free port: bound, read, released (the server binds it next).
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let child = Command::new(env!("CARGO_BIN_EXE_revtrace"))
        .args(["serve", "--listen", &format!("127.0.0.1:{port}"), "--pg-pool-size", "8"])
        .args(extra)
        .env("REVTRACE_DATABASE_URL", url)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start revtrace serve");
    let server = Server { base: format!("http://127.0.0.1:{port}"), child };
    let client = reqwest::Client::new();
    for _ in 0..200 {
        if let Ok(r) = client.get(format!("{}/readyz", server.base)).send().await
            && r.status().is_success()
        {
            return server;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("revtrace serve on {} did not become ready", server.base);
}

/// `revtrace company add` through the CLI, as an operator would.
fn add_company(url: &str) -> Value {
    let out = run_cli_on(url, &["company", "add", "--name", "Glow", "--json"]);
    assert!(out.status.success(), "{out:?}");
    serde_json::from_slice(&out.stdout).unwrap()
}

async fn post(client: &reqwest::Client, url: String, body: String, headers: Vec<(&str, String)>) -> (u16, Value) {
    let mut request = client.post(url).header("content-type", "application/json").body(body);
    for (name, value) in headers {
        request = request.header(name, value);
    }
    let response = request.send().await.expect("request");
    let status = response.status().as_u16();
    let text = response.text().await.expect("body");
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

#[tokio::test]
async fn two_servers_store_each_duplicate_once() {
    let dir = tempfile::tempdir().unwrap();
    let Some(db) = TestDb::fresh(dir.path()).await else { return };
    let url = db.url();
    let credentials = add_company(&url);
    let (company, secret_key) =
        (credentials["company_id"].as_str().unwrap(), credentials["secret_key"].as_str().unwrap());
    let out = run_cli_on(&url, &["shopify", "connect", "--company", company, "--shop", SHOP, "--secret", SECRET]);
    assert!(out.status.success(), "{out:?}");

    let servers = [start_server(&url).await, start_server(&url).await];
    let client = reqwest::Client::new();
    let bearer = format!("Bearer {secret_key}");
    const EACH: usize = 8;

    // Every duplicate goes to both servers, four times each, all at once:
    // first the conversation, then (so that it is there to be credited) the
    // order, the idempotent cart call and the webhook.
    let ticket = grounded_ticket("TK-1", "FP-race", "2026-09-14T15:02:11Z", "2026-09-14T15:02:14Z");
    let checkout = order(Some("FP-race"), "ORDER-RACE", "48.00", "2026-09-14T16:00:00Z");
    let cart = add_to_cart("FP-race", "hydra-barrier-cream", 1, "48.00", "2026-09-14T15:30:00Z");
    let webhook = paid_order(4_242, None, Some("FP-race"), None).to_string();
    let auth = || vec![("authorization", bearer.clone())];
    let tickets = (0..EACH)
        .map(|i| post(&client, format!("{}/analytics/tickets", servers[i % 2].base), ticket.to_string(), auth()));
    let tickets = join_all(tickets).await;
    assert!(tickets.iter().all(|(status, _)| *status == 200), "{tickets:?}");
    let mut calls = Vec::new();
    for i in 0..EACH {
        let base = &servers[i % 2].base;
        calls.push(("order", post(&client, format!("{base}/analytics/checkout_events"), checkout.to_string(), auth())));
        let mut idempotent = auth();
        idempotent.push(("idempotency-key", "cart-1".to_owned()));
        calls.push((
            "idempotency",
            post(&client, format!("{base}/analytics/cart_events"), cart.to_string(), idempotent),
        ));
        let signed = vec![
            ("x-shopify-topic", "orders/paid".to_owned()),
            ("x-shopify-shop-domain", SHOP.to_owned()),
            ("x-shopify-hmac-sha256", sign(webhook.as_bytes(), SECRET)),
            ("x-shopify-webhook-id", "wh-race".to_owned()),
        ];
        calls.push(("webhook", post(&client, format!("{base}/webhooks/shopify"), webhook.clone(), signed)));
    }
    let (kinds, futures): (Vec<&str>, Vec<_>) = calls.into_iter().unzip();
    let answers: Vec<(&str, (u16, Value))> = kinds.into_iter().zip(join_all(futures).await).collect();
    let of =
        |kind: &str| -> Vec<&(u16, Value)> { answers.iter().filter(|(k, _)| *k == kind).map(|(_, a)| a).collect() };

    let orders = of("order");
    assert_eq!(orders.iter().filter(|(s, _)| *s == 201).count(), 1, "{orders:?}");
    assert!(
        orders.iter().all(|(s, b)| *s == 201 || (*s == 409 && b["error"]["code"] == "duplicate_order")),
        "{orders:?}"
    );
    let replays = of("idempotency");
    assert!(replays.iter().all(|a| *a == replays[0] && a.0 == 201), "one answer, replayed verbatim: {replays:?}");
    let deliveries = of("webhook");
    let statuses: Vec<&str> = deliveries.iter().map(|(_, b)| b["status"].as_str().unwrap_or("?")).collect();
    assert_eq!(statuses.iter().filter(|s| **s == "processed").count(), 1, "{deliveries:?}");
    assert!(statuses.iter().all(|s| *s == "processed" || *s == "duplicate"), "{deliveries:?}");

    let stored = db
        .rows(
            "SELECT (SELECT count(*) FROM events WHERE order_id = 'ORDER-RACE'),
                    (SELECT count(*) FROM events WHERE order_id = '4242'),
                    (SELECT count(*) FROM events WHERE cart_type = 'CART_EVENT'),
                    (SELECT count(*) FROM idempotency_keys),
                    (SELECT count(*) FROM shopify_deliveries),
                    (SELECT count(*) FROM tickets),
                    (SELECT count(*) FROM messages)",
        )
        .await;
    assert_eq!(stored, vec![vec![json!(1), json!(1), json!(1), json!(1), json!(1), json!(1), json!(2)]]);
    // The cart add and both orders came after the grounded answer: attributed.
    let attributed = db.rows("SELECT count(*) FROM events WHERE attributed").await;
    assert_eq!(attributed, vec![vec![json!(3)]]);
    assert_rollups_match_events(&db).await;
}

/// Many shoppers at once across both servers: the sharded counters and the
/// visitor days still sum to what the raw events say.
#[tokio::test]
async fn two_servers_under_load_keep_the_rollups_exact() {
    let dir = tempfile::tempdir().unwrap();
    let Some(db) = TestDb::fresh(dir.path()).await else { return };
    let url = db.url();
    let credentials = add_company(&url);
    let secret_key = credentials["secret_key"].as_str().unwrap().to_owned();
    let servers = [start_server(&url).await, start_server(&url).await];
    let client = reqwest::Client::new();
    let mut calls = Vec::new();
    for shopper in 0..40 {
        let base = servers[shopper % 2].base.clone();
        let (client, key) = (client.clone(), secret_key.clone());
        calls.push(async move {
            let fp = format!("FP-{shopper}");
            let auth = || vec![("authorization", format!("Bearer {key}"))];
            // Every third shopper comes back the next day (a multi-day visitor).
            let day = if shopper % 3 == 0 { "15" } else { "14" };
            let ticket = grounded_ticket(&format!("T-{shopper}"), &fp, "2026-09-14T10:00:00Z", "2026-09-14T10:00:05Z");
            let mut answers =
                vec![post(&client, format!("{base}/analytics/tickets"), ticket.to_string(), auth()).await];
            for item in 0..3 {
                let at = format!("2026-09-{day}T11:0{item}:00Z");
                let cart = add_to_cart(&fp, &format!("p-{item}"), 1, "10.00", &at);
                answers.push(post(&client, format!("{base}/analytics/cart_events"), cart.to_string(), auth()).await);
            }
            let checkout = order(Some(&fp), &format!("O-{shopper}"), "30.00", &format!("2026-09-{day}T12:00:00Z"));
            answers
                .push(post(&client, format!("{base}/analytics/checkout_events"), checkout.to_string(), auth()).await);
            answers
        });
    }
    for answers in join_all(calls).await {
        assert!(answers.iter().all(|(s, _)| *s == 200 || *s == 201), "{answers:?}");
    }
    assert_eq!(db.counts(&["events", "visitor_days", "multi_visitors"]).await, vec![160, 54, 14]);
    assert_rollups_match_events(&db).await;
}

/// A store moving from its embedded SQLite file to PostgreSQL: `revtrace
/// copy` brings every row over, and both databases answer the same reports,
/// conversation pages and exports; the copy then takes new events, and a
/// second copy into the filled database is refused.
#[tokio::test]
async fn a_sqlite_history_copied_to_postgres_reports_the_same() {
    let dir = tempfile::tempdir().unwrap();
    let Some(db) = TestDb::fresh(dir.path()).await else { return };
    let file = dir.path().join("demo.db");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_revtrace"))
        .args(["demo", "--no-serve", "--days", "20", "--visitors", "400", "--file"])
        .arg(&file)
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let printed = String::from_utf8_lossy(&out.stdout).into_owned();
    let field =
        |name: &str| printed.lines().find_map(|l| l.strip_prefix(name)).map(|v| v.trim().to_owned()).expect(name);
    let (company, secret_key) = (field("company_id:"), field("secret_key:"));

    let sqlite_url = format!("sqlite://{}", file.display());
    let out = run_cli_on(&db.url(), &["copy", "--from", &sqlite_url, "--to", &db.url()]);
    assert!(out.status.success(), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stdout).contains("events"), "{out:?}");

    let servers = [start_server(&sqlite_url).await, start_server(&db.url()).await];
    let client = reqwest::Client::new();
    let get = |base: String, path: &str| {
        let request = client.get(format!("{base}{path}")).bearer_auth(&secret_key).send();
        async move {
            let response = request.await.unwrap();
            assert_eq!(response.status(), 200);
            response.text().await.unwrap()
        }
    };
    let top: Value = serde_json::from_str(&get(servers[0].base.clone(), "/v1/tickets?limit=3").await).unwrap();
    let ticket = top[0]["ticket_id"].as_str().expect("a top conversation").to_owned();
    for path in [
        "/v1/revenue-impact".to_owned(),
        "/v1/revenue-impact/daily".to_owned(),
        "/v1/company".to_owned(),
        "/v1/tickets?limit=5".to_owned(),
        format!("/v1/tickets/{ticket}/revenue"),
        "/v1/export/revenue-impact?format=ndjson".to_owned(),
    ] {
        let (on_sqlite, on_postgres) =
            tokio::join!(get(servers[0].base.clone(), &path), get(servers[1].base.clone(), &path));
        assert_eq!(on_sqlite, on_postgres, "{path}");
    }
    assert_rollups_match_events(&db).await;

    // The copy goes on: a new order is stored and attributed like any other.
    let body = order(Some("FP-after-copy"), "AFTER-COPY", "10.00", "2026-09-14T16:00:00Z").to_string();
    let (status, receipt) = post(
        &client,
        format!("{}/analytics/checkout_events", servers[1].base),
        body,
        vec![("authorization", format!("Bearer {secret_key}"))],
    )
    .await;
    assert_eq!(status, 201, "{receipt}");
    let again = run_cli_on(&db.url(), &["copy", "--from", &sqlite_url, "--to", &db.url()]);
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("copy into an empty one"), "{again:?}");
    assert!(!company.is_empty());
}
