#!/usr/bin/env bash
# Builds and runs the image with ../shared/tools/container-check (podman on a stand-in base) and checks what a
# deployment relies on: non-root, health check alive/stuck, clean SIGTERM, the ledger surviving a restart, and
# the compose demo as two containers. Run from the project root: make container-check
set -euo pipefail
tool=../shared/tools/container-check
[ -x "$tool" ] || { echo "container check skipped: $tool not found"; exit 0; }
port=18766
url=http://127.0.0.1:$port
fail() { echo "container-check.sh: FAIL: $*"; exit 1; }

# 1. The tool's own smoke test: builds, non-root, HEALTHCHECK passes, JSON logs, SIGTERM exit, volume restart.
rc=0
CC_EXPECT_JSON=1 CC_EXPECT_VOLUME_DATA=1 "$tool" smoke --network host \
  --sidecar exchange="exchange --host 127.0.0.1 --port $port --scenario breakout --speed 2 --rate-limit 0" \
  -e APCA_API_KEY_ID=PKCHECK -e APCA_API_SECRET_KEY=check-secret -e APCA_API_BASE_URL=$url \
  -e APCA_API_DATA_URL=$url -e BOT_POLL_SECONDS=0.05 || rc=$?
case $rc in 0) ;; 3) echo "container check skipped: cannot run on this machine"; exit 0 ;; *) fail "smoke (exit $rc)" ;; esac

eval "$("$tool" env)"
image=localhost/cc-$(basename "$PWD"):latest
cleanup() { podman rm -f cck-ex cck-bot >/dev/null 2>&1 || true; podman volume rm -f cck-ledger >/dev/null 2>&1 || true; }
trap cleanup EXIT
cleanup
podman run -d --name cck-ex --network host "$image" exchange --port $port --scenario breakout --rate-limit 0 \
  --start 2023-12-11 --end 2024-01-31 --speed 1 >/dev/null
sleep 1
started=$(date +%s.%N)
podman run -d --name cck-bot --network host -v cck-ledger:/data -e APCA_API_KEY_ID=PKCHECK \
  -e APCA_API_SECRET_KEY=check-secret -e APCA_API_BASE_URL=$url -e APCA_API_DATA_URL=$url \
  -e BOT_POLL_SECONDS=0.05 -e BOT_HEARTBEAT_MAX_AGE_SECONDS=3 "$image" >/dev/null
until podman healthcheck run cck-bot >/dev/null 2>&1; do sleep 0.2; done
echo "healthy $(echo "$(date +%s.%N) - $started" | bc) s after start"

for _ in $(seq 100); do podman logs cck-bot 2>&1 | grep -q '"event": "fill"' && break; sleep 0.2; done
podman logs cck-bot 2>&1 | grep -q '"event": "fill"' || fail "no fill within 20 s"

# 2. The health check fails when the loop is stuck, and recovers.
podman kill --signal STOP cck-bot >/dev/null
sleep 5
podman healthcheck run cck-bot >/dev/null 2>&1 && fail "health check passed while the loop was stopped"
podman kill --signal CONT cck-bot >/dev/null
sleep 2
podman healthcheck run cck-bot >/dev/null 2>&1 || fail "health check did not recover"
echo "health check: fails while the loop is stuck, passes again when it runs"

# 3. SIGTERM: exit 0 within 10 s.
sleep 3
t0=$(date +%s.%N); podman stop -t 10 cck-bot >/dev/null; t1=$(date +%s.%N)
code=$(podman inspect cck-bot --format '{{.State.ExitCode}}')
[ "$code" = 0 ] || fail "exit code $code after SIGTERM"
echo "stop: exit 0 $(echo "$t1 - $t0" | bc) s after SIGTERM"

# 4. The ledger survives a restart on the same volume, and the restart adopts it without a new order.
podman start cck-bot >/dev/null
sleep 4
podman logs cck-bot 2>&1 | grep '"event": "reconciled"' | tail -1 | grep -q '"position_qty": "470"' \
  || fail "the restarted bot did not find its position"
[ "$(podman logs cck-bot 2>&1 | grep -c '"event": "order_submitted"')" = 1 ] || fail "an order was sent twice"
podman stop -t 10 cck-bot >/dev/null
podman run --rm -v cck-ledger:/data "$image" report --json | grep -q '"entry_date": "2023-12-14"' \
  || fail "report from the volume lacks the entry"
echo "ledger: kept across a restart on the same volume; no duplicate order"
echo "container-check.sh: OK"
