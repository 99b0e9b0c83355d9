#!/usr/bin/env bash
# The log moves between Node versions and PostgreSQL servers without changing a byte of what
# readers see. Under NODE_A, Storyline runs on the embedded PostgreSQL, seeds the sample story and
# exports it with the CLI; under NODE_B, a fresh database on the server at DATABASE_URL imports
# that export. Then the story's view and timeline served from the second log, by NODE_B and by
# NODE_A, are byte-identical to the first log's, and so is the export taken back out of it.
#
# Usage: NODE_A=/path/to/node NODE_B=/path/to/node DATABASE_URL=postgres://… .ci/cross-node-views.sh
# (KEEP=1 keeps the work folder, with every answer compared, for a look after a failure.)
set -euo pipefail
cd "$(dirname "$0")/.."
: "${NODE_A:?NODE_A: the node binary for the embedded side}"
: "${NODE_B:?NODE_B: the node binary for the server side}"
: "${DATABASE_URL:?DATABASE_URL: an empty database for the server side}"
story=kremlin-talks
work="$(mktemp -d)"
# As root, the embedded PostgreSQL runs as `postgres`, which must be able to enter the folder.
chmod 755 "$work"
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null || true; done
  [ -n "${KEEP:-}" ] || rm -rf "$work"
}
trap cleanup EXIT

# Starts `storyline serve` in the background under the given node; sets `url` to the URL it
# serves. (Not called in a subshell, so that the cleanup knows its pid.)
serve() {
  local node="$1" log="$2"
  shift 2
  env "$@" HOST=127.0.0.1 PORT=0 LOG_LEVEL=warn "$node" bin/storyline.js serve >"$log" 2>&1 &
  pids+=("$!")
  for _ in $(seq 1 600); do
    url="$(grep -so 'Storyline is serving http://[^ ]*' "$log" | cut -d' ' -f4 || true)"
    [ -z "$url" ] || return 0
    kill -0 "${pids[-1]}" 2>/dev/null || break
    sleep 0.1
  done
  echo "storyline serve did not start:" >&2
  cat "$log" >&2
  return 1
}

views() {
  local url="$1" out="$2"
  curl -sf "$url/v1/stories/$story" >"$out.view.json"
  curl -sf "$url/v1/stories/$story/timeline?order=asc&limit=100" >"$out.timeline.json"
  curl -sf "$url/v1/stories/$story/events?after=0&limit=1000" >"$out.events.json"
}

echo "-- $("$NODE_A" --version), embedded PostgreSQL: seed, export"
serve "$NODE_A" "$work/a.log" -u DATABASE_URL STORYLINE_DATA_DIR="$work/data"
views "$url" "$work/a"
# The CLI reuses the embedded server that serve started on the same data folder.
env -u DATABASE_URL STORYLINE_DATA_DIR="$work/data" LOG_LEVEL=warn \
  "$NODE_A" bin/storyline.js export --story "$story" >"$work/a.export.jsonl"

echo "-- $("$NODE_B" --version), $(echo "$DATABASE_URL" | sed -E 's#//[^@/]*@#//#'): import, serve"
env LOG_LEVEL=warn DATABASE_URL="$DATABASE_URL" \
  "$NODE_B" bin/storyline.js import "$work/a.export.jsonl" 2>&1 | sed 's/^/   import: /'
serve "$NODE_B" "$work/b.log" DATABASE_URL="$DATABASE_URL" STORYLINE_SEED=off
views "$url" "$work/b"
env LOG_LEVEL=warn DATABASE_URL="$DATABASE_URL" \
  "$NODE_B" bin/storyline.js export --story "$story" >"$work/b.export.jsonl"

echo "-- $("$NODE_A" --version), the same database: serve"
serve "$NODE_A" "$work/c.log" DATABASE_URL="$DATABASE_URL" STORYLINE_SEED=off
views "$url" "$work/c"

events="$(wc -l <"$work/a.export.jsonl")"
[ "$events" -gt 0 ] || { echo "the export is empty" >&2; exit 1; }
cmp "$work/a.export.jsonl" "$work/b.export.jsonl"
for part in view.json timeline.json; do
  cmp "$work/a.$part" "$work/b.$part"
  cmp "$work/b.$part" "$work/c.$part"
done
# Event pages carry their log's own epoch: compared between the two Nodes on one log.
cmp "$work/b.events.json" "$work/c.events.json"
entries="$(grep -o '"developmentId"' "$work/a.timeline.json" | wc -l)"
echo "-- identical: the view, the timeline ($entries entries) and the export ($events events)"
