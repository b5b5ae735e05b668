//! Revenue experiments (SPEC §11): define them, list them, read their
//! results with GrowthBook's statistics, end them. Assignments arrive as an
//! ingest call (`/analytics/assignments`, in `ingest`).

use axum::{
    Json,
    extract::{Path, State},
    http::{StatusCode, Uri},
};
use revtrace_core::experiment::{self, Analysis, Arm, ArmsSpec, ExperimentResults, Kind, NewExperiment, Summary};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::{
    AppState,
    error::{ApiError, ErrorBody},
    extract::{JsonBody, SecretKey},
    wire::{Amount, Instant},
};

#[derive(Deserialize, ToSchema)]
pub struct ArmBody {
    #[schema(pattern = "^[a-z0-9][a-z0-9_-]{0,63}$", example = "concise")]
    pub name: String,
    /// A positive whole number; arms split visitors in proportion.
    #[schema(minimum = 1, maximum = 10000)]
    pub weight: i64,
    /// False hides the assistant for this arm. Default true.
    pub assistant: Option<bool>,
    /// The AI profile the assistant runs for this arm.
    #[schema(pattern = "^[A-Za-z0-9_.-]{1,64}$")]
    pub ai_profile_id: Option<String>,
}

#[derive(Deserialize, ToSchema)]
pub struct ExperimentBody {
    #[schema(pattern = "^[a-z0-9][a-z0-9_-]{0,63}$", example = "ai-holdout")]
    pub key: String,
    #[schema(min_length = 1, max_length = 200)]
    pub name: String,
    pub kind: Kind,
    /// `holdout` only: the percent of visitors who see no assistant (1–50).
    pub holdout_pct: Option<i64>,
    /// `ab` only: 2–8 arms, in the order their bucket ranges follow.
    pub arms: Option<Vec<ArmBody>>,
    /// `ab` only: the arm the others are compared with.
    pub control: Option<String>,
    /// RFC 3339; default now. May lie in the past (a backfill).
    pub starts_at: Option<Instant>,
    /// RFC 3339; open-ended when absent.
    pub ends_at: Option<Instant>,
    /// Each visitor's net revenue is capped at this (USD).
    pub revenue_cap_usd: Option<Amount>,
}

#[derive(Deserialize, ToSchema, Default)]
pub struct EndBody {
    /// RFC 3339; default now.
    pub ends_at: Option<Instant>,
}

#[derive(Serialize, ToSchema)]
pub struct ExperimentList {
    pub experiments: Vec<Summary>,
}

fn cap_cents(raw: Option<Amount>) -> Result<Option<i64>, ApiError> {
    let Some(Amount(usd)) = raw else { return Ok(None) };
    let cents = usd * Decimal::ONE_HUNDRED;
    if cents.fract() != Decimal::ZERO || cents <= Decimal::ZERO {
        return Err(ApiError::invalid_field("revenue_cap_usd", "a positive USD amount with at most 2 decimals"));
    }
    i64::try_from(cents).map(Some).map_err(|_| ApiError::invalid_field("revenue_cap_usd", "the cap is too large"))
}

fn new_experiment(body: ExperimentBody, now_ms: i64) -> Result<NewExperiment, ApiError> {
    let arms = match body.kind {
        Kind::Holdout => {
            if body.arms.is_some() || body.control.is_some() {
                return Err(ApiError::invalid_field("arms", "a holdout names no arms: give holdout_pct"));
            }
            let holdout_pct = body
                .holdout_pct
                .ok_or_else(|| ApiError::invalid_field("holdout_pct", "a holdout needs holdout_pct"))?;
            ArmsSpec::Holdout { holdout_pct }
        }
        Kind::Ab => {
            if body.holdout_pct.is_some() {
                return Err(ApiError::invalid_field("holdout_pct", "an A/B test names its arms instead"));
            }
            let arms = body.arms.ok_or_else(|| ApiError::invalid_field("arms", "an A/B test needs its arms"))?;
            let control = body.control.ok_or_else(|| ApiError::invalid_field("control", "name the control arm"))?;
            let arms = arms
                .into_iter()
                .enumerate()
                .map(|(i, a)| {
                    let weight =
                        u32::try_from(a.weight).ok().filter(|w| (1..=10_000).contains(w)).ok_or_else(|| {
                            ApiError::invalid_field(
                                format!("arms[{i}].weight"),
                                "a weight is a whole number from 1 to 10000",
                            )
                        })?;
                    if let Some(p) = &a.ai_profile_id
                        && (p.is_empty()
                            || p.len() > 64
                            || !p.bytes().all(|b| b.is_ascii_alphanumeric() || b"_.-".contains(&b)))
                    {
                        return Err(ApiError::invalid_field(
                            format!("arms[{i}].ai_profile_id"),
                            "ai_profile_id is 1 to 64 letters, digits, '_', '-' or '.'",
                        ));
                    }
                    Ok(Arm {
                        name: a.name,
                        weight,
                        assistant: a.assistant.unwrap_or(true),
                        ai_profile_id: a.ai_profile_id,
                    })
                })
                .collect::<Result<_, ApiError>>()?;
            ArmsSpec::Ab { arms, control }
        }
    };
    Ok(NewExperiment {
        key: body.key,
        name: body.name,
        arms,
        starts_at_ms: body.starts_at.map_or(now_ms, Instant::as_millisecond),
        ends_at_ms: body.ends_at.map(Instant::as_millisecond),
        revenue_cap_cents: cap_cents(body.revenue_cap_usd)?,
    })
}

fn invalid(e: experiment::InvalidExperiment) -> ApiError {
    ApiError::invalid_field(e.field, e.message)
}

/// Define an experiment: a holdout (`holdout_pct` of visitors see no
/// assistant) or an A/B split between AI profiles.
#[utoipa::path(post, path = "/v1/experiments", tag = "experiments", request_body = ExperimentBody,
    security(("secret_key" = [])),
    responses((status = 201, body = Summary),
        (status = 409, description = "an experiment with this key exists", body = ErrorBody),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 413, body = ErrorBody),
        (status = 422, body = ErrorBody), (status = 429, body = ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    SecretKey(principal): SecretKey,
    JsonBody { value: body, .. }: JsonBody<ExperimentBody>,
) -> Result<(StatusCode, Json<Summary>), ApiError> {
    let now = state.clock.now_ms();
    let experiment = new_experiment(body, now)?.validate().map_err(invalid)?;
    state.store.create_experiment(&principal.company_id, experiment.clone()).await?;
    let visitors = vec![0; experiment.arms.len()];
    Ok((StatusCode::CREATED, Json(experiment::summary(&experiment, &visitors, now))))
}

/// Every experiment of the company, newest start first, with its status,
/// exposed visitors per arm and SRM check.
#[utoipa::path(get, path = "/v1/experiments", tag = "experiments", security(("secret_key" = [])),
    responses((status = 200, body = ExperimentList), (status = 401, body = ErrorBody), (status = 429, body = ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    SecretKey(principal): SecretKey,
) -> Result<Json<ExperimentList>, ApiError> {
    let now = state.clock.now_ms();
    let experiments = state.store.experiments(&principal.company_id).await?;
    Ok(Json(ExperimentList {
        experiments: experiments.into_iter().map(|e| experiment::summary(&e.experiment, &e.visitors, now)).collect(),
    }))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)] // the OpenAPI document's view of the query; parsed by `analysis`
pub struct ResultsParams {
    /// Significance level, 0 < alpha < 1; default 0.05.
    alpha: Option<f64>,
    /// `true` for sequential intervals, valid however often results are read.
    sequential: Option<bool>,
    /// N* of the sequential intervals; default 5000.
    sequential_tuning: Option<f64>,
}

fn analysis(uri: &Uri, now_ms: i64) -> Result<Analysis, ApiError> {
    let params = crate::extract::query(uri)?;
    crate::extract::refuse_unknown(&params, &["alpha", "sequential", "sequential_tuning"])?;
    let number = |name: &str, default: f64, ok: fn(f64) -> bool, rule: &str| match params.get(name) {
        None => Ok(default),
        Some(raw) => raw
            .parse::<f64>()
            .ok()
            .filter(|v| v.is_finite() && ok(*v))
            .ok_or_else(|| ApiError::invalid_field(name.to_owned(), format!("{name} is {rule}"))),
    };
    let alpha = number("alpha", 0.05, |a| a > 0.0 && a < 1.0, "a number between 0 and 1")?;
    let tuning = number("sequential_tuning", 5000.0, |n| n > 0.0, "a positive number")?;
    let sequential = match params.get("sequential").map(String::as_str) {
        None | Some("false") => false,
        Some("true") => true,
        Some(_) => return Err(ApiError::invalid_field("sequential", "sequential is true or false")),
    };
    Ok(Analysis { alpha, sequential_tuning: sequential.then_some(tuning), now_ms })
}

fn known_key(key: &str) -> Result<(), ApiError> {
    if experiment::is_slug(key) {
        Ok(())
    } else {
        Err(ApiError::not_found(format!("no experiment {key:?} in this company")))
    }
}

/// An experiment's results: per-arm values, each arm's lift against the
/// control on five metrics (Welch t-test, delta method; GrowthBook's
/// sequential intervals with `sequential=true`), incremental revenue next
/// to attributed revenue, and the SRM check.
#[utoipa::path(get, path = "/v1/experiments/{key}", tag = "experiments", params(("key" = String, Path), ResultsParams),
    security(("secret_key" = [])),
    responses((status = 200, body = ExperimentResults), (status = 400, description = "malformed query string", body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 422, body = ErrorBody), (status = 429, body = ErrorBody)))]
pub async fn results(
    State(state): State<AppState>,
    SecretKey(principal): SecretKey,
    Path(key): Path<String>,
    uri: Uri,
) -> Result<Json<ExperimentResults>, ApiError> {
    known_key(&key)?;
    let analysis = analysis(&uri, state.clock.now_ms())?;
    let (experiment, outcomes) = state
        .store
        .experiment_outcomes(&principal.company_id, &key)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("no experiment {key:?} in this company")))?;
    Ok(Json(experiment::results(&experiment, &outcomes, analysis)))
}

/// End an experiment now, or at `ends_at`. Assignments after the end answer
/// `arm: null`; results count outcomes up to the end.
#[utoipa::path(post, path = "/v1/experiments/{key}/end", tag = "experiments", params(("key" = String, Path)),
    request_body(content = Option<EndBody>), security(("secret_key" = [])),
    responses((status = 200, body = Summary), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 413, body = ErrorBody), (status = 422, body = ErrorBody),
        (status = 429, body = ErrorBody)))]
pub async fn end(
    State(state): State<AppState>,
    SecretKey(principal): SecretKey,
    Path(key): Path<String>,
    body: axum::body::Bytes,
) -> Result<Json<Summary>, ApiError> {
    known_key(&key)?;
    let body: EndBody =
        if body.iter().all(u8::is_ascii_whitespace) { EndBody::default() } else { crate::extract::parse(&body)? };
    let at = body.ends_at.map(Instant::as_millisecond);
    let ended = state
        .store
        .end_experiment(&principal.company_id, &key, at)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("no experiment {key:?} in this company")))?;
    Ok(Json(experiment::summary(&ended.experiment, &ended.visitors, state.clock.now_ms())))
}
