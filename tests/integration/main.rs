//! Passerelle's integration suite: every test starts the real `passerelle`
//! binary on a fresh database (see `passerelle-test-support`) and drives it
//! over HTTP the way a client would. The backend is chosen by
//! `PASSERELLE_TEST_BACKEND` (`sqlite` by default, or `postgres`); tests
//! that need Redis are `#[ignore]`d on the embedded backend, with the reason,
//! and run (`-- --include-ignored`) on Postgres + Redis.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod account;
mod asyncapi;
mod attacker_tokens;
mod auth_flow;
mod authz_matrix;
mod blindness;
mod blob_flow;
mod blobs;
mod blocks;
mod common;
mod contacts;
mod conversations;
mod device_directory;
mod device_directory_nodes;
mod devices;
mod disappearing;
mod external_idp;
mod game_invites;
mod group_attackers;
mod group_membership;
mod group_roles;
mod groups;
mod history;
mod http_errors;
mod journey;
mod journey_realtime;
mod link_rooms;
mod link_rooms_nodes;
mod logs;
mod message_receipts;
mod message_requests;
mod multinode;
mod operations;
mod presence;
mod presence_nodes;
mod profiles;
mod read_markers;
mod realtime_handshake;
mod realtime_lifecycle;
mod realtime_routing;
mod retract;
mod schema;
mod send_routing;
mod throttling;
mod typing;
mod typing_nodes;
mod unread_counts;
mod unread_sync;
