//! Database growth (issue 5): 1,000 consecutive unchanged scans of 10,000 rules
//! must grow the database by less than 1 MB in total, and a scan that changes one
//! rule must grow it by the size of that change, not of all rules.
//!
//! Sizes are of the database file after a WAL checkpoint, so they do not depend on
//! the build profile: `scripts/bench-store.sh` runs this in the dev profile. With
//! `DRIFTD_BENCH_DATABASE_URL` (a PostgreSQL database, `scripts/bench-store.sh
//! --postgres`) the store is there and sizes are `pg_database_size`.
//!
//! Usage: store_growth [SCANS] [GROUPS] [RULES_PER_GROUP]   (defaults: 1000 1000 10)

use std::time::Instant;

use driftd::model::LiveView;
use driftd::store::{OpenMode, ScanRecord, Store};

#[path = "../../../tests/support/views.rs"]
mod views;
use views::{report, view};

fn arg(n: usize, default: usize) -> usize {
    std::env::args()
        .nth(n)
        .and_then(|a| a.parse().ok())
        .unwrap_or(default)
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
        let url = std::env::var("DRIFTD_BENCH_DATABASE_URL")
            .unwrap_or_else(|_| format!("sqlite://{}", db.display()));
        let store = Store::open(&url, OpenMode::Create).await.unwrap();
        println!("store: {}", store.path().display());
        let size = async || match store.size().await.unwrap() {
            Some(bytes) => bytes,
            None => std::fs::metadata(&db).unwrap().len(),
        };
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
                    scope: None,
                    compose: &|_, _| Vec::new(),
                })
                .await
                .unwrap();
            started.elapsed()
        };

        record(&live).await;
        store.checkpoint().await.unwrap();
        let first = size().await;
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
        let after_unchanged = size().await;
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
        let after_change = size().await;
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
