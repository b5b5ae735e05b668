//! The dashboard and the browser script in real headless Chromium (Debian's
//! `chromium`, driven by playwright-core from `tests/browser`). Skipped, with
//! a message, where either is missing; `REVTRACE_REQUIRE_BROWSER=1` (set by
//! `.ci/run`) makes a missing browser a failure.

use std::{
    path::PathBuf,
    sync::{Arc, Mutex},
};

use axum::{
    Json, Router,
    body::Bytes,
    extract::State,
    response::Html,
    routing::{get, post},
};
use serde_json::{Value, json};

use crate::{helpers::*, reports::fixture};

fn browser_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/browser")
}

fn chromium() -> String {
    std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into())
}

/// Installs the pinned playwright-core (package-lock.json) once per run,
/// when npm is there and it is not installed yet.
fn install_driver() -> bool {
    static INSTALLED: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *INSTALLED.get_or_init(|| {
        if browser_dir().join("node_modules/playwright-core").exists() {
            return true;
        }
        std::process::Command::new("npm")
            .args(["ci", "--no-audit", "--no-fund", "--prefix"])
            .arg(browser_dir())
            .status()
            .is_ok_and(|s| s.success())
    })
}

/// Whether the browser tests can run here; says why not when they cannot.
fn browser_ready(test: &str) -> bool {
    let missing = if !std::path::Path::new(&chromium()).exists() {
        Some(format!("no Chromium at {} (apt-get install chromium)", chromium()))
    } else if !install_driver() {
        Some("playwright-core could not be installed (npm ci --prefix tests/browser)".into())
    } else {
        None
    };
    match missing {
        None => true,
        Some(why) if std::env::var("REVTRACE_REQUIRE_BROWSER").as_deref() == Ok("1") => {
            panic!("{test}: {why}, and REVTRACE_REQUIRE_BROWSER=1")
        }
        Some(why) => {
            eprintln!("SKIPPED {test}: {why}");
            false
        }
    }
}

/// Runs a scenario of `tests/browser/drive.mjs` and returns what it printed.
async fn drive(args: &[&str]) -> Value {
    let owned: Vec<String> = args.iter().map(|a| (*a).to_owned()).collect();
    // Off the async workers: the servers under test keep answering meanwhile.
    let output = tokio::task::spawn_blocking(move || {
        std::process::Command::new("node")
            .arg(browser_dir().join("drive.mjs"))
            .args(&owned)
            .env("CHROMIUM", chromium())
            .output()
    })
    .await
    .expect("join")
    .expect("run node");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "drive.mjs {args:?} failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let answer: Value = serde_json::from_str(stdout.trim()).expect("drive.mjs prints JSON");
    assert_eq!(answer["errors"], json!([]), "script errors on the page");
    assert_eq!(answer["missing_assets"], json!([]), "the page asked for something that is not there");
    answer
}

// ---- a fake storefront with the Ajax Cart API's shapes ---------------------

#[derive(Default)]
struct Cart {
    /// variant id → (quantity, properties), in the order added.
    lines: Vec<(u64, i64, Value)>,
    /// The properties of every item added, as the store received them.
    added: Vec<Value>,
}

type Shop = Arc<Mutex<Cart>>;

/// (product id, title, price in cents) of a variant.
fn variant(id: u64) -> (u64, &'static str, i64) {
    match id {
        111 => (9001, "Hydra Barrier Cream", 4800),
        _ => (9002, "Bright Vitamin C Serum", 3600),
    }
}

fn line(id: u64, quantity: i64, properties: &Value) -> Value {
    let (product, title, price) = variant(id);
    json!({"id": id, "variant_id": id, "product_id": product, "key": format!("{id}:7c1f0a"), "title": title,
           "quantity": quantity, "price": price, "original_price": price, "line_price": price * quantity,
           "final_price": price, "properties": properties, "sku": null, "url": format!("/products/{product}")})
}

fn cart_json(cart: &Cart) -> Value {
    let items: Vec<Value> = cart.lines.iter().map(|(id, q, p)| line(*id, *q, p)).collect();
    let count: i64 = cart.lines.iter().map(|(_, q, _)| q).sum();
    json!({"token": "c1-7a2ac3c1?key=824bdj25mhg1242bdb385", "note": null, "attributes": {}, "currency": "USD",
           "item_count": count, "items": items, "requires_shipping": true,
           "total_price": cart.lines.iter().map(|(id, q, _)| variant(*id).2 * q).sum::<i64>()})
}

/// `a=1&properties%5Bx%5D=y` → pairs (enough for the theme's own forms).
fn form_pairs(body: &str) -> Vec<(String, String)> {
    let decode = |s: &str| {
        let s = s.replace('+', " ");
        let mut out = Vec::new();
        let bytes = s.as_bytes();
        let mut i = 0;
        while i < bytes.len() {
            if bytes[i] == b'%'
                && i + 3 <= bytes.len()
                && let Ok(b) = u8::from_str_radix(&s[i + 1..i + 3], 16)
            {
                out.push(b);
                i += 3;
                continue;
            }
            out.push(bytes[i]);
            i += 1;
        }
        String::from_utf8_lossy(&out).into_owned()
    };
    body.split('&').filter_map(|kv| kv.split_once('=')).map(|(k, v)| (decode(k), decode(v))).collect()
}

/// The fields of a `multipart/form-data` body (what a theme's `FormData` sends).
fn multipart_pairs(content_type: &str, body: &str) -> Vec<(String, String)> {
    let Some(boundary) = content_type.split("boundary=").nth(1) else { return Vec::new() };
    body.split(&format!("--{boundary}"))
        .filter_map(|part| {
            let (head, value) = part.split_once("\r\n\r\n")?;
            let name = head.split("name=\"").nth(1)?.split('"').next()?;
            Some((name.to_owned(), value.trim_end_matches("\r\n").to_owned()))
        })
        .collect()
}

/// A cart drawer's section, as the theme renders it: a line per item with
/// its quantity buttons (1-based line numbers, as /cart/change takes them).
fn drawer_section(cart: &Cart) -> String {
    cart.lines
        .iter()
        .enumerate()
        .map(|(i, (id, q, _))| {
            format!(
                r#"<div class="line">{} × <b>{q}</b><button class="plus" data-line="{}" data-quantity="{}">+</button><button class="remove" data-line="{}" data-quantity="0">Remove</button></div>"#,
                variant(*id).1,
                i + 1,
                q + 1,
                i + 1
            )
        })
        .collect()
}

/// The sections a call asked for (`sections=a,b` or `"sections": [..]`), rendered.
fn sections(cart: &Cart, asked: Option<String>) -> Option<Value> {
    let asked = asked?;
    Some(Value::Object(asked.split(',').map(|name| (name.to_owned(), json!(drawer_section(cart)))).collect()))
}

async fn add(State(shop): State<Shop>, headers: axum::http::HeaderMap, body: Bytes) -> Json<Value> {
    let text = String::from_utf8_lossy(&body).into_owned();
    let content_type = headers.get("content-type").and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
    let mut single = true;
    let mut asked = None;
    let items: Vec<(u64, i64, Value)> = match serde_json::from_str::<Value>(&text) {
        Ok(json) => {
            single = json.get("items").is_none();
            json["items"]
                .as_array()
                .cloned()
                .unwrap_or_else(|| vec![json.clone()])
                .iter()
                .map(|i| (i["id"].as_u64().unwrap(), i["quantity"].as_i64().unwrap_or(1), i["properties"].clone()))
                .collect()
        }
        Err(_) => {
            let pairs = if content_type.starts_with("multipart/form-data") {
                multipart_pairs(&content_type, &text)
            } else {
                form_pairs(&text)
            };
            let get = |k: &str| pairs.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
            asked = get("sections");
            let properties: serde_json::Map<String, Value> = pairs
                .iter()
                .filter_map(|(k, v)| {
                    k.strip_prefix("properties[").and_then(|r| r.strip_suffix(']')).map(|n| (n.to_owned(), json!(v)))
                })
                .collect();
            vec![(
                get("id").unwrap().parse().unwrap(),
                get("quantity").map(|q| q.parse().unwrap()).unwrap_or(1),
                Value::Object(properties),
            )]
        }
    };
    let mut cart = shop.lock().unwrap();
    let mut added = Vec::new();
    for (id, quantity, properties) in items {
        cart.added.push(properties.clone());
        let total = match cart.lines.iter_mut().find(|(v, _, _)| *v == id) {
            Some(existing) => {
                existing.1 += quantity;
                existing.1
            }
            None => {
                cart.lines.push((id, quantity, properties.clone()));
                quantity
            }
        };
        // Shopify answers with each added line as it now is in the cart.
        added.push(line(id, total, &properties));
    }
    let mut answer = if single { added.remove(0) } else { json!({ "items": added }) };
    if let Some(rendered) = sections(&cart, asked) {
        answer["sections"] = rendered;
    }
    Json(answer)
}

fn set_quantity(cart: &mut Cart, id: u64, quantity: i64) {
    if quantity == 0 {
        cart.lines.retain(|(v, _, _)| *v != id);
    } else if let Some(existing) = cart.lines.iter_mut().find(|(v, _, _)| *v == id) {
        existing.1 = quantity;
    }
}

async fn change(State(shop): State<Shop>, Json(body): Json<Value>) -> Json<Value> {
    let mut cart = shop.lock().unwrap();
    // A line number (1-based, what cart drawers send) or a variant id.
    let id: u64 = match body["line"].as_u64() {
        Some(line) => cart.lines[line as usize - 1].0,
        None => body["id"].as_str().map(|s| s.parse().unwrap()).or(body["id"].as_u64()).unwrap(),
    };
    set_quantity(&mut cart, id, body["quantity"].as_i64().unwrap());
    let mut answer = cart_json(&cart);
    let asked =
        body["sections"].as_array().map(|names| names.iter().filter_map(Value::as_str).collect::<Vec<_>>().join(","));
    if let Some(rendered) = sections(&cart, asked) {
        answer["sections"] = rendered;
    }
    Json(answer)
}

async fn update(State(shop): State<Shop>, Json(body): Json<Value>) -> Json<Value> {
    let mut cart = shop.lock().unwrap();
    for (id, quantity) in body["updates"].as_object().unwrap() {
        set_quantity(&mut cart, id.parse().unwrap(), quantity.as_i64().unwrap());
    }
    Json(cart_json(&cart))
}

async fn clear(State(shop): State<Shop>) -> Json<Value> {
    let mut cart = shop.lock().unwrap();
    cart.lines.clear();
    Json(cart_json(&cart))
}

async fn cart_js(State(shop): State<Shop>) -> Json<Value> {
    // A real store takes a while to answer: long enough for a theme that
    // navigates right after an add to cut this read off.
    tokio::time::sleep(std::time::Duration::from_millis(250)).await;
    Json(cart_json(&shop.lock().unwrap()))
}

/// The snippet every theme page carries.
fn snippet(app: &str, company_key: &str) -> String {
    format!(
        r#"<script>window.Shopify = {{ routes: {{ root: '/' }} }};</script>
<script src="{app}/sdk/revtrace.js" data-company-key="{company_key}" data-shopify></script>"#
    )
}

/// A product page of a theme whose cart type is "page", the way Dawn's
/// product-form.js does it: the form goes out as FormData to /cart/add and,
/// as soon as that answers, the browser is sent to /cart.
fn product_page(snippet: &str) -> String {
    format!(
        r#"<!doctype html><html><head><meta charset="utf-8"><title>Hydra Barrier Cream</title>{snippet}</head><body>
<form id="product-form" action="/cart/add" method="post"><input type="hidden" name="id" value="111">
<input type="hidden" name="quantity" value="1"><button id="add" type="submit">Add to cart</button></form>
<script>
document.getElementById('product-form').addEventListener('submit', (e) => {{
  e.preventDefault();
  const config = {{ method: 'POST', headers: {{ 'X-Requested-With': 'XMLHttpRequest', Accept: 'application/javascript' }} }};
  config.body = new FormData(e.target);
  fetch('/cart/add', config).then((r) => r.json()).then((r) => {{ if (!r.status) window.location = '/cart'; }});
}});
</script></body></html>"#
    )
}

/// The cart page: its lines, a way back, and Dawn's remove button
/// (/cart/change with a line number, the sections re-rendered in place).
async fn cart_page(State((shop, snippet)): State<(Shop, Arc<String>)>) -> Html<String> {
    let lines = drawer_section(&shop.lock().unwrap());
    Html(format!(
        r#"<!doctype html><html><head><meta charset="utf-8"><title>Your cart</title>{snippet}</head><body>
<div id="cart-items">{lines}</div><a id="back" href="/product">Continue shopping</a>
<script>
document.getElementById('cart-items').addEventListener('click', (e) => {{
  const button = e.target.closest('button');
  if (!button) return;
  const body = JSON.stringify({{ line: Number(button.dataset.line), quantity: Number(button.dataset.quantity),
    sections: ['main-cart-items'], sections_url: '/cart' }});
  fetch('/cart/change', {{ method: 'POST', headers: {{ 'Content-Type': 'application/json', Accept: 'application/javascript' }}, body }})
    .then((r) => r.text()).then((text) => {{
      document.getElementById('cart-items').innerHTML = JSON.parse(text).sections['main-cart-items'];
      document.body.dataset.done = 'changed-' + button.dataset.quantity;
    }});
}});
</script></body></html>"#
    ))
}

/// A product page with a cart drawer: the add asks for the drawer's section
/// and renders it; the drawer's buttons change quantities the same way.
fn drawer_page(snippet: &str) -> String {
    format!(
        r#"<!doctype html><html><head><meta charset="utf-8"><title>Hydra Barrier Cream</title>{snippet}</head><body>
<form id="product-form" action="/cart/add" method="post"><input type="hidden" name="id" value="111">
<input type="hidden" name="quantity" value="1"><button id="add" type="submit">Add to cart</button></form>
<aside id="drawer"></aside>
<script>
const drawer = document.getElementById('drawer');
const render = (answer, done) => {{ drawer.innerHTML = answer.sections['cart-drawer']; document.body.dataset.done = done; }};
document.getElementById('product-form').addEventListener('submit', (e) => {{
  e.preventDefault();
  const body = new FormData(e.target);
  body.append('sections', 'cart-drawer');
  body.append('sections_url', '/drawer');
  fetch('/cart/add', {{ method: 'POST', headers: {{ 'X-Requested-With': 'XMLHttpRequest', Accept: 'application/javascript' }}, body }})
    .then((r) => r.json()).then((answer) => render(answer, 'added'));
}});
drawer.addEventListener('click', (e) => {{
  const button = e.target.closest('button');
  if (!button) return;
  const body = JSON.stringify({{ line: Number(button.dataset.line), quantity: Number(button.dataset.quantity),
    sections: ['cart-drawer'], sections_url: '/drawer' }});
  fetch('/cart/change', {{ method: 'POST', headers: {{ 'Content-Type': 'application/json' }}, body }})
    .then((r) => r.text()).then((text) => render(JSON.parse(text), 'changed-' + button.dataset.quantity));
}});
</script></body></html>"#
    )
}

/// A theme page: the two-line snippet, and buttons that call the Ajax Cart
/// API the way themes do (fetch with JSON, XMLHttpRequest with a form).
fn storefront_page(app: &str, company_key: &str) -> String {
    format!(
        r#"<!doctype html><html><head><meta charset="utf-8"><title>Glow Skincare</title>
<script>window.Shopify = {{ routes: {{ root: '/' }} }};</script>
<script src="{app}/sdk/revtrace.js" data-company-key="{company_key}" data-shopify></script>
</head><body>
<button id="add-fetch">Add 2 creams</button><button id="add-xhr">Add a serum</button>
<button id="change-down">One cream less</button><button id="update-up">Three serums</button>
<button id="remove">Remove the cream</button><button id="clear">Empty the cart</button>
<script>
const done = (b) => () => {{ document.body.dataset.done = b; }};
const post = (path, body) => fetch(path, {{ method: 'POST', headers: {{ 'Content-Type': 'application/json' }},
  body: JSON.stringify(body) }}).then((r) => r.json());
document.getElementById('add-fetch').onclick = () => post('/cart/add.js', {{ items: [{{ id: 111, quantity: 2 }}] }}).then(done('add-fetch'));
document.getElementById('add-xhr').onclick = () => {{
  const xhr = new XMLHttpRequest();
  xhr.open('POST', '/cart/add.js');
  xhr.setRequestHeader('Content-Type', 'application/x-www-form-urlencoded');
  xhr.onload = done('add-xhr');
  xhr.send('id=222&quantity=1');
}};
document.getElementById('change-down').onclick = () => post('/cart/change.js', {{ id: '111', quantity: 1 }}).then(done('change-down'));
document.getElementById('update-up').onclick = () => post('/cart/update.js', {{ updates: {{ '222': 3 }} }}).then(done('update-up'));
document.getElementById('remove').onclick = () => post('/cart/change.js', {{ id: '111', quantity: 0 }}).then(done('remove'));
document.getElementById('clear').onclick = () => post('/cart/clear.js', {{}}).then(done('clear'));
</script></body></html>"#
    )
}

async fn spawn_storefront(app: &TestApp) -> (String, Shop) {
    let shop: Shop = Arc::default();
    let page = storefront_page(&app.base, &app.company_key);
    let snippet = Arc::new(snippet(&app.base, &app.company_key));
    let (product, drawer) = (product_page(&snippet), drawer_page(&snippet));
    let router = Router::new()
        .route("/", get(move || async move { Html(page) }))
        .route("/product", get(move || async move { Html(product) }))
        .route("/drawer", get(move || async move { Html(drawer) }))
        .route("/cart", get(cart_page).with_state((shop.clone(), snippet)))
        .route("/cart.js", get(cart_js))
        .route("/cart/add.js", post(add))
        .route("/cart/add", post(add))
        .route("/cart/change.js", post(change))
        .route("/cart/change", post(change))
        .route("/cart/update.js", post(update))
        .route("/cart/clear.js", post(clear))
        .with_state(shop.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, router).await });
    (url, shop)
}

#[tokio::test]
async fn the_script_turns_a_theme_cart_into_cart_events() {
    if !browser_ready("the_script_turns_a_theme_cart_into_cart_events") {
        return;
    }
    let Some(app) = spawn_app().await else { return };
    let (store_url, shop) = spawn_storefront(&app).await;
    let allowed = app.cli(&["company", "origins", "--company", &app.company_id, "--add", &store_url]);
    assert!(allowed.status.success(), "{allowed:?}");

    let seen = drive(&["storefront", &store_url]).await;
    let fingerprint = seen["fingerprint"].as_str().unwrap().to_owned();
    assert!(fingerprint.starts_with("fp-"), "{seen}");

    assert!(fingerprint.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'), "{fingerprint}");
    type Row = (String, String, String, i64, String, String, Option<String>);
    let events: Vec<Row> = app
        .db
        .rows(&format!(
            "SELECT event_type, product_id, variant_id, quantity_signed, unit_price, source_category, cart_token
             FROM events WHERE user_fingerprint = '{fingerprint}' ORDER BY event_pk"
        ))
        .await
        .into_iter()
        .map(|r| serde_json::from_value(serde_json::Value::Array(r)).unwrap())
        .collect();
    let summary: Vec<(&str, &str, &str, i64, &str)> =
        events.iter().map(|e| (e.0.as_str(), e.1.as_str(), e.2.as_str(), e.3, e.4.as_str())).collect();
    assert_eq!(
        summary,
        vec![
            ("ITEM_ADDED", "9001", "111", 2, "48.00"),
            ("ITEM_ADDED", "9002", "222", 1, "36.00"),
            ("QUANTITY_DECREASED", "9001", "111", -1, "48.00"),
            ("QUANTITY_INCREASED", "9002", "222", 2, "36.00"),
            ("ITEM_REMOVED", "9001", "111", -1, "48.00"),
            ("ITEM_REMOVED", "9002", "222", -3, "36.00"),
        ],
        "Ajax prices are cents: 4800 → 48.00"
    );
    assert!(events.iter().all(|e| e.5 == "SDK"));
    assert_eq!(events[1].6.as_deref(), Some("c1-7a2ac3c1"), "events carry the cart token without ?key=");
    let token =
        app.db.rows(&format!("SELECT cart_token FROM cart_tokens WHERE user_fingerprint = '{fingerprint}'")).await;
    assert_eq!(token, vec![vec![json!("c1-7a2ac3c1")]]);
    let visits = app
        .db
        .rows(&format!("SELECT count(*) FROM visitor_days WHERE user_fingerprint = '{fingerprint}' AND seen"))
        .await;
    assert_eq!(visits, vec![vec![json!(1)]]);

    let added = shop.lock().unwrap().added.clone();
    assert_eq!(added.len(), 2);
    for properties in added {
        assert_eq!(properties["_revtrace_fingerprint"], json!(fingerprint), "added items carry the fingerprint");
    }
}

/// (event type, variant, signed quantity) of a visitor's cart events, in order.
async fn cart_events_of(app: &TestApp, fingerprint: &str) -> Vec<(String, String, i64)> {
    app.db
        .rows(&format!(
            "SELECT event_type, variant_id, quantity_signed FROM events WHERE user_fingerprint = '{fingerprint}'
             ORDER BY event_pk"
        ))
        .await
        .into_iter()
        .map(|r| serde_json::from_value(Value::Array(r)).unwrap())
        .collect()
}

fn expected(rows: &[(&str, &str, i64)]) -> Vec<(String, String, i64)> {
    rows.iter().map(|(t, v, q)| ((*t).to_owned(), (*v).to_owned(), *q)).collect()
}

#[tokio::test]
async fn the_script_keeps_an_add_when_the_theme_goes_straight_to_the_cart_page() {
    if !browser_ready("the_script_keeps_an_add_when_the_theme_goes_straight_to_the_cart_page") {
        return;
    }
    let Some(app) = spawn_app().await else { return };
    let (store_url, shop) = spawn_storefront(&app).await;
    let allowed = app.cli(&["company", "origins", "--company", &app.company_id, "--add", &store_url]);
    assert!(allowed.status.success(), "{allowed:?}");

    // Add (→ /cart), back, add the same cream again (→ /cart), remove it there.
    let seen = drive(&["navigating", &store_url]).await;
    let fingerprint = seen["fingerprint"].as_str().unwrap();
    assert_eq!(seen["pages"], json!(["/cart", "/cart"]), "the theme navigated after each add: {seen}");
    assert_eq!(
        cart_events_of(&app, fingerprint).await,
        expected(&[("ITEM_ADDED", "111", 1), ("QUANTITY_INCREASED", "111", 1), ("ITEM_REMOVED", "111", -2)]),
        "each add is sent from /cart/add's answer before the page goes, and the second page diffs against the first"
    );
    let cart = shop.lock().unwrap().added.clone();
    assert!(cart.iter().all(|p| p["_revtrace_fingerprint"] == json!(fingerprint)), "FormData adds carry it: {cart:?}");
    let token =
        app.db.rows(&format!("SELECT cart_token FROM cart_tokens WHERE user_fingerprint = '{fingerprint}'")).await;
    assert_eq!(token, vec![vec![json!("c1-7a2ac3c1")]], "the token arrives on the cart page");
}

#[tokio::test]
async fn the_script_follows_a_cart_drawer_that_re_renders_sections() {
    if !browser_ready("the_script_follows_a_cart_drawer_that_re_renders_sections") {
        return;
    }
    let Some(app) = spawn_app().await else { return };
    let (store_url, _shop) = spawn_storefront(&app).await;
    let allowed = app.cli(&["company", "origins", "--company", &app.company_id, "--add", &store_url]);
    assert!(allowed.status.success(), "{allowed:?}");

    let seen = drive(&["drawer", &store_url]).await;
    let fingerprint = seen["fingerprint"].as_str().unwrap();
    assert_eq!(seen["drawer"], json!(["Hydra Barrier Cream × 1", "Hydra Barrier Cream × 2", ""]), "{seen}");
    assert_eq!(
        cart_events_of(&app, fingerprint).await,
        expected(&[("ITEM_ADDED", "111", 1), ("QUANTITY_INCREASED", "111", 1), ("ITEM_REMOVED", "111", -2)])
    );
}

#[tokio::test]
async fn the_script_answers_an_experiment_arm_once_per_session() {
    if !browser_ready("the_script_answers_an_experiment_arm_once_per_session") {
        return;
    }
    let Some(app) = spawn_app().await else { return };
    let (store_url, _shop) = spawn_storefront(&app).await;
    let allowed = app.cli(&["company", "origins", "--company", &app.company_id, "--add", &store_url]);
    assert!(allowed.status.success(), "{allowed:?}");
    let holdout = json!({"key": "ai-holdout", "name": "AI holdout", "kind": "holdout", "holdout_pct": 50,
                         "starts_at": "2026-01-01T00:00:00Z"});
    assert_eq!(app.ingest_secret("/v1/experiments", &holdout, &[]).await.status, 201);

    let seen = drive(&["assign", &store_url, "ai-holdout"]).await;
    let fingerprint = seen["fingerprint"].as_str().unwrap();
    let arm = ["holdout", "assisted"][revtrace_core::experiment::arm_of(
        &[50, 50],
        revtrace_core::experiment::bucket("ai-holdout", fingerprint),
    )
    .unwrap()];
    assert_eq!(seen["first"]["arm"], arm, "{seen}");
    assert_eq!(seen["first"]["assistant"], arm == "assisted");
    assert_eq!((&seen["again"], &seen["reloaded"]), (&seen["first"], &seen["first"]), "one answer per session");
    assert_ne!(seen["unknown"], "resolved", "an unknown experiment rejects the promise");
    let stored = app.db.rows("SELECT fingerprint, arm FROM exposures").await;
    assert_eq!(stored, vec![vec![json!(fingerprint), json!(arm)]]);
}

#[tokio::test]
async fn the_experiments_page_shows_arms_lifts_and_the_split_warning() {
    if !browser_ready("the_experiments_page_shows_arms_lifts_and_the_split_warning") {
        return;
    }
    let Some(app) = spawn_app().await else { return };
    let holdout = json!({"key": "ai-holdout", "name": "AI holdout", "kind": "holdout", "holdout_pct": 50,
                         "starts_at": "2026-09-01T00:00:00Z", "ends_at": "2026-10-01T00:00:00Z"});
    assert_eq!(app.ingest_secret("/v1/experiments", &holdout, &[]).await.status, 201);
    // Assisted visitors buy more often; only assisted ones are sent at first
    // (a leaking widget), so the split is visibly off.
    for i in 0..400 {
        let fp = format!("FP-{i}");
        let arm = revtrace_core::experiment::arm_of(&[50, 50], revtrace_core::experiment::bucket("ai-holdout", &fp));
        if arm == Some(0) && i % 3 != 0 {
            continue;
        }
        app.ingest(
            "/analytics/assignments",
            json!({"experiment": "ai-holdout", "fingerprint": fp,
                                                     "occurred_at": "2026-09-10T10:00:00Z"}),
        )
        .await;
        if i % (if arm == Some(1) { 3 } else { 5 }) == 0 {
            app.checkout(order(Some(&fp), &format!("O-{i}"), &format!("{}.00", 20 + i % 50), "2026-09-10T12:00:00Z"))
                .await;
        }
    }
    let shots = std::env::var("REVTRACE_SHOTS").ok();
    let seen = drive(&["experiments", &app.base, &app.secret_key, "ai-holdout", shots.as_deref().unwrap_or("")]).await;
    assert_eq!(seen["current"], "page", "{seen}");
    let list = seen["list"].as_array().unwrap();
    assert_eq!(list.len(), 1);
    assert!(list[0]["cells"][2].as_str().unwrap().contains("Ended"), "{seen}");
    assert!(list[0]["cells"][5].as_str().unwrap().contains("split mismatch"), "{seen}");
    let api = app.get("/v1/experiments/ai-holdout", Some(&app.secret_key)).await.body;
    let arms = seen["arms"].as_array().unwrap();
    assert_eq!(arms.len(), 2);
    for (row, arm) in arms.iter().zip(api["arms"].as_array().unwrap()) {
        assert!(row[0].as_str().unwrap().starts_with(arm["name"].as_str().unwrap()));
        assert_eq!(row[1].as_str().unwrap().replace(',', ""), arm["visitors"].to_string());
        assert_eq!(row[3].as_str().unwrap().replace(',', ""), arm["orders"].to_string());
    }
    let headline = seen["headlines"][0].as_str().unwrap();
    assert!(headline.starts_with("Attributed $0.00 — incremental $"), "{headline}");
    assert!(seen["srm"][0].as_str().unwrap().contains("not split the way the weights say"), "{seen}");
    // No cart events: cart GMV per visitor has no variance and says so.
    assert_eq!((seen["forest"].clone(), seen["not_estimable"].clone()), (json!(4), json!(1)), "one row per metric");
    assert_eq!((seen["overflow_1280"].clone(), seen["overflow_390"].clone()), (json!(false), json!(false)));
    assert_eq!(seen["missing"], "No experiment nope in this company.");
}

#[tokio::test]
async fn the_dashboard_shows_what_the_api_reports() {
    if !browser_ready("the_dashboard_shows_what_the_api_reports") {
        return;
    }
    let Some(app) = fixture().await else { return };
    app.ticket(grounded_ticket("TK-2291", "FP-8a3c", "2026-03-08T15:02:11Z", "2026-03-08T15:02:14Z")).await;
    let seen = drive(&["dashboard", &format!("{}/", app.base), &app.secret_key, "2026-03-07", "2026-03-09"]).await;
    assert!(seen["icon"].as_str().is_some_and(|i| i.starts_with("data:image/svg+xml")), "{}", seen["icon"]);
    // A rate's change is in points (current − previous), not a percent of a percent.
    let api = app.report("from=2026-03-07&to=2026-03-09").await.body;
    for rate in ["ai_revenue_share_pct", "aov_uplift_pct"] {
        let now: f64 = api["metrics"][rate]
            .as_str()
            .map_or_else(|| api["metrics"][rate].as_f64().unwrap(), |s| s.parse().unwrap());
        let was: f64 = api["previous"]["metrics"][rate]
            .as_str()
            .map_or_else(|| api["previous"]["metrics"][rate].as_f64().unwrap(), |s| s.parse().unwrap());
        let shown = seen["changes"][rate][0].as_str().unwrap();
        assert!(shown.ends_with(&format!("{:.2} pts vs previous period", (now - was).abs())), "{rate}: {shown}");
    }
    assert_eq!(seen["changes"]["daily_avg_checkout_revenue_usd"][0], "over 3 active days of 3");
    assert_eq!(seen["reversed"], "The first day comes after the last one.");
    assert_eq!(seen["period_after_reversed"], true, "the figures stay under a refused range");
    assert!(
        seen["failed"].as_str().unwrap().starts_with("Could not load these figures: a report covers at most"),
        "{seen}"
    );
    assert_eq!(seen["cards_after_failure"], 0, "no figure of another selection stays");
    assert_eq!(seen["tabs"], json!(["checkout", "cart"]));
    let report = app.report("from=2026-03-07&to=2026-03-09").await.body;
    let m = &report["metrics"];
    let usd = |v: &Value| {
        let n: f64 = v.as_str().unwrap().parse().unwrap();
        let whole = format!("{:.2}", n.abs());
        let (int, frac) = whole.split_once('.').unwrap();
        let grouped: Vec<String> =
            int.as_bytes().rchunks(3).rev().map(|c| String::from_utf8(c.to_vec()).unwrap()).collect();
        format!("{}${}.{frac}", if n < 0.0 { "-" } else { "" }, grouped.join(","))
    };
    let cards = &seen["checkout"];
    for name in [
        "checkout_revenue_usd",
        "net_checkout_revenue_usd",
        "average_order_value_usd",
        "unattributed_checkout_revenue_usd",
    ] {
        assert_eq!(cards[name], json!(usd(&m[name])), "{name}");
    }
    assert_eq!(cards["orders"], json!(m["orders"].to_string()));
    assert_eq!(cards["ai_revenue_share_pct"], json!(format!("{:.2} %", m["ai_revenue_share_pct"].as_f64().unwrap())));
    assert_eq!(seen["cart"]["cart_gmv_usd"], json!(usd(&m["cart_gmv_usd"])));
    assert_eq!(seen["conversion"], json!(["100.00 %", "66.67 %"]));
    assert_eq!(seen["sources"][1], json!(["Product FAQ", "$110.00", "1"]));
    // The FAQ filter changes the attributed figures, not the baseline.
    assert_eq!(seen["faq"]["checkout_revenue_usd"], json!("$110.00"));
    assert_eq!(seen["faq"]["unattributed_checkout_revenue_usd"], json!("$150.00"));
    assert_eq!(seen["conversations"], json!(["T-FAQ"]));

    // A company with carts but no checkouts sees no checkout tab.
    let Some(carts_only) = spawn_app().await else { return };
    carts_only.cart(add_to_cart("FP-1", "p", 2, "5.00", "2026-03-08T10:00:00Z")).await;
    let seen =
        drive(&["dashboard", &format!("{}/", carts_only.base), &carts_only.secret_key, "2026-03-07", "2026-03-09"])
            .await;
    assert_eq!(seen["tabs"], json!(["cart"]));
    assert_eq!(seen["checkout"]["cart_gmv_usd"], json!("$0.00"), "unattributed carts are not AI GMV");
}

/// The API's CSV cell for a daily figure (numbers as JSON writes them).
fn cell(v: &Value) -> String {
    v.as_str().map_or_else(|| v.to_string(), str::to_owned)
}

#[tokio::test]
async fn the_dashboard_keeps_its_view_in_the_address_and_charts_every_series() {
    if !browser_ready("the_dashboard_keeps_its_view_in_the_address_and_charts_every_series") {
        return;
    }
    let Some(app) = fixture().await else { return };
    // An FAQ-attributed $30 order a year before the range, for the comparison.
    let ticket = json!({"ticket_id": "T-2025", "channel": "faq", "fingerprint": "FP-Y",
                        "messages": [{"message_id": "a", "sent_at": "2025-03-08T15:00:00Z", "role": "ai",
                                      "text": "…", "has_answer_found": true}]});
    assert_eq!(app.ticket(ticket).await.status, 200);
    assert_eq!(app.checkout(order(Some("FP-Y"), "Y-1", "30.00", "2025-03-08T16:00:00Z")).await.status, 201);
    let seen =
        drive(&["views", &format!("{}/", app.base), &app.secret_key, "2026-03-07", "2026-03-09", "2026-02-01"]).await;
    let daily = app.get("/v1/revenue-impact/daily?from=2026-03-07&to=2026-03-09", Some(&app.secret_key)).await.body;
    let days = daily["days"].as_array().unwrap();
    let money = |d: &Value, f: &str| d[f].as_str().unwrap().parse::<f64>().unwrap();

    // Chart.js draws it: days spelled out, a value axis with gridlines, stacked series.
    let chart = &seen["chart"];
    assert_eq!(chart["labels"], json!(["Mar 7", "Mar 8", "Mar 9"]), "{seen}");
    assert_eq!(chart["datasets"][0]["label"], "AI-attributed");
    assert_eq!(chart["datasets"][1]["label"], "Baseline (not attributed)");
    for (i, d) in days.iter().enumerate() {
        assert_eq!(chart["datasets"][0]["data"][i].as_f64().unwrap(), money(d, "checkout_revenue_usd"));
        assert_eq!(chart["datasets"][1]["data"][i].as_f64().unwrap(), money(d, "unattributed_checkout_revenue_usd"));
    }
    assert!(chart["y_ticks"].as_array().unwrap().len() >= 3, "a real axis: {}", chart["y_ticks"]);
    assert_eq!(chart["y_ticks"][0], "$0", "{}", chart["y_ticks"]);
    assert_eq!(
        (chart["x_grid"].clone(), chart["y_grid"].clone(), chart["mode"].clone()),
        (json!(false), json!(true), json!("index"))
    );
    // The funnel on the overview, as /v1/funnel counts it.
    assert_eq!(
        seen["funnel"],
        json!([
            ["conversations", "4 Conversations", ""],
            ["grounded", "3 Got a grounded answer", "75.00 % of the step before"],
            ["with_cart", "2 Added to cart", "66.67 % of the step before"],
            ["with_checkout", "3 Checked out", "150.00 % of the step before"]
        ])
    );
    assert_eq!(seen["funnel_median"], "Half of the checkouts came within 1 h of the conversation's first message.");
    assert_eq!(seen["funnel_sources"][2], json!(["Proactive nudge", "1", "1", "0", "1", "1 h 1 min"]));
    // AI profiles side by side: a table and bars, best first, as the API says.
    assert_eq!(
        seen["profiles"],
        json!([["faq-bot", "$110.00", "1", "$110.00", "$99.00"], ["advisor", "$78.00", "2", "$39.00", "$61.00"]])
    );
    assert_eq!(seen["profiles_chart"], json!({"labels": ["faq-bot", "advisor"], "data": [110, 78]}));
    // Hovering a day lists every series and their total.
    let tooltip = &seen["tooltip"];
    let body: Vec<&str> = tooltip["body"].as_array().unwrap().iter().map(|l| l.as_str().unwrap()).collect();
    assert_eq!(body.len(), 2, "{tooltip}");
    assert!(
        body[0].starts_with("AI-attributed: $") && body[1].starts_with("Baseline (not attributed): $"),
        "{tooltip}"
    );
    assert!(tooltip["footer"][0].as_str().unwrap().starts_with("Total: $"), "{tooltip}");
    assert!(tooltip["title"][0].as_str().unwrap().ends_with(", 2026"), "{tooltip}");

    // "Download CSV" is the daily figures shown, as the API gave them.
    assert_eq!(seen["daily_csv_name"], "revtrace-daily-2026-03-07-to-2026-03-09.csv");
    let csv = seen["daily_csv"].as_str().unwrap();
    let mut lines = csv.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    assert_eq!(header[0], "day");
    assert_eq!(header.len(), days[0].as_object().unwrap().len());
    for (line, d) in lines.zip(days) {
        let expected: Vec<String> = header.iter().map(|h| cell(&d[*h])).collect();
        assert_eq!(line.split(',').collect::<Vec<_>>(), expected);
    }
    let export = app
        .client
        .get(format!("{}/v1/export/revenue-impact?format=csv&from=2026-03-07&to=2026-03-09", app.base))
        .bearer_auth(&app.secret_key)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(seen["events_csv"].as_str(), export.lines().next(), "the events download is the export API's CSV");

    // A filter: in the address, said what it narrows, the rest of the AI share still stacked.
    assert!(seen["filtered_hash"].as_str().unwrap().contains("source=FAQ"), "{seen}");
    assert!(
        seen["filter_note"]
            .as_str()
            .unwrap()
            .starts_with("Filtered to Product FAQ: the AI-attributed figures are narrowed")
    );
    assert!(seen["conversion_scope"].as_str().unwrap().contains("whole store"));
    let filtered = &seen["filtered_chart"]["datasets"];
    assert_eq!(
        filtered.as_array().unwrap().iter().map(|d| d["label"].clone()).collect::<Vec<_>>(),
        vec![json!("AI-attributed (Product FAQ)"), json!("Other AI-attributed"), json!("Baseline (not attributed)")]
    );
    for (i, d) in days.iter().enumerate() {
        let stacked = filtered[0]["data"][i].as_f64().unwrap() + filtered[1]["data"][i].as_f64().unwrap();
        assert!((stacked - money(d, "checkout_revenue_usd")).abs() < 0.005, "day {i}: the stack is the whole store's");
    }
    // Same days last year, and the label says so.
    assert!(
        seen["compared_period"].as_str().unwrap().contains("compared with Fri, Mar 7, 2025 – Sun, Mar 9, 2025"),
        "{seen}"
    );
    assert!(seen["compared_change"].as_str().unwrap().ends_with("vs same days last year"), "{seen}");
    // Reloading the address shows the same view; Back goes one step back.
    let reloaded = &seen["reloaded"];
    assert_eq!(reloaded["same"], true, "{reloaded}");
    assert_eq!(
        (&reloaded["source"], &reloaded["compare"], &reloaded["tab"]),
        (&json!("FAQ"), &json!("last_year"), &json!("cart"))
    );
    assert_eq!(seen["back_tab"], "checkout");
    // A quiet day: a "no data" state, and "1 day", not "1 days".
    assert_eq!(seen["empty"]["text"], "No checkout revenue in this range (1 day).");
    assert_eq!(seen["empty"]["canvas_hidden"], true);
    assert!(seen["empty"]["period"].as_str().unwrap().contains("(1 day)"), "{seen}");
    assert_eq!((seen["overflow_1280"].clone(), seen["overflow_390"].clone()), (json!(false), json!(false)));
    assert!(seen["y_ticks_390"].as_u64().unwrap() >= 2, "readable on a phone: {seen}");
}

#[tokio::test]
async fn a_new_company_gets_its_snippet_and_sees_its_first_events_arrive() {
    if !browser_ready("a_new_company_gets_its_snippet_and_sees_its_first_events_arrive") {
        return;
    }
    let Some(app) = spawn_app().await else { return };
    let seen = drive(&["onboarding", &format!("{}/", app.base), &app.secret_key, &app.company_key]).await;
    let snippet = seen["snippet"].as_str().unwrap();
    assert!(snippet.contains(&format!("data-company-key=\"{}\"", app.company_key)), "{snippet}");
    assert!(snippet.contains(&format!("src=\"{}/sdk/revtrace.js\"", app.base)), "{snippet}");
    assert_eq!(seen["filters_hidden"], true, "no filters over an empty company");
    assert_eq!(seen["before"], json!(["waiting", "waiting", "waiting"]));
    assert_eq!(seen["after_visit"], json!(["done", "waiting", "waiting"]), "the visit shows within a poll");
    assert!(seen["sent"].as_array().unwrap().iter().all(|s| s.as_u64().unwrap() < 300), "{seen}");
    assert_eq!(seen["opened"], true, "the first event opens the dashboard");
    let conversion = seen["conversion"].as_str().unwrap();
    assert!(conversion.contains("Assisted · 1 visitor") && !conversion.contains("1 visitors"), "{conversion}");
}

#[tokio::test]
async fn signing_in_as_another_company_starts_on_its_own_overview() {
    if !browser_ready("signing_in_as_another_company_starts_on_its_own_overview") {
        return;
    }
    let Some(app) = spawn_app().await else { return };
    app.ticket(grounded_ticket("TK-2291", "FP-8a3c", "2026-09-14T15:02:11Z", "2026-09-14T15:02:14Z")).await;
    app.checkout(order(Some("FP-8a3c"), "1001", "48.00", "2026-09-14T15:47:14Z")).await;
    let other = app.cli(&["company", "add", "--name", "Other Shop", "--json"]);
    assert!(other.status.success(), "{other:?}");
    let other: Value = serde_json::from_slice(&other.stdout).unwrap();
    let seen = drive(&[
        "switch",
        &format!("{}/", app.base),
        &app.secret_key,
        other["secret_key"].as_str().unwrap(),
        "TK-2291",
    ])
    .await;
    assert!(matches!(seen["hash"].as_str(), Some("" | "#/")), "{seen}");
    assert_eq!(seen["conversation_hidden"], true);
    assert_eq!(seen["other_company"], "← Revenue impactNo conversation TK-2291 in Other Shop.");
}

#[tokio::test]
async fn the_conversation_page_shows_the_journey_and_its_48_dollar_order() {
    if !browser_ready("the_conversation_page_shows_the_journey_and_its_48_dollar_order") {
        return;
    }
    // A New York company seen from a Berlin browser (drive.mjs's zone).
    let Some(app) = spawn_app_with("America/New_York", 24).await else { return };
    app.ingest_secret(
        "/v1/products",
        &json!({"products": [{"product_id": "hydra-barrier-cream", "title": "Hydra Barrier Cream 50 ml",
                              "image_url": "https://cdn.glow.example/hydra.jpg",
                              "url": "https://glow.example/products/hydra-barrier-cream"}]}),
        &[],
    )
    .await;
    let mut ticket = grounded_ticket("TK-2291", "FP-8a3c", "2026-09-14T15:02:11Z", "2026-09-14T15:02:14Z");
    // The answer showed the cream (in the catalog) and a serum (not yet).
    ticket["messages"][1]["product_ids"] = json!(["hydra-barrier-cream", "vitamin-c-serum"]);
    app.ticket(ticket).await;
    app.cart(add_to_cart("FP-8a3c", "hydra-barrier-cream", 1, "48.00", "2026-09-14T15:04:40Z")).await;
    app.checkout(order(Some("FP-8a3c"), "1001", "48.00", "2026-09-14T15:47:14Z")).await;
    // A yen order whose theme sent the same line twice.
    assert!(app.cli(&["rates", "set", "JPY", "0.0067"]).status.success());
    let line = json!({"product_id": "hydra-barrier-cream", "title": "Hydra Barrier Cream", "quantity": 1, "unit_price": "4800"});
    let mut yen = order(Some("FP-8a3c"), "1002", "9600", "2026-09-14T15:50:00Z");
    yen["currency"] = json!("JPY");
    yen["line_items"] = json!([line, line]);
    assert_eq!(app.checkout(yen).await.status, 201);

    let seen = drive(&["conversation", &format!("{}/", app.base), &app.secret_key, "TK-2291"]).await;
    assert_eq!(seen["title"], "Conversation TK-2291");
    assert_eq!(seen["total"], "$112.32", "$48.00 + ¥9,600 at 0.0067");
    assert!(seen["subtitle"].as_str().unwrap().contains(" 2 messages · "), "{}", seen["subtitle"]);
    assert_eq!(seen["lines"], json!(["1 × $48.00", "1 × $48.00", "2 × ¥4,800"]), "yen grouped, identical lines once");
    assert_eq!(seen["amounts"][2], "¥9,600 = $64.32", "the order in its own currency, and in USD");
    assert_eq!(seen["conversion_note"].as_array().unwrap().len(), 1);
    // The exchange itself, beside what was bought: the question, the grounded
    // answer and what it showed (the catalog's title, or the id it sent).
    assert_eq!(
        seen["exchange"],
        json!([
            {"role": "Shopper", "text": "Which moisturizer is best for dry skin?", "pills": [], "shown": []},
            {"role": "AI assistant", "text": "Hydra Barrier Cream.", "pills": ["grounded answer"],
             "shown": ["Hydra Barrier Cream 50 ml", "vitamin-c-serum"]}
        ])
    );
    assert_eq!(seen["exchange_when"][0], "Sep 14, 2026, 11:02 AM EDT");
    let events = seen["events"].as_array().unwrap();
    assert_eq!(events.len(), 3);
    assert_eq!(events[0]["heading"], "item added");
    assert_eq!(
        events[0]["products"][0]["title"], "Hydra Barrier Cream 50 ml",
        "the cart's slug shown as the catalog's title"
    );
    assert_eq!((events[1]["heading"].as_str(), events[1]["usd"].as_str()), (Some("Order 1001"), Some("$48.00")));
    let product = &events[1]["products"][0];
    assert_eq!(product["title"], "Hydra Barrier Cream 50 ml");
    assert_eq!(product["link"], "https://glow.example/products/hydra-barrier-cream");
    assert_eq!(product["image"], "https://cdn.glow.example/hydra.jpg");
    // 15:02 UTC is 11:02 in New York (EDT), labelled; Berlin would say 17:02.
    let times: Vec<(String, String)> = serde_json::from_value(seen["times"].clone()).unwrap();
    assert!(
        times.iter().any(|(at, shown)| at.starts_with("2026-09-14T15:02") && shown == "Sep 14, 2026, 11:02 AM EDT"),
        "{times:?}"
    );
    assert!(
        times.iter().any(|(at, shown)| at.starts_with("2026-09-14T15:47") && shown == "Sep 14, 2026, 11:47 AM EDT"),
        "{times:?}"
    );
    assert_eq!(
        seen["receipt_rows"][0][2], "Sep 14, 2026, 11:02 AM EDT",
        "the receipt's last touch, in the company's zone"
    );
    let receipt = seen["receipt"].as_str().unwrap();
    assert!(receipt.starts_with("Credited to this conversation"), "{seen}");
    assert!(receipt.contains("decided when the event arrived"), "{receipt}");
    assert_eq!(seen["receipt_headers"], json!(["Conversation", "Source", "Last grounded touch", "Before the event"]));
    let row = &seen["receipt_rows"][0];
    assert!(row[0].as_str().unwrap().ends_with("✓ credited"), "{row}");
    assert!(row[3].as_str().unwrap().ends_with(" before") && !row[3].as_str().unwrap().contains('.'), "{row}");

    // A public key at sign-in gets the API's own reason.
    let refused = drive(&["signin", &format!("{}/", app.base), &app.company_key]).await;
    assert_eq!(refused["error"], "this call needs a secret key; the company key is for ingest only");
}

#[tokio::test]
async fn only_allowed_origins_may_send_events_from_a_browser() {
    let Some(app) = spawn_app().await else { return };
    let body = json!({"company_key": app.company_key, "user_fingerprint": "FP-1", "event_type": "ITEM_ADDED",
                      "product_id": "p", "quantity": 1, "unit_price": "5.00", "currency": "USD"});
    let send = |origin: &'static str| {
        app.client
            .post(format!("{}/analytics/cart_events", app.base))
            .header("origin", origin)
            .header("content-type", "text/plain;charset=UTF-8")
            .body(body.to_string())
            .send()
    };
    let refused = send("https://evil.example").await.unwrap();
    assert_eq!(refused.status(), 403);
    assert!(refused.headers().get("access-control-allow-origin").is_none());
    assert_eq!(refused.json::<Value>().await.unwrap()["error"]["code"], "origin_not_allowed");
    assert_eq!(app.count("events").await, 0);

    let out = app.cli(&["company", "origins", "--company", &app.company_id, "--add", "https://Glow.example/"]);
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "https://glow.example");
    let accepted = send("https://glow.example").await.unwrap();
    assert_eq!(accepted.status(), 201, "text/plain JSON is accepted (no preflight needed)");
    assert_eq!(accepted.headers()["access-control-allow-origin"], "https://glow.example");
    assert_eq!(app.count("events").await, 1);

    let preflight = app
        .client
        .request(reqwest::Method::OPTIONS, format!("{}/analytics/cart_events", app.base))
        .header("origin", "https://glow.example")
        .header("access-control-request-method", "POST")
        .send()
        .await
        .unwrap();
    assert_eq!(preflight.status(), 204);
    assert_eq!(preflight.headers()["access-control-allow-methods"], "POST");
    // Server-side calls send no Origin and are not affected.
    assert_eq!(app.cart(add_to_cart("FP-2", "p", 1, "5.00", "2026-09-01T10:00:00Z")).await.status, 201);
    let script = app.client.get(format!("{}/sdk/revtrace.js", app.base)).send().await.unwrap();
    assert_eq!(script.headers()["content-type"], "text/javascript; charset=utf-8");
    assert!(script.text().await.unwrap().contains("sendCartEvent"));
    let page = app.client.get(format!("{}/", app.base)).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("Revenue impact"));
}
