//! The WebSocket endpoint `GET /v1/ws` (protocol `passerelle.v1`): the
//! handshake ([`upgrade`]), the per-connection loop ([`session`]), the
//! reading and checking of client frames ([`inbound`]), the device stream
//! cursor that makes replay-then-live exact ([`cursor`]) and the replay
//! and live delivery built on it (`replay`), the answers to sends (`replies`),
//! link rooms entered by the session (`rooms`), typing (`typing`), the
//! unread counts sent after `ready` (`unread`), and
//! per-session limits
//! ([`limits`]). Frames, error codes and close codes are documented
//! in `docs/protocol.md` and `openapi/asyncapi.yaml`.

pub mod cursor;
pub mod inbound;
pub mod limits;
mod presence;
mod replay;
mod replies;
mod rooms;
pub mod session;
mod typing;
mod unread;
pub mod upgrade;
