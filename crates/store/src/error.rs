//! The store's one error type and the mapping from diesel / r2d2 errors to it.
//! Callers (the gateway) match on four cases and map them to HTTP statuses;
//! they never see a diesel type.

use diesel::result::{DatabaseErrorKind, Error as DieselError};

/// What went wrong talking to the database, in the terms the gateway needs.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A row the caller required was missing (also: a foreign key pointed at
    /// a row that does not exist).
    #[error("not found")]
    NotFound,
    /// A unique constraint was violated; the string names it in API words,
    /// e.g. `"username"`, `"external_identity"`, `"external_key"`.
    #[error("conflict: {0} already exists")]
    Conflict(&'static str),
    /// Pool timeout, cannot connect, database down or locked (maps to 503).
    #[error("database unavailable: {0}")]
    Unavailable(String),
    /// The transaction lost a race (deadlock, serialization failure) and
    /// can simply be run again.
    #[error("transient database conflict: {0}")]
    Transient(String),
    /// Anything else (maps to 500; the text is for logs only).
    #[error("database error: {0}")]
    Internal(String),
}

impl StoreError {
    /// Whether running the same transaction again may succeed: a lost race,
    /// or a unique violation caused by a concurrent insert.
    pub fn is_retryable(&self) -> bool {
        matches!(self, StoreError::Transient(_) | StoreError::Conflict(_))
    }
}

/// Result alias used by every store function.
pub type StoreResult<T> = Result<T, StoreError>;

/// Maps a diesel error to a [`StoreError`].
pub(crate) fn from_diesel(e: DieselError) -> StoreError {
    match e {
        DieselError::NotFound => StoreError::NotFound,
        DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, info) => {
            StoreError::Conflict(conflict_name(info.constraint_name(), info.message()))
        }
        DieselError::DatabaseError(DatabaseErrorKind::ForeignKeyViolation, _) => {
            StoreError::NotFound
        }
        DieselError::DatabaseError(DatabaseErrorKind::SerializationFailure, info) => {
            StoreError::Transient(info.message().to_owned())
        }
        DieselError::DatabaseError(_, info) if info.message().contains("deadlock detected") => {
            StoreError::Transient(info.message().to_owned())
        }
        DieselError::DatabaseError(DatabaseErrorKind::ClosedConnection, info) => {
            StoreError::Unavailable(info.message().to_owned())
        }
        DieselError::DatabaseError(_, info) if is_busy(info.message()) => {
            StoreError::Unavailable(info.message().to_owned())
        }
        other => StoreError::Internal(other.to_string()),
    }
}

fn is_busy(message: &str) -> bool {
    message.contains("database is locked") || message.contains("database is busy")
}

/// Names a unique constraint in API words. Postgres reports the constraint
/// name (`users_username_key`); SQLite only a message such as
/// `UNIQUE constraint failed: users.username`.
pub(crate) fn conflict_name(constraint: Option<&str>, message: &str) -> &'static str {
    let text = constraint.unwrap_or(message);
    if text.contains("username") {
        "username"
    } else if text.contains("external_identity") || text.contains("external_issuer") {
        "external_identity"
    } else if text.contains("external_key") {
        "external_key"
    } else if text.contains("message_id") {
        "message_id"
    } else if text.contains("token_hash") {
        "token_hash"
    } else if text.contains("pkey") || text.ends_with(".id") {
        "id"
    } else {
        "unique"
    }
}

/// `.db()?` turns a diesel result into a store result.
pub(crate) trait DbResultExt<T> {
    fn db(self) -> StoreResult<T>;
}

impl<T> DbResultExt<T> for Result<T, DieselError> {
    fn db(self) -> StoreResult<T> {
        self.map_err(from_diesel)
    }
}

#[cfg(test)]
mod tests {
    use super::conflict_name;

    #[test]
    fn names_constraints_from_both_backends() {
        assert_eq!(conflict_name(Some("users_username_key"), ""), "username");
        assert_eq!(
            conflict_name(None, "UNIQUE constraint failed: users.username"),
            "username"
        );
        assert_eq!(
            conflict_name(
                None,
                "UNIQUE constraint failed: users.external_issuer, users.external_subject"
            ),
            "external_identity"
        );
        assert_eq!(
            conflict_name(Some("users_external_identity_key"), ""),
            "external_identity"
        );
        assert_eq!(
            conflict_name(
                None,
                "UNIQUE constraint failed: devices.user_id, devices.external_key"
            ),
            "external_key"
        );
        assert_eq!(conflict_name(Some("users_pkey"), ""), "id");
        assert_eq!(
            conflict_name(None, "UNIQUE constraint failed: users.id"),
            "id"
        );
    }
}
