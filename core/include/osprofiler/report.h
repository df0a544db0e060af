// The report of one trace (spec section 4): the tree of trace points with
// times in whole milliseconds since the earliest notification (truncated),
// per-name stats, exceptions, raw payloads. Output is interchangeable with
// Python OSProfiler's `trace show --json`.
#pragma once

#include <cstddef>
#include <vector>

#include <nlohmann/json.hpp>

#include "osprofiler/notifier.h"

namespace osprofiler {

// How deep a report nests points: a deeper point becomes a root (counted in
// info.flattened), so that readers may walk reports recursively.
inline constexpr std::size_t max_report_depth = 1000;

// Builds the report. Tolerates any input: missing starts or stops, duplicate
// ids, cycles (broken into roots), unparsable timestamps (skipped and
// counted in info.skipped). Never throws for data it is given.
// `threads`: how many threads build it (the caller's included, at most
// 64); 0 chooses: one below 20,000 notifications, else one per core, at
// most four. The result does not depend on it.
nlohmann::json build_report(const std::vector<notification>& notifications, unsigned threads = 0);
// The same, moving the raw payloads and ids out of `notifications` (no
// copies; store::get_report() uses it).
nlohmann::json build_report(std::vector<notification>&& notifications, unsigned threads = 0);

}  // namespace osprofiler
