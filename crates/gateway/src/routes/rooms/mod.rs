//! `/v1/rooms`: creating link rooms. Everything after creation happens over
//! the WebSocket (`enter_room`, `leave_room`, `room` events; see
//! `crate::ws` and `crate::rooms`); a room's messages and history are the
//! conversation endpoints', for its current members.

pub mod create;
