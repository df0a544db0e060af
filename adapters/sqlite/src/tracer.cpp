#include "osprofiler/sqlite/tracer.h"

#include <cstring>
#include <utility>
#include <vector>

#include "executions.h"
#include "osprofiler/sqlite/error.h"
#include "osprofiler/db.h"
#include "osprofiler/profiler.h"
#include "state.h"

namespace osprofiler::sqlite {
namespace detail {

struct tracer_state {
  struct point {
    sqlite3_stmt* stmt = nullptr;
    db::call call;
    std::int64_t rows = 0;
    std::int64_t changes_before = 0;
    control kind = control::plain;
  };

  sqlite3* db = nullptr;
  bool attached = false;
  db::endpoint ep;
  std::vector<std::unique_ptr<point>> open;  // innermost last
  db::call tx;
  std::size_t tx_depth = 0;
  std::shared_ptr<char> alive = std::make_shared<char>();  // guard for the transaction registry

  static int hook(unsigned type, void* ctx, void* p, void* x) noexcept;
  static void settle_tx(void* self) noexcept { static_cast<tracer_state*>(self)->tx.finish(); }

  void end_transaction() noexcept {
    if (!tx.recording()) return;
    delist(this);
    settle_above(tx_depth);
    tx.finish();
  }

  std::unique_ptr<point>* find(sqlite3_stmt* stmt) noexcept {
    for (auto it = open.rbegin(); it != open.rend(); ++it) {
      if ((*it)->stmt == stmt) return &*it;
    }
    return nullptr;
  }

  void on_start(sqlite3_stmt* stmt, const char* sql) noexcept;
  void on_end(sqlite3_stmt* stmt) noexcept;
  void end_all() noexcept;
};

void tracer_state::on_start(sqlite3_stmt* stmt, const char* sql) noexcept {
  // A trigger program is reported with its statement's handle and a text of
  // its own ("-- TRIGGER name"): part of that statement's run. A statement's
  // own text may start with a comment too ("-- add a row\nINSERT ...").
  if (!sql || (sql != sqlite3_sql(stmt) && std::strncmp(sql, "--", 2) == 0) || !osprofiler::active() ||
      find(stmt)) {
    return;
  }
  if (tx.recording() && sqlite3_get_autocommit(db)) end_transaction();
  try {
    auto pt = std::make_unique<point>();
    pt->stmt = stmt;
    pt->kind = classify(sql);
    const char* api = "execute";
    switch (pt->kind) {
      case control::begin:
        api = "begin";
        if (!tx.recording() && sqlite3_get_autocommit(db)) {
          tx = db::call(ep, "transaction");
          if (tx.recording()) {
            tx_depth = osprofiler::get()->depth();
            enlist(this, tx_depth, &tracer_state::settle_tx, alive);
          }
        }
        break;
      case control::commit:
      case control::rollback:
        api = pt->kind == control::commit ? "commit" : "rollback";
        if (tx.recording()) settle_above(tx_depth);
        break;
      case control::plain:
        break;
    }
    pt->call.begin(ep, api, trace_sql() ? db::make_text(sql) : db::shared_text{});
    if (!pt->call.recording()) return;
    pt->changes_before = total_changes(db);
    open.push_back(std::move(pt));
  } catch (...) {
    // Out of memory: this run goes untraced.
  }
}

void tracer_state::on_end(sqlite3_stmt* stmt) noexcept {
  control kind = control::plain;
  if (auto* slot = find(stmt)) {
    point& pt = **slot;
    kind = pt.kind;
    if (pt.call.recording()) {
      // Still busy: a reset or finalize cut the run short after a row, so it
      // ended at its last step. Otherwise its last step finished it now.
      if (!(sqlite3_stmt_busy(stmt) && pt.call.ended())) pt.call.end_here();
      pt.call.rows(sqlite3_column_count(stmt) == 0
                       ? (total_changes(db) != pt.changes_before ? changes(db) : 0)
                       : pt.rows);
      pt.call.finish();
    }
    open.erase(open.begin() + (slot - open.data()));
  } else if (tx.recording()) {
    kind = classify(sqlite3_sql(stmt));
  }
  if (kind != control::plain && tx.recording() && sqlite3_get_autocommit(db)) end_transaction();
}

void tracer_state::end_all() noexcept {
  while (!open.empty()) {
    point& pt = *open.back();
    pt.call.rows(pt.rows);
    pt.call.finish();
    open.pop_back();
  }
  end_transaction();
}

int tracer_state::hook(unsigned type, void* ctx, void* p, void* x) noexcept {
  auto* self = static_cast<tracer_state*>(ctx);
  switch (type) {
    case SQLITE_TRACE_STMT:
      self->on_start(static_cast<sqlite3_stmt*>(p), static_cast<const char*>(x));
      break;
    case SQLITE_TRACE_ROW:
      // Between rows the caller's code runs: the point leaves the stack.
      if (!self->open.empty()) {
        auto* slot = self->open.back()->stmt == p ? &self->open.back() : self->find(static_cast<sqlite3_stmt*>(p));
        if (slot) {
          ++(*slot)->rows;
          (*slot)->call.end_here();
        }
      }
      break;
    case SQLITE_TRACE_PROFILE:
      if (!self->open.empty() || self->tx.recording()) self->on_end(static_cast<sqlite3_stmt*>(p));
      break;
    case SQLITE_TRACE_CLOSE:
      // The handle is going away: end what is open and never touch it
      // again. Unhooked here, because the close may yet fail (SQLITE_BUSY)
      // or leave a zombie (sqlite3_close_v2) whose later calls would still
      // reach a tracer that may be gone by then.
      sqlite3_trace_v2(static_cast<sqlite3*>(p), 0, nullptr, nullptr);
      self->end_all();
      self->attached = false;
      self->db = nullptr;
      break;
    default:
      break;
  }
  return 0;
}

}  // namespace detail

tracer::tracer(sqlite3* db, std::string point_name, std::string name_space)
    : state_(std::make_unique<detail::tracer_state>()) {
  if (!db) throw error(SQLITE_MISUSE, SQLITE_MISUSE, "osprofiler::sqlite::tracer needs an open sqlite3* handle");
  if (name_space.empty()) {
    const char* file = sqlite3_db_filename(db, "main");
    name_space = file && *file ? file : ":memory:";
  }
  state_->db = db;
  state_->ep.point_name = db::intern(point_name);
  state_->ep.system = "sqlite";
  state_->ep.ns = db::intern(std::string_view(name_space));
  const int rc = sqlite3_trace_v2(db, SQLITE_TRACE_STMT | SQLITE_TRACE_PROFILE | SQLITE_TRACE_ROW | SQLITE_TRACE_CLOSE,
                                  &detail::tracer_state::hook, state_.get());
  if (rc != SQLITE_OK) throw error(rc, rc, std::string("sqlite3_trace_v2 failed: ") + sqlite3_errstr(rc));
  state_->attached = true;
}

tracer::tracer(tracer&& other) noexcept = default;

tracer& tracer::operator=(tracer&& other) noexcept {
  if (this != &other) {
    detach();
    state_ = std::move(other.state_);
  }
  return *this;
}

tracer::~tracer() { detach(); }

void tracer::detach() noexcept {
  if (!state_) return;
  if (state_->attached && state_->db) sqlite3_trace_v2(state_->db, 0, nullptr, nullptr);
  state_->attached = false;
  state_->end_all();
}

bool tracer::attached() const noexcept { return state_ && state_->attached; }

}  // namespace osprofiler::sqlite
