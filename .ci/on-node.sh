#!/usr/bin/env bash
# Runs the suite on another Node than the machine's: the official build that scripts/fetch-node.sh pins and
# caches (24, the image's Node, or 22), in a copy of the working tree with node_modules of its own, since
# bcrypt and better-sqlite3 are built for one Node ABI (npm_config_nodedir: against that Node's headers).
# The working tree and its node_modules and dist stay as they are.
#
#   .ci/on-node.sh 24 [--checks] [jest project ...]      e.g. .ci/on-node.sh 24 --checks unit sqlite e2e
#
# --checks adds lint and typecheck; npm ci and build always run. Run by .ci/run, with its environment
# (CI=true, TEST_MYSQL_URL, REDIS_TEST_URL). Exits non-zero when a step or a test fails.
set -euo pipefail
cd "$(dirname "$0")/.."
major="${1:?usage: .ci/on-node.sh 24|22 [--checks] [jest project ...]}"
shift
checks=
if [ "${1:-}" = --checks ]; then checks=1; shift; fi
projects=("$@")
[ ${#projects[@]} -gt 0 ] || projects=(unit sqlite e2e)

started=$SECONDS
log() { printf '\n== [node %s, %d s] %s\n' "$major" "$((SECONDS - started))" "$*"; }

node_dir="$(bash scripts/fetch-node.sh "$major")"
copy="$(mktemp -d "/tmp/jwt-pizza-node$major-XXXXXX")"
trap 'rm -rf "$copy"' EXIT
# The working tree as git sees it: tracked and untracked files, not what .gitignore names (node_modules,
# dist, data, .env, logs).
rsync -a --exclude=/.git --filter=':- .gitignore' ./ "$copy/"
cd "$copy"
export PATH="$node_dir/bin:$PATH" npm_config_nodedir="$node_dir"
case "$(node --version)" in "v$major".*) ;; *) echo "on-node: node on PATH is $(node --version), not $major" >&2; exit 1 ;; esac

log "$(node --version) (npm $(npm --version)) in $copy: npm ci"
npm ci --no-audit --no-fund
if [ -n "$checks" ]; then
  log "lint"
  npm run lint
  log "typecheck"
  npm run typecheck
fi
log "build"
npm run build

log "jest --selectProjects ${projects[*]}"
results="$(mktemp)"
status=0
# Bounded: a hang fails this run instead of holding CI.
timeout "${ON_NODE_TEST_TIMEOUT:-1800}" npx jest --ci --selectProjects "${projects[@]}" --json --outputFile="$results" || status=$?
printf 'node %s: ' "$(node --version)"
# As .ci/run's own run: no test at all, or a test that did not run and is not on .ci/allowed-skips, fails.
node scripts/check-test-results.mjs "$results" .ci/allowed-skips || status=1
rm -f "$results"
log "done, exit $status"
exit "$status"
