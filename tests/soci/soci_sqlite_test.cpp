// The SOCI adapter on SQLite: the conformance suite and the usage forms, on a
// database file and on :memory:.
#include <atomic>

#include <soci/sqlite3/soci-sqlite3.h>

#include "soci_context.h"

namespace osprofiler::testing {
namespace {

bool is_sqlite_error(const std::exception_ptr& e) {
  try {
    std::rethrow_exception(e);
  } catch (const ::soci::sqlite3_soci_error&) {
    return true;
  } catch (...) {
    return false;
  }
}

soci_backend sqlite_file() {
  soci_backend b;
  b.name = "sqlite_file";
  b.factory = &::soci::sqlite3;
  b.make_db = [] {
    static std::atomic<int> n{0};
    const std::string path = (temp_dir("soci") / ("t" + std::to_string(n++) + ".db")).string();
    return std::make_pair("db=" + path + " timeout=5", path);
  };
  b.system = "sqlite3";
  b.code_key = "code";
  b.unique_code = "19";  // SQLITE_CONSTRAINT
  b.is_native = is_sqlite_error;
  return b;
}

}  // namespace

INSTANTIATE_TEST_SUITE_P(soci, conformance, ::testing::ValuesIn(conformance_for(sqlite_file())), factory_name);

}  // namespace osprofiler::testing
