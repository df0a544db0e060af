#include <climits>
#include <utility>

#include "executions.h"
#include "osprofiler/sqlite/connection.h"
#include "state.h"

namespace osprofiler::sqlite {

connection::connection(const std::string& filename, int flags, const char* vfs, std::string point_name)
    : pending_name_(std::move(point_name)) {
  open(filename, flags, vfs);
}

connection::connection(connection&& other) noexcept
    : db_(std::exchange(other.db_, nullptr)),
      state_(std::move(other.state_)),
      pending_name_(std::move(other.pending_name_)) {}

connection& connection::operator=(connection&& other) noexcept {
  if (this != &other) {
    close();
    db_ = std::exchange(other.db_, nullptr);
    state_ = std::move(other.state_);
    pending_name_ = std::move(other.pending_name_);
  }
  return *this;
}

connection::~connection() { close(); }

void connection::open(const std::string& filename, int flags, const char* vfs) {
  close();
  auto st = std::make_shared<detail::connection_state>();
  st->ep.point_name = db::intern(pending_name_);
  st->ep.system = "sqlite";
  st->ep.ns = db::intern(std::string_view(filename));
  db::call c(st->ep, "connect");
  sqlite3* db = nullptr;
  const int rc = sqlite3_open_v2(filename.c_str(), &db, flags, vfs);
  if (rc != SQLITE_OK) {
    detail::record_failure(c, db, rc);
    c.finish();
    const int extended = db ? sqlite3_extended_errcode(db) : rc;
    error e(rc & 0xff, extended, db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
    sqlite3_close(db);
    throw e;
  }
  sqlite3_progress_handler(db, detail::progress_steps, &detail::on_progress, nullptr);
  st->db = db;
  db_ = db;
  state_ = std::move(st);
}

int connection::try_open(const std::string& filename, int flags, const char* vfs) noexcept {
  try {
    open(filename, flags, vfs);
    return SQLITE_OK;
  } catch (const error& e) {
    return e.code();
  } catch (...) {
    return SQLITE_NOMEM;
  }
}

void connection::close() noexcept {
  if (!db_) return;
  detail::connection_state& st = *state_;
  // SQLite rolls an open transaction back on close: its point ends here.
  st.end_transaction();
  {
    db::call c(st.ep, "close");
    sqlite3_close_v2(db_);
  }
  st.db = nullptr;
  db_ = nullptr;
  state_.reset();
}

void connection::set_point_name(std::string name) {
  if (state_) state_->ep.point_name = db::intern(name);
  pending_name_ = std::move(name);
}

const std::string& connection::point_name() const noexcept { return pending_name_; }

const std::string& connection::name_space() const noexcept {
  static const std::string none;
  return state_ && state_->ep.ns ? *state_->ep.ns : none;
}

statement connection::prepare(std::string_view sql) {
  statement out;
  const int rc = try_prepare(sql, out);
  if (rc != SQLITE_OK) raise(rc, trace_sql() ? std::string(sql).c_str() : nullptr);
  return out;
}

int connection::try_prepare(std::string_view sql, statement& out) noexcept {
  out.finalize();
  if (!db_) return SQLITE_MISUSE;
  if (sql.size() > static_cast<std::size_t>(INT_MAX)) return SQLITE_TOOBIG;
  db::call c;
  if (osprofiler::active()) {
    try {
      c.begin(state_->ep, "prepare", trace_sql() ? db::make_text(sql) : db::shared_text{});
    } catch (...) {
    }
  }
  sqlite3_stmt* stmt = nullptr;
  const int rc = sqlite3_prepare_v2(db_, sql.data(), static_cast<int>(sql.size()), &stmt, nullptr);
  if (rc != SQLITE_OK) {
    detail::record_failure(c, db_, rc);
    return rc;
  }
  if (stmt) out = statement(stmt, state_);
  return rc;
}

namespace detail {
// What failed, taken before the failing statement is finalized.
struct failure {
  int code = SQLITE_OK;
  int extended = SQLITE_OK;
  std::string message;
  std::string statement;
};
}  // namespace detail

// Runs every statement of `script`; fills *f (when given) on failure.
int connection::run_script(std::string_view script, detail::failure* f) noexcept {
  sqlite3* const db = db_;
  const std::shared_ptr<detail::connection_state>& state = state_;
  const char* p = script.data();
  const char* const end = p + script.size();
  int rc = SQLITE_OK;
  auto fill = [&](int code, std::string_view sql) {
    if (!f) return;
    try {
      f->code = code & 0xff;
      f->extended = sqlite3_extended_errcode(db);
      if ((f->extended & 0xff) != f->code) f->extended = code;
      f->message = sqlite3_errmsg(db);
      if (trace_sql()) f->statement.assign(sql.data(), sql.size());
    } catch (...) {
    }
  };
  while (p < end) {
    // Leading blanks are not part of the statement's text.
    while (p < end && (*p == ' ' || *p == '\n' || *p == '\t' || *p == '\r' || *p == '\f' || *p == '\v')) ++p;
    if (p == end) break;
    sqlite3_stmt* stmt = nullptr;
    const char* tail = nullptr;
    const auto left = static_cast<std::size_t>(end - p);
    rc = sqlite3_prepare_v2(db, p, static_cast<int>(left > INT_MAX ? INT_MAX : left), &stmt, &tail);
    if (rc != SQLITE_OK) {
      // Nothing could run: the failure is an execute point for what is left.
      db::call c(state->ep, "execute", std::string_view(p, left));
      detail::record_failure(c, db, rc);
      fill(rc, std::string_view(p, left));
      return rc;
    }
    if (!stmt) break;  // only blanks or comments were left
    statement st(stmt, state);
    while ((rc = st.try_step()) == SQLITE_ROW) {
    }
    if (rc != SQLITE_DONE) {
      fill(rc, sqlite3_sql(stmt));
      return rc;
    }
    if (!tail || tail <= p) break;
    p = tail;
  }
  return SQLITE_OK;
}

std::int64_t connection::exec(std::string_view script) {
  if (!db_) throw error(SQLITE_MISUSE, SQLITE_MISUSE, "exec() on a connection that is not open");
  detail::failure f;
  if (run_script(script, &f) != SQLITE_OK) throw error(f.code, f.extended, f.message, f.statement);
  return changes();
}

int connection::try_exec(std::string_view script) noexcept {
  if (!db_) return SQLITE_MISUSE;
  return run_script(script, nullptr);
}

int connection::run_control(const char* sql) noexcept {
  if (!db_) return SQLITE_MISUSE;
  sqlite3_stmt* stmt = nullptr;
  int rc = sqlite3_prepare_v2(db_, sql, -1, &stmt, nullptr);
  if (rc != SQLITE_OK) return rc;
  statement st(stmt, state_);
  rc = st.try_step();
  return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

static const char* begin_sql(transaction_mode mode) noexcept {
  switch (mode) {
    case transaction_mode::immediate: return "BEGIN IMMEDIATE";
    case transaction_mode::exclusive: return "BEGIN EXCLUSIVE";
    case transaction_mode::deferred: break;
  }
  return "BEGIN";
}

int connection::try_begin(transaction_mode mode) noexcept { return run_control(begin_sql(mode)); }
int connection::try_commit() noexcept { return run_control("COMMIT"); }
int connection::try_rollback() noexcept { return run_control("ROLLBACK"); }

void connection::begin(transaction_mode mode) {
  const char* sql = begin_sql(mode);
  if (const int rc = run_control(sql)) raise(rc, sql);
}

void connection::commit() {
  if (const int rc = run_control("COMMIT")) raise(rc, "COMMIT");
}

void connection::rollback() {
  if (const int rc = run_control("ROLLBACK")) raise(rc, "ROLLBACK");
}

std::int64_t connection::changes() const noexcept { return db_ ? detail::changes(db_) : 0; }
std::int64_t connection::total_changes() const noexcept { return db_ ? detail::total_changes(db_) : 0; }

void connection::raise(int rc, const char* sql) const {
  if (!db_) throw error(rc & 0xff, rc, sqlite3_errstr(rc));
  const int extended = sqlite3_extended_errcode(db_);
  throw error(rc & 0xff, (extended & 0xff) == (rc & 0xff) ? extended : rc, sqlite3_errmsg(db_),
              trace_sql() && sql ? sql : "");
}

// ---- transaction ----

transaction::transaction(connection& c, transaction_mode mode) : conn_(&c) { c.begin(mode); }

transaction::~transaction() {
  if (!conn_) return;
  if (conn_->in_transaction()) {
    conn_->try_rollback();
  } else if (conn_->state_) {
    conn_->state_->end_transaction();  // already rolled back by SQLite (an error, a close)
  }
}

void transaction::commit() {
  if (!conn_) throw error(SQLITE_MISUSE, SQLITE_MISUSE, "commit() on a transaction that already ended");
  conn_->commit();  // a failed COMMIT (SQLITE_BUSY) leaves the transaction open: the destructor rolls back
  conn_ = nullptr;
}

void transaction::rollback() {
  if (!conn_) throw error(SQLITE_MISUSE, SQLITE_MISUSE, "rollback() on a transaction that already ended");
  connection* c = std::exchange(conn_, nullptr);
  c->rollback();
}

}  // namespace osprofiler::sqlite
