#!/usr/bin/env bash
# As root, a fresh clone in a folder the postgres user cannot enter (like a clone in /root): the
# README's two commands must work with no extra variable. `npm test` runs one small file here
# (the whole suite runs elsewhere in CI); `npm start` must become ready and stop cleanly.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "$(id -u)" != 0 ]; then
  echo "skipped: not root"
  exit 0
fi
home=$(mktemp -d /tmp/storyline-root-home-XXXXXX) # mode 700, as /root is
trap 'kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; rm -rf "$home"' EXIT
server=
git clone -q . "$home/storyline"
cd "$home/storyline"
npm ci --no-audit --no-fund >/dev/null
env -u DATABASE_URL npm test -- tests/integration/smoke.test.ts
env -u DATABASE_URL PORT=0 npm start >"$home/start.log" 2>&1 &
server=$!
for _ in $(seq 1 120); do
  url=$(grep -o 'Storyline is serving http://[^ ]*' "$home/start.log" | cut -d' ' -f4 || true)
  [ -n "$url" ] && break
  kill -0 "$server" 2>/dev/null || { cat "$home/start.log"; exit 1; }
  sleep 0.5
done
[ -n "$url" ] || { cat "$home/start.log"; exit 1; }
data=$(grep -o 'embedded PostgreSQL in [^ ]*' "$home/start.log" | cut -d' ' -f4)
curl -fsS "$url/readyz" >/dev/null
kill -TERM "$server"
wait "$server"
server=
rm -rf "$data"
echo "npm start and npm test work from a root-only folder (data was in $data)"
