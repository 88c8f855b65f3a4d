# syntax=docker/dockerfile:1
# Build: docker build -t clinic-booking .
# Run:   docker run -p 8080:8080 -v clinic-data:/data -e JWT_SECRET=... clinic-booking

FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
# cgo is needed by the SQLite driver; the binary links glibc dynamically,
# so the runtime image is a Debian one with the same glibc.
RUN CGO_ENABLED=1 go build -trimpath -ldflags="-s -w" -o /out/server ./cmd/server

FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates tzdata wget \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --home-dir /data --shell /usr/sbin/nologin clinic \
 && mkdir -p /data && chown clinic /data
COPY --from=build /out/server /usr/local/bin/server
USER clinic
WORKDIR /data
ENV HTTP_ADDR=:8080 \
    DATABASE_URL=sqlite:///data/clinic.db \
    LOG_FORMAT=json
VOLUME ["/data"]
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=3s --start-period=10s \
  CMD wget -qO- http://127.0.0.1:8080/healthz || exit 1
ENTRYPOINT ["/usr/local/bin/server"]
