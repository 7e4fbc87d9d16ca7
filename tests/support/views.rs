//! Synthetic live views and empty reports for the store's growth test and
//! benchmark (`tests/store/database.rs`, `tools/bench/benches/store_growth.rs`).
#![allow(dead_code)]

use chrono::{Duration, TimeZone, Utc};
use driftd::model::{Direction, LiveView, Peer, Protocol, Rule, SecurityGroup};
use driftd::report::{Compared, Report};

/// `groups` groups of `rules_per_group` rules each, in one account and region.
pub fn view(groups: usize, rules_per_group: usize) -> LiveView {
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
        ..LiveView::default()
    }
}

/// A report without findings for scan number `n`, finished `10 * n` minutes
/// after 2026-01-01.
pub fn report(n: usize) -> Report {
    let at = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap() + Duration::minutes(10 * n as i64);
    Report::new(
        format!("scan-{n}"),
        at,
        at,
        vec![],
        Default::default(),
        Compared::default(),
        vec![],
    )
}
