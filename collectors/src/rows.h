// The row layout shared by the SQL stores (spec section 3): how one
// notification becomes the columns of table `data` and back. Pure functions,
// thread-safe.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "osprofiler/notifier.h"
#include "osprofiler/store.h"

namespace osprofiler::detail {

// Column values ready to store. Empty project/service mean SQL NULL, as
// Python's driver stores them when unset.
struct row_values {
  std::string_view timestamp, base_id, parent_id, trace_id, project, host, service, name;
  std::string data;  // the twice-encoded JSON text of {"info": ...}; its capacity is reused
};

// Fills `out` for `n`; the views point into `n` or into `scratch` (column
// values that are not valid UTF-8, hold NUL bytes or exceed the varchar
// width are cleaned into `scratch`; PostgreSQL would reject the whole batch).
void encode_row(const notification_view& n, row_values& out, std::string scratch[8]);

// The `data` column value into `out`: a JSON string whose text is the JSON
// of {"info": info} (Python's sqlalchemy driver stores it so).
void encode_data(std::string_view info_json, std::string& out);

// A stored row read back. `data` may be the stored column (a JSON string or
// object) or its already unwrapped text. Throws std::invalid_argument saying
// what is wrong with the row.
struct stored_row {
  std::int64_t id = 0;
  const char* timestamp = nullptr;  // nullptr: SQL NULL
  const char* base_id = nullptr;
  const char* parent_id = nullptr;
  const char* trace_id = nullptr;
  const char* project = nullptr;
  const char* host = nullptr;
  const char* service = nullptr;
  const char* name = nullptr;
  std::string_view data;
  bool data_null = false;
};
notification decode_row(const stored_row& r);

// Sets the eight text columns the stores select between id and data, in
// that order (timestamp, base_id, parent_id, trace_id, project, host,
// service, name): `column(k)` gives column k, 1 to 8, nullptr for SQL NULL.
template <class Column>
void read_text_columns(stored_row& r, Column&& column) {
  r.timestamp = column(1);
  r.base_id = column(2);
  r.parent_id = column(3);
  r.trace_id = column(4);
  r.project = column(5);
  r.host = column(6);
  r.service = column(7);
  r.name = column(8);
}

// `rows` reordered so that `ids` (theirs, one each) ascend: stores read a
// trace in index order and put it in id (insertion) order here, which is
// cheaper than the database sorting whole rows.
std::vector<notification> in_id_order(std::vector<notification> rows, const std::vector<std::int64_t>& ids);

class skipped_rows;

// Decodes a read's rows while the read goes on, since decoding the JSON
// payloads is most of a load: the reading thread copies each row in (its
// buffers change with the next step), and a helper thread decodes them by
// chunks meanwhile. finish() decodes what is left on both threads and gives
// the notifications in id order. Rows that are not notifications go to
// `skipped`.
class row_decoder {
 public:
  explicit row_decoder(skipped_rows& skipped);
  row_decoder(const row_decoder&) = delete;
  row_decoder& operator=(const row_decoder&) = delete;
  ~row_decoder();

  void add(const stored_row& r);
  std::vector<notification> finish();

 private:
  struct chunk;
  void publish();
  void decode_published() noexcept;  // until no chunk is left to claim

  skipped_rows& skipped_;
  std::unique_ptr<chunk> filling_;
  std::mutex mu_;
  std::condition_variable published_;
  std::vector<std::unique_ptr<chunk>> chunks_;  // guarded by mu_
  std::size_t next_ = 0;                        // the next chunk to decode; guarded by mu_
  bool done_ = false;                           // no more chunks come; guarded by mu_
  bool helper_tried_ = false;
  std::thread helper_;
};

// Collects the rows a read skipped and reports them once per read through
// notifier::report_error(), naming the store and the first bad row.
class skipped_rows {
 public:
  explicit skipped_rows(std::string store) : store_(std::move(store)) {}
  void add(std::int64_t id, const std::string& reason);
  ~skipped_rows();
  std::size_t count() const noexcept { return count_; }

 private:
  std::string store_;
  std::size_t count_ = 0;
  std::int64_t first_id_ = 0;
  std::string first_reason_;
};

// Turns a SQL path ("sqlite:///x.db" rest "/x.db") into a file path:
// "/x.db" -> "x.db" (relative), "//x.db" -> "/x.db" (absolute).
std::string sqlite_path(const connection_string& cs);

std::shared_ptr<store> make_sqlite_store(const connection_string& cs, const notifier::collector_args& args);
#ifdef OSPROFILER_HAVE_POSTGRESQL
enum class pg_batch_method { copy, insert };
std::shared_ptr<store> make_pg_store(const connection_string& cs, const notifier::collector_args& args,
                                     pg_batch_method method = pg_batch_method::copy);
#endif

}  // namespace osprofiler::detail
