#include "pqxx_test_db.h"

#include <unistd.h>

#include <pqxx/pqxx>

#include "test_support.h"

namespace osprofiler::testing {

std::string with_dbname(const std::string& uri, const std::string& dbname) {
  const auto authority = uri.find("://");
  if (authority == std::string::npos) throw std::invalid_argument("not a URI: " + uri);
  const auto path = uri.find('/', authority + 3);
  const auto query = uri.find('?', authority + 3);
  if (path == std::string::npos || (query != std::string::npos && path > query)) {
    return uri.substr(0, query) + "/" + dbname + (query == std::string::npos ? "" : uri.substr(query));
  }
  const auto end = query == std::string::npos ? uri.size() : query;
  return uri.substr(0, path + 1) + dbname + uri.substr(end);
}

scratch_db::scratch_db(const std::string& tag) {
  static int counter = 0;
  name_ = "pqxx_" + tag + "_" + std::to_string(getpid()) + "_" + std::to_string(counter++);
  ::pqxx::connection admin(pg_uri());
  ::pqxx::nontransaction tx(admin);
  tx.exec("DROP DATABASE IF EXISTS " + tx.quote_name(name_) + " WITH (FORCE)");
  tx.exec("CREATE DATABASE " + tx.quote_name(name_));
}

scratch_db::~scratch_db() {
  try {
    ::pqxx::connection admin(pg_uri());
    ::pqxx::nontransaction tx(admin);
    tx.exec("DROP DATABASE IF EXISTS " + tx.quote_name(name_) + " WITH (FORCE)");
  } catch (...) {  // the server is gone: the fixture removes its files anyway
  }
}

std::string scratch_db::tcp_uri() const { return with_dbname(pg_uri(), name_); }
std::string scratch_db::socket_uri() const { return with_dbname(pg_socket_uri(), name_); }

}  // namespace osprofiler::testing
