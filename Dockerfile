# The images of docker-compose.yml, from one build context (the repository root):
#   go-build   builds the Go programs (go/cmd/loyalty) and grpc_health_probe, without cgo;
#   loyalty    the Go Loyalty service alone on a static base (target: loyalty), with proto/access.json, the access
#              table it enforces in the secure mode (FTGO_ACCESS_FILE: the image holds no repository to find it in);
#   (last)     every TypeScript process: the sources run with tsx, as `make up TSX=1` does. Each compose service picks
#              its entry point: node --import tsx services/<name>/src/main.ts. It is the default target, and with
#              openssl it is also the image of compose's one-shot `pki` service (scripts/pki.sh init).
# grpc_health_probe answers the containers' health checks with the standard grpc.health.v1 Check, the same
# protocol Consul's gRPC checks and `make up`'s readiness use.

FROM golang:1.26-bookworm AS go-build
ARG GRPC_HEALTH_PROBE_VERSION=v0.4.63
ENV CGO_ENABLED=0
RUN GOBIN=/out go install "github.com/grpc-ecosystem/grpc-health-probe@${GRPC_HEALTH_PROBE_VERSION}"
WORKDIR /src
# The go module replaces the generated code's module with ../gen/go: both go.mods first, so that the
# dependencies are a cached layer that a source change does not invalidate.
COPY go/go.mod go/go.sum go/
COPY gen/go/go.mod gen/go/go.sum gen/go/
RUN cd go && go mod download
COPY gen/go gen/go
COPY go go
RUN cd go && go build -trimpath -ldflags "-s -w" -o /out/loyalty ./cmd/loyalty

FROM gcr.io/distroless/static-debian12 AS loyalty
COPY --from=go-build /out/loyalty /out/grpc-health-probe /usr/local/bin/
COPY proto/access.json /etc/ftgo/access.json
ENV FTGO_HOST=0.0.0.0 DATA_DIR=/data FTGO_ACCESS_FILE=/etc/ftgo/access.json
VOLUME /data
ENTRYPOINT ["/usr/local/bin/loyalty"]

FROM node:20-bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends python3 make g++ openssl && rm -rf /var/lib/apt/lists/*
COPY --from=go-build /out/grpc-health-probe /usr/local/bin/
WORKDIR /app
COPY . .
RUN npm ci --no-audit --no-fund
ENV FTGO_HOST=0.0.0.0 DATA_DIR=/data NODE_ENV=production
VOLUME /data
