// Fuzz target: connection strings (connection_string::parse, redact,
// notifier::create, open_store). Strings for file:// and sqlite:// are
// re-rooted under a private scratch directory, and postgresql:// strings are
// only parsed: the target never creates files elsewhere nor connects to a
// network host.
// Invariants: parse() either throws std::invalid_argument or splits the text
// exactly; an unknown scheme is refused with std::invalid_argument naming
// it; a store that opens writes a notification and reads it back.
#include <cstdint>
#include <filesystem>
#include <string>

#include "fuzz_support.h"
#include "osprofiler/notifier.h"
#include "osprofiler/store.h"
#include "osprofiler/stores.h"

namespace {

bool is_pg(const std::string& scheme) {
  return scheme == "postgresql" || scheme == "postgres" || scheme == "postgresql+psycopg2";
}

// The input's path made relative: no '/' or NUL, so it stays in `dir`.
std::string rerooted(const std::string& rest, const std::filesystem::path& dir) {
  std::string name;
  for (char c : rest) name += (c == '/' || c == '\0') ? '_' : c;
  if (name.empty() || name == "." || name == "..") name += "x";
  return (dir / name.substr(0, 200)).string();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const bool once = [] {
    osprofiler::register_stores();
    osprofiler::notifier::set_error_handler([](const std::string&) {});
    return true;
  }();
  (void)once;
  using namespace osprofiler;
  const std::string text(reinterpret_cast<const char*>(data), size);

  const std::string red = redact(text);
  FUZZ_CHECK(red.size() <= text.size() + 3);

  connection_string cs;
  try {
    cs = connection_string::parse(text);
  } catch (const std::invalid_argument& e) {
    FUZZ_CHECK(std::string(e.what()).find("connection string") != std::string::npos);
    return 0;
  }
  const auto sep = text.find("://");
  FUZZ_CHECK(sep != std::string::npos && sep == cs.scheme.size());
  FUZZ_CHECK(cs.rest == text.substr(sep + 3));
  FUZZ_CHECK(cs.text == text);
  for (char c : cs.scheme) {
    FUZZ_CHECK((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' || c == '.' || c == '-');
  }

  if (is_pg(cs.scheme)) return 0;  // would connect to whatever host the input names
  if (cs.scheme != "file" && cs.scheme != "sqlite") {
    bool refused = false;
    try {
      notifier::create(text);
    } catch (const std::invalid_argument& e) {
      refused = std::string(e.what()).find("unknown scheme") != std::string::npos;
    }
    FUZZ_CHECK(refused);
    refused = false;
    try {
      open_store(text);
    } catch (const std::invalid_argument& e) {
      refused = std::string(e.what()).find("unknown scheme") != std::string::npos;
    }
    FUZZ_CHECK(refused);
    return 0;
  }

  const auto dir = fuzz::scratch_dir() / "stores";
  std::filesystem::create_directories(dir);
  const std::string safe = cs.scheme + ":///" + rerooted(cs.rest, dir);
  try {
    auto c = notifier::create(safe, {"project", "service", "host"});
    FUZZ_CHECK(c != nullptr);
    FUZZ_CHECK(c->project() == "project");
    auto s = open_store(safe);
    FUZZ_CHECK(s != nullptr);
    notification n;
    n.name = "db-start";
    n.base_id = n.parent_id = n.trace_id = "11111111-1111-4111-8111-111111111111";
    n.timestamp = "2024-01-01T00:00:00.000000";
    n.info = {{"host", "h"}};
    s->write({n});
    s->flush();
    const auto back = s->load(n.base_id);
    FUZZ_CHECK(back.size() == 1 && back[0].name == "db-start");
  } catch (const std::invalid_argument&) {
  } catch (const std::runtime_error&) {
    // Opening failed (e.g. a name the file system refuses): a clear error.
  }
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
  return 0;
}
