#!/usr/bin/env bash
# usage: install_consumer_test.sh <build dir> <consumer source dir>
set -euo pipefail
build=$1
consumer=$2
work=$(mktemp -d /tmp/osprofiler-install-XXXXXX)
trap 'rm -rf "$work"' EXIT

cmake --install "$build" --prefix "$work/prefix" >/dev/null
test -f "$work/prefix/lib/cmake/osprofiler/osprofilerConfig.cmake"
test -f "$work/prefix/lib/pkgconfig/osprofiler.pc"
test -f "$work/prefix/include/osprofiler/profiler.h"

# CMake package config with components.
cmake -S "$consumer" -B "$work/build" -DCMAKE_PREFIX_PATH="$work/prefix" >"$work/configure.log" 2>&1 \
  || { cat "$work/configure.log"; exit 1; }
cmake --build "$work/build" -j2 >"$work/build.log" 2>&1 || { cat "$work/build.log"; exit 1; }
out=$("$work/build/consumer" "$work/trace.jsonl")
echo "$out"
grep -q "^notifications: 4$" <<<"$out"

# A missing component is reported as missing.
if cmake -S "$consumer" -B "$work/build2" -DCMAKE_PREFIX_PATH="$work/prefix" -DEXTRA_COMPONENT=no_such_thing \
     >"$work/configure2.log" 2>&1; then
  echo "find_package accepted an unknown component"; exit 1
fi

# pkg-config.
PKG_CONFIG_PATH="$work/prefix/lib/pkgconfig" pkg-config --cflags --libs osprofiler | grep -q -- "-losprofiler_core"
PKG_CONFIG_PATH="$work/prefix/lib/pkgconfig" g++ -std=c++17 -o "$work/consumer_pc" "$consumer/main.cpp" \
  $(PKG_CONFIG_PATH="$work/prefix/lib/pkgconfig" pkg-config --cflags --libs osprofiler)
"$work/consumer_pc" "$work/trace2.jsonl" | grep -q "^notifications: 4$"
echo "install consumer: ok"
