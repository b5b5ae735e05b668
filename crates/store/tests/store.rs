//! The Store contract, written against `dyn Store`: every test runs on
//! SQLite (a temporary file) and on PostgreSQL (a schema of its own on the
//! server of `REVTRACE_TEST_POSTGRES_URL`; skipped, saying so, when none
//! answers, unless `REVTRACE_REQUIRE_POSTGRES=1`).

use std::{str::FromStr, sync::Arc};

use revtrace_core::{CartEventType, Channel, Currency, Fingerprint, Multiplier, Reason, Role, TicketId};
use revtrace_store::{
    CartTokenInput, CompanyId, EventInput, EventKind, IdempotencyKey, IngestOutcome, KeyKind, LineItem, MessageInput,
    NewCompany, RateInput, ReattributeOptions, Rejection, SourceCategory, Store, StoreError, TicketInput,
    postgres::PgStore, request_digest, sqlite::SqliteStore,
};
use rust_decimal::Decimal;
use serde_json::json;

const HOUR: i64 = 3_600_000;
const T0: i64 = 1_788_220_800_000; // 2026-09-01T00:00:00Z

struct Fixture {
    store: Arc<dyn Store>,
    company: CompanyId,
    public_key: String,
    secret_key: String,
    _dir: tempfile::TempDir,
}

#[derive(Clone, Copy)]
enum Backend {
    Sqlite,
    Postgres,
}

/// A store with one company on `backend`; `None` when PostgreSQL is absent.
async fn fixture(backend: Backend, test: &str) -> Option<Fixture> {
    fixture_with_clock(backend, test, Arc::new(revtrace_store::SystemClock)).await
}

async fn fixture_with_clock(backend: Backend, test: &str, clock: Arc<dyn revtrace_store::Clock>) -> Option<Fixture> {
    let dir = tempfile::tempdir().unwrap();
    let store: Arc<dyn Store> = match backend {
        Backend::Sqlite => Arc::new(SqliteStore::open_with_clock(dir.path().join("store.db"), clock).unwrap()),
        Backend::Postgres => {
            let url = revtrace_store::postgres::scratch::test_database(test).await?;
            Arc::new(PgStore::connect_with_clock(&url, 4, clock).await.unwrap())
        }
    };
    let credentials = store
        .create_company(NewCompany { name: "Glow".into(), timezone: "UTC".into(), window_ms: 24 * HOUR })
        .await
        .unwrap();
    Some(Fixture {
        store,
        company: CompanyId::new(credentials.company_id),
        public_key: credentials.company_key,
        secret_key: credentials.secret_key,
        _dir: dir,
    })
}

/// Each test, once per backend: `on_sqlite::NAME` and `on_postgres::NAME`.
macro_rules! contract {
    ($(async fn $name:ident() $body:block)*) => {
        mod on_sqlite {
            use super::*;
            const BACKEND: Backend = Backend::Sqlite;
            $( #[tokio::test] async fn $name() $body )*
        }
        mod on_postgres {
            use super::*;
            const BACKEND: Backend = Backend::Postgres;
            $( #[tokio::test] async fn $name() $body )*
        }
    };
}

fn fp(raw: &str) -> Fingerprint {
    Fingerprint::parse(raw).unwrap()
}

fn dec(raw: &str) -> Decimal {
    Decimal::from_str(raw).unwrap()
}

fn grounded(ticket_id: &str, fingerprint: &str, at: i64) -> TicketInput {
    let message = |id: &str, at: i64, role: Role, answer: Option<bool>| MessageInput {
        message_id: id.into(),
        sent_at_ms: at,
        role,
        text: None,
        has_answer_found: answer,
        metadata: None,
        product_ids: Vec::new(),
    };
    TicketInput {
        ticket_id: ticket_id.into(),
        ai_profile_id: None,
        channel: Channel::Chat,
        fingerprint: fp(fingerprint),
        messages: vec![message("q", at, Role::Shopper, None), message("a", at + 1000, Role::Ai, Some(true))],
    }
}

fn checkout(order_id: &str, fingerprint: Option<&str>, at: i64) -> EventInput {
    EventInput {
        source: SourceCategory::Api,
        occurred_at_ms: at,
        received_at_ms: at,
        user_fingerprint: fingerprint.map(fp),
        user_faq_fingerprint: None,
        currency: Currency::USD,
        is_test: false,
        kind: EventKind::Checkout {
            order_id: order_id.into(),
            order_value: dec("48.00"),
            line_items: vec![LineItem {
                product_id: "cream".into(),
                variant_id: None,
                sku: None,
                title: Some("Hydra Barrier Cream".into()),
                quantity: 1,
                unit_price: dec("48.00"),
            }],
        },
    }
}

fn cart(kind: CartEventType, quantity: Option<i64>, at: i64) -> EventInput {
    EventInput {
        source: SourceCategory::Sdk,
        occurred_at_ms: at,
        received_at_ms: at,
        user_fingerprint: Some(fp("FP-1")),
        user_faq_fingerprint: None,
        currency: Currency::parse("EUR").unwrap(),
        is_test: false,
        kind: EventKind::Cart {
            event_type: kind,
            product_id: "cream".into(),
            variant_id: None,
            quantity,
            unit_price: dec("10.00"),
            cart_token: None,
        },
    }
}

fn created<T>(outcome: IngestOutcome<T>) -> T {
    match outcome {
        IngestOutcome::Created(value) => value,
        IngestOutcome::Replayed { body } => panic!("expected a fresh answer, got replay {body}"),
    }
}

fn rejection(error: StoreError) -> Rejection {
    match error {
        StoreError::Rejected(rejection) => rejection,
        other => panic!("expected a rejection, got {other:?}"),
    }
}

fn day(raw: &str) -> jiff::civil::Date {
    raw.parse().unwrap()
}

contract! {
    async fn the_injected_clock_dates_decisions_and_ids() {
        struct Pinned;
        impl revtrace_store::Clock for Pinned {
            fn now_ms(&self) -> i64 {
                T0 + 42
            }
        }
        let Some(f) = fixture_with_clock(BACKEND, "the_injected_clock_dates_decisions_and_ids", Arc::new(Pinned)).await
        else {
            return;
        };
        let event = checkout("o-clock", Some("fp-clock"), T0 - HOUR);
        let receipt = match f.store.ingest_event(&f.company, event, None).await.unwrap() {
            IngestOutcome::Created(receipt) => receipt,
            other => panic!("{other:?}"),
        };
        let audit = f.store.event_attribution(&f.company, &receipt.event_id).await.unwrap().unwrap();
        assert_eq!(audit.decided_at, revtrace_core::time::to_rfc3339(T0 + 42), "decided at the store's clock");
        // A UUIDv7's first 48 bits are its milliseconds.
        let ms = i64::from_str_radix(&receipt.event_id.as_str()["evt_".len().."evt_".len() + 12], 16).unwrap();
        assert_eq!(ms, T0 + 42, "the event id carries the store's clock: {}", receipt.event_id);
        assert_eq!(f.store.clock().now_ms(), T0 + 42);
    }

    async fn keys_identify_their_company_and_kind() {
        let Some(f) = fixture(BACKEND, "keys_identify_their_company_and_kind").await else { return };
        let public = f.store.authenticate(&f.public_key).await.unwrap().unwrap();
        let secret = f.store.authenticate(&f.secret_key).await.unwrap().unwrap();
        assert_eq!((public.company_id.clone(), public.kind), (f.company.clone(), KeyKind::Public));
        assert_eq!((secret.company_id, secret.kind), (f.company.clone(), KeyKind::Secret));
        assert!(f.store.authenticate("sk_unknown").await.unwrap().is_none());
        assert!(f.store.authenticate("pk_unknown").await.unwrap().is_none());
        f.store.ping().await.unwrap();
    }

    async fn an_event_is_decided_against_stored_history_and_its_receipt_kept() {
        let Some(f) = fixture(BACKEND, "an_event_is_decided_against_stored_history_and_its_receipt_kept").await else { return };
        let summary = created(f.store.ingest_ticket(&f.company, grounded("TK-1", "FP-1", T0), None).await.unwrap());
        assert!(summary.qualifies);
        let receipt =
            created(f.store.ingest_event(&f.company, checkout("1", Some("FP-1"), T0 + HOUR), None).await.unwrap());
        assert_eq!((receipt.reason, receipt.ticket_id.as_ref().map(TicketId::as_str)), (Reason::Attributed, Some("TK-1")));
        assert_eq!(receipt.usd_value.as_deref(), Some("48.00"));

        let audit = f.store.event_attribution(&f.company, &receipt.event_id).await.unwrap().unwrap();
        assert_eq!(audit.candidates.len(), 1);
        assert_eq!(audit.candidates[0].distance_ms, HOUR - 1000);
        assert!(f.store.event_attribution(&CompanyId::new("co_other"), &receipt.event_id).await.unwrap().is_none());
    }

    async fn duplicate_orders_are_refused_with_the_stored_event() {
        let Some(f) = fixture(BACKEND, "duplicate_orders_are_refused_with_the_stored_event").await else { return };
        let first = created(f.store.ingest_event(&f.company, checkout("1", None, T0), None).await.unwrap());
        let error = f.store.ingest_event(&f.company, checkout("1", Some("FP-1"), T0), None).await.unwrap_err();
        assert_eq!(rejection(error), Rejection::DuplicateOrder { order_id: "1".into(), event_id: first.event_id });
    }

    async fn idempotency_keys_replay_or_refuse() {
        let Some(f) = fixture(BACKEND, "idempotency_keys_replay_or_refuse").await else { return };
        let key = |body: serde_json::Value| IdempotencyKey::new("k".into(), request_digest(&body));
        let first = created(f.store.ingest_event(&f.company, checkout("1", None, T0), Some(key(json!(1)))).await.unwrap());
        let again = f.store.ingest_event(&f.company, checkout("1", None, T0), Some(key(json!(1)))).await.unwrap();
        assert_eq!(again, IngestOutcome::Replayed { body: serde_json::to_string(&first).unwrap() });
        let error = f.store.ingest_event(&f.company, checkout("2", None, T0), Some(key(json!(2)))).await.unwrap_err();
        assert_eq!(rejection(error), Rejection::IdempotencyMismatch);
    }

    async fn cart_positions_refuse_orphans_and_overdraws() {
        let Some(f) = fixture(BACKEND, "cart_positions_refuse_orphans_and_overdraws").await else { return };
        f.store
            .set_rates(vec![RateInput {
                currency: Currency::parse("EUR").unwrap(),
                multiplier: Multiplier::new(dec("1.10")).unwrap(),
                effective_from: "2026-01-01".parse().unwrap(),
                source: "test".into(),
            }])
            .await
            .unwrap();
        let orphan = f.store.ingest_event(&f.company, cart(CartEventType::ItemRemoved, Some(1), T0), None).await;
        assert_eq!(rejection(orphan.unwrap_err()), Rejection::Cart(revtrace_core::CartRejection::OrphanRemoval));
        let added =
            created(f.store.ingest_event(&f.company, cart(CartEventType::ItemAdded, Some(2), T0), None).await.unwrap());
        assert_eq!(added.usd_value.as_deref(), Some("22.00"));
        let over = f.store.ingest_event(&f.company, cart(CartEventType::QuantityDecreased, Some(3), T0), None).await;
        assert_eq!(rejection(over.unwrap_err()), Rejection::Cart(revtrace_core::CartRejection::ExceedsNetQuantity));
        let all =
            created(f.store.ingest_event(&f.company, cart(CartEventType::ItemRemoved, None, T0), None).await.unwrap());
        assert_eq!(all.usd_value.as_deref(), Some("-22.00"));
    }

    async fn tickets_keep_their_identity() {
        let Some(f) = fixture(BACKEND, "tickets_keep_their_identity").await else { return };
        created(f.store.ingest_ticket(&f.company, grounded("TK-1", "FP-1", T0), None).await.unwrap());
        let error = f.store.ingest_ticket(&f.company, grounded("TK-1", "FP-2", T0), None).await.unwrap_err();
        assert_eq!(rejection(error), Rejection::TicketConflict { ticket_id: "TK-1".into(), field: "fingerprint" });
    }

    async fn calls_for_an_unknown_company_are_refused() {
        let Some(f) = fixture(BACKEND, "calls_for_an_unknown_company_are_refused").await else { return };
        let nobody = CompanyId::new("co_nobody");
        let error = f.store.ingest_event(&nobody, checkout("1", None, T0), None).await.unwrap_err();
        assert_eq!(rejection(error), Rejection::UnknownCompany("co_nobody".into()));
        let token = CartTokenInput { cart_token: "c1".into(), user_fingerprint: fp("FP-1") };
        assert!(f.store.record_cart_token(&nobody, token, None).await.is_err());
        assert!(f.store.record_visit(&nobody, "FP-1".into(), T0, None).await.is_err());
    }

    async fn reattribute_applies_late_history_and_a_new_window() {
        let Some(f) = fixture(BACKEND, "reattribute_applies_late_history_and_a_new_window").await else { return };
        let early = created(f.store.ingest_event(&f.company, checkout("1", Some("FP-1"), T0 + HOUR), None).await.unwrap());
        assert_eq!(early.reason, Reason::NoTicket);
        created(f.store.ingest_ticket(&f.company, grounded("TK-late", "FP-1", T0), None).await.unwrap());

        let dry = ReattributeOptions { dry_run: true, ..Default::default() };
        let report = f.store.reattribute(dry, Box::new(|_| {})).await.unwrap();
        assert_eq!((report.events, report.decisions_changed), (1, 1));
        let unchanged = f.store.event_attribution(&f.company, &early.event_id).await.unwrap().unwrap();
        assert_eq!(unchanged.reason, Reason::NoTicket);

        let report = f.store.reattribute(ReattributeOptions::default(), Box::new(|_| {})).await.unwrap();
        assert_eq!(report.decisions_changed, 1);
        let audit = f.store.event_attribution(&f.company, &early.event_id).await.unwrap().unwrap();
        assert_eq!((audit.reason, audit.decided_by.as_str()), (Reason::Attributed, "reattribute"));

        let narrow = ReattributeOptions { window_ms: Some(HOUR / 2), ..Default::default() };
        let report = f.store.reattribute(narrow, Box::new(|_| {})).await.unwrap();
        assert_eq!(report.decisions_changed, 1);
        let later = created(f.store.ingest_event(&f.company, checkout("2", Some("FP-1"), T0 + HOUR), None).await.unwrap());
        assert_eq!(later.reason, Reason::OutsideWindow, "the new window holds for new events");
    }

    async fn refunds_wait_for_their_order_and_land_in_its_rollup_row() {
        use revtrace_core::report::{self, DayRange, Filter};
        use revtrace_store::RefundInput;
        let Some(f) = fixture(BACKEND, "refunds_wait_for_their_order_and_land_in_its_rollup_row").await else { return };
        let refund = |id: &str, amount: &str| RefundInput {
            refund_id: id.into(),
            order_id: "1".into(),
            amount: dec(amount),
            occurred_at_ms: T0 + 5 * HOUR,
            within_order_value: true,
        };
        let early = f.store.record_refund(&f.company, refund("r1", "8.00"), None).await.unwrap();
        assert!(matches!(early, IngestOutcome::Created(ref r) if !r.applied && r.usd_value.is_none()));
        f.store.ingest_ticket(&f.company, grounded("T1", "FP-1", T0), None).await.unwrap();
        f.store.ingest_event(&f.company, checkout("1", Some("FP-1"), T0 + HOUR), None).await.unwrap();
        let late = f.store.record_refund(&f.company, refund("r2", "10.00"), None).await.unwrap();
        assert!(matches!(late, IngestOutcome::Created(ref r) if r.applied && r.usd_value.as_deref() == Some("10.00")));
        let over = f.store.record_refund(&f.company, refund("r3", "30.01"), None).await.unwrap_err();
        assert!(matches!(rejection(over), Rejection::RefundExceedsOrder { .. }));
        let again = f.store.record_refund(&f.company, refund("r2", "1.00"), None).await.unwrap_err();
        assert_eq!(rejection(again), Rejection::DuplicateRefund { refund_id: "r2".into() });

        let range = DayRange::new(day("2026-09-01"), day("2026-09-01")).unwrap();
        let facts = f.store.revenue_facts(&f.company, range, range.previous()).await.unwrap();
        let sums = report::period(&facts.rows, &range, &Filter::default());
        assert_eq!((sums.attributed.checkout_cents, sums.attributed.refunded_cents), (4_800, 1_800));
        assert_eq!((facts.current_visitors.assisted, facts.current_visitors.assisted_converted), (1, 1));
        assert!(facts.has_checkout_data);
    }

    async fn one_fingerprint_as_user_and_faq_fingerprint_counts_once() {
        use revtrace_core::report::DayRange;
        let Some(f) = fixture(BACKEND, "one_fingerprint_as_user_and_faq_fingerprint_counts_once").await else {
            return;
        };
        f.store.ingest_ticket(&f.company, grounded("T1", "FP-1", T0), None).await.unwrap();
        let mut event = checkout("1", Some("FP-1"), T0 + HOUR);
        event.user_faq_fingerprint = Some(fp("FP-1"));
        let receipt = created(f.store.ingest_event(&f.company, event, None).await.unwrap());
        assert!(receipt.attributed);
        let range = DayRange::new(day("2026-09-01"), day("2026-09-01")).unwrap();
        let facts = f.store.revenue_facts(&f.company, range, range.previous()).await.unwrap();
        assert_eq!((facts.current_visitors.assisted, facts.current_visitors.assisted_converted), (1, 1));
    }

    async fn reattribute_moves_events_between_rollup_rows() {
        use revtrace_core::report::{self, DayRange, Filter};
        let Some(f) = fixture(BACKEND, "reattribute_moves_events_between_rollup_rows").await else { return };
        f.store.ingest_event(&f.company, checkout("1", Some("FP-1"), T0 + HOUR), None).await.unwrap();
        f.store.ingest_ticket(&f.company, grounded("T-late", "FP-1", T0), None).await.unwrap();
        let range = DayRange::new(day("2026-09-01"), day("2026-09-01")).unwrap();
        let before = f.store.revenue_facts(&f.company, range, None).await.unwrap();
        let sums = report::period(&before.rows, &range, &Filter::default());
        assert_eq!((sums.attributed.orders, sums.unattributed.orders), (0, 1));

        f.store.reattribute(ReattributeOptions::default(), Box::new(|_| {})).await.unwrap();
        let after = f.store.revenue_facts(&f.company, range, None).await.unwrap();
        let sums = report::period(&after.rows, &range, &Filter::default());
        assert_eq!((sums.attributed.orders, sums.unattributed.orders), (1, 0));
        assert_eq!(sums.attributed.checkout_cents, 4_800);
    }
}
