#!/usr/bin/env bash
# The whole test suite, from a fresh machine: installs the Debian packages it
# needs (PostgreSQL server, python3-osprofiler, Chromium, ...), builds every
# component, tests and benchmarks, and runs ctest. PostgreSQL tests get a
# private server started and stopped by ctest itself (scripts/pg-test-server.sh).
#
#   scripts/test.sh            release build (RelWithDebInfo) in build/
#   scripts/test.sh --asan     AddressSanitizer + UndefinedBehaviorSanitizer, in build-asan/
#   scripts/test.sh --tsan     ThreadSanitizer on the concurrency tests, in build-tsan/
# Extra arguments go to ctest (e.g. -R core_tests).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
"$root/scripts/install-deps.sh" --test

mode=release
if [[ "${1:-}" == "--asan" || "${1:-}" == "--tsan" ]]; then
  mode=${1#--}
  shift
fi

flags=(-DCMAKE_BUILD_TYPE=RelWithDebInfo)
ctest_args=(--output-on-failure -j2 --timeout 900)
targets=()
case "$mode" in
  release) build="$root/build" ;;
  asan)
    build="$root/build-asan"
    flags+=(-DOSPROFILER_ASAN=ON -DOSPROFILER_BUILD_BENCH=OFF)
    # Address errors, leaks and undefined behaviour fail the run. Leaks inside
    # Debian's libraries that we reproduced without our code are suppressed,
    # each with its reason, in tests/sanitizers/lsan.supp.
    export ASAN_OPTIONS="detect_leaks=1:abort_on_error=1:strict_string_checks=1"
    export LSAN_OPTIONS="suppressions=$root/tests/sanitizers/lsan.supp:print_suppressions=0"
    # An uninstrumented consumer cannot link the instrumented libraries: the
    # install test runs in the release pass only.
    ctest_args+=(-LE install)
    export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
    ;;
  tsan)
    build="$root/build-tsan"
    flags+=(-DOSPROFILER_TSAN=ON -DOSPROFILER_BUILD_BENCH=OFF -DOSPROFILER_BUILD_EXAMPLES=OFF)
    # die_after_fork=0: the fork tests' children start threads (a notifier
    # of their own), which ThreadSanitizer supports but refuses by default.
    export TSAN_OPTIONS="halt_on_error=1:second_deadlock_stack=1:die_after_fork=0"
    ctest_args+=(-L concurrency)
    targets=(--target concurrency_tests)
    ;;
esac

echo "== configure ($mode) in $build"
cmake -S "$root" -B "$build" "${flags[@]}" >"$build.configure.log" 2>&1 || { cat "$build.configure.log"; exit 1; }
grep -E "osprofiler: " "$build.configure.log" || true
echo "== build"
if ! cmake --build "$build" -j2 "${targets[@]}" >"$build.build.log" 2>&1; then
  grep -E "error" -A5 "$build.build.log" | head -80
  tail -20 "$build.build.log"
  exit 1
fi
echo "== test"
cd "$build"
ctest "${ctest_args[@]}" "$@"
