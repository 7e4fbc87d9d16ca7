//! `driftd serve` (`src/daemon/`) against the local AWS endpoint: scheduled scans,
//! the HTTP endpoints and shutdown (`serve`), and production's bad days
//! (`hardening`).

#[path = "../support/mod.rs"]
mod support;

mod hardening;
mod serve;
