#!/usr/bin/env bash
# tsserve in one command: set up, start a local cluster, deploy the chat example, send it traffic
# from 8 sessions, show where each session went, show the cluster status, shut down.
# Everything this script starts is stopped on exit, also when a step fails or on Ctrl-C.
#
# Environment: TSSERVE_QUICKSTART_HTTP_PORT (default 8000; 0 = any free port), TSSERVE_QUICKSTART_STATE_DIR (default a
# temporary directory), TSSERVE_QUICKSTART_SKIP_SETUP=1 to skip scripts/setup.sh; `tsserve start`
# itself reads TSSERVE_NATS_PORT (default 4222, a free port when taken).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="$PWD"

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

if [ "${TSSERVE_QUICKSTART_SKIP_SETUP:-0}" != "1" ]; then
  say "setup (scripts/setup.sh)"
  bash scripts/setup.sh
fi

TSSERVE=(node "$ROOT/packages/tsserve/dist/cli.js")
STATE_DIR="${TSSERVE_QUICKSTART_STATE_DIR:-$(mktemp -d "${TMPDIR:-/tmp}/tsserve-quickstart.XXXXXX")}"
HTTP_PORT="${TSSERVE_QUICKSTART_HTTP_PORT:-8000}"
started=0

cleanup() {
  local code=$?
  if [ "$started" = 1 ]; then
    say "tsserve shutdown"
    "${TSSERVE[@]}" shutdown --state-dir "$STATE_DIR" || true
    # If the head did not stop by itself (shutdown failed), stop it by the pid it recorded.
    if [ -f "$STATE_DIR/head-process.json" ]; then
      pid=$(node -e 'console.log(JSON.parse(require("fs").readFileSync(process.argv[1],"utf8")).pid)' "$STATE_DIR/head-process.json" || true)
      if [ -n "${pid:-}" ] && kill -0 "$pid" 2>/dev/null; then kill "$pid" || true; fi
    fi
  fi
  if [ -z "${TSSERVE_QUICKSTART_STATE_DIR:-}" ]; then rm -rf "$STATE_DIR"; fi
  exit "$code"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

say "tsserve start --state-dir $STATE_DIR --http-port $HTTP_PORT"
started=1
"${TSSERVE[@]}" start --state-dir "$STATE_DIR" --http-port "$HTTP_PORT"

say "tsserve deploy examples/chat/serve.yaml (waits until the deployment is HEALTHY)"
"${TSSERVE[@]}" deploy examples/chat/serve.yaml --state-dir "$STATE_DIR"

say "chat client: 16 sessions x 3 turns through a DeploymentHandle (durable session state)"
ADDRESS="$(cat "$STATE_DIR/address")"
(cd examples && TSSERVE_ADDRESS="$ADDRESS" pnpm exec tsx chat/client.ts)

say "the same over HTTP: POST /chat with x-session-id: user_1"
# The proxy's URL as the head recorded it (with --http-port 0 the port is chosen at start).
HTTP_URL="$(node -e 'console.log(JSON.parse(require("fs").readFileSync(process.argv[1],"utf8")).httpUrl)' "$STATE_DIR/head-process.json")"
curl -sS -X POST "$HTTP_URL/chat" -H 'x-session-id: user_1' -H 'content-type: application/json' -d '"hello over HTTP"'
echo

say "tsserve status"
"${TSSERVE[@]}" status --state-dir "$STATE_DIR"
