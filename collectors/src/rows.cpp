#include "rows.h"

#include <algorithm>
#include <array>
#include <exception>
#include <new>
#include <numeric>
#include <system_error>
#include <thread>

namespace osprofiler::detail {
namespace {

constexpr std::size_t varchar_width = 255;  // spec section 3: varchar(255)
constexpr std::size_t timestamp_width = 26;  // varchar(26)

// `in` as a column value PostgreSQL accepts: valid UTF-8, no NUL, at most
// `max_chars` characters. Plain short ASCII (the usual case) is returned as is.
std::string_view clean_column(std::string_view in, std::size_t max_chars, std::string& scratch) {
  const bool plain = in.size() <= max_chars &&
                     std::all_of(in.begin(), in.end(), [](char c) { return c > 0 && c < 0x7f; });
  if (plain) return in;
  // dump_json replaces invalid bytes with U+FFFD; parsing it back yields
  // the repaired text.
  scratch = nlohmann::json::parse(dump_json(nlohmann::json(std::string(in)))).get<std::string>();
  scratch.erase(std::remove(scratch.begin(), scratch.end(), '\0'), scratch.end());
  std::size_t chars = 0;
  for (std::size_t i = 0; i < scratch.size(); ++i) {
    if ((static_cast<unsigned char>(scratch[i]) & 0xC0) != 0x80 && chars++ == max_chars) {
      scratch.resize(i);
      break;
    }
  }
  return scratch;
}

std::string text(const char* s) { return s ? std::string(s) : std::string(); }

// The text of JSON string literal `in` (quotes included) into `out`, for the
// escapes this layout's writers produce; false on anything else (\u, a
// malformed literal), which nlohmann's parser then handles or rejects.
// Unwrapping every row through the full parser cost a third of a load.
bool unwrap_string(std::string_view in, std::string& out) {
  if (in.size() < 2 || in.front() != '"' || in.back() != '"') return false;
  out.clear();
  const char* p = in.data() + 1;
  const char* const end = in.data() + in.size() - 1;  // the closing quote
  while (p < end) {
    const char* run = p;  // plain characters are copied a run at a time
    while (p < end && *p != '\\' && *p != '"' && static_cast<unsigned char>(*p) >= 0x20) ++p;
    out.append(run, static_cast<std::size_t>(p - run));
    if (p == end) break;
    if (*p != '\\' || p + 1 == end) return false;
    switch (p[1]) {
      case '"': out += '"'; break;
      case '\\': out += '\\'; break;
      case '/': out += '/'; break;
      case 'b': out += '\b'; break;
      case 'f': out += '\f'; break;
      case 'n': out += '\n'; break;
      case 'r': out += '\r'; break;
      case 't': out += '\t'; break;
      default: return false;
    }
    p += 2;
  }
  return true;
}

// Strict first (the fast path); JSON whose strings hold invalid UTF-8 (a
// writer that did not repair it) is kept with U+FFFD for the bad bytes, as
// the file store keeps such lines (parse_json).
nlohmann::json parse_lenient(std::string_view text) {
  auto j = nlohmann::json::parse(text.begin(), text.end(), nullptr, false);
  if (!j.is_discarded()) return j;
  try {
    return parse_json(std::string(text));
  } catch (...) {
    return nlohmann::json(nlohmann::json::value_t::discarded);
  }
}

}  // namespace

void encode_data(std::string_view info_json, std::string& out) {
  // The info text is JSON from dump_json: valid UTF-8 without raw control
  // characters, so as a JSON string it only needs '"' and '\\' escaped.
  constexpr std::string_view head = R"("{\"info\":)", tail = R"(}")";
  // Sized for the worst case (every character escaped), then cut to fit.
  out.resize(head.size() + 2 * info_json.size() + tail.size());
  char* p = out.data();
  p = std::copy(head.begin(), head.end(), p);
  for (char c : info_json) {
    if (c == '"' || c == '\\') *p++ = '\\';
    *p++ = c;
  }
  p = std::copy(tail.begin(), tail.end(), p);
  out.resize(static_cast<std::size_t>(p - out.data()));
}

void encode_row(const notification_view& n, row_values& out, std::string scratch[8]) {
  out.timestamp = clean_column(n.timestamp, timestamp_width, scratch[0]);
  out.base_id = clean_column(n.base_id, varchar_width, scratch[1]);
  out.parent_id = clean_column(n.parent_id, varchar_width, scratch[2]);
  out.trace_id = clean_column(n.trace_id, varchar_width, scratch[3]);
  out.project = clean_column(n.project, varchar_width, scratch[4]);
  out.host = clean_column(n.host, varchar_width, scratch[5]);
  out.service = clean_column(n.service, varchar_width, scratch[6]);
  out.name = clean_column(n.name, varchar_width, scratch[7]);
  encode_data(n.info_json, out.data);
}

std::vector<notification> in_id_order(std::vector<notification> rows, const std::vector<std::int64_t>& ids) {
  if (std::is_sorted(ids.begin(), ids.end())) return rows;
  std::vector<std::size_t> order(ids.size());
  std::iota(order.begin(), order.end(), std::size_t{0});
  std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return ids[a] < ids[b]; });
  std::vector<notification> sorted;
  sorted.reserve(rows.size());
  for (std::size_t i : order) sorted.push_back(std::move(rows[i]));
  return sorted;
}

// Rows copied out of a read: columns NUL-terminated in one buffer.
struct row_decoder::chunk {
  static constexpr std::size_t rows_per_chunk = 2048;
  struct copied {
    std::int64_t id;
    std::array<std::ptrdiff_t, 9> at;  // column offsets in `text`; -1: NULL
    std::size_t data_size;
  };
  std::string text;
  std::vector<copied> rows;
  // Decoded:
  std::vector<notification> notes;
  std::vector<std::int64_t> ids;
  std::vector<std::pair<std::int64_t, std::string>> failed;
  std::exception_ptr error;  // e.g. out of memory: rethrown by finish()

  explicit chunk(bool first) {
    // A first chunk starts small: most reads are of small traces.
    text.reserve(first ? 4096 : rows_per_chunk * 256);
    rows.reserve(first ? 16 : rows_per_chunk);
  }

  void add(const stored_row& r) {
    copied c{r.id, {}, r.data.size()};
    // In read_text_columns() order: column k + 1 at at[k].
    const char* columns[8] = {r.timestamp, r.base_id, r.parent_id, r.trace_id, r.project, r.host, r.service, r.name};
    for (std::size_t k = 0; k < 8; ++k) {
      if (!columns[k]) {
        c.at[k] = -1;
        continue;
      }
      c.at[k] = static_cast<std::ptrdiff_t>(text.size());
      text.append(columns[k]).push_back('\0');
    }
    c.at[8] = r.data_null ? -1 : static_cast<std::ptrdiff_t>(text.size());
    text.append(r.data.data(), r.data.size());
    rows.push_back(c);
  }

  void decode() noexcept {
    try {
      notes.reserve(rows.size());
      ids.reserve(rows.size());
      for (const copied& c : rows) {
        stored_row r;
        r.id = c.id;
        read_text_columns(r, [&](int k) { return c.at[k - 1] < 0 ? nullptr : text.data() + c.at[k - 1]; });
        r.data_null = c.at[8] < 0;
        r.data = r.data_null ? std::string_view() : std::string_view(text.data() + c.at[8], c.data_size);
        try {
          notes.push_back(decode_row(r));
          ids.push_back(r.id);
        } catch (const std::bad_alloc&) {
          throw;  // not the row's fault
        } catch (const std::exception& ex) {
          failed.emplace_back(r.id, ex.what());
        }
      }
    } catch (...) {
      error = std::current_exception();
    }
    std::string().swap(text);  // the copies are done with
    std::vector<copied>().swap(rows);
  }
};

row_decoder::row_decoder(skipped_rows& skipped) : skipped_(skipped), filling_(std::make_unique<chunk>(true)) {}

row_decoder::~row_decoder() {
  if (!helper_.joinable()) return;
  {
    std::lock_guard<std::mutex> lock(mu_);
    done_ = true;
    next_ = chunks_.size();  // abandoned: nothing more to decode
  }
  published_.notify_all();
  helper_.join();
}

void row_decoder::add(const stored_row& r) {
  filling_->add(r);
  if (filling_->rows.size() < chunk::rows_per_chunk) return;
  publish();
  filling_ = std::make_unique<chunk>(false);
  // The helper starts with the first full chunk: a small trace never pays
  // for a thread.
  if (!helper_tried_) {
    helper_tried_ = true;
    if (std::thread::hardware_concurrency() >= 2) {
      try {
        helper_ = std::thread([this] { decode_published(); });
      } catch (...) {
        // no thread to be had (system_error, or bad_alloc): finish() decodes it all here
      }
    }
  }
}

void row_decoder::publish() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    chunks_.push_back(std::move(filling_));
  }
  published_.notify_one();
}

void row_decoder::decode_published() noexcept {
  for (;;) {
    chunk* c;
    {
      std::unique_lock<std::mutex> lock(mu_);
      published_.wait(lock, [this] { return next_ < chunks_.size() || done_; });
      if (next_ >= chunks_.size()) return;
      c = chunks_[next_++].get();
    }
    c->decode();
  }
}

std::vector<notification> row_decoder::finish() {
  if (filling_ && !filling_->rows.empty()) publish();
  filling_.reset();
  {
    std::lock_guard<std::mutex> lock(mu_);
    done_ = true;
  }
  published_.notify_all();
  decode_published();
  if (helper_.joinable()) helper_.join();

  std::size_t total = 0;
  for (const auto& c : chunks_) {
    if (c->error) std::rethrow_exception(c->error);
    total += c->notes.size();
  }
  std::vector<notification> notes;
  std::vector<std::int64_t> ids;
  notes.reserve(total);
  ids.reserve(total);
  for (auto& c : chunks_) {
    for (const auto& [id, why] : c->failed) skipped_.add(id, why);
    notes.insert(notes.end(), std::make_move_iterator(c->notes.begin()), std::make_move_iterator(c->notes.end()));
    ids.insert(ids.end(), c->ids.begin(), c->ids.end());
    c.reset();
  }
  return in_id_order(std::move(notes), ids);
}

notification decode_row(const stored_row& r) {
  auto required = [](const char* value, const char* column) {
    if (!value) throw std::invalid_argument(std::string("column ") + column + " is NULL");
    return std::string(value);
  };
  notification n;
  n.name = required(r.name, "name");
  n.trace_id = required(r.trace_id, "trace_id");
  n.timestamp = required(r.timestamp, "timestamp");
  n.base_id = text(r.base_id);
  n.parent_id = text(r.parent_id);
  n.project = text(r.project);
  n.service = text(r.service);
  n.host = text(r.host);
  if (r.data_null) throw std::invalid_argument("column data is NULL");
  // Python's layout: a JSON string holding the JSON of the payload. A row
  // may also hold the object itself.
  thread_local std::string unwrapped;
  nlohmann::json payload;
  if (unwrap_string(r.data, unwrapped)) {
    payload = parse_lenient(unwrapped);
    if (payload.is_discarded()) throw std::invalid_argument("column data holds a string that is not JSON");
  } else {
    payload = parse_lenient(r.data);
    if (payload.is_discarded()) throw std::invalid_argument("column data is not JSON");
    if (payload.is_string()) {
      const auto& inner = payload.get_ref<const std::string&>();
      payload = parse_lenient(inner);
      if (payload.is_discarded()) throw std::invalid_argument("column data holds a string that is not JSON");
    }
  }
  if (!payload.is_object()) throw std::invalid_argument("column data is not a JSON object");
  // info moves out of the payload rather than being copied (a copy doubled
  // the allocations of loading a trace); a discarded value, which parsing
  // never yields, marks its place.
  auto info = payload.find("info");
  if (info != payload.end() && info->is_object()) {
    n.info = std::move(*info);
    *info = nlohmann::json(nlohmann::json::value_t::discarded);
  }
  n.raw = std::move(payload);
  return n;
}

void skipped_rows::add(std::int64_t id, const std::string& reason) {
  if (count_++ == 0) {
    first_id_ = id;
    first_reason_ = reason;
  }
}

skipped_rows::~skipped_rows() {
  if (count_ == 0) return;
  notifier::report_error("trace store '" + store_ + "': skipped " + std::to_string(count_) +
                         " row(s) of table data that are not notifications; first: id " + std::to_string(first_id_) +
                         ": " + first_reason_);
}

std::string sqlite_path(const connection_string& cs) {
  // SQLAlchemy: sqlite:///rel.db, sqlite:////abs.db; a query string is not a path.
  std::string rest = cs.rest.substr(0, cs.rest.find('?'));
  if (rest.empty() || rest[0] != '/' || rest.size() == 1) {
    throw std::invalid_argument("connection string '" + redact(cs.text) +
                                "' names no database file: expected sqlite:///relative/path.db or "
                                "sqlite:////absolute/path.db");
  }
  return rest.substr(1);
}

}  // namespace osprofiler::detail
