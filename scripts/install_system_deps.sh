#!/usr/bin/env bash
# Installs the system packages the project needs on Debian 12 (bookworm):
#   - a CPU Vulkan driver that Dawn accepts (Mesa lavapipe from bookworm-backports; bookworm's own
#     Mesa 22.3 is rejected by Dawn), so WebGPU works on machines without a GPU;
#   - Debian's Chromium, for the browser tests.
# It is idempotent and does nothing for a part that is already present. On anything other than
# Debian as root it prints what to install and exits with status 2.
set -euo pipefail

want_vulkan=1
want_chromium=1
for arg in "$@"; do
  case "$arg" in
    --no-chromium) want_chromium=0 ;;
    --no-vulkan) want_vulkan=0 ;;
    *) echo "install_system_deps: unknown option $arg" >&2; exit 2 ;;
  esac
done

have_lavapipe() {
  # Dawn needs Mesa >= 23 lavapipe; the ICD json exists for any version, so check the package version.
  local v
  v=$(dpkg-query -W -f='${Version}' mesa-vulkan-drivers 2>/dev/null || true)
  [ -n "$v" ] && dpkg --compare-versions "$v" ge 23 && dpkg-query -W libvulkan1 >/dev/null 2>&1
}
have_chromium() { command -v chromium >/dev/null 2>&1; }

missing=()
if [ "$want_vulkan" = 1 ] && ! have_lavapipe; then missing+=(vulkan); fi
if [ "$want_chromium" = 1 ] && ! have_chromium; then missing+=(chromium); fi
[ ${#missing[@]} -eq 0 ] && exit 0

is_debian12=0
if [ -r /etc/os-release ] && grep -q '^VERSION_CODENAME=bookworm' /etc/os-release; then is_debian12=1; fi
if [ "$is_debian12" != 1 ] || [ "$(id -u)" != 0 ]; then
  cat >&2 <<MSG
This machine is missing: ${missing[*]}
Automatic installation needs Debian 12 (bookworm) as root. Install by hand:
  - vulkan:   a Vulkan loader (libvulkan1) and either a GPU driver or Mesa >= 23 lavapipe
              (on Debian 12: mesa-vulkan-drivers and libvulkan1 from bookworm-backports)
  - chromium: a Chromium or Chrome build with WebGPU (Debian: the 'chromium' package)
Then run the command again.
MSG
  exit 2
fi

export DEBIAN_FRONTEND=noninteractive
sources=/etc/apt/sources.list.d/debian.sources
backports=/etc/apt/sources.list.d/spo-bookworm-backports.sources

add_backports() {
  [ -f "$backports" ] && return 0
  grep -rqs 'bookworm-backports' /etc/apt/sources.list /etc/apt/sources.list.d/ && return 0
  if [ -f "$sources" ]; then
    # Copy the first deb822 stanza (the main archive) and point it at bookworm-backports, so the
    # mirror configured on this machine is reused and no host name is written here.
    awk 'BEGIN{RS="";ORS="\n\n"} NR==1{print; exit}' "$sources" \
      | sed -E 's/^Suites:.*/Suites: bookworm-backports/' > "$backports"
  elif [ -f /etc/apt/sources.list ]; then
    local line
    line=$(grep -E '^deb [^ ]+ bookworm ' /etc/apt/sources.list | head -1)
    [ -n "$line" ] || { echo "Cannot find the bookworm entry in /etc/apt/sources.list" >&2; exit 2; }
    echo "$line" | sed -E 's/ bookworm / bookworm-backports /' > /etc/apt/sources.list.d/spo-bookworm-backports.list
  else
    echo "Cannot find an apt source for bookworm to derive bookworm-backports from" >&2
    exit 2
  fi
}

if [[ " ${missing[*]} " == *" vulkan "* ]]; then
  echo "Installing the CPU Vulkan driver (Mesa lavapipe from bookworm-backports)..."
  add_backports
  apt-get update -qq
  apt-get install -y -qq -t bookworm-backports mesa-vulkan-drivers libvulkan1 >/dev/null
fi
if [[ " ${missing[*]} " == *" chromium "* ]]; then
  echo "Installing Chromium (for the browser tests)..."
  [[ " ${missing[*]} " == *" vulkan "* ]] || apt-get update -qq
  apt-get install -y -qq chromium >/dev/null
fi
echo "System packages ready: ${missing[*]}"
