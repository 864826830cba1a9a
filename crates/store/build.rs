//! Rebuild the crate when a migration file changes: `embed_migrations!`
//! reads the repo-level `migrations/` tree at compile time, and cargo does not
//! notice new migration directories on its own.

fn main() {
    println!("cargo:rerun-if-changed=../../migrations");
}
