//! Password hashing with Argon2id (v0x13), stored as PHC strings.
//!
//! Hashing is deliberately slow and memory-hungry, so it runs on tokio's
//! blocking pool behind a semaphore that bounds how many hashes run at once
//! (a login flood must not exhaust memory). Verifying a login for an unknown
//! user runs the same Argon2 computation against a dummy hash, so response
//! time does not reveal whether an account exists.

use std::sync::Arc;

use argon2::password_hash::phc::PasswordHash;
use argon2::{Argon2, Params, PasswordHasher as _, PasswordVerifier as _};
use passerelle_domain::Password;
use tokio::sync::Semaphore;

use crate::AuthError;

/// Argon2id cost parameters.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct Argon2Params {
    /// Memory cost in KiB.
    pub memory_kib: u32,
    /// Number of passes.
    pub iterations: u32,
    /// Degree of parallelism (lanes).
    pub parallelism: u32,
}

impl Default for Argon2Params {
    /// The OWASP recommendation: m = 19 MiB, t = 2, p = 1.
    fn default() -> Self {
        Self {
            memory_kib: 19_456,
            iterations: 2,
            parallelism: 1,
        }
    }
}

/// Hashes and verifies passwords. Cheap to clone (shared inner state).
#[derive(Clone)]
pub struct PasswordHasher {
    inner: Arc<Inner>,
}

struct Inner {
    params: Argon2Params,
    argon2_params: Params,
    /// A PHC hash of a random string, made with the same parameters; used
    /// when there is no stored hash to compare with.
    dummy: String,
    permits: Arc<Semaphore>,
    max_concurrent: usize,
    #[cfg(test)]
    argon2_runs: std::sync::atomic::AtomicUsize,
}

impl std::fmt::Debug for PasswordHasher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PasswordHasher")
            .field("params", &self.inner.params)
            .field("max_concurrent", &self.inner.max_concurrent)
            .finish_non_exhaustive()
    }
}

fn argon2(params: &Params) -> Argon2<'static> {
    Argon2::new(
        argon2::Algorithm::Argon2id,
        argon2::Version::V0x13,
        params.clone(),
    )
}

impl PasswordHasher {
    /// Builds a hasher; fails with [`AuthError::Config`] on parameters Argon2
    /// refuses or when `max_concurrent` is 0. Computes the dummy hash once.
    pub fn new(params: Argon2Params, max_concurrent: usize) -> Result<Self, AuthError> {
        if max_concurrent == 0 {
            return Err(AuthError::Config(
                "password hashing needs max_concurrent >= 1".into(),
            ));
        }
        let argon2_params = Params::new(
            params.memory_kib,
            params.iterations,
            params.parallelism,
            None,
        )
        .map_err(|e| AuthError::Config(format!("argon2 parameters: {e}")))?;
        let mut filler = [0u8; 24];
        getrandom::fill(&mut filler)
            .map_err(|e| AuthError::Internal(format!("random number generator: {e}")))?;
        let dummy = argon2(&argon2_params)
            .hash_password(&filler)
            .map_err(|e| AuthError::Internal(format!("argon2: {e}")))?
            .to_string();
        Ok(Self {
            inner: Arc::new(Inner {
                params,
                argon2_params,
                dummy,
                permits: Arc::new(Semaphore::new(max_concurrent)),
                max_concurrent,
                #[cfg(test)]
                argon2_runs: std::sync::atomic::AtomicUsize::new(0),
            }),
        })
    }

    /// Hashes a password into a PHC string (`$argon2id$v=19$m=...`).
    pub async fn hash(&self, password: &Password) -> Result<String, AuthError> {
        let password = password.clone();
        let params = self.inner.argon2_params.clone();
        self.run(move || {
            argon2(&params)
                .hash_password(password.expose().as_bytes())
                .map(|h| h.to_string())
                .map_err(|e| AuthError::Internal(format!("argon2: {e}")))
        })
        .await
    }

    /// Verifies against `stored`; when `stored` is None (unknown user, or an
    /// account with no password) it verifies against the dummy hash and
    /// returns false, so both cases cost the same time.
    ///
    /// A stored value that is not a valid PHC string is an
    /// [`AuthError::Internal`] (corrupt data), not a wrong password.
    pub async fn verify(
        &self,
        password: &Password,
        stored: Option<&str>,
    ) -> Result<bool, AuthError> {
        let known = stored.is_some();
        let stored = stored.unwrap_or(&self.inner.dummy).to_owned();
        let password = password.clone();
        let params = self.inner.argon2_params.clone();
        let matched = self
            .run(move || {
                let hash = PasswordHash::new(&stored)
                    .map_err(|_| AuthError::Internal("stored password hash is malformed".into()))?;
                // The hasher's own parameters are only a fallback: Argon2
                // verifies with the parameters recorded in the PHC string.
                Ok(argon2(&params)
                    .verify_password(password.expose().as_bytes(), &hash)
                    .is_ok())
            })
            .await?;
        Ok(known && matched)
    }

    /// Runs one Argon2 computation on the blocking pool, holding a permit.
    async fn run<T, F>(&self, work: F) -> Result<T, AuthError>
    where
        F: FnOnce() -> Result<T, AuthError> + Send + 'static,
        T: Send + 'static,
    {
        let permit = Arc::clone(&self.inner.permits)
            .acquire_owned()
            .await
            .map_err(|_| AuthError::Internal("password hasher closed".into()))?;
        #[cfg(test)]
        self.inner
            .argon2_runs
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        tokio::task::spawn_blocking(move || {
            let out = work();
            drop(permit);
            out
        })
        .await
        .map_err(|e| AuthError::Internal(format!("password hashing task failed: {e}")))?
    }
}

#[cfg(test)]
#[path = "password_tests.rs"]
mod tests;
