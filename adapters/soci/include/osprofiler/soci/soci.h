// The SOCI adapter: traced SOCI sessions for every SOCI backend.
//
// The tracing layer is a backend decorator. traced(soci::sqlite3) returns a
// soci::backend_factory whose sessions and statements wrap the real backend's
// ones, so everything SOCI runs (sql << ..., prepare << + statement, rowset,
// procedure, transaction, bulk vectors, the queries SOCI issues for itself)
// goes through one trace point per DB API call (osprofiler/db.h). It can be
// given to a plain soci::session, to soci::connection_pool sessions, or used
// through osprofiler::soci::session, constructed like soci::session.
//
// Thread-safety: traced() may be called from any thread; the factories it
// returns live until the process ends and are immutable. Sessions and
// statements keep SOCI's rules (one thread at a time per session); their
// trace points go to the calling thread's profiler.
#pragma once

#include <string>
#include <string_view>

#include <soci/connection-parameters.h>
#include <soci/connection-pool.h>
#include <soci/session.h>
#include <soci/soci-backend.h>

namespace osprofiler::soci {

// The traced decorator of `backend`, with trace points named `point_name`
// (like OSProfiler's add_tracing(..., name)). One factory per (backend,
// point_name), kept for the whole process, so the reference may be handed to
// soci::session and connection_pool without lifetime worries.
// db.system is the backend's name ("sqlite3", "postgresql", ...), from the
// factory's type (soci::<name>_backend_factory) or, failing that, from the
// session backend's get_backend_name().
const ::soci::backend_factory& traced(const ::soci::backend_factory& backend, std::string_view point_name = "db");

// The same for a backend loaded by name through SOCI's dynamic backend loader
// ("sqlite3", "postgresql", ...). Throws soci::soci_error, like soci::session,
// when the backend cannot be loaded.
const ::soci::backend_factory& traced(const std::string& backend_name, std::string_view point_name = "db");

// The real backend under a traced session (to reach e.g. the sqlite3* of a
// soci::sqlite3_session_backend), or the session's own backend when it is not
// traced; nullptr when the session is not open.
::soci::details::session_backend* native_backend(::soci::session& s) noexcept;

// True when `s` is open on a traced backend.
bool is_traced(::soci::session& s) noexcept;

// `params` with its backend traced: the same connect string, and SOCI's
// option_reconnect if set (SOCI gives no way to list other options). A copy
// of `params` is kept for the process, as traced(name) does, so that a
// backend SOCI loaded for them stays loaded under the traced factory.
::soci::connection_parameters traced(const ::soci::connection_parameters& params);

// A soci::session whose backend is traced. Constructed and opened like
// soci::session; everything else is soci::session's own API.
//   osprofiler::soci::session sql(soci::sqlite3, "db=app.db");
//   osprofiler::soci::session sql("postgresql://dbname=app");
// A session of a soci::connection_pool is traced when the pool's sessions
// were opened with traced(backend).
class session : public ::soci::session {
 public:
  session() = default;
  explicit session(const ::soci::connection_parameters& params) : ::soci::session(traced(params)) {}
  explicit session(::soci::connection_pool& pool) : ::soci::session(pool) {}
  session(const ::soci::backend_factory& backend, const std::string& connect_string)
      : ::soci::session(traced(backend), connect_string) {}
  session(const std::string& backend_name, const std::string& connect_string)
      : ::soci::session(traced(backend_name), connect_string) {}
  // "backend://connect string", as accepted by soci::session.
  explicit session(const std::string& full_connect_string);

  void open(const ::soci::backend_factory& backend, const std::string& connect_string) {
    ::soci::session::open(traced(backend), connect_string);
  }
  void open(const std::string& backend_name, const std::string& connect_string) {
    ::soci::session::open(traced(backend_name), connect_string);
  }
  void open(const std::string& full_connect_string);
  void open(const ::soci::connection_parameters& params) { ::soci::session::open(traced(params)); }
  // No data members: code that deletes it through a soci::session pointer
  // (soci::session's destructor is not virtual) stays well defined in size.
};

}  // namespace osprofiler::soci
