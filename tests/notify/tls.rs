//! Slack and webhook deliveries trust the system's certificate store, as the AWS
//! calls do: a receiver behind a private CA (or a TLS-inspecting proxy) is reached
//! once that CA is trusted, here through `SSL_CERT_FILE`. Bundled roots would
//! refuse it whatever the machine trusts.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};

use crate::support::cli::*;
use crate::support::tools;

/// tests/support/https_receiver.py: HTTPS on 127.0.0.1 with a private CA's certificate.
struct Receiver {
    child: Child,
    port: u16,
}

impl Receiver {
    fn start(dir: &Path) -> Receiver {
        let mut child = tools::python()
            .arg(tools::root().join("tests/support/https_receiver.py"))
            .arg(dir)
            .stdout(Stdio::piped())
            .spawn()
            .expect("the receiver starts");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let port = line.trim().parse().expect("the receiver prints its port");
        Receiver { child, port }
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn notify(dir: &Path, port: u16, extra_env: &[(String, String)]) -> Run {
    let config = dir.join("driftd.toml");
    std::fs::write(
        &config,
        format!("[notify.webhook]\nurl = \"https://127.0.0.1:{port}/hook\"\nsecret = \"s3cr3t\"\n"),
    )
    .unwrap();
    let mut env = vec![database_env(&dir.join("driftd.db"))];
    env.extend_from_slice(extra_env);
    driftd_with_env(
        &[
            "report",
            "--config",
            config.to_str().unwrap(),
            "--state",
            CHAIN_STATE,
            "--live",
            "examples/live/describe-security-groups.json",
            "--notify",
            "--notify-timeout",
            "2s",
        ],
        &env,
    )
}

#[test]
fn a_receiver_behind_a_private_ca_is_reached_once_the_system_trusts_it() {
    let dir = tempfile::tempdir().unwrap();
    let receiver = Receiver::start(dir.path());
    let received = dir.path().join("received.jsonl");

    // Not trusted: refused, and the log says why (not only "error sending request").
    let untrusted = notify(dir.path(), receiver.port, &[]);
    assert_eq!(untrusted.code, 2, "{}", untrusted.stderr);
    assert!(!received.exists(), "delivered to an untrusted receiver");
    assert!(
        untrusted.stderr.contains("UnknownIssuer") || untrusted.stderr.contains("certificate"),
        "the cause of the failure is logged:\n{}",
        untrusted.stderr
    );

    // Trusted through the system's store: the message waiting in the outbox goes.
    let ca = dir.path().join("ca.pem");
    let trusted = notify(
        dir.path(),
        receiver.port,
        &[("SSL_CERT_FILE".into(), ca.to_str().unwrap().into())],
    );
    assert_eq!(trusted.code, 2, "{}", trusted.stderr);
    let bodies = std::fs::read_to_string(&received).expect("delivered");
    assert_eq!(bodies.lines().count(), 1, "{bodies}");
    assert!(bodies.contains("driftd.notification/v1"), "{bodies}");
}

/// The receiver really is TLS with that CA: Python's own client agrees.
#[test]
fn the_receiver_is_only_trusted_with_its_ca() {
    let dir = tempfile::tempdir().unwrap();
    let receiver = Receiver::start(dir.path());
    let check = |cafile: &str| {
        Command::new(tools::root().join(".venv/bin/python"))
            .args([
                "-c",
                "import ssl, sys, urllib.request\n\
                 ctx = ssl.create_default_context(cafile=sys.argv[2] or None)\n\
                 urllib.request.urlopen(urllib.request.Request(sys.argv[1], data=b'{}'), context=ctx)",
                &format!("https://127.0.0.1:{}/hook", receiver.port),
                cafile,
            ])
            .output()
            .unwrap()
            .status
            .success()
    };
    assert!(check(dir.path().join("ca.pem").to_str().unwrap()));
    assert!(!check(""));
}
