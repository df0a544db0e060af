// SOCI's SQLite backend factory, from a translation unit of its own:
// <soci/sqlite3/soci-sqlite3.h> wraps <sqlite3.h> in a namespace, so it
// cannot share one with the SQLite adapter's headers.
#include <soci/sqlite3/soci-sqlite3.h>

namespace osprofiler::testing {
const ::soci::backend_factory& soci_sqlite3_factory() { return ::soci::sqlite3; }
}  // namespace osprofiler::testing
