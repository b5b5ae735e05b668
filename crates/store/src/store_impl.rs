//! The `Store` trait's methods, written once. Each is a flow of `sql` (or
//! an ingest call) that a backend runs its way: `impl_store!(Backend)`
//! expands this impl for a backend whose module defines
//!
//! - `read_db!(store, db => body)`: `body` with `db: &impl Db` on a pooled
//!   reader (SQLite: on a blocking thread; PostgreSQL: awaited);
//! - `write_db!(store, db, now => body)`: `body` with `db` in the backend's
//!   write transaction and `now` from its clock (SQLite: on the writer
//!   thread, in the batch; PostgreSQL: retried on a lost race, so `body`
//!   only borrows);
//!
//! and whose type has `ingest`, `export_rows`, `run_reattribute` and an
//! `inner` with `principals` and `clock`. Inputs are cloned into owned
//! values first: SQLite's closures run on other threads.

macro_rules! impl_store {
    ($backend:ty) => {
        #[async_trait::async_trait]
        impl $crate::Store for $backend {
            async fn authenticate(&self, key: &str) -> Result<Option<$crate::Principal>, $crate::StoreError> {
                if let Some(found) = self.inner.principals.get(key) {
                    return Ok(Some(found));
                }
                let owned = key.to_owned();
                let found = read_db!(self, db => $crate::sql::lookups::find_principal(db, &owned).await)?;
                if let Some(principal) = &found {
                    self.inner.principals.put(key, principal);
                }
                Ok(found)
            }

            async fn keys(
                &self,
                company: &$crate::CompanyId,
                change: $crate::KeyChange,
            ) -> Result<$crate::CompanyKeys, $crate::StoreError> {
                let company = company.clone();
                write_db!(self, db, now => $crate::sql::admin::change(db, &company, &change, now).await)
            }

            async fn ingest_ticket(
                &self,
                company: &$crate::CompanyId,
                ticket: $crate::TicketInput,
                idempotency: Option<$crate::IdempotencyKey>,
            ) -> Result<$crate::IngestOutcome<$crate::TicketSummary>, $crate::StoreError> {
                self.ingest(company, idempotency, $crate::rows::Call::Ticket(ticket)).await?.into_ticket()
            }

            async fn ingest_event(
                &self,
                company: &$crate::CompanyId,
                event: $crate::EventInput,
                idempotency: Option<$crate::IdempotencyKey>,
            ) -> Result<$crate::IngestOutcome<$crate::EventReceipt>, $crate::StoreError> {
                self.ingest(company, idempotency, $crate::rows::Call::Event(Box::new(event))).await?.into_event()
            }

            async fn record_cart_token(
                &self,
                company: &$crate::CompanyId,
                token: $crate::CartTokenInput,
                idempotency: Option<$crate::IdempotencyKey>,
            ) -> Result<$crate::IngestOutcome<()>, $crate::StoreError> {
                self.ingest(company, idempotency, $crate::rows::Call::CartToken(token)).await?.into_no_content()
            }

            async fn record_visit(
                &self,
                company: &$crate::CompanyId,
                fingerprint: String,
                at_ms: i64,
                idempotency: Option<$crate::IdempotencyKey>,
            ) -> Result<$crate::IngestOutcome<()>, $crate::StoreError> {
                let call = $crate::rows::Call::Visit { fingerprint, at_ms };
                self.ingest(company, idempotency, call).await?.into_no_content()
            }

            async fn record_refund(
                &self,
                company: &$crate::CompanyId,
                refund: $crate::RefundInput,
                idempotency: Option<$crate::IdempotencyKey>,
            ) -> Result<$crate::IngestOutcome<$crate::RefundReceipt>, $crate::StoreError> {
                self.ingest(company, idempotency, $crate::rows::Call::Refund(refund)).await?.into_refund()
            }

            async fn upsert_products(
                &self,
                company: &$crate::CompanyId,
                products: Vec<$crate::Product>,
            ) -> Result<u64, $crate::StoreError> {
                let company = company.clone();
                write_db!(self, db, now => $crate::sql::admin::store_products(db, &company, &products, now).await)
            }

            async fn company_profile(
                &self,
                company: &$crate::CompanyId,
            ) -> Result<Option<$crate::CompanyProfile>, $crate::StoreError> {
                let company = company.clone();
                read_db!(self, db => $crate::sql::reports::company_profile(db, &company).await)
            }

            async fn revenue_facts(
                &self,
                company: &$crate::CompanyId,
                current: revtrace_core::report::DayRange,
                previous: Option<revtrace_core::report::DayRange>,
            ) -> Result<$crate::RevenueFacts, $crate::StoreError> {
                // The three reads run side by side on pooled connections.
                let (from, to) = match previous {
                    Some(p) => (current.from.min(p.from), current.to.max(p.to)),
                    None => (current.from, current.to),
                };
                let visitors_of = |range: Option<revtrace_core::report::DayRange>| {
                    let company = company.clone();
                    async move {
                        match range {
                            Some(r) => {
                                read_db!(self, db => $crate::sql::reports::visitors(db, &company, &r).await).map(Some)
                            }
                            None => Ok(None),
                        }
                    }
                };
                let owned = company.clone();
                let rows = async { read_db!(self, db => $crate::sql::reports::rollups(db, &owned, from, to).await) };
                let ((rows, has_checkout_data), current_visitors, previous_visitors) =
                    tokio::try_join!(rows, visitors_of(previous.map(|_| current)), visitors_of(previous))?;
                Ok($crate::RevenueFacts {
                    rows,
                    current_visitors: current_visitors.unwrap_or_default(),
                    previous_visitors: previous_visitors.unwrap_or_default(),
                    has_checkout_data,
                })
            }

            async fn company_overview(
                &self,
                company: &$crate::CompanyId,
            ) -> Result<Option<$crate::CompanyOverview>, $crate::StoreError> {
                let company = company.clone();
                read_db!(self, db => $crate::sql::reports::company_overview(db, &company).await)
            }

            async fn top_conversations(
                &self,
                company: &$crate::CompanyId,
                range: revtrace_core::report::DayRange,
                filter: revtrace_core::report::Filter,
                limit: u32,
            ) -> Result<Vec<$crate::ConversationRow>, $crate::StoreError> {
                let company = company.clone();
                read_db!(self, db => $crate::sql::reports::top_conversations(db, &company, &range, &filter, limit).await)
            }

            async fn funnel_tickets(
                &self,
                company: &$crate::CompanyId,
                range: revtrace_core::report::DayRange,
                filter: revtrace_core::report::Filter,
            ) -> Result<Vec<revtrace_core::funnel::FunnelTicket>, $crate::StoreError> {
                let company = company.clone();
                read_db!(self, db => $crate::sql::reports::funnel_tickets(db, &company, &range, &filter).await)
            }

            async fn ticket_revenue(
                &self,
                company: &$crate::CompanyId,
                ticket_id: &$crate::TicketId,
            ) -> Result<Option<$crate::TicketRevenue>, $crate::StoreError> {
                let (company, ticket_id) = (company.clone(), ticket_id.clone());
                read_db!(self, db => $crate::sql::reports::ticket_revenue(db, &company, &ticket_id).await)
            }

            fn export(&self, company: &$crate::CompanyId, range: revtrace_core::report::DayRange) -> $crate::ExportRows {
                self.export_rows(company, range)
            }

            async fn allowed_origins(&self, company: &$crate::CompanyId) -> Result<Vec<String>, $crate::StoreError> {
                let company = company.clone();
                read_db!(self, db => $crate::sql::admin::allowed_origins(db, &company).await)
            }

            async fn set_origins(
                &self,
                company: &$crate::CompanyId,
                add: Vec<String>,
                remove: Vec<String>,
            ) -> Result<Vec<String>, $crate::StoreError> {
                let company = company.clone();
                write_db!(self, db, _now => $crate::sql::admin::change_origins(db, &company, &add, &remove).await)
            }

            async fn shopify_store(&self, shop_domain: &str) -> Result<Option<$crate::ShopifyShop>, $crate::StoreError> {
                let shop = shop_domain.to_owned();
                read_db!(self, db => $crate::sql::shopify::shop(db, &shop).await)
            }

            async fn connect_shopify(
                &self,
                connect: $crate::ShopifyConnect,
            ) -> Result<$crate::ShopifyShop, $crate::StoreError> {
                write_db!(self, db, now => $crate::sql::shopify::connect_shop(db, &connect, now).await)
            }

            async fn shopify_delivery(
                &self,
                company: &$crate::CompanyId,
                delivery: $crate::ShopifyDelivery,
            ) -> Result<$crate::DeliveryOutcome, $crate::StoreError> {
                let company = company.clone();
                write_db!(self, db, now => $crate::sql::shopify::deliver(db, &company, &delivery, now).await)
            }

            async fn privacy_export(
                &self,
                company: &$crate::CompanyId,
                subject: $crate::PrivacySubject,
            ) -> Result<Option<serde_json::Value>, $crate::StoreError> {
                let company = company.clone();
                read_db!(self, db => $crate::sql::privacy::export_subject(db, &company, subject).await)
            }

            async fn privacy_erase(
                &self,
                company: &$crate::CompanyId,
                fingerprint: &str,
            ) -> Result<String, $crate::StoreError> {
                let (company, fingerprint) = (company.clone(), fingerprint.to_owned());
                write_db!(self, db, now => $crate::sql::privacy::erase_on_request(db, &company, &fingerprint, now).await)
            }

            async fn event_attribution(
                &self,
                company: &$crate::CompanyId,
                event_id: &$crate::EventId,
            ) -> Result<Option<$crate::AttributionReceipt>, $crate::StoreError> {
                let (company, event_id) = (company.clone(), event_id.clone());
                read_db!(self, db => $crate::sql::lookups::receipt(db, &company, &event_id).await)
            }

            async fn create_company(
                &self,
                company: $crate::NewCompany,
            ) -> Result<$crate::CompanyCredentials, $crate::StoreError> {
                write_db!(self, db, now => $crate::sql::admin::add_company(db, &company, now).await)
            }

            async fn set_rates(&self, rates: Vec<$crate::RateInput>) -> Result<u64, $crate::StoreError> {
                write_db!(self, db, _now => $crate::sql::admin::store_rates(db, &rates).await)
            }

            async fn reattribute(
                &self,
                options: $crate::ReattributeOptions,
                progress: Box<dyn Fn($crate::Progress) + Send>,
            ) -> Result<$crate::ReattributeReport, $crate::StoreError> {
                self.run_reattribute(options, progress).await
            }

            async fn assign(
                &self,
                company: &$crate::CompanyId,
                assignment: $crate::AssignmentInput,
                idempotency: Option<$crate::IdempotencyKey>,
            ) -> Result<$crate::IngestOutcome<$crate::Assignment>, $crate::StoreError> {
                self.ingest(company, idempotency, $crate::rows::Call::Assignment(assignment)).await?.into_assignment()
            }

            async fn create_experiment(
                &self,
                company: &$crate::CompanyId,
                experiment: $crate::Experiment,
            ) -> Result<(), $crate::StoreError> {
                let company = company.clone();
                write_db!(self, db, now => $crate::sql::experiments::create(db, &company, &experiment, now).await)
            }

            async fn experiments(
                &self,
                company: &$crate::CompanyId,
            ) -> Result<Vec<$crate::ExperimentVisitors>, $crate::StoreError> {
                let company = company.clone();
                read_db!(self, db => $crate::sql::experiments::list(db, &company).await)
            }

            async fn experiment_outcomes(
                &self,
                company: &$crate::CompanyId,
                key: &str,
            ) -> Result<Option<($crate::Experiment, Vec<$crate::ArmOutcome>)>, $crate::StoreError> {
                let (company, key) = (company.clone(), key.to_owned());
                read_db!(self, db => $crate::sql::experiments::outcomes(db, &company, &key).await)
            }

            async fn end_experiment(
                &self,
                company: &$crate::CompanyId,
                key: &str,
                at_ms: Option<i64>,
            ) -> Result<Option<$crate::ExperimentVisitors>, $crate::StoreError> {
                let (company, key) = (company.clone(), key.to_owned());
                write_db!(self, db, now => $crate::sql::experiments::end(db, &company, &key, at_ms.unwrap_or(now)).await)
            }

            async fn exposures(
                &self,
                company: &$crate::CompanyId,
                key: &str,
            ) -> Result<Option<Vec<$crate::ExposureRow>>, $crate::StoreError> {
                let (company, key) = (company.clone(), key.to_owned());
                read_db!(self, db => $crate::sql::experiments::exposures(db, &company, &key).await)
            }

            async fn companies(&self) -> Result<Vec<$crate::CompanySummary>, $crate::StoreError> {
                read_db!(self, db => $crate::sql::admin::companies(db).await)
            }

            async fn ping(&self) -> Result<(), $crate::StoreError> {
                read_db!(self, db => $crate::sql::db::Db::rows(db, "SELECT 1", Vec::new()).await.map(drop))
            }

            fn clock(&self) -> std::sync::Arc<dyn $crate::Clock> {
                self.inner.clock.clone()
            }
        }
    };
}
