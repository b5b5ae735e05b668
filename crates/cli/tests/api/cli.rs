//! The `revtrace` binary: help text, company creation, rates on a running
//! server, clear failures, and durability of answered events when killed.

use std::{
    io::{BufRead, BufReader},
    process::{Command, Stdio},
};

use serde_json::json;

use crate::helpers::*;

fn revtrace() -> Command {
    Command::new(env!("CARGO_BIN_EXE_revtrace"))
}

#[test]
fn every_command_explains_itself() {
    for args in [
        vec!["--help"],
        vec!["serve", "--help"],
        vec!["demo", "--help"],
        vec!["company", "origins", "--help"],
        vec!["company", "add", "--help"],
        vec!["rates", "set", "--help"],
        vec!["rates", "import-ecb", "--help"],
        vec!["products", "import", "--help"],
        vec!["reattribute", "--help"],
        vec!["export", "--help"],
        vec!["shopify", "connect", "--help"],
        vec!["privacy", "export", "--help"],
        vec!["privacy", "erase", "--help"],
        vec!["copy", "--help"],
        vec!["company", "list", "--help"],
        vec!["experiment", "add", "--help"],
        vec!["experiment", "list", "--help"],
        vec!["experiment", "show", "--help"],
        vec!["experiment", "end", "--help"],
    ] {
        let out = revtrace().args(&args).output().unwrap();
        assert!(out.status.success(), "{args:?}");
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(text.contains("Usage: revtrace"), "{args:?}: {text}");
        assert!(text.lines().count() > 5, "{args:?}: {text}");
    }
}

#[test]
fn company_add_prints_credentials_that_work() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("r.db");
    let out = run_cli(&db, &["company", "add", "--name", "Glow", "--timezone", "Europe/Paris", "--json"]);
    assert!(out.status.success(), "{out:?}");
    let creds: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(creds["company_id"].as_str().unwrap().starts_with("co_"));
    assert!(creds["company_key"].as_str().unwrap().starts_with("pk_"));
    assert!(creds["secret_key"].as_str().unwrap().starts_with("sk_"));
    // The secret key is stored only as a digest.
    let conn = rusqlite::Connection::open(&db).unwrap();
    let stored: i64 = conn
        .query_row(
            "SELECT count(*) FROM api_keys WHERE key_sha256 = ?1",
            [creds["secret_key"].as_str().unwrap()],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(stored, 0);
}

#[test]
fn bad_input_fails_with_one_clear_line() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("r.db");
    for (args, needle) in [
        (vec!["company", "add", "--name", "X", "--timezone", "Mars/Olympus"], "IANA"),
        (vec!["company", "add", "--name", " "], "--name"),
        (vec!["rates", "set", "EURO", "1.1"], "currency"),
        (vec!["rates", "set", "EUR", "-1"], "multiplier"),
        (vec!["rates", "set", "EUR", "1.1", "--from", "tomorrow"], "--from"),
        // A date error names the flag and the format, not the parser's reasoning.
        (
            vec!["rates", "set", "EUR", "1.1", "--from", "2026-13-01"],
            "--from \"2026-13-01\" is not a date: use YYYY-MM-DD",
        ),
        (
            vec!["export", "--company", "co_x", "--from", "2026-02-30", "--to", "2026-03-01", "--out", "x"],
            "--from \"2026-02-30\" is not a date: use YYYY-MM-DD, like 2026-09-14",
        ),
        (vec!["reattribute", "--company", "co_missing"], "unknown company"),
        (vec!["shopify", "connect", "--company", "co_x", "--shop", "glow.com", "--secret", "12345678"], "myshopify"),
        (vec!["shopify", "connect", "--company", "co_x", "--shop", "a.myshopify.com", "--secret", "short"], "short"),
        (
            vec!["shopify", "connect", "--company", "co_x", "--shop", "a.myshopify.com", "--secret", "12345678"],
            "no company co_x",
        ),
        (
            vec![
                "shopify",
                "connect",
                "--company",
                "co_x",
                "--shop",
                "a.myshopify.com",
                "--secret",
                "12345678",
                "--revenue-basis",
                "net",
            ],
            "--revenue-basis",
        ),
        (vec!["privacy", "erase", "--company", "co_x", "--fingerprint", "FP-1"], "no company co_x"),
        (vec!["export", "--company", "co_x", "--from", "2026-01-02", "--to", "2026-01-01", "--out", "x"], "after"),
        (vec!["copy", "--from", "postgres://x@h/db", "--to", "postgres://x@h/db"], "sqlite://PATH"),
        (vec!["copy", "--from", "sqlite:///no/such/file.db", "--to", "postgres://x@h/db"], "no SQLite database"),
        (vec!["serve", "--database", "postgres://postgres@127.0.0.1:1/none"], "cannot open the PostgreSQL database"),
    ] {
        let out = run_cli(&db, &args);
        assert!(!out.status.success(), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(err.trim().lines().count(), 1, "{args:?}: {err}");
        assert!(err.contains(needle), "{args:?}: {err}");
        assert!(!err.contains("parse") && !err.contains("Caused by"), "{args:?}: no parser internals: {err}");
    }
    let out = revtrace().args(["serve", "--database", "mysql://x"]).output().unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown database URL"));
}

#[tokio::test]
async fn rates_and_companies_take_effect_on_a_running_server() {
    let Some(app) = spawn_app().await else { return };
    let mut eur = add_to_cart("FP-1", "p1", 2, "10.00", "2026-09-01T10:00:00Z");
    eur["currency"] = json!("EUR");
    assert_eq!(app.cart(eur.clone()).await.body["usd_value"], serde_json::Value::Null);

    assert!(app.cli(&["rates", "set", "EUR", "1.10", "--from", "2026-08-01"]).status.success());
    assert_eq!(app.cart(eur.clone()).await.body["usd_value"], "22.00");
    assert!(app.cli(&["rates", "set", "eur", "1.20", "--from", "2026-09-01"]).status.success());
    assert_eq!(app.cart(eur.clone()).await.body["usd_value"], "24.00");
    eur["occurred_at"] = json!("2026-08-31T23:59:59Z");
    assert_eq!(app.cart(eur).await.body["usd_value"], "22.00", "the rate in force on the event's day");

    // A company created by the CLI can ingest at once.
    let out = app.cli(&["company", "add", "--name", "Fresh", "--json"]);
    let creds: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let mut body = add_to_cart("FP-1", "p1", 1, "1.00", "2026-09-01T10:00:00Z");
    body["company_key"] = creds["company_key"].clone();
    assert_eq!(app.cart(body).await.status, 201);
}

#[tokio::test]
async fn answered_events_survive_a_killed_server() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("r.db");
    let out = run_cli(&db, &["company", "add", "--name", "Glow", "--json"]);
    let creds: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let mut server = revtrace()
        .args(["serve", "--listen", "127.0.0.1:0"])
        .env("REVTRACE_DATABASE_URL", format!("sqlite://{}", db.display()))
        .env("RUST_LOG", "info")
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // The log line names the bound address.
    let mut lines = BufReader::new(server.stderr.take().unwrap()).lines();
    let address = loop {
        let line = lines.next().expect("server log").unwrap();
        if let Some(rest) = line.split("address=").nth(1) {
            break rest.split_whitespace().next().unwrap().to_owned();
        }
    };
    let client = reqwest::Client::new();
    let send = |i: usize| {
        let (client, url, key) =
            (client.clone(), format!("http://{address}/analytics/checkout_events"), creds["company_key"].clone());
        async move {
            let body =
                json!({"company_key": key, "order_id": format!("K-{i}"), "order_value": "1.00", "currency": "USD"});
            client.post(url).body(body.to_string()).send().await.map(|r| r.status().as_u16()).unwrap_or(0)
        }
    };
    let mut answered = 0;
    for i in 0..50 {
        if send(i).await == 201 {
            answered += 1;
        }
    }
    assert_eq!(answered, 50);
    let mut tasks = Vec::new();
    for i in 50..250 {
        tasks.push(tokio::spawn(send(i)));
    }
    // Kill while calls are in flight.
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    server.kill().unwrap();
    server.wait().unwrap();
    for t in tasks {
        if t.await.unwrap() == 201 {
            answered += 1;
        }
    }
    let stored = count_rows(&db, "events");
    assert!(stored >= answered, "{answered} answered 201 but only {stored} stored");
}

const ECB_XML: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<gesmes:Envelope xmlns:gesmes="http://www.gesmes.org/xml/2002-08-01" xmlns="http://www.ecb.int/vocabulary/2002-08-01/eurofxref">
  <gesmes:subject>Reference rates</gesmes:subject>
  <Cube>
    <Cube time="2026-09-02"><Cube currency="USD" rate="1.1000"/><Cube currency="JPY" rate="160.00"/></Cube>
    <Cube time="2026-09-01"><Cube currency="USD" rate="1.0800"/><Cube currency="JPY" rate="162.00"/></Cube>
  </Cube>
</gesmes:Envelope>"#;

#[tokio::test]
async fn ecb_rates_convert_events_from_their_reference_day() {
    let Some(app) = spawn_app().await else { return };
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("eurofxref-hist.xml");
    std::fs::write(&file, ECB_XML).unwrap();
    let out = app.cli(&["rates", "import-ecb", file.to_str().unwrap()]);
    assert!(out.status.success(), "{out:?}");
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        "4 rates from the ECB for 2 days, 2026-09-01 to 2026-09-02"
    );
    // Loading the same file again changes nothing.
    assert!(app.cli(&["rates", "import-ecb", file.to_str().unwrap()]).status.success());

    let mut first = add_to_cart("FP-1", "p", 2, "50.00", "2026-09-01T12:00:00Z");
    first["currency"] = json!("EUR");
    assert_eq!(app.cart(first).await.body["usd_value"], "108.00");
    let mut second = add_to_cart("FP-1", "p", 1, "1100", "2026-09-02T12:00:00Z");
    second["currency"] = json!("JPY");
    // 1100 JPY × (1.10 / 160) = 7.5625 → 7.56
    assert_eq!(app.cart(second).await.body["usd_value"], "7.56");
    let TestDb::Sqlite(db_path) = &app.db else { unreachable!("the CLI module runs on SQLite") };
    let conn = rusqlite::Connection::open(db_path).unwrap();
    let stored: (String, String, String) = conn
        .query_row(
            "SELECT usd_multiplier, rate_effective_from, rate_source FROM events WHERE currency = 'JPY'",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .unwrap();
    assert_eq!(stored, ("0.006875".into(), "2026-09-02".into(), "ecb".into()));

    std::fs::write(&file, "<html>not rates</html>").unwrap();
    let bad = app.cli(&["rates", "import-ecb", file.to_str().unwrap()]);
    assert!(!bad.status.success());
    let line = String::from_utf8_lossy(&bad.stderr);
    assert!(line.contains("is not an ECB reference-rates file") && line.lines().count() == 1, "{line}");
}

#[tokio::test]
async fn products_import_loads_a_catalog_and_names_a_bad_line() {
    let Some(app) = spawn_app().await else { return };
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("catalog.ndjson");
    let lines: Vec<String> = (0..2500)
        .map(|i| json!({"product_id": format!("p{i}"), "title": format!("Product {i}"), "url": format!("https://x.example/{i}")}).to_string())
        .collect();
    std::fs::write(&file, lines.join("\n") + "\n\n").unwrap();
    let args = ["products", "import", file.to_str().unwrap(), "--company", app.company_id.as_str()];
    let out = app.cli(&args);
    assert!(out.status.success(), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("2500 products imported"), "{out:?}");
    assert_eq!(app.count("products").await, 2500);

    std::fs::write(&file, "{\"product_id\": \"new\"}\n{\"product_id\": \"p\", \"image_url\": \"nope\"}\n").unwrap();
    let bad = app.cli(&args);
    assert!(!bad.status.success());
    let line = String::from_utf8_lossy(&bad.stderr);
    assert!(line.contains("line 2") && line.contains("http(s) URL"), "{line}");
    std::fs::write(&file, "{\"product_id\": \"new\"}\n\n{\"product_id\": }\n").unwrap();
    let bad = app.cli(&args);
    let line = String::from_utf8_lossy(&bad.stderr);
    assert_eq!(
        line.trim(),
        format!("revtrace: {} line 3, column 16: expected value", file.display()),
        "one line number, the file's"
    );
    assert_eq!(app.count("products").await, 2500, "a bad file writes nothing");
}

#[tokio::test]
async fn the_demo_store_is_full_and_holds_the_moisturizer_journey() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("demo.db");
    let out = revtrace().args(["demo", "--no-serve", "--file", db.to_str().unwrap()]).output().unwrap();
    assert!(out.status.success(), "{out:?}");
    let text = String::from_utf8_lossy(&out.stdout);
    let secret = text.lines().find_map(|l| l.strip_prefix("secret_key:")).unwrap().trim().to_owned();

    let store = revtrace_store::sqlite::SqliteStore::open(&db).unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let state = revtrace_server::AppState::new(std::sync::Arc::new(store));
    tokio::spawn(revtrace_server::serve(listener, state, std::future::pending()));
    let client = reqwest::Client::new();
    let get = |path: String| client.get(format!("{base}{path}")).bearer_auth(&secret).send();
    let journey: serde_json::Value = get("/v1/tickets/TK-2291/revenue".into()).await.unwrap().json().await.unwrap();
    assert_eq!(journey["totals"]["checkout_revenue_usd"], "48.00");
    assert_eq!(journey["events"][1]["order_id"], "1001");

    let today = jiff::Zoned::now().date();
    let since = today.checked_sub(jiff::Span::new().days(120)).unwrap();
    let report: serde_json::Value =
        get(format!("/v1/revenue-impact?from={since}&to={today}")).await.unwrap().json().await.unwrap();
    let m = &report["metrics"];
    assert!(m["orders"].as_i64().unwrap() > 300, "{m}");
    assert!(m["unattributed_orders"].as_i64().unwrap() > 100, "a baseline: {m}");
    assert_ne!(m["refunds_usd"], "0.00");
    for source in ["CHAT_WIDGET", "FAQ", "NUDGE_CLICK"] {
        assert!(report["by_source"][source]["orders"].as_i64().unwrap() > 0, "{source}");
    }
    let conn = rusqlite::Connection::open(&db).unwrap();
    let currencies: i64 = conn.query_row("SELECT count(DISTINCT currency) FROM events", [], |r| r.get(0)).unwrap();
    assert_eq!(currencies, 3, "USD, EUR and JPY");
    let days: i64 = conn.query_row("SELECT count(DISTINCT day) FROM events", [], |r| r.get(0)).unwrap();
    assert!(days >= 59, "{days} days");

    // Deterministic: a second build of the same day holds the same events.
    let again = dir.path().join("again.db");
    assert!(
        revtrace().args(["demo", "--no-serve", "--file", again.to_str().unwrap()]).output().unwrap().status.success()
    );
    let totals = |path: &std::path::Path| -> (i64, i64) {
        let c = rusqlite::Connection::open(path).unwrap();
        c.query_row("SELECT count(*), sum(coalesce(usd_cents, 0)) FROM events", [], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
    };
    assert_eq!(totals(&db), totals(&again));
}

#[test]
fn experiments_are_managed_from_the_cli() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("r.db");
    let out = run_cli(&db, &["company", "add", "--name", "Glow", "--json"]);
    let creds: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let company = creds["company_id"].as_str().unwrap();
    let add = |extra: &[&str]| {
        let mut args = vec!["experiment", "add", "--company", company];
        args.extend_from_slice(extra);
        run_cli(&db, &args)
    };
    let out = add(&["ai-holdout", "--holdout-pct", "10", "--starts-at", "2026-09-01T00:00:00Z"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).contains("holdout (10), assisted (90)"));
    let out = add(&["profiles", "--arm", "concise:1:concise-v2", "--arm", "detailed:1", "--control", "detailed"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));

    // Refusals are one line naming the flag.
    for (extra, flag) in [
        (vec!["h2", "--holdout-pct", "0"], "--holdout-pct"),
        (vec!["ab", "--arm", "a", "--arm", "b:1", "--control", "b"], "--arm"),
        (vec!["ab", "--arm", "a:1", "--arm", "b:1", "--control", "c"], "--control"),
        (vec!["ab", "--arm", "a:1", "--arm", "b:0", "--control", "a"], "--arm [1].weight"),
        (vec!["h3", "--holdout-pct", "5", "--starts-at", "yesterday"], "--starts-at"),
        (vec!["ai-holdout", "--holdout-pct", "5"], "already exists"),
    ] {
        let out = add(&extra);
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success() && err.contains(flag) && err.lines().count() == 1, "{extra:?}: {err}");
    }

    let out = run_cli(&db, &["experiment", "list", "--company", company]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("ai-holdout") && text.contains("profiles") && text.contains("holdout 0"), "{text}");
    let out = run_cli(&db, &["experiment", "show", "ai-holdout", "--company", company, "--json"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let results: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!((results["key"].as_str(), results["arms"].as_array().map(Vec::len)), (Some("ai-holdout"), Some(2)));
    let out = run_cli(&db, &["experiment", "show", "profiles", "--company", company]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("concise vs detailed") && text.contains("not estimable"), "{text}");
    let out = run_cli(&db, &["experiment", "end", "profiles", "--company", company, "--at", "2030-01-01T00:00:00Z"]);
    assert!(String::from_utf8_lossy(&out.stdout).contains("ends at 2030-01-01T00:00:00Z"), "{out:?}");
    let out = run_cli(&db, &["experiment", "show", "nope", "--company", company]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("no experiment nope"));
}

#[test]
fn companies_are_listed_and_a_missing_one_names_the_database() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("r.db");
    let out = run_cli(&db, &["company", "list"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success() && text.contains("no companies in sqlite://") && text.contains("r.db"), "{text}");
    let out = run_cli(&db, &["company", "add", "--name", "Glow", "--timezone", "America/New_York", "--json"]);
    let creds: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    run_cli(&db, &["company", "add", "--name", "Second shop"]);
    let out = run_cli(&db, &["company", "list", "--json"]);
    let listed: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(listed.as_array().map(Vec::len), Some(2));
    assert_eq!(listed[0]["company_id"], creds["company_id"]);
    assert_eq!(
        (listed[0]["timezone"].as_str(), listed[0]["window_hours"].as_i64()),
        (Some("America/New_York"), Some(24))
    );
    assert_eq!(listed[0]["company_key"], creds["company_key"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(!text.contains("sk_"), "no secret is shown");
    let out = run_cli(&db, &["company", "list"]);
    assert!(String::from_utf8_lossy(&out.stdout).contains("Second shop"));

    // A company id from another database: the message says which one was opened.
    let out = run_cli(&db, &["experiment", "list", "--company", "co_nope"]);
    let err = String::from_utf8_lossy(&out.stderr);
    let absolute = std::path::absolute(&db).unwrap();
    assert!(err.contains(&format!("no company co_nope in sqlite://{}", absolute.display())), "{err}");
    assert!(err.contains("revtrace company list") && err.lines().count() == 1, "{err}");
}

#[test]
fn demo_on_a_busy_port_leaves_the_database_alone() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("demo.db");
    std::fs::write(&file, b"the previous demo").unwrap();
    let busy = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = busy.local_addr().unwrap().to_string();
    let out = revtrace().args(["demo", "--file", file.to_str().unwrap(), "--listen", &addr]).output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && err.contains(&format!("cannot listen on {addr}")), "{err}");
    assert!(err.contains("--listen"), "{err}");
    assert!(out.stdout.is_empty(), "no keys were printed");
    assert_eq!(std::fs::read(&file).unwrap(), b"the previous demo", "the database was not rebuilt");
}
