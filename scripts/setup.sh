#!/usr/bin/env bash
# Installs what tsserve needs and builds it. Idempotent: each step is skipped when already done.
#   pnpm (npm install -g pnpm@10), nats-server, prometheus (promtool) and chromium (apt-get, for
#   tests), workspace dependencies, `pnpm build`.
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf '\033[1msetup:\033[0m %s\n' "$*"; }
as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

if ! command -v node >/dev/null 2>&1; then
  echo "setup: Node.js >= 20.19 is required (https://nodejs.org); install it and run again" >&2
  exit 1
fi
node -e 'const [a,b]=process.versions.node.split(".").map(Number); process.exit(a>20||(a===20&&b>=19)?0:1)' || {
  echo "setup: Node.js >= 20.19 is required, found $(node --version)" >&2
  exit 1
}

if command -v pnpm >/dev/null 2>&1; then
  say "pnpm $(pnpm --version) found"
else
  say "installing pnpm 10 (npm install -g pnpm@10)"
  npm install -g pnpm@10
fi

if command -v nats-server >/dev/null 2>&1 || [ -x /usr/sbin/nats-server ] || [ -x /usr/bin/nats-server ]; then
  say "nats-server found"
elif command -v apt-get >/dev/null 2>&1; then
  say "installing nats-server (apt-get install -y nats-server)"
  as_root apt-get update
  as_root apt-get install -y nats-server
else
  echo "setup: nats-server is missing and apt-get is not available; install it from https://nats.io/download and run again" >&2
  exit 1
fi

# Tests only: `promtool check metrics` validates the cluster's /metrics, and the dashboard test
# drives a real headless Chromium (playwright-core with executablePath /usr/bin/chromium).
missing=()
command -v promtool >/dev/null 2>&1 || missing+=(prometheus)
[ -x /usr/bin/chromium ] || missing+=(chromium)
if [ ${#missing[@]} -eq 0 ]; then
  say "promtool and chromium found"
elif command -v apt-get >/dev/null 2>&1; then
  say "installing ${missing[*]} for the tests (apt-get install -y --no-install-recommends)"
  as_root apt-get update
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}"
else
  echo "setup: ${missing[*]} missing and apt-get is not available; the metrics and dashboard tests need them" >&2
  exit 1
fi

# The multi-machine tests run components in network namespaces (`ip netns`, iproute2).
if command -v ip >/dev/null 2>&1; then
  say "iproute2 (ip) found"
elif command -v apt-get >/dev/null 2>&1; then
  say "installing iproute2 (apt-get install -y iproute2) for the multi-machine tests"
  as_root apt-get update
  as_root apt-get install -y iproute2
else
  echo "setup: iproute2 (ip) is missing and apt-get is not available; the multi-machine tests need it" >&2
  exit 1
fi

if [ -f pnpm-lock.yaml ]; then
  say "installing dependencies (pnpm install --frozen-lockfile)"
  pnpm install --frozen-lockfile
else
  say "installing dependencies (pnpm install; no lockfile yet)"
  pnpm install
fi

say "building (pnpm build)"
pnpm build
say "done: try \`bash scripts/quickstart.sh\`"
