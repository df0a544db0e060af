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

// The database file a sqlite:// connection string names, as the SQLite store
// opens it: sqlite:///traces.db is traces.db in the working directory,
// sqlite:////var/lib/traces.db is /var/lib/traces.db (SQLAlchemy's rule).
// Throws std::invalid_argument naming the string when it names no file.
std::string sqlite_file(const std::string& connection_string);

}  // namespace osprofiler
