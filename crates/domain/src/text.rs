//! Validated text values: usernames, passwords, display and device names.

use crate::DomainError;

/// An account name: 3 to 32 characters of `[a-z0-9_.]`. Input is lower-cased
/// first, so names are unique case-insensitively and stored in one canonical
/// form.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Username(String);

impl Username {
    pub const MIN: usize = 3;
    pub const MAX: usize = 32;

    pub fn parse(raw: &str) -> Result<Self, DomainError> {
        let canonical = raw.to_ascii_lowercase();
        let len = canonical.chars().count();
        if !(Self::MIN..=Self::MAX).contains(&len) {
            return Err(DomainError::new(
                "username",
                format!("must be {} to {} characters long", Self::MIN, Self::MAX),
            ));
        }
        if !canonical
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '.')
        {
            return Err(DomainError::new(
                "username",
                "may only contain letters a-z, digits, '_' and '.'",
            ));
        }
        Ok(Self(canonical))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

impl std::fmt::Display for Username {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// A password as typed by the user. Its `Debug` never shows the text.
#[derive(Clone)]
pub struct Password(String);

impl Password {
    /// NIST SP 800-63B asks for at least 8 characters; the upper bound keeps a
    /// single request from making the hasher work on megabytes.
    pub const MIN: usize = 8;
    pub const MAX: usize = 256;

    /// Validates a new password (registration, password change).
    pub fn new_secret(raw: String) -> Result<Self, DomainError> {
        let len = raw.chars().count();
        if !(Self::MIN..=Self::MAX).contains(&len) {
            return Err(DomainError::new(
                "password",
                format!("must be {} to {} characters long", Self::MIN, Self::MAX),
            ));
        }
        Ok(Self(raw))
    }

    /// Wraps a password offered at login. Only the length cap applies, so that
    /// an old, shorter password is still checked (and fails) the normal way.
    pub fn offered(raw: String) -> Result<Self, DomainError> {
        if raw.chars().count() > Self::MAX {
            return Err(DomainError::new(
                "password",
                format!("must be at most {} characters long", Self::MAX),
            ));
        }
        Ok(Self(raw))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Password {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Password(<redacted>)")
    }
}

pub(crate) fn bounded_text(
    field: &'static str,
    raw: &str,
    max: usize,
) -> Result<String, DomainError> {
    let trimmed = raw.trim();
    if trimmed.is_empty() {
        return Err(DomainError::new(field, "must not be empty"));
    }
    if trimmed.chars().count() > max {
        return Err(DomainError::new(
            field,
            format!("must be at most {max} characters long"),
        ));
    }
    if trimmed.chars().any(char::is_control) {
        return Err(DomainError::new(
            field,
            "must not contain control characters",
        ));
    }
    Ok(trimmed.to_owned())
}

macro_rules! text_type {
    ($(#[$doc:meta])* $name:ident, $field:literal, $max:expr) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq)]
        pub struct $name(String);

        impl $name {
            pub const MAX: usize = $max;

            pub fn parse(raw: &str) -> Result<Self, DomainError> {
                bounded_text($field, raw, Self::MAX).map(Self)
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }

            pub fn into_string(self) -> String {
                self.0
            }
        }
    };
}

text_type!(
    /// The name shown to other users; trimmed, 1 to 64 characters.
    DisplayName,
    "displayName",
    64
);
text_type!(
    /// A device's label chosen by its owner ("Pixel 9", "Work laptop").
    DeviceName,
    "deviceName",
    64
);
text_type!(
    /// The client platform a device reports ("android", "ios", "web", ...).
    Platform,
    "platform",
    32
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usernames_are_canonical_and_bounded() {
        assert_eq!(
            Username::parse("Alice_1.x").map(|u| u.into_string()),
            Ok("alice_1.x".into())
        );
        assert!(Username::parse("ab").is_err());
        assert!(Username::parse(&"a".repeat(33)).is_err());
        assert!(Username::parse("al ice").is_err());
        assert!(Username::parse("alïce").is_err());
    }

    #[test]
    fn passwords_are_bounded_and_never_printed() {
        assert!(Password::new_secret("short".into()).is_err());
        let p = Password::new_secret("correct horse".into()).expect("valid");
        assert!(!format!("{p:?}").contains("horse"));
        assert!(Password::offered("x".into()).is_ok());
        assert!(Password::offered("x".repeat(300)).is_err());
    }

    #[test]
    fn names_are_trimmed_and_bounded() {
        assert_eq!(
            DisplayName::parse("  Bob  ").map(|d| d.into_string()),
            Ok("Bob".into())
        );
        assert!(DisplayName::parse("   ").is_err());
        assert!(DeviceName::parse(&"x".repeat(65)).is_err());
        assert!(
            Platform::parse("web\n").is_ok(),
            "trailing newline is trimmed"
        );
        assert!(Platform::parse("we\u{7}b").is_err());
    }
}
