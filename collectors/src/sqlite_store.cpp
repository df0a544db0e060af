// sqlite:// store: the embedded default. One connection per store object,
// guarded by a mutex (the notifier thread writes, a reader may read at the
// same time). WAL + busy_timeout let several processes write one file.
#include <pthread.h>
#include <sqlite3.h>
#include <sys/stat.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <condition_variable>
#include <filesystem>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "rows.h"

namespace osprofiler::detail {
namespace {

constexpr int busy_timeout_ms = 10000;
constexpr int lookaside_slot = 2048, lookaside_slots = 512;  // 1 MiB per store connection

// Same columns as Python's sqlalchemy table (spec section 3). Indexes: only
// for the queries made here (load by base_id, list by base_id + timestamp).
constexpr const char* schema_sql =
    "CREATE TABLE IF NOT EXISTS data ("
    " id INTEGER NOT NULL PRIMARY KEY,"
    " timestamp VARCHAR(26), base_id VARCHAR(255), parent_id VARCHAR(255), trace_id VARCHAR(255),"
    " project VARCHAR(255), host VARCHAR(255), service VARCHAR(255), name VARCHAR(255), data JSON);"
    "CREATE INDEX IF NOT EXISTS ix_data_base_id_timestamp ON data (base_id, timestamp);";

// Rows go in `rows_per_insert` at a time: one statement run per group
// rather than per row is faster, and it makes far fewer calls into SQLite's
// allocator, whose process-wide mutex the application's own SQLite work
// takes too.
constexpr std::size_t rows_per_insert = 64;
constexpr int columns_per_row = 9;

std::string insert_sql(std::size_t rows) {
  std::string sql = "INSERT INTO data (timestamp, base_id, parent_id, trace_id, project, host, service, name, data) VALUES ";
  for (std::size_t i = 0; i < rows; ++i) sql += i == 0 ? "(?,?,?,?,?,?,?,?,?)" : ",(?,?,?,?,?,?,?,?,?)";
  return sql;
}

// Throws for a failed SQLite call: a busy or locked database is worth a
// retry (collector_unavailable); anything else loses the batch.
[[noreturn]] void raise(int rc, const std::string& msg) {
  const int primary = rc & 0xff;
  if (primary == SQLITE_BUSY || primary == SQLITE_LOCKED) throw collector_unavailable(msg);
  throw std::runtime_error(msg);
}

class stmt {
 public:
  stmt() = default;
  stmt(sqlite3* db, const std::string& sql, const std::string& where) {
    const int rc = sqlite3_prepare_v3(db, sql.c_str(), -1, SQLITE_PREPARE_PERSISTENT, &s_, nullptr);
    // Reading the schema can meet another writer's lock: retried as a write is.
    if (rc != SQLITE_OK) raise(rc, "trace store '" + where + "': cannot prepare statement: " + sqlite3_errmsg(db));
  }
  ~stmt() { sqlite3_finalize(s_); }
  stmt(const stmt&) = delete;
  stmt& operator=(const stmt&) = delete;
  stmt(stmt&& o) noexcept : s_(o.s_) { o.s_ = nullptr; }
  stmt& operator=(stmt&& o) noexcept {
    std::swap(s_, o.s_);
    return *this;
  }
  sqlite3_stmt* get() const noexcept { return s_; }
  explicit operator bool() const noexcept { return s_ != nullptr; }

 private:
  sqlite3_stmt* s_ = nullptr;
};

// Copies the WAL into the database file on a thread of its own. SQLite's
// automatic checkpoint would do it on the writer's thread, inside a commit,
// reads, writes and fsync included: a fifth of the writer's time.
//
// The writer reports each commit. Past `start_frames` the background thread
// runs a passive checkpoint, which copies what was committed when it began
// and never blocks the writer. The writer then copies the few frames it
// committed meanwhile itself, so the WAL is wholly copied and SQLite starts
// it over at the next write; otherwise steady writing would keep it growing.
// At four times `start_frames` (a slow disk) the writer waits for the pass
// in progress.
//
// fork() waits for a checkpoint in progress (here or on the writer): SQLite
// keeps the WAL locks' bookkeeping per process, and a child forked while
// one was held found the checkpoint lock taken for good, so its own store's
// WAL grew without end (AChildForkedDuringACheckpointCheckpointsItsOwnStore).
class checkpointer {
 public:
  checkpointer(std::string path, int page_size)
      : path_(std::move(path)), start_frames_(std::max(64, wal_target_bytes / std::max(page_size, 512))) {
    static const bool hooked = pthread_atfork(&before_fork, &after_fork, &after_fork) == 0;
    (void)hooked;
    std::lock_guard<std::mutex> lock(all_mu());
    all().insert(this);
  }

  ~checkpointer() {
    {
      std::lock_guard<std::mutex> lock(all_mu());
      all().erase(this);
    }
    {
      std::lock_guard<std::mutex> lock(mu_);
      stopping_ = true;
    }
    cv_.notify_all();
    if (thread_.joinable()) thread_.join();
    sqlite3_close_v2(db_);
  }

  checkpointer(const checkpointer&) = delete;
  checkpointer& operator=(const checkpointer&) = delete;

  // Writer's thread, after a commit that left `frames` frames in the WAL of
  // `writer` (its connection).
  void committed(sqlite3* writer, int frames) {
    std::unique_lock<std::mutex> lock(mu_);
    if (phase_ == phase::running && frames >= start_frames_ * 4) {
      cv_.wait(lock, [this] { return phase_ != phase::running; });
    }
    const bool due = phase_ == phase::idle && frames >= start_frames_;
    if (due && (thread_.joinable() || start_thread())) {
      phase_ = phase::running;
      cv_.notify_all();
      return;
    }
    // Here: after a pass, the frames committed meanwhile; with no thread to
    // be had, all of them, as SQLite would have. Under the lock, which fork()
    // waits for.
    const bool copy_here = due || phase_ == phase::done;
    if (phase_ == phase::done) phase_ = phase::idle;
    if (copy_here) sqlite3_wal_checkpoint_v2(writer, nullptr, SQLITE_CHECKPOINT_PASSIVE, nullptr, nullptr);
  }

 private:
  static constexpr int wal_target_bytes = 16 << 20;
  enum class phase { idle, running, done };

  // Every live checkpointer, for the fork handlers. Leaked: a fork may come
  // while statics are being destroyed.
  static std::mutex& all_mu() {
    static auto* mu = new std::mutex;
    return *mu;
  }
  static std::set<checkpointer*>& all() {
    static auto* set = new std::set<checkpointer*>;
    return *set;
  }

  // Holds every checkpointer's lock across fork(), once no pass runs.
  static void before_fork() {
    all_mu().lock();
    for (checkpointer* c : all()) {
      std::unique_lock<std::mutex> lock(c->mu_);
      c->cv_.wait(lock, [c] { return c->phase_ != phase::running; });
      lock.release();
    }
  }
  static void after_fork() {
    for (checkpointer* c : all()) c->mu_.unlock();
    all_mu().unlock();
  }

  // Called from SQLite's commit (a C callback): nothing may be thrown.
  bool start_thread() noexcept {
    try {
      thread_ = std::thread([this] { run(); });
      return true;
    } catch (...) {
      return false;
    }
  }

  void run() {
    std::unique_lock<std::mutex> lock(mu_);
    for (;;) {
      cv_.wait(lock, [this] { return stopping_ || phase_ == phase::running; });
      if (stopping_) return;
      lock.unlock();
      checkpoint();
      lock.lock();
      phase_ = phase::done;
      cv_.notify_all();
    }
  }

  // Failures (busy: another process checkpoints; no connection) leave the
  // WAL to the next pass or to the writer's own copy.
  void checkpoint() {
    if (!db_ && !open()) return;
    int frames = -1;
    const int rc = sqlite3_wal_checkpoint_v2(db_, nullptr, SQLITE_CHECKPOINT_PASSIVE, &frames, nullptr);
    // A connection that does not know the file is in WAL mode reports
    // success with -1 frames and copies nothing, pass after pass: start
    // afresh next time.
    if ((rc != SQLITE_OK && (rc & 0xff) != SQLITE_BUSY) || (rc == SQLITE_OK && frames < 0)) close();
  }

  bool open() {
    if (sqlite3_open_v2(path_.c_str(), &db_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, nullptr) == SQLITE_OK &&
        // Reading the schema is what tells a connection that the file is in
        // WAL mode; a checkpoint before any read does nothing.
        sqlite3_exec(db_, "PRAGMA synchronous=NORMAL; SELECT count(*) FROM sqlite_master;", nullptr, nullptr,
                     nullptr) == SQLITE_OK) {
      return true;
    }
    close();
    return false;
  }

  void close() {
    sqlite3_close_v2(db_);
    db_ = nullptr;
  }

  const std::string path_;  // absolute: the process may change directory
  const int start_frames_;
  sqlite3* db_ = nullptr;  // the background thread's own connection
  std::mutex mu_;
  std::condition_variable cv_;
  phase phase_ = phase::idle;
  bool stopping_ = false;
  std::thread thread_;
};

const char* col(sqlite3_stmt* s, int i) { return reinterpret_cast<const char*>(sqlite3_column_text(s, i)); }
std::string col_text(sqlite3_stmt* s, int i) {
  const char* v = col(s, i);
  return v ? v : "";
}

// The current row of a statement selecting id, the eight text columns and
// data, in that order; valid until the next step.
stored_row current_row(sqlite3_stmt* s) {
  stored_row r;
  r.id = sqlite3_column_int64(s, 0);
  read_text_columns(r, [s](int k) { return col(s, k); });
  const char* data = col(s, 9);
  r.data_null = !data;
  if (data) r.data = std::string_view(data, static_cast<std::size_t>(sqlite3_column_bytes(s, 9)));
  return r;
}

class sqlite_store final : public store {
 public:
  sqlite_store(const connection_string& cs, bool read_only)
      : name_(redact(cs.text)), path_(sqlite_path(cs)), read_only_(read_only) {
    if (read_only_) {
      open_for_reading();
      return;
    }
    open_for_writing();
  }

  // Makes the directory, the file and the table as needed, and the
  // checkpointer; on failure db_ stays null and the error is thrown.
  void open_for_writing() {
    // Opened again (after the file was deleted) by its absolute name.
    const std::string& target = file_.empty() ? path_ : file_;
    std::error_code ec;
    const auto parent = std::filesystem::path(target).parent_path();
    if (!parent.empty()) {
      std::filesystem::create_directories(parent, ec);
      if (ec) fail_open("cannot create directory '" + parent.string() + "': " + ec.message());
    }
    const int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
    if (sqlite3_open_v2(target.c_str(), &db_, flags, nullptr) != SQLITE_OK) {
      const std::string why = db_ ? sqlite3_errmsg(db_) : "out of memory";
      sqlite3_close_v2(db_);
      db_ = nullptr;
      fail_open(why);
    }
    sqlite3_extended_result_codes(db_, 1);
    // SQLite's own allocator takes one process-wide mutex per malloc (memory
    // statistics are on by default), which the application's SQLite shares.
    // A large lookaside serves the writer's small allocations from this
    // connection alone, so the store does not make the application wait
    // (where SQLite has lookaside: Debian builds it with OMIT_LOOKASIDE).
    sqlite3_db_config(db_, SQLITE_DBCONFIG_LOOKASIDE, nullptr, lookaside_slot, lookaside_slots);
    sqlite3_busy_timeout(db_, busy_timeout_ms);
    // 64 KiB pages for a new file (ignored for an existing one): a batch of
    // rows then goes into a few large pages (with SQLite's own checkpoints,
    // a sixteenth as many of them): 1.3-1.5x faster (BM_StoreWrite/sqlite).
    sqlite3_exec(db_, "PRAGMA page_size=65536;", nullptr, nullptr, nullptr);
    // WAL needs a writable directory and shared memory; without it, writers
    // of other processes wait for each other's whole transactions.
    const std::string mode = journal_mode("WAL");
    if (mode != "wal") {
      notifier::report_error("osprofiler: trace store '" + name_ + "' is not in WAL mode (journal_mode is '" +
                             mode + "'): processes writing it will wait for each other");
    }
    sqlite3_exec(db_, "PRAGMA synchronous=NORMAL;", nullptr, nullptr, nullptr);
    char* err = nullptr;
    if (sqlite3_exec(db_, schema_sql, nullptr, nullptr, &err) != SQLITE_OK) {
      const std::string why = err ? err : sqlite3_errmsg(db_);
      const int rc = sqlite3_errcode(db_);
      sqlite3_free(err);
      // A read-only file that already has the table is still readable.
      if (!has_table()) {
        sqlite3_close_v2(db_);
        db_ = nullptr;
        fail_open("cannot create table data: " + why, rc);  // busy: another writer holds the file
      }
    }
    // Replaces the automatic checkpoint on this connection (see checkpointer).
    try {
      const char* file = sqlite3_db_filename(db_, "main");
      checkpointer_ = std::make_unique<checkpointer>(file && *file ? file : path_, page_size(db_));
    } catch (...) {
      sqlite3_close_v2(db_);
      db_ = nullptr;
      throw;
    }
    sqlite3_wal_hook(db_, &sqlite_store::wal_committed, this);
    // What names the open file now, to notice when the name no longer does.
    // Relative to the working directory of the time: SQLite's own name for
    // it is absolute. Empty for a database without a file (":memory:").
    const char* file = sqlite3_db_filename(db_, "main");
    file_ = file ? file : "";
    struct stat st {};
    file_id_ = !file_.empty() && stat(file_.c_str(), &st) == 0 ? std::make_pair(st.st_dev, st.st_ino)
                                                               : std::make_pair(dev_t{}, ino_t{});
  }

  void close_for_writing() noexcept {
    checkpointer_.reset();
    insert_one_ = stmt();
    insert_many_ = stmt();
    sqlite3_close_v2(db_);
    db_ = nullptr;
  }

  // True when the file was deleted or replaced (rotated, restored from a
  // backup) since it was opened: writes would go to a file no one reads.
  bool file_replaced() const {
    if (file_.empty() || file_id_.second == ino_t{}) return false;
    struct stat st {};
    if (stat(file_.c_str(), &st) != 0) return errno == ENOENT || errno == ENOTDIR;
    return st.st_dev != file_id_.first || st.st_ino != file_id_.second;
  }

  // PRAGMA journal_mode=<mode>: the mode SQLite is in afterwards.
  std::string journal_mode(const char* mode) {
    sqlite3_stmt* s = nullptr;
    std::string result = "unknown";
    const std::string sql = std::string("PRAGMA journal_mode=") + mode;
    if (sqlite3_prepare_v2(db_, sql.c_str(), -1, &s, nullptr) == SQLITE_OK && sqlite3_step(s) == SQLITE_ROW) {
      result = col_text(s, 0);
    } else {
      result = sqlite3_errmsg(db_);
    }
    sqlite3_finalize(s);
    return result;
  }

  // Read-only: no file, table, page size or journal mode is made or changed.
  void open_for_reading() {
    const int flags = SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX;
    if (sqlite3_open_v2(path_.c_str(), &db_, flags, nullptr) != SQLITE_OK) {
      const std::string why = db_ ? sqlite3_errmsg(db_) : "out of memory";
      sqlite3_close_v2(db_);
      db_ = nullptr;
      fail_open(why);
    }
    sqlite3_extended_result_codes(db_, 1);
    sqlite3_busy_timeout(db_, busy_timeout_ms);
    if (!has_table()) {
      // has_table() is false for a file that is not a database too: say which.
      const int rc = sqlite3_exec(db_, "SELECT 1 FROM sqlite_master LIMIT 1", nullptr, nullptr, nullptr);
      const std::string why = rc == SQLITE_OK ? "it has no table data: not a trace store" : sqlite3_errmsg(db_);
      sqlite3_close_v2(db_);
      db_ = nullptr;
      fail_open(why);
    }
  }

  ~sqlite_store() override { close_for_writing(); }

  void write_text(const std::vector<notification_view>& batch) override {
    if (batch.empty()) return;
    if (read_only_) throw std::runtime_error("trace store '" + name_ + "' was opened read-only");
    std::lock_guard<std::mutex> lock(mu_);
    // A deleted or replaced file is made anew at its name (one stat() per
    // batch). If that fails, the batch fails (it is retried only when the
    // file is busy) and the next batch tries again.
    if (db_ && file_replaced()) {
      notifier::report_error("osprofiler: trace store '" + name_ + "': file '" + file_ +
                             "' was deleted or replaced; writing to a new one");
      close_for_writing();
    }
    if (!db_) open_for_writing();
    if (!insert_one_) insert_one_ = stmt(db_, insert_sql(1), name_);
    if (!insert_many_) insert_many_ = stmt(db_, insert_sql(rows_per_insert), name_);
    check(sqlite3_exec(db_, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr), "begin a transaction");
    try {
      for (std::size_t i = 0; i < batch.size();) {
        const std::size_t take = batch.size() - i >= rows_per_insert ? rows_per_insert : 1;
        sqlite3_stmt* s = take == 1 ? insert_one_.get() : insert_many_.get();
        for (std::size_t k = 0; k < take; ++k) {
          // The binds point into rows_/scratch_ (SQLITE_STATIC): both live until the step.
          row_values& v = rows_[k];
          encode_row(batch[i + k], v, scratch_[k].data());
          const int at = static_cast<int>(k) * columns_per_row;
          bind(s, at + 1, v.timestamp, false);
          bind(s, at + 2, v.base_id, false);
          bind(s, at + 3, v.parent_id, false);
          bind(s, at + 4, v.trace_id, false);
          bind(s, at + 5, v.project, true);
          bind(s, at + 6, v.host, true);
          bind(s, at + 7, v.service, true);
          bind(s, at + 8, v.name, false);
          bind(s, at + 9, v.data, false);
        }
        const int rc = sqlite3_step(s);
        sqlite3_reset(s);
        check(rc == SQLITE_DONE ? SQLITE_OK : rc, "insert a notification");
        i += take;
      }
      check(sqlite3_exec(db_, "COMMIT", nullptr, nullptr, nullptr), "commit");
    } catch (...) {
      sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
      throw;
    }
  }

  std::vector<notification> load(const std::string& base_id) override {
    std::lock_guard<std::mutex> lock(mu_);
    require_open();
    // Rows come in index order (base_id, timestamp, id); the decoder puts
    // them in id order: ORDER BY id alone made SQLite sort whole rows through
    // temporary files.
    stmt q(db_,
           "SELECT id, timestamp, base_id, parent_id, trace_id, project, host, service, name, data"
           " FROM data WHERE base_id = ? ORDER BY timestamp, id",
           name_);
    sqlite3_bind_text(q.get(), 1, base_id.data(), static_cast<int>(base_id.size()), SQLITE_STATIC);
    skipped_rows skipped(name_);
    row_decoder decoder(skipped);
    each_row(q, "read trace " + base_id, [&](sqlite3_stmt* s) { decoder.add(current_row(s)); });
    return decoder.finish();
  }

  std::vector<trace_summary> list_traces() override {
    std::lock_guard<std::mutex> lock(mu_);
    require_open();
    stmt q(db_,
           "SELECT base_id, MIN(timestamp) AS t FROM data WHERE base_id IS NOT NULL"
           " GROUP BY base_id ORDER BY t, base_id",
           name_);
    std::vector<trace_summary> out;
    each_row(q, "list traces", [&](sqlite3_stmt* s) { out.push_back({col(s, 0), col_text(s, 1)}); });
    return out;
  }

  std::vector<notification> trace_heads() override {
    std::lock_guard<std::mutex> lock(mu_);
    require_open();
    // SQLite takes the bare columns of an aggregate with MIN() from the row
    // holding that minimum.
    stmt q(db_,
           "SELECT MIN(timestamp) AS t, base_id, parent_id, trace_id, project, host, service, name"
           " FROM data WHERE base_id IS NOT NULL GROUP BY base_id ORDER BY t, base_id",
           name_);
    std::vector<notification> out;
    each_row(q, "list traces", [&](sqlite3_stmt* s) {
      notification n;
      n.timestamp = col_text(s, 0);
      n.base_id = col_text(s, 1);
      n.parent_id = col_text(s, 2);
      n.trace_id = col_text(s, 3);
      n.project = col_text(s, 4);
      n.host = col_text(s, 5);
      n.service = col_text(s, 6);
      n.name = col_text(s, 7);
      out.push_back(std::move(n));
    });
    return out;
  }

  std::vector<trace_summary> list_error_traces() override {
    std::set<std::string> failed;
    {
      std::lock_guard<std::mutex> lock(mu_);
      require_open();
      // The text filter is a cheap pre-selection; decoding decides.
      stmt q(db_,
             "SELECT id, timestamp, base_id, parent_id, trace_id, project, host, service, name, data FROM data"
             " WHERE name LIKE '%stop' AND instr(data, 'etype') > 0",
             name_);
      each_row(q, "list error traces", [&](sqlite3_stmt* s) {
        const stored_row r = current_row(s);
        if (!r.base_id || r.data_null) return;
        try {
          if (decode_row(r).info.contains("etype")) failed.insert(r.base_id);
        } catch (const std::exception&) {
          // load() reports corrupt rows; a listing just leaves them out.
        }
      });
    }
    std::vector<trace_summary> out;
    for (auto& t : list_traces()) {
      if (failed.count(t.base_id)) out.push_back(std::move(t));
    }
    return out;
  }

 private:
  // Steps `q` to its end, handing each row to `on_row`; a step that fails
  // throws as check() does, naming `what`.
  template <typename F>
  void each_row(stmt& q, const std::string& what, F&& on_row) {
    int rc;
    while ((rc = sqlite3_step(q.get())) == SQLITE_ROW) on_row(q.get());
    check(rc == SQLITE_DONE ? SQLITE_OK : rc, what);
  }

  // SQLite's C callback after each commit: nothing may cross it.
  static int wal_committed(void* self, sqlite3* db, const char*, int frames) noexcept {
    try {
      static_cast<sqlite_store*>(self)->checkpointer_->committed(db, frames);
    } catch (...) {
      // A failed lock: this commit's checkpoint is left to the next one.
    }
    return SQLITE_OK;
  }

  static int page_size(sqlite3* db) {
    sqlite3_stmt* s = nullptr;
    int size = 4096;
    if (sqlite3_prepare_v2(db, "PRAGMA page_size", -1, &s, nullptr) == SQLITE_OK && sqlite3_step(s) == SQLITE_ROW) {
      size = sqlite3_column_int(s, 0);
    }
    sqlite3_finalize(s);
    return size;
  }

  // Readers of a writing store whose reopen failed (write_text retries it).
  void require_open() const {
    if (!db_) throw std::runtime_error("trace store '" + name_ + "' is closed: its file could not be opened again");
  }

  // Through raise(): a busy or locked file is worth a retry, the rest not.
  [[noreturn]] void fail_open(const std::string& why, int rc = SQLITE_ERROR) {
    raise(rc, "cannot open trace store '" + name_ + "' (file '" + path_ + "'): " + why);
  }

  bool has_table() {
    sqlite3_stmt* s = nullptr;
    bool found = false;
    if (sqlite3_prepare_v2(db_, "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'data'", -1, &s,
                           nullptr) == SQLITE_OK) {
      found = sqlite3_step(s) == SQLITE_ROW;
    }
    sqlite3_finalize(s);
    return found;
  }

  static void bind(sqlite3_stmt* s, int i, std::string_view v, bool null_if_empty) {
    if (null_if_empty && v.empty()) {
      sqlite3_bind_null(s, i);
    } else {
      sqlite3_bind_text(s, i, v.data(), static_cast<int>(v.size()), SQLITE_STATIC);
    }
  }

  // Busy/locked after the busy timeout: another process holds the file;
  // the notifier keeps the batch and retries.
  void check(int rc, const std::string& what) {
    if (rc == SQLITE_OK) return;
    raise(rc, "trace store '" + name_ + "': cannot " + what + ": " + sqlite3_errmsg(db_));
  }

  std::mutex mu_;
  std::string name_;
  std::string path_;
  bool read_only_ = false;
  sqlite3* db_ = nullptr;  // null (writing) after a reopen failed: write_text retries
  std::string file_;       // SQLite's (absolute) name of the open file; empty for none
  std::pair<dev_t, ino_t> file_id_{};
  stmt insert_one_, insert_many_;
  std::array<row_values, rows_per_insert> rows_;
  std::array<std::array<std::string, 8>, rows_per_insert> scratch_;
  std::unique_ptr<checkpointer> checkpointer_;
};

}  // namespace

std::shared_ptr<store> make_sqlite_store(const connection_string& cs, const notifier::collector_args& args) {
  return std::make_shared<sqlite_store>(cs, args.read_only);
}

}  // namespace osprofiler::detail
