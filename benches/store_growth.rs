//! Database growth (issue 5): 1,000 consecutive unchanged scans of 10,000 rules
//! must grow the database by less than 1 MB in total, and a scan that changes one
//! rule must grow it by the size of that change, not of all rules.
//!
//! Sizes are of the database file after a WAL checkpoint, so they do not depend on
//! the build profile: `scripts/bench-store.sh` runs this in the dev profile.
//!
//! Usage: store_growth [SCANS] [GROUPS] [RULES_PER_GROUP]   (defaults: 1000 1000 10)

use std::time::Instant;

use chrono::{Duration, TimeZone, Utc};
use driftd::model::{Direction, LiveView, Peer, Protocol, Rule, SecurityGroup};
use driftd::report::{Inventory, Report};
use driftd::store::{OpenMode, ScanRecord, Store};

fn arg(n: usize, default: usize) -> usize {
    std::env::args()
        .nth(n)
        .and_then(|a| a.parse().ok())
        .unwrap_or(default)
}

fn view(groups: usize, rules_per_group: usize) -> LiveView {
    let groups: Vec<SecurityGroup> = (0..groups)
        .map(|i| {
            let mut g = SecurityGroup::new(format!("sg-{i:017x}"));
            g.name = Some(format!("service-{i}"));
            g.description = Some(format!("service {i} tasks"));
            g.vpc_id = Some("vpc-0c0ffee1234567890".into());
            g.account_id = Some("123456789012".into());
            g.region = Some("us-east-1".into());
            g
        })
        .collect();
    let rules = groups
        .iter()
        .flat_map(|g| {
            (0..rules_per_group).map(move |r| {
                let direction = if r % 3 == 0 {
                    Direction::Egress
                } else {
                    Direction::Ingress
                };
                let peer = Peer::ipv4(&format!("10.{}.{}.0/24", r / 250, r % 250)).unwrap();
                Rule::new(
                    &g.id,
                    direction,
                    Protocol::Tcp,
                    Some(1000 + r as i64),
                    Some(1000 + r as i64),
                    peer,
                    Some("from the service mesh"),
                )
                .unwrap()
                .with_rule_id(Some(&format!("sgr-{:017x}", r)))
            })
        })
        .collect();
    LiveView {
        groups,
        rules,
        scopes: vec![],
    }
}

fn report(n: usize) -> Report {
    let at = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap() + Duration::minutes(10 * n as i64);
    Report::new(
        format!("scan-{n:05}"),
        at,
        at,
        vec![],
        Default::default(),
        Inventory::default(),
        vec![],
    )
}

fn main() {
    let scans = arg(1, 1000);
    let groups = arg(2, 1000);
    let rules_per_group = arg(3, 10);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("growth.db");
        let store = Store::open(&format!("sqlite://{}", db.display()), OpenMode::Create)
            .await
            .unwrap();
        let size = || std::fs::metadata(&db).unwrap().len();
        let mut live = view(groups, rules_per_group);
        let intent = Default::default();
        let mut n = 0;
        let mut record = async |live: &LiveView| {
            let report = report(n);
            n += 1;
            let started = Instant::now();
            store
                .record(ScanRecord {
                    report: &report,
                    intent: &intent,
                    live,
                    routing: &Default::default(),
                })
                .await
                .unwrap();
            started.elapsed()
        };

        record(&live).await;
        store.checkpoint().await.unwrap();
        let first = size();
        println!(
            "first scan ({} groups, {} rules): database {} bytes",
            groups,
            live.rules.len(),
            first
        );

        let mut times = Vec::with_capacity(scans);
        for _ in 0..scans {
            times.push(record(&live).await);
        }
        store.checkpoint().await.unwrap();
        let after_unchanged = size();
        times.sort();
        println!(
            "{scans} unchanged scans: +{} bytes in total ({:.0} bytes per scan); target < 1 MB: {}",
            after_unchanged - first,
            (after_unchanged - first) as f64 / scans as f64,
            if after_unchanged - first < 1_000_000 {
                "met"
            } else {
                "NOT met"
            }
        );
        println!(
            "store time per unchanged scan: median {:?}, max {:?}",
            times[times.len() / 2],
            times[times.len() - 1]
        );

        let middle = live.rules.len() / 2;
        live.rules[middle].to_port = Some(9999);
        record(&live).await;
        store.checkpoint().await.unwrap();
        let after_change = size();
        println!(
            "one changed rule: +{} bytes ({:.2}% of the first scan's {} bytes)",
            after_change - after_unchanged,
            100.0 * (after_change - after_unchanged) as f64 / first as f64,
            first
        );
        let scans_stored = store.scan_count().await.unwrap();
        println!("scans stored: {scans_stored}");
        store.close().await;
    });
}
