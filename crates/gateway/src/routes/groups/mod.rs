//! `/v1/groups/{name}`: public groups found by their exact name.

pub mod show;
