//! The answer of `GET /v1/experiments/{key}`: per-arm values, each
//! treatment's lifts against the control, incremental revenue beside
//! attributed revenue, and the SRM check — from per-arm sums.

use serde::Serialize;

use super::{Arm, Experiment, Kind, Lift, Method, Moments, Statistic, Status, compare, srm_p_value};
use crate::{money::UsdTotal, time::to_rfc3339};

/// SRM warns below this p-value.
pub const SRM_THRESHOLD: f64 = 0.001;

/// The sums of one arm's visitors. Money is exact in cents; squares and
/// products (for variances) are in USD, as doubles.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct ArmOutcome {
    pub visitors: u64,
    pub converted: u64,
    pub orders: u64,
    pub orders_squares: f64,
    /// Σ of each visitor's net revenue, capped.
    pub revenue_cents: i128,
    pub revenue_squares: f64,
    /// Σ revenue × orders, per visitor.
    pub revenue_orders: f64,
    pub cart_cents: i128,
    pub cart_squares: f64,
    /// Σ of each visitor's attributed net revenue (at most its capped revenue).
    pub attributed_cents: i128,
    pub with_tickets: u64,
    pub unconverted_events: u64,
}

impl ArmOutcome {
    fn n(&self) -> f64 {
        self.visitors as f64
    }

    fn revenue(&self) -> Moments {
        Moments { sum: self.revenue_cents as f64 / 100.0, sum_squares: self.revenue_squares }
    }

    fn orders_moments(&self) -> Moments {
        Moments { sum: self.orders as f64, sum_squares: self.orders_squares }
    }

    fn statistic(&self, metric: Metric) -> Statistic {
        let n = self.n();
        match metric {
            Metric::ConversionRate => Statistic::Proportion { n, sum: self.converted as f64 },
            Metric::RevenuePerVisitor => {
                let m = self.revenue();
                Statistic::SampleMean { n, sum: m.sum, sum_squares: m.sum_squares }
            }
            Metric::OrdersPerVisitor => {
                Statistic::SampleMean { n, sum: self.orders as f64, sum_squares: self.orders_squares }
            }
            Metric::CartGmvPerVisitor => {
                Statistic::SampleMean { n, sum: self.cart_cents as f64 / 100.0, sum_squares: self.cart_squares }
            }
            Metric::AverageOrderValue => Statistic::Ratio {
                n,
                numerator: self.revenue(),
                denominator: self.orders_moments(),
                sum_of_products: self.revenue_orders,
            },
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Metric {
    ConversionRate,
    RevenuePerVisitor,
    OrdersPerVisitor,
    CartGmvPerVisitor,
    AverageOrderValue,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ArmResult {
    pub name: String,
    pub weight: u32,
    pub assistant: bool,
    pub ai_profile_id: Option<String>,
    pub visitors: u64,
    pub converted_visitors: u64,
    /// A fraction; null without visitors.
    pub conversion_rate: Option<f64>,
    pub orders: u64,
    /// Net of refunds, capped per visitor when the experiment has a cap.
    pub revenue_usd: String,
    pub revenue_per_visitor_usd: Option<f64>,
    pub orders_per_visitor: Option<f64>,
    /// Null without orders.
    pub average_order_value_usd: Option<f64>,
    pub cart_gmv_per_visitor_usd: Option<f64>,
    /// The part of `revenue_usd` from checkouts the attribution rules credited.
    pub attributed_revenue_usd: String,
    /// Visitors with any conversation stored: in a hidden arm, contamination.
    pub visitors_with_tickets: u64,
    /// Outcome events without a USD rate (counted as 0).
    pub unconverted_events: u64,
}

/// An estimate and its interval; all null when the comparison is degenerate.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Estimate {
    pub estimate: Option<f64>,
    pub ci_low: Option<f64>,
    pub ci_high: Option<f64>,
    pub p_value: Option<f64>,
}

impl From<super::Interval> for Estimate {
    fn from(i: super::Interval) -> Self {
        Self { estimate: Some(i.estimate), ci_low: Some(i.ci_low), ci_high: Some(i.ci_high), p_value: Some(i.p_value) }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MetricLift {
    /// Treatment − control.
    pub absolute: Estimate,
    /// (treatment − control) / control.
    pub relative: Estimate,
    /// Why the numbers are null; null otherwise.
    pub note: Option<&'static str>,
}

impl MetricLift {
    fn of(result: &Result<Lift, super::Degenerate>) -> Self {
        match result {
            Ok(lift) => Self { absolute: lift.absolute.into(), relative: lift.relative.into(), note: None },
            Err(d) => Self { absolute: Estimate::default(), relative: Estimate::default(), note: Some(d.note()) },
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MetricLifts {
    pub conversion_rate: MetricLift,
    pub revenue_per_visitor_usd: MetricLift,
    pub orders_per_visitor: MetricLift,
    pub cart_gmv_per_visitor_usd: MetricLift,
    pub average_order_value_usd: MetricLift,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Incremental {
    pub estimate: Option<f64>,
    pub ci_low: Option<f64>,
    pub ci_high: Option<f64>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Comparison {
    pub arm: String,
    pub against: String,
    pub metrics: MetricLifts,
    /// The absolute lift of revenue per visitor × this arm's visitors.
    pub incremental_revenue_usd: Incremental,
    pub attributed_revenue_usd: String,
    /// Incremental ÷ attributed revenue, in percent (2 decimals); null when
    /// nothing was attributed or the lift is degenerate.
    pub incremental_share_of_attributed_pct: Option<f64>,
}

#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Srm {
    pub p_value: f64,
    /// p < 0.001: the split is not what the weights say.
    pub warning: bool,
}

impl Srm {
    /// The check of the arms' visitors (in the arms' order) against their weights.
    pub fn of(experiment: &Experiment, visitors: &[u64]) -> Self {
        let weights: Vec<u32> = experiment.arms.iter().map(|a| a.weight).collect();
        let p_value = srm_p_value(visitors, &weights);
        Self { p_value, warning: p_value < SRM_THRESHOLD }
    }
}

/// What every answer about an experiment starts with: its definition and
/// its status now.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Header {
    pub key: String,
    pub name: String,
    pub kind: Kind,
    pub status: Status,
    pub control: String,
    pub starts_at: String,
    pub ends_at: Option<String>,
    pub revenue_cap_usd: Option<String>,
}

impl Header {
    pub fn of(experiment: &Experiment, now_ms: i64) -> Self {
        Self {
            key: experiment.key.clone(),
            name: experiment.name.clone(),
            kind: experiment.kind,
            status: experiment.status(now_ms),
            control: experiment.control.clone(),
            starts_at: to_rfc3339(experiment.starts_at_ms),
            ends_at: experiment.ends_at_ms.map(to_rfc3339),
            revenue_cap_usd: experiment.revenue_cap_cents.map(|c| usd(i128::from(c))),
        }
    }
}

/// An arm with its exposed visitors.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ArmSummary {
    #[serde(flatten)]
    pub arm: Arm,
    pub visitors: u64,
}

/// An experiment's definition, status, exposed visitors and split check
/// (the list, and the answer to a new or ended experiment).
#[derive(Clone, Debug, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(as = ExperimentSummary))]
pub struct Summary {
    #[serde(flatten)]
    pub experiment: Header,
    pub arms: Vec<ArmSummary>,
    pub visitors: u64,
    pub srm: Srm,
}

/// The summary of `experiment` with its visitors per arm (in the arms' order).
pub fn summary(experiment: &Experiment, visitors: &[u64], now_ms: i64) -> Summary {
    let arms = experiment
        .arms
        .iter()
        .zip(visitors.iter().copied().chain(std::iter::repeat(0)))
        .map(|(arm, visitors)| ArmSummary {
            arm: Arm { ai_profile_id: shown_profile(experiment.kind, arm), ..arm.clone() },
            visitors,
        })
        .collect();
    Summary {
        experiment: Header::of(experiment, now_ms),
        arms,
        visitors: visitors.iter().sum(),
        srm: Srm::of(experiment, visitors),
    }
}

/// A holdout's arms run no profile of their own: they show or hide the assistant.
fn shown_profile(kind: Kind, arm: &Arm) -> Option<String> {
    if kind == Kind::Holdout { None } else { arm.ai_profile_id.clone() }
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ExperimentResults {
    #[serde(flatten)]
    pub experiment: Header,
    pub alpha: f64,
    pub sequential: bool,
    pub arms: Vec<ArmResult>,
    pub comparisons: Vec<Comparison>,
    pub srm: Srm,
}

/// Settings of an analysis.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Analysis {
    pub alpha: f64,
    /// `Some(N*)` for sequential intervals.
    pub sequential_tuning: Option<f64>,
    pub now_ms: i64,
}

fn usd(cents: i128) -> String {
    UsdTotal(cents).to_string()
}

fn per_visitor(sum: f64, visitors: u64) -> Option<f64> {
    (visitors > 0).then(|| sum / visitors as f64)
}

fn arm_result(arm: &Arm, kind: Kind, o: &ArmOutcome) -> ArmResult {
    ArmResult {
        name: arm.name.clone(),
        weight: arm.weight,
        assistant: arm.assistant,
        ai_profile_id: shown_profile(kind, arm),
        visitors: o.visitors,
        converted_visitors: o.converted,
        conversion_rate: per_visitor(o.converted as f64, o.visitors),
        orders: o.orders,
        revenue_usd: usd(o.revenue_cents),
        revenue_per_visitor_usd: per_visitor(o.revenue_cents as f64 / 100.0, o.visitors),
        orders_per_visitor: per_visitor(o.orders as f64, o.visitors),
        average_order_value_usd: (o.orders > 0).then(|| o.revenue_cents as f64 / 100.0 / o.orders as f64),
        cart_gmv_per_visitor_usd: per_visitor(o.cart_cents as f64 / 100.0, o.visitors),
        attributed_revenue_usd: usd(o.attributed_cents),
        visitors_with_tickets: o.with_tickets,
        unconverted_events: o.unconverted_events,
    }
}

/// The results of `experiment` from its arms' sums (in the arms' order).
pub fn results(experiment: &Experiment, outcomes: &[ArmOutcome], analysis: Analysis) -> ExperimentResults {
    let method = match analysis.sequential_tuning {
        Some(tuning) => Method::Sequential { tuning },
        None => Method::Frequentist,
    };
    let control_at = experiment.control_index();
    let control = outcomes.get(control_at).copied().unwrap_or_default();
    let lift =
        |o: &ArmOutcome, metric| compare(&control.statistic(metric), &o.statistic(metric), analysis.alpha, method);
    let comparisons = experiment
        .arms
        .iter()
        .zip(outcomes)
        .enumerate()
        .filter(|(i, _)| *i != control_at)
        .map(|(_, (arm, o))| {
            let revenue = lift(o, Metric::RevenuePerVisitor);
            let scale = o.visitors as f64;
            let incremental = match &revenue {
                Ok(l) => Incremental {
                    estimate: Some(l.absolute.estimate * scale),
                    ci_low: Some(l.absolute.ci_low * scale),
                    ci_high: Some(l.absolute.ci_high * scale),
                },
                Err(_) => Incremental::default(),
            };
            let attributed = o.attributed_cents as f64 / 100.0;
            let share = incremental
                .estimate
                .filter(|_| o.attributed_cents != 0)
                .map(|inc| (inc / attributed * 100.0 * 100.0).round() / 100.0);
            Comparison {
                arm: arm.name.clone(),
                against: experiment.control.clone(),
                metrics: MetricLifts {
                    conversion_rate: MetricLift::of(&lift(o, Metric::ConversionRate)),
                    revenue_per_visitor_usd: MetricLift::of(&revenue),
                    orders_per_visitor: MetricLift::of(&lift(o, Metric::OrdersPerVisitor)),
                    cart_gmv_per_visitor_usd: MetricLift::of(&lift(o, Metric::CartGmvPerVisitor)),
                    average_order_value_usd: MetricLift::of(&lift(o, Metric::AverageOrderValue)),
                },
                incremental_revenue_usd: incremental,
                attributed_revenue_usd: usd(o.attributed_cents),
                incremental_share_of_attributed_pct: share,
            }
        })
        .collect();
    let visitors: Vec<u64> = outcomes.iter().map(|o| o.visitors).collect();
    ExperimentResults {
        experiment: Header::of(experiment, analysis.now_ms),
        alpha: analysis.alpha,
        sequential: analysis.sequential_tuning.is_some(),
        arms: experiment.arms.iter().zip(outcomes).map(|(a, o)| arm_result(a, experiment.kind, o)).collect(),
        comparisons,
        srm: Srm::of(experiment, &visitors),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::experiment::{ArmsSpec, NewExperiment};

    fn holdout() -> Experiment {
        NewExperiment {
            key: "ai-holdout".into(),
            name: "AI holdout".into(),
            arms: ArmsSpec::Holdout { holdout_pct: 50 },
            starts_at_ms: 0,
            ends_at_ms: Some(1000),
            revenue_cap_cents: None,
        }
        .validate()
        .unwrap()
    }

    #[test]
    fn incremental_revenue_is_the_lift_per_visitor_times_the_arm() {
        let control = ArmOutcome {
            visitors: 10_000,
            revenue_cents: 4_800_000,
            revenue_squares: 6_408_000.0,
            ..ArmOutcome::default()
        };
        let treated = ArmOutcome {
            visitors: 10_000,
            revenue_cents: 5_264_000,
            revenue_squares: 6_964_160.0,
            attributed_cents: 928_000,
            ..ArmOutcome::default()
        };
        let r = results(&holdout(), &[control, treated], Analysis { alpha: 0.05, sequential_tuning: None, now_ms: 5 });
        let c = &r.comparisons[0];
        let inc = c.incremental_revenue_usd;
        assert!((inc.estimate.unwrap() - 4640.0).abs() < 1e-6);
        assert!((inc.ci_low.unwrap() - -2390.65).abs() < 0.01, "{inc:?}");
        assert_eq!(c.incremental_share_of_attributed_pct, Some(50.0));
        assert_eq!(c.attributed_revenue_usd, "9280.00");
        assert_eq!((r.arms[0].revenue_usd.as_str(), r.arms[0].ai_profile_id.as_deref()), ("48000.00", None));
        assert_eq!(r.experiment.status, Status::Running);
        // Nobody converted: the conversion comparison is degenerate and says so.
        assert!(c.metrics.conversion_rate.note.is_some());
        assert_eq!(c.metrics.conversion_rate.absolute, Estimate::default());
        assert!(!r.srm.warning);
    }
}
