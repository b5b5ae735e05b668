//! The time source of every store call. A store is opened with a clock
//! (the system's by default); the server reads "now" from the same one, so
//! a test that pins the clock pins decisions, ids and reporting days alike.

/// Where "now" comes from.
pub trait Clock: Send + Sync + 'static {
    /// Now, in epoch milliseconds.
    fn now_ms(&self) -> i64;
}

/// The system's wall clock.
pub struct SystemClock;

impl Clock for SystemClock {
    fn now_ms(&self) -> i64 {
        jiff::Timestamp::now().as_millisecond()
    }
}

/// A time-ordered prefixed id (UUIDv7 at `now_ms`), e.g. `evt_0192…`.
pub(crate) fn time_ordered_id(prefix: &str, now_ms: i64) -> String {
    let ms = u64::try_from(now_ms).unwrap_or_default();
    let ts = uuid::Timestamp::from_unix(uuid::NoContext, ms / 1000, (ms % 1000) as u32 * 1_000_000);
    format!("{prefix}{}", uuid::Uuid::new_v7(ts).simple())
}

#[cfg(test)]
mod tests {
    #[test]
    fn ids_follow_the_clock() {
        let early = super::time_ordered_id("evt_", 1_788_220_800_000);
        let late = super::time_ordered_id("evt_", 1_788_220_800_001);
        assert!(early.starts_with("evt_") && early < late, "{early} {late}");
    }
}
