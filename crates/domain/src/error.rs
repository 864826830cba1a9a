//! The one error type of the domain crate: a rule a value broke.

/// A value did not satisfy a domain rule. The message is safe to show to
/// clients: it describes the rule, never the rejected value when that value
/// could be a secret.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {rule}")]
pub struct DomainError {
    /// The API field (camelCase) the rule applies to.
    pub field: &'static str,
    /// What the rule is, in plain words.
    pub rule: String,
}

impl DomainError {
    pub(crate) fn new(field: &'static str, rule: impl Into<String>) -> Self {
        Self {
            field,
            rule: rule.into(),
        }
    }
}
