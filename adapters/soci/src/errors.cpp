// Failure info of a trace point: what the backend threw, in the terms of the
// adapter contract. The backend-specific codes need the backends' exception
// classes, compiled in only when those backends were found at build time.
#include <exception>
#include <string>

#include <soci/error.h>

#include "osprofiler/options.h"
#include "osprofiler/profiler.h"
#include "osprofiler/store.h"
#include "traced_backend.h"

#ifdef OSPROFILER_SOCI_HAVE_SQLITE3
#include <soci/sqlite3/soci-sqlite3.h>
#endif
#ifdef OSPROFILER_SOCI_HAVE_POSTGRESQL
#include <soci/postgresql/soci-postgresql.h>
#endif

namespace osprofiler::soci::detail {

namespace {

const char* category_name(::soci::soci_error::error_category c) {
  switch (c) {
    case ::soci::soci_error::connection_error: return "connection_error";
    case ::soci::soci_error::invalid_statement: return "invalid_statement";
    case ::soci::soci_error::no_privilege: return "no_privilege";
    case ::soci::soci_error::no_data: return "no_data";
    case ::soci::soci_error::constraint_violation: return "constraint_violation";
    case ::soci::soci_error::unknown_transaction_state: return "unknown_transaction_state";
    case ::soci::soci_error::system_error: return "system_error";
    case ::soci::soci_error::unknown: return "unknown";
  }
  return "unknown";
}

void backend_code(const ::soci::soci_error& e, nlohmann::json& db) {
#ifdef OSPROFILER_SOCI_HAVE_SQLITE3
  if (auto* s = dynamic_cast<const ::soci::sqlite3_soci_error*>(&e)) db["code"] = s->result();
#endif
#ifdef OSPROFILER_SOCI_HAVE_POSTGRESQL
  if (auto* p = dynamic_cast<const ::soci::postgresql_soci_error*>(&e)) db["sqlstate"] = p->sqlstate();
#endif
  (void)e;
  (void)db;
}

}  // namespace

void record_failure(db::call& c, std::string_view query, const std::string* connect_string) noexcept {
  if (!c.recording()) return;
  try {
    const std::exception_ptr ep = std::current_exception();
    if (!ep) return;
    std::string message;
    nlohmann::json db = nlohmann::json::object();
    try {
      std::rethrow_exception(ep);
    } catch (const ::soci::soci_error& e) {
      message = e.what();
      db["category"] = category_name(e.get_error_category());
      backend_code(e, db);
    } catch (const std::exception& e) {
      message = e.what();
    } catch (...) {
      message = "unknown exception";
    }
    // A connect failure has no statement to hide, and its later lines say
    // why (SOCI: "Cannot establish connection to the database.\n" + libpq's
    // reason): only the password goes.
    if (connect_string) {
      message = redact_in(std::move(message), *connect_string);
    } else {
      message = db::scrub_message(message, query, trace_sql(), trace_sql_params());
    }
    c.fail(exception_type_name(ep), std::move(message), std::move(db));
  } catch (...) {
  }
}

}  // namespace osprofiler::soci::detail
