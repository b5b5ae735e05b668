//! The experiment rules of the store: an assignment answers the visitor's
//! arm and keeps its earliest exposure, nothing outside the window; a new
//! experiment's key is unique; an end cannot come before the start.

use revtrace_core::{experiment::Experiment, time::to_rfc3339};

use super::{Plan, Write};
use crate::{
    Rejection, StoreError,
    model::{Assignment, AssignmentInput},
    rows::Ingested,
};

/// What an event or a refund moves in each exposure that holds it (SPEC
/// §11: a visitor's own non-test events from its exposure to the end).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Outcome {
    pub orders: i64,
    /// Net of refunds, uncapped (the cap applies when results are read).
    pub revenue_cents: i64,
    pub cart_cents: i64,
    pub attributed_cents: i64,
    /// Events without a USD rate.
    pub unconverted: i64,
}

impl Outcome {
    fn add(mut self, other: Outcome) -> Result<Self, Rejection> {
        let sum = |a: i64, b: i64| a.checked_add(b).ok_or(Rejection::TotalOutOfRange);
        self.orders = sum(self.orders, other.orders)?;
        self.revenue_cents = sum(self.revenue_cents, other.revenue_cents)?;
        self.cart_cents = sum(self.cart_cents, other.cart_cents)?;
        self.attributed_cents = sum(self.attributed_cents, other.attributed_cents)?;
        self.unconverted = sum(self.unconverted, other.unconverted)?;
        Ok(self)
    }

    /// The same movement taken back.
    pub fn negated(self) -> Self {
        Self {
            orders: -self.orders,
            revenue_cents: -self.revenue_cents,
            cart_cents: -self.cart_cents,
            attributed_cents: -self.attributed_cents,
            unconverted: -self.unconverted,
        }
    }

    /// A refund of `cents` on an order (attributed or not).
    pub fn refund(cents: i64, attributed: bool) -> Self {
        Self { revenue_cents: -cents, attributed_cents: if attributed { -cents } else { 0 }, ..Self::default() }
    }
}

/// A stored or new event, as an outcome.
#[derive(Clone, Copy, Debug)]
pub(crate) struct OutcomeEvent {
    pub checkout: bool,
    pub usd_cents: Option<i64>,
    pub refunded_cents: i64,
    pub attributed: bool,
    pub occurred_at_ms: i64,
}

impl OutcomeEvent {
    pub fn outcome(&self) -> Outcome {
        let usd = self.usd_cents.unwrap_or(0);
        let unconverted = i64::from(self.usd_cents.is_none());
        if self.checkout {
            let net = usd - self.refunded_cents;
            Outcome {
                orders: 1,
                revenue_cents: net,
                attributed_cents: if self.attributed { net } else { 0 },
                unconverted,
                ..Outcome::default()
            }
        } else {
            Outcome { cart_cents: usd, unconverted, ..Outcome::default() }
        }
    }
}

/// The write that moves every exposure holding an event of `fingerprint` at
/// `at_ms` (test events and events without a fingerprint move none).
pub(crate) fn moved(fingerprint: Option<&str>, is_test: bool, at_ms: i64, outcome: Outcome) -> Option<Write> {
    match fingerprint {
        Some(f) if !is_test && outcome != Outcome::default() => {
            Some(Write::Outcome { fingerprint: f.to_owned(), at_ms, outcome })
        }
        _ => None,
    }
}

/// A visitor's stored exposure.
pub(crate) struct StoredExposure {
    pub arm: String,
    pub exposed_at_ms: i64,
}

/// What an assignment depends on.
pub(crate) struct AssignmentFacts {
    pub experiment: Option<Experiment>,
    pub stored: Option<StoredExposure>,
    /// The visitor's own non-test events.
    pub events: Vec<OutcomeEvent>,
    pub with_ticket: bool,
}

/// Whether this assignment writes a new (or earlier) exposure, whose outcome
/// starts from the visitor's events since then.
pub(crate) fn starts_from_history(input: &AssignmentInput, facts: &AssignmentFacts) -> bool {
    let open = facts.experiment.as_ref().is_some_and(|e| e.is_open_at(input.occurred_at_ms));
    open && facts.stored.as_ref().is_none_or(|s| input.occurred_at_ms < s.exposed_at_ms)
}

pub(crate) fn assign(input: &AssignmentInput, facts: AssignmentFacts) -> Result<Plan, StoreError> {
    let experiment = facts.experiment.ok_or_else(|| Rejection::UnknownExperiment { key: input.experiment.clone() })?;
    let at_ms = input.occurred_at_ms;
    if !experiment.is_open_at(at_ms) {
        // The default experience, and nothing recorded.
        let answer = Assignment {
            experiment: experiment.key,
            arm: None,
            assistant: true,
            ai_profile_id: None,
            exposed_at: None,
        };
        return Ok(Plan { writes: Vec::new(), answer: Ingested::Assignment(answer) });
    }
    // Arms cannot change once the experiment has started, so the stored arm
    // is the hash's; the stored one is answered all the same.
    let hashed = experiment.arm_for(input.fingerprint.as_str()).name.clone();
    // A new or earlier exposure starts from the visitor's events since then.
    let outcome = || {
        facts
            .events
            .iter()
            .filter(|e| e.occurred_at_ms >= at_ms && experiment.ends_at_ms.is_none_or(|end| e.occurred_at_ms <= end))
            .try_fold(Outcome::default(), |sum, e| sum.add(e.outcome()))
    };
    let write = |new| -> Result<Write, Rejection> {
        Ok(Write::Exposure {
            experiment: experiment.key.clone(),
            fingerprint: input.fingerprint.as_str().to_owned(),
            arm: hashed.clone(),
            exposed_at_ms: at_ms,
            outcome: outcome()?,
            with_ticket: facts.with_ticket,
            new,
        })
    };
    let (arm_name, exposed_at_ms, writes) = match &facts.stored {
        None => (hashed.clone(), at_ms, vec![write(true)?]),
        Some(s) if at_ms < s.exposed_at_ms => (s.arm.clone(), at_ms, vec![write(false)?]),
        Some(s) => (s.arm.clone(), s.exposed_at_ms, Vec::new()),
    };
    let arm = experiment
        .arms
        .iter()
        .find(|a| a.name == arm_name)
        .ok_or_else(|| StoreError::corrupt(format!("experiment {} has no arm {arm_name}", experiment.key)))?;
    let answer = Assignment {
        experiment: experiment.key.clone(),
        arm: Some(arm.name.clone()),
        assistant: arm.assistant,
        ai_profile_id: arm.ai_profile_id.clone(),
        exposed_at: Some(to_rfc3339(exposed_at_ms)),
    };
    Ok(Plan { writes, answer: Ingested::Assignment(answer) })
}

/// A new experiment's key is unique per company.
pub(crate) fn create(new: &Experiment, exists: bool) -> Result<(), Rejection> {
    if exists {
        return Err(Rejection::DuplicateExperiment { key: new.key.clone() });
    }
    Ok(())
}

/// When an experiment ends if asked to end at `at_ms`: after its start, and
/// never later than an end it already has (ending cannot reopen it).
pub(crate) fn end(experiment: &Experiment, at_ms: i64) -> Result<i64, Rejection> {
    if at_ms <= experiment.starts_at_ms {
        return Err(Rejection::invalid(
            Some("ends_at"),
            format!(
                "experiment {} starts at {}; it can only end after that",
                experiment.key,
                to_rfc3339(experiment.starts_at_ms)
            ),
        ));
    }
    Ok(experiment.ends_at_ms.map_or(at_ms, |end| end.min(at_ms)))
}

#[cfg(test)]
mod tests {
    use revtrace_core::{
        Fingerprint,
        experiment::{ArmsSpec, NewExperiment},
    };

    use super::*;

    fn holdout() -> Experiment {
        NewExperiment {
            key: "ai-holdout".into(),
            name: "AI holdout".into(),
            arms: ArmsSpec::Holdout { holdout_pct: 50 },
            starts_at_ms: 1_000,
            ends_at_ms: Some(2_000),
            revenue_cap_cents: None,
        }
        .validate()
        .unwrap()
    }

    fn call(at_ms: i64) -> AssignmentInput {
        AssignmentInput {
            experiment: "ai-holdout".into(),
            fingerprint: Fingerprint::parse("fp-1").unwrap(),
            occurred_at_ms: at_ms,
        }
    }

    fn answer(plan: &Plan) -> &Assignment {
        match &plan.answer {
            Ingested::Assignment(a) => a,
            _ => panic!("not an assignment"),
        }
    }

    #[test]
    fn the_earliest_exposure_is_kept_and_nothing_outside_the_window() {
        let facts =
            |stored| AssignmentFacts { experiment: Some(holdout()), stored, events: Vec::new(), with_ticket: false };
        let outside = assign(&call(2_001), facts(None)).unwrap();
        assert!(outside.writes.is_empty());
        assert_eq!((answer(&outside).arm.as_deref(), answer(&outside).assistant), (None, true));

        let first = assign(&call(1_500), facts(None)).unwrap();
        assert_eq!(first.writes.len(), 1);
        let arm = answer(&first).arm.clone().unwrap();
        let stored = || Some(StoredExposure { arm: arm.clone(), exposed_at_ms: 1_500 });
        let later = assign(&call(1_800), facts(stored())).unwrap();
        assert!(later.writes.is_empty());
        assert_eq!(answer(&later).exposed_at, Some(to_rfc3339(1_500)));
        let earlier = assign(&call(1_000), facts(stored())).unwrap();
        assert!(matches!(earlier.writes[..], [Write::Exposure { exposed_at_ms: 1_000, new: false, .. }]));
        assert_eq!(answer(&earlier).arm.as_deref(), Some(arm.as_str()));
    }

    #[test]
    fn ending_never_reopens() {
        let e = holdout();
        assert_eq!(end(&e, 1_500), Ok(1_500));
        assert_eq!(end(&e, 9_000), Ok(2_000), "already ended at 2000");
        assert!(end(&e, 1_000).is_err(), "not after the start");
    }

    #[test]
    fn an_unknown_experiment_is_refused() {
        let refused = assign(
            &call(1_500),
            AssignmentFacts { experiment: None, stored: None, events: Vec::new(), with_ticket: false },
        );
        assert!(matches!(refused, Err(StoreError::Rejected(Rejection::UnknownExperiment { .. }))));
    }
}
