//! `driftd healthcheck`: the container's health check, without curl or a shell in
//! the image. Asks the local `serve` for `/healthz` on `[server] listen`.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;
use clap::Args;

use crate::config::Config;

pub const LONG_ABOUT: &str = "Exit 0 when the `serve` of this machine answers GET /healthz \
    with 200 on [server] listen (default 0.0.0.0:9090, asked on 127.0.0.1), else 1 with \
    the reason on stderr. Made for Docker's HEALTHCHECK and ECS's healthCheck: the image \
    has no shell or curl. Only [server] listen is read from the config.";

/// Well inside ECS's and Docker's default health-check timeout (5 s).
const TIMEOUT: Duration = Duration::from_secs(3);

#[derive(Debug, Args)]
pub struct HealthcheckArgs {
    /// The config `serve` runs with (for `[server] listen`).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
}

pub async fn run(args: HealthcheckArgs) -> anyhow::Result<ExitCode> {
    let listen = match &args.config {
        Some(path) => Config::load_one(path, "server", "listen")?,
        None => None,
    };
    let listen = listen.as_deref().unwrap_or(super::serve::DEFAULT_LISTEN);
    let listen: SocketAddr = listen.parse().with_context(|| {
        format!("[server] listen {listen:?} is not an address like 0.0.0.0:9090")
    })?;
    let url = format!("http://{}/healthz", local_address(listen));
    let client = reqwest::Client::builder()
        .timeout(TIMEOUT)
        .no_proxy()
        .build()?;
    let response = client
        .get(&url)
        .send()
        .await
        .with_context(|| format!("{url} did not answer"))?;
    match response.status() {
        status if status.is_success() => Ok(ExitCode::SUCCESS),
        status => anyhow::bail!("{url} answered {status}"),
    }
}

/// Where to reach a server listening on `listen` from the same machine: the
/// loopback address when it listens on every interface.
fn local_address(listen: SocketAddr) -> SocketAddr {
    let ip = match listen.ip() {
        IpAddr::V4(ip) if ip.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
        IpAddr::V6(ip) if ip.is_unspecified() => IpAddr::V6(Ipv6Addr::LOCALHOST),
        ip => ip,
    };
    SocketAddr::new(ip, listen.port())
}
