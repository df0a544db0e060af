// Private: the file:// store, JSON lines (one notification per line).
#pragma once

#include <memory>

#include "osprofiler/store.h"

namespace osprofiler::detail {
std::shared_ptr<store> make_file_store(const connection_string& cs, const notifier::collector_args& args);
}
