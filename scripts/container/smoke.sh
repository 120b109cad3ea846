#!/usr/bin/env bash
# Builds the image from the Dockerfile on a locally built base and runs it the way production does:
# the factory simulator and one service instance as containers of that image (NODE_ENV=production from
# the image), over the MariaDB and Redis of the machine (host network, loopback only). Checks: healthy by
# its own HEALTHCHECK, non-root, /metrics only on METRICS_PORT, an order made through the factory, and
# SIGTERM (podman stop) drained with exit 0 well within the stop timeout. Run by .ci/run; needs root,
# podman, runc, catatonit and debootstrap. Exits non-zero on the first failed check.
set -euo pipefail
cd "$(dirname "$0")/../.."

node_major="${NODE_MAJOR:-24}"
base="localhost/jwt-pizza-node:$node_major"
image=localhost/jwt-pizza-service:ci
tag="jwt-pizza-smoke-$$"
port="${SMOKE_PORT:-39300}"
metrics_port=$((port + 1))
factory_port=$((port + 2))
db="jwt_pizza_container_$$"
# This kind of machine: crun refuses its hybrid cgroup layout (runc copes), and without CAP_SYS_RESOURCE
# the default container rlimits (raised above the host's) cannot be set.
engine_flags=(--runtime runc --ulimit "nofile=$(ulimit -Hn):$(ulimit -Hn)" --ulimit "nproc=4096:4096")

step() { printf '  container: %s\n' "$*"; }
fail() { printf 'container: FAILED: %s\n' "$*" >&2; podman logs "$tag-pizza" 2>&1 | tail -20 >&2 || true; exit 1; }
cleanup() {
  podman rm -f -t 0 "$tag-pizza" "$tag-factory" >/dev/null 2>&1 || true
  mariadb --protocol=tcp -h127.0.0.1 -uroot -e "DROP DATABASE IF EXISTS \`$db\`" >/dev/null 2>&1 || true
}
trap cleanup EXIT
get() { node -e 'fetch(process.argv[1], { headers: process.argv[2] ? JSON.parse(process.argv[2]) : {} }).then(async (r) => { console.log(r.status + " " + (await r.text())); }, (e) => { console.log("0 " + e.message); })' "$@"; }

started=$SECONDS
if [ -n "${SMOKE_REUSE_IMAGE:-}" ] && podman image exists "$image"; then
  step "reusing $image (SMOKE_REUSE_IMAGE)"
else
  step "base image $base (debootstrap + Node $node_major from scripts/fetch-node.sh)"
  NODE_MAJOR="$node_major" bash scripts/container/node-base.sh "$base" >/dev/null
  step "podman build (Dockerfile, NODE_IMAGE=$base)"
  # --format docker keeps HEALTHCHECK (the OCI image format has no such field). The build's own output
  # goes to a file, shown only if it fails.
  podman build --format docker "${engine_flags[@]}" --build-arg NODE_IMAGE="$base" -t "$image" . >"/tmp/$tag-build.log" 2>&1 \
    || { tail -40 "/tmp/$tag-build.log" >&2; fail "podman build"; }
  rm -f "/tmp/$tag-build.log"
  step "image built in $((SECONDS - started)) s: $(podman image inspect "$image" --format '{{.Size}}') bytes"
fi

mariadb --protocol=tcp -h127.0.0.1 -uroot -e "CREATE DATABASE \`$db\`"
jwt_secret="$(head -c 48 /dev/urandom | base64 | tr -d '\n')"
vendor_key="$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')"
admin_key="$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')"

podman run -d --name "$tag-factory" --network host --init "${engine_flags[@]}" \
  -e FACTORY_HOST=127.0.0.1 -e FACTORY_PORT="$factory_port" -e FACTORY_API_KEY="$vendor_key" -e FACTORY_ADMIN_KEY="$admin_key" \
  "$image" node dist/factory/simulator/main.js >/dev/null 2>&1 || fail "podman run (factory)"
podman run -d --name "$tag-pizza" --network host --init "${engine_flags[@]}" \
  -e HOST=127.0.0.1 -e PORT="$port" -e METRICS_PORT="$metrics_port" \
  -e DATABASE_URL="mysql://root@127.0.0.1:3306/$db" -e REDIS_URL=redis://127.0.0.1:6379 -e REDIS_KEY_PREFIX="$tag:" \
  -e JWT_SECRET="$jwt_secret" -e FACTORY_URL="http://127.0.0.1:$factory_port" -e FACTORY_API_KEY="$vendor_key" \
  -e ADMIN_EMAIL=admin@container.test -e ADMIN_PASSWORD=container-smoke-passphrase -e SHUTDOWN_TIMEOUT_MS=10000 \
  -e TRUST_PROXY=none \
  "$image" >/dev/null 2>"/tmp/$tag-run.log" || { cat "/tmp/$tag-run.log" >&2; fail "podman run"; }
rm -f "/tmp/$tag-run.log"

# podman schedules health checks with systemd timers, absent here: the check is run by hand.
step "waiting for the image's HEALTHCHECK to pass"
healthy=
for _ in $(seq 1 60); do
  if podman healthcheck run "$tag-pizza" >/dev/null 2>&1; then healthy=1; break; fi
  sleep 0.5
done
[ -n "$healthy" ] || fail "HEALTHCHECK never passed"
[ "$(podman inspect "$tag-pizza" --format '{{.Config.Healthcheck.Test}}')" != "[]" ] || fail "the image has no HEALTHCHECK"

uid="$(podman exec "$tag-pizza" id -u)"
[ "$uid" = 10001 ] || fail "runs as uid $uid, not the image's pizza user (10001)"
[ "$(podman exec "$tag-pizza" printenv NODE_ENV)" = production ] || fail "NODE_ENV is not production"
pid1="$(podman exec "$tag-pizza" cat /proc/1/comm 2>/dev/null || echo '?')"
node_version="$(podman exec "$tag-pizza" node --version)"
case "$node_version" in "v$node_major".*) ;; *) fail "the image runs Node $node_version, not $node_major";; esac
step "Node $node_version, non-root (uid $uid), NODE_ENV=production, PID 1: ${pid1:-?}"

case "$(get "http://127.0.0.1:$port/readyz")" in "200 "*) ;; *) fail "/readyz is not 200";; esac
case "$(get "http://127.0.0.1:$port/metrics")" in "404 "*) ;; *) fail "/metrics answered on the service port";; esac
get "http://127.0.0.1:$metrics_port/metrics" | grep -q '^200 ' || fail "/metrics not served on METRICS_PORT"
get "http://127.0.0.1:$metrics_port/metrics" | grep -q 'rate_limit_store_degraded{source="jwt-pizza-service"} 0' || fail "rate-limit store not on Redis"
step "/readyz 200, /metrics 404 on :$port and served on :$metrics_port, Redis limiter connected"

order="$(node -e '
  const base = process.argv[1];
  const call = (method, path, body, token) => fetch(base + path, { method, headers: { "content-type": "application/json", ...(token ? { authorization: "Bearer " + token } : {}) }, body: body && JSON.stringify(body) }).then(async (r) => ({ status: r.status, body: await r.json() }));
  (async () => {
    const admin = (await call("PUT", "/api/auth", { email: "admin@container.test", password: "container-smoke-passphrase" })).body.token;
    const franchise = (await call("POST", "/api/franchise", { name: "container-" + Date.now(), admins: [] }, admin)).body;
    const store = (await call("POST", "/api/franchise/" + franchise.id + "/store", { name: "smoke" }, admin)).body;
    const menu = (await call("GET", "/api/order/menu")).body;
    const order = await call("POST", "/api/order", { franchiseId: franchise.id, storeId: store.id, items: [{ menuId: menu[0].id, description: menu[0].title, price: menu[0].price }] }, admin);
    console.log(order.status, order.body.order ? order.body.order.status || "placed" : JSON.stringify(order.body));
  })().catch((e) => console.log("0", e.message));
' "http://127.0.0.1:$port")"
case "$order" in "200 "*) ;; *) fail "an order through the factory container: $order";; esac
step "an order through the factory container: $order"

stop_started=$SECONDS
podman stop -t 20 "$tag-pizza" >/dev/null 2>&1
stopped_in=$((SECONDS - stop_started))
code="$(podman inspect "$tag-pizza" --format '{{.State.ExitCode}}')"
[ "$code" = 0 ] || fail "exit code $code after SIGTERM"
[ "$stopped_in" -lt 15 ] || fail "SIGTERM took ${stopped_in} s"
podman logs "$tag-pizza" 2>&1 | grep -q '"reason":"SIGTERM"' || fail "node did not see SIGTERM"
podman logs "$tag-pizza" 2>&1 | grep -q '"msg":"shutdown complete"' || fail "no graceful shutdown"
step "SIGTERM: drained, exit 0 in ${stopped_in} s"
echo "container image: all checks ok in $((SECONDS - started)) s"
