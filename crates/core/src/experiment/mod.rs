//! Revenue experiments (SPEC §11): the assignment of visitors to arms and the
//! statistics that compare the arms. Attribution says what happened;
//! an experiment says what the assistant caused.

pub mod assign;
pub mod definition;
pub mod results;
pub mod stats;

pub use assign::{BUCKETS, arm_of, bucket};
pub use definition::{Arm, ArmsSpec, Experiment, InvalidExperiment, Kind, NewExperiment, Status, is_slug};
pub use results::{Analysis, ArmOutcome, ArmSummary, ExperimentResults, Header, Srm, Summary, results, summary};
pub use stats::{Degenerate, Interval, Lift, Method, Moments, Statistic, compare, srm_p_value};
