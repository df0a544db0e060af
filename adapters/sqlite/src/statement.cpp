#include <utility>

#include "executions.h"
#include "osprofiler/sqlite/connection.h"
#include "state.h"

namespace osprofiler::sqlite {

// ---- held runs --------------------------------------------------------------
// The runs of this thread inside sqlite3_step with their start held, the
// innermost first (a user function may step another statement): core's
// held-work chain (profiler.h), which also makes a run the parent of points
// started inside its step.

int detail::on_progress(void*) noexcept {
  for (auto* r = osprofiler::detail::t_held_work; r; r = r->outer) {
    if (r->run) r->run->send_start_after(held_start_limit);
  }
  return 0;  // never interrupts
}

namespace {
// A statement moved or destroyed while it steps (by a user function it
// runs): its entry follows the run or is cleared.
void relink_held(const db::call* from, db::call* to) noexcept {
  for (auto* r = osprofiler::detail::t_held_work; r; r = r->outer) {
    if (r->run == from) r->run = to;
  }
}
}  // namespace

statement::statement(sqlite3_stmt* stmt, std::shared_ptr<detail::connection_state> state) noexcept
    : stmt_(stmt), state_(std::move(state)), has_columns_(sqlite3_column_count(stmt) > 0) {
  switch (detail::classify(sqlite3_sql(stmt))) {
    case detail::control::begin: kind_ = kind::begin; break;
    case detail::control::commit: kind_ = kind::commit; break;
    case detail::control::rollback: kind_ = kind::rollback; break;
    case detail::control::plain: break;
  }
}

statement::statement() noexcept = default;

statement::statement(connection& c, std::string_view sql) : statement(c.prepare(sql)) {}

statement::statement(statement&& other) noexcept
    : stmt_(std::exchange(other.stmt_, nullptr)),
      state_(std::move(other.state_)),
      exec_(std::move(other.exec_)),
      rows_(other.rows_),
      changes_before_(other.changes_before_),
      running_(std::exchange(other.running_, false)),
      kind_(other.kind_),
      has_columns_(other.has_columns_),
      text_(std::move(other.text_)),
      params_(std::move(other.params_)) {
  if (running_) relink_held(&other.exec_, &exec_);
}

statement& statement::operator=(statement&& other) noexcept {
  if (this != &other) {
    finalize();
    stmt_ = std::exchange(other.stmt_, nullptr);
    state_ = std::move(other.state_);
    exec_ = std::move(other.exec_);
    rows_ = other.rows_;
    changes_before_ = other.changes_before_;
    running_ = std::exchange(other.running_, false);
    kind_ = other.kind_;
    has_columns_ = other.has_columns_;
    text_ = std::move(other.text_);
    params_ = std::move(other.params_);
    if (running_) relink_held(&other.exec_, &exec_);
  }
  return *this;
}

statement::~statement() { finalize(); }

void statement::finalize() noexcept {
  if (running_) {
    end_run();
    relink_held(&exec_, nullptr);
  }
  if (stmt_) sqlite3_finalize(stmt_);
  stmt_ = nullptr;
}

void statement::end_run() noexcept {
  running_ = false;
  if (exec_.recording() || kind_ != kind::plain) close_point(SQLITE_ROW);  // ended early: rows so far
}

std::int64_t statement::execute() {
  sqlite3* db = sqlite3_db_handle(stmt_);
  const std::int64_t before = db ? detail::total_changes(db) : 0;
  while (step()) {
  }
  std::int64_t n = rows_;
  if (column_count() == 0) n = detail::total_changes(db) != before ? detail::changes(db) : 0;
  reset();
  return n;
}

void statement::open_point() noexcept {
  if (!stmt_ || !state_) return;
  detail::connection_state& st = *state_;
  // A transaction that ended without a traced COMMIT/ROLLBACK (an error
  // rolled it back, or it ended while tracing was off) ends here.
  if (st.tx.recording() && st.db && sqlite3_get_autocommit(st.db)) st.end_transaction();
  const char* api = "execute";
  switch (kind_) {
    case kind::begin:
      api = "begin";
      if (!st.tx.recording() && st.db && sqlite3_get_autocommit(st.db)) {
        st.tx = db::call(st.ep, "transaction");
        if (st.tx.recording()) {
          st.tx_depth = osprofiler::get()->depth();
          detail::enlist(&st, st.tx_depth, &detail::connection_state::settle_tx, state_);
        }
      }
      break;
    case kind::commit:
    case kind::rollback:
      api = kind_ == kind::commit ? "commit" : "rollback";
      // The commit/rollback point is a direct child of the transaction.
      if (st.tx.recording()) detail::settle_above(st.tx_depth);
      break;
    case kind::plain:
      break;
  }
  try {
    if (trace_sql() && !text_) text_ = db::make_text(sqlite3_sql(stmt_));
    if (params_ && trace_sql_params()) {
      exec_.begin(st.ep, api, text_, params_->to_json(stmt_));
    } else {
      // The start goes out with the stop (one queue slot), or earlier from
      // the progress handler if the run takes a while (held runs below).
      exec_.begin_held(st.ep, api, text_);
    }
  } catch (...) {
    // Out of memory: this run goes untraced.
  }
  // Statements without result columns report sqlite3_changes() as rows, if
  // they changed anything (DDL leaves sqlite3_changes() at its last value).
  if (exec_.recording() && !has_columns_) {
    changes_before_ = detail::total_changes(sqlite3_db_handle(stmt_));
  }
}

int statement::close_point(int rc) noexcept {
  sqlite3* db = has_columns_ && rc == SQLITE_DONE ? nullptr : sqlite3_db_handle(stmt_);
  if (exec_.recording()) {
    if (rc == SQLITE_DONE) {
      exec_.rows(has_columns_ ? rows_
                              : (detail::total_changes(db) != changes_before_ ? detail::changes(db) : 0));
      exec_.finish_here();
    } else if (rc == SQLITE_ROW) {
      // Ended early by reset / finalize: the run ends at its last step (the
      // time since then was the caller's, not SQLite's), or now when it was
      // never ended there.
      exec_.rows(rows_);
      if (exec_.ended()) {
        exec_.finish();
      } else {
        exec_.finish_here();
      }
    } else {
      exec_.end_here();  // before the failure's details are read
      detail::record_failure(exec_, db, rc);
      exec_.finish();
    }
  }
  if (kind_ != kind::plain && state_) {
    detail::connection_state& st = *state_;
    // COMMIT/ROLLBACK ended the transaction, or BEGIN failed to start one.
    if (st.tx.recording() && st.db && sqlite3_get_autocommit(st.db)) {
      if (kind_ == kind::begin && rc != SQLITE_DONE && rc != SQLITE_ROW) detail::record_failure(st.tx, db, rc);
      st.end_transaction();
    }
  }
  return rc;
}

void statement::raise(int rc) const {
  sqlite3* db = sqlite3_db_handle(stmt_);
  const int primary = rc & 0xff;
  const int extended = db ? sqlite3_extended_errcode(db) : rc;
  throw error(primary, (extended & 0xff) == primary ? extended : rc,
              db ? sqlite3_errmsg(db) : sqlite3_errstr(rc), trace_sql() && stmt_ ? sqlite3_sql(stmt_) : "");
}

int statement::parameter_index(const char* name) const {
  const int i = stmt_ ? sqlite3_bind_parameter_index(stmt_, name) : 0;
  if (i == 0) {
    throw error(SQLITE_RANGE, SQLITE_RANGE,
                std::string("no SQL parameter named '") + (name ? name : "") + "' in the statement");
  }
  return i;
}

// Bind values are kept only while params are traced; a value bound while
// they are not makes an older kept value of that index stale: it is dropped.
void statement::remember(int index, int type, std::int64_t i, double d, std::string_view text) noexcept {
  if (!(trace_sql_params() && osprofiler::active())) {
    if (params_) params_->forget(index);
    return;
  }
  try {
    if (!params_) params_ = std::make_unique<detail::bound_values>();
    params_->set(index, type, i, d, text);
  } catch (...) {
    if (params_) params_->forget(index);
  }
}


int statement::try_bind_text(int index, std::string_view text) noexcept {
  // An empty view may have no data pointer, which SQLite would bind as NULL.
  const char* data = text.data() ? text.data() : "";
  const int rc = sqlite3_bind_text64(stmt_, index, data, text.size(), SQLITE_TRANSIENT, SQLITE_UTF8);
  if (rc == SQLITE_OK && keeping()) remember(index, SQLITE_TEXT, 0, 0, text);
  return rc;
}

int statement::try_bind_blob(int index, const void* data, std::size_t size) noexcept {
  const int rc = sqlite3_bind_blob64(stmt_, index, data, size, SQLITE_TRANSIENT);
  if (rc == SQLITE_OK && keeping()) remember(index, SQLITE_BLOB, static_cast<std::int64_t>(size), 0, {});
  return rc;
}

int statement::try_bind_null(int index) noexcept {
  const int rc = sqlite3_bind_null(stmt_, index);
  if (rc == SQLITE_OK && keeping()) remember(index, SQLITE_NULL, 0, 0, {});
  return rc;
}

statement& statement::clear_bindings() noexcept {
  if (stmt_) sqlite3_clear_bindings(stmt_);
  params_.reset();
  return *this;
}

}  // namespace osprofiler::sqlite
