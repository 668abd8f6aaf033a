# syntax=docker/dockerfile:1
# The chinook image: dependencies cached in their own layer (cargo-chef), a release build,
# and a slim runtime that runs as a non-root user on a read-only root filesystem.
#
#   docker build -t chinook .
#   docker run --read-only -v chinook-data:/var/lib/chinook -p 8080:8080 chinook
#
# CI has no Docker engine: it builds the same binary with the same command
# (`cargo build --release --locked --bin chinook`) and tests that.

# The toolchain CI builds with.
ARG RUST_VERSION=1.95
ARG DEBIAN_RELEASE=bookworm

FROM rust:${RUST_VERSION}-slim-${DEBIAN_RELEASE} AS chef
RUN cargo install cargo-chef --locked --version 0.1.71
WORKDIR /src

# The recipe changes only when the dependencies do, so the cook layer below stays cached.
FROM chef AS planner
COPY . .
RUN cargo chef prepare --recipe-path recipe.json

FROM chef AS builder
COPY --from=planner /src/recipe.json recipe.json
RUN cargo chef cook --release --locked --recipe-path recipe.json
COPY . .
RUN cargo build --release --locked --bin chinook \
    && install -D -m 0755 target/release/chinook /out/chinook

FROM debian:${DEBIAN_RELEASE}-slim AS runtime
# curl is for the HEALTHCHECK; ca-certificates for TLS to PostgreSQL and Redis.
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates curl \
    && rm -rf /var/lib/apt/lists/* \
    && groupadd --system --gid 10001 chinook \
    && useradd --system --uid 10001 --gid chinook --home-dir /var/lib/chinook --shell /usr/sbin/nologin chinook \
    && install -d -o chinook -g chinook -m 0750 /var/lib/chinook /media
COPY --from=builder /out/chinook /usr/local/bin/chinook

# Everything the process writes lives in the data volume (database on SQLite, search index,
# generated covers); the media directory is mounted read-only in production. The root
# filesystem can therefore be read-only (`docker run --read-only`, readOnlyRootFilesystem).
ENV CHINOOK_BIND=0.0.0.0:8080 \
    CHINOOK_DATA_DIR=/var/lib/chinook \
    CHINOOK_MEDIA_DIR=/media \
    CHINOOK_LOG_FORMAT=json \
    CHINOOK_SHUTDOWN_DELAY_SECS=5
VOLUME ["/var/lib/chinook"]
USER 10001:10001
WORKDIR /var/lib/chinook
EXPOSE 8080
STOPSIGNAL SIGTERM

# Liveness only: readiness (/health/ready) is the load balancer's business, and a draining
# or warming instance is not unhealthy. Tries HTTPS when CHINOOK_TLS_CERT is set.
HEALTHCHECK --interval=10s --timeout=3s --start-period=60s --retries=3 \
    CMD ["sh", "-c", "if [ -n \"$CHINOOK_TLS_CERT\" ]; then curl -fsSk --max-time 2 https://127.0.0.1:8080/health/live; else curl -fsS --max-time 2 http://127.0.0.1:8080/health/live; fi"]

ENTRYPOINT ["/usr/local/bin/chinook"]
CMD ["serve"]
