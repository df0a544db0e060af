// The trace stores beyond file://: sqlite:// (the embedded default) and
// postgresql:// / postgres:// (shared with Python OSProfiler), when built.
#pragma once

#include <string>
#include <vector>

namespace osprofiler {

// Registers every built store with register_store() (idempotent, thread-safe).
// init_from_conf() and the CLI call it; programs that call notifier::create()
// or open_store() directly call it once first.
void register_stores();

}  // namespace osprofiler
