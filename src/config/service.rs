//! `[store]`, `[server]`, `[[schedule]]`: where history is kept and how `serve` runs.

use std::path::Path;

use super::raw::{RawSchedule, RawServer, RawStore};
use super::values::{check_region, duration, positive_duration, resolve_state};
use super::{Config, CronSchedule, MAX_DURATION_DAYS, Problems, Schedule};

pub fn store(raw: Option<RawStore>, config: &mut Config, problems: &mut Problems) {
    let Some(store) = raw else { return };
    if let Some(days) = store
        .retain_days
        .filter(|days| u64::from(*days) > MAX_DURATION_DAYS)
    {
        problems.add(
            "store.retain_days",
            format!("{days} is more than {MAX_DURATION_DAYS}, the most driftd keeps"),
        );
    }
    config.store_url = store.url;
    config.retain_days = store.retain_days;
}

pub fn server(raw: Option<RawServer>, config: &mut Config, problems: &mut Problems) {
    let Some(server) = raw else { return };
    if let Some(listen) = server.listen {
        match listen.parse() {
            Ok(address) => config.listen = Some(address),
            Err(_) => problems.add(
                "server.listen",
                format!("{listen:?} is not an address like 0.0.0.0:9090"),
            ),
        }
    }
    config.ready_max_age = problems
        .keep(duration(
            server.ready_max_age.as_deref(),
            "server.ready_max_age",
        ))
        .flatten();
    config.shutdown_grace = problems
        .keep(duration(
            server.shutdown_grace.as_deref(),
            "server.shutdown_grace",
        ))
        .flatten();
    config.header_timeout = problems
        .keep(positive_duration(
            server.header_timeout.as_deref(),
            "server.header_timeout",
        ))
        .flatten();
    if server.max_connections == Some(0) {
        problems.add("server.max_connections", "must be at least 1");
    }
    config.max_connections = server.max_connections;
    config.scan_on_start = server.scan_on_start;
    config.scan_lease = problems
        .keep(positive_duration(
            server.scan_lease.as_deref(),
            "server.scan_lease",
        ))
        .flatten();
}

pub fn schedules(
    raw: Vec<RawSchedule>,
    base_dir: Option<&Path>,
    config: &mut Config,
    problems: &mut Problems,
) {
    for (i, schedule) in raw.into_iter().enumerate() {
        let at = format!("schedule[{i}]");
        let cron = cron_expression(&schedule.cron, &format!("{at}.cron"), problems);
        for (j, region) in schedule.regions.iter().flatten().enumerate() {
            problems.keep(check_region(region, &format!("{at}.regions[{j}]")));
        }
        let jitter = problems
            .keep(duration(
                schedule.jitter.as_deref(),
                &format!("{at}.jitter"),
            ))
            .flatten()
            .unwrap_or_default();
        let Some(cron) = cron else { continue };
        let states = schedule.states.map(|states| {
            states
                .into_iter()
                .map(|s| resolve_state(base_dir, &s))
                .collect()
        });
        let schedule = Schedule {
            cron,
            regions: schedule.regions,
            states,
            jitter,
        };
        if let Some(j) = config.schedules.iter().position(|s| s.same_runs(&schedule)) {
            problems.add(
                at,
                format!("the same scans at the same times as schedule[{j}]; each would run twice"),
            );
        }
        config.schedules.push(schedule);
    }
}

/// A cron expression that runs again.
fn cron_expression(raw: &str, path: &str, problems: &mut Problems) -> Option<CronSchedule> {
    CronSchedule::parse(raw)
        .map_err(|message| problems.add(path, message))
        .ok()
}
