#!/usr/bin/env bash
# The log moves between Node versions and PostgreSQL servers without changing what readers see.
# Under NODE_A, Storyline runs on the embedded PostgreSQL, seeds the sample story and exports it
# with the CLI; under NODE_B, a fresh database on the server at DATABASE_URL imports that export.
# Then:
# - the export taken back out of the second log is byte-identical to the first;
# - the story's view and timeline, served from that second log by NODE_B and by NODE_A, are
#   byte-identical;
# - and byte-identical to the first log's, once each log's recording times (when the log accepted
#   each event, which an export does not carry and an import sets anew) are blanked.
#
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
  rm -rf "$work"
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
    url="$(grep -o 'Storyline is serving http://[^ ]*' "$log" | cut -d' ' -f4 || true)"
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

# Copies of a log's view and timeline with its recording times blanked: every string that is the
# recordedAt of one of its events becomes "<recorded>". Nothing else changes.
blank_recording_times() {
  local out="$1"
  "$NODE_B" -e '
    const fs = require("node:fs");
    const [out] = process.argv.slice(1);
    const { events } = JSON.parse(fs.readFileSync(`${out}.events.json`, "utf8"));
    const times = new Set(events.map((event) => event.recordedAt));
    for (const part of ["view", "timeline"]) {
      const text = fs.readFileSync(`${out}.${part}.json`, "utf8");
      const blanked = JSON.stringify(JSON.parse(text, (key, value) => (times.has(value) ? "<recorded>" : value)));
      fs.writeFileSync(`${out}.${part}.blanked.json`, blanked);
    }
  ' "$out"
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
for part in view.json timeline.json events.json; do
  cmp "$work/b.$part" "$work/c.$part"
done
blank_recording_times "$work/a"
blank_recording_times "$work/b"
for part in view timeline; do
  cmp "$work/a.$part.blanked.json" "$work/b.$part.blanked.json"
done
entries="$(grep -o '"developmentId"' "$work/a.timeline.json" | wc -l)"
echo "-- identical: the export ($events events); the view, the timeline ($entries entries) and the"
echo "   events under both Nodes; the view and timeline across the two logs, recording times aside"
