#include "osprofiler/stores.h"

#include <mutex>
#include <stdexcept>

#include "osprofiler/store.h"
#include "rows.h"

namespace osprofiler {

void register_stores() {
  static std::once_flag once;
  std::call_once(once, [] {
    register_store("sqlite", detail::make_sqlite_store);
#ifdef OSPROFILER_HAVE_POSTGRESQL
    auto pg = [](const connection_string& cs, const notifier::collector_args& args) {
      return detail::make_pg_store(cs, args);
    };
    register_store("postgresql", pg);
    register_store("postgres", pg);
    register_store("postgresql+psycopg2", pg);  // SQLAlchemy's spelling, common in OpenStack configs
#endif
  });
}

std::string sqlite_file(const std::string& connection_string) {
  const auto cs = connection_string::parse(connection_string);
  if (cs.scheme != "sqlite") {
    throw std::invalid_argument("connection string '" + redact(connection_string) + "' is not a sqlite:// one");
  }
  return detail::sqlite_path(cs);
}

}  // namespace osprofiler
