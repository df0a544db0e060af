// Fuzz target: the [profiler] configuration loader (osprofiler::load_options)
// on a file holding the input bytes.
// Invariants: it returns options or throws config_error (nothing else), the
// limits it returns are within their documented ranges, and no warning
// repeats the value of hmac_keys.
#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <string>

#include "fuzz_support.h"
#include "osprofiler/config.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const std::string path = [] {
    // The environment overrides would mask what the file says.
    for (const char* v : {"OSPROFILER_ENABLED", "OSPROFILER_TRACE_SQL", "OSPROFILER_TRACE_SQL_PARAMS",
                          "OSPROFILER_HMAC_KEYS", "OSPROFILER_CONNECTION_STRING", "OSPROFILER_PROJECT",
                          "OSPROFILER_SERVICE", "OSPROFILER_QUEUE_SIZE", "OSPROFILER_OVERFLOW_POLICY",
                          "OSPROFILER_MAX_STATEMENT_BYTES"}) {
      ::unsetenv(v);
    }
    return (osprofiler::fuzz::scratch_dir() / "profiler.conf").string();
  }();
  {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
  }
  std::vector<std::string> warnings;
  try {
    const osprofiler::options o = osprofiler::load_options(path, &warnings);
    FUZZ_CHECK(o.queue_size >= 2);
    FUZZ_CHECK(o.overflow == osprofiler::overflow_policy::drop || o.overflow == osprofiler::overflow_policy::block);
    for (const auto& w : warnings) {
      FUZZ_CHECK(w.find(path) != std::string::npos);  // every warning says which file
      // An unknown key is quoted in the warning; the hmac_keys value never is
      // (unless the same text is also written as a key name).
      if (o.hmac_keys.size() >= 4 && w.find(o.hmac_keys) != std::string::npos) {
        const std::string text(reinterpret_cast<const char*>(data), size);
        std::size_t count = 0;
        for (auto p = text.find(o.hmac_keys); p != std::string::npos; p = text.find(o.hmac_keys, p + 1)) ++count;
        FUZZ_CHECK(count >= 2);
      }
    }
  } catch (const osprofiler::config_error& e) {
    FUZZ_CHECK(std::string(e.what()).find(path) != std::string::npos);
  }
  return 0;
}
