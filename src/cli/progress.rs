//! The status lines of a scan on a terminal (stderr): one spinner per step under
//! way (states, stacks and regions are read concurrently), a line for each step
//! done, and log lines printed above them. Fed by the `driftd::progress` events
//! (`crate::progress`); when stderr is not a terminal nothing here is used and
//! those events are ordinary log lines.

use std::collections::HashMap;
use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use indicatif::{MultiProgress, ProgressBar, ProgressStyle};
use tracing::field::{Field, Visit};
use tracing::{Event, Subscriber};
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::layer::{Context, Layer};

use crate::progress::{FINISHED, STARTED, TARGET};

/// The spinners in flight, by step.
#[derive(Clone)]
pub struct StatusLines {
    lines: MultiProgress,
    steps: Arc<Mutex<HashMap<String, ProgressBar>>>,
}

impl StatusLines {
    pub fn new() -> StatusLines {
        StatusLines {
            lines: MultiProgress::new(),
            steps: Arc::default(),
        }
    }

    fn start(&self, step: String) {
        let spinner = self.lines.add(ProgressBar::new_spinner());
        let style =
            ProgressStyle::with_template("{spinner} {msg} {elapsed}").expect("a valid template");
        spinner.set_style(style);
        spinner.set_message(step.clone());
        spinner.enable_steady_tick(Duration::from_millis(120));
        let replaced = self.steps.lock().expect("steps lock").insert(step, spinner);
        if let Some(replaced) = replaced {
            self.remove(replaced);
        }
    }

    fn done(&self, step: Option<&str>, line: &str) {
        let spinner = step.and_then(|step| self.steps.lock().expect("steps lock").remove(step));
        if let Some(spinner) = spinner {
            self.remove(spinner);
        }
        let _ = self.lines.println(line);
    }

    fn clear(&self) {
        let spinners: Vec<ProgressBar> = self
            .steps
            .lock()
            .expect("steps lock")
            .drain()
            .map(|(_, spinner)| spinner)
            .collect();
        for spinner in spinners {
            self.remove(spinner);
        }
    }

    fn remove(&self, spinner: ProgressBar) {
        spinner.finish_and_clear();
        self.lines.remove(&spinner);
    }
}

impl Default for StatusLines {
    fn default() -> Self {
        StatusLines::new()
    }
}

/// Reads the `step` field and the message of a progress event.
#[derive(Default)]
struct Fields {
    step: Option<String>,
    message: Option<String>,
}

impl Visit for Fields {
    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "step" {
            self.step = Some(value.to_string());
        }
    }

    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        match field.name() {
            "message" => self.message = Some(format!("{value:?}")),
            "step" => self.step = Some(format!("{value:?}")),
            _ => {}
        }
    }
}

impl<S: Subscriber> Layer<S> for StatusLines {
    fn on_event(&self, event: &Event<'_>, _context: Context<'_, S>) {
        if event.metadata().target() != TARGET {
            return;
        }
        let mut fields = Fields::default();
        event.record(&mut fields);
        match (fields.message.as_deref(), fields.step) {
            (Some(STARTED), Some(step)) => self.start(step),
            (Some(FINISHED), _) => self.clear(),
            (Some(line), step) => self.done(step.as_deref(), line),
            (None, _) => {}
        }
    }
}

/// Log lines on stderr, printed above the spinners rather than through them.
pub struct AboveStatusLines(pub StatusLines);

pub struct Writer(StatusLines);

impl Write for Writer {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0
            .lines
            .suspend(|| std::io::stderr().write_all(buf))
            .map(|()| buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        std::io::stderr().flush()
    }
}

impl<'a> MakeWriter<'a> for AboveStatusLines {
    type Writer = Writer;

    fn make_writer(&'a self) -> Writer {
        Writer(self.0.clone())
    }
}
