# syntax=docker/dockerfile:1
# The service's image. The build stage installs every dependency, compiles TypeScript and the native
# modules (bcrypt, better-sqlite3), then prunes to production dependencies; the runtime stage gets dist/
# and those node_modules only, and runs node itself (no npm, no shell) as an unprivileged user.
#
# NODE_IMAGE: a Debian bookworm image with Node in /usr/local/bin or /usr/bin: Node 24 LTS by default,
# node:22-bookworm-slim for Node 22 (maintenance LTS); Node 20 (20.18.1+) still builds but is past its end
# of life. Both stages must use the same one, since the native modules are built for its libc and Node ABI.
# CI builds a Node 24 one locally (scripts/container/node-base.sh) because it cannot pull from a registry.
ARG NODE_IMAGE=node:24-bookworm-slim

FROM ${NODE_IMAGE} AS build
WORKDIR /app
# A C++ toolchain for native modules with no prebuilt binary for this platform.
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build && npm prune --omit=dev --no-audit --no-fund

FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=3000 \
    DATA_DIR=/app/data
WORKDIR /app
# A fixed uid, so a mounted data volume can be given to it; no login shell, no home outside /app.
RUN useradd --system --uid 10001 --user-group --home-dir /app --no-create-home --shell /usr/sbin/nologin pizza \
 && mkdir -p /app/data && chown pizza:pizza /app/data
COPY --from=build /app/package.json ./package.json
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
USER pizza
EXPOSE 3000
# No curl in a slim image: node's own fetch. /healthz is liveness only (readiness, /readyz, checks the database).
HEALTHCHECK --interval=15s --timeout=3s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 3000) + '/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# Exec form: node is the process that gets SIGTERM and drains (SHUTDOWN_TIMEOUT_MS); give the container's
# stop timeout a few seconds more than that. Run with --init (compose: init: true) so a reaper is PID 1.
STOPSIGNAL SIGTERM
CMD ["node", "dist/server.js"]
