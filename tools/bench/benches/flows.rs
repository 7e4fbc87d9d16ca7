//! `[[flow]]` evaluation (no harness: `cargo bench -p driftd-bench --bench flows`).
//!
//! 100 flows over 10,000 interfaces and 100,000 rules (`DRIFTD_BENCH_FLOWS`,
//! `DRIFTD_BENCH_INTERFACES`; 10 rules a group, one group an interface): the diff
//! with the flows against the same diff without them; the difference is what the
//! flows cost. Target (issue 21): < 50 ms. Runs: `DRIFTD_BENCH_RUNS` (10).

use std::time::{Duration, Instant};

use driftd::diff::{DiffInput, DiffOptions, diff};
use driftd::model::{
    Direction, FindingCode, Flow, Intent, LiveView, NetworkInterface, Peer, Protocol, Rule, Scope,
    SecurityGroup,
};
use driftd::sources::{SourceKind, SourceStatus};

const ACCOUNT: &str = "123456789012";
const REGION: &str = "us-east-1";

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn group(i: usize) -> String {
    format!("sg-{i:017x}")
}

/// Group `i` allows tcp 8000+k from group i-1 and to group i+1 (k < 5 each way),
/// carried by one interface of its own.
fn live(interfaces: usize) -> LiveView {
    let mut live = LiveView {
        scopes: vec![Scope {
            account_id: Some(ACCOUNT.into()),
            region: Some(REGION.into()),
        }],
        ..LiveView::default()
    };
    live.interface_scopes = live.scopes.clone();
    for i in 0..interfaces {
        let id = group(i);
        live.groups.push(SecurityGroup {
            account_id: Some(ACCOUNT.into()),
            region: Some(REGION.into()),
            name: Some(format!("service-{i}")),
            ..SecurityGroup::new(&id)
        });
        for k in 0..5 {
            let port = 8000 + k;
            let peer = |j: usize| Peer::group(&group(j % interfaces));
            let rule = |direction, peer| {
                Rule::new(
                    id.as_str(),
                    direction,
                    Protocol::Tcp,
                    Some(port),
                    Some(port),
                    peer,
                    None,
                )
                .expect("a valid rule")
            };
            live.rules
                .push(rule(Direction::Ingress, peer(i + interfaces - 1)));
            live.rules.push(rule(Direction::Egress, peer(i + 1)));
        }
        live.interfaces.push(NetworkInterface {
            id: format!("eni-{i:017x}"),
            groups: vec![id],
            private_ips: vec![format!("10.{}.{}.{}", i / 65536, (i / 256) % 256, i % 256)],
            account_id: Some(ACCOUNT.into()),
            region: Some(REGION.into()),
            ..NetworkInterface::default()
        });
    }
    live
}

fn main() {
    let flows = env_usize("DRIFTD_BENCH_FLOWS", 100);
    let interfaces = env_usize("DRIFTD_BENCH_INTERFACES", 10_000);
    let runs = env_usize("DRIFTD_BENCH_RUNS", 10);
    let live = live(interfaces);
    let intent = Intent::default();
    let sources = vec![SourceStatus::ok(
        SourceKind::Ec2,
        &format!("{ACCOUNT}/{REGION}"),
    )];
    // Half the flows hold (i → i+1 on 8000), half are blocked (i → i+2).
    let declared: Vec<Flow> = (0..flows)
        .map(|f| {
            let from = f * (interfaces / flows.max(1));
            let to = from + 1 + f % 2;
            Flow {
                name: format!("flow-{f}"),
                from: group(from % interfaces),
                to: group(to % interfaces),
                protocol: Protocol::Tcp,
                port: Some(8000),
            }
        })
        .collect();
    let run = |flows: Vec<Flow>| {
        let options = DiffOptions {
            flows,
            ..DiffOptions::default()
        };
        let mut times: Vec<Duration> = Vec::new();
        let mut broken = 0;
        for _ in 0..runs.max(1) {
            let started = Instant::now();
            let outcome = diff(&DiffInput {
                intent: &intent,
                live: &live,
                stack_drifts: &[],
                sources: &sources,
                options: &options,
            });
            times.push(started.elapsed());
            broken = outcome
                .findings
                .iter()
                .filter(|f| f.code == FindingCode::FlowBroken)
                .count();
        }
        times.sort();
        (times[times.len() / 2], broken)
    };
    let (without, _) = run(Vec::new());
    let (with, broken) = run(declared);
    println!(
        "flows: {flows} flows over {interfaces} interfaces and {} rules: diff {:.1} ms with the flows, \
         {:.1} ms without: the flows cost {:.1} ms (target < 50 ms); {broken} broken (expected {})",
        live.rules.len(),
        with.as_secs_f64() * 1e3,
        without.as_secs_f64() * 1e3,
        with.saturating_sub(without).as_secs_f64() * 1e3,
        flows / 2,
    );
}
