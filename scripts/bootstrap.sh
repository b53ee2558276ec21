#!/usr/bin/env bash
# One-time set-up, safe to run every time: installs the Node packages from the lockfile, then makes
# sure a WebGPU adapter exists (installing Mesa's CPU Vulkan driver on Debian 12 when none does).
# With --browser it also makes sure Chromium is present for the browser tests.
set -euo pipefail
cd "$(dirname "$0")/.."
export XDG_RUNTIME_DIR="${XDG_RUNTIME_DIR:-/tmp/spo-xdg-runtime}"
mkdir -p "$XDG_RUNTIME_DIR" && chmod 700 "$XDG_RUNTIME_DIR"

need_browser=0
for arg in "$@"; do
  case "$arg" in
    --browser) need_browser=1 ;;
    *) echo "bootstrap: unknown option $arg" >&2; exit 2 ;;
  esac
done

node_major=$(node -p 'process.versions.node.split(".")[0]')
if [ "$node_major" -lt 20 ]; then
  echo "Node.js 20 or newer is needed, found $(node --version)" >&2
  exit 2
fi

# 1. Node packages (pnpm, pinned; the lockfile is authoritative).
stamp=node_modules/.modules.yaml
if [ ! -f "$stamp" ] || [ pnpm-lock.yaml -nt "$stamp" ] || [ package.json -nt "$stamp" ]; then
  echo "Installing Node packages..."
  npx --yes pnpm@12.4.2 install --frozen-lockfile --reporter=silent
fi

# 2. A WebGPU adapter: a real GPU if there is one, else lavapipe.
if ! node scripts/probe_adapter.mjs --quiet; then
  bash scripts/install_system_deps.sh --no-chromium
  if ! node scripts/probe_adapter.mjs; then
    echo "No WebGPU adapter is available even after installing the CPU Vulkan driver" >&2
    exit 1
  fi
fi

# 3. Chromium, for the browser tests.
if [ "$need_browser" = 1 ] && ! command -v chromium >/dev/null 2>&1; then
  bash scripts/install_system_deps.sh --no-vulkan
fi
