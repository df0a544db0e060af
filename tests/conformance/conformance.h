// The adapter conformance suite (shared/spec/adapter-contract.md): one set of
// scenarios run against every adapter on a real database. Each adapter's test
// binary compiles conformance.cpp and instantiates it with its own context:
//
//   INSTANTIATE_TEST_SUITE_P(sqlite_file, conformance,
//       ::testing::Values(osprofiler::testing::context_factory{"sqlite_file", [] {
//         return std::make_unique<my_sqlite_context>(...); }}),
//       osprofiler::testing::factory_name);
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace osprofiler::testing {

// What the suite needs from an adapter. Every method goes through the
// adapter's traced types (never the raw driver), so each is expected to
// produce the trace points named in its comment.
class adapter_context {
 public:
  virtual ~adapter_context() = default;

  // Expected start info.
  virtual std::string system() const = 0;      // db.system
  virtual std::string namespace_() const = 0;  // db.namespace

  // Opens a traced connection whose trace points are named `point_name`:
  // one point with db.api "connect" (or "open") when a profiler is active.
  virtual void connect(const std::string& point_name = "db") = 0;
  // Closes it: one point with db.api "close" (or "disconnect").
  virtual void close() = 0;

  // Runs one statement that returns no rows (DDL, INSERT ...); returns the
  // affected row count the driver reports (-1 when it reports none).
  virtual std::int64_t exec(const std::string& sql) = 0;
  // Runs a query and returns every row, each column as text ("NULL" for null).
  virtual std::vector<std::vector<std::string>> query(const std::string& sql) = 0;
  // Runs `sql` (which has exactly one integer placeholder, written as
  // placeholder()) bound to `value` through a prepared statement, twice,
  // and returns the rows of the second run.
  virtual std::vector<std::vector<std::string>> query_bound(const std::string& sql, std::int64_t value) = 0;
  virtual std::string placeholder() const = 0;  // "?", "$1", ":v" ...

  virtual void begin() = 0;
  virtual void commit() = 0;
  virtual void rollback() = 0;

  // Runs `fn`, which must throw the driver's own exception type for a failing
  // statement; returns true if what reached the caller is that native type
  // (the adapter re-threw it unchanged).
  virtual bool throws_native(const std::function<void()>& fn) = 0;
  // The stop-info key under "db" that carries the driver's error code
  // ("sqlstate" for PostgreSQL, "code" for SQLite ...).
  virtual std::string error_code_key() const = 0;
  // The driver's code for a unique-constraint violation ("23505", 19 as text ...).
  virtual std::string unique_violation_code() const = 0;
};

struct context_factory {
  std::string name;
  std::function<std::unique_ptr<adapter_context>()> make;
};
inline std::string factory_name(const ::testing::TestParamInfo<context_factory>& info) { return info.param.name; }

class conformance : public ::testing::TestWithParam<context_factory> {
 protected:
  void SetUp() override { ctx = GetParam().make(); }
  void TearDown() override { ctx.reset(); }
  std::unique_ptr<adapter_context> ctx;
};

}  // namespace osprofiler::testing
