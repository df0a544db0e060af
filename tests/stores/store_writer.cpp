// Writes traces to a store through the notifier, like an application would:
//   stores_writer <connection string> <traces> <points per trace> [<base id> <parent id>]
// With ids, the traces continue that trace below that point (as a service
// called by another one does).
// Prints "sent=<n> dropped=<n> failed=<n>" and one "base=<id>" per trace.
#include <cstdio>
#include <cstdlib>
#include <string>

#include "osprofiler/notifier.h"
#include "osprofiler/profiler.h"
#include "osprofiler/stores.h"

int main(int argc, char** argv) {
  if (argc != 4 && argc != 6) {
    std::fprintf(stderr, "usage: %s <connection string> <traces> <points per trace> [<base id> <parent id>]\n",
                 argv[0]);
    return 2;
  }
  osprofiler::register_stores();
  osprofiler::notifier::configure_queue(1 << 20, osprofiler::overflow_policy::block);
  osprofiler::notifier::set(osprofiler::notifier::create(argv[1], {"writer", "stores-test", ""}));
  osprofiler::set_enabled(true);
  const int traces = std::atoi(argv[2]);
  const int points = std::atoi(argv[3]);
  for (int t = 0; t < traces; ++t) {
    if (argc == 6) {
      osprofiler::init("key", argv[4], argv[5]);
    } else {
      osprofiler::init("key");
    }
    std::printf("base=%s\n", osprofiler::get()->base_id().c_str());
    {
      osprofiler::trace root("request", {{"writer", t}});
      for (int p = 0; p < points; ++p) osprofiler::trace point("db", {{"db", {{"statement", "SELECT " + std::to_string(p)}}}});
    }
    osprofiler::clean();
  }
  if (!osprofiler::notifier::flush(std::chrono::seconds(120))) return 1;
  const auto s = osprofiler::notifier::stats();
  std::printf("sent=%llu dropped=%llu failed=%llu\n", static_cast<unsigned long long>(s.sent),
              static_cast<unsigned long long>(s.dropped), static_cast<unsigned long long>(s.failed));
  return 0;
}
