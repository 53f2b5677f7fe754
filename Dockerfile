# golive production image: the golive CLI built WITHOUT the embedded Temporal
# server and UI (-tags nodevserver), so `golive dev` and `golive demo` are not in
# it. The same image runs `golive worker` (the default command) and the codec
# server; docker-compose.yml uses it for both.
#
#   docker build -t golive:local .
#   docker run --rm -e TEMPORAL_ADDRESS=temporal.internal:7233 golive:local worker

ARG GO_VERSION=1.26

FROM golang:${GO_VERSION} AS build
WORKDIR /src
# Modules first, so a source change does not download them again.
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/go/pkg/mod go mod download
COPY . .
RUN --mount=type=cache,target=/go/pkg/mod --mount=type=cache,target=/root/.cache/go-build \
    CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -tags nodevserver -o /out/golive ./cmd/golive
# The production binary must not carry the dev server: `golive dev` has to be unknown.
RUN if /out/golive dev --help >/dev/null 2>&1; then echo "golive dev is compiled in; build with -tags nodevserver" >&2; exit 1; fi
# The worker's state directory (evidence files land in .golive/evidence under it),
# created here so a named volume mounted on it starts out owned by the golive user.
RUN mkdir -p /out/var/lib/golive/.golive/evidence

# Debian slim rather than distroless: deploy targets and readiness checks of kind
# `command` run programs (often shell scripts) on the worker, and the health
# checks of docker-compose.yml use curl.
FROM debian:trixie-slim
RUN apt-get update \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends ca-certificates curl tzdata \
    && rm -rf /var/lib/apt/lists/* \
    && groupadd --system --gid 10001 golive \
    && useradd --system --uid 10001 --gid golive --home-dir /var/lib/golive --shell /usr/sbin/nologin golive
COPY --from=build /out/golive /usr/local/bin/golive
COPY --from=build --chown=10001:10001 /out/var/lib/golive /var/lib/golive
# HOME places the Temporal client config file at $HOME/.config/temporalio/temporal.toml
# (or set TEMPORAL_CONFIG_FILE); the working directory receives relative evidence dirs.
ENV HOME=/var/lib/golive
WORKDIR /var/lib/golive
USER 10001:10001
ENTRYPOINT ["/usr/local/bin/golive"]
CMD ["worker"]
