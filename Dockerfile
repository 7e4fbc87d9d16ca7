# driftd: a small runtime image for `driftd serve` (see docs/deploy.md).
#
# The build stage runs the same command as scripts/bench.sh, from the same
# Cargo.lock (--locked) and with no extra features: the binary in the image is the
# release build of the code the tests exercise. The workspace's other members,
# the benchmarks and their state generator (tools/), are not built: cargo needs
# only their manifests, to load the workspace and check Cargo.lock.

FROM rust:1-slim-bookworm AS build
WORKDIR /src
COPY Cargo.toml Cargo.lock ./
COPY src src
COPY migrations migrations
COPY tools/gen-state/Cargo.toml tools/gen-state/
COPY tools/bench/Cargo.toml tools/bench/
RUN cargo build --release --locked --bin driftd

FROM debian:bookworm-slim
# CA certificates for AWS, Slack and webhooks (rustls reads the system store).
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --home-dir /data --shell /usr/sbin/nologin driftd \
    && mkdir -p /data /etc/driftd \
    && chown driftd /data
COPY --from=build /src/target/release/driftd /usr/local/bin/driftd
COPY config/driftd.example.toml /etc/driftd/driftd.example.toml
USER 10001
# The SQLite history lives here: mount a volume (EFS on ECS).
VOLUME ["/data"]
ENV DRIFTD_DATABASE_URL=sqlite:///data/driftd.db \
    DRIFTD_LOG_FORMAT=json
EXPOSE 9090
ENTRYPOINT ["/usr/local/bin/driftd"]
CMD ["serve", "--config", "/etc/driftd/driftd.toml"]
