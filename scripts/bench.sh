#!/usr/bin/env bash
# Builds the benchmarks (release) and runs them all, with a private PostgreSQL
# server for the ones that need it. Results go to the terminal and to
# build-bench/results/<bench>.txt. See docs/benchmarks.md.
#   scripts/bench.sh              every benchmark
#   scripts/bench.sh sqlite_bench  one of them (extra args go to it)
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
"$root/scripts/install-deps.sh" --test
build="$root/build-bench"
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release -DOSPROFILER_BUILD_TESTS=OFF >/dev/null
cmake --build "$build" -j2 >/dev/null

pgdir=$(mktemp -d /tmp/osprofiler-bench-pg-XXXXXX)
"$root/scripts/pg-test-server.sh" start "$pgdir"
trap '"$root/scripts/pg-test-server.sh" stop "$pgdir"; rm -rf "$pgdir"' EXIT
export OSPROFILER_BENCH_PG=$(cat "$pgdir/uri")

mkdir -p "$build/results"
benches=(bench_core sqlite_bench pqxx_bench soci_bench stores_bench cli_bench)
if [[ $# -gt 0 ]]; then benches=("$1"); shift; fi
for b in "${benches[@]}"; do
  exe=$(find "$build/bench" -type f -name "$b" -perm -u+x | head -n1)
  [[ -n "$exe" ]] || { echo "== $b: not built (component skipped)"; continue; }
  echo "== $b"
  "$exe" --benchmark_color=false "$@" 2>&1 | tee "$build/results/$b.txt"
done
