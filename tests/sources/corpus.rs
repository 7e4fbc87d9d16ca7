//! The shared real-world corpus (../shared/corpus): states and captures from public
//! projects, with the quirks that break naive readers. Read by path, never copied;
//! skipped with a message where the corpus is not beside this checkout.

use std::path::{Path, PathBuf};

use driftd::diff::{DiffInput, DiffOptions, diff};
use driftd::model::LiveView;
use driftd::sources::live_file::{combine, load_file as load_capture};
use driftd::sources::terraform::{StateError, load_file};

fn corpus(dir: &str) -> Option<Vec<PathBuf>> {
    let path = Path::new("../shared/corpus").join(dir);
    if !path.exists() {
        eprintln!("skipped: {} is not beside this checkout", path.display());
        return None;
    }
    let mut files: Vec<PathBuf> = std::fs::read_dir(path)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    Some(files)
}

fn state(name: &str) -> PathBuf {
    Path::new("../shared/corpus/tfstate").join(name)
}

#[test]
fn every_format_4_state_reads_and_older_formats_are_refused() {
    let Some(files) = corpus("tfstate") else {
        return;
    };
    let (mut read, mut refused) = (0, 0);
    for file in &files {
        let text = std::fs::read_to_string(file).unwrap();
        let version = serde_json::from_str::<serde_json::Value>(&text).unwrap()["version"]
            .as_u64()
            .unwrap();
        match load_file(file) {
            Ok(intent) => {
                assert_eq!(version, 4, "{}", file.display());
                read += 1;
                let has_sg = text.contains("\"aws_security_group");
                assert_eq!(
                    has_sg,
                    !(intent.groups.is_empty()
                        && intent.rules.is_empty()
                        && intent.reads.is_empty()),
                    "{}: security-group resources must not vanish",
                    file.display()
                );
            }
            Err(StateError::Version { version: v, .. }) => {
                assert_eq!(v, version);
                assert_ne!(version, 4);
                refused += 1;
            }
            Err(e) => panic!("{}: {e}", file.display()),
        }
    }
    assert_eq!((read, refused), (25, 5));
}

#[test]
fn legacy_flat_attributes_are_read_not_emptied() {
    let Some(_) = corpus("tfstate") else { return };
    let intent = load_file(&state("008.tfstate")).unwrap();
    assert_eq!(intent.groups.len(), 21);
    assert!(
        intent
            .groups
            .iter()
            .all(|g| g.group.id.starts_with("sg-") && g.group.vpc_id.is_some())
    );
    assert!(
        intent.rules.iter().any(|r| r.rule.from_port == Some(22)),
        "ports read from strings"
    );
}

/// Inline lists refreshed with the rule resources' rules: counted once.
#[test]
fn refreshed_inline_lists_are_counted_once() {
    let Some(_) = corpus("tfstate") else { return };
    let cases = [("001.tfstate", 2, 11), ("004.tfstate", 5, 13)];
    for (name, groups, rules) in cases {
        let intent = load_file(&state(name)).unwrap();
        let outcome = diff(&DiffInput {
            intent: &intent,
            live: &LiveView::default(),
            stack_drifts: &[],
            sources: &[],
            options: &DiffOptions::default(),
        });
        assert_eq!(
            (outcome.managed_groups, outcome.declared_rules),
            (groups, rules),
            "{name}"
        );
        assert!(
            outcome
                .findings
                .iter()
                .all(|f| f.code.as_str() != "owner-conflict"),
            "{name}"
        );
    }
}

#[test]
fn all_protocol_ports_mean_no_ports() {
    let Some(_) = corpus("tfstate") else { return };
    // 004: protocol -1 with from_port 0 / to_port 65535 in a rule resource.
    let intent = load_file(&state("004.tfstate")).unwrap();
    for rule in intent
        .rules
        .iter()
        .filter(|r| r.rule.protocol == driftd::model::Protocol::All)
    {
        assert_eq!((rule.rule.from_port, rule.rule.to_port), (None, None));
    }
}

#[test]
fn every_captured_describe_output_reads() {
    let Some(files) = corpus("live") else { return };
    for file in &files {
        let capture = load_capture(file).unwrap_or_else(|e| panic!("{e}"));
        let live = combine(vec![capture], &[]);
        assert!(!live.groups.is_empty(), "{}", file.display());
    }
    let big = combine(vec![load_capture(&files[0]).unwrap()], &[]);
    assert_eq!(big.groups.len(), 566);
}

/// A live capture against no state: every group unmanaged (but `default`), and
/// references across peering or into other accounts are never called dangling.
#[test]
fn captures_alone_do_not_invent_dangling_references() {
    let Some(files) = corpus("live") else { return };
    let live = combine(vec![load_capture(&files[0]).unwrap()], &[]);
    let outcome = diff(&DiffInput {
        intent: &Default::default(),
        live: &live,
        stack_drifts: &[],
        sources: &[],
        options: &DiffOptions::default(),
    });
    for finding in outcome
        .findings
        .iter()
        .filter(|f| f.code.as_str() == "reference-dangling")
    {
        let rule = finding.actual.as_ref().unwrap();
        assert!(!rule.peer_via_peering, "{}", finding.message);
    }
    let unmanaged = outcome
        .findings
        .iter()
        .filter(|f| f.code.as_str() == "sg-unmanaged")
        .count();
    let defaults = live
        .groups
        .iter()
        .filter(|g| g.name.as_deref() == Some("default"))
        .count();
    assert_eq!(unmanaged, live.groups.len() - defaults);
}
