//! Passerelle authentication: password hashing, the gateway's own access
//! tokens (signing keys, issue/verify, JWKS), blob-store capabilities
//! (signed by the gateway, checked by the blob store), verification of
//! access tokens from external identity providers, and opaque refresh
//! tokens.
//!
//! This crate owns every piece of cryptography that decides *who* a request
//! comes from, so the gateway only ever sees typed results ([`AccessClaims`],
//! [`ExternalIdentity`]) or an [`AuthError`] with a short, safe reason. No
//! secret (password, token, private key, HMAC secret) is ever logged or shown
//! through `Debug`/`Display` by this crate.

pub mod access;
pub mod capability;
pub mod error;
pub mod external;
pub mod keys;
pub mod password;
pub mod refresh;

mod jwt;

pub use access::{AccessClaims, AccessTokenConfig, AccessTokens, IssuedToken, peek_issuer};
pub use capability::{
    BLOB_AUDIENCE, BlobClaims, BlobOp, CapabilityIssuer, CapabilityVerifier, Grant,
    IssuedCapability,
};
pub use error::AuthError;
pub use external::{ExternalIdentity, ExternalVerifier, ProviderConfig};
pub use keys::KeySet;
pub use password::{Argon2Params, PasswordHasher};
