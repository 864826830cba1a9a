//! A device's registration number: the number an end-to-end encrypted
//! client's session with that device is bound to. A device gets one when it
//! is created and a new one when it is re-registered (its encryption state
//! was reset), so that a sender can tell a session made for the device's
//! old state (a *stale* entry) from one made for its current state.

use uuid::Uuid;

use crate::DomainError;

/// The largest number a client may choose (it fits a signed 32-bit column).
pub const MAX_REGISTRATION_ID: u32 = i32::MAX as u32;
/// Numbers the server picks are in `1..=16380`, the range Signal-protocol
/// libraries use for their own registration ids, so one number can serve both.
pub const PICKED_REGISTRATION_IDS: u32 = 16_380;

/// A device's registration number, in `1..=2^31-1`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RegistrationId(u32);

impl RegistrationId {
    /// Checks a number a client chose.
    pub fn parse(value: u64) -> Result<Self, DomainError> {
        match u32::try_from(value) {
            Ok(v) if (1..=MAX_REGISTRATION_ID).contains(&v) => Ok(Self(v)),
            _ => Err(DomainError::new(
                "registrationId",
                format!("must be between 1 and {MAX_REGISTRATION_ID}"),
            )),
        }
    }

    /// A number as stored (already checked when it was written).
    pub fn from_stored(value: i32) -> Self {
        Self(value.unsigned_abs().max(1))
    }

    /// A random number in `1..=16380`, different from `not` (the device's
    /// current one, when re-registering).
    pub fn pick(not: Option<RegistrationId>) -> Self {
        loop {
            // A v4 UUID holds 122 random bits from the OS's generator.
            let r = (Uuid::new_v4().as_u128() % u128::from(PICKED_REGISTRATION_IDS)) as u32 + 1;
            if Some(Self(r)) != not {
                return Self(r);
            }
        }
    }

    pub fn get(self) -> u32 {
        self.0
    }

    /// The stored form (a positive `i32`).
    pub fn stored(self) -> i32 {
        i32::try_from(self.0).unwrap_or(i32::MAX)
    }
}

impl std::fmt::Display for RegistrationId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounds_are_checked() {
        assert!(RegistrationId::parse(0).is_err());
        assert!(RegistrationId::parse(u64::from(MAX_REGISTRATION_ID) + 1).is_err());
        assert_eq!(RegistrationId::parse(1).map(RegistrationId::get), Ok(1));
        assert_eq!(
            RegistrationId::parse(u64::from(MAX_REGISTRATION_ID)).map(RegistrationId::stored),
            Ok(i32::MAX)
        );
    }

    #[test]
    fn picked_numbers_are_in_range_and_change() {
        let mut last = RegistrationId::pick(None);
        for _ in 0..2000 {
            let next = RegistrationId::pick(Some(last));
            assert!((1..=PICKED_REGISTRATION_IDS).contains(&next.get()));
            assert_ne!(next, last);
            last = next;
        }
    }
}
