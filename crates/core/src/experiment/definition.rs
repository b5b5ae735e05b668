//! What an experiment is, and the rules a new one must follow (SPEC §11).

use serde::{Deserialize, Serialize};

/// Most arms an experiment may have.
pub const MAX_ARMS: usize = 8;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(as = ExperimentKind))]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// Some visitors get no assistant at all (the control).
    Holdout,
    /// Arms that usually run different AI profiles.
    Ab,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Holdout => "holdout",
            Self::Ab => "ab",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "holdout" => Some(Self::Holdout),
            "ab" => Some(Self::Ab),
            _ => None,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Arm {
    pub name: String,
    pub weight: u32,
    /// False: the assistant is hidden for this arm's visitors.
    pub assistant: bool,
    pub ai_profile_id: Option<String>,
}

/// A stored experiment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Experiment {
    pub key: String,
    pub name: String,
    pub kind: Kind,
    /// In the order they were defined: bucket ranges follow it.
    pub arms: Vec<Arm>,
    pub control: String,
    pub starts_at_ms: i64,
    pub ends_at_ms: Option<i64>,
    /// Each visitor's net revenue is capped at this many USD cents.
    pub revenue_cap_cents: Option<i64>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(as = ExperimentStatus))]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Scheduled,
    Running,
    Ended,
}

impl Experiment {
    pub fn status(&self, now_ms: i64) -> Status {
        if now_ms < self.starts_at_ms {
            Status::Scheduled
        } else if self.ends_at_ms.is_some_and(|end| now_ms > end) {
            Status::Ended
        } else {
            Status::Running
        }
    }

    /// Whether an assignment at `at_ms` is inside the window (both bounds
    /// inclusive).
    pub fn is_open_at(&self, at_ms: i64) -> bool {
        at_ms >= self.starts_at_ms && self.ends_at_ms.is_none_or(|end| at_ms <= end)
    }

    /// The arm a visitor is in (GrowthBook's hash version 2).
    pub fn arm_for(&self, fingerprint: &str) -> &Arm {
        let weights: Vec<u32> = self.arms.iter().map(|a| a.weight).collect();
        let bucket = super::bucket(&self.key, fingerprint);
        // A validated experiment has positive weights: every bucket is held.
        &self.arms[super::arm_of(&weights, bucket).unwrap_or(0)]
    }

    pub fn control_index(&self) -> usize {
        self.arms.iter().position(|a| a.name == self.control).unwrap_or(0)
    }
}

/// How a new experiment names its arms.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ArmsSpec {
    /// `holdout_pct` of the visitors see no assistant.
    Holdout {
        holdout_pct: i64,
    },
    Ab {
        arms: Vec<Arm>,
        control: String,
    },
}

/// A new experiment as the caller describes it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewExperiment {
    pub key: String,
    pub name: String,
    pub arms: ArmsSpec,
    pub starts_at_ms: i64,
    pub ends_at_ms: Option<i64>,
    pub revenue_cap_cents: Option<i64>,
}

/// A rule a new experiment breaks, with the request field it is about.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct InvalidExperiment {
    pub field: String,
    pub message: String,
}

fn invalid(field: impl Into<String>, message: impl Into<String>) -> InvalidExperiment {
    InvalidExperiment { field: field.into(), message: message.into() }
}

/// Lower-case letters, digits, `-` and `_`, starting with a letter or
/// digit, at most 64 characters: safe in URLs, hashes and file names.
pub fn is_slug(s: &str) -> bool {
    let mut chars = s.chars();
    chars.next().is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
        && s.len() <= 64
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_')
}

impl NewExperiment {
    /// The experiment this describes, or the first rule it breaks.
    pub fn validate(self) -> Result<Experiment, InvalidExperiment> {
        if !is_slug(&self.key) {
            return Err(invalid("key", "a key is 1–64 lower-case letters, digits, '-' or '_'"));
        }
        if self.name.trim().is_empty() || self.name.chars().count() > 200 {
            return Err(invalid("name", "a name is 1–200 characters"));
        }
        if let Some(end) = self.ends_at_ms
            && end <= self.starts_at_ms
        {
            return Err(invalid("ends_at", "ends_at must be after starts_at"));
        }
        if self.revenue_cap_cents.is_some_and(|cap| cap <= 0) {
            return Err(invalid("revenue_cap_usd", "the revenue cap must be positive"));
        }
        let (kind, arms, control) = match self.arms {
            ArmsSpec::Holdout { holdout_pct } => {
                if !(1..=50).contains(&holdout_pct) {
                    return Err(invalid("holdout_pct", "holdout_pct is a whole percent from 1 to 50"));
                }
                let pct = holdout_pct as u32;
                let arms = vec![
                    Arm { name: "holdout".into(), weight: pct, assistant: false, ai_profile_id: None },
                    Arm { name: "assisted".into(), weight: 100 - pct, assistant: true, ai_profile_id: None },
                ];
                (Kind::Holdout, arms, "holdout".to_owned())
            }
            ArmsSpec::Ab { arms, control } => {
                if !(2..=MAX_ARMS).contains(&arms.len()) {
                    return Err(invalid("arms", format!("an experiment has 2 to {MAX_ARMS} arms")));
                }
                for (i, arm) in arms.iter().enumerate() {
                    if !is_slug(&arm.name) {
                        return Err(invalid(
                            format!("arms[{i}].name"),
                            "an arm's name is 1–64 lower-case letters, digits, '-' or '_'",
                        ));
                    }
                    if arms[..i].iter().any(|a| a.name == arm.name) {
                        return Err(invalid(format!("arms[{i}].name"), format!("two arms are named {}", arm.name)));
                    }
                    if arm.weight == 0 || arm.weight > 10_000 {
                        return Err(invalid(format!("arms[{i}].weight"), "a weight is a whole number from 1 to 10000"));
                    }
                }
                if !arms.iter().any(|a| a.name == control) {
                    return Err(invalid("control", format!("{control:?} is not one of the arms")));
                }
                (Kind::Ab, arms, control)
            }
        };
        Ok(Experiment {
            key: self.key,
            name: self.name,
            kind,
            arms,
            control,
            starts_at_ms: self.starts_at_ms,
            ends_at_ms: self.ends_at_ms,
            revenue_cap_cents: self.revenue_cap_cents,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ab(arms: Vec<(&str, u32)>, control: &str) -> NewExperiment {
        NewExperiment {
            key: "profiles".into(),
            name: "Profiles".into(),
            arms: ArmsSpec::Ab {
                arms: arms
                    .into_iter()
                    .map(|(n, w)| Arm { name: n.into(), weight: w, assistant: true, ai_profile_id: Some(n.into()) })
                    .collect(),
                control: control.into(),
            },
            starts_at_ms: 0,
            ends_at_ms: None,
            revenue_cap_cents: None,
        }
    }

    #[test]
    fn refusals_name_the_field() {
        let field = |e: NewExperiment| e.validate().unwrap_err().field;
        assert_eq!(field(ab(vec![("a", 1), ("b", 0)], "a")), "arms[1].weight");
        assert_eq!(field(ab(vec![("a", 1), ("b", 1)], "c")), "control");
        assert_eq!(field(ab(vec![("a", 1)], "a")), "arms");
        assert_eq!(field(ab(vec![("a", 1), ("a", 1)], "a")), "arms[1].name");
        let holdout = |pct| NewExperiment { arms: ArmsSpec::Holdout { holdout_pct: pct }, ..ab(vec![], "") };
        assert_eq!(field(holdout(0)), "holdout_pct");
        assert_eq!(field(holdout(51)), "holdout_pct");
        let e = holdout(10).validate().unwrap();
        assert_eq!(
            (e.kind, e.control.as_str(), e.arms[0].weight, e.arms[1].weight),
            (Kind::Holdout, "holdout", 10, 90)
        );
        assert!(!e.arms[0].assistant && e.arms[1].assistant);
    }

    #[test]
    fn the_window_and_status_include_both_bounds() {
        let e = NewExperiment { starts_at_ms: 100, ends_at_ms: Some(200), ..ab(vec![("a", 1), ("b", 1)], "a") }
            .validate()
            .unwrap();
        assert!(!e.is_open_at(99) && e.is_open_at(100) && e.is_open_at(200) && !e.is_open_at(201));
        assert_eq!((e.status(99), e.status(200), e.status(201)), (Status::Scheduled, Status::Running, Status::Ended));
    }
}
