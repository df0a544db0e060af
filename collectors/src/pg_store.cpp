// postgresql:// store: table `data` exactly as Python OSProfiler's sqlalchemy
// driver makes it, written with libpq directly (never through our traced
// adapters). One connection per store object, guarded by a mutex; the
// notifier thread writes, a reader may read at the same time.
#include <arpa/inet.h>
#include <libpq-fe.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <memory>
#include <mutex>
#include <set>

#include "rows.h"

namespace osprofiler::detail {
namespace {

// What SQLAlchemy's create_all() makes for Python's table (checked against
// it in tests/stores): serial primary key data_pkey, ix_data_<column> indexes.
// The advisory lock serialises creation by several processes at once.
constexpr const char* schema_sql =
    "BEGIN;"
    "SELECT pg_advisory_xact_lock(7306283527746651000);"
    "CREATE TABLE IF NOT EXISTS data ("
    " id SERIAL NOT NULL, timestamp VARCHAR(26), base_id VARCHAR(255), parent_id VARCHAR(255),"
    " trace_id VARCHAR(255), project VARCHAR(255), host VARCHAR(255), service VARCHAR(255),"
    " name VARCHAR(255), data JSON, PRIMARY KEY (id));"
    "CREATE INDEX IF NOT EXISTS ix_data_timestamp ON data (timestamp);"
    "CREATE INDEX IF NOT EXISTS ix_data_base_id ON data (base_id);"
    "CREATE INDEX IF NOT EXISTS ix_data_parent_id ON data (parent_id);"
    "CREATE INDEX IF NOT EXISTS ix_data_trace_id ON data (trace_id);"
    "CREATE INDEX IF NOT EXISTS ix_data_project ON data (project);"
    "CREATE INDEX IF NOT EXISTS ix_data_host ON data (host);"
    "CREATE INDEX IF NOT EXISTS ix_data_service ON data (service);"
    "CREATE INDEX IF NOT EXISTS ix_data_name ON data (name);"
    "COMMIT;";

constexpr const char* columns = "timestamp, base_id, parent_id, trace_id, project, host, service, name, data";
constexpr int column_count = 9;
// `data #>> '{}'` unwraps Python's JSON string on the server (and gives the
// text of an object as is), so the client parses each payload once.
constexpr const char* select_columns =
    "SELECT id, timestamp, base_id, parent_id, trace_id, project, host, service, name, data #>> '{}' FROM data";
// Rows per multi-row INSERT (9 parameters each; libpq allows 65535).
constexpr std::size_t insert_rows = 1000;
// A COPY's data goes to libpq in pieces of this size: libpq copies what it
// is given into its output buffer, and takes an int length.
constexpr std::size_t copy_chunk = std::size_t{1} << 20;

struct result_deleter {
  void operator()(PGresult* r) const noexcept { PQclear(r); }
};
using result = std::unique_ptr<PGresult, result_deleter>;

void put16(std::string& b, std::int16_t v) {
  const std::uint16_t n = htons(static_cast<std::uint16_t>(v));
  b.append(reinterpret_cast<const char*>(&n), 2);
}
void put32(std::string& b, std::int32_t v) {
  const std::uint32_t n = htonl(static_cast<std::uint32_t>(v));
  b.append(reinterpret_cast<const char*>(&n), 4);
}
void put_field(std::string& b, std::string_view v, bool null_if_empty) {
  if (null_if_empty && v.empty()) return put32(b, -1);
  put32(b, static_cast<std::int32_t>(v.size()));
  b.append(v.data(), v.size());
}

// SQLSTATEs after which the same batch may succeed later: connection
// trouble (08), the server shutting down or cancelling (57P*, 57014: a
// statement_timeout or pg_cancel_backend), resources (53: disk full, out of
// memory, too many connections), a lock not granted in time (55P03, e.g.
// during a VACUUM FULL of the table), serialization and deadlock, a
// standby after a failover (25006), and the table dropped (recreated).
bool transient(const char* sqlstate) {
  if (!sqlstate) return true;  // no server answer: connection trouble
  const std::string s(sqlstate);
  return s.rfind("08", 0) == 0 || s.rfind("57P", 0) == 0 || s == "57014" || s.rfind("53", 0) == 0 ||
         s == "55P03" || s == "40001" || s == "40P01" || s == "25006" || s == "42P01";
}

// SQLSTATEs after which the connection is given up and made anew: the table
// is recreated on a new one (42P01), a new one finds the primary again
// (25006, with target_session_attrs=read-write), and a protocol or
// connection error (08) would only repeat on the old one.
bool reconnect_after(const char* sqlstate) {
  if (!sqlstate) return false;
  const std::string s(sqlstate);
  return s.rfind("08", 0) == 0 || s == "42P01" || s == "25006";
}

class pg_store final : public store {
 public:
  pg_store(const connection_string& cs, pg_batch_method method, bool read_only)
      : uri_("postgresql://" + cs.rest), name_(redact(cs.text)), method_(method), read_only_(read_only) {
    // libpq knows only lower-case postgresql:// and postgres://; SQLAlchemy's
    // postgresql+psycopg2:// and any spelling of the scheme mean the same.
    char* err = nullptr;
    PQconninfoOption* opts = PQconninfoParse(uri_.c_str(), &err);
    if (!opts) {
      std::string why = err ? err : "malformed";
      PQfreemem(err);
      while (!why.empty() && why.back() == '\n') why.pop_back();
      // libpq quotes the string, password included.
      throw std::invalid_argument("connection string '" + name_ + "' is not a valid PostgreSQL URI: " +
                                  redact_in(redact_in(why, uri_), cs.text));
    }
    PQconninfoFree(opts);
    // No connection yet: creation runs on the application's thread, and a
    // server that is down or unreachable must not hold it up (up to
    // connect_timeout). The notifier thread connects on the first write;
    // readers connect on the first read and say why if they cannot.
  }

  ~pg_store() override {
    if (conn_) PQfinish(conn_);
  }

  // An empty batch only connects and makes the table.
  void write_text(const std::vector<notification_view>& batch) override {
    // Not even the table is made: the CLI reads a shared store as it is.
    if (read_only_) throw std::runtime_error("trace store '" + name_ + "' was opened read-only");
    std::lock_guard<std::mutex> lock(mu_);
    connect();
    if (batch.empty()) return ensure_table();
    if (method_ == pg_batch_method::copy) {
      write_copy(batch);
    } else {
      // One transaction, as one COPY is: a batch retried after a later
      // chunk failed must not write the earlier chunks twice. The table is
      // made first: its script ends a failed attempt with a ROLLBACK.
      ensure_table();
      run_or_fail("BEGIN", "begin the batch");
      try {
        for (std::size_t i = 0; i < batch.size(); i += insert_rows) {
          write_insert(batch, i, std::min(batch.size(), i + insert_rows));
        }
        run_or_fail("COMMIT", "commit " + std::to_string(batch.size()) + " notifications");
      } catch (...) {
        if (conn_ && PQstatus(conn_) == CONNECTION_OK && PQtransactionStatus(conn_) != PQTRANS_IDLE) {
          PQclear(PQexec(conn_, "ROLLBACK"));
        }
        throw;
      }
    }
  }

  std::vector<notification> load(const std::string& base_id) override {
    std::lock_guard<std::mutex> lock(mu_);
    read_ready();
    if (!has_table_) return {};
    // No ORDER BY: the server would sort whole rows (through temporary files
    // beyond work_mem); the decoder puts them in id order.
    const std::string sql = std::string(select_columns) + " WHERE base_id = $1";
    // Row by row (single-row mode): rows are decoded while the rest are
    // still on their way.
    const char* params[] = {base_id.c_str()};
    const std::string what = "read trace " + base_id;
    if (!PQsendQueryParams(conn_, sql.c_str(), 1, nullptr, params, nullptr, nullptr, 0)) check_read(nullptr, what);
    PQsetSingleRowMode(conn_);  // if refused, the rows come in one result: taken below too
    skipped_rows skipped(name_);
    row_decoder decoder(skipped);
    result failed;  // the first result that is not a row or the end
    try {
      while (PGresult* next = PQgetResult(conn_)) {
        result r(next);
        const auto status = PQresultStatus(next);
        if (status == PGRES_SINGLE_TUPLE || status == PGRES_TUPLES_OK) {
          for (int i = 0, n = failed ? 0 : PQntuples(next); i < n; ++i) decoder.add(row(next, i));
        } else if (!failed) {
          failed = std::move(r);
        }
      }
    } catch (...) {
      // The connection must not be left in the middle of a result.
      while (PGresult* rest = PQgetResult(conn_)) PQclear(rest);
      throw;
    }
    if (failed) check_read(failed.get(), what);
    return decoder.finish();
  }

  std::vector<trace_summary> list_traces() override {
    std::lock_guard<std::mutex> lock(mu_);
    return list_locked();
  }

  std::vector<notification> trace_heads() override {
    std::lock_guard<std::mutex> lock(mu_);
    read_ready();
    if (!has_table_) return {};
    result r(PQexec(conn_,
                    "SELECT * FROM (SELECT DISTINCT ON (base_id) timestamp, base_id, parent_id, trace_id, project,"
                    " host, service, name FROM data WHERE base_id IS NOT NULL ORDER BY base_id, timestamp, id) h"
                    " ORDER BY timestamp, base_id"));
    check_read(r.get(), "list traces");
    std::vector<notification> out;
    for (int i = 0, n = PQntuples(r.get()); i < n; ++i) {
      notification h;
      h.timestamp = PQgetvalue(r.get(), i, 0);
      h.base_id = PQgetvalue(r.get(), i, 1);
      h.parent_id = PQgetvalue(r.get(), i, 2);
      h.trace_id = PQgetvalue(r.get(), i, 3);
      h.project = PQgetvalue(r.get(), i, 4);
      h.host = PQgetvalue(r.get(), i, 5);
      h.service = PQgetvalue(r.get(), i, 6);
      h.name = PQgetvalue(r.get(), i, 7);
      out.push_back(std::move(h));
    }
    return out;
  }

  std::vector<trace_summary> list_error_traces() override {
    std::lock_guard<std::mutex> lock(mu_);
    read_ready();
    if (!has_table_) return {};
    // The text filter is a cheap pre-selection; decoding decides.
    const std::string sql =
        std::string(select_columns) + " WHERE name LIKE '%stop' AND strpos(data::text, 'etype') > 0";
    result r(PQexec(conn_, sql.c_str()));
    check_read(r.get(), "list error traces");
    std::set<std::string> failed;
    for (int i = 0, n = PQntuples(r.get()); i < n; ++i) {
      stored_row sr = row(r.get(), i);
      if (!sr.base_id) continue;
      try {
        if (decode_row(sr).info.contains("etype")) failed.insert(sr.base_id);
      } catch (const std::exception&) {
        // load() reports corrupt rows; a listing just leaves them out.
      }
    }
    std::vector<trace_summary> out;
    for (auto& t : list_locked()) {
      if (failed.count(t.base_id)) out.push_back(std::move(t));
    }
    return out;
  }

 private:
  // Connects (again) when needed and makes the table if it is missing.
  // Throws collector_unavailable when the server cannot be reached.
  void connect() {
    if (conn_ && PQstatus(conn_) == CONNECTION_OK) return;
    if (conn_) PQfinish(conn_);
    // Defaults first: the URI's own parameters override them. Keepalives and
    // a TCP user timeout let a server host that vanished without closing the
    // connection fail the write within a minute, not the kernel's ~15.
    const char* keys[] = {"connect_timeout", "application_name", "client_encoding", "keepalives", "keepalives_idle",
                          "keepalives_interval", "keepalives_count", "tcp_user_timeout", "dbname", nullptr};
    const char* values[] = {"10", "osprofiler-collector", "UTF8", "1", "30", "10", "3", "30000", uri_.c_str(), nullptr};
    conn_ = PQconnectdbParams(keys, values, 1);
    if (!conn_ || PQstatus(conn_) != CONNECTION_OK) {
      const std::string why = conn_ ? redact_in(message(conn_), uri_) : "out of memory";
      if (conn_) PQfinish(conn_);
      conn_ = nullptr;
      throw collector_unavailable("trace store '" + name_ + "': cannot connect: " + why);
    }
    has_table_ = false;
    probe_table();
  }

  // A probe that fails is an error, not "no table": on a connection the
  // server dropped (a restart between two reads), readers would see an
  // empty store and writers would try to create the table.
  void probe_table() {
    result t(PQexec(conn_, "SELECT to_regclass('data') IS NOT NULL"));
    if (PQresultStatus(t.get()) != PGRES_TUPLES_OK || PQntuples(t.get()) != 1) {
      fail(PQresultErrorField(t.get(), PG_DIAG_SQLSTATE), "look for table data: " + message(conn_));
    }
    has_table_ = std::strcmp(PQgetvalue(t.get(), 0, 0), "t") == 0;
  }

  void ensure_table() {
    if (has_table_) return;
    result r(PQexec(conn_, schema_sql));
    if (PQresultStatus(r.get()) != PGRES_COMMAND_OK) {
      const std::string why = message(conn_);
      const char* sqlstate = PQresultErrorField(r.get(), PG_DIAG_SQLSTATE);
      const std::string state = sqlstate ? sqlstate : "";
      // The script's transaction is left aborted: every later statement on
      // this connection would fail (25P02) until it is rolled back.
      if (PQstatus(conn_) == CONNECTION_OK) PQclear(PQexec(conn_, "ROLLBACK"));
      // A creator that does not take our lock (Python's create_all) made the
      // table at the same moment: it is there for the retry.
      if (state == "23505" || state == "42P07") throw collector_unavailable("trace store '" + name_ + "': create table data: " + why);
      fail(sqlstate, "create table data: " + why);
    }
    has_table_ = true;
  }

  void run_or_fail(const char* sql, const std::string& what) {
    result r(PQexec(conn_, sql));
    if (PQresultStatus(r.get()) != PGRES_COMMAND_OK) {
      fail(PQresultErrorField(r.get(), PG_DIAG_SQLSTATE), what + ": " + message(conn_));
    }
  }

  void write_copy(const std::vector<notification_view>& batch) {
    ensure_table();
    buffer_.assign("PGCOPY\n\377\r\n\0", 11);
    put32(buffer_, 0);  // flags
    put32(buffer_, 0);  // header extension length
    row_values v;
    std::string scratch[8];
    for (const auto& n : batch) {
      encode_row(n, v, scratch);
      put16(buffer_, column_count);
      put_field(buffer_, v.timestamp, false);
      put_field(buffer_, v.base_id, false);
      put_field(buffer_, v.parent_id, false);
      put_field(buffer_, v.trace_id, false);
      put_field(buffer_, v.project, true);
      put_field(buffer_, v.host, true);
      put_field(buffer_, v.service, true);
      put_field(buffer_, v.name, false);
      put_field(buffer_, v.data, false);
    }
    put16(buffer_, -1);
    const std::string sql = std::string("COPY data (") + columns + ") FROM STDIN (FORMAT binary)";
    result start(PQexec(conn_, sql.c_str()));
    if (PQresultStatus(start.get()) != PGRES_COPY_IN) {
      fail(PQresultErrorField(start.get(), PG_DIAG_SQLSTATE), "start COPY: " + message(conn_));
    }
    bool sent = true;
    for (std::size_t at = 0; sent && at < buffer_.size(); at += copy_chunk) {
      const std::size_t n = std::min(copy_chunk, buffer_.size() - at);
      sent = PQputCopyData(conn_, buffer_.data() + at, static_cast<int>(n)) == 1;
    }
    // A failed send still ends the COPY, with an error, so that the server
    // rolls it back and the connection leaves the copy state.
    sent = PQputCopyEnd(conn_, sent ? nullptr : "osprofiler: sending the batch failed") == 1 && sent;
    // Drain every result so the connection is usable afterwards.
    std::string error;
    const char* state = nullptr;
    std::string state_text;
    bool ok = sent;
    while (PGresult* raw = PQgetResult(conn_)) {
      result r(raw);
      const ExecStatusType status = PQresultStatus(raw);
      if (status == PGRES_COPY_IN || status == PGRES_COPY_OUT || status == PGRES_COPY_BOTH) {
        // Still in the copy state (its end could not be sent): libpq would
        // hand out this result for ever. Nothing was committed; the
        // connection is given up and the batch retried on a new one.
        const std::string why = message(conn_);
        PQfinish(conn_);
        conn_ = nullptr;
        throw collector_unavailable("trace store '" + name_ + "': cannot COPY " + std::to_string(batch.size()) +
                                    " notifications: the connection is stuck in COPY" +
                                    (why.empty() ? "" : ": " + why));
      }
      if (status != PGRES_COMMAND_OK) {
        ok = false;
        if (error.empty()) {
          error = message(conn_);
          if (const char* s = PQresultErrorField(raw, PG_DIAG_SQLSTATE)) state_text = s;
        }
      }
      if (PQstatus(conn_) == CONNECTION_BAD) break;
    }
    if (!state_text.empty()) state = state_text.c_str();
    if (!ok) fail(state, "COPY " + std::to_string(batch.size()) + " notifications: " + (error.empty() ? message(conn_) : error));
  }

  void write_insert(const std::vector<notification_view>& batch, std::size_t from, std::size_t to) {
    const std::size_t rows = to - from;
    std::string sql = std::string("INSERT INTO data (") + columns + ") VALUES ";
    for (std::size_t i = 0; i < rows; ++i) {
      sql += i ? ",(" : "(";
      for (int c = 0; c < column_count; ++c) {
        sql += c ? ",$" : "$";
        sql += std::to_string(i * column_count + static_cast<std::size_t>(c) + 1);
      }
      sql += ')';
    }
    std::vector<row_values> values(rows);
    std::vector<std::array<std::string, 8>> scratch(rows);
    std::vector<const char*> params;
    std::vector<int> lengths;
    params.reserve(rows * column_count);
    lengths.reserve(rows * column_count);
    auto add = [&](std::string_view v, bool null_if_empty) {
      params.push_back(null_if_empty && v.empty() ? nullptr : v.data());
      lengths.push_back(static_cast<int>(v.size()));
    };
    for (std::size_t i = 0; i < rows; ++i) {
      row_values& v = values[i];
      encode_row(batch[from + i], v, scratch[i].data());
      add(v.timestamp, false);
      add(v.base_id, false);
      add(v.parent_id, false);
      add(v.trace_id, false);
      add(v.project, true);
      add(v.host, true);
      add(v.service, true);
      add(v.name, false);
      add(v.data, false);
    }
    // Binary format for every parameter: the text of varchar and json is its
    // binary form, and the lengths make embedded bytes safe.
    std::vector<int> formats(params.size(), 1);
    result r(PQexecParams(conn_, sql.c_str(), static_cast<int>(params.size()), nullptr, params.data(),
                          lengths.data(), formats.data(), 0));
    if (PQresultStatus(r.get()) != PGRES_COMMAND_OK) {
      fail(PQresultErrorField(r.get(), PG_DIAG_SQLSTATE), "INSERT " + std::to_string(rows) + " notifications: " + message(conn_));
    }
  }

  std::vector<trace_summary> list_locked() {
    read_ready();
    if (!has_table_) return {};
    result r(PQexec(conn_,
                    "SELECT base_id, MIN(timestamp) AS t FROM data WHERE base_id IS NOT NULL"
                    " GROUP BY base_id ORDER BY t, base_id"));
    check_read(r.get(), "list traces");
    std::vector<trace_summary> out;
    for (int i = 0, n = PQntuples(r.get()); i < n; ++i) {
      out.push_back({PQgetvalue(r.get(), i, 0), PQgetvalue(r.get(), i, 1)});
    }
    return out;
  }

  // Reads need a connection; failing to get one is an error for the reader.
  void read_ready() {
    try {
      connect();
      if (!has_table_) probe_table();  // another process may have made it since
    } catch (const collector_unavailable& ex) {
      throw std::runtime_error(ex.what());
    }
  }

  void check_read(PGresult* r, const std::string& what) {
    if (PQresultStatus(r) == PGRES_TUPLES_OK) return;
    // The result's own message when it has one (the connection's may be
    // from a later step).
    const char* own = r ? PQresultErrorMessage(r) : "";
    const std::string msg = "trace store '" + name_ + "': cannot " + what + ": " + (*own ? oneline(own) : message(conn_));
    if (PQstatus(conn_) == CONNECTION_BAD) {
      PQfinish(conn_);
      conn_ = nullptr;
    }
    throw std::runtime_error(msg);
  }

  // A failed write: retry later when the server or the connection is the
  // cause, else the batch is lost.
  [[noreturn]] void fail(const char* sqlstate, const std::string& what) {
    const std::string msg = "trace store '" + name_ + "': cannot " + what;
    const bool gone = PQstatus(conn_) == CONNECTION_BAD;
    if (gone || reconnect_after(sqlstate)) {
      PQfinish(conn_);
      conn_ = nullptr;
    }
    if (gone || transient(sqlstate)) throw collector_unavailable(msg);
    throw std::runtime_error(msg);
  }

  static std::string message(PGconn* c) { return oneline(c ? PQerrorMessage(c) : ""); }

  static std::string oneline(std::string m) {
    while (!m.empty() && (m.back() == '\n' || m.back() == ' ')) m.pop_back();
    for (auto& ch : m) {
      if (ch == '\n') ch = ' ';
    }
    return m;
  }

  static stored_row row(PGresult* r, int i) {
    auto value = [&](int c) -> const char* { return PQgetisnull(r, i, c) ? nullptr : PQgetvalue(r, i, c); };
    stored_row sr;
    sr.id = std::strtoll(PQgetvalue(r, i, 0), nullptr, 10);
    read_text_columns(sr, value);
    sr.data_null = PQgetisnull(r, i, 9);
    sr.data = std::string_view(PQgetvalue(r, i, 9), static_cast<std::size_t>(PQgetlength(r, i, 9)));
    return sr;
  }

  std::mutex mu_;
  std::string uri_;
  std::string name_;
  pg_batch_method method_;
  bool read_only_ = false;
  PGconn* conn_ = nullptr;
  bool has_table_ = false;
  std::string buffer_;
};

}  // namespace

std::shared_ptr<store> make_pg_store(const connection_string& cs, const notifier::collector_args& args,
                                     pg_batch_method method) {
  return std::make_shared<pg_store>(cs, method, args.read_only);
}

}  // namespace osprofiler::detail
