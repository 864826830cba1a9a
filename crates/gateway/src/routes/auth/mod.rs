//! `/v1/auth`: register, login, refresh, logout.

pub mod login;
pub mod logout;
pub mod refresh;
pub mod register;
pub(crate) mod session;
pub(crate) mod throttle;
