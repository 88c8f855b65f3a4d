# syntax=docker/dockerfile:1
# Build: docker build -t clinic-booking .
# Run:   see the README (Docker): a volume for /data, JWT_SECRET and the first admin.
#
# Base images are pinned by digest (multi-arch index digests), so a rebuild
# uses the very same bytes: golang:1.26-bookworm (Go 1.26.4) and
# debian:bookworm-slim (bookworm-20260610). To move to newer ones, resolve
# the tags again (docker buildx imagetools inspect golang:1.26-bookworm) and
# replace both digests.

FROM golang:1.26-bookworm@sha256:5d2b868674b57c9e48cdd39e891acce4196b6926ca6d11e9c270a8f85106203d AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
# cgo is needed by the SQLite driver; the binary links glibc dynamically,
# so the runtime image is a Debian one with the same glibc.
RUN CGO_ENABLED=1 go build -trimpath -ldflags="-s -w" -o /out/server ./cmd/server

FROM debian:bookworm-slim@sha256:96e378d7e6531ac9a15ad505478fcc2e69f371b10f5cdf87857c4b8188404716
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates tzdata wget \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --home-dir /data --shell /usr/sbin/nologin clinic \
 && mkdir -p /data && chown clinic /data && chmod 0700 /data
COPY --from=build /out/server /usr/local/bin/server
USER clinic
WORKDIR /data
# SHUTDOWN_DRAIN: on SIGTERM /readyz fails for 5s before the listener
# closes, so a load balancer stops sending first (keep the orchestrator's
# stop grace period above SHUTDOWN_DRAIN + SHUTDOWN_TIMEOUT).
# GOMEMLIMIT: a soft limit for the Go heap, so a flood of requests makes the
# garbage collector work harder before the process grows; SQLite's page
# caches are C memory and come on top. Override it with -e GOMEMLIMIT=...
# (raise it with the container's memory limit; "off" removes it).
# MALLOC_ARENA_MAX: glibc gives each thread that calls into SQLite an
# arena of its own, up to eight a core, and keeps what it freed there; two
# keep the C memory of a flood of availability questions ~10 MB lower.
ENV HTTP_ADDR=:8080 \
    DATABASE_URL=sqlite:///data/clinic.db \
    LOG_FORMAT=json \
    SHUTDOWN_DRAIN=5s \
    GOMEMLIMIT=100MiB \
    MALLOC_ARENA_MAX=2
VOLUME ["/data"]
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=3s --start-period=10s \
  CMD wget -qO- http://127.0.0.1:8080/healthz || exit 1
ENTRYPOINT ["/usr/local/bin/server"]
