//! The keys a server has recently seen, so that authenticating a call costs
//! no database read. Entries expire after [`TTL`]: a key revoked or a rate
//! limit changed by the CLI (another process) takes effect within it.

use std::{
    collections::HashMap,
    sync::RwLock,
    time::{Duration, Instant},
};

use crate::model::Principal;

pub(crate) const TTL: Duration = Duration::from_secs(2);

/// At most this many keys are remembered; past it the cache starts afresh
/// (a flood of random keys must not grow memory).
const MAX_ENTRIES: usize = 100_000;

#[derive(Default)]
pub(crate) struct PrincipalCache(RwLock<HashMap<String, (Principal, Instant)>>);

impl PrincipalCache {
    pub fn get(&self, key: &str) -> Option<Principal> {
        let cache = self.0.read().ok()?;
        let (principal, at) = cache.get(key)?;
        (at.elapsed() < TTL).then(|| principal.clone())
    }

    pub fn put(&self, key: &str, principal: &Principal) {
        if let Ok(mut cache) = self.0.write() {
            if cache.len() >= MAX_ENTRIES {
                cache.clear();
            }
            cache.insert(key.to_owned(), (principal.clone(), Instant::now()));
        }
    }
}
