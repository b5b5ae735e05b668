//! Revenue-impact reads (SPEC §8): the period report and its daily series.
//! Both fold rollup rows with `revtrace_core::report`; nothing here scans
//! raw events.

use std::collections::{BTreeMap, HashMap};

use axum::{
    Json,
    extract::{FromRequestParts, State},
    http::request::Parts,
};
use jiff::civil::Date;
use revtrace_core::{
    MessageSource,
    report::{self, BySource, ChangePct, DayMetrics, DayRange, Filter, Metrics, SourceMetrics},
};
use revtrace_store::CompanyId;
use serde::Serialize;
use utoipa::{IntoParams, ToSchema};

use crate::{
    AppState,
    error::{ApiError, ErrorBody},
    extract::SecretKey,
};

/// A report covers at most this many days (ten years).
const MAX_DAYS: i64 = 3660;
/// Without `from`, a report covers this many days up to `to`.
const DEFAULT_DAYS: i64 = 30;

/// The query of both revenue-impact calls.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)] // documents the query; parsing is by hand for JSON errors
pub struct ReportParams {
    /// First reporting day, `YYYY-MM-DD` (default: 29 days before `to`).
    from: Option<String>,
    /// Last reporting day, inclusive (default: today in the company's time zone).
    to: Option<String>,
    /// Narrow the attributed side to one AI profile.
    ai_profile: Option<String>,
    /// Narrow the attributed side to one source: `CHAT_WIDGET`, `FAQ` or `NUDGE_CLICK`.
    source: Option<String>,
    /// Count test orders too (default false).
    include_test: Option<bool>,
}

/// What `GET /v1/revenue-impact` compares the range with.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)] // documents the query; parsing is by hand for JSON errors
pub struct ComparisonParams {
    /// `previous_period` (default: the same number of days just before
    /// `from`) or `last_year` (the same days one year earlier).
    compare: Option<String>,
}

/// The period a report is compared with.
#[derive(Clone, Copy, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ComparisonPeriod {
    PreviousPeriod,
    LastYear,
}

impl ComparisonPeriod {
    fn parse(params: &HashMap<String, String>) -> Result<Self, ApiError> {
        match params.get("compare").map(String::as_str) {
            None | Some("previous_period") => Ok(Self::PreviousPeriod),
            Some("last_year") => Ok(Self::LastYear),
            Some(_) => Err(ApiError::invalid_field("compare", "compare is previous_period or last_year")),
        }
    }

    fn of(self, range: &DayRange) -> Option<DayRange> {
        match self {
            Self::PreviousPeriod => range.previous(),
            Self::LastYear => range.year_before(),
        }
    }
}

/// A parsed report query.
pub struct ReportQuery {
    pub range: DayRange,
    pub filter: Filter,
}

fn day_param(params: &HashMap<String, String>, name: &str) -> Result<Option<Date>, ApiError> {
    params
        .get(name)
        .map(|v| {
            v.parse::<Date>().map_err(|_| ApiError::invalid_field(name, format!("{name} must be a date, YYYY-MM-DD")))
        })
        .transpose()
}

impl ReportQuery {
    pub fn parse(params: &HashMap<String, String>, today: Date) -> Result<Self, ApiError> {
        let to = day_param(params, "to")?;
        let from = day_param(params, "from")?;
        let to = to.unwrap_or(today);
        let from = match from {
            Some(from) => from,
            None => to
                .checked_sub(jiff::Span::new().days(DEFAULT_DAYS - 1))
                .map_err(|_| ApiError::invalid_field("to", "to is out of range"))?,
        };
        let range =
            DayRange::new(from, to).ok_or_else(|| ApiError::invalid_field("from", "from must not be after to"))?;
        if range.days() > MAX_DAYS {
            return Err(ApiError::invalid_field("from", format!("a report covers at most {MAX_DAYS} days")));
        }
        let source = params
            .get("source")
            .map(|v| {
                MessageSource::parse(v)
                    .ok_or_else(|| ApiError::invalid_field("source", "source is CHAT_WIDGET, FAQ or NUDGE_CLICK"))
            })
            .transpose()?;
        let include_test = match params.get("include_test").map(String::as_str) {
            None | Some("false" | "0") => false,
            Some("true" | "1") => true,
            Some(_) => return Err(ApiError::invalid_field("include_test", "include_test is true or false")),
        };
        let ai_profile = params.get("ai_profile").filter(|v| !v.is_empty()).cloned();
        Ok(Self { range, filter: Filter { ai_profile, source, include_test } })
    }
}

/// The period a report is compared with.
#[derive(Serialize, ToSchema)]
pub struct PreviousPeriod {
    /// Which period this is (the `compare` parameter).
    pub compare: ComparisonPeriod,
    pub from: String,
    pub to: String,
    pub metrics: Metrics,
}

/// `GET /v1/revenue-impact`.
#[derive(Serialize, ToSchema)]
pub struct RevenueImpact {
    pub from: String,
    pub to: String,
    pub days: i64,
    /// The company's time zone, which defines its reporting days.
    pub timezone: String,
    /// The company has at least one non-test checkout, in any period.
    pub has_checkout_data: bool,
    pub metrics: Metrics,
    /// The comparison period: by default the same number of days just
    /// before `from`; with `compare=last_year` the same days a year earlier.
    pub previous: PreviousPeriod,
    /// `(current − previous) / previous × 100` per metric, rounded to 2
    /// decimals; null when either is null or the previous is 0.
    #[schema(value_type = HashMap<String, Option<f64>>)]
    pub change_pct: ChangePct,
    pub by_source: BySource,
    /// The attributed metrics of each AI profile with attributed events in
    /// the range (SPEC §12), within the filters, by profile id.
    #[schema(value_type = HashMap<String, SourceMetrics>)]
    pub by_ai_profile: BTreeMap<String, SourceMetrics>,
}

/// `GET /v1/revenue-impact/daily`.
#[derive(Serialize, ToSchema)]
pub struct DailyRevenue {
    pub from: String,
    pub to: String,
    pub timezone: String,
    /// One entry per day of the range, zero days included, in order.
    pub days: Vec<DayMetrics>,
}

/// What every report call starts from: the secret key's company, its time
/// zone, the raw query (for parameters of its own) and the parsed range and
/// filters, with "today" in the company's zone as the default end.
pub struct ReportRequest {
    pub company: CompanyId,
    pub timezone: String,
    pub params: HashMap<String, String>,
    pub query: ReportQuery,
}

/// The query parameters every report call takes.
const REPORT_PARAMS: &[&str] = &["from", "to", "ai_profile", "source", "include_test"];

impl ReportRequest {
    /// Refuses a parameter the call does not take (a misspelled `form=` would
    /// otherwise be a silent default); `extra` are the call's own.
    pub fn taking(self, extra: &[&str]) -> Result<Self, ApiError> {
        let known: Vec<&str> = REPORT_PARAMS.iter().chain(extra).copied().collect();
        crate::extract::refuse_unknown(&self.params, &known)?;
        Ok(self)
    }
}

/// A report call: its secret key, then its query, parsed into a range and
/// filters with "today" in the company's zone as the default end.
impl FromRequestParts<AppState> for ReportRequest {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let SecretKey(principal) = SecretKey::from_request_parts(parts, state).await?;
        let params = crate::extract::query(&parts.uri)?;
        let company = principal.company_id;
        let profile =
            state.store.company_profile(&company).await?.ok_or_else(|| ApiError::unauthorized("unknown company"))?;
        let tz = jiff::tz::TimeZone::get(&profile.timezone).map_err(|_| ApiError::internal())?;
        let today = revtrace_core::time::reporting_day(state.clock.now_ms(), &tz);
        let query = ReportQuery::parse(&params, today)?;
        Ok(Self { company, timezone: profile.timezone, params, query })
    }
}

/// Revenue impact of the conversations over a day range: every metric of
/// SPEC §8, the previous period, change percentages and a by-source breakdown.
#[utoipa::path(get, path = "/v1/revenue-impact", tag = "reports", params(ReportParams, ComparisonParams),
    security(("secret_key" = [])),
    responses((status = 200, body = RevenueImpact), (status = 401, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn revenue_impact(
    State(state): State<AppState>,
    request: ReportRequest,
) -> Result<Json<RevenueImpact>, ApiError> {
    let ReportRequest { company, timezone, params, query: ReportQuery { range, filter } } =
        request.taking(&["compare"])?;
    let compare = ComparisonPeriod::parse(&params)?;
    let previous = compare.of(&range).ok_or_else(|| ApiError::invalid_field("from", "from is out of range"))?;
    let facts = state.store.revenue_facts(&company, range, Some(previous)).await?;

    let mut now = report::period(&facts.rows, &range, &filter);
    now.visitors = facts.current_visitors;
    let mut before = report::period(&facts.rows, &previous, &filter);
    before.visitors = facts.previous_visitors;
    let (metrics, previous_metrics) = (Metrics::compute(&now), Metrics::compute(&before));
    Ok(Json(RevenueImpact {
        from: range.from.to_string(),
        to: range.to.to_string(),
        days: range.days(),
        timezone,
        has_checkout_data: facts.has_checkout_data,
        change_pct: ChangePct::between(&metrics, &previous_metrics),
        by_source: report::by_source(&facts.rows, &range, &filter),
        by_ai_profile: report::by_ai_profile(&facts.rows, &range, &filter),
        metrics,
        previous: PreviousPeriod {
            compare,
            from: previous.from.to_string(),
            to: previous.to.to_string(),
            metrics: previous_metrics,
        },
    }))
}

/// One row per reporting day of the range (zero days included): attributed
/// checkout revenue gross and net, orders, cart GMV, products in cart, and
/// the unattributed baseline.
#[utoipa::path(get, path = "/v1/revenue-impact/daily", tag = "reports", params(ReportParams),
    security(("secret_key" = [])),
    responses((status = 200, body = DailyRevenue), (status = 401, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn revenue_impact_daily(
    State(state): State<AppState>,
    request: ReportRequest,
) -> Result<Json<DailyRevenue>, ApiError> {
    let ReportRequest { company, timezone, query: ReportQuery { range, filter }, .. } = request.taking(&[])?;
    let facts = state.store.revenue_facts(&company, range, None).await?;
    Ok(Json(DailyRevenue {
        from: range.from.to_string(),
        to: range.to.to_string(),
        timezone,
        days: report::daily(&facts.rows, &range, &filter),
    }))
}
