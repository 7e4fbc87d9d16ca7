//! Parse and diff throughput (no harness: `cargo bench -p driftd-bench --bench
//! parse_and_diff`).
//!
//! 1. parse: `terraform::parse_state` on a generated state of `DRIFTD_BENCH_SIZE_MB`
//!    (default 100) MB, or on the file named by `DRIFTD_BENCH_STATE`;
//! 2. diff: 100,000 declared rules on 2,000 managed groups against 100,000 live
//!    rules, with about 2.5% drift (`DRIFTD_BENCH_GROUPS`, `DRIFTD_BENCH_RULES_PER_GROUP`);
//! 3. the generated state against its generated live capture: zero drift.
//!
//! Arguments `parse`, `state-diff`, `diff` run only those parts (`cargo bench -p
//! driftd-bench --bench parse_and_diff -- diff`). Runs: `DRIFTD_BENCH_PARSE_RUNS` (5),
//! `DRIFTD_BENCH_DIFF_RUNS` (10). With `DRIFTD_BENCH_STATE`, `DRIFTD_BENCH_LIVE` names
//! its capture for part 3. Targets (issue):
//! parse 100 MB < 1 s, diff 100k × 100k < 100 ms, release build on 2 cores.

use std::time::{Duration, Instant};

use driftd::diff::{DiffInput, DiffOptions, diff};
use driftd::model::{
    DeclaredGroup, DeclaredRule, Direction, FindingCode, Intent, LiveView, Owner, Peer, Protocol,
    Rule, Scope, SecurityGroup, Tags, share_group_ids,
};
use driftd::sources::{SourceKind, SourceStatus, live_file, terraform};

use gen_state::{ACCOUNT, REGION, Rng, aws_id};

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Runs `f` `runs` times; returns (median, min) and the last result.
fn time<T>(runs: usize, mut f: impl FnMut() -> T) -> (Duration, Duration, T) {
    let mut times = Vec::with_capacity(runs);
    let mut last = None;
    for _ in 0..runs.max(1) {
        let started = Instant::now();
        let out = f();
        times.push(started.elapsed());
        // Drop the previous result outside the timed region.
        drop(last.replace(out));
    }
    times.sort();
    (
        times[times.len() / 2],
        times[0],
        last.expect("at least one run"),
    )
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

fn mb(bytes: usize) -> f64 {
    bytes as f64 / (1024.0 * 1024.0)
}

fn verdict(ok: bool) -> &'static str {
    if ok { "ok" } else { "OVER TARGET" }
}

fn main() {
    // `cargo bench` passes `--bench`; arguments `parse`, `state-diff`, `diff` select parts.
    let filter: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    let wanted = |part: &str| filter.is_empty() || filter.iter().any(|f| f == part);
    let parse_runs = env_usize("DRIFTD_BENCH_PARSE_RUNS", 5);
    let diff_runs = env_usize("DRIFTD_BENCH_DIFF_RUNS", 10);

    if wanted("parse") || wanted("state-diff") {
        bench_state(parse_runs, diff_runs, wanted("state-diff"));
    }
    if wanted("diff") {
        bench_diff(diff_runs);
    }
}

// ---------------------------------------------------------------------------
// 1 and 3: a generated (or given) state.

fn bench_state(parse_runs: usize, diff_runs: usize, with_diff: bool) {
    let (location, bytes, live) = match std::env::var("DRIFTD_BENCH_STATE") {
        Ok(path) => {
            let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
            let live = std::env::var("DRIFTD_BENCH_LIVE").ok().map(|p| {
                (
                    p.clone(),
                    std::fs::read(&p).unwrap_or_else(|e| panic!("{p}: {e}")),
                )
            });
            (path, bytes, live)
        }
        Err(_) => {
            let size_mb = env_usize("DRIFTD_BENCH_SIZE_MB", 100);
            let started = Instant::now();
            let mut state = Vec::with_capacity(size_mb * 1_100_000);
            let mut live = Vec::new();
            let stats = gen_state::generate(
                &gen_state::Options {
                    target_bytes: size_mb as u64 * 1024 * 1024,
                    seed: 42,
                },
                &mut state,
                Some(&mut live),
            )
            .expect("generate into memory");
            println!(
                "generated state: {:.1} MB, {} groups, {} API rules, security-group resources {:.0}% of bytes; live {:.1} MB ({:.2} s)",
                mb(state.len()),
                stats.groups,
                stats.api_rules,
                100.0 * stats.sg_bytes as f64 / (stats.sg_bytes + stats.other_bytes) as f64,
                mb(live.len()),
                started.elapsed().as_secs_f64()
            );
            (
                "bench.tfstate".to_string(),
                state,
                Some(("live.json".to_string(), live)),
            )
        }
    };

    let (median, min, intent) = time(parse_runs, || {
        terraform::parse_state(&location, &bytes).expect("the state parses")
    });
    let size = mb(bytes.len());
    println!(
        "parse: {size:.1} MB state, {} runs: median {:.1} ms ({:.0} MB/s), min {:.1} ms; {} groups, {} rules, {} reads [{}: < 1 s per 100 MB]",
        parse_runs,
        ms(median),
        size / median.as_secs_f64(),
        ms(min),
        intent.groups.len(),
        intent.rules.len(),
        intent.reads.len(),
        verdict(median.as_secs_f64() * 100.0 / size < 1.0),
    );

    let Some((live_location, live_bytes)) = live.filter(|_| with_diff) else {
        return;
    };
    let (median, _, capture) = time(parse_runs, || {
        live_file::parse_capture(&live_location, &live_bytes).expect("the capture parses")
    });
    println!(
        "parse live: {:.1} MB capture: median {:.1} ms ({:.0} MB/s)",
        mb(live_bytes.len()),
        ms(median),
        mb(live_bytes.len()) / median.as_secs_f64()
    );
    let live = live_file::combine(vec![capture], &[]);
    let sources = [
        SourceStatus::ok(SourceKind::Terraform, &location),
        SourceStatus::ok(SourceKind::LiveFile, &live_location),
    ];
    let options = DiffOptions::default();
    let input = DiffInput {
        intent: &intent,
        live: &live,
        stack_drifts: &[],
        sources: &sources,
        options: &options,
    };
    let (median, min, outcome) = time(diff_runs, || diff(&input));
    println!(
        "diff state vs its capture: {} declared x {} live rules, {} runs: median {:.1} ms, min {:.1} ms; {} findings (expected 0)",
        outcome.declared_rules,
        live.rules.len(),
        diff_runs,
        ms(median),
        ms(min),
        outcome.findings.len()
    );
}

// ---------------------------------------------------------------------------
// 2: 100,000 declared × 100,000 live rules built in memory.

struct DiffCase {
    intent: Intent,
    live: LiveView,
    /// Drift put in: (ports changed, descriptions changed, removed, added).
    drift: (usize, usize, usize, usize),
}

fn build_diff_case(groups: usize, rules_per_group: usize, seed: u64) -> DiffCase {
    let mut rng = Rng::new(seed);
    let location = "bench.tfstate";
    let ids: Vec<String> = (0..groups as u64).map(|g| aws_id("sg", g + 1)).collect();
    let mut intent = Intent::default();
    let mut live = LiveView {
        scopes: vec![Scope {
            account_id: None,
            region: None,
        }],
        ..LiveView::default()
    };
    let mut drift = (0, 0, 0, 0);
    let default_tags: Tags = [
        ("ManagedBy".to_string(), "terraform".to_string()),
        ("env".to_string(), "prod".to_string()),
    ]
    .into();
    let ingress = (rules_per_group * 7).div_ceil(10);
    let mut rule_no = 0u64;
    for (g, id) in ids.iter().enumerate() {
        let module = format!("module.svc_{}", g / 4);
        let key = ["lb", "app", "db", "cache"][g % 4];
        let group = SecurityGroup {
            id: id.clone(),
            name: Some(format!("svc-{}-{key}", g / 4)),
            description: Some(format!("{key} tier")),
            vpc_id: Some(aws_id("vpc", (g % 20) as u64)),
            tags: Some(
                [
                    ("Name".to_string(), format!("svc-{}-{key}", g / 4)),
                    ("team".to_string(), "platform".to_string()),
                ]
                .into(),
            ),
            account_id: Some(ACCOUNT.to_string()),
            region: Some(REGION.to_string()),
        };
        let group_address = format!("{module}.aws_security_group.this[\"{key}\"]");
        intent.groups.push(DeclaredGroup {
            group: group.clone(),
            owner: Owner::terraform(location, group_address.clone()),
        });
        live.groups.push(group);
        // How this group's rules are declared: inline, aws_security_group_rule, VPC rules.
        let style = g % 3;
        for j in 0..rules_per_group {
            rule_no += 1;
            let direction = if j < ingress {
                Direction::Ingress
            } else {
                Direction::Egress
            };
            // Identities distinct within the group by construction (j in the peer or port).
            let (protocol, port, peer) = match rng.below(20) {
                0..=13 => (
                    Protocol::Tcp,
                    443,
                    Peer::ipv4(&format!("10.{}.{}.0/24", j, g % 256)).expect("cidr"),
                ),
                14..=16 => (
                    Protocol::Tcp,
                    8000 + j as i64,
                    Peer::group(&ids[rng.below(groups as u64) as usize]),
                ),
                17 => (Protocol::Udp, 53, Peer::PrefixList(format!("pl-{j:08x}"))),
                18 => (
                    Protocol::Tcp,
                    5432,
                    Peer::ipv6(&format!("2600:1f18:{g:x}:{j:x}00::/56")).expect("cidr"),
                ),
                _ => (
                    Protocol::All,
                    -1,
                    Peer::ipv4(&format!("172.16.{}.0/24", j)).expect("cidr"),
                ),
            };
            let description = ["", "from the load balancer", "office VPN"][j % 3];
            let rule_id = aws_id("sgr", rule_no);
            let make = |from: i64, description: &str| {
                let (from, to) = if protocol == Protocol::All {
                    (None, None)
                } else {
                    (Some(from), Some(from))
                };
                let rule = Rule::new(
                    id,
                    direction,
                    protocol,
                    from,
                    to,
                    peer.clone(),
                    Some(description),
                )
                .expect("valid rule");
                match style {
                    0 => rule,
                    1 => rule.with_rule_id(Some(&rule_id)),
                    _ => rule
                        .with_rule_id(Some(&rule_id))
                        .with_tags(Some(default_tags.clone())),
                }
            };
            let declared = make(port, description);
            let (address, inline) = match style {
                0 => (group_address.clone(), true),
                1 => (
                    format!("{module}.aws_security_group_rule.{key}_{direction}[{j}]"),
                    false,
                ),
                _ => (
                    format!(
                        "{module}.aws_vpc_security_group_{direction}_rule.{key}[\"{rule_id}\"]"
                    ),
                    false,
                ),
            };
            intent.rules.push(DeclaredRule {
                rule: declared,
                owner: Owner::terraform(location, address),
                inline,
                account_id: None,
                region: None,
            });
            // Live side, with drift: 1% ports, 0.5% description, 0.5% removed (and as
            // many udp rules added, so live also holds 100,000).
            let mut live_rule = make(port, description).with_rule_id(Some(&rule_id));
            if style != 2 {
                live_rule = live_rule.with_tags(Some(Tags::new()));
            }
            match rng.below(1000) {
                0..=9 if protocol != Protocol::All => {
                    drift.0 += 1;
                    live_rule.from_port = Some(port as i32 + 1);
                    live_rule.to_port = Some(port as i32 + 1);
                }
                10..=14 => {
                    drift.1 += 1;
                    live_rule.description = Some("changed in the console".to_string());
                }
                15..=19 => {
                    drift.2 += 1;
                    drift.3 += 1;
                    let added = Rule::new(
                        id,
                        direction,
                        Protocol::Udp,
                        Some(5000 + j as i64),
                        Some(5000 + j as i64),
                        Peer::ipv4(&format!("192.168.{}.{}/32", g % 256, j)).expect("cidr"),
                        None,
                    )
                    .expect("valid rule")
                    .with_rule_id(Some(&aws_id("sgr", u64::MAX - rule_no)))
                    .with_tags(Some(Tags::new()));
                    live.rules.push(added);
                    continue;
                }
                _ => {}
            }
            live.rules.push(live_rule);
        }
    }
    // As the sources do (Terraform's `finish`, EC2's and captures' `live_rules`).
    share_group_ids(intent.rules.iter_mut().map(|r| &mut r.rule.group_id));
    share_group_ids(live.rules.iter_mut().map(|r| &mut r.group_id));
    DiffCase {
        intent,
        live,
        drift,
    }
}

fn bench_diff(runs: usize) {
    let groups = env_usize("DRIFTD_BENCH_GROUPS", 2_000);
    let per_group = env_usize("DRIFTD_BENCH_RULES_PER_GROUP", 50);
    let started = Instant::now();
    let case = build_diff_case(groups, per_group, 7);
    let build = started.elapsed();
    let sources = [
        SourceStatus::ok(SourceKind::Terraform, "bench.tfstate"),
        SourceStatus::ok(SourceKind::LiveFile, "live.json"),
    ];
    let options = DiffOptions::default();
    let input = DiffInput {
        intent: &case.intent,
        live: &case.live,
        stack_drifts: &[],
        sources: &sources,
        options: &options,
    };
    let (median, min, outcome) = time(runs, || diff(&input));
    let count = |code: FindingCode| outcome.findings.iter().filter(|f| f.code == code).count();
    let (ports, descriptions, removed, added) = case.drift;
    println!(
        "diff: {} declared x {} live rules on {} groups (built in {:.0} ms), {} runs: median {:.1} ms, min {:.1} ms [{}: < 100 ms]",
        case.intent.rules.len(),
        case.live.rules.len(),
        groups,
        ms(build),
        runs,
        ms(median),
        ms(min),
        verdict(median.as_secs_f64() < 0.1),
    );
    println!(
        "diff findings: {} (rule-modified {}, rule-removed {}, rule-added {}, other {}); drift put in: {} ports + {} descriptions changed, {} removed, {} added",
        outcome.findings.len(),
        count(FindingCode::RuleModified),
        count(FindingCode::RuleRemoved),
        count(FindingCode::RuleAdded),
        outcome.findings.len()
            - count(FindingCode::RuleModified)
            - count(FindingCode::RuleRemoved)
            - count(FindingCode::RuleAdded),
        ports,
        descriptions,
        removed,
        added,
    );
}
