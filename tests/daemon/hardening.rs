//! `serve` through production's bad days: an AWS endpoint that never answers, a scan
//! past its deadline, a full disk under the database, a thousand slow clients, and a
//! crafted state. Each time the daemon stays up, says what happened, and goes on
//! with the next scan.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use crate::support::cli::*;
use crate::support::region_gate::Silent;
use crate::support::service::{Service, metric};
use serde_json::Value;

const EVERY_SECOND: &str = "\n[[schedule]]\ncron = \"* * * * * *\"\n";

#[test]
fn a_scan_past_its_deadline_is_abandoned_and_the_next_one_runs() {
    let silent = Silent::start();
    // Calls may wait a minute; the scan may take 2 s.
    let service = Service::start_with(
        "timeout = \"2s\"",
        &format!("\n[aws]\nread_timeout = \"60s\"\ncall_timeout = \"120s\"\n{EVERY_SECOND}"),
        &[("AWS_ENDPOINT_URL", &silent.endpoint())],
    );
    let abandoned = service.wait_for_log("scan abandoned", 2, Duration::from_secs(60));
    assert!(
        abandoned["fields"]["error"]
            .as_str()
            .unwrap()
            .contains("the scan did not finish within 2s ([scan] timeout)"),
        "{abandoned}"
    );
    assert_eq!(service.get("/healthz"), (200, "ok\n".into()));
    let (_, metrics) = service.get("/metrics");
    assert!(metric(&metrics, "driftd_scans_total{outcome=\"failed\"}") >= 2.0);
    assert_eq!(service.get("/report").0, 503, "no scan finished");
    assert!(service.messages("scan stored").is_empty());
}

#[test]
fn a_hung_endpoint_makes_partial_scans_that_say_so() {
    let silent = Silent::start();
    let service = Service::start(
        &format!("\n[aws]\nread_timeout = \"1s\"\ncall_timeout = \"2s\"\n{EVERY_SECOND}"),
        &[("AWS_ENDPOINT_URL", &silent.endpoint())],
    );
    service.wait_for_log("scan stored", 2, Duration::from_secs(60));
    let (status, report) = service.get("/report");
    assert_eq!(status, 200);
    let report: Value = serde_json::from_str(&report).unwrap();
    assert_valid_report(&report);
    assert_eq!(report["scan"]["complete"], false);
    let findings = drift(&report);
    assert_eq!(codes(&findings), ["source-error"], "nothing called missing");
    let message = findings[0]["message"].as_str().unwrap();
    assert!(
        message.contains("DescribeSecurityGroups") && message.contains("timeout"),
        "{message}"
    );
    let (_, metrics) = service.get("/metrics");
    assert!(metric(&metrics, "driftd_scans_total{outcome=\"partial\"}") >= 2.0);
}

/// A small filesystem for the database: a tmpfs where this process may mount one
/// (root, as CI runs), unmounted when dropped.
struct SmallDisk {
    dir: PathBuf,
}

impl SmallDisk {
    fn mount(dir: &Path) -> Option<SmallDisk> {
        let dir = dir.join("small-disk");
        std::fs::create_dir(&dir).unwrap();
        let mounted = Command::new("mount")
            .args(["-t", "tmpfs", "-o", "size=4m", "tmpfs"])
            .arg(&dir)
            .stderr(std::process::Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        mounted.then_some(SmallDisk { dir })
    }

    /// Writes until the filesystem is full.
    fn fill(&self) {
        let mut ballast = std::fs::File::create(self.dir.join("ballast")).unwrap();
        let chunk = vec![0u8; 64 * 1024];
        while ballast.write_all(&chunk).is_ok() {}
        let _ = ballast.sync_all();
    }

    fn free(&self) {
        std::fs::remove_file(self.dir.join("ballast")).unwrap();
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.dir).status();
    }
}

/// A real full disk under the database, where a tmpfs can be mounted (else the
/// seam below).
#[test]
fn the_first_scan_after_a_full_disk_is_stored() {
    let dir = tempfile::tempdir().unwrap();
    let disk = SmallDisk::mount(dir.path());
    if disk.is_none() {
        eprintln!("no tmpfs can be mounted here (not root?): this run uses the fault seam");
    }
    full_disk_then_space_again(disk, dir.path());
}

/// The store's fault seam makes the scan's transaction end as a COMMIT on a full
/// disk does (`fail_like_a_full_disk_for_tests` in `src/store/mod.rs`): the same
/// rollback path, without mounting anything.
#[test]
fn the_first_scan_after_a_full_disk_is_stored_through_the_fault_seam() {
    let dir = tempfile::tempdir().unwrap();
    full_disk_then_space_again(None, dir.path());
}

/// Runs `serve` every second, fills the disk until two scans could not be stored,
/// frees it, and expects every scan that starts afterwards to be stored. Before the
/// fix, every later scan failed with "attempted to call begin_with at non-zero
/// transaction depth".
fn full_disk_then_space_again(disk: Option<SmallDisk>, dir: &Path) {
    let flag = dir.join("disk-full");
    let db = match &disk {
        Some(disk) => disk.dir.join("driftd.db"),
        None => dir.join("driftd.db"),
    };
    let url = format!("sqlite://{}", db.display());
    let mut service = Service::start(
        EVERY_SECOND,
        &[
            ("DRIFTD_DATABASE_URL", &url),
            ("DRIFTD_FAULT_DISK_FULL", flag.to_str().unwrap()),
        ],
    );
    service.wait_for_log("scan stored", 1, Duration::from_secs(60));
    match &disk {
        Some(disk) => disk.fill(),
        None => std::fs::write(&flag, b"").unwrap(),
    }
    // Two scans fail to store, as when serve used to stop storing for good.
    let failed = service.wait_for_log("could not store the scan", 2, Duration::from_secs(60));
    assert!(
        failed["fields"]["error"]
            .as_str()
            .unwrap()
            .contains("database or disk is full"),
        "{failed}"
    );
    match &disk {
        Some(disk) => disk.free(),
        None => std::fs::remove_file(&flag).unwrap(),
    }
    // The scan running while space came back may fail; every one after is stored.
    // (A scan logs its storing before "scan done": the counts below are settled.)
    let scans_at_free = service.messages("scan done").len();
    service.wait_for_log("scan done", scans_at_free + 1, Duration::from_secs(60));
    let failures = service.messages("could not store the scan").len();
    let stored = service.messages("scan stored").len();
    service.wait_for_log("scan done", scans_at_free + 3, Duration::from_secs(60));
    assert_eq!(
        service.messages("could not store the scan").len(),
        failures,
        "a scan failed to store after space came back"
    );
    assert_eq!(service.messages("scan stored").len(), stored + 2);
    let logs = service.logs.lock().unwrap().clone();
    assert!(
        logs.iter()
            .all(|l| !l.to_string().contains("non-zero transaction depth")),
        "{logs:#?}"
    );
    let (code, _) = service.terminate();
    assert_eq!(code, Some(0));
    drop(disk);
}

#[test]
fn a_thousand_slow_clients_neither_starve_health_checks_nor_stay_open() {
    // No scan during the test: a yearly schedule, none at start.
    let service = Service::start(
        "header_timeout = \"2s\"\nscan_on_start = false\n\n[[schedule]]\ncron = \"0 0 0 1 1 *\"\n",
        &[],
    );
    // Each sends part of a request's headers, then nothing.
    let mut slow = Vec::new();
    for _ in 0..1_000 {
        let mut stream = TcpStream::connect(&service.address).unwrap();
        stream
            .write_all(b"GET /healthz HTTP/1.1\r\nHost: driftd\r\n")
            .unwrap();
        slow.push(stream);
    }
    for _ in 0..5 {
        assert_eq!(service.get("/healthz"), (200, "ok\n".into()));
    }
    // The server holds at most its cap (256 by default) of them, beside the
    // database, the listener and its own pipes (about 20). On a loaded machine it
    // may still be accepting (and closing) the last ones: it gets a moment, well
    // inside the 2 s header timeout that would close them all anyway.
    let count = || {
        std::fs::read_dir(format!("/proc/{}/fd", service.child.id()))
            .unwrap()
            .count()
    };
    let settled = Instant::now();
    let mut descriptors = count();
    while descriptors >= 256 + 40 && settled.elapsed() < Duration::from_millis(800) {
        std::thread::sleep(Duration::from_millis(50));
        descriptors = count();
    }
    assert!(descriptors < 256 + 40, "{descriptors} open descriptors");
    // Past the header timeout every slow connection has been closed by the server.
    std::thread::sleep(Duration::from_secs(3));
    let started = Instant::now();
    for stream in &mut slow {
        stream
            .set_read_timeout(Some(Duration::from_secs(2)))
            .unwrap();
        // Closed: the end of the stream (after a 408, perhaps) or a reset.
        let mut rest = Vec::new();
        match stream.read_to_end(&mut rest) {
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => {}
            Err(e) => panic!("a slow connection is still open: {e}"),
        }
    }
    assert!(started.elapsed() < Duration::from_secs(10));
    assert_eq!(service.get("/healthz"), (200, "ok\n".into()));
}

#[test]
fn a_crafted_state_fails_its_source_and_serve_goes_on() {
    let dir = tempfile::tempdir().unwrap();
    let deep = "a.".repeat(2_499) + "a";
    let state = serde_json::json!({
        "version": 4,
        "resources": [{
            "mode": "managed",
            "type": "aws_security_group",
            "name": "deep",
            "instances": [{"attributes_flat": {"id": "sg-0d0d0d0d0d0d0d0d0", deep: "x"}}]
        }]
    });
    let path = write_json(dir.path(), "deep.tfstate", &state);
    let service = Service::start(
        &format!(
            "\n[[terraform]]\nstate = \"{}\"\n{EVERY_SECOND}",
            path.display()
        ),
        &[],
    );
    service.wait_for_log("scan done", 2, Duration::from_secs(60));
    let (status, report) = service.get("/report");
    assert_eq!(status, 200);
    let report: Value = serde_json::from_str(&report).unwrap();
    let errors: Vec<&str> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["code"] == "source-error")
        .map(|f| f["message"].as_str().unwrap())
        .collect();
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(
        errors[0].contains("has 2500 dot-separated segments; driftd reads at most 64"),
        "{}",
        errors[0]
    );
    assert_eq!(service.get("/healthz").0, 200);
}
