//! The backup setup cache: plans and selections read once and reused by the invocations of a
//! warm Lambda instance for [`crate::settings::SETUP_CACHE_TTL`].

use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use awsio::AwsContext;
use policy::facts::BackupSetup;

/// A setup as cached: when it was read (by the monotonic clock for its age, by the wall
/// clock to tell whether it predates a call) and the setup.
#[derive(Debug)]
struct Cached {
    at: Instant,
    read_at: jiff::Timestamp,
    setup: BackupSetup,
}

impl Cached {
    /// `setup` read now, if it was fully read (an unknown setup is never cached).
    fn fresh(setup: &BackupSetup) -> Option<Cached> {
        (setup.plans.known().is_some() && setup.selections.known().is_some()).then(|| Cached {
            at: Instant::now(),
            read_at: jiff::Timestamp::now(),
            setup: setup.clone(),
        })
    }
}

/// Backup plans and selections, kept across the warm invocations of one Lambda instance for
/// a short time so a burst of table events reads them once. Shared by reference; safe to use
/// from concurrent invocations.
#[derive(Debug, Default)]
pub struct SetupCache {
    slot: Mutex<Option<Cached>>,
}

impl SetupCache {
    /// An empty cache: the first [`SetupCache::get`] reads the setup.
    pub fn new() -> Self {
        Self::default()
    }

    /// The cached setup if younger than `ttl`, else a fresh read (cached only if fully read:
    /// an unknown setup is retried by the next invocation). The flag says whether it was
    /// cached.
    pub async fn get(&self, ctx: &AwsContext, ttl: Duration) -> (BackupSetup, bool) {
        {
            let slot = self.slot.lock().unwrap_or_else(PoisonError::into_inner);
            if let Some(c) = slot.as_ref()
                && c.at.elapsed() < ttl
            {
                return (c.setup.clone(), true);
            }
        }
        let setup = awsio::backup_setup::read_backup_setup(ctx.backup()).await;
        if let Some(c) = Cached::fresh(&setup) {
            *self.slot.lock().unwrap_or_else(PoisonError::into_inner) = Some(c);
        }
        (setup, false)
    }

    /// Puts a setup just read in the cache (if fully read; else empties it) and returns what
    /// it held before with its age, whatever that age, if it was read before `changed_at`
    /// (the "before" of a change made then; a setup read after the change, e.g. by an earlier
    /// delivery of the same event, already shows it and is no "before").
    pub fn replace(
        &self,
        setup: &BackupSetup,
        changed_at: jiff::Timestamp,
    ) -> Option<(Duration, BackupSetup)> {
        let mut slot = self.slot.lock().unwrap_or_else(PoisonError::into_inner);
        std::mem::replace(&mut *slot, Cached::fresh(setup))
            .filter(|c| c.read_at < changed_at)
            .map(|c| (c.at.elapsed(), c.setup))
    }

    /// Forgets the cached setup, so the next [`SetupCache::get`] reads it again.
    pub fn clear(&self) {
        *self.slot.lock().unwrap_or_else(PoisonError::into_inner) = None;
    }
}
