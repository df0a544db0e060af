#!/usr/bin/env bash
# The first command to run: builds the demo order service and the osprofiler
# command, serves a few requests (each one a trace in the embedded SQLite
# store), then shows the slowest request's tree and query summary, explains
# its costliest queries and writes the HTML report.
#
#   scripts/demo.sh              (BUILD_DIR defaults to ./build-demo)
#
# Everything the demo writes stays under $BUILD_DIR/demo: the shop database
# and the traces (OSPROFILER_HOME=$BUILD_DIR/demo/osprofiler), so ~/.osprofiler
# is left alone.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${BUILD_DIR:-$root/build-demo}
data=$build/demo
bold=""; reset=""
if [[ -t 1 && -z "${NO_COLOR:-}" ]]; then bold=$'\e[1m'; reset=$'\e[0m'; fi
step() { printf '\n%s==> %s%s\n' "$bold" "$*" "$reset"; }

step "Installing build dependencies (Debian packages, only the missing ones)"
"$root/scripts/install-deps.sh"

step "Building the demo and the osprofiler command in $build"
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release -DOSPROFILER_BUILD_TESTS=OFF -DOSPROFILER_BUILD_BENCH=OFF >/dev/null
cmake --build "$build" -j2 --target order_service osprofiler_cli >/dev/null

export OSPROFILER_HOME=$data/osprofiler
unset OSPROFILER_CONNECTION_STRING
mkdir -p "$OSPROFILER_HOME"
osp=$build/bin/osprofiler

step "Serving five requests with tracing on (traces go to sqlite:///$OSPROFILER_HOME/traces.db)"
"$build/bin/order_service" --data-dir "$data"
slowest=$(cat "$data/slowest-trace")

step "The slowest request: osprofiler trace show $slowest"
"$osp" trace show "$slowest"

step "Why: order_service explain $slowest"
"$build/bin/order_service" explain "$slowest" --data-dir "$data"

report=$data/slowest-request.html
"$osp" trace show "$slowest" --html --out "$report" 2>/dev/null
step "HTML report (open it in a browser; it works offline): $report"
cat <<EOT

Next steps:
  $osp trace list                       # every trace (OSPROFILER_HOME=$OSPROFILER_HOME)
  $osp trace show $slowest --db-only
  $build/bin/order_service --data-dir $data --add-index   # run again with the index, compare
EOT
