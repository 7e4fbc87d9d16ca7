//! Scan history in SQLite (`src/store/`): the database itself on captured data
//! (`database`), and the finding lifecycle across scans on the local AWS endpoint
//! (`lifecycle`).

#[path = "../support/mod.rs"]
mod support;

mod database;
mod lifecycle;
