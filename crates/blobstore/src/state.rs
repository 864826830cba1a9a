//! What every handler shares.

use passerelle_auth::CapabilityVerifier;

use crate::backend::Storage;

pub struct AppState {
    /// Where the bytes live.
    pub storage: Storage,
    /// Checks capabilities with the gateway's keys (no call to the gateway).
    pub verifier: CapabilityVerifier,
    /// The server's own cap on a blob's size, over any capability's.
    pub max_blob_bytes: u64,
}
