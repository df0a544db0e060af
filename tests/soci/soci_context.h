// The SOCI adapter under test: one description per backend (SQLite file,
// SQLite :memory:, PostgreSQL), the conformance context built on it, and
// helpers shared by the SOCI test binaries.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include <soci/soci.h>

#include "conformance.h"
#include "osprofiler/soci/soci.h"
#include "test_support.h"

namespace osprofiler::testing {

struct soci_backend {
  std::string name;
  const ::soci::backend_factory* factory = nullptr;
  // Makes a fresh database for one test: {connect string, expected db.namespace}.
  std::function<std::pair<std::string, std::string>()> make_db;
  std::string system;                // expected db.system
  std::string code_key, unique_code;             // db.<code_key> of a unique violation
  // True if `e` holds the backend's own exception type.
  std::function<bool(const std::exception_ptr&)> is_native;
  std::string placeholder = ":v";
  bool pool_ok = true;
};

inline std::string cell_text(const ::soci::row& r, std::size_t i) {
  if (r.get_indicator(i) == ::soci::i_null) return "NULL";
  switch (r.get_properties(i).get_data_type()) {
    case ::soci::dt_string: return r.get<std::string>(i);
    case ::soci::dt_integer: return std::to_string(r.get<int>(i));
    case ::soci::dt_long_long: return std::to_string(r.get<long long>(i));
    case ::soci::dt_unsigned_long_long: return std::to_string(r.get<unsigned long long>(i));
    case ::soci::dt_double: return std::to_string(r.get<double>(i));
    default: return "?";
  }
}

inline std::vector<std::string> row_text(const ::soci::row& r) {
  std::vector<std::string> out;
  for (std::size_t i = 0; i < r.size(); ++i) out.push_back(cell_text(r, i));
  return out;
}

// The conformance suite's view of a SOCI backend: every call goes through a
// traced session (osprofiler::soci::session for the default point name, a
// plain soci::session on traced() otherwise).
class soci_context : public adapter_context {
 public:
  explicit soci_context(soci_backend b) : b_(std::move(b)) { std::tie(cs_, ns_) = b_.make_db(); }

  std::string system() const override { return b_.system; }
  std::string namespace_() const override { return ns_; }

  void connect(const std::string& point_name) override {
    if (point_name == "db") {
      sql_ = std::make_unique<osprofiler::soci::session>(*b_.factory, cs_);
    } else {
      sql_ = std::make_unique<::soci::session>(osprofiler::soci::traced(*b_.factory, point_name), cs_);
    }
  }
  void close() override { sql_.reset(); }

  std::int64_t exec(const std::string& sql) override {
    ::soci::statement st = (sql_->prepare << sql);
    st.execute(true);
    return st.get_affected_rows();
  }
  std::vector<std::vector<std::string>> query(const std::string& sql) override {
    std::vector<std::vector<std::string>> out;
    ::soci::rowset<::soci::row> rs = (sql_->prepare << sql);
    for (const auto& r : rs) out.push_back(row_text(r));
    return out;
  }
  std::vector<std::vector<std::string>> query_bound(const std::string& sql, std::int64_t value) override {
    long long v = value;
    ::soci::row r;
    ::soci::statement st = (sql_->prepare << sql, ::soci::use(v), ::soci::into(r));
    std::vector<std::vector<std::string>> out;
    for (int run = 0; run < 2; ++run) {
      out.clear();
      if (st.execute(true)) {
        do out.push_back(row_text(r));
        while (st.fetch());
      }
    }
    return out;
  }
  std::string placeholder() const override { return b_.placeholder; }

  void begin() override { sql_->begin(); }
  void commit() override { sql_->commit(); }
  void rollback() override { sql_->rollback(); }

  bool throws_native(const std::function<void()>& fn) override {
    try {
      fn();
    } catch (...) {
      return b_.is_native(std::current_exception());
    }
    return false;
  }
  std::string error_code_key() const override { return b_.code_key; }
  std::string unique_violation_code() const override { return b_.unique_code; }

 private:
  soci_backend b_;
  std::string cs_, ns_;
  std::unique_ptr<::soci::session> sql_;
};

// gtest prints a parameter with this instead of its bytes.
inline void PrintTo(const soci_backend& b, std::ostream* os) { *os << b.name; }

// The usage-form tests (soci_forms.cpp), parametrised by backend.
class soci_forms : public ::testing::TestWithParam<soci_backend> {};
inline std::string backend_name(const ::testing::TestParamInfo<soci_backend>& info) { return info.param.name; }

inline std::vector<context_factory> conformance_for(const soci_backend& b) {
  return {context_factory{b.name, [b] { return std::make_unique<soci_context>(b); }}};
}

}  // namespace osprofiler::testing
