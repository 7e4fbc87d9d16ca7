//! The command line (`src/cli/`, and `src/config.rs`, which only the CLI reads): the
//! built binary on the incidents of DESIGN.md against captured data (`incidents`),
//! bad input (`bad_input`), input that must never crash, hang or leak (`hardening`),
//! and the configuration file (`config`).

#[path = "../support/mod.rs"]
mod support;

mod bad_input;
mod carriers;
mod config;
mod coverage;
mod hardening;
mod help;
mod incidents;
mod progress;
