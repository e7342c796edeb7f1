# The one image of the lab: tcp-server, udp-relay and client are the same application tree, started
# with a different command (see docker-compose.yml).
#
# Two ways to build, chosen by build arguments, same recipe:
#   where an image registry is reachable (the defaults; `docker compose up --build`):
#     BASE_IMAGE=node:24-bookworm-slim  DEPS=npm   -> runtime dependencies come from `npm ci` here;
#   where none is (scripts/bootstrap.sh sets these, also through .env for Compose):
#     BASE_IMAGE=tcp-udp-lab/base:...   DEPS=host  -> a base made with debootstrap plus Node 24, and
#     the runtime dependencies the bootstrap installed on the host into .lab-build/node_modules.
# Single stage on purpose: the legacy builder (Compose v1, old clients) builds every stage, and a
# stage FROM an image that cannot be had would fail the build even when unused.
ARG BASE_IMAGE=node:24-bookworm-slim
FROM ${BASE_IMAGE}
ARG DEPS=npm

# ip, ss, tc and iptables are the lab's tools inside containers; the local base already has them.
RUN if ! command -v ip >/dev/null || ! command -v iptables >/dev/null; then \
      apt-get update && apt-get install -y --no-install-recommends iproute2 iptables \
      && rm -rf /var/lib/apt/lists/*; \
    fi

WORKDIR /app
COPY package.json package-lock.json .npmrc ./
COPY packages/protocol/package.json packages/protocol/
COPY packages/runtime/package.json packages/runtime/
COPY packages/stream-io/package.json packages/stream-io/
COPY packages/host-counters/package.json packages/host-counters/
COPY packages/impairment/package.json packages/impairment/
COPY packages/results/package.json packages/results/
COPY services/tcp-server/package.json services/tcp-server/
COPY services/udp-relay/package.json services/udp-relay/
COPY services/client/package.json services/client/
COPY services/container-entry/package.json services/container-entry/
# .lab-build/ holds only a README in a fresh clone, and the host-installed dependencies after bootstrap.
COPY .lab-build/ /tmp/lab-build/
RUN case "$DEPS" in \
      npm) npm ci --omit=dev --omit=optional --ignore-scripts --no-audit --no-fund ;; \
      host) test -d /tmp/lab-build/node_modules \
              || { echo "DEPS=host needs .lab-build/node_modules: run 'npm run bootstrap' first" >&2; exit 1; }; \
            mv /tmp/lab-build/node_modules ./node_modules ;; \
      *) echo "DEPS must be npm or host, got '$DEPS'" >&2; exit 1 ;; \
    esac \
    && rm -rf /tmp/lab-build \
    && node -e 'require.resolve("zod")'

COPY packages/ packages/
COPY services/ services/
RUN mkdir -p /data && chown 10001:10001 /data

# Non-root: only a container that shapes traffic is given NET_ADMIN, and then it runs as root.
USER 10001:10001
ENV NODE_ENV=production
CMD ["node", "services/client/src/main.ts", "--help"]
