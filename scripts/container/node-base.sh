#!/usr/bin/env bash
# Builds a local stand-in for node:20-bookworm-slim where no registry image can be pulled: a minimal
# Debian bookworm root (debootstrap) plus this machine's own Node 20 (binary, npm, headers for node-gyp),
# imported as the image named by $1 (default localhost/jwt-pizza-node:20).
# Needs root, debootstrap and podman (or docker). Used by .ci/run's container step.
set -euo pipefail
image="${1:-localhost/jwt-pizza-node:20}"
engine="${CONTAINER_ENGINE:-podman}"

node_bin="$(command -v node)"
node_prefix="$(dirname "$(dirname "$(readlink -f "$node_bin")")")"
case "$("$node_bin" --version)" in v20.*|v22.*) ;; *) echo "node-base: Node 20 or 22 needed, found $("$node_bin" --version)" >&2; exit 1 ;; esac
npm_dir="$node_prefix/lib/node_modules/npm"
[ -d "$npm_dir" ] || { echo "node-base: npm not found at $npm_dir" >&2; exit 1; }
[ -f "$node_prefix/include/node/node.h" ] || { echo "node-base: Node headers not found under $node_prefix/include/node" >&2; exit 1; }

root="$(mktemp -d /tmp/jwt-pizza-rootfs-XXXXXX)"
trap 'rm -rf "$root"' EXIT
debootstrap --variant=minbase bookworm "$root" "${DEBIAN_MIRROR:-http://deb.debian.org/debian}" >/dev/null
mkdir -p "$root/usr/local/bin" "$root/usr/local/lib/node_modules" "$root/usr/local/include" "$root/usr/local/etc"
cp "$(readlink -f "$node_bin")" "$root/usr/local/bin/node"
cp -a "$npm_dir" "$root/usr/local/lib/node_modules/npm"
cp -a "$node_prefix/include/node" "$root/usr/local/include/node"
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
