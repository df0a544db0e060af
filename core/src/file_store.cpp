#include "file_store.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <algorithm>
#include <fstream>
#include <map>

#include "json_text.h"
#include "osprofiler/store.h"

namespace osprofiler::detail {
namespace {

// file:///abs/path.jsonl or file://relative/path.jsonl. Appends on write;
// on read, lines that are not notifications are skipped and reported once
// per load (a crash mid-write leaves at most one such line, and the next
// write starts on a line of its own). A file renamed or deleted while open
// (log rotation) is noticed at the next batch, which goes to a new file.
class file_store final : public store {
 public:
  file_store(std::string path, bool read_only) : path_(std::move(path)), read_only_(read_only) {}
  ~file_store() override {
    if (out_) std::fclose(out_);
  }

  void write_text(const std::vector<notification_view>& batch) override {
    if (read_only_) throw std::runtime_error("trace file '" + path_ + "' was opened read-only");
    if (out_ && moved_away()) {
      std::fclose(out_);
      out_ = nullptr;
    }
    buffer_.clear();
    if (!out_) open_for_append();
    // notification::to_json() as text: the same members, in its order.
    for (const auto& n : batch) {
      bool first = true;
      auto text = [&](std::string_view key, std::string_view value) {
        writer_.key(key, first);
        writer_.string(value);
      };
      writer_.raw('{');
      text("base_id", n.base_id);
      writer_.key("info", first);
      writer_.raw(n.info_json);
      text("name", n.name);
      text("parent_id", n.parent_id);
      if (!n.project.empty()) text("project", n.project);
      if (!n.service.empty()) text("service", n.service);
      text("timestamp", n.timestamp);
      text("trace_id", n.trace_id);
      writer_.raw("}\n");
    }
    const bool ok = std::fwrite(buffer_.data(), 1, buffer_.size(), out_) == buffer_.size() && std::fflush(out_) == 0;
    if (!ok) {
      const int err = errno;
      std::fclose(out_);  // reopen next time: the stream state is unknown now
      out_ = nullptr;
      throw std::runtime_error("cannot write trace file '" + path_ + "': " + std::strerror(err));
    }
  }

  void flush() override {
    if (out_) std::fflush(out_);
  }

 private:
  // Opens (making the directory, like the SQLite store, on first use) and
  // starts buffer_ with a newline if the file ends in a torn line. The name
  // is made absolute at the first open: a later chdir() must not move the
  // store.
  void open_for_append() {
    if (file_.empty()) {
      std::error_code ec;
      const auto absolute = std::filesystem::absolute(path_, ec);
      file_ = ec ? path_ : absolute.string();
    }
    std::error_code ec;
    const auto dir = std::filesystem::path(file_).parent_path();
    if (!dir.empty()) std::filesystem::create_directories(dir, ec);
    out_ = std::fopen(file_.c_str(), "ae");
    if (!out_) throw std::runtime_error("cannot open trace file '" + path_ + "': " + std::strerror(errno));
    // Read apart from the stream: a trace file may be writable and not
    // readable. If it cannot be read, or is not a regular file (a FIFO,
    // /dev/stdout), no newline is added.
    const int fd = ::open(file_.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd >= 0) {
      struct stat st {};
      char last = '\n';
      if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0 &&
          pread(fd, &last, 1, st.st_size - 1) == 1 && last != '\n') {
        buffer_ += '\n';
      }
      ::close(fd);
    }
  }

  // True when the name no longer leads to the open file (renamed, deleted
  // or replaced): one stat() per batch. Other stat() errors (a permission
  // on a parent directory) leave the open file in use.
  bool moved_away() const {
    struct stat open_file {}, named {};
    if (fstat(fileno(out_), &open_file) != 0) return false;
    if (stat(file_.c_str(), &named) != 0) return errno == ENOENT || errno == ENOTDIR;
    return open_file.st_ino != named.st_ino || open_file.st_dev != named.st_dev;
  }

 public:
  std::vector<notification> load(const std::string& base_id) override {
    std::vector<notification> out;
    scan([&](notification&& n) {
      if (n.base_id == base_id) out.push_back(std::move(n));
    });
    return out;
  }

  std::vector<trace_summary> list_traces() override { return summarise(false); }

  std::vector<notification> trace_heads() override {
    std::map<std::string, notification> first;  // base_id -> earliest (the first of equals)
    scan([&](notification&& n) {
      auto it = first.find(n.base_id);
      if (it == first.end() || n.timestamp < it->second.timestamp) {
        n.info = nlohmann::json::object();
        n.raw = nullptr;
        first[n.base_id] = std::move(n);
      }
    });
    std::vector<notification> out;
    for (auto& [id, n] : first) out.push_back(std::move(n));
    std::stable_sort(out.begin(), out.end(), [](const notification& a, const notification& b) {
      return a.timestamp < b.timestamp;
    });
    return out;
  }
  std::vector<trace_summary> list_error_traces() override { return summarise(true); }

 private:
  // What Python's reader and ours take for a stop: a name ending in "stop".
  static bool is_stop(const std::string& name) {
    return name.size() >= 4 && name.compare(name.size() - 4, 4, "stop") == 0;
  }

  template <typename F>
  void scan(F&& each) {
    std::ifstream in(path_);
    if (!in) throw std::runtime_error("cannot read trace file '" + path_ + "': " + std::strerror(errno));
    // A directory opens as a stream that reads nothing: say so, rather than
    // report every trace as not found.
    std::error_code ec;
    if (std::filesystem::is_directory(path_, ec)) {
      throw std::runtime_error("cannot read trace file '" + path_ + "': " + std::strerror(EISDIR));
    }
    std::string line;
    std::size_t number = 0, bad = 0, first_bad = 0;
    std::string first_reason;
    while (std::getline(in, line)) {
      ++number;
      if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
      try {
        each(notification::from_json(parse_json(line)));
      } catch (const std::exception& ex) {
        if (bad++ == 0) {
          first_bad = number;
          first_reason = ex.what();
        }
      }
    }
    if (bad > 0) {
      notifier::report_error("trace file '" + path_ + "': skipped " + std::to_string(bad) +
                             " line(s) that are not notifications; first at line " + std::to_string(first_bad) +
                             ": " + first_reason);
    }
  }

  std::vector<trace_summary> summarise(bool errors_only) {
    std::map<std::string, std::string> first;  // base_id -> earliest timestamp
    std::map<std::string, bool> failed;
    scan([&](notification&& n) {
      auto [it, fresh] = first.emplace(n.base_id, n.timestamp);
      if (!fresh && n.timestamp < it->second) it->second = n.timestamp;
      // As the SQL stores and the report's "exception": a stop's error.
      if (is_stop(n.name) && n.info.contains("etype")) failed[n.base_id] = true;
    });
    std::vector<trace_summary> out;
    for (auto& [id, ts] : first) {
      if (!errors_only || failed.count(id)) out.push_back({id, ts});
    }
    std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.timestamp < b.timestamp; });
    return out;
  }

  std::string path_;
  std::string file_;  // path_ made absolute at the first open
  bool read_only_ = false;
  std::FILE* out_ = nullptr;
  std::string buffer_;
  json_text writer_{buffer_};
};

}  // namespace

std::shared_ptr<store> make_file_store(const connection_string& cs, const notifier::collector_args& args) {
  if (cs.rest.empty()) throw std::invalid_argument("connection string '" + redact(cs.text) + "' names no file");
  return std::make_shared<file_store>(cs.rest, args.read_only);
}

}  // namespace osprofiler::detail
