#include "traced_backend.h"

#include <cxxabi.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <map>
#include <mutex>
#include <typeinfo>
#include <utility>

#include <soci/error.h>
#include <soci/session.h>

#include "osprofiler/notifier.h"
#include "osprofiler/soci/soci.h"

namespace osprofiler::soci {
namespace detail {

namespace {

// db.system must be a literal (db::endpoint): SOCI's backend names map to
// literals, anything else is interned (lives as long as the process).
const char* system_literal(const std::string& name) {
  static const char* const known[] = {"sqlite3", "postgresql", "mysql", "odbc", "oracle", "firebird", "db2", "empty"};
  for (const char* k : known) {
    if (name == k) return k;
  }
  return name.empty() ? "" : db::intern(std::string_view(name))->c_str();
}

// "soci::sqlite3_backend_factory" -> "sqlite3": SOCI names every backend's
// factory type that way, including dynamically loaded ones.
std::string backend_name_of(const ::soci::backend_factory& f) {
  int status = 0;
  char* raw = abi::__cxa_demangle(typeid(f).name(), nullptr, nullptr, &status);
  std::string name = status == 0 && raw ? raw : typeid(f).name();
  std::free(raw);
  const std::string prefix = "soci::", suffix = "_backend_factory";
  if (name.size() > prefix.size() + suffix.size() && name.compare(0, prefix.size(), prefix) == 0 &&
      name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0) {
    return name.substr(prefix.size(), name.size() - prefix.size() - suffix.size());
  }
  return "";
}

}  // namespace

std::string namespace_of(const std::string& cs) {
  const auto scheme = cs.find("://");
  if (scheme != std::string::npos && cs.find('=') > scheme) {
    // URI: scheme://[user[:password]@]host[:port][/dbname][?key=value&...].
    // The host starts after the last '@' (a password may hold '/', '?' or
    // '#'), the path ends at '?' or '#'; without a path, a dbname parameter
    // names it.
    const auto at = cs.rfind('@');
    const auto host = at != std::string::npos && at > scheme ? at + 1 : scheme + 3;
    const auto end = std::min(cs.find_first_of("?#", host), cs.size());
    const auto slash = cs.find('/', host);
    if (slash < end && slash + 1 < end) return cs.substr(slash + 1, end - slash - 1);
    if (end < cs.size() && cs[end] == '?') {
      for (auto k = end + 1; k < cs.size();) {
        const auto amp = std::min(cs.find_first_of("&#", k), cs.size());
        const auto eq = cs.find('=', k);
        if (eq < amp && cs.compare(k, eq - k, "dbname") == 0) return cs.substr(eq + 1, amp - eq - 1);
        if (amp >= cs.size() || cs[amp] == '#') break;
        k = amp + 1;
      }
    }
    return "";
  }
  if (cs.find('=') == std::string::npos) return cs;  // a bare SQLite file name (or ":memory:")
  // key=value pairs: separated by ';' in an ODBC string (DSN=...;UID=...),
  // else by blanks (libpq, SOCI), where values may be quoted and backslash
  // escapes work inside and outside quotes (libpq), and ';' is a character.
  std::string lower(cs);
  for (auto& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  bool odbc = false;
  for (const char* key : {"dsn=", "driver=", "uid=", "pwd=", "filedsn="}) {
    const auto k = lower.find(key);
    odbc = odbc || (k != std::string::npos && (k == 0 || lower[k - 1] == ';' || std::isspace(static_cast<unsigned char>(lower[k - 1]))));
  }
  auto separator = [odbc](char c) { return odbc ? c == ';' : std::isspace(static_cast<unsigned char>(c)) != 0; };
  auto blank = [](char c) { return std::isspace(static_cast<unsigned char>(c)) != 0; };
  std::size_t i = 0;
  while (i < cs.size()) {
    while (i < cs.size() && (separator(cs[i]) || blank(cs[i]))) ++i;
    const auto eq = cs.find('=', i);
    if (eq == std::string::npos) break;
    std::string key = lower.substr(i, eq - i);
    while (!key.empty() && blank(key.back())) key.pop_back();
    std::size_t j = eq + 1;
    while (j < cs.size() && cs[j] == ' ') ++j;
    std::string value;
    std::size_t end = j;
    if (!odbc && j < cs.size() && (cs[j] == '\'' || cs[j] == '"')) {
      for (end = j + 1; end < cs.size() && cs[end] != cs[j]; ++end) {
        if (cs[end] == '\\' && end + 1 < cs.size()) ++end;
        value += cs[end];
      }
      end = std::min(end + 1, cs.size());
    } else {
      for (; end < cs.size() && !separator(cs[end]); ++end) {
        if (!odbc && cs[end] == '\\' && end + 1 < cs.size()) ++end;
        value += cs[end];
      }
      if (odbc) {
        while (!value.empty() && blank(value.back())) value.pop_back();
      }
    }
    if (key == "db" || key == "dbname" || key == "database" || key == "service") return value;
    i = end;
  }
  return "";
}

// ---- factory ----------------------------------------------------------------

traced_factory::traced_factory(const ::soci::backend_factory& inner, const char* system, std::string point_name)
    : inner_(inner), system_(system), point_name_(std::move(point_name)) {}

sd::session_backend* traced_factory::make_session(const ::soci::connection_parameters& params) const {
  db::endpoint ep;
  ep.point_name = db::intern(point_name_);
  ep.system = system_;
  ep.ns = db::intern(std::string_view(namespace_of(params.get_connect_string())));
  db::call c(ep, "connect");
  std::unique_ptr<sd::session_backend> inner;
  try {
    inner.reset(inner_.make_session(params));
  } catch (...) {
    record_failure(c, {}, &params.get_connect_string());  // libpq's parse errors quote it
    throw;
  }
  if (*ep.system == '\0') ep.system = system_literal(inner->get_backend_name());
  return new traced_session_backend(std::move(inner), std::move(ep));
}

// ---- session ----------------------------------------------------------------

traced_session_backend::traced_session_backend(std::unique_ptr<sd::session_backend> inner, db::endpoint ep)
    : inner_(std::move(inner)), ep_(std::move(ep)) {}

traced_session_backend::~traced_session_backend() {
  end_transaction();  // left open: the session goes, and with it the transaction
  db::call c(ep_, "close");
  inner_.reset();
}

void traced_session_backend::begin() {
  sync_failover();
  if (!active()) {
    inner_->begin();
    return;
  }
  end_transaction();
  tx_ = db::call(ep_, "transaction");
  db::call c(ep_, "begin");
  try {
    inner_->begin();
  } catch (...) {
    record_failure(c);
    c.finish();
    record_failure(tx_);
    end_transaction();
    throw;
  }
}

void traced_session_backend::commit() {
  sync_failover();
  {
    db::call c(ep_, "commit");
    try {
      inner_->commit();
    } catch (...) {
      record_failure(c);
      c.finish();
      record_failure(tx_);
      end_transaction();
      throw;
    }
  }
  end_transaction();
}

void traced_session_backend::rollback() {
  sync_failover();
  {
    db::call c(ep_, "rollback");
    try {
      inner_->rollback();
    } catch (...) {
      record_failure(c);
      c.finish();
      record_failure(tx_);
      end_transaction();
      throw;
    }
  }
  end_transaction();
}

sd::statement_backend* traced_session_backend::make_statement_backend() {
  sync_failover();
  std::unique_ptr<sd::statement_backend> inner(inner_->make_statement_backend());
  return new traced_statement_backend(*this, std::move(inner));
}

// ---- statement --------------------------------------------------------------

traced_statement_backend::traced_statement_backend(traced_session_backend& session,
                                                   std::unique_ptr<sd::statement_backend> inner)
    : session_(session), inner_(std::move(inner)) {}

traced_statement_backend::~traced_statement_backend() {
  finish_execution();
  for (param_source* p : uses_) p->orphan();
}

void traced_statement_backend::clean_up() {
  finish_execution();
  inner_->clean_up();
}

void traced_statement_backend::prepare(std::string const& query, sd::statement_type type) {
  session_.sync_failover();  // every call that may reach the server: it may reconnect
  text_.reset();
  if (enabled()) {
    // Kept even with trace_sql off: switching it on applies to statements
    // prepared before (the text is only sent while it is on).
    try {
      text_ = db::make_text(query);
    } catch (...) {
    }
  }
  if (type == sd::st_repeatable_query && active()) {
    db::call c(session_.endpoint(), "prepare", text_);
    try {
      inner_->prepare(query, type);
    } catch (...) {
      record_failure(c, query);
      throw;
    }
    return;
  }
  try {
    inner_->prepare(query, type);
  } catch (...) {
    // A one-time query's prepare is part of its execution (sql << ...):
    // its failure is a failed execute point.
    if (active()) {
      db::call c(session_.endpoint(), "execute", text_);
      record_failure(c, query);
    }
    throw;
  }
}

void traced_statement_backend::start_execution() noexcept {
  nlohmann::json params;
  if (trace_sql_params() && !uses_.empty()) {
    try {
      params = render_params();
    } catch (...) {
      params = nullptr;
    }
  }
  exec_ = db::call(db::call::deferred{});
  batch_recorded_ = false;
  exec_.begin(session_.endpoint(), "execute", text_, std::move(params));
}

int traced_statement_backend::prepare_for_describe() {
  // Dynamic rows (soci::row, rowset<row>): some backends (PostgreSQL) run the
  // query here, so the execution point starts here; execute() continues it.
  finish_execution();
  session_.sync_failover();
  described_ = false;
  if (active()) {
    start_execution();
    described_ = exec_.recording();
  }
  try {
    return inner_->prepare_for_describe();
  } catch (...) {
    record_failure(exec_, statement_text());
    exec_.finish();
    described_ = false;
    throw;
  }
}

void traced_statement_backend::describe_column(int col, ::soci::data_type& dtype, std::string& name) {
  session_.sync_failover();
  try {
    inner_->describe_column(col, dtype, name);
  } catch (...) {
    record_failure(exec_, statement_text());
    exec_.finish();
    described_ = false;
    throw;
  }
}

sd::statement_backend::exec_fetch_result traced_statement_backend::execute(int number) {
  if (described_) {
    described_ = false;  // continue the point prepare_for_describe() started
  } else {
    finish_execution();
    if (active()) start_execution();
  }
  session_.sync_failover();
  executed_ = true;
  if (!exec_.recording()) return inner_->execute(number);
  exec_fetch_result r;
  try {
    r = inner_->execute(number);
  } catch (...) {
    record_failure(exec_, statement_text());
    exec_.finish();
    throw;
  }
  account(r, number, true);
  return r;
}

sd::statement_backend::exec_fetch_result traced_statement_backend::fetch(int number) {
  session_.sync_failover();  // single-row mode fetches from the server
  if (!exec_.recording()) return inner_->fetch(number);
  exec_fetch_result r;
  try {
    r = inner_->fetch(number);
  } catch (...) {
    record_failure(exec_, statement_text());
    exec_.finish();
    throw;
  }
  account(r, number, false);
  return r;
}

void traced_statement_backend::account(exec_fetch_result r, int number, bool from_execute) noexcept {
  try {
    // Vector elements: the batch is the vectors' size (execute(0) + fetch
    // loops learn it at the first fetch).
    if (bulk_ && number > 0 && (from_execute || !batch_recorded_)) {
      exec_.stop_attribute("batch_size", number);
      batch_recorded_ = true;
    }
    if (intos_ == 0) {
      // No rows come back: DDL / DML, the count is the affected rows.
      long long n = -1;
      try {
        n = inner_->get_affected_rows();
      } catch (...) {
      }
      if (n >= 0) exec_.rows(n);
      exec_.finish();
      return;
    }
    // Rows fetched, as SOCI itself counts them (statement_impl::fetch).
    if (number > 0) {
      const long long got = r == ef_success ? number : std::max(0, inner_->get_number_of_rows());
      exec_.add_rows(got);
    } else if (exec_.rows() < 0) {
      exec_.rows(0);  // execute without data exchange: the fetch loop follows
    }
    if (r == ef_no_data && number > 0) {
      exec_.finish();
    } else {
      // More fetches may follow: the point ends at the last one, and user
      // code in between is not nested under it.
      exec_.end_here();
    }
  } catch (...) {
    exec_.finish();
  }
}

sd::standard_into_type_backend* traced_statement_backend::make_into_type_backend() {
  rebinding();
  ++intos_;
  return inner_->make_into_type_backend();
}

sd::vector_into_type_backend* traced_statement_backend::make_vector_into_type_backend() {
  rebinding();
  ++intos_;
  bulk_ = true;
  return inner_->make_vector_into_type_backend();
}

void traced_statement_backend::forget(param_source* p) noexcept {
  for (auto it = uses_.begin(); it != uses_.end(); ++it) {
    if (*it == p) {
      uses_.erase(it);
      return;
    }
  }
}

nlohmann::json traced_statement_backend::render_params() const {
  std::vector<std::pair<int, nlohmann::json>> positional;
  nlohmann::json named = nlohmann::json::object();
  for (const param_source* p : uses_) p->render(positional, named);
  if (!named.empty()) return named;
  std::stable_sort(positional.begin(), positional.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  nlohmann::json out = nlohmann::json::array();
  for (auto& [pos, v] : positional) out.push_back(std::move(v));
  return out;
}

}  // namespace detail

// ---- public API ---------------------------------------------------------------

namespace {

std::mutex g_mutex;

struct named_entry {
  std::unique_ptr<::soci::connection_parameters> keep;  // keeps the dynamic backend loaded
  const ::soci::backend_factory* traced = nullptr;
};

}  // namespace

const ::soci::backend_factory& traced(const ::soci::backend_factory& backend, std::string_view point_name) {
  const ::soci::backend_factory* inner = &backend;
  if (auto* t = dynamic_cast<const detail::traced_factory*>(inner)) inner = &t->inner();
  // Never freed: sessions keep a pointer to their factory for reconnect().
  static auto* factories =
      new std::map<std::pair<const ::soci::backend_factory*, std::string>, std::unique_ptr<detail::traced_factory>>;
  std::lock_guard<std::mutex> lock(g_mutex);
  auto& slot = (*factories)[{inner, std::string(point_name)}];
  if (!slot) {
    slot = std::make_unique<detail::traced_factory>(*inner, detail::system_literal(detail::backend_name_of(*inner)),
                                                    std::string(point_name));
  }
  return *slot;
}

const ::soci::backend_factory& traced(const std::string& backend_name, std::string_view point_name) {
  static auto* named = new std::map<std::pair<std::string, std::string>, named_entry>;
  {
    std::lock_guard<std::mutex> lock(g_mutex);
    auto it = named->find({backend_name, std::string(point_name)});
    if (it != named->end()) return *it->second.traced;
  }
  // Loads the backend (throws soci_error naming it when it cannot).
  auto keep = std::make_unique<::soci::connection_parameters>(backend_name, std::string());
  const ::soci::backend_factory& inner = *keep->get_factory();
  const ::soci::backend_factory* t = &traced(inner, point_name);
  std::lock_guard<std::mutex> lock(g_mutex);
  auto& e = (*named)[{backend_name, std::string(point_name)}];
  if (!e.traced) {
    e.keep = std::move(keep);
    e.traced = t;
  }
  return *e.traced;
}

::soci::details::session_backend* native_backend(::soci::session& s) noexcept {
  auto* b = s.get_backend();
  if (auto* t = dynamic_cast<detail::traced_session_backend*>(b)) return t->inner();
  return b;
}

bool is_traced(::soci::session& s) noexcept {
  return dynamic_cast<detail::traced_session_backend*>(s.get_backend()) != nullptr;
}

namespace {
// SOCI's own rule (connection_parameters): "backend://connect string".
std::pair<std::string, std::string> split_full(const std::string& full) {
  const auto pos = full.find("://");
  if (pos == std::string::npos) throw ::soci::soci_error("No backend name found in " + full);
  return {full.substr(0, pos), full.substr(pos + 3)};
}
}  // namespace

::soci::connection_parameters traced(const ::soci::connection_parameters& params) {
  if (!params.get_factory()) return params;  // SOCI says what is missing when it is opened
  {
    // Never freed, one per factory: keeps a dynamically loaded backend loaded.
    static auto* kept = new std::map<const ::soci::backend_factory*, ::soci::connection_parameters>;
    std::lock_guard<std::mutex> lock(g_mutex);
    kept->emplace(params.get_factory(), params);
  }
  ::soci::connection_parameters out(traced(*params.get_factory()), params.get_connect_string());
  std::string value;
  if (params.get_option(::soci::option_reconnect, value)) out.set_option(::soci::option_reconnect, value);
  return out;
}

session::session(const std::string& full_connect_string)
    : ::soci::session(traced(split_full(full_connect_string).first), split_full(full_connect_string).second) {}

void session::open(const std::string& full_connect_string) {
  auto [name, rest] = split_full(full_connect_string);
  ::soci::session::open(traced(name), rest);
}

}  // namespace osprofiler::soci
