//! Revenue-impact arithmetic (SPEC §8): from exact sums (integer cents and
//! counts) to the reported metrics. Every derived value is computed from the
//! exact sums and rounded once, half-even, at the end.

use std::collections::{BTreeMap, BTreeSet};

use jiff::civil::Date;
use rust_decimal::{Decimal, RoundingStrategy};
use serde::{Serialize, Serializer, ser::SerializeMap};

use crate::MessageSource;

/// Sums over a set of events, as the rollups hold them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Sums {
    /// Σ USD cents of checkouts that had a rate (gross).
    pub checkout_cents: i128,
    /// Σ refunds applied to those checkouts, in USD cents.
    pub refunded_cents: i128,
    /// Checkout events (order ids are unique per company, so: orders).
    pub orders: i64,
    /// Orders whose currency had a rate: the divisor of an average order value.
    pub converted_orders: i64,
    /// Σ signed USD cents of cart events that had a rate.
    pub cart_cents: i128,
    /// Σ signed cart quantities.
    pub products: i64,
    /// Events whose currency had no rate (left out of the USD sums).
    pub unconverted: i64,
    /// Reporting days with at least one event.
    pub active_days: i64,
}

/// Distinct visitors of a period, split by whether an AI answer helped them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Visitors {
    pub assisted: i64,
    pub assisted_converted: i64,
    pub unassisted: i64,
    pub unassisted_converted: i64,
}

/// Everything one period's metrics are computed from.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PeriodSums {
    /// Attributed events matching the filters.
    pub attributed: Sums,
    /// Events that were not attributed (the baseline).
    pub unattributed: Sums,
    /// Σ USD cents of every checkout of the period, attributed or not,
    /// whatever the filters: the AI revenue share's denominator.
    pub all_checkout_cents: i128,
    /// Events of the period without a rate, attributed or not.
    pub all_unconverted: i64,
    pub visitors: Visitors,
}

/// Sums of cents are `i128`: no number of stored rows (each within `i64`)
/// can overflow them, and a `Decimal` holds any of them exactly.
fn exact_cents(cents: i128, scale: u32) -> Decimal {
    Decimal::try_from_i128_with_scale(cents, scale).unwrap_or(if cents < 0 { Decimal::MIN } else { Decimal::MAX })
}

fn usd(cents: i128) -> String {
    exact_cents(cents, 2).to_string()
}

/// A USD amount from an exact value in cents, rounded once to the cent.
fn usd_exact(cents: Decimal) -> String {
    let mut dollars = (cents / Decimal::ONE_HUNDRED).round_dp_with_strategy(2, RoundingStrategy::MidpointNearestEven);
    dollars.rescale(2);
    dollars.to_string()
}

pub(crate) fn ratio(numerator: Decimal, denominator: Decimal) -> Option<Decimal> {
    (!denominator.is_zero()).then(|| numerator / denominator)
}

/// A percentage, rounded once to two decimals, as a JSON number.
pub(crate) fn percent(value: Option<Decimal>) -> Option<f64> {
    value.map(|v| {
        let rounded = (v * Decimal::ONE_HUNDRED).round_dp_with_strategy(2, RoundingStrategy::MidpointNearestEven);
        rounded.to_string().parse().unwrap_or_default()
    })
}

fn average_cents(cents: i128, count: i64) -> Option<Decimal> {
    ratio(exact_cents(cents, 0), Decimal::from(count))
}

/// The attributed metrics of one message source (`by_source`), or of the
/// filtered attributed events as a whole.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SourceMetrics {
    pub checkout_revenue_usd: String,
    pub refunds_usd: String,
    pub net_checkout_revenue_usd: String,
    pub orders: i64,
    pub average_order_value_usd: Option<String>,
    pub cart_gmv_usd: String,
    pub products_in_cart: i64,
    pub active_days: i64,
    pub daily_avg_checkout_revenue_usd: Option<String>,
    pub daily_avg_cart_gmv_usd: Option<String>,
}

impl SourceMetrics {
    pub fn from_sums(s: &Sums) -> Self {
        Self {
            checkout_revenue_usd: usd(s.checkout_cents),
            refunds_usd: usd(s.refunded_cents),
            net_checkout_revenue_usd: usd(s.checkout_cents - s.refunded_cents),
            orders: s.orders,
            average_order_value_usd: average_cents(s.checkout_cents, s.converted_orders).map(usd_exact),
            cart_gmv_usd: usd(s.cart_cents),
            products_in_cart: s.products,
            active_days: s.active_days,
            daily_avg_checkout_revenue_usd: average_cents(s.checkout_cents, s.active_days).map(usd_exact),
            daily_avg_cart_gmv_usd: average_cents(s.cart_cents, s.active_days).map(usd_exact),
        }
    }
}

/// Every metric of SPEC §8 for one period.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Metrics {
    /// The attributed events matching the filters.
    #[serde(flatten)]
    pub attributed: SourceMetrics,
    pub unattributed_checkout_revenue_usd: String,
    pub unattributed_orders: i64,
    pub unattributed_average_order_value_usd: Option<String>,
    pub ai_revenue_share_pct: Option<f64>,
    pub aov_uplift_pct: Option<f64>,
    pub assisted_visitors: i64,
    pub unassisted_visitors: i64,
    pub assisted_conversion_rate_pct: Option<f64>,
    pub unassisted_conversion_rate_pct: Option<f64>,
    pub unconverted_events: i64,
    /// Exact values of each metric, by name, for `change_pct`.
    #[serde(skip)]
    #[cfg_attr(feature = "openapi", schema(ignore))]
    exact: Vec<(&'static str, Option<Decimal>)>,
}

impl Metrics {
    pub fn compute(p: &PeriodSums) -> Self {
        let a = &p.attributed;
        let u = &p.unattributed;
        let v = &p.visitors;
        let attributed_aov = average_cents(a.checkout_cents, a.converted_orders);
        let unattributed_aov = average_cents(u.checkout_cents, u.converted_orders);
        let share = ratio(exact_cents(a.checkout_cents, 0), exact_cents(p.all_checkout_cents, 0));
        let uplift = match (attributed_aov, unattributed_aov) {
            (Some(with_ai), Some(without)) => ratio(with_ai - without, without),
            _ => None,
        };
        let assisted_rate = ratio(Decimal::from(v.assisted_converted), Decimal::from(v.assisted));
        let unassisted_rate = ratio(Decimal::from(v.unassisted_converted), Decimal::from(v.unassisted));

        let cents = |c: i128| Some(exact_cents(c, 2));
        let dollars = |c: Option<Decimal>| c.map(|c| c / Decimal::ONE_HUNDRED);
        let count = |n: i64| Some(Decimal::from(n));
        let exact = vec![
            ("checkout_revenue_usd", cents(a.checkout_cents)),
            ("refunds_usd", cents(a.refunded_cents)),
            ("net_checkout_revenue_usd", cents(a.checkout_cents - a.refunded_cents)),
            ("orders", count(a.orders)),
            ("average_order_value_usd", dollars(attributed_aov)),
            ("cart_gmv_usd", cents(a.cart_cents)),
            ("products_in_cart", count(a.products)),
            ("active_days", count(a.active_days)),
            ("daily_avg_checkout_revenue_usd", dollars(average_cents(a.checkout_cents, a.active_days))),
            ("daily_avg_cart_gmv_usd", dollars(average_cents(a.cart_cents, a.active_days))),
            ("unattributed_checkout_revenue_usd", cents(u.checkout_cents)),
            ("unattributed_orders", count(u.orders)),
            ("unattributed_average_order_value_usd", dollars(unattributed_aov)),
            ("ai_revenue_share_pct", share.map(|s| s * Decimal::ONE_HUNDRED)),
            ("aov_uplift_pct", uplift.map(|s| s * Decimal::ONE_HUNDRED)),
            ("assisted_visitors", count(v.assisted)),
            ("unassisted_visitors", count(v.unassisted)),
            ("assisted_conversion_rate_pct", assisted_rate.map(|s| s * Decimal::ONE_HUNDRED)),
            ("unassisted_conversion_rate_pct", unassisted_rate.map(|s| s * Decimal::ONE_HUNDRED)),
            ("unconverted_events", count(p.all_unconverted)),
        ];
        Self {
            attributed: SourceMetrics::from_sums(a),
            unattributed_checkout_revenue_usd: usd(u.checkout_cents),
            unattributed_orders: u.orders,
            unattributed_average_order_value_usd: unattributed_aov.map(usd_exact),
            ai_revenue_share_pct: percent(share),
            aov_uplift_pct: percent(uplift),
            assisted_visitors: v.assisted,
            unassisted_visitors: v.unassisted,
            assisted_conversion_rate_pct: percent(assisted_rate),
            unassisted_conversion_rate_pct: percent(unassisted_rate),
            unconverted_events: p.all_unconverted,
            exact,
        }
    }
}

/// `(current − previous) / previous × 100` for every metric, by name; null
/// when either value is unknown or the previous one is zero.
#[derive(Clone, Debug, PartialEq)]
pub struct ChangePct(pub Vec<(&'static str, Option<f64>)>);

impl ChangePct {
    pub fn between(current: &Metrics, previous: &Metrics) -> Self {
        let changes = current
            .exact
            .iter()
            .zip(&previous.exact)
            .map(|((name, now), (_, before))| {
                let change = match (now, before) {
                    (Some(now), Some(before)) => ratio(*now - *before, *before),
                    _ => None,
                };
                (*name, percent(change))
            })
            .collect();
        Self(changes)
    }

    pub fn get(&self, name: &str) -> Option<f64> {
        self.0.iter().find(|(n, _)| *n == name).and_then(|(_, v)| *v)
    }
}

impl Serialize for ChangePct {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        for (name, value) in &self.0 {
            map.serialize_entry(name, value)?;
        }
        map.end()
    }
}

/// The attributed metrics of each message source, zeros when it has none.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub struct BySource {
    pub chat_widget: SourceMetrics,
    pub faq: SourceMetrics,
    pub nudge_click: SourceMetrics,
}

impl BySource {
    pub fn from_sums(sums: impl Fn(MessageSource) -> Sums) -> Self {
        Self {
            chat_widget: SourceMetrics::from_sums(&sums(MessageSource::ChatWidget)),
            faq: SourceMetrics::from_sums(&sums(MessageSource::Faq)),
            nudge_click: SourceMetrics::from_sums(&sums(MessageSource::NudgeClick)),
        }
    }
}

/// One day of `/v1/revenue-impact/daily`.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DayMetrics {
    pub day: String,
    pub checkout_revenue_usd: String,
    pub net_checkout_revenue_usd: String,
    pub orders: i64,
    pub cart_gmv_usd: String,
    pub products_in_cart: i64,
    pub unattributed_checkout_revenue_usd: String,
    pub unattributed_orders: i64,
}

impl DayMetrics {
    pub fn new(day: String, attributed: &Sums, unattributed: &Sums) -> Self {
        Self {
            day,
            checkout_revenue_usd: usd(attributed.checkout_cents),
            net_checkout_revenue_usd: usd(attributed.checkout_cents - attributed.refunded_cents),
            orders: attributed.orders,
            cart_gmv_usd: usd(attributed.cart_cents),
            products_in_cart: attributed.products,
            unattributed_checkout_revenue_usd: usd(unattributed.checkout_cents),
            unattributed_orders: unattributed.orders,
        }
    }
}

/// An inclusive range of reporting days.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DayRange {
    pub from: Date,
    pub to: Date,
}

impl DayRange {
    /// `None` when `to` is before `from`.
    pub fn new(from: Date, to: Date) -> Option<Self> {
        (from <= to).then_some(Self { from, to })
    }

    pub fn days(&self) -> i64 {
        i64::from((self.to - self.from).get_days()) + 1
    }

    pub fn contains(&self, day: Date) -> bool {
        self.from <= day && day <= self.to
    }

    /// The same number of days just before `from`.
    pub fn previous(&self) -> Option<Self> {
        let to = self.from.yesterday().ok()?;
        let from = to.checked_sub(jiff::Span::new().days(self.days() - 1)).ok()?;
        Some(Self { from, to })
    }

    /// The instants `[start, end)` the range covers in a zone, in epoch
    /// milliseconds: its first day's start to its last day's end.
    pub fn bounds(&self, tz: &jiff::tz::TimeZone) -> (i64, i64) {
        (crate::time::day_bounds(self.from, tz).0, crate::time::day_bounds(self.to, tz).1)
    }

    /// The same days one year earlier (29 February becomes the 28th).
    pub fn year_before(&self) -> Option<Self> {
        let back = |d: Date| d.checked_sub(jiff::Span::new().years(1)).ok();
        Self::new(back(self.from)?, back(self.to)?)
    }

    pub fn each_day(&self) -> impl Iterator<Item = Date> + '_ {
        self.from.series(jiff::Span::new().days(1)).take_while(|d| *d <= self.to)
    }
}

/// One rollup row: the sums of the events of one day that share a decision,
/// a test flag and an event type.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RollupRow {
    pub day: Date,
    pub checkout: bool,
    pub attributed: bool,
    /// Empty when not attributed.
    pub ai_profile_id: String,
    pub message_source: Option<MessageSource>,
    pub is_test: bool,
    pub events: i64,
    pub unconverted: i64,
    pub usd_cents: i128,
    pub quantity: i64,
    pub refunded_cents: i128,
}

/// The report filters. They narrow the attributed side only (SPEC §8).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Filter {
    pub ai_profile: Option<String>,
    pub source: Option<MessageSource>,
    pub include_test: bool,
}

impl Filter {
    fn counts(&self, row: &RollupRow) -> bool {
        row.events > 0 && (self.include_test || !row.is_test)
    }

    fn selects_attributed(&self, row: &RollupRow) -> bool {
        row.attributed
            && self.counts(row)
            && self.ai_profile.as_ref().is_none_or(|p| *p == row.ai_profile_id)
            && self.source.is_none_or(|s| Some(s) == row.message_source)
    }
}

impl Sums {
    fn add(&mut self, row: &RollupRow) {
        if row.checkout {
            self.checkout_cents += row.usd_cents;
            self.refunded_cents += row.refunded_cents;
            self.orders += row.events;
            self.converted_orders += row.events - row.unconverted;
        } else {
            self.cart_cents += row.usd_cents;
            self.products += row.quantity;
        }
        self.unconverted += row.unconverted;
    }

    /// Sums the rows of a range that `select` keeps, with their active days.
    fn over<'a>(
        rows: impl Iterator<Item = &'a RollupRow>,
        range: &DayRange,
        select: impl Fn(&RollupRow) -> bool,
    ) -> Self {
        let mut sums = Sums::default();
        let mut last_day = None;
        for row in rows.filter(|r| range.contains(r.day) && select(r)) {
            sums.add(row);
            // Rows come ordered by day, so a new day is a new active day.
            if last_day != Some(row.day) {
                last_day = Some(row.day);
                sums.active_days += 1;
            }
        }
        sums
    }
}

/// The sums of one period; `rows` must be ordered by day. Visitors are
/// counted elsewhere (they are distinct across days) and left at zero.
pub fn period(rows: &[RollupRow], range: &DayRange, filter: &Filter) -> PeriodSums {
    let all = Sums::over(rows.iter(), range, |r| filter.counts(r));
    PeriodSums {
        attributed: Sums::over(rows.iter(), range, |r| filter.selects_attributed(r)),
        unattributed: Sums::over(rows.iter(), range, |r| !r.attributed && filter.counts(r)),
        all_checkout_cents: all.checkout_cents,
        all_unconverted: all.unconverted,
        visitors: Visitors::default(),
    }
}

/// The attributed metrics of each source, within the filters.
pub fn by_source(rows: &[RollupRow], range: &DayRange, filter: &Filter) -> BySource {
    BySource::from_sums(|source| {
        if filter.source.is_some_and(|s| s != source) {
            return Sums::default();
        }
        let narrowed = Filter { source: Some(source), ..filter.clone() };
        Sums::over(rows.iter(), range, |r| narrowed.selects_attributed(r))
    })
}

/// The attributed metrics of each AI profile that has attributed events in
/// the range, within the filters (a profile filter keeps that profile only).
pub fn by_ai_profile(rows: &[RollupRow], range: &DayRange, filter: &Filter) -> BTreeMap<String, SourceMetrics> {
    let profiles: BTreeSet<&str> = rows
        .iter()
        .filter(|r| range.contains(r.day) && filter.selects_attributed(r))
        .map(|r| r.ai_profile_id.as_str())
        .collect();
    profiles
        .into_iter()
        .map(|profile| {
            let narrowed = Filter { ai_profile: Some(profile.to_owned()), ..filter.clone() };
            let sums = Sums::over(rows.iter(), range, |r| narrowed.selects_attributed(r));
            (profile.to_owned(), SourceMetrics::from_sums(&sums))
        })
        .collect()
}

/// One entry per day of the range, zero days included.
pub fn daily(rows: &[RollupRow], range: &DayRange, filter: &Filter) -> Vec<DayMetrics> {
    range
        .each_day()
        .map(|day| {
            let one = DayRange { from: day, to: day };
            let attributed = Sums::over(rows.iter(), &one, |r| filter.selects_attributed(r));
            let unattributed = Sums::over(rows.iter(), &one, |r| !r.attributed && filter.counts(r));
            DayMetrics::new(day.to_string(), &attributed, &unattributed)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sums(checkout_cents: i128, orders: i64, active_days: i64) -> Sums {
        Sums { checkout_cents, orders, converted_orders: orders, active_days, ..Sums::default() }
    }

    #[test]
    fn averages_round_once_half_even() {
        // 100.01 / 2 = 50.005 → 50.00 (half-even), 100.03 / 2 = 50.015 → 50.02.
        let m = SourceMetrics::from_sums(&sums(10_001, 2, 3));
        assert_eq!(m.average_order_value_usd.as_deref(), Some("50.00"));
        assert_eq!(m.daily_avg_checkout_revenue_usd.as_deref(), Some("33.34"));
        let m = SourceMetrics::from_sums(&sums(10_003, 2, 2));
        assert_eq!(m.average_order_value_usd.as_deref(), Some("50.02"));
    }

    #[test]
    fn no_orders_means_null_averages_and_zero_sums() {
        let m = Metrics::compute(&PeriodSums::default());
        assert_eq!(m.attributed.checkout_revenue_usd, "0.00");
        assert_eq!(m.attributed.average_order_value_usd, None);
        assert_eq!(m.attributed.daily_avg_cart_gmv_usd, None);
        assert_eq!(m.ai_revenue_share_pct, None);
        assert_eq!(m.aov_uplift_pct, None);
        assert_eq!(m.assisted_conversion_rate_pct, None);
    }

    #[test]
    fn share_and_uplift_from_exact_values() {
        let p = PeriodSums {
            attributed: sums(4_800, 1, 1),
            unattributed: sums(9_000, 3, 2),
            all_checkout_cents: 13_800,
            ..PeriodSums::default()
        };
        let m = Metrics::compute(&p);
        // 48 / 138 = 34.7826…%; AOV 48 against 30: +60 %.
        assert_eq!(m.ai_revenue_share_pct, Some(34.78));
        assert_eq!(m.aov_uplift_pct, Some(60.0));
        assert_eq!(m.unattributed_average_order_value_usd.as_deref(), Some("30.00"));
    }

    #[test]
    fn change_is_null_without_a_previous_value() {
        let now = Metrics::compute(&PeriodSums { attributed: sums(15_000, 3, 2), ..PeriodSums::default() });
        let before = Metrics::compute(&PeriodSums { attributed: sums(10_000, 0, 1), ..PeriodSums::default() });
        let change = ChangePct::between(&now, &before);
        assert_eq!(change.get("checkout_revenue_usd"), Some(50.0));
        assert_eq!(change.get("orders"), None, "previous is 0");
        assert_eq!(change.get("average_order_value_usd"), None, "previous is null");
        assert_eq!(change.get("active_days"), Some(100.0));
        assert_eq!(change.0.len(), 20, "one entry per metric");
    }

    #[test]
    fn unconverted_orders_do_not_dilute_the_average() {
        let s = Sums { checkout_cents: 5_000, orders: 2, converted_orders: 1, ..Sums::default() };
        assert_eq!(SourceMetrics::from_sums(&s).average_order_value_usd.as_deref(), Some("50.00"));
    }

    fn row(day: &str, checkout: bool, source: Option<MessageSource>, cents: i64) -> RollupRow {
        RollupRow {
            day: day.parse().unwrap(),
            checkout,
            attributed: source.is_some(),
            ai_profile_id: if source.is_some() { "default".into() } else { String::new() },
            message_source: source,
            is_test: false,
            events: 1,
            unconverted: 0,
            usd_cents: cents.into(),
            quantity: if checkout { 0 } else { 2 },
            refunded_cents: 0,
        }
    }

    #[test]
    fn profiles_side_by_side_split_the_attributed_figures() {
        let range = DayRange::new("2026-03-01".parse().unwrap(), "2026-03-02".parse().unwrap()).unwrap();
        let mut advisor = row("2026-03-01", true, Some(MessageSource::ChatWidget), 4_800);
        advisor.ai_profile_id = "advisor".into();
        let mut faq = row("2026-03-02", true, Some(MessageSource::Faq), 2_000);
        faq.ai_profile_id = "faq-bot".into();
        let mut faq_cart = row("2026-03-02", false, Some(MessageSource::Faq), 1_000);
        faq_cart.ai_profile_id = "faq-bot".into();
        let baseline = row("2026-03-02", true, None, 9_900);
        let rows = [advisor, faq, faq_cart, baseline];
        let all = by_ai_profile(&rows, &range, &Filter::default());
        assert_eq!(all.keys().collect::<Vec<_>>(), ["advisor", "faq-bot"], "the baseline is no profile");
        assert_eq!((all["advisor"].checkout_revenue_usd.as_str(), all["advisor"].orders), ("48.00", 1));
        assert_eq!(
            (all["faq-bot"].checkout_revenue_usd.as_str(), all["faq-bot"].cart_gmv_usd.as_str()),
            ("20.00", "10.00")
        );
        let faq_only = by_ai_profile(&rows, &range, &Filter { source: Some(MessageSource::Faq), ..Filter::default() });
        assert_eq!(faq_only.keys().collect::<Vec<_>>(), ["faq-bot"]);
        let one = by_ai_profile(&rows, &range, &Filter { ai_profile: Some("advisor".into()), ..Filter::default() });
        assert_eq!(one.keys().collect::<Vec<_>>(), ["advisor"]);
    }

    #[test]
    fn ranges_know_the_same_days_a_year_before() {
        let range = DayRange::new("2028-02-20".parse().unwrap(), "2028-02-29".parse().unwrap()).unwrap();
        let last_year = range.year_before().unwrap();
        assert_eq!((last_year.from.to_string(), last_year.to.to_string()), ("2027-02-20".into(), "2027-02-28".into()));
    }

    #[test]
    fn ranges_know_their_previous_period() {
        let range = DayRange::new("2026-03-01".parse().unwrap(), "2026-03-31".parse().unwrap()).unwrap();
        assert_eq!(range.days(), 31);
        let previous = range.previous().unwrap();
        assert_eq!((previous.from.to_string(), previous.to.to_string()), ("2026-01-29".into(), "2026-02-28".into()));
        assert_eq!(range.each_day().count(), 31);
        assert!(DayRange::new(range.to, range.from).is_none());
    }

    #[test]
    fn filters_narrow_only_the_attributed_side() {
        let chat = Some(MessageSource::ChatWidget);
        let rows = vec![
            row("2026-03-01", true, chat, 4_800),
            row("2026-03-01", false, Some(MessageSource::Faq), 1_000),
            row("2026-03-02", true, None, 2_000),
            RollupRow { is_test: true, ..row("2026-03-03", true, chat, 99_900) },
        ];
        let range = DayRange::new("2026-03-01".parse().unwrap(), "2026-03-03".parse().unwrap()).unwrap();
        let faq_only = Filter { source: Some(MessageSource::Faq), ..Filter::default() };
        let p = period(&rows, &range, &faq_only);
        assert_eq!((p.attributed.checkout_cents, p.attributed.cart_cents, p.attributed.active_days), (0, 1_000, 1));
        assert_eq!(p.unattributed.checkout_cents, 2_000);
        assert_eq!(p.all_checkout_cents, 6_800, "the share's denominator ignores filters, not the test flag");
        let with_tests = period(&rows, &range, &Filter { include_test: true, ..Filter::default() });
        assert_eq!(with_tests.attributed.orders, 2);
        let sources = by_source(&rows, &range, &faq_only);
        assert_eq!(sources.chat_widget.checkout_revenue_usd, "0.00");
        assert_eq!(sources.faq.cart_gmv_usd, "10.00");
        let days = daily(&rows, &range, &Filter::default());
        assert_eq!(days.len(), 3);
        assert_eq!((days[0].checkout_revenue_usd.as_str(), days[2].orders), ("48.00", 0));
        assert_eq!(days[1].unattributed_checkout_revenue_usd, "20.00");
    }
}
