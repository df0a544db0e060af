// A private database on the test PostgreSQL server, created for one test
// (or suite) and dropped afterwards, so that test binaries sharing the
// server never see each other's tables. Not thread-safe.
#pragma once

#include <string>

namespace osprofiler::testing {

// `uri` with its database name replaced by `dbname`.
std::string with_dbname(const std::string& uri, const std::string& dbname);

class scratch_db {
 public:
  explicit scratch_db(const std::string& tag);
  ~scratch_db();
  scratch_db(const scratch_db&) = delete;
  scratch_db& operator=(const scratch_db&) = delete;

  const std::string& name() const { return name_; }
  std::string tcp_uri() const;     // over TCP (127.0.0.1)
  std::string socket_uri() const;  // over the unix socket

 private:
  std::string name_;
};

}  // namespace osprofiler::testing
