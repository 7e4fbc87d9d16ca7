//! Scan history (`src/store/`): the SQLite database itself on captured data
//! (`database`), the same history on a real PostgreSQL server (`postgres`), and the
//! finding lifecycle across scans on the local AWS endpoint (`lifecycle`).

#[path = "../support/mod.rs"]
mod support;

mod database;
mod lifecycle;
mod postgres;
