//! The JWKS cache of one external provider: keys fetched from its URL,
//! kept for `jwks_refresh_secs`, refetched early when a token names an
//! unknown `kid` (key rotation), never more often than the minimum interval,
//! and kept as they are when a refetch fails.

use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use jsonwebtoken::Algorithm;

use super::Inner;
use super::keys::{self, ProviderKey};
use crate::AuthError;

pub(super) struct Jwks {
    url: String,
    refresh: Duration,
    /// Least time between two fetches.
    min_refetch: Duration,
    cache: RwLock<Arc<Cached>>,
    /// Serialises fetches and remembers the last attempt (rate limit).
    fetch: tokio::sync::Mutex<Option<Instant>>,
}

struct Cached {
    keys: Vec<ProviderKey>,
    /// None until the first successful fetch.
    fetched_at: Option<Instant>,
}

/// The outcome of looking a key up in a cached set.
enum Pick {
    Key(ProviderKey),
    /// Refusal that a refetch cannot fix.
    Refuse(&'static str),
    /// No key found; a newer JWKS might have it.
    Missing,
}

fn pick(keys: &[ProviderKey], kid: Option<&str>, alg: Algorithm) -> Pick {
    match kid {
        Some(kid) => match keys.iter().find(|k| k.kid.as_deref() == Some(kid)) {
            Some(k) if k.usable_for(alg) => Pick::Key(k.clone()),
            Some(_) => Pick::Refuse("unsupported algorithm"),
            None => Pick::Missing,
        },
        None => {
            let mut usable = keys.iter().filter(|k| k.usable_for(alg));
            match (usable.next(), usable.next()) {
                (Some(k), None) => Pick::Key(k.clone()),
                (None, _) => Pick::Missing,
                (Some(_), Some(_)) => Pick::Refuse("unknown key id"),
            }
        }
    }
}

impl Jwks {
    pub(super) fn new(url: String, refresh: Duration, min_refetch: Duration) -> Self {
        Jwks {
            url,
            refresh,
            min_refetch,
            cache: RwLock::new(Arc::new(Cached {
                keys: Vec::new(),
                fetched_at: None,
            })),
            fetch: tokio::sync::Mutex::new(None),
        }
    }

    fn snapshot(&self) -> Arc<Cached> {
        match self.cache.read() {
            Ok(guard) => Arc::clone(&guard),
            Err(poisoned) => Arc::clone(&poisoned.into_inner()),
        }
    }

    pub(super) async fn key_for(
        &self,
        inner: &Inner,
        kid: Option<&str>,
        alg: Algorithm,
    ) -> Result<ProviderKey, AuthError> {
        let mut cached = self.snapshot();
        let stale = cached
            .fetched_at
            .is_none_or(|t| t.elapsed() >= self.refresh);
        if stale {
            cached = self.refresh(inner, &cached).await?;
        }
        match pick(&cached.keys, kid, alg) {
            Pick::Key(k) => return Ok(k),
            Pick::Refuse(r) => return Err(AuthError::InvalidToken(r)),
            Pick::Missing => {}
        }
        // Unknown kid: the provider may have rotated its keys.
        let newer = self.refresh(inner, &cached).await?;
        if Arc::ptr_eq(&newer, &cached) {
            return Err(AuthError::InvalidToken("unknown key id"));
        }
        match pick(&newer.keys, kid, alg) {
            Pick::Key(k) => Ok(k),
            Pick::Refuse(r) => Err(AuthError::InvalidToken(r)),
            Pick::Missing => Err(AuthError::InvalidToken("unknown key id")),
        }
    }

    /// Fetches the JWKS again unless another task already replaced `seen`, or
    /// the last attempt was less than `min_refetch` ago. On failure keeps the
    /// cached set; fails only when there has never been a successful fetch.
    async fn refresh(&self, inner: &Inner, seen: &Arc<Cached>) -> Result<Arc<Cached>, AuthError> {
        let mut last_attempt = self.fetch.lock().await;
        let current = self.snapshot();
        if !Arc::ptr_eq(&current, seen) {
            return Ok(current);
        }
        let keep_or_fail = |why: String| {
            if current.fetched_at.is_some() {
                Ok(Arc::clone(&current))
            } else {
                Err(AuthError::Unavailable(why))
            }
        };
        if last_attempt.is_some_and(|t| t.elapsed() < self.min_refetch) {
            return keep_or_fail(format!("JWKS {} fetched too recently", self.url));
        }
        *last_attempt = Some(Instant::now());
        let agent = inner.agent.clone();
        let url = self.url.clone();
        let fetched = tokio::task::spawn_blocking(move || keys::fetch_jwks(&agent, &url))
            .await
            .map_err(|e| format!("JWKS fetch task failed: {e}"))
            .and_then(|r| r);
        match fetched {
            Ok(keys) => {
                tracing::debug!(url = %self.url, keys = keys.len(), "fetched JWKS");
                let fresh = Arc::new(Cached {
                    keys,
                    fetched_at: Some(Instant::now()),
                });
                match self.cache.write() {
                    Ok(mut guard) => *guard = Arc::clone(&fresh),
                    Err(poisoned) => *poisoned.into_inner() = Arc::clone(&fresh),
                }
                Ok(fresh)
            }
            Err(why) => {
                tracing::warn!(error = %why, "JWKS fetch failed; keeping the cached keys");
                keep_or_fail(why)
            }
        }
    }
}
