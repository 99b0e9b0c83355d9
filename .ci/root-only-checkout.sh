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
# The server runs in a process group of its own (setsid), signalled as a whole as a terminal's
# Ctrl-C does: npm does not pass SIGTERM on to the node process it started.
trap 'if [ -n "$server" ]; then kill -TERM -- "-$server" 2>/dev/null || true; fi; rm -rf "$home"' EXIT
server=
git clone -q . "$home/storyline"
cd "$home/storyline"
npm ci --no-audit --no-fund >/dev/null
env -u DATABASE_URL npm test -- tests/integration/smoke.test.ts
: >"$home/start.log"
env -u DATABASE_URL PORT=0 setsid npm start >"$home/start.log" 2>&1 &
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
kill -TERM -- "-$server"
wait "$server" || true # npm reports the signal it got (143); what counts is a clean stop:
for _ in $(seq 1 60); do
  kill -0 -- "-$server" 2>/dev/null || break
  sleep 0.5
done
if kill -0 -- "-$server" 2>/dev/null || [ -e "$data/postmaster.pid" ]; then
  echo "the embedded PostgreSQL in $data did not stop with Storyline"
  cat "$home/start.log"
  exit 1
fi
server=
rm -rf "$data"
echo "npm start and npm test work from a root-only folder (data was in $data)"
