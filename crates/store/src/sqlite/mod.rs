//! The embedded SQLite backend: WAL mode; one group-committing writer thread
//! whose batches are flushed by a syncer thread before any caller is answered
//! (durable answers, see `syncer`); background checkpoints; a pool of readers.

mod apply;
mod checkpoint;
mod db;
mod history;
mod ingest;
mod migrate;
mod reattribute;
mod reports;
mod rollups;
mod run;
mod syncer;
mod writer;

use std::{
    path::{Path, PathBuf},
    sync::Arc,
};

use async_trait::async_trait;
use r2d2_sqlite::SqliteConnectionManager;
use rusqlite::Connection;
use tokio::sync::{mpsc, oneshot};
use writer::{Call, Command, Job, Reply};

use crate::{
    ExportRows, Store, StoreError,
    model::{
        AttributionReceipt, CartTokenInput, CompanyCredentials, CompanyId, CompanyOverview, CompanyProfile,
        ConversationRow, DeliveryOutcome, EventInput, EventReceipt, IdempotencyKey, IngestOutcome, NewCompany,
        Principal, PrivacySubject, Product, Progress, RateInput, ReattributeOptions, ReattributeReport, RefundInput,
        RefundReceipt, RevenueFacts, ShopifyConnect, ShopifyDelivery, ShopifyStore, TicketInput, TicketRevenue,
        TicketSummary,
    },
    rows::Ingested,
};
use db::SqliteDb;
use revtrace_core::report::DayRange;

use crate::sql::{self, db::block_on};

/// Rows per chunk of an export stream.
const EXPORT_CHUNK: usize = 1024;

/// Calls waiting for the writer beyond this make callers wait (back-pressure).
const QUEUE_DEPTH: usize = 8192;
const READERS: u32 = 8;

fn configure(conn: &Connection) -> rusqlite::Result<()> {
    conn.busy_timeout(std::time::Duration::from_secs(10))?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    // FULL for every connection but the writer's (whose syncer flushes).
    conn.pragma_update(None, "synchronous", "FULL")?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    conn.pragma_update(None, "cache_size", -16_384)?;
    Ok(())
}

#[derive(Clone)]
pub struct SqliteStore {
    inner: Arc<Inner>,
}

struct Inner {
    path: PathBuf,
    writer: mpsc::Sender<Job>,
    readers: r2d2::Pool<SqliteConnectionManager>,
    /// Keys seen lately; an unknown one is looked up again (a key created by
    /// the CLI works at once, a revoked one stops within the cache's TTL).
    principals: crate::principals::PrincipalCache,
    clock: Arc<dyn crate::Clock>,
    /// Dropping it stops the checkpoint thread.
    _checkpoints: std::sync::mpsc::Sender<()>,
}

impl SqliteStore {
    /// Opens (creating when absent) the database at `path` and migrates it.
    pub fn open(path: impl AsRef<Path>) -> Result<Self, StoreError> {
        Self::open_with_clock(path, Arc::new(crate::SystemClock))
    }

    /// [`SqliteStore::open`], reading "now" from `clock`.
    pub fn open_with_clock(path: impl AsRef<Path>, clock: Arc<dyn crate::Clock>) -> Result<Self, StoreError> {
        let path = path.as_ref().to_path_buf();
        let mut conn = Connection::open(&path)?;
        configure(&conn)?;
        migrate::run(&mut conn)?;

        // The writer never auto-checkpoints inline (that would stall every
        // queued call); a companion thread does it in the background.
        // The writer commits without flushing; the syncer flushes the WAL and
        // only then answers, so disk waits overlap the next batch's work.
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        let syncer = syncer::spawn(&path).map_err(StoreError::Thread)?;
        let (tx, rx) = mpsc::channel(QUEUE_DEPTH);
        writer::spawn(conn, rx, syncer, clock.clone()).map_err(StoreError::Thread)?;
        let checkpoints = checkpoint::spawn(&path)?;
        let manager = SqliteConnectionManager::file(&path).with_init(|c: &mut Connection| configure(c));
        let readers = r2d2::Pool::builder().max_size(READERS).min_idle(Some(1)).build(manager)?;
        Ok(Self {
            inner: Arc::new(Inner {
                path,
                writer: tx,
                readers,
                principals: Default::default(),
                clock,
                _checkpoints: checkpoints,
            }),
        })
    }

    pub fn path(&self) -> &Path {
        &self.inner.path
    }

    async fn ingest(
        &self,
        company: &CompanyId,
        idempotency: Option<IdempotencyKey>,
        call: Call,
    ) -> Result<Ingested, StoreError> {
        let idempotency = idempotency.map(|key| key.scoped(call.endpoint()));
        match self.write(Command::Ingest { company: company.clone(), idempotency, call }).await? {
            Reply::Ingested(answer) => Ok(answer),
            _ => Err(unexpected("admin")),
        }
    }

    async fn write(&self, command: Command) -> Result<Reply, StoreError> {
        let (reply, answer) = oneshot::channel();
        self.inner.writer.send(Job { command, reply }).await.map_err(|_| StoreError::Closed)?;
        answer.await.map_err(|_| StoreError::Closed)?
    }

    async fn read<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Connection) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        let pool = self.inner.readers.clone();
        tokio::task::spawn_blocking(move || {
            let conn = pool.get()?;
            f(&conn)
        })
        .await?
    }
}

fn unexpected(what: &str) -> StoreError {
    StoreError::Corrupt(format!("the writer answered a call with an unexpected {what} reply"))
}

#[async_trait]
impl Store for SqliteStore {
    async fn keys(&self, company: &CompanyId, change: crate::KeyChange) -> Result<crate::CompanyKeys, StoreError> {
        match self.write(Command::Keys { company: company.clone(), change }).await? {
            Reply::Keys(keys) => Ok(keys),
            _ => Err(unexpected("keys")),
        }
    }

    async fn authenticate(&self, key: &str) -> Result<Option<Principal>, StoreError> {
        if let Some(found) = self.inner.principals.get(key) {
            return Ok(Some(found));
        }
        let owned = key.to_owned();
        let found =
            self.read(move |conn| block_on(sql::lookups::find_principal(&SqliteDb::reader(conn), &owned))).await?;
        if let Some(principal) = &found {
            self.inner.principals.put(key, principal);
        }
        Ok(found)
    }

    async fn ingest_ticket(
        &self,
        company: &CompanyId,
        ticket: TicketInput,
        idempotency: Option<IdempotencyKey>,
    ) -> Result<IngestOutcome<TicketSummary>, StoreError> {
        self.ingest(company, idempotency, Call::Ticket(ticket)).await?.into_ticket()
    }

    async fn ingest_event(
        &self,
        company: &CompanyId,
        event: EventInput,
        idempotency: Option<IdempotencyKey>,
    ) -> Result<IngestOutcome<EventReceipt>, StoreError> {
        self.ingest(company, idempotency, Call::Event(Box::new(event))).await?.into_event()
    }

    async fn record_cart_token(
        &self,
        company: &CompanyId,
        token: CartTokenInput,
        idempotency: Option<IdempotencyKey>,
    ) -> Result<IngestOutcome<()>, StoreError> {
        self.ingest(company, idempotency, Call::CartToken(token)).await?.into_no_content()
    }

    async fn record_visit(
        &self,
        company: &CompanyId,
        fingerprint: String,
        at_ms: i64,
        idempotency: Option<IdempotencyKey>,
    ) -> Result<IngestOutcome<()>, StoreError> {
        self.ingest(company, idempotency, Call::Visit { fingerprint, at_ms }).await?.into_no_content()
    }

    async fn record_refund(
        &self,
        company: &CompanyId,
        refund: RefundInput,
        idempotency: Option<IdempotencyKey>,
    ) -> Result<IngestOutcome<RefundReceipt>, StoreError> {
        self.ingest(company, idempotency, Call::Refund(refund)).await?.into_refund()
    }

    async fn upsert_products(&self, company: &CompanyId, products: Vec<Product>) -> Result<u64, StoreError> {
        match self.write(Command::UpsertProducts { company: company.clone(), products }).await? {
            Reply::Count(n) => Ok(n),
            _ => Err(unexpected("ingest")),
        }
    }

    async fn company_profile(&self, company: &CompanyId) -> Result<Option<CompanyProfile>, StoreError> {
        let company = company.clone();
        self.read(move |conn| block_on(sql::reports::company_profile(&SqliteDb::reader(conn), &company))).await
    }

    async fn revenue_facts(
        &self,
        company: &CompanyId,
        current: DayRange,
        previous: Option<DayRange>,
    ) -> Result<RevenueFacts, StoreError> {
        // The three reads run side by side on pooled connections.
        let (from, to) = match previous {
            Some(p) => (current.from.min(p.from), current.to.max(p.to)),
            None => (current.from, current.to),
        };
        let visitors_of = |range: Option<DayRange>| {
            let company = company.clone();
            self.read(move |conn| {
                range.map(|r| block_on(sql::reports::visitors(&SqliteDb::reader(conn), &company, &r))).transpose()
            })
        };
        let owned = company.clone();
        let rows = self.read(move |conn| block_on(sql::reports::rollups(&SqliteDb::reader(conn), &owned, from, to)));
        let ((rows, has_checkout_data), current_visitors, previous_visitors) =
            tokio::try_join!(rows, visitors_of(previous.map(|_| current)), visitors_of(previous))?;
        Ok(RevenueFacts {
            rows,
            current_visitors: current_visitors.unwrap_or_default(),
            previous_visitors: previous_visitors.unwrap_or_default(),
            has_checkout_data,
        })
    }

    async fn company_overview(&self, company: &CompanyId) -> Result<Option<CompanyOverview>, StoreError> {
        let company = company.clone();
        self.read(move |conn| block_on(sql::reports::company_overview(&SqliteDb::reader(conn), &company))).await
    }

    async fn top_conversations(
        &self,
        company: &CompanyId,
        range: DayRange,
        filter: revtrace_core::report::Filter,
        limit: u32,
    ) -> Result<Vec<ConversationRow>, StoreError> {
        let company = company.clone();
        self.read(move |conn| {
            block_on(sql::reports::top_conversations(&SqliteDb::reader(conn), &company, &range, &filter, limit))
        })
        .await
    }

    async fn ticket_revenue(&self, company: &CompanyId, ticket_id: &str) -> Result<Option<TicketRevenue>, StoreError> {
        let (company, ticket_id) = (company.clone(), ticket_id.to_owned());
        self.read(move |conn| block_on(sql::reports::ticket_revenue(&SqliteDb::reader(conn), &company, &ticket_id)))
            .await
    }

    fn export(&self, company: &CompanyId, range: DayRange) -> ExportRows {
        let (tx, rx) = mpsc::channel(4);
        let (pool, company) = (self.inner.readers.clone(), company.clone());
        tokio::task::spawn_blocking(move || {
            let conn = match pool.get() {
                Ok(conn) => conn,
                Err(e) => return drop(tx.blocking_send(Err(e.into()))),
            };
            let mut chunk = Vec::with_capacity(EXPORT_CHUNK);
            let mut open = true;
            let scanned = reports::export(&conn, &company, &range, |row| {
                match row {
                    Ok(row) => chunk.push(row),
                    Err(e) => {
                        let _ = tx.blocking_send(Err(e));
                        open = false;
                    }
                }
                if open && chunk.len() >= EXPORT_CHUNK {
                    // A closed channel (the client went away) stops the scan.
                    open = tx.blocking_send(Ok(std::mem::take(&mut chunk))).is_ok();
                }
                open
            });
            match scanned {
                Ok(()) if open && !chunk.is_empty() => drop(tx.blocking_send(Ok(chunk))),
                Ok(()) => {}
                Err(e) => drop(tx.blocking_send(Err(e))),
            }
        });
        rx
    }

    async fn allowed_origins(&self, company: &CompanyId) -> Result<Vec<String>, StoreError> {
        let company = company.clone();
        self.read(move |conn| block_on(sql::admin::allowed_origins(&SqliteDb::reader(conn), &company))).await
    }

    async fn set_origins(
        &self,
        company: &CompanyId,
        add: Vec<String>,
        remove: Vec<String>,
    ) -> Result<Vec<String>, StoreError> {
        match self.write(Command::SetOrigins { company: company.clone(), add, remove }).await? {
            Reply::Origins(list) => Ok(list),
            _ => Err(unexpected("ingest")),
        }
    }

    async fn shopify_store(&self, shop_domain: &str) -> Result<Option<ShopifyStore>, StoreError> {
        let shop = shop_domain.to_owned();
        self.read(move |conn| block_on(sql::shopify::shop(&SqliteDb::reader(conn), &shop))).await
    }

    async fn connect_shopify(&self, connect: ShopifyConnect) -> Result<ShopifyStore, StoreError> {
        match self.write(Command::ConnectShopify(connect)).await? {
            Reply::Shop(shop) => Ok(shop),
            _ => Err(unexpected("ingest")),
        }
    }

    async fn shopify_delivery(
        &self,
        company: &CompanyId,
        delivery: ShopifyDelivery,
    ) -> Result<DeliveryOutcome, StoreError> {
        match self.write(Command::ShopifyDelivery { company: company.clone(), delivery }).await? {
            Reply::Delivery(outcome) => Ok(outcome),
            _ => Err(unexpected("ingest")),
        }
    }

    async fn privacy_export(
        &self,
        company: &CompanyId,
        subject: PrivacySubject,
    ) -> Result<Option<serde_json::Value>, StoreError> {
        let company = company.clone();
        self.read(move |conn| block_on(sql::privacy::export_subject(&SqliteDb::reader(conn), &company, subject))).await
    }

    async fn privacy_erase(&self, company: &CompanyId, fingerprint: &str) -> Result<String, StoreError> {
        let command = Command::EraseFingerprint { company: company.clone(), fingerprint: fingerprint.to_owned() };
        match self.write(command).await? {
            Reply::Erased(token) => Ok(token),
            _ => Err(unexpected("ingest")),
        }
    }

    async fn event_attribution(
        &self,
        company: &CompanyId,
        event_id: &str,
    ) -> Result<Option<AttributionReceipt>, StoreError> {
        let (company, event_id) = (company.clone(), event_id.to_owned());
        self.read(move |conn| block_on(sql::lookups::receipt(&SqliteDb::reader(conn), &company, &event_id))).await
    }

    async fn create_company(&self, company: NewCompany) -> Result<CompanyCredentials, StoreError> {
        match self.write(Command::CreateCompany(company)).await? {
            Reply::Company(credentials) => Ok(credentials),
            _ => Err(unexpected("ingest")),
        }
    }

    async fn set_rates(&self, rates: Vec<RateInput>) -> Result<u64, StoreError> {
        match self.write(Command::SetRates(rates)).await? {
            Reply::Count(n) => Ok(n),
            _ => Err(unexpected("ingest")),
        }
    }

    async fn reattribute(
        &self,
        options: ReattributeOptions,
        progress: Box<dyn Fn(Progress) + Send>,
    ) -> Result<ReattributeReport, StoreError> {
        let (path, clock) = (self.inner.path.clone(), self.inner.clock.clone());
        tokio::task::spawn_blocking(move || {
            let read = Connection::open(&path)?;
            configure(&read)?;
            let mut write = Connection::open(&path)?;
            configure(&write)?;
            reattribute::run(&read, &mut write, &options, &*progress, &*clock)
        })
        .await?
    }

    fn clock(&self) -> Arc<dyn crate::Clock> {
        self.inner.clock.clone()
    }

    async fn ping(&self) -> Result<(), StoreError> {
        self.read(|conn| Ok(conn.query_row("SELECT 1", [], |r| r.get::<_, i64>(0)).map(drop)?)).await
    }
}
