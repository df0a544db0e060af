#include <string>
#include <string_view>
#include <vector>

#include "osprofiler/options.h"
#include "osprofiler/pqxx/detail.h"
#include "osprofiler/profiler.h"

namespace osprofiler::pqxx::detail {
failure current_failure() noexcept {
  failure f;
  try {
    const std::exception_ptr e = std::current_exception();
    f.etype = exception_type_name(e);
    std::string message, query, sqlstate;
    try {
      std::rethrow_exception(e);
    } catch (const ::pqxx::sql_error& ex) {
      message = ex.what();
      query = ex.query();
      sqlstate = ex.sqlstate();
#if PQXX_VERSION_MAJOR < 7
    // libpqxx 6 derives these from pqxx::failure, without the SQLSTATE it
    // picked them by; each stands for exactly one code.
    } catch (const ::pqxx::serialization_failure& ex) {
      message = ex.what();
      sqlstate = "40001";
    } catch (const ::pqxx::statement_completion_unknown& ex) {
      message = ex.what();
      sqlstate = "40003";
    } catch (const ::pqxx::deadlock_detected& ex) {
      message = ex.what();
      sqlstate = "40P01";
#endif
    } catch (const std::exception& ex) {
      message = ex.what();
    } catch (...) {
      message = "non-standard exception";
    }
    f.message = scrub_message(message, query, trace_sql(), trace_sql_params());
    if (!sqlstate.empty()) f.db = {{"sqlstate", sqlstate}};
  } catch (...) {  // out of memory: record what was gathered
  }
  return f;
}

void apply(db::call& c, const failure& f) noexcept {
  if (!c.recording() || f.etype.empty()) return;
  try {
    c.fail(f.etype, f.message, f.db);
  } catch (...) {
  }
}

void count_rows(db::call& c, const ::pqxx::result& r) noexcept {
  try {
    if (r.columns() > 0) {
      c.rows(static_cast<std::int64_t>(r.size()));
      return;
    }
    // A command: libpqxx 6 keeps the command tag private, so a command
    // without a count (DDL) reports 0, as affected_rows() does.
    c.rows(static_cast<std::int64_t>(r.affected_rows()));
  } catch (...) {
  }
}

}  // namespace osprofiler::pqxx::detail
