//! `gen-state --size-mb N --out FILE [--live-out FILE] [--seed N]`: writes the
//! library's state, and its live capture, to files (`scripts/bench.sh`).

use std::io;

use gen_state::{Options, generate};

fn usage() -> ! {
    eprintln!("usage: gen-state --size-mb N --out FILE [--live-out FILE] [--seed N]");
    std::process::exit(1);
}

fn main() {
    let mut size_mb: f64 = 100.0;
    let mut out = None;
    let mut live_out = None;
    let mut seed = 42;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = || args.next().unwrap_or_else(|| usage());
        match arg.as_str() {
            "--size-mb" => size_mb = value().parse().unwrap_or_else(|_| usage()),
            "--out" => out = Some(value()),
            "--live-out" => live_out = Some(value()),
            "--seed" => seed = value().parse().unwrap_or_else(|_| usage()),
            "-h" | "--help" => usage(),
            _ => usage(),
        }
    }
    let Some(out) = out else { usage() };
    let open = |path: &str| {
        std::fs::File::create(path)
            .map(|f| io::BufWriter::with_capacity(1 << 20, f))
            .unwrap_or_else(|e| {
                eprintln!("gen-state: cannot create {path}: {e}");
                std::process::exit(1);
            })
    };
    let options = Options {
        target_bytes: (size_mb * 1024.0 * 1024.0) as u64,
        seed,
    };
    let started = std::time::Instant::now();
    let result = generate(&options, open(&out), live_out.as_deref().map(open));
    match result {
        Ok(stats) => {
            eprintln!(
                "gen-state: {out}: {:.1} MB, {} resources, {} groups, {} aws_security_group_rule, {} vpc rule resources, {} data sources, {} other instances; {} API rules; security-group resources {:.0}% of bytes ({:.2} s)",
                stats.state_bytes as f64 / 1048576.0,
                stats.resources,
                stats.groups,
                stats.group_rule_resources,
                stats.vpc_rule_resources,
                stats.data_sources,
                stats.other_instances,
                stats.api_rules,
                100.0 * stats.sg_bytes as f64 / (stats.sg_bytes + stats.other_bytes).max(1) as f64,
                started.elapsed().as_secs_f64(),
            );
            if let Some(live) = &live_out {
                eprintln!(
                    "gen-state: {live}: {:.1} MB, {} rules",
                    stats.live_bytes as f64 / 1048576.0,
                    stats.api_rules
                );
            }
        }
        Err(e) => {
            eprintln!("gen-state: {e}");
            std::process::exit(1);
        }
    }
}
