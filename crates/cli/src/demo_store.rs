//! The demo store: a skincare shop's last DAYS days, deterministic for a
//! given day — visitors, conversations on three surfaces, carts, orders in
//! USD, EUR and JPY, refunds, a baseline of unassisted orders, and the
//! README's moisturizer journey (FP-8a3c, TK-2291, order 1001, $48) yesterday,
//! and two experiments: a running 10 % holdout (those visitors never see the
//! assistant) and a finished A/B test of a concise against the detailed
//! advisor profile over the first 30 days.
//! Everything goes through the Store trait, so the rules decide every event.

use std::sync::Arc;

use anyhow::Context;
use revtrace_core::{CartEventType, Channel, Currency, Fingerprint, Multiplier, Role};
use revtrace_store::{
    CompanyCredentials, CompanyId, EventInput, EventKind, LineItem, MessageInput, NewCompany, Product, RateInput,
    RefundInput, SourceCategory, Store, TicketInput,
};
use rust_decimal::Decimal;
use serde_json::json;

const HOUR: i64 = 3_600_000;
const DAY: i64 = 24 * HOUR;

/// SplitMix64: a few lines of well-known arithmetic, so the demo needs no
/// random-number crate and is the same on every machine.
struct Dice(u64);

impl Dice {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
}

struct Item {
    id: &'static str,
    title: &'static str,
    usd: &'static str,
    colour: &'static str,
}

const CATALOG: [Item; 10] = [
    Item { id: "hydra-barrier-cream", title: "Hydra Barrier Cream 50 ml", usd: "48.00", colour: "#8fb3ff" },
    Item { id: "vitamin-c-serum", title: "Bright Vitamin C Serum", usd: "36.00", colour: "#ffc46b" },
    Item { id: "gentle-gel-cleanser", title: "Gentle Gel Cleanser", usd: "22.00", colour: "#9be3c5" },
    Item { id: "mineral-spf-50", title: "Mineral Sunscreen SPF 50", usd: "29.00", colour: "#ffe08a" },
    Item { id: "retinal-night-oil", title: "Retinal Night Oil", usd: "54.00", colour: "#c9a7ff" },
    Item { id: "ceramide-lip-balm", title: "Ceramide Lip Balm", usd: "12.00", colour: "#ffb3c1" },
    Item { id: "niacinamide-toner", title: "Niacinamide Toner", usd: "26.00", colour: "#a7d8ff" },
    Item { id: "eye-repair-gel", title: "Eye Repair Gel", usd: "32.00", colour: "#d4f1a7" },
    Item { id: "clay-detox-mask", title: "Clay Detox Mask", usd: "28.00", colour: "#e0c3a3" },
    Item { id: "travel-kit", title: "Travel Kit (5 minis)", usd: "39.00", colour: "#f7b89f" },
];

fn image(item: &Item) -> String {
    let initials: String = item.title.split_whitespace().take(2).filter_map(|w| w.chars().next()).collect();
    let svg = format!(
        "<svg xmlns='http://www.w3.org/2000/svg' width='88' height='88'><rect width='88' height='88' rx='18' \
         fill='{}'/><text x='44' y='55' font-family='sans-serif' font-size='30' text-anchor='middle' \
         fill='#14213d'>{initials}</text></svg>",
        item.colour
    );
    format!("data:image/svg+xml,{}", svg.replace('#', "%23").replace('<', "%3C").replace('>', "%3E"))
}

fn dec(raw: &str) -> Decimal {
    raw.parse().unwrap_or_default()
}

fn fp(raw: &str) -> Fingerprint {
    Fingerprint::parse(raw).unwrap_or_else(|_| Fingerprint::parse("demo").expect("a valid fingerprint"))
}

fn message(id: &str, at: i64, role: Role, grounded: Option<bool>, text: &str) -> MessageInput {
    MessageInput {
        message_id: id.into(),
        sent_at_ms: at,
        role,
        text: Some(text.into()),
        has_answer_found: grounded,
        metadata: None,
        product_ids: Vec::new(),
    }
}

/// One visitor's session: an optional conversation, then what they did.
struct Visit {
    fingerprint: String,
    at: i64,
    ticket: Option<TicketInput>,
    events: Vec<EventInput>,
    refund: Option<RefundInput>,
}

fn currency_of(dice: &mut Dice) -> (Currency, Decimal) {
    // Shoppers pay in USD, EUR or JPY; prices are converted from USD.
    match dice.below(20) {
        0..=14 => (Currency::USD, Decimal::ONE),
        15..=17 => (Currency::parse("EUR").expect("EUR"), dec("0.92")),
        _ => (Currency::parse("JPY").expect("JPY"), dec("150")),
    }
}

fn price_in(usd: &str, rate: Decimal, currency: Currency) -> Decimal {
    let value = dec(usd) * rate;
    if currency.as_str() == "JPY" { value.round() } else { value.round_dp(2) }
}

/// The demo's experiments.
const HOLDOUT: &str = "ai-holdout";
const PROFILES: &str = "concise-vs-detailed";

/// What the experiments decided for a visitor: whether the assistant is
/// shown, and the advisor profile the A/B test gave it.
struct Treatment {
    assistant: bool,
    advisor: Option<String>,
}

fn visit(dice: &mut Dice, n: u64, start: i64, span: i64, treat: &dyn Fn(&str, i64) -> Treatment) -> Visit {
    let fingerprint = format!("fp-demo-{n:05}");
    let at = start + dice.below(span as u64) as i64;
    let treatment = treat(&fingerprint, at);
    // Held-out visitors never see the assistant: no conversation at all.
    let talked = dice.chance(42) && treatment.assistant;
    let grounded = talked && dice.chance(82);
    let concise = treatment.advisor.as_deref() == Some("skincare-advisor-concise");
    let ticket = talked.then(|| {
        let surface = dice.below(100);
        let (channel, nudge) = match surface {
            0..=54 => (Channel::Chat, false),
            55..=79 => (Channel::Faq, false),
            _ => (Channel::Chat, true),
        };
        let advisor = treatment.advisor.clone().unwrap_or_else(|| "skincare-advisor".into());
        let profile = if channel == Channel::Faq { "faq-assistant".to_owned() } else { advisor };
        let mut first = message("q", at, Role::Shopper, None, "Which product suits dry, sensitive skin?");
        if nudge {
            first.role = Role::Ai;
            first.text = Some("Spring routine sale: need a hand choosing?".into());
            first.metadata = Some(json!({"nudge_id": "spring-routine"}));
        }
        let mut messages = vec![first];
        if nudge {
            messages.push(message("q", at + 20_000, Role::Shopper, None, "Yes, something for dry skin."));
        }
        messages.push(message(
            "a",
            at + 40_000,
            Role::Ai,
            Some(grounded),
            if grounded { "The Hydra Barrier Cream is made for dry skin." } else { "Let me find someone to help." },
        ));
        TicketInput {
            ticket_id: format!("TK-{}", 5000 + n).into(),
            ai_profile_id: Some(profile),
            channel,
            fingerprint: fp(&fingerprint),
            messages,
        }
    });
    let (currency, rate) = currency_of(dice);
    let mut events = Vec::new();
    let mut cart: Vec<(&Item, i64)> = Vec::new();
    // Grounded answers lead to carts and orders more often: the effect the
    // dashboard shows.
    let carts = if grounded { 70 } else { 38 };
    let mut t = at + 2 * 60_000;
    if dice.chance(carts) {
        for _ in 0..1 + dice.below(3) {
            let item = &CATALOG[dice.below(CATALOG.len() as u64) as usize];
            let quantity = 1 + dice.below(2) as i64;
            t += 60_000 + dice.below(240_000) as i64;
            events.push(cart_event(&fingerprint, t, currency, CartEventType::ItemAdded, item, quantity, rate));
            cart.push((item, quantity));
        }
        if cart.len() > 1 && dice.chance(20) {
            let (item, quantity) = cart.pop().expect("a line");
            t += 60_000;
            events.push(cart_event(&fingerprint, t, currency, CartEventType::ItemRemoved, item, quantity, rate));
        }
    }
    // The concise advisor converts a little better: the A/B test's finding.
    let buys = match (grounded, concise) {
        (true, true) => 62,
        (true, false) => 55,
        _ => 30,
    };
    let mut refund = None;
    if !cart.is_empty() && dice.chance(buys) {
        t += 10 * 60_000 + dice.below(3 * HOUR as u64) as i64;
        let order_id = format!("{}", 20_000 + n);
        let items: Vec<LineItem> = cart
            .iter()
            .map(|(item, quantity)| LineItem {
                product_id: item.id.into(),
                variant_id: None,
                sku: None,
                title: Some(item.title.into()),
                quantity: *quantity,
                unit_price: price_in(item.usd, rate, currency),
            })
            .collect();
        let value: Decimal = items.iter().map(|i| i.unit_price * Decimal::from(i.quantity)).sum();
        if dice.chance(6) {
            refund = Some(RefundInput {
                refund_id: format!("R-{order_id}"),
                order_id: order_id.clone().into(),
                amount: (value / Decimal::TWO).round_dp(if currency.as_str() == "JPY" { 0 } else { 2 }),
                occurred_at_ms: t + 2 * DAY,
                within_order_value: true,
            });
        }
        events.push(EventInput {
            source: if dice.chance(50) { SourceCategory::Sdk } else { SourceCategory::Api },
            occurred_at_ms: t,
            received_at_ms: t,
            user_fingerprint: Some(fp(&fingerprint)),
            user_faq_fingerprint: None,
            currency,
            is_test: dice.chance(1),
            kind: EventKind::Checkout { order_id: order_id.into(), order_value: value, line_items: items },
        });
    }
    Visit { fingerprint, at, ticket, events, refund }
}

fn cart_event(
    fingerprint: &str,
    at: i64,
    currency: Currency,
    event_type: CartEventType,
    item: &Item,
    quantity: i64,
    rate: Decimal,
) -> EventInput {
    EventInput {
        source: SourceCategory::Sdk,
        occurred_at_ms: at,
        received_at_ms: at,
        user_fingerprint: Some(fp(fingerprint)),
        user_faq_fingerprint: None,
        currency,
        is_test: false,
        kind: EventKind::Cart {
            event_type,
            product_id: item.id.into(),
            variant_id: None,
            quantity: Some(quantity),
            unit_price: price_in(item.usd, rate, currency),
            cart_token: None,
        },
    }
}

/// The README's journey, yesterday afternoon (UTC).
fn moisturizer_journey(yesterday: i64) -> Visit {
    let at = yesterday + 15 * HOUR + 2 * 60_000 + 11_000;
    let ticket = TicketInput {
        ticket_id: "TK-2291".into(),
        ai_profile_id: Some("skincare-advisor".into()),
        channel: Channel::Chat,
        fingerprint: fp("FP-8a3c"),
        messages: vec![
            message("m1", at, Role::Shopper, None, "Which moisturizer is best for dry skin?"),
            MessageInput {
                product_ids: vec!["hydra-barrier-cream".into()],
                ..message(
                    "m2",
                    at + 3_000,
                    Role::Ai,
                    Some(true),
                    "Hydra Barrier Cream: ceramides and squalane, made for dry skin.",
                )
            },
        ],
    };
    let hydra = &CATALOG[0];
    let cart = cart_event("FP-8a3c", at + 149_000, Currency::USD, CartEventType::ItemAdded, hydra, 1, Decimal::ONE);
    let order = EventInput {
        source: SourceCategory::Api,
        occurred_at_ms: at + 45 * 60_000 + 3_000,
        received_at_ms: at + 45 * 60_000 + 3_000,
        user_fingerprint: Some(fp("FP-8a3c")),
        user_faq_fingerprint: None,
        currency: Currency::USD,
        is_test: false,
        kind: EventKind::Checkout {
            order_id: "1001".into(),
            order_value: dec("48.00"),
            line_items: vec![LineItem {
                product_id: hydra.id.into(),
                variant_id: None,
                sku: Some("HBC-50".into()),
                title: Some(hydra.title.into()),
                quantity: 1,
                unit_price: dec("48.00"),
            }],
        },
    };
    Visit { fingerprint: "FP-8a3c".into(), at, ticket: Some(ticket), events: vec![cart, order], refund: None }
}

/// What the demo filled in.
pub struct Filled {
    pub credentials: CompanyCredentials,
    pub visitors: usize,
    pub events: usize,
}

/// The running holdout (since the first day) and the A/B test that ran over
/// the first 30 days (or half the range, when shorter).
fn experiments(
    start: i64,
    days: i64,
) -> (revtrace_core::experiment::Experiment, revtrace_core::experiment::Experiment) {
    use revtrace_core::experiment::{Arm, ArmsSpec, NewExperiment};
    let holdout = NewExperiment {
        key: HOLDOUT.into(),
        name: "AI assistant holdout (10 %)".into(),
        arms: ArmsSpec::Holdout { holdout_pct: 10 },
        starts_at_ms: start,
        ends_at_ms: None,
        revenue_cap_cents: Some(100_000),
    };
    let advisor = |name: &str, profile: &str| Arm {
        name: name.into(),
        weight: 1,
        assistant: true,
        ai_profile_id: Some(profile.into()),
    };
    let profiles = NewExperiment {
        key: PROFILES.into(),
        name: "Concise vs detailed advisor".into(),
        arms: ArmsSpec::Ab {
            arms: vec![advisor("detailed", "skincare-advisor"), advisor("concise", "skincare-advisor-concise")],
            control: "detailed".into(),
        },
        starts_at_ms: start,
        ends_at_ms: Some(start + (days / 2).clamp(1, 30) * DAY),
        revenue_cap_cents: None,
    };
    let valid = |e: NewExperiment| e.validate().expect("the demo's experiments follow the rules");
    (valid(holdout), valid(profiles))
}

/// Fills an empty store with the demo company; `now_ms` anchors the days.
pub async fn fill(store: Arc<dyn Store>, now_ms: i64, days: i64, visitors: u64) -> anyhow::Result<Filled> {
    let credentials = store
        .create_company(NewCompany {
            name: "Glow Skincare (demo)".into(),
            timezone: "America/New_York".into(),
            window_ms: DAY,
        })
        .await?;
    let company = CompanyId::new(credentials.company_id.clone());
    let rates = [("EUR", "1.08"), ("JPY", "0.0067")]
        .into_iter()
        .map(|(c, m)| -> anyhow::Result<RateInput> {
            Ok(RateInput {
                currency: Currency::parse(c)?,
                multiplier: Multiplier::new(dec(m))?,
                effective_from: jiff::civil::date(1970, 1, 1),
                source: "demo".into(),
            })
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    store.set_rates(rates).await?;
    let products = CATALOG
        .iter()
        .map(|i| Product {
            product_id: i.id.into(),
            title: Some(i.title.into()),
            image_url: Some(image(i)),
            url: Some(format!("https://glow-skincare.example/products/{}", i.id)),
        })
        .collect();
    store.upsert_products(&company, products).await?;

    let today = now_ms - now_ms.rem_euclid(DAY);
    let start = today - days * DAY;
    // The same visitors for the same day, wherever it runs.
    let mut dice = Dice(0x5EED ^ (today / DAY) as u64);
    let (holdout, profiles) = experiments(start, days);
    for experiment in [&holdout, &profiles] {
        store.create_experiment(&company, experiment.clone()).await.context("storing a demo experiment")?;
    }
    // What the widget would be told: the holdout hides the assistant; the
    // A/B test, while it runs, picks the advisor of the others.
    let treat = |fingerprint: &str, at: i64| {
        let assistant = holdout.arm_for(fingerprint).assistant;
        let advisor = (assistant && profiles.is_open_at(at))
            .then(|| profiles.arm_for(fingerprint).ai_profile_id.clone())
            .flatten();
        Treatment { assistant, advisor }
    };
    let mut visits: Vec<Visit> =
        (0..visitors).map(|n| visit(&mut dice, n, start, days * DAY - 6 * HOUR, &treat)).collect();
    visits.push(moisturizer_journey(today - DAY));
    visits.sort_by_key(|v| v.at);

    // Conversations first (a decision only looks at messages sent before
    // its event, so this is what in-order ingestion would decide), then each
    // visitor's events in order, many visitors at once so commits group.
    let tickets = visits.iter().filter_map(|v| v.ticket.clone());
    for chunk in tickets.collect::<Vec<_>>().chunks(256) {
        let calls = chunk.iter().cloned().map(|t| store.ingest_ticket(&company, t, None));
        for result in futures_util::future::join_all(calls).await {
            result.context("storing a demo conversation")?;
        }
    }
    let mut events = 0;
    for chunk in visits.chunks(256) {
        let calls = chunk.iter().map(|v| {
            let (store, company) = (store.clone(), company.clone());
            let (fingerprint, at, list) = (v.fingerprint.clone(), v.at, v.events.clone());
            let shown = treat(&fingerprint, at).assistant;
            async move {
                // The page asks for the arms before anything else happens.
                let assign = |experiment: &str| revtrace_store::AssignmentInput {
                    experiment: experiment.into(),
                    fingerprint: fp(&fingerprint),
                    occurred_at_ms: at,
                };
                store.assign(&company, assign(HOLDOUT), None).await?;
                if shown {
                    store.assign(&company, assign(PROFILES), None).await?;
                }
                store.record_visit(&company, fingerprint.clone(), at, None).await?;
                for event in list {
                    store.ingest_event(&company, event, None).await?;
                }
                anyhow::Ok(())
            }
        });
        for result in futures_util::future::join_all(calls).await {
            result.context("storing a demo event")?;
        }
        events += chunk.iter().map(|v| v.events.len()).sum::<usize>();
    }
    for refund in visits.iter().filter_map(|v| v.refund.clone()) {
        store.record_refund(&company, refund, None).await.context("storing a demo refund")?;
    }
    Ok(Filled { credentials, visitors: visits.len(), events })
}
