# driftd: a small runtime image for `driftd serve` (see docs/deploy.md).
#
# The build stage builds from the same Cargo.lock (--locked) and with no extra
# features as the tests, with the `image` profile: the release build of the code
# the tests exercise, without line tables or symbols (Cargo.toml, [profile.image]).
# The workspace's other members, the benchmarks and their state generator (tools/),
# are not built: cargo needs only their manifests, to load the workspace and check
# Cargo.lock.

FROM rust:1-slim-bookworm AS build
# The runtime image has no shell to make directories with: /data is made here, empty,
# and copied over with its owner.
RUN mkdir -p /image/data
WORKDIR /src
COPY Cargo.toml Cargo.lock ./
COPY src src
COPY migrations migrations
COPY tools/gen-state/Cargo.toml tools/gen-state/
COPY tools/bench/Cargo.toml tools/bench/
RUN cargo build --profile image --locked --bin driftd

# Distroless: glibc, libgcc, CA certificates (rustls reads the system store, for AWS,
# Slack and webhooks), a passwd with `nonroot` (uid 65532), and nothing else: no
# package manager to pin, no shell, no curl. Built on Debian 12 like the build stage,
# so the binary links against the same glibc.
FROM gcr.io/distroless/cc-debian12:nonroot
COPY --from=build --chown=65532:65532 /image/data /data
COPY --from=build /src/target/image/driftd /usr/local/bin/driftd
COPY config/driftd.example.toml /etc/driftd/driftd.example.toml
# Numeric, as the ECS task definition's `user` (and Kubernetes' runAsNonRoot) need.
USER 65532:65532
WORKDIR /data
# The SQLite history lives here: mount a volume (EFS on ECS).
VOLUME ["/data"]
ENV DRIFTD_DATABASE_URL=sqlite:///data/driftd.db \
    DRIFTD_LOG_FORMAT=json
EXPOSE 9090
# The binary asks its own `serve` for /healthz on the config's [server] listen: no
# shell or curl needed. The same command as the ECS task definition's healthCheck.
HEALTHCHECK --interval=30s --timeout=5s --start-period=15s --retries=3 \
    CMD ["/usr/local/bin/driftd", "healthcheck", "--config", "/etc/driftd/driftd.toml"]
ENTRYPOINT ["/usr/local/bin/driftd"]
CMD ["serve", "--config", "/etc/driftd/driftd.toml"]
