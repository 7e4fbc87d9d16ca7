//! driftd: security-group drift between infrastructure-as-code and live AWS.
//! See ARCHITECTURE.md for where data enters, is normalised, diffed and reported.

pub mod acknowledge;
pub mod attribution;
pub mod aws;
pub mod cli;
pub mod config;
pub mod coverage;
pub mod daemon;
pub mod diff;
pub mod diff_text;
pub mod errors;
pub mod input;
pub mod model;
pub mod notify;
pub mod progress;
pub mod refs;
pub mod report;
pub mod scan;
pub mod secret;
pub mod sources;
pub mod store;
