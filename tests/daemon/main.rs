//! `driftd serve` (`src/daemon/`) against the local AWS endpoint: scheduled scans,
//! the HTTP endpoints and shutdown (`serve`), production's bad days
//! (`hardening`), and several replicas sharing the runs on PostgreSQL (`replicas`).

#[path = "../support/mod.rs"]
mod support;

mod hardening;
mod replicas;
mod scopes;
mod serve;
