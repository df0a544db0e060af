#!/usr/bin/env bash
# Builds the fuzz targets as real libFuzzer binaries with clang (ASan+UBSan,
# every library instrumented for coverage) in build-fuzz/ and runs them.
#   scripts/fuzz.sh                  every target, 60 s each
#   scripts/fuzz.sh report 600       one target, 10 minutes
#   scripts/fuzz.sh all 30 -jobs=2   extra arguments go to libFuzzer
# New inputs that reach new code go to build-fuzz/corpus/<target> (seeded
# from tests/fuzz/corpus/<target>); a crash leaves crash-* in
# build-fuzz/crashes/<target>/: copy it to tests/fuzz/regressions/<target>/
# so that every ctest run replays it, and fix the bug.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
target=${1:-all}
seconds=${2:-60}
shift $(( $# > 2 ? 2 : $# ))
build=${OSPROFILER_FUZZ_BUILD:-$root/build-fuzz}
all=(header config connstr tracefile report)
if [[ $target == all ]]; then targets=("${all[@]}"); else targets=("$target"); fi
for t in "${targets[@]}"; do
  [[ " ${all[*]} " == *" $t "* ]] || { echo "fuzz.sh: unknown target '$t' (known: ${all[*]})" >&2; exit 2; }
done
command -v clang++ >/dev/null || { echo "fuzz.sh: clang++ not found (apt-get install clang)" >&2; exit 1; }

CC=clang CXX=clang++ cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DOSPROFILER_BUILD_FUZZ=ON -DOSPROFILER_BUILD_BENCH=OFF -DOSPROFILER_BUILD_EXAMPLES=OFF \
  -DCMAKE_CXX_FLAGS="-fsanitize=fuzzer-no-link,address,undefined -fno-omit-frame-pointer" \
  -DCMAKE_EXE_LINKER_FLAGS="-fsanitize=address,undefined" -DCMAKE_SHARED_LINKER_FLAGS="-fsanitize=address,undefined" \
  >/dev/null
cmake --build "$build" -j"${OSPROFILER_FUZZ_JOBS:-2}" --target "${targets[@]/#/fuzz_}"

status=0
for t in "${targets[@]}"; do
  corpus="$build/corpus/$t"
  crashes="$build/crashes/$t"
  mkdir -p "$corpus" "$crashes"
  echo "== fuzz_$t for ${seconds}s"
  # The kept corpus and regressions are read-only inputs; new finds go to $corpus.
  (cd "$crashes" && "$build/tests/fuzz/fuzz_$t" -max_total_time="$seconds" -max_len=4096 -timeout=10 \
    -dict="$root/tests/fuzz/dict/$t.dict" -artifact_prefix="$crashes/" "$@" \
    "$corpus" "$root/tests/fuzz/corpus/$t" "$root/tests/fuzz/regressions/$t") || {
    status=1
    echo "fuzz.sh: fuzz_$t failed; inputs in $crashes" >&2
  }
done
exit $status
