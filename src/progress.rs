//! A scan's progress, told as tracing events under one target. In logs, each step
//! done is one line with what it found and how long it took, at the default level
//! (`report` shows them when stderr is not a terminal); on a terminal, the status
//! line of `cli::progress` shows the step under way and prints each one done.

use std::fmt::Display;
use std::time::Instant;

use tracing::{debug, info, warn};

/// The target of every progress event (`RUST_LOG=driftd::progress=info`).
pub const TARGET: &str = "driftd::progress";

/// The message of the event that starts a step; its `step` field names it.
pub const STARTED: &str = "started";
/// The message of the event after the last step: a status line goes away.
pub const FINISHED: &str = "finished";

/// One step under way: reading a state, a region, a stack; comparing; storing.
pub struct Step {
    name: String,
    started: Instant,
}

impl Step {
    pub fn start(name: impl Into<String>) -> Step {
        let name = name.into();
        debug!(target: TARGET, step = %name, "{STARTED}");
        Step {
            name,
            started: Instant::now(),
        }
    }

    /// Done: what it found (`5 groups, 12 rules`) and how long it took.
    pub fn done(self, found: impl Display) {
        let seconds = self.started.elapsed().as_secs_f64();
        info!(target: TARGET, step = %self.name, seconds, "{}: {found} ({seconds:.1}s)", self.name);
    }

    /// Failed: said as a warning, with the error.
    pub fn failed(self, error: impl Display) {
        let seconds = self.started.elapsed().as_secs_f64();
        warn!(target: TARGET, step = %self.name, seconds, "{}: failed after {seconds:.1}s: {error}", self.name);
    }
}

/// What the process waits for now, when it is not a scan's step (a retry).
pub fn waiting(what: impl Display) {
    info!(target: TARGET, "{what}");
}

/// No more steps: a terminal's status line is cleared before the report prints.
pub fn finished() {
    debug!(target: TARGET, "{FINISHED}");
}
