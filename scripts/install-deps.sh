#!/usr/bin/env bash
# Installs the Debian packages osprofiler-cpp needs to build, test, benchmark and
# run its demo. Idempotent: only missing packages are installed.
#   scripts/install-deps.sh            build + demo packages
#   scripts/install-deps.sh --test     also PostgreSQL, python3-osprofiler, Chromium, clang
set -euo pipefail

build_pkgs=(
  build-essential cmake pkg-config
  libsqlite3-dev sqlite3
  libpq-dev libpqxx-dev
  libsoci-dev libboost-dev libboost-date-time-dev
  nlohmann-json3-dev libssl-dev
  libsimpleini-dev libcli11-dev
  libgtest-dev libgmock-dev libbenchmark-dev
)
test_pkgs=(
  postgresql postgresql-client
  python3-osprofiler python3-sqlalchemy python3-psycopg2
  chromium python3-websocket
  clang libclang-rt-14-dev
)

pkgs=("${build_pkgs[@]}")
[[ "${1:-}" == "--test" ]] && pkgs+=("${test_pkgs[@]}")

missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[[ ${#missing[@]} -eq 0 ]] && exit 0

echo "install-deps: installing ${missing[*]}" >&2
SUDO=""
[[ $(id -u) -ne 0 ]] && SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
