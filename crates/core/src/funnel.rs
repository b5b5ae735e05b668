//! The conversation funnel (SPEC §12): conversations → grounded → with a
//! credited cart add → with a credited checkout, folded from one row per
//! conversation whose first message falls in the range.

use rust_decimal::{Decimal, RoundingStrategy};
use serde::Serialize;

use crate::{
    MessageSource,
    report::{percent, ratio},
};

/// One conversation as the funnel sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FunnelTicket {
    pub message_source: MessageSource,
    pub first_message_ms: i64,
    /// Has a grounded AI answer.
    pub grounded: bool,
    /// Its first credited `ITEM_ADDED` or `QUANTITY_INCREASED`.
    pub first_cart_ms: Option<i64>,
    /// Its first credited checkout.
    pub first_checkout_ms: Option<i64>,
}

/// The steps, each rate in percent of the step before (null when that is 0).
#[derive(Clone, Debug, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FunnelSteps {
    pub conversations: i64,
    pub grounded: i64,
    pub with_cart: i64,
    pub with_checkout: i64,
    /// grounded / conversations.
    pub grounded_rate_pct: Option<f64>,
    /// with_cart / grounded.
    pub with_cart_rate_pct: Option<f64>,
    /// with_checkout / with_cart (a checkout without a tracked cart add can
    /// take it past 100).
    pub with_checkout_rate_pct: Option<f64>,
    /// First message → first credited checkout, the median over the
    /// conversations with one (two middle values averaged), 2 decimals.
    pub median_minutes_to_checkout: Option<f64>,
}

/// The same steps per message source.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FunnelBySource {
    #[serde(rename = "CHAT_WIDGET")]
    pub chat_widget: FunnelSteps,
    #[serde(rename = "FAQ")]
    pub faq: FunnelSteps,
    #[serde(rename = "NUDGE_CLICK")]
    pub nudge_click: FunnelSteps,
}

/// The whole funnel and the funnel of each source.
pub fn funnel(tickets: &[FunnelTicket]) -> (FunnelSteps, FunnelBySource) {
    let of = |source: MessageSource| {
        let mine: Vec<FunnelTicket> = tickets.iter().filter(|t| t.message_source == source).copied().collect();
        steps(&mine)
    };
    (
        steps(tickets),
        FunnelBySource {
            chat_widget: of(MessageSource::ChatWidget),
            faq: of(MessageSource::Faq),
            nudge_click: of(MessageSource::NudgeClick),
        },
    )
}

fn steps(tickets: &[FunnelTicket]) -> FunnelSteps {
    let count = |keep: fn(&FunnelTicket) -> bool| tickets.iter().filter(|t| keep(t)).count() as i64;
    let conversations = tickets.len() as i64;
    let grounded = count(|t| t.grounded);
    let with_cart = count(|t| t.first_cart_ms.is_some());
    let with_checkout = count(|t| t.first_checkout_ms.is_some());
    let rate = |part: i64, whole: i64| percent(ratio(Decimal::from(part), Decimal::from(whole)));
    let mut minutes: Vec<i64> =
        tickets.iter().filter_map(|t| t.first_checkout_ms.map(|at| at - t.first_message_ms)).collect();
    minutes.sort_unstable();
    FunnelSteps {
        conversations,
        grounded,
        with_cart,
        with_checkout,
        grounded_rate_pct: rate(grounded, conversations),
        with_cart_rate_pct: rate(with_cart, grounded),
        with_checkout_rate_pct: rate(with_checkout, with_cart),
        median_minutes_to_checkout: median_minutes(&minutes),
    }
}

/// The median of sorted millisecond spans, in minutes, rounded once.
fn median_minutes(sorted_ms: &[i64]) -> Option<f64> {
    let n = sorted_ms.len();
    if n == 0 {
        return None;
    }
    let middle = if n % 2 == 1 {
        Decimal::from(sorted_ms[n / 2])
    } else {
        (Decimal::from(sorted_ms[n / 2 - 1]) + Decimal::from(sorted_ms[n / 2])) / Decimal::TWO
    };
    let minutes = (middle / Decimal::from(60_000)).round_dp_with_strategy(2, RoundingStrategy::MidpointNearestEven);
    minutes.to_string().parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIN: i64 = 60_000;

    fn t(source: MessageSource, grounded: bool, cart: Option<i64>, checkout: Option<i64>) -> FunnelTicket {
        FunnelTicket {
            message_source: source,
            first_message_ms: 0,
            grounded,
            first_cart_ms: cart.map(|m| m * MIN),
            first_checkout_ms: checkout.map(|m| m * MIN),
        }
    }

    #[test]
    fn each_step_is_a_share_of_the_one_before_and_the_median_averages_the_middle_pair() {
        use MessageSource::*;
        let tickets = [
            t(ChatWidget, false, None, None),
            t(ChatWidget, true, None, None),
            t(ChatWidget, true, Some(2), Some(45)),
            t(Faq, true, Some(1), Some(10)),
            t(NudgeClick, true, None, Some(30)),
        ];
        let (all, by_source) = funnel(&tickets);
        assert_eq!((all.conversations, all.grounded, all.with_cart, all.with_checkout), (5, 4, 2, 3));
        assert_eq!(
            (all.grounded_rate_pct, all.with_cart_rate_pct, all.with_checkout_rate_pct),
            (Some(80.0), Some(50.0), Some(150.0))
        );
        assert_eq!(all.median_minutes_to_checkout, Some(30.0), "10, 30, 45");
        assert_eq!(by_source.chat_widget.median_minutes_to_checkout, Some(45.0));
        assert_eq!(by_source.faq.with_checkout_rate_pct, Some(100.0));
        assert_eq!(by_source.nudge_click.with_checkout_rate_pct, None, "no cart step: nothing to divide by");
        let pair = [t(Faq, true, None, Some(10)), t(Faq, true, None, Some(11))];
        assert_eq!(funnel(&pair).0.median_minutes_to_checkout, Some(10.5));
        // 61 s → 1.0166… min → 1.02.
        let odd = [FunnelTicket { first_checkout_ms: Some(61_000), ..t(Faq, true, None, None) }];
        assert_eq!(funnel(&odd).0.median_minutes_to_checkout, Some(1.02));
        assert_eq!(funnel(&[]).0.grounded_rate_pct, None);
    }
}
